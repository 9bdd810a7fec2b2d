"""How well product masks find products, on images whose true alpha is known.

    python -m studio eval mask --catalog furniture --split test --size 256          # the plain-backdrop set
    python -m studio eval mask --catalog composites --size 512 --limit 300          # the busy set

Two sets, each scoring every method named in `--methods` (default: classical and learned, with and
without the guided-filter refinement) on the same images:
- furniture: Sweet Home 3D's test icons on their catalog background (a plain colour, like a studio backdrop)
  and on a vertical two-colour gradient (the border is no longer uniform, so the classical GrabCut path runs);
- composites: held-out objects (studio/data/composites.py: test renders, icons and clip art) over held-out
  backgrounds, one composite per object and background kind (photo, texture, clutter = "busy"; plain,
  gradient), drawn from a fixed seed. The busy ones are also scored by the object's source ("busy (render)",
  "busy (icon)", "busy (clipart)"), so a reader sees which kind of product the failures are. A sixth
  composite per object puts it on a photo with a photographed surface (PHOTO_SURFACE: closer to a real
  product photo than flat art is), scored on its own, outside "busy".
A mask sees only the RGB image. Scores per condition: IoU of the mask (alpha >= 0.5) with the truth
(mean, median, minimum, share >= 0.9), the boundary F-score (the DAVIS contour measure: boundary pixels
matched within 0.75% of the diagonal) and the SAD of the alpha (sum of absolute alpha errors / 1000, the
matting benchmarks' unit, at the evaluated size). The classical mask is hard (0 or 1), so its SAD counts
every edge pixel in full; the learned one is a soft matte.
"""

from __future__ import annotations

import time
from typing import Callable

import cv2
import numpy as np
from PIL import Image

from ..data import open_catalog
from ..data.composites import BUSY_KINDS
from ..data.furniture import _icon, place_icon
from ..data.vocab import BACKGROUNDS, hex_to_rgb
from ..edits.background import Backdrop

GRADIENT = ((235, 225, 205), (120, 140, 170))
SETS = ("furniture", "composites")
BUSY = BUSY_KINDS
COMPOSITE_KINDS = BUSY + ("plain", "gradient")
# One more condition per object, after the five (its draws are its own, so theirs do not change): the object
# with a photographed surface (composites.photo_surface, from a held-out photo) on a held-out photo, what a
# real product photo looks like more than flat art or a clean render does. Reported beside "busy", not in it.
PHOTO_SURFACE = "photo (photographed surface)"
MaskMethod = Callable[[Image.Image], np.ndarray]     # RGB image -> alpha float (H, W) in [0, 1] (or bool)


# learned methods: (refinement, frame prior) -- see studio/edits/cutout.py
LEARNED_METHODS = {"learned": ("guided", True), "learned-bilinear": ("none", True),
                   "learned-all-pieces": ("guided", False)}


def mask_methods(names: tuple[str, ...] = ("classical", "learned", "learned-bilinear"),
                 model: str | None = None) -> dict[str, MaskMethod]:
    """The named methods: classical (colour-based), learned (the cut-out network + guided filter, pieces
    cut by the frame dropped), learned-bilinear (the network's alpha upscaled without refinement),
    learned-all-pieces (learned, keeping every piece)."""
    from ..edits.mask import classical_mask

    methods: dict[str, MaskMethod] = {}
    network = None
    for name in names:
        if name == "classical":
            methods[name] = classical_mask
            continue
        if name not in LEARNED_METHODS:
            raise ValueError(f"unknown mask method {name!r}; known: classical, {', '.join(LEARNED_METHODS)}")
        if network is None:
            from ..checkpoints import WEIGHTS_DIR
            from ..edits.cutout import FOLDER, open_cutout

            network = open_cutout(model or WEIGHTS_DIR / FOLDER)
        methods[name] = lambda image, how=LEARNED_METHODS[name]: _learned(image, network, *how)
    return methods


def _learned(image: Image.Image, network, refine: str, frame_prior: bool) -> np.ndarray:
    from ..edits.cutout import cutout_alpha

    return cutout_alpha(image, network, refine, frame_prior)


def _truth_and_photo(icon: Image.Image, backdrop: np.ndarray, size: int) -> tuple[np.ndarray, Image.Image]:
    resized, offset = place_icon(icon, size)
    canvas = Image.fromarray(backdrop)
    canvas.paste(resized, offset, mask=resized.getchannel("A"))
    alpha = Image.new("L", (size, size), 0)
    alpha.paste(resized.getchannel("A"), offset)
    return np.asarray(alpha, np.float32) / 255, canvas


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def _boundary(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)) > 0


def boundary_f(pred: np.ndarray, truth: np.ndarray, tolerance: float = 0.0075) -> float:
    """DAVIS's contour F-measure: boundary pixels of each within `tolerance` x diagonal of the other's."""
    bp, bt = _boundary(pred), _boundary(truth)
    if not bp.any() and not bt.any():
        return 1.0
    if not bp.any() or not bt.any():
        return 0.0
    radius = max(1, round(tolerance * np.hypot(*pred.shape)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near_t = cv2.dilate(bt.astype(np.uint8), disk) > 0
    near_p = cv2.dilate(bp.astype(np.uint8), disk) > 0
    precision, recall = float((bp & near_t).sum() / bp.sum()), float((bt & near_p).sum() / bt.sum())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def score(alpha: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """(IoU, boundary F, SAD/1000) of a predicted alpha (float or bool) against the true alpha in [0, 1]."""
    a = alpha.astype(np.float32)
    pred, real = a >= 0.5, truth >= 0.5
    return _iou(pred, real), boundary_f(pred, real), float(np.abs(a - truth).sum() / 1000)


def _furniture_images(split: str, size: int, limit: int | None):
    items = open_catalog("furniture", split=split, size=size)
    count = len(items) if limit is None else min(limit, len(items))
    gradient = Backdrop("gradient", top=GRADIENT[0], bottom=GRADIENT[1]).render((size, size))
    for index in range(count):
        item = items.items[index]
        icon = _icon(item.archive, item.icon)
        plain = np.broadcast_to(np.array(hex_to_rgb(BACKGROUNDS[items.label(index)["background"]]), np.uint8),
                                (size, size, 3)).copy()
        for condition, backdrop in (("plain", plain), ("gradient", gradient)):
            truth, photo = _truth_and_photo(icon, backdrop, size)
            yield condition, photo, truth, None


def _composite_images(size: int, limit: int | None, seed: int, cache: str | None):
    from ..data.composites import BackgroundPool, ObjectBank, compose

    bank = ObjectBank.open("test", cache)
    pool = BackgroundPool("test", max_side=max(1024, 2 * size))
    count = len(bank) if limit is None else min(limit, len(bank))
    # a fixed spread of objects over the bank (renders, icons and clip art alike), each on every kind
    chosen = np.linspace(0, len(bank) - 1, count).round().astype(int)
    # (condition, backdrop kind, object options); the k-th draws from its own seed [seed, n, k]
    conditions = [(kind, kind, {}) for kind in COMPOSITE_KINDS] + [(PHOTO_SURFACE, "photo", {"photo_fill": 1.0})]
    for n, index in enumerate(chosen):
        for k, (condition, kind, options) in enumerate(conditions):
            rgb, alpha = compose(bank, pool, np.random.default_rng([seed, n, k]), size, index=int(index), kind=kind,
                                 **options)
            yield condition, Image.fromarray(rgb), alpha.astype(np.float32) / 255, bank.kinds[int(index)]


def _summary(rows: list[tuple[float, float, float]]) -> dict:
    v = np.array(rows)
    return {"n": len(rows), "mean_iou": round(float(v[:, 0].mean()), 4), "median_iou": round(float(np.median(v[:, 0])), 4),
            "min_iou": round(float(v[:, 0].min()), 4), "share_above_0.9": round(float((v[:, 0] >= 0.9).mean()), 4),
            "share_below_0.75": round(float((v[:, 0] < 0.75).mean()), 4),
            "boundary_f": round(float(v[:, 1].mean()), 4), "sad": round(float(v[:, 2].mean()), 3)}


def evaluate_mask(catalog: str = "furniture", split: str = "test", size: int = 256, limit: int | None = None,
                  methods: dict[str, MaskMethod] | None = None, seed: int = 0, cache: str | None = None) -> dict:
    """Per method and condition: IoU statistics, boundary F and SAD (module docstring). `methods` defaults
    to the classical mask alone; composites always read the test objects and backgrounds."""
    if catalog not in SETS:
        raise ValueError(f"mask evaluation needs images with true alpha: the furniture renders or the "
                         f"composites, not {catalog!r}")
    if methods is None:
        from ..edits.mask import classical_mask

        methods = {"classical": classical_mask}
    images = _furniture_images(split, size, limit) if catalog == "furniture" else _composite_images(size, limit, seed, cache)
    start = time.perf_counter()
    rows: dict[str, dict[str, list]] = {name: {} for name in methods}
    seconds = {name: 0.0 for name in methods}
    count = 0
    sources: dict[str, list[str]] = {}                   # busy condition -> the object source of each row
    for condition, photo, truth, source in images:
        count += 1
        if condition in BUSY:
            sources.setdefault(condition, []).append(source)
        for name, method in methods.items():
            t = time.perf_counter()
            alpha = method(photo)
            seconds[name] += time.perf_counter() - t
            rows[name].setdefault(condition, []).append(score(alpha, truth))
    result = {"catalog": catalog, "split": "test" if catalog == "composites" else split, "size": size,
              "images": count, "seconds": round(time.perf_counter() - start, 1), "methods": {}}
    for name, by_condition in rows.items():
        entry = {condition: _summary(values) for condition, values in by_condition.items()}
        busy = [r for c in BUSY for r in by_condition.get(c, [])]
        if busy:
            entry["busy"] = _summary(busy)
            by_source: dict[str, list] = {}
            for c in BUSY:
                for source, row in zip(sources.get(c, []), by_condition.get(c, [])):
                    by_source.setdefault(source, []).append(row)
            for source, values in sorted(by_source.items()):
                entry[f"busy ({source})"] = _summary(values)
        entry["seconds_per_image"] = round(seconds[name] / max(1, count), 4)
        result["methods"][name] = entry
    return result


def markdown_table(result: dict) -> str:
    """One row per method and condition."""
    lines = ["| method | backdrop | n | mean IoU | min IoU | share >= 0.9 | share < 0.75 | boundary F | SAD |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, entry in result["methods"].items():
        for condition, r in entry.items():
            if isinstance(r, dict):
                lines.append(f"| {name} | {condition} | {r['n']} | {r['mean_iou']:.3f} | {r['min_iou']:.3f} | "
                             f"{r['share_above_0.9']:.1%} | {r['share_below_0.75']:.1%} | {r['boundary_f']:.3f} | "
                             f"{r['sad']:.2f} |")
    return "\n".join(lines)


def evaluate_fix(methods: dict[str, MaskMethod], n: int = 40, size: int = 800, seed: int = 1,
                 preset: str = "amazon-main", cache: str | None = None) -> dict:
    """The marketplace fix on busy photos (held-out objects over held-out real photos): per method, the IoU
    of the product box its mask gives with the true one, and whether the fixed image passes the preset's
    rule check (the fix given that method's mask; the check as the app runs it)."""
    from contextlib import nullcontext

    from ..data.composites import BackgroundPool, ObjectBank, compose
    from ..edits.cutout import switched_off
    from ..edits.mask import product_box
    from ..edits.presets import check, fix_with_mask, preset_from_spec

    rules = preset_from_spec(preset)
    bank = ObjectBank.open("test", cache)
    pool = BackgroundPool("test", max_side=max(1024, 2 * size))
    chosen = np.linspace(0, len(bank) - 1, n).round().astype(int)
    rows: dict[str, list[tuple[float, bool]]] = {name: [] for name in methods}
    for k, index in enumerate(chosen):
        rgb, alpha = compose(bank, pool, np.random.default_rng([seed, k]), size, index=int(index), kind="photo")
        photo, truth = Image.fromarray(rgb), alpha >= 128
        for name, method in methods.items():
            mask = method(photo) >= 0.5
            ok = False
            # the classical baseline all the way: the fix's own product masks are classical too
            with switched_off() if name == "classical" else nullcontext():
                if mask.any():
                    try:
                        fixed, _ = fix_with_mask(photo, rules, mask)
                        ok = not check(fixed, rules)    # as the app checks: presets.rule_mask
                    except ValueError:                  # the fix refused a doubtful cut-out
                        ok = False
            rows[name].append((_box_iou(product_box(mask), product_box(truth)), ok))
    out = {"preset": preset, "n": n, "size": size, "methods": {}}
    for name, values in rows.items():
        v = np.array(values, dtype=np.float64)
        out["methods"][name] = {"mean_box_iou": round(float(v[:, 0].mean()), 4),
                                "min_box_iou": round(float(v[:, 0].min()), 4),
                                "share_box_iou_0.9": round(float((v[:, 0] >= 0.9).mean()), 4),
                                "passes_check": round(float(v[:, 1].mean()), 4)}
    return out


def _box_iou(a, b) -> float:
    if a is None or b is None:
        return 0.0
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union else 0.0
