"""Contact sheets and label statistics for any catalog."""

from __future__ import annotations

import textwrap
from collections import Counter

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .base import Catalog


def label_counts(catalog: Catalog) -> dict[str, Counter]:
    """attribute -> Counter of its values over the whole split (labels only, no images decoded)."""
    counts: dict[str, Counter] = {a: Counter() for a in catalog.attributes}
    for i in range(len(catalog)):
        for key, value in catalog.label(i).items():
            counts[key][value] += 1
    return counts


def contact_sheet(catalog: Catalog, n: int = 24, columns: int = 6, tile: int = 160, seed: int = 0) -> Image.Image:
    """A grid of n samples, drawn evenly at random (seeded), each with its caption under it."""
    if n < 1 or columns < 1 or tile < 32:
        raise ValueError(f"need n >= 1, columns >= 1, tile >= 32; got {n}, {columns}, {tile}")
    count = min(n, len(catalog))
    picks = np.sort(np.random.default_rng(seed).choice(len(catalog), size=count, replace=False))
    font = ImageFont.load_default(size=max(10, tile // 13))
    chars = max(12, int(tile / (font.size * 0.55)))
    lines = 4
    line_height = font.size + 3
    cell_h = tile + lines * line_height + 8
    rows = -(-count // columns)
    sheet = Image.new("RGB", (columns * tile, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for k, index in enumerate(picks):
        sample = catalog[int(index)]
        x, y = (k % columns) * tile, (k // columns) * cell_h
        sheet.paste(sample.image.resize((tile, tile), Image.Resampling.LANCZOS), (x, y))
        wrapped = textwrap.wrap(sample.caption, chars)[:lines]
        for j, text in enumerate(wrapped):
            draw.text((x + 4, y + tile + 4 + j * line_height), text, fill=(20, 20, 20), font=font)
    return sheet
