"""House styles: style references the studio draws itself, so a merchant can restyle without a reference
photo of their own, and a recipe names the style instead of carrying its statistics.

    house_reference("linen")        # the 256 px texture (RGB), the same pixels on every machine
    house_stats("linen")            # its StyleStats, measured once per process
    HOUSE_STYLES                    # the names, in the order the app lists them

Each texture is made here from a seeded random generator and a few OpenCV filters: nothing is copied from
a package or a photo, so no licence travels with them. They are textures a product page uses behind a
product (with the product lock on "background"): woven linen, veined marble, a print's halftone dots,
brushed metal, a watercolour wash.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Callable

import cv2
import numpy as np
from PIL import Image

SIDE = 256


def _smooth(rng: np.random.Generator, cells: int, octaves: int = 1) -> np.ndarray:
    """Value noise in [0, 1] at SIDE x SIDE: a random grid of `cells` enlarged smoothly, plus finer octaves
    at half the weight each."""
    total, weight, out = 0.0, 1.0, np.zeros((SIDE, SIDE), np.float32)
    for octave in range(octaves):
        n = cells * 2 ** octave
        grid = rng.random((n + 1, n + 1)).astype(np.float32)
        out += weight * cv2.resize(grid, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
        total += weight
        weight /= 2
    out /= total
    return (out - out.min()) / max(float(out.max() - out.min()), 1e-6)


def _paint(shade: np.ndarray, dark, light) -> np.ndarray:
    """An RGB uint8 image going from colour `dark` (shade 0) to `light` (shade 1)."""
    dark, light = np.asarray(dark, np.float32), np.asarray(light, np.float32)
    rgb = dark + np.clip(shade, 0, 1)[..., None] * (light - dark)
    return np.clip(rgb, 0, 255).round().astype(np.uint8)


def _linen(rng: np.random.Generator) -> np.ndarray:
    threads = np.arange(SIDE, dtype=np.float32)
    warp = 0.5 + 0.5 * np.sin(threads * np.pi / 1.5) * (0.6 + 0.4 * rng.random(SIDE, dtype=np.float32))
    weft = 0.5 + 0.5 * np.sin(threads * np.pi / 1.5) * (0.6 + 0.4 * rng.random(SIDE, dtype=np.float32))
    weave = 0.5 * (warp[None, :] + weft[:, None])
    slub = _smooth(rng, 24)                            # uneven thread thickness
    shade = 0.55 * weave + 0.25 * slub + 0.2 * rng.random((SIDE, SIDE), dtype=np.float32)
    return _paint(shade, (170, 155, 128), (238, 230, 212))


def _marble(rng: np.random.Generator) -> np.ndarray:
    turbulence = _smooth(rng, 4, octaves=5)
    x = np.linspace(0, 1, SIDE, dtype=np.float32)[None, :] + np.linspace(0, 0.6, SIDE, dtype=np.float32)[:, None]
    veins = np.abs(np.sin((x * 3.0 + 2.2 * turbulence) * np.pi)) ** 0.35
    shade = 0.8 * veins + 0.2 * _smooth(rng, 8, octaves=2)
    return _paint(shade, (92, 94, 100), (242, 241, 236))


def _halftone(rng: np.random.Generator) -> np.ndarray:
    tone = _smooth(rng, 3, octaves=2)                  # how dark the print is, slowly varying
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    u, v = (x + y) / np.sqrt(2), (x - y) / np.sqrt(2)  # the screen at 45 degrees
    pitch = 8.0
    du, dv = (u % pitch) - pitch / 2, (v % pitch) - pitch / 2
    radius = pitch / 2 * np.sqrt(0.15 + 0.75 * tone)
    dots = np.clip(radius - np.sqrt(du ** 2 + dv ** 2) + 0.5, 0, 1)      # one pixel of antialiasing
    return _paint(1 - dots, (28, 44, 92), (244, 238, 222))


def _brushed_metal(rng: np.random.Generator) -> np.ndarray:
    grain = rng.random((SIDE, SIDE), dtype=np.float32)
    streaks = cv2.blur(grain, (61, 1), borderType=cv2.BORDER_REFLECT)
    streaks = (streaks - streaks.mean()) / max(float(streaks.std()), 1e-6)
    sheen = np.linspace(0.35, 0.75, SIDE, dtype=np.float32)[:, None] + 0.15 * _smooth(rng, 2)
    return _paint(sheen + 0.08 * streaks, (70, 74, 80), (228, 232, 238))


def _watercolour(rng: np.random.Generator) -> np.ndarray:
    paper = np.full((SIDE, SIDE, 3), (246, 242, 232), np.float32)
    for colour in ((70, 130, 180), (214, 120, 140), (120, 170, 110)):
        field = _smooth(rng, 3, octaves=4)
        wash = np.clip((field - 0.55) * 6, 0, 1)                        # a blot where the field is high
        rim = np.clip(1 - np.abs(field - 0.6) * 25, 0, 1) * (field > 0.55)  # pigment gathers at its edge
        cover = np.clip(0.55 * wash + 0.35 * rim, 0, 0.9)[..., None]
        paper = paper * (1 - cover) + np.asarray(colour, np.float32) * cover
    grain = cv2.GaussianBlur(rng.random((SIDE, SIDE), dtype=np.float32), (0, 0), 0.8)
    paper *= (0.94 + 0.08 * grain)[..., None]
    return np.clip(paper, 0, 255).round().astype(np.uint8)


_MAKERS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "linen": _linen, "marble": _marble, "halftone": _halftone, "brushed metal": _brushed_metal,
    "watercolour": _watercolour,
}
HOUSE_STYLES: tuple[str, ...] = tuple(_MAKERS)


def check_house(name) -> str:
    if not isinstance(name, str) or name not in _MAKERS:
        raise ValueError(f"unknown house style {str(name)[:40]!r}; the house styles are {', '.join(HOUSE_STYLES)}")
    return name


def house_reference(name: str) -> Image.Image:
    """The house style's texture, SIDE x SIDE RGB; the same pixels for the same name, always."""
    check_house(name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return Image.fromarray(_MAKERS[name](rng), "RGB")


@lru_cache(maxsize=None)
def house_stats(name: str):
    """The house style's StyleStats (measured on first use, then kept: a live preview asks on every slider
    event; an unknown name raises before anything is kept)."""
    from .neural_style import STYLIST, StyleStats

    return StyleStats.measure(house_reference(name), STYLIST.network())
