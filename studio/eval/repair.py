"""Score repair (inpainting) methods on real held-out images with LaMa-style holes.

    python -m studio eval repair --method telea --catalog fashion --masks thin,medium,thick --n 500 \
        --seed 0 --json runs/repair-telea.json

For each mask set: PSNR and SSIM inside the hole and over the whole image (mean over images), and
fd_effnet between repaired and original images. Methods come from a studio.edits.repair.RepairMethods
registry (CLASSICAL unless given); a learned method added with `with_model` is scored the same way.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from PIL import Image

from ..data import open_catalog
from ..edits.repair import CLASSICAL, RepairMethods, repair
from .judge import EffnetFeatures
from .masks import MASK_RECIPES, mask_batch
from .metrics import frechet_distance, psnr, ssim

HOLE_FILL = (0, 0, 0)    # what the method sees inside the hole: it must not use the original pixels


def evaluate_repair(method: str, catalog: str = "fashion", masks: tuple[str, ...] = ("thin", "medium", "thick"),
                    n: int = 500, seed: int = 0, size: int | None = None, split: str = "test",
                    effnet: Callable[[list[Image.Image]], np.ndarray] | None = None,
                    methods: RepairMethods = CLASSICAL) -> dict:
    """Metrics per mask set for one of `methods`' methods. `effnet` maps images to features."""
    methods.get(method)                                  # an unknown name fails before any work
    unknown = [m for m in masks if m not in MASK_RECIPES]
    if unknown:
        raise ValueError(f"unknown mask set(s) {unknown}; known: {', '.join(MASK_RECIPES)}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    effnet = effnet or EffnetFeatures()
    started = time.time()
    # 1. the same n real test images for every mask set
    data = open_catalog(catalog, split=split, size=size)
    picks = np.random.default_rng(seed).choice(len(data), size=min(n, len(data)), replace=False)
    originals = [data[int(i)].image for i in picks]
    original_features = effnet(originals)
    result: dict = {"method": method, "catalog": catalog, "split": split, "n": len(originals),
                    "size": data.size, "seed": seed, "masks": {}}
    for kind in masks:
        # 2. damage, repair, compare
        holes = mask_batch(kind, data.size, len(originals), seed)
        repaired, rows = [], []
        for image, hole in zip(originals, holes):
            damaged = np.asarray(image).copy()
            damaged[hole] = HOLE_FILL
            fixed = repair(Image.fromarray(damaged), hole, method, methods=methods)
            a, b = np.asarray(image), np.asarray(fixed)
            rows.append((psnr(a, b, hole), ssim(a, b, hole), psnr(a, b), ssim(a, b)))
            repaired.append(fixed)
        values = np.array(rows)
        finite = lambda column: float(np.mean(np.minimum(column, 100.0)))  # noqa: E731  (inf = exact fill; capped)
        result["masks"][kind] = {
            "psnr_hole": finite(values[:, 0]), "ssim_hole": float(values[:, 1].mean()),
            "psnr": finite(values[:, 2]), "ssim": float(values[:, 3].mean()),
            "fd_effnet": frechet_distance(effnet(repaired), original_features),
            "hole_area": float(holes.mean()),
        }
    result["seconds"] = round(time.time() - started, 1)
    return result


def markdown_table(results: list[dict]) -> str:
    """One row per (method, mask set)."""
    lines = ["| method | masks | hole area | PSNR hole (dB) | SSIM hole | PSNR (dB) | SSIM | fd_effnet |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for kind, m in r["masks"].items():
            lines.append(f"| {r['method']} | {kind} | {100 * m['hole_area']:.0f}% | {m['psnr_hole']:.2f} | "
                         f"{m['ssim_hole']:.3f} | {m['psnr']:.2f} | {m['ssim']:.3f} | {m['fd_effnet']:.2f} |")
    return "\n".join(lines)
