"""The canonical label vocabulary: the contract between catalogs, captions, evaluation and prompt suites.

Label strings here are fixed; colours are data (sRGB hex), and which product/background pairs are
"visible" is derived from them, not listed by hand.
"""

from __future__ import annotations

import numpy as np

# Fashion-MNIST's label index i is CATEGORIES[i] (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal,
# Shirt, Sneaker, Bag, Ankle boot).
CATEGORIES: tuple[str, ...] = (
    "tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot",
)

# Product colours, chosen to be far apart in CIELAB so that each name is recognisable on its own.
COLORS: dict[str, str] = {
    "black": "#1c1c1c",
    "white": "#f4f4f2",
    "gray": "#8a8a8a",
    "red": "#c8202a",
    "orange": "#f07c10",
    "yellow": "#f6d21c",
    "green": "#2f8f3a",
    "teal": "#00877f",
    "blue": "#2a62e0",
    "navy": "#1b2a6b",
    "purple": "#7a2a9c",
    "pink": "#f06aa8",
    "brown": "#6e4228",
    "beige": "#d8c19a",
}

BACKGROUNDS: dict[str, str] = {
    "white": "#ffffff",
    "light_gray": "#d6d6d6",
    "cream": "#f4ecd6",
    "pastel_blue": "#c4dcf2",
    "pastel_pink": "#f7d3dd",
    "black": "#121212",
}

# A product colour must differ from its background by at least this CIELAB distance (ΔE*76) to count
# as visible. 15 rules out white on white, light grey or cream and black on black, while white on pastel
# blue (ΔE 17) stays: the product's own shading and outline keep it readable there.
MIN_VISIBLE_DELTA_E = 15.0


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b) in 0..255."""
    text = value.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour must be '#rrggbb', got {value!r}")
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..255, shape (..., 3) -> CIELAB (D65), shape (..., 3). Plain numpy so it needs no cv2."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def delta_e(rgb_a: tuple[int, int, int], rgb_b: tuple[int, int, int]) -> float:
    """CIELAB ΔE*76 between two sRGB colours."""
    return float(np.linalg.norm(srgb_to_lab(np.array(rgb_a)) - srgb_to_lab(np.array(rgb_b))))


def is_visible(color: str, background: str) -> bool:
    """Whether a product of `color` stands out on `background` (names from COLORS / BACKGROUNDS)."""
    if color not in COLORS:
        raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLORS)}")
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; known: {', '.join(BACKGROUNDS)}")
    return delta_e(hex_to_rgb(COLORS[color]), hex_to_rgb(BACKGROUNDS[background])) >= MIN_VISIBLE_DELTA_E


def visible_backgrounds(color: str) -> tuple[str, ...]:
    """The backgrounds a product of `color` may be shown on, in BACKGROUNDS order."""
    return tuple(bg for bg in BACKGROUNDS if is_visible(color, bg))
