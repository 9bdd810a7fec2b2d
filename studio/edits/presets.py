"""Marketplace presets, kept as data in one table, with a rule check and a fix.

    problems = check(image, PRESETS["amazon-main"])     # [] when the image complies
    fixed = fix(image, PRESETS["amazon-main"])          # white backdrop, 2000x2000, product filling 88%
    custom = Preset.custom(1200, 1500, background="#f5f5f5", min_fill=0.8)

Fill is the product's larger extent relative to the frame: max(box width / W, box height / H), the usual
reading of Amazon's "product fills 85% of the frame". The marketplace figures come from the summaries in
../shared/reference/anchors-mission.md §3.3 (Amazon's are 3rd-party summaries of Seller Central).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .background import parse_color
from .geometry import MAX_SIDE, aspect_box, place_on_canvas
from .mask import composite, drop_specks, feather, plain_backdrop, product_box, product_mask

BACKGROUND_TOLERANCE = 3       # channel levels: JPEG encoders turn 255 into 254 near edges
BACKGROUND_SHARE = 0.99        # of background pixels that must match the preset's colour
EDGE_MARGIN = 0.01             # background pixels closer than this (fraction of the side) to the product are
                               # the product's anti-aliased edge, not background
# A cut-out the fix refuses to use, because it would throw most of the product away: on a busy backdrop
# (where the mask comes from GrabCut; a plain backdrop's colour mask and an upload's own alpha are trusted,
# small products and pairs of earrings included), a mask covering under MIN_CUTOUT of the frame, or
# scattered so that its two largest pieces (a product, or a pair of shoes) hold under MIN_MAIN_PIECE of it
# (a rocket reduced to four sparkles).
MIN_CUTOUT = 0.02
MIN_MAIN_PIECE = 0.6


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    width: int
    height: int
    background: tuple[int, int, int] | None = None   # required backdrop colour, or None for no rule
    min_fill: float | None = None                    # the rule: product extent / frame at least this
    fill: float = 0.85                               # what fix() aims for
    format: str = "png"                              # the format the marketplace prefers
    note: str = ""

    def __post_init__(self) -> None:
        for side in (self.width, self.height):
            if isinstance(side, bool) or not isinstance(side, int) or not 1 <= side <= MAX_SIDE:
                raise ValueError(f"preset size must be whole pixels in 1..{MAX_SIDE}, got {self.width}x{self.height}")
        if not 0.05 <= self.fill <= 1 or (self.min_fill is not None and not 0 < self.min_fill <= 1):
            raise ValueError(f"preset fill must be in [0.05, 1] and min_fill in (0, 1], "
                             f"got {self.fill}, {self.min_fill}")
        if self.min_fill is not None and self.fill < self.min_fill:
            raise ValueError(f"fill {self.fill} is below the preset's own minimum {self.min_fill}")
        if self.format not in ("png", "jpeg", "webp"):
            raise ValueError(f"preset format must be png, jpeg or webp, got {self.format!r}")

    @classmethod
    def custom(cls, width: int, height: int, background=None, min_fill: float | None = None,
               fill: float = 0.85, format: str = "png") -> "Preset":
        return cls("custom", f"Custom {width}x{height}", width, height,
                   None if background is None else parse_color(background), min_fill, fill, format,
                   "user-defined")

    def to_dict(self) -> dict:
        return {"name": self.name, "width": self.width, "height": self.height,
                "background": None if self.background is None else "#{:02x}{:02x}{:02x}".format(*self.background),
                "min_fill": self.min_fill, "fill": self.fill, "format": self.format}


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("amazon-main", "Amazon main image", 2000, 2000, background=(255, 255, 255), min_fill=0.85, fill=0.88,
           format="jpeg", note="pure white (RGB 255) background, product fills >= 85% of the frame, "
                               "1,000-10,000 px (2,000 px recommended for zoom)"),
    Preset("shopify-square", "Shopify square", 2048, 2048, fill=0.85, format="png",
           note="2048x2048 square, Shopify's recommended product image size"),
    Preset("instagram-portrait", "Instagram portrait 4:5", 1080, 1350, fill=0.8, format="jpeg",
           note="1080x1350, the 4:5 feed format"),
    Preset("taobao-main", "Taobao / Tmall main image", 800, 800, fill=0.85, format="jpeg",
           note="800x800 square main image"),
)}


@dataclass(frozen=True)
class Violation:
    rule: str          # "size", "background", "fill", "product"
    message: str


def preset_from_spec(spec) -> Preset:
    """A preset name from PRESETS, or a dict for a custom one ({"width", "height", "background", ...})."""
    if isinstance(spec, Preset):
        return spec
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ValueError(f"unknown preset {spec!r}; known: {', '.join(PRESETS)} (or a custom size)")
        return PRESETS[spec]
    if isinstance(spec, dict):
        if spec.get("name", "custom") != "custom":
            return preset_from_spec(spec["name"])
        unknown = set(spec) - {"name", "width", "height", "background", "min_fill", "fill", "format"}
        if unknown:
            raise ValueError(f"unknown preset field(s): {', '.join(sorted(unknown))}")
        if "width" not in spec or "height" not in spec:
            raise ValueError("a custom preset needs width and height")
        return Preset.custom(spec["width"], spec["height"], spec.get("background"), spec.get("min_fill"),
                             spec.get("fill", 0.85), spec.get("format", "png"))
    raise ValueError(f"a preset is a name or a dict, got {spec!r}")


def measure_fill(mask: np.ndarray) -> float | None:
    box = product_box(mask)
    if box is None:
        return None
    h, w = mask.shape
    return max((box[2] - box[0]) / w, (box[3] - box[1]) / h)


def check(image: Image.Image, preset: Preset, mask: np.ndarray | None = None) -> list[Violation]:
    """Every rule of the preset the image breaks, with what was measured. Empty when it complies."""
    problems = []
    if image.size != (preset.width, preset.height):
        problems.append(Violation("size", f"image is {image.width}x{image.height}; {preset.label} needs "
                                          f"{preset.width}x{preset.height}"))
    mask = rule_mask(image) if mask is None else mask
    fill = measure_fill(mask)
    if fill is None:
        problems.append(Violation("product", "no product found: the image looks like plain background"))
    elif preset.min_fill is not None and fill < preset.min_fill - 1e-9:
        problems.append(Violation("fill", f"product fills {fill:.0%} of the frame; {preset.label} needs at least "
                                          f"{preset.min_fill:.0%}"))
    if preset.background is not None:
        if image.mode == "RGBA" and np.asarray(image.getchannel("A")).min() < 255:
            problems.append(Violation("background", "image has transparent pixels; "
                                                    f"{preset.label} needs an opaque background"))
        else:
            share = _background_share(np.asarray(image.convert("RGB")), mask, preset.background)
            if share is not None and share < BACKGROUND_SHARE:
                colour = "#{:02x}{:02x}{:02x}".format(*preset.background)
                problems.append(Violation("background", f"{1 - share:.1%} of the background differs from {colour}; "
                                                        f"{preset.label} needs a pure {colour} background"))
    return problems


def rule_mask(image: Image.Image) -> np.ndarray:
    """The mask the rule check measures with: on a plain backdrop (what a compliant image has) the colour
    distance to it is exact, so the classical mask; on anything else the default product mask (learned
    when installed). The fix paints the background with the same mask, so a fixed image passes its check."""
    return product_mask(image, "classical") if plain_backdrop(image) else product_mask(image)


def _background_region(mask: np.ndarray) -> np.ndarray:
    """Where the background rule looks: farther than EDGE_MARGIN from the product."""
    margin = max(1, round(EDGE_MARGIN * max(mask.shape)))
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) == 0


def _background_share(rgb: np.ndarray, mask: np.ndarray, colour) -> float | None:
    background = rgb[_background_region(mask)]
    if background.size == 0:
        return None
    close = np.all(np.abs(background.astype(np.int16) - np.array(colour, np.int16)) <= BACKGROUND_TOLERANCE, -1)
    return float(close.mean())


def fix(image: Image.Image, preset: Preset, mask: np.ndarray | None = None) -> Image.Image:
    return fix_with_mask(image, preset, mask)[0]


def fix_with_mask(image: Image.Image, preset: Preset, mask: np.ndarray | None = None
                  ) -> tuple[Image.Image, np.ndarray]:
    """Make the image comply; returns it with the product mask moved along.

    A preset with a background rule gets the cut-out product on that colour, scaled to `fill`. One without
    keeps the scene: the largest crop of the preset's aspect centred on the product, letterboxed with the
    border colour only when the product would not fit.
    """
    mask = drop_specks(product_mask(image) if mask is None else mask)    # a far speck would stretch the box
    box = product_box(mask)
    if box is None:
        raise ValueError("no product found to place: the image looks like plain background")
    size = (preset.width, preset.height)
    mask_image = Image.fromarray(mask.astype(np.uint8) * 255, "L")
    if preset.background is not None:
        _refuse_doubtful_cutout(image, mask)
        return _place_cutout(image, mask, box, size, preset)
    crop = _crop_around(image.size, box, preset.width / preset.height)
    if crop is None:                                   # the product is wider than any crop: letterbox
        border = _border_colour(image)
        whole = (0, 0, image.width, image.height)
        placed = place_on_canvas(image.convert("RGB"), size, whole, 1.0, border)
        return placed, np.asarray(place_on_canvas(mask_image, size, whole, 1.0, 0)) >= 128
    out = image.crop(crop).resize(size, Image.Resampling.LANCZOS)
    return out, np.asarray(mask_image.crop(crop).resize(size, Image.Resampling.NEAREST)) >= 128


def _refuse_doubtful_cutout(image: Image.Image, mask: np.ndarray) -> None:
    """ValueError when an estimated cut-out would keep only a sliver or a scatter of the picture."""
    if plain_backdrop(image):
        return
    share = float(mask.mean())
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    main = np.sort(stats[1:, cv2.CC_STAT_AREA])[-2:].sum() / max(1, mask.sum()) if count > 1 else 1.0
    if share < MIN_CUTOUT or main < MIN_MAIN_PIECE:
        raise ValueError(
            f"the product cannot be cut out of this background reliably (the cut-out would keep {share:.1%} of "
            f"the picture in {count - 1} pieces), so the fix would remove most of it. Use a photo on a plainer "
            "backdrop, or a transparent PNG of the product")


def _place_cutout(image: Image.Image, mask: np.ndarray, box, size, preset: Preset
                  ) -> tuple[Image.Image, np.ndarray]:
    """The product scaled onto the preset's colour. The mask is scaled as a smooth field, cut at one half
    and feathered at the output's own scale, so everything beyond a few pixels of the product's edge is
    exactly the preset's colour: an edge feathered before a large upscale (a 32 px variant to 2,000 px)
    would spread into a wide grey halo that the background rule rightly fails."""
    product = place_on_canvas(image.convert("RGB"), size, box, preset.fill, preset.background)
    field = Image.fromarray(mask.astype(np.uint8) * 255, "L")
    placed = np.asarray(place_on_canvas(field, size, box, preset.fill, 0, Image.Resampling.BILINEAR)) >= 128
    alpha = feather(placed)
    if image.mode == "RGBA":                           # a cut-out upload keeps its own soft edge
        own = np.asarray(place_on_canvas(image.getchannel("A"), size, box, preset.fill, 0, Image.Resampling.BILINEAR),
                         np.float32) / 255
        alpha = np.minimum(alpha, own)
    backdrop = np.empty((size[1], size[0], 3), np.uint8)
    backdrop[:] = preset.background
    out = composite(np.asarray(product), backdrop, alpha)
    # What the rule check will call background is made exactly the preset's colour: the cut-out of a small
    # product, enlarged many times, carries a band of the old backdrop inside its edge; those pixels are
    # within the mask threshold (ΔE 4) of the new colour, so snapping them is all but invisible.
    out[_background_region(rule_mask(Image.fromarray(out, "RGB")))] = preset.background
    return Image.fromarray(out, "RGB"), placed


def _crop_around(size, box, ratio) -> tuple[int, int, int, int] | None:
    left, top, right, bottom = aspect_box(size, ratio)
    cw, ch = right - left, bottom - top
    if box[2] - box[0] > cw or box[3] - box[1] > ch:
        return None
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x = int(min(max(round(cx - cw / 2), 0), size[0] - cw))
    y = int(min(max(round(cy - ch / 2), 0), size[1] - ch))
    return x, y, x + cw, y + ch


def _border_colour(image: Image.Image) -> tuple[int, int, int]:
    rgb = np.asarray(image.convert("RGB"))
    ring = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return tuple(int(v) for v in np.median(ring, axis=0))
