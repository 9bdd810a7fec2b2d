"""Background replacement: a colour, a vertical gradient, a texture, or transparency; an optional soft shadow.

    replace_background(image, Backdrop.parse({"kind": "color", "color": "#ffffff"}), shadow=Shadow())
    replace_background(image, Backdrop(kind="gradient", top=(250, 250, 250), bottom=(210, 215, 225)))

The product is cut out with `product_mask` (or a mask you pass), feathered, and composited over the new
backdrop. The shadow is the product's silhouette shifted down, blurred and darkening the backdrop only; its
sizes are fractions of the image, so a preview and the full-resolution export match.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageColor

from .mask import composite, feather, product_alpha

KINDS = ("color", "gradient", "texture", "transparent")
RGB = tuple[int, int, int]


def parse_color(value) -> RGB:
    """'#fff', '#ffffff', 'white', 'rgb(1,2,3)' or [r, g, b] -> (r, g, b)."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        return int(value[0]), int(value[1]), int(value[2])
    if isinstance(value, str):
        try:
            return ImageColor.getrgb(value.strip())[:3]
        except ValueError:
            pass
    raise ValueError(f"not a colour: {value!r} (use '#rrggbb', a CSS colour name or [r, g, b] in 0..255)")


def hex_color(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def encode_png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_png(data: str) -> Image.Image:
    """Embedded base64 image data (a mask, a texture), decoded under the upload's pixel limit."""
    from ..images import load_image

    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise ValueError("embedded image data is not base64 PNG data") from None
    try:
        return load_image(raw)
    except ValueError as exc:
        raise ValueError(str(exc).replace("the upload", "the embedded image", 1)) from None


@dataclass(frozen=True)
class Backdrop:
    kind: str = "color"
    color: RGB = (255, 255, 255)             # kind "color"
    top: RGB = (255, 255, 255)               # kind "gradient": top to bottom
    bottom: RGB = (220, 220, 220)
    texture: Image.Image | None = None       # kind "texture": scaled to cover, centred

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"background kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "texture" and self.texture is None:
            raise ValueError("a texture background needs a texture image")

    @classmethod
    def parse(cls, spec: dict) -> "Backdrop":
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError(f"a background is a dict with a 'kind' ({', '.join(KINDS)}), got {spec!r}")
        kind = spec["kind"]
        unknown = set(spec) - {"kind", "color", "top", "bottom", "texture"}
        if unknown:
            raise ValueError(f"unknown background field(s): {', '.join(sorted(unknown))}")
        if kind == "color":
            return cls(kind, color=parse_color(spec.get("color", "#ffffff")))
        if kind == "gradient":
            return cls(kind, top=parse_color(spec.get("top", "#ffffff")),
                       bottom=parse_color(spec.get("bottom", "#dcdcdc")))
        if kind == "texture":
            if not isinstance(spec.get("texture"), str):
                raise ValueError("a texture background needs 'texture': base64 PNG data")
            return cls(kind, texture=decode_png(spec["texture"]).convert("RGB"))
        return cls(kind)

    def to_dict(self) -> dict:
        if self.kind == "color":
            return {"kind": "color", "color": hex_color(self.color)}
        if self.kind == "gradient":
            return {"kind": "gradient", "top": hex_color(self.top), "bottom": hex_color(self.bottom)}
        if self.kind == "texture":
            return {"kind": "texture", "texture": encode_png(self.texture)}
        return {"kind": self.kind}

    def render(self, size: tuple[int, int]) -> np.ndarray:
        """uint8 (H, W, 3) backdrop pixels (transparent renders white; alpha is set by the caller)."""
        width, height = size
        if self.kind == "gradient":
            t = np.linspace(0, 1, height, dtype=np.float32)[:, None]
            column = np.rint(np.array(self.top, np.float32) * (1 - t) + np.array(self.bottom, np.float32) * t)
            return np.broadcast_to(column.astype(np.uint8)[:, None, :], (height, width, 3)).copy()
        if self.kind == "texture":
            tex = self.texture
            scale = max(width / tex.width, height / tex.height)
            covered = tex.resize((max(width, round(tex.width * scale)), max(height, round(tex.height * scale))),
                                 Image.Resampling.BICUBIC)
            left, top = (covered.width - width) // 2, (covered.height - height) // 2
            return np.asarray(covered.crop((left, top, left + width, top + height)))
        color = self.color if self.kind == "color" else (255, 255, 255)
        return np.broadcast_to(np.array(color, np.uint8), (height, width, 3)).copy()


@dataclass(frozen=True)
class Shadow:
    opacity: float = 0.35        # darkness under the product, 0..1
    blur: float = 0.02           # Gaussian sigma as a fraction of the image's longest side
    offset: float = 0.015        # downward shift as a fraction of the image height

    def __post_init__(self) -> None:
        for name, low, high in (("opacity", 0, 1), ("blur", 0, 0.2), ("offset", -0.2, 0.2)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"shadow {name} must be in [{low}, {high}], got {value!r}")

    def darkness(self, mask: np.ndarray) -> np.ndarray:
        h, w = mask.shape
        shift = round(self.offset * h)
        moved = np.zeros((h, w), np.float32)
        if shift >= 0:
            moved[shift:] = mask[:h - shift] if shift else mask
        else:
            moved[:shift] = mask[-shift:]
        sigma = self.blur * max(h, w)
        if sigma > 0:
            moved = cv2.GaussianBlur(moved, (0, 0), sigma)
        return self.opacity * moved


def replace_background(image: Image.Image, backdrop: Backdrop, *, mask: np.ndarray | None = None,
                       shadow: Shadow | None = None, alpha: np.ndarray | None = None) -> Image.Image:
    """The product over a new backdrop: RGB, or RGBA for a transparent backdrop. The edge is `alpha` (a soft
    matte, e.g. the learned cut-out's) when given, else the mask feathered; with neither, the product's own
    matte (`product_alpha`)."""
    if image.mode not in ("RGB", "RGBA"):
        raise ValueError(f"background replacement takes RGB or RGBA images, got mode {image.mode}")
    if mask is None and alpha is None:
        alpha = product_alpha(image)
    product = alpha >= 0.5 if mask is None else mask
    if product.shape != (image.height, image.width) or (alpha is not None and alpha.shape != product.shape):
        raise ValueError(f"mask is {product.shape[1]}x{product.shape[0]}, image is {image.width}x{image.height}")
    alpha = feather(product) if alpha is None else alpha.astype(np.float32)
    if image.mode == "RGBA":                          # a cut-out upload: its own alpha is the edge
        alpha = np.minimum(alpha, np.asarray(image.getchannel("A"), np.float32) / 255)
    rgb = np.asarray(image.convert("RGB"))
    if backdrop.kind == "transparent":
        shade = shadow.darkness(product) if shadow else np.zeros_like(alpha)
        # a transparent backdrop keeps the shadow as semi-transparent black
        out_alpha = np.maximum(alpha, shade * (1 - alpha))
        colour = composite(rgb, np.zeros_like(rgb), np.divide(alpha, out_alpha, out=np.zeros_like(alpha),
                                                              where=out_alpha > 0))
        return Image.fromarray(np.dstack([colour, np.rint(out_alpha * 255).astype(np.uint8)]), "RGBA")
    back = backdrop.render(image.size)
    if shadow:
        back = np.rint(back.astype(np.float32) * (1 - shadow.darkness(product))[..., None]).astype(np.uint8)
    return Image.fromarray(composite(rgb, back, alpha), "RGB")
