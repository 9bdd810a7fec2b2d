"""How well the product mask (studio.edits.mask) finds products, on real renders with known alpha.

    python -m studio eval mask --catalog furniture --split test --size 256

Sweet Home 3D renders carry their own alpha, so the truth is exact. Each item is composited twice: on its
catalog background (a plain colour, like a studio backdrop) and on a vertical two-colour gradient (the
border is no longer uniform, so the GrabCut path runs). The mask sees only the RGB composite.
"""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from ..data import open_catalog
from ..data.furniture import _icon, place_icon
from ..data.vocab import BACKGROUNDS, hex_to_rgb
from ..edits.background import Backdrop
from ..edits.mask import product_mask

GRADIENT = ((235, 225, 205), (120, 140, 170))


def _truth_and_photo(icon: Image.Image, backdrop: np.ndarray, size: int) -> tuple[np.ndarray, Image.Image]:
    resized, offset = place_icon(icon, size)
    canvas = Image.fromarray(backdrop)
    canvas.paste(resized, offset, mask=resized.getchannel("A"))
    alpha = Image.new("L", (size, size), 0)
    alpha.paste(resized.getchannel("A"), offset)
    return np.asarray(alpha) >= 128, canvas


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def evaluate_mask(catalog: str = "furniture", split: str = "test", size: int = 256, limit: int | None = None) -> dict:
    """Mean / median IoU and the share of items above 0.9, per backdrop condition."""
    if catalog != "furniture":
        raise ValueError("mask evaluation needs renders with true alpha: only the furniture catalog has them")
    items = open_catalog(catalog, split=split, size=size)
    count = len(items) if limit is None else min(limit, len(items))
    gradient = Backdrop("gradient", top=GRADIENT[0], bottom=GRADIENT[1]).render((size, size))
    start = time.perf_counter()
    scores: dict[str, list[float]] = {"plain": [], "gradient": []}
    for index in range(count):
        item = items.items[index]
        icon = _icon(item.archive, item.icon)
        plain = np.broadcast_to(np.array(hex_to_rgb(BACKGROUNDS[items.label(index)["background"]]), np.uint8),
                                (size, size, 3)).copy()
        for condition, backdrop in (("plain", plain), ("gradient", gradient)):
            truth, photo = _truth_and_photo(icon, backdrop, size)
            scores[condition].append(_iou(product_mask(photo), truth))
    result = {"catalog": catalog, "split": split, "size": size, "n": count,
              "seconds": round(time.perf_counter() - start, 1)}
    for condition, values in scores.items():
        v = np.array(values)
        result[condition] = {"mean_iou": round(float(v.mean()), 4), "median_iou": round(float(np.median(v)), 4),
                             "share_above_0.9": round(float((v >= 0.9).mean()), 4)}
    return result
