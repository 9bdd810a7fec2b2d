"""Repair (inpainting) behind one entry: OpenCV Telea and Navier-Stokes, and trained methods.

    repair(image, mask, method="telea")   # PIL RGB/RGBA + bool mask (True = fill) -> PIL, same size/mode
    methods = CLASSICAL.with_model("vae:vae-fashion", "weights/vae-fashion")     # a Studio builds its own
    repair(image, mask, method="vae:vae-fashion", methods=methods)
    methods = CLASSICAL.with_model("inpaint-photos", "weights/inpaint-photos")   # the photo inpainter

Trained methods: a generator that can inpaint (the VAE, diffusion: for their own images) or the photo
inpainter (studio/models/inpaint.py, studio/edits/inpaint.py: a learned correction of Navier-Stokes, for
photos).

Pixels outside the mask come back unchanged, always. OpenCV pitfalls handled here:
- holes touching the top/left border fill wrongly (opencv#25389): the image is padded by one pixel, the
  pad is marked as hole too, and cropped off after;
- Telea can fill one-pixel corner holes with saturated colour on OpenCV >= 4.10 (opencv#28648): a
  regression test pins the fill inside the range of its neighbours;
- uint8 input only (float input made Telea fill constants unevenly, opencv#25404).
The fill runs on a crop around the hole, so a brush stroke on a 12 MP photo costs what it costs at 512 px.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image

DEFAULT_RADIUS = 3
CLASSICAL_NAMES = ("telea", "ns")


class RepairMethod:
    """One way to fill a hole (IOPaint's shape: classical methods are classes too): a name, whether a
    trained model makes its pixels (an upload repaired with it is a composite with AI content), and
    `fill(rgb uint8 (H, W, 3), hole bool (H, W), radius) -> rgb uint8`."""

    name: str = ""
    learned: bool = False

    def fill(self, rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        raise NotImplementedError

    def crop_pad(self, radius: int) -> int | None:
        """Context the fill needs around the hole: a classical fill looks `radius` around it; a learned one
        needs the whole image (None)."""
        return None if self.learned else 2 * radius + 2


class OpenCVInpaint(RepairMethod):
    """cv2.inpaint (Telea or Navier-Stokes), padded by a pixel against opencv#25389."""

    def __init__(self, name: str, flag: int):
        self.name, self.flag = name, flag

    def fill(self, rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        padded = cv2.copyMakeBorder(rgb, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        padded_hole = np.pad(hole, 1, constant_values=True).astype(np.uint8)
        return cv2.inpaint(padded, padded_hole, radius, self.flag)[1:-1, 1:-1]


class ModelInpaint(RepairMethod):
    """A trained generator folder that can inpaint (studio.pipelines: the VAE) as a repair method; the
    pipeline loads (with torch) on the first fill only."""

    learned = True

    def __init__(self, name: str, folder: str | Path, device: str = "cpu"):
        self.name, self.folder, self.device = name, Path(folder), device
        if not (self.folder / "model_index.json").is_file():
            raise ValueError(f"{self.folder.name} is not a generator folder (no model_index.json)")
        self._pipeline = None

    def fill(self, rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        if self._pipeline is None:
            from ..pipelines import (
                open_pipeline,  # torch, only when a learned fill runs
            )

            pipeline = open_pipeline(self.folder, self.device)
            if "inpaint" not in pipeline.capabilities:
                raise ValueError(f"{self.folder.name} ({pipeline.family}) cannot inpaint")
            self._pipeline = pipeline
        return self._pipeline.fill(rgb, hole)


class NetworkInpaint(RepairMethod):
    """A trained photo inpainter folder (studio/models/inpaint.py) as a repair method: it crops around the
    hole itself (studio/edits/inpaint.py), so it is handed the whole image; the network loads on the first
    fill only."""

    learned = True

    def __init__(self, name: str, folder: str | Path, device: str = "cpu"):
        self.name, self.folder, self.device = name, Path(folder), device
        if not (self.folder / "config.json").is_file():
            raise ValueError(f"{self.folder.name} is not a network folder (no config.json)")
        self._network = None

    def fill(self, rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        from .inpaint import inpaint_fill, open_inpainter

        if self._network is None:
            self._network = open_inpainter(self.folder, self.device)
        return inpaint_fill(self._network, rgb, hole)


class RepairMethods:
    """The repair methods one Studio (or one evaluation run) offers, by name: Telea and Navier-Stokes always,
    trained ones added with `with_model`, which returns a new registry (this one never changes, so what a
    recipe can use never depends on who imported what first)."""

    def __init__(self, extra: tuple[RepairMethod, ...] = ()):
        methods = (OpenCVInpaint("telea", cv2.INPAINT_TELEA), OpenCVInpaint("ns", cv2.INPAINT_NS), *extra)
        self._methods = {m.name: m for m in methods}

    def with_model(self, name: str, folder: str | Path, device: str = "cpu") -> "RepairMethods":
        """A trained folder as method `name`: a generator that can inpaint (model_index.json) or a photo
        inpainter network (config.json)."""
        if (Path(folder) / "model_index.json").is_file() or not (Path(folder) / "config.json").is_file():
            return self.with_method(ModelInpaint(name, folder, device))
        return self.with_method(NetworkInpaint(name, folder, device))

    def with_method(self, method: RepairMethod) -> "RepairMethods":
        if not method.name or method.name in CLASSICAL_NAMES:
            raise ValueError(f"a repair method needs a name of its own, got {method.name!r}")
        return RepairMethods(tuple(m for m in self._methods.values() if m.name not in CLASSICAL_NAMES) + (method,))

    def with_alias(self, alias: str, name: str) -> "RepairMethods":
        """`alias` as a second name for method `name` (the same object: one model load serves both)."""
        return self.with_method(_Alias(alias, self.get(name)))

    def get(self, name: str) -> RepairMethod:
        if name not in self._methods:
            raise ValueError(f"unknown repair method {str(name)[:40]!r}; this studio has: {', '.join(self._methods)}")
        return self._methods[name]

    def __contains__(self, name) -> bool:
        return name in self._methods

    def __iter__(self):
        return iter(self._methods)

    def __len__(self) -> int:
        return len(self._methods)

    @property
    def choices(self) -> tuple[str, ...]:
        """The names to offer a merchant: every method once (no aliases)."""
        return tuple(name for name, m in self._methods.items() if not isinstance(m, _Alias))

    @property
    def learned(self) -> tuple[str, ...]:
        return tuple(name for name, m in self._methods.items() if m.learned)

    def label(self, name: str) -> str:
        """What a merchant reads for method `name` in a picker."""
        method = self.get(name)
        if isinstance(method, NetworkInpaint):
            return f"Learned photo repair ({name})"
        if isinstance(method, ModelInpaint):
            return f"{name.split(':', 1)[-1]} (for its own generated images)"
        return {"telea": "Telea (classical, fast)", "ns": "Navier-Stokes (classical)"}.get(name, name)

    @property
    def photo_default(self) -> str:
        """What to offer first for a photo: the first photo inpainter (measured better than the classical
        fills on held-out photos: its model card), else Telea."""
        return next((name for name, m in self._methods.items() if isinstance(m, NetworkInpaint)), "telea")


class _Alias(RepairMethod):
    def __init__(self, name: str, target: RepairMethod):
        self.name, self.target, self.learned = name, target, target.learned

    def fill(self, rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        return self.target.fill(rgb, hole, radius)


CLASSICAL = RepairMethods()          # what a recipe gets when nobody passes a Studio's own registry
TELEA = CLASSICAL.get("telea")


def blend_seam(rgb: np.ndarray, decoded: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """A model's fill made to meet the surrounding pixels: the residual (original - decode) known outside
    the hole is filled into it with Telea and added to the decode, so the seam matches while the model's
    content stays. uint8 (H, W, 3) in and out."""
    decoded = decoded.astype(np.int16)
    residual = np.clip((rgb.astype(np.int16) - decoded) // 2 + 128, 0, 255).astype(np.uint8)
    residual[hole] = 128
    smooth = TELEA.fill(residual, hole, 3)
    return np.clip(decoded + (smooth.astype(np.int16) - 128) * 2, 0, 255).astype(np.uint8)


def as_mask(mask, size: tuple[int, int]) -> np.ndarray:
    """A bool (H, W) hole mask from a bool/uint8 array or a PIL image (non-zero = hole)."""
    array = np.asarray(mask.convert("L") if isinstance(mask, Image.Image) else mask)
    if array.ndim == 3:
        array = array[..., -1] if array.shape[-1] in (2, 4) else array.max(-1)
    if array.shape != (size[1], size[0]):
        raise ValueError(f"mask is {array.shape[1]}x{array.shape[0]} but the image is {size[0]}x{size[1]}")
    return array > 0 if array.dtype != bool else array


def fill_hole(image: Image.Image, mask, fill: Callable[[np.ndarray, np.ndarray], np.ndarray],
              crop_pad: int | None = None) -> Image.Image:
    """Run `fill(rgb, hole) -> rgb` and keep its pixels inside the hole only: every unmasked pixel (and
    alpha) comes back exactly. With crop_pad, `fill` sees only a crop around the hole padded by that many
    pixels, so a local method costs what the mask costs, not what the image costs."""
    if image.mode not in ("RGB", "RGBA"):
        raise ValueError(f"repair takes RGB or RGBA images, got mode {image.mode}")
    hole = as_mask(mask, image.size)
    if not hole.any():
        return image.copy()
    rgb = np.asarray(image.convert("RGB"))
    top, bottom, left, right = 0, hole.shape[0], 0, hole.shape[1]
    if crop_pad is not None:
        rows, cols = np.flatnonzero(hole.any(1)), np.flatnonzero(hole.any(0))
        top, bottom = max(rows[0] - crop_pad, 0), min(rows[-1] + crop_pad + 1, hole.shape[0])
        left, right = max(cols[0] - crop_pad, 0), min(cols[-1] + crop_pad + 1, hole.shape[1])
    crop, crop_hole = rgb[top:bottom, left:right], hole[top:bottom, left:right]
    out = rgb.copy()
    out[top:bottom, left:right] = np.where(crop_hole[..., None], fill(crop, crop_hole), crop)
    if image.mode == "RGBA":
        return Image.fromarray(np.dstack([out, np.asarray(image.getchannel("A"))]), "RGBA")
    return Image.fromarray(out, "RGB")


def repair(image: Image.Image, mask, method: str = "telea", radius: int = DEFAULT_RADIUS,
           methods: RepairMethods = CLASSICAL) -> Image.Image:
    """Fill the masked region of `image` with `methods`' `method`; unmasked pixels (and alpha) are returned
    exactly."""
    chosen = methods.get(method)
    if not 1 <= radius <= 50:
        raise ValueError(f"radius must be in 1..50 px, got {radius}")
    return fill_hole(image, mask, lambda rgb, hole: chosen.fill(rgb, hole, radius), crop_pad=chosen.crop_pad(radius))
