"""LaMa-style random hole masks: thin, medium and thick (Suvorov et al., WACV 2022).

The parameters are LaMa's `random_{thin,medium,thick}_256` generator settings, stated for a 256 px
square and scaled to the image size: irregular brush strokes (polylines of 1-5 segments) plus, for
medium and thick, rectangles with probability 0.3. A mask never covers more than half the image and is
never empty. Masks are bool arrays, True = hole.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

REFERENCE_SIZE = 256


@dataclass(frozen=True)
class MaskRecipe:
    strokes: tuple[int, int]            # how many strokes, inclusive range
    max_width: int                      # brush width, px at 256
    max_length: int                     # segment length, px at 256
    max_angle: float                    # radians a segment may turn
    box_probability: float = 0.0
    boxes: tuple[int, int] = (0, 0)     # how many boxes, inclusive range
    box_size: tuple[int, int] = (0, 0)  # box side, px at 256
    box_margin: int = 0                 # px at 256 kept free at the border
    max_area: float = 0.5


MASK_RECIPES: dict[str, MaskRecipe] = {
    "thin": MaskRecipe(strokes=(4, 50), max_width=10, max_length=40, max_angle=4.0),
    "medium": MaskRecipe(strokes=(4, 5), max_width=50, max_length=100, max_angle=4.0,
                         box_probability=0.3, boxes=(1, 5), box_size=(10, 50), box_margin=0),
    "thick": MaskRecipe(strokes=(1, 5), max_width=100, max_length=200, max_angle=4.0,
                        box_probability=0.3, boxes=(1, 3), box_size=(30, 150), box_margin=10),
}


def random_mask(kind: str, size: int, rng: np.random.Generator, max_tries: int = 50) -> np.ndarray:
    """One (size, size) bool mask of the named kind."""
    if kind not in MASK_RECIPES:
        raise ValueError(f"unknown mask kind {kind!r}; known: {', '.join(MASK_RECIPES)}")
    if size < 8:
        raise ValueError(f"mask size must be at least 8 px, got {size}")
    recipe = MASK_RECIPES[kind]
    for _ in range(max_tries):
        mask = _draw(recipe, size, rng)
        area = mask.mean()
        if 0 < area <= recipe.max_area:
            return mask
    raise RuntimeError(f"could not draw a {kind} mask within {recipe.max_area:.0%} area in {max_tries} tries")


def mask_batch(kind: str, size: int, n: int, seed: int) -> np.ndarray:
    """(n, size, size) bool masks, reproducible from seed."""
    rng = np.random.default_rng([seed, list(MASK_RECIPES).index(kind) if kind in MASK_RECIPES else 0])
    return np.stack([random_mask(kind, size, rng) for _ in range(n)])


def _draw(recipe: MaskRecipe, size: int, rng: np.random.Generator) -> np.ndarray:
    scale = size / REFERENCE_SIZE
    canvas = np.zeros((size, size), np.uint8)
    # 1. irregular strokes: each a chain of segments that turn by random angles
    for _ in range(int(rng.integers(recipe.strokes[0], recipe.strokes[1] + 1))):
        x, y = rng.uniform(0, size, 2)
        angle = rng.uniform(0, 2 * np.pi)
        width = max(1, round(rng.uniform(5, 5 + recipe.max_width) * scale))
        for _ in range(int(rng.integers(1, 6))):
            angle += rng.uniform(-recipe.max_angle, recipe.max_angle) / 2
            length = rng.uniform(10, 10 + recipe.max_length) * scale
            nx = float(np.clip(x + length * np.cos(angle), 0, size - 1))
            ny = float(np.clip(y + length * np.sin(angle), 0, size - 1))
            cv2.line(canvas, (round(x), round(y)), (round(nx), round(ny)), 1, width)
            x, y = nx, ny
    # 2. boxes, sometimes
    if recipe.box_probability and rng.random() < recipe.box_probability:
        margin = round(recipe.box_margin * scale)
        for _ in range(int(rng.integers(recipe.boxes[0], recipe.boxes[1] + 1))):
            w, h = (max(1, round(rng.uniform(*recipe.box_size) * scale)) for _ in range(2))
            if size - 2 * margin - w <= 0 or size - 2 * margin - h <= 0:
                continue
            left = int(rng.integers(margin, size - margin - w + 1))
            top = int(rng.integers(margin, size - margin - h + 1))
            canvas[top:top + h, left:left + w] = 1
    return canvas.astype(bool)
