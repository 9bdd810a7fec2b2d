"""Tone and colour adjustments, one definition each, and the fused fast path used for live previews.

    from studio.edits.adjust import Adjustments, brightness
    brightness(image, 1.2)                                   # one adjustment
    Adjustments(brightness=1.2, contrast=1.1, saturation=1.3).apply(image)   # fused: one LUT + one 3x3 matrix

Definitions (x is a channel value in 0..255; every neutral value leaves the image unchanged exactly):

- brightness b >= 0, neutral 1: x * b (scales towards black, like a camera's exposure in display space).
- contrast c >= 0, neutral 1: 127.5 + (x - 127.5) * c. The pivot is mid-grey, fixed: unlike Pillow's
  ImageEnhance.Contrast (which pivots on the image's mean), the same slider value does the same thing
  to every photo and to every step of a replayed recipe.
- gamma g > 0, neutral 1: 255 * (x / 255) ** (1 / g). g > 1 lifts the mid-tones; black and white stay.
- warmth w in [-1, 1], neutral 0: white-balance gains red * (1 + 0.2 w), blue * (1 - 0.2 w).
- saturation s >= 0, neutral 1: Y + (x - Y) * s per pixel, Y the Rec. 601 luma (Pillow's "L"); s = 0 is
  greyscale.
- sharpness k >= 0, neutral 1: blur + (x - blur) * k, an unsharp mask whose Gaussian sigma is 1/500 of the
  longest side (at least 1 px), so a preview and the full-resolution export look alike; k < 1 softens.

The tone curves (warmth, brightness, contrast, gamma, in that order, each clipped to 0..255) compose into
one 256-entry table per channel, applied with cv2.LUT; saturation is a 3x3 colour matrix (cv2.transform);
sharpness, the only spatial one, runs last. Alpha is carried through untouched.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

# Rec. 601 luma weights, as in Pillow's convert("L") and OpenCV's RGB2GRAY.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
WARMTH_GAIN = 0.2

# name -> (minimum, maximum, neutral): the slider ranges, kept as data for the CLI, the app and validation.
RANGES: dict[str, tuple[float, float, float]] = {
    "brightness": (0.0, 4.0, 1.0),
    "contrast": (0.0, 4.0, 1.0),
    "saturation": (0.0, 4.0, 1.0),
    "gamma": (0.2, 5.0, 1.0),
    "warmth": (-1.0, 1.0, 0.0),
    "sharpness": (0.0, 4.0, 1.0),
}


@dataclass(frozen=True)
class Adjustments:
    brightness: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    gamma: float = 1.0
    warmth: float = 0.0
    sharpness: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high, _ = RANGES[f.name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{f.name} must be a number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{f.name} must be in [{low:g}, {high:g}], got {value:g}")

    def is_identity(self) -> bool:
        return all(getattr(self, name) == neutral for name, (_, _, neutral) in RANGES.items())

    def to_dict(self) -> dict[str, float]:
        """Only the values that differ from neutral: what a recipe step stores."""
        return {k: float(v) for k, v in asdict(self).items() if v != RANGES[k][2]}

    def tone_table(self) -> np.ndarray:
        """The composed tone curves as a (256, 1, 3) uint8 table for cv2.LUT (one column per channel)."""
        return _tone_table(self.warmth, self.brightness, self.contrast, self.gamma)

    def saturation_matrix(self) -> np.ndarray:
        """3x3 float32 matrix M with out = M @ rgb: s * I + (1 - s) * (luma in every row)."""
        return _saturation_matrix(self.saturation)

    def apply_array(self, rgb: np.ndarray) -> np.ndarray:
        """The fused path on a uint8 (H, W, 3) array; returns a new array."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected a uint8 (H, W, 3) array, got {rgb.dtype} {rgb.shape}")
        tone = self.tone_table()
        if _is_identity_table(tone):
            out = rgb.copy()
        elif self.warmth == 0:                       # one curve for all channels: the single-table LUT is 2x faster
            out = cv2.LUT(rgb, np.ascontiguousarray(tone[:, 0, 0]))
        else:
            out = cv2.LUT(rgb, tone)
        if self.saturation != 1:
            out = cv2.transform(out, self.saturation_matrix())
        if self.sharpness != 1:
            out = _unsharp(out, self.sharpness)
        return out

    def apply(self, image: Image.Image) -> Image.Image:
        """Apply to a PIL RGB or RGBA image (alpha unchanged); returns a new image."""
        if image.mode not in ("RGB", "RGBA"):
            raise ValueError(f"adjustments take RGB or RGBA images, got mode {image.mode}")
        if self.is_identity():
            return image.copy()
        rgb = np.asarray(image.convert("RGB") if image.mode == "RGBA" else image)
        out = Image.fromarray(self.apply_array(rgb), "RGB")
        if image.mode == "RGBA":
            out.putalpha(image.getchannel("A"))
        return out


# A slider sends many nearby values; the tables are tiny, so recent ones are kept (read-only arrays).
@lru_cache(maxsize=256)
def _tone_table(warmth: float, brightness: float, contrast: float, gamma: float) -> np.ndarray:
    x = np.arange(256, dtype=np.float64)
    columns = []
    for gain in (1 + WARMTH_GAIN * warmth, 1.0, 1 - WARMTH_GAIN * warmth):
        y = np.clip(x * gain, 0, 255)
        y = np.clip(y * brightness, 0, 255)
        y = np.clip(127.5 + (y - 127.5) * contrast, 0, 255)
        y = 255 * (y / 255) ** (1 / gamma)
        columns.append(np.clip(np.rint(y), 0, 255))
    table = np.stack(columns, -1).astype(np.uint8).reshape(256, 1, 3)
    table.flags.writeable = False
    return table


@lru_cache(maxsize=256)
def _saturation_matrix(s: float) -> np.ndarray:
    matrix = (s * np.eye(3, dtype=np.float32) + (1 - s) * np.tile(LUMA, (3, 1))).astype(np.float32)
    matrix.flags.writeable = False
    return matrix


_IDENTITY = np.arange(256, dtype=np.uint8)


def _is_identity_table(table: np.ndarray) -> bool:
    return bool(np.all(table[:, 0, :] == _IDENTITY[:, None]))


def sharpen_sigma(width: int, height: int) -> float:
    return max(1.0, max(width, height) / 500)


def _unsharp(rgb: np.ndarray, amount: float) -> np.ndarray:
    blur = cv2.GaussianBlur(rgb, (0, 0), sharpen_sigma(rgb.shape[1], rgb.shape[0]))
    # blur + (x - blur) * k = x * k + blur * (1 - k); addWeighted rounds and saturates to uint8
    return cv2.addWeighted(rgb, amount, blur, 1 - amount, 0)


def brightness(image: Image.Image, factor: float) -> Image.Image:
    return Adjustments(brightness=factor).apply(image)


def contrast(image: Image.Image, factor: float) -> Image.Image:
    return Adjustments(contrast=factor).apply(image)


def saturation(image: Image.Image, factor: float) -> Image.Image:
    return Adjustments(saturation=factor).apply(image)


def gamma(image: Image.Image, value: float) -> Image.Image:
    return Adjustments(gamma=value).apply(image)


def warmth(image: Image.Image, value: float) -> Image.Image:
    return Adjustments(warmth=value).apply(image)


def sharpness(image: Image.Image, factor: float) -> Image.Image:
    return Adjustments(sharpness=factor).apply(image)
