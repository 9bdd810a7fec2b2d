"""Classical style: colour and tone transfer from a reference, and edge-preserving artistic looks.

    stats = ColorStats.measure(reference)                       # what a recipe stores, not the reference
    transfer(image, stats, method="reinhard", strength=0.8)     # or method="histogram"
    look(image, "watercolor", strength=0.6)

- Reinhard et al., "Color Transfer between Images" (IEEE CG&A 2001): match the per-channel mean and
  standard deviation in a decorrelated opponent space; CIELAB here (OpenCV's float Lab).
- Histogram matching: each RGB channel's CDF mapped onto the reference's quantiles, as a 256-entry LUT.
- Looks: OpenCV's domain-transform filters (Gastal & Oliveira, SIGGRAPH 2011): stylization,
  detailEnhance, edgePreservingFilter, pencilSketch. Their spatial sigma is scaled with the image so a
  512 px preview and the full-resolution export look alike.

All are pointwise or edge-aware, so the product's shape and edges survive. `strength` blends the result
with the input (0 = unchanged, 1 = full). Limiting to the product or the background is the recipe's
`region` (see studio.edits.mask.limit_to_region); `measure` can take the reference's own mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from PIL import Image

METHODS = ("reinhard", "histogram")
QUANTILES = 64            # reference quantiles kept per channel for histogram matching


@dataclass(frozen=True)
class ColorStats:
    """What colour transfer needs from a reference: Lab mean/std and RGB quantiles (JSON-friendly)."""
    lab_mean: tuple[float, float, float]
    lab_std: tuple[float, float, float]
    quantiles: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]

    @classmethod
    def measure(cls, reference: Image.Image, mask: np.ndarray | None = None) -> "ColorStats":
        rgb = np.asarray(reference.convert("RGB"))
        pixels = rgb.reshape(-1, 3) if mask is None else rgb[mask]
        if len(pixels) < 16:
            raise ValueError("the style reference has too few pixels to measure (at least 16 needed)")
        lab = _to_lab(pixels[None]).reshape(-1, 3)
        levels = np.linspace(0, 100, QUANTILES)
        q = np.percentile(pixels, levels, axis=0).T              # (3, QUANTILES)
        return cls(tuple(float(v) for v in lab.mean(0)), tuple(float(v) for v in lab.std(0)),
                   tuple(tuple(round(float(v), 2) for v in row) for row in q))

    def to_dict(self) -> dict:
        return {"lab_mean": [round(v, 4) for v in self.lab_mean], "lab_std": [round(v, 4) for v in self.lab_std],
                "quantiles": [list(row) for row in self.quantiles]}

    @classmethod
    def from_dict(cls, data: dict) -> "ColorStats":
        try:
            mean, std, q = data["lab_mean"], data["lab_std"], data["quantiles"]
            stats = cls(tuple(float(v) for v in mean), tuple(float(v) for v in std),
                        tuple(tuple(float(v) for v in row) for row in q))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"style stats need lab_mean, lab_std and quantiles ({exc})") from None
        if len(stats.lab_mean) != 3 or len(stats.lab_std) != 3 or len(stats.quantiles) != 3 or \
                any(len(row) < 2 for row in stats.quantiles):
            raise ValueError("style stats must have 3 channels each")
        return stats


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)


def _from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def reinhard(rgb: np.ndarray, stats: ColorStats, within: np.ndarray | None = None) -> np.ndarray:
    lab = _to_lab(rgb)
    flat = lab.reshape(-1, 3) if within is None else lab[within]
    mean, std = flat.mean(0), flat.std(0)
    gain = np.array(stats.lab_std, np.float32) / np.maximum(std, 1e-3)
    out = (lab - mean) * gain + np.array(stats.lab_mean, np.float32)
    return _from_lab(out)


def histogram_match(rgb: np.ndarray, stats: ColorStats, within: np.ndarray | None = None) -> np.ndarray:
    table = np.empty((256, 1, 3), np.uint8)
    levels = np.linspace(0, 1, len(stats.quantiles[0]))
    pixels = rgb.reshape(-1, 3) if within is None else rgb[within]
    for c in range(3):
        counts = np.bincount(pixels[:, c], minlength=256)
        cdf = (np.cumsum(counts) - counts / 2) / counts.sum()     # mid-rank CDF per level
        table[:, 0, c] = np.clip(np.rint(np.interp(cdf, levels, stats.quantiles[c])), 0, 255)
    return cv2.LUT(rgb, table)


# name -> (rgb, stats, within) -> rgb; `within` (bool mask or None) is where the source is measured.
TRANSFERS: dict[str, Callable[[np.ndarray, ColorStats, np.ndarray | None], np.ndarray]] = {
    "reinhard": reinhard,
    "histogram": histogram_match,
}


def _scaled_sigma(base: float, shape) -> float:
    # the OpenCV defaults are tuned for ~512 px images; scale with the image, within OpenCV's 0..200
    return float(np.clip(base * max(shape[:2]) / 512, 1, 200))


def _watercolor(rgb):
    return cv2.stylization(rgb, sigma_s=_scaled_sigma(60, rgb.shape), sigma_r=0.45)


def _detail(rgb):
    return cv2.detailEnhance(rgb, sigma_s=_scaled_sigma(10, rgb.shape), sigma_r=0.15)


def _smooth(rgb):
    return cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=_scaled_sigma(60, rgb.shape),
                                    sigma_r=0.4)


def _pencil(rgb):
    _, colour = cv2.pencilSketch(rgb, sigma_s=_scaled_sigma(60, rgb.shape), sigma_r=0.07, shade_factor=0.05)
    return colour


# name -> (uint8 RGB (H, W, 3) -> uint8 RGB). OpenCV's NPR filters treat channels alike, so RGB order is safe.
LOOKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "watercolor": _watercolor,
    "detail": _detail,
    "smooth": _smooth,
    "pencil": _pencil,
}


def _blend(image: Image.Image, result: np.ndarray, rgb: np.ndarray, strength: float) -> Image.Image:
    out = result if strength == 1 else cv2.addWeighted(result, strength, rgb, 1 - strength, 0)
    image_out = Image.fromarray(out, "RGB")
    if image.mode == "RGBA":
        image_out.putalpha(image.getchannel("A"))
    return image_out


def _check(image: Image.Image, strength: float) -> None:
    if image.mode not in ("RGB", "RGBA"):
        raise ValueError(f"style takes RGB or RGBA images, got mode {image.mode}")
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], got {strength!r}")


def transfer(image: Image.Image, stats: ColorStats, method: str = "reinhard", strength: float = 1.0,
             within: np.ndarray | None = None) -> Image.Image:
    """Colour/tone transfer towards the reference measured in `stats`. `within` (bool mask) restricts where
    the image's own statistics are measured: pass the product mask when only the product is restyled."""
    if method not in TRANSFERS:
        raise ValueError(f"unknown colour transfer {method!r}; known: {', '.join(TRANSFERS)}")
    _check(image, strength)
    if strength == 0:
        return image.copy()
    rgb = np.asarray(image.convert("RGB"))
    if within is not None and (within.shape != rgb.shape[:2] or within.sum() < 16):
        within = None if within.shape == rgb.shape[:2] else _bad_mask(within, rgb)
    return _blend(image, TRANSFERS[method](rgb, stats, within), rgb, strength)


def _bad_mask(mask: np.ndarray, rgb: np.ndarray):
    raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {rgb.shape[1]}x{rgb.shape[0]}")


def look(image: Image.Image, name: str, strength: float = 1.0) -> Image.Image:
    """An edge-preserving artistic look from LOOKS."""
    if name not in LOOKS:
        raise ValueError(f"unknown look {name!r}; known: {', '.join(LOOKS)}")
    _check(image, strength)
    if strength == 0:
        return image.copy()
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    if min(rgb.shape[:2]) < 3:
        return image.copy()
    return _blend(image, LOOKS[name](rgb), rgb, strength)
