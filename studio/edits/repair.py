"""Classical repair (inpainting): OpenCV Telea and Navier-Stokes behind one entry.

    repair(image, mask, method="telea")   # PIL RGB/RGBA + bool mask (True = fill) -> PIL, same size/mode

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

from ..checkpoints import WEIGHTS_DIR

DEFAULT_RADIUS = 3


def _opencv(flag: int) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    def run(rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        padded = cv2.copyMakeBorder(rgb, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        padded_hole = np.pad(hole, 1, constant_values=True).astype(np.uint8)
        return cv2.inpaint(padded, padded_hole, radius, flag)[1:-1, 1:-1]
    return run


# name -> fill(rgb uint8 (H, W, 3), hole bool (H, W), radius) -> rgb uint8. Learned methods register here too.
METHODS: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "telea": _opencv(cv2.INPAINT_TELEA),
    "ns": _opencv(cv2.INPAINT_NS),
}


# names in METHODS whose fill comes from a trained model: an upload repaired with one of them is a composite
# with AI-generated content (IPTC compositeWithTrainedAlgorithmicMedia).
LEARNED: set[str] = set()


class _ModelFill:
    """A trained VAE folder as a repair method; the model loads (with torch) on the first call only."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._vae = None

    def __call__(self, rgb: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
        if self._vae is None:
            from ..sampling import VaeGenerator

            self._vae = VaeGenerator(self.folder)
        return self._vae.fill(rgb, hole)


def register_model_method(name: str, folder: str | Path) -> str:
    """Make a trained VAE folder a repair method (`eval repair --method NAME`, the app's method picker)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise ValueError(f"{folder} is not a model folder (no config.json)")
    METHODS[name] = _ModelFill(folder)
    LEARNED.add(name)
    return name


# The shipped VAE, when there is one, is the "vae" method (a path check at import: nothing is loaded).
if (WEIGHTS_DIR / "vae-fashion" / "config.json").is_file():
    register_model_method("vae", WEIGHTS_DIR / "vae-fashion")


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


def repair(image: Image.Image, mask, method: str = "telea", radius: int = DEFAULT_RADIUS) -> Image.Image:
    """Fill the masked region of `image`; unmasked pixels (and alpha) are returned exactly."""
    if method not in METHODS:
        raise ValueError(f"unknown repair method {method!r}; known: {', '.join(METHODS)}")
    if not 1 <= radius <= 50:
        raise ValueError(f"radius must be in 1..50 px, got {radius}")
    # classical fills only look `radius` around the hole; a learned one needs the whole image as context
    return fill_hole(image, mask, lambda rgb, hole: METHODS[method](rgb, hole, radius),
                     crop_pad=None if method in LEARNED else 2 * radius + 2)
