"""Score repair (inpainting) methods on real held-out images with LaMa-style holes.

    python -m studio eval repair --method telea --catalog fashion --masks thin,medium,thick --n 500 \
        --seed 0 --json runs/repair-telea.json
    python -m studio eval repair --method telea,ns --catalog photos --masks medium,thick --n 200

`--catalog photos` takes square crops (256 px) of the held-out real photos instead of a catalog's test split.
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
PHOTOS = "photos"        # not a catalog: square crops of the held-out real photos (studio/data/photos.py)
PHOTO_CROP = 256
PHOTO_SIDE = 1024        # the photos are reduced to this longest side before cropping


def photo_crops(n: int, size: int = PHOTO_CROP, seed: int = 0, root=None) -> list[Image.Image]:
    """n square crops of the held-out real photos (`photo_files("test")`), taken in turn from each photo at
    seeded positions after reducing it to PHOTO_SIDE: textured, real-world holes to fill."""
    from ..data.photos import ROOT, load_photo, photo_files

    photos = [np.asarray(load_photo(p, PHOTO_SIDE)) for p in photo_files("test", root or ROOT)]
    if any(min(p.shape[:2]) < size for p in photos):
        raise ValueError(f"crops of {size} px do not fit the held-out photos at {PHOTO_SIDE} px")
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(n):
        photo = photos[i % len(photos)]
        y, x = rng.integers(photo.shape[0] - size + 1), rng.integers(photo.shape[1] - size + 1)
        crops.append(Image.fromarray(np.ascontiguousarray(photo[y:y + size, x:x + size])))
    return crops


def evaluate_repair(method: str, catalog: str = "fashion", masks: tuple[str, ...] = ("thin", "medium", "thick"),
                    n: int = 500, seed: int = 0, size: int | None = None, split: str = "test",
                    effnet: Callable[[list[Image.Image]], np.ndarray] | None = None,
                    methods: RepairMethods = CLASSICAL, photo_root=None) -> dict:
    """Metrics per mask set for one of `methods`' methods. `effnet` maps images to features; `photo_root`:
    where the photo packages are (catalog `photos`; default /usr/share)."""
    methods.get(method)                                  # an unknown name fails before any work
    unknown = [m for m in masks if m not in MASK_RECIPES]
    if unknown:
        raise ValueError(f"unknown mask set(s) {unknown}; known: {', '.join(MASK_RECIPES)}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    effnet = effnet or EffnetFeatures()
    started = time.time()
    # 1. the same n real test images for every mask set
    if catalog == PHOTOS:
        size = size or PHOTO_CROP
        originals = photo_crops(n, size, seed, photo_root)
    else:
        data = open_catalog(catalog, split=split, size=size)
        picks = np.random.default_rng(seed).choice(len(data), size=min(n, len(data)), replace=False)
        originals = [data[int(i)].image for i in picks]
        size = data.size
    original_features = effnet(originals)
    result: dict = {"method": method, "catalog": catalog, "split": split, "n": len(originals),
                    "size": size, "seed": seed, "masks": {}}
    for kind in masks:
        # 2. damage, repair, compare
        holes = mask_batch(kind, size, len(originals), seed)
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
