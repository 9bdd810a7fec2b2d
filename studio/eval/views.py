"""Score "other angles": does a strip show the asked views, and one product throughout?

    python -m studio eval views --model weights/diffusion-furniture-views --prompts furniture-views-test \
        --per-prompt 4 --json runs/eval-views.json

For every prompt of a multi-view suite and each of `per_prompt` variants, the strip of that variant from
every named view (the pipeline's other_angles: a VAE's one latent, or diffusion's one starting noise, under
each view's words). Two numbers per strip:
- view accuracy: the judge's view head against the view each image was asked for;
- identity: the mean evaluator-feature distance between the strip's images, compared with real renders of
  the held-out items from the same views on one background: pairs of views of *one* item (same) and the
  same pairs of views taken from *two different* items of the suite (different). A strip is consistent when
  its distance is nearer the same-item mean than the different-item mean. The real items' own rate (same
  items under that rule) is the ceiling printed beside it.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from ..data.views import LABELS, VIEWS, view_label
from .judge import Judge
from .prompts import PromptSpec


def _mean_pairwise(features: np.ndarray) -> float:
    """Mean Euclidean distance over the distinct pairs of rows."""
    d = np.linalg.norm(features[:, None] - features[None], axis=-1)
    n = len(features)
    return float(d.sum() / (n * (n - 1))) if n > 1 else 0.0


def _mean_cross(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance between row i of a and row j of b over i != j (the same pairs of views as within)."""
    d = np.linalg.norm(a[:, None] - b[None], axis=-1)
    n = len(a)
    return float((d.sum() - np.trace(d)) / (n * (n - 1))) if n > 1 else float(d.mean())


def view_indices(views: Sequence[str]) -> list[int]:
    """For each named view, the catalog's camera that shows it first (the lower elevation)."""
    chosen = []
    for name in views:
        matches = [i for i, (a, e) in enumerate(VIEWS) if view_label(a, e) == name]
        if not matches:
            raise ValueError(f"unknown view {name!r}; known: {', '.join(LABELS)}")
        chosen.append(matches[0])
    return chosen


def real_identity(judge: Judge, views: Sequence[str], size: int, pairs: int = 400, seed: int = 0) -> dict:
    """Feature distances of real held-out renders: within one item (its views, one background) and across
    two items (the same views, item B re-drawn on item A's background)."""
    from ..data import open_catalog

    catalog = open_catalog("furniture-views", split="test", size=size)
    cameras = view_indices(views)
    per = len(catalog.views)
    items = len(catalog.items)
    backgrounds = [catalog.label(i * per)["background"] for i in range(items)]

    def features(drawn: list[tuple[int, str]]) -> np.ndarray:
        """(len(drawn), views, features): each (item, background) from every camera, judged in one pass."""
        images = [catalog.render(item * per + c, background) for item, background in drawn for c in cameras]
        return judge.analyse(images)[1].reshape(len(drawn), len(cameras), -1)

    own = features([(i, backgrounds[i]) for i in range(items)])
    same = np.array([_mean_pairwise(f) for f in own])
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(items, size=2, replace=False) for _ in range(pairs)]
    other = features([(int(b), backgrounds[a]) for a, b in chosen])
    different = np.array([_mean_cross(own[a], other[n]) for n, (a, _) in enumerate(chosen)])
    threshold = float((same.mean() + different.mean()) / 2)
    return {"same_item": float(same.mean()), "different_items": float(different.mean()), "threshold": threshold,
            "items": items, "pairs": pairs, "real_consistent": float((same < threshold).mean())}


def evaluate_views(pipe, specs: list[PromptSpec], per_prompt: int, seed: int, judge: Judge,
                   views: Sequence[str] = LABELS, log: Callable[[str], None] = print) -> dict:
    """View accuracy across strips and the share of strips consistent with one product."""
    if "view" not in judge.labels:
        raise ValueError(f"{judge.folder} has no view head: use the multi-view furniture judge "
                         f"(weights/evaluator-furniture-views)")
    if per_prompt < 1:
        raise ValueError(f"per_prompt must be at least 1, got {per_prompt}")
    started = time.time()
    views = list(views)
    reference = real_identity(judge, views, pipe.output_size, seed=seed)
    log(f"real renders: same item {reference['same_item']:.2f}, different items {reference['different_items']:.2f} "
        f"({time.time() - started:.0f} s)")
    strips: list[list[Image.Image]] = []
    for p, spec in enumerate(specs):
        for k in range(per_prompt):
            strips.append(pipe.other_angles(spec.prompt, seed + p, index=k, num_images=per_prompt, views=views).images)
    flat = [im for strip in strips for im in strip]
    predictions, features = judge.analyse(flat)
    wanted = np.array(views * len(strips), dtype=object)
    correct = np.array(predictions["view"], dtype=object) == wanted
    distances = np.array([_mean_pairwise(features[i * len(views):(i + 1) * len(views)]) for i in range(len(strips))])
    per_view = {v: float(correct[wanted == v].mean()) for v in views}
    result = {
        "model": pipe.name, "views": views, "strips": len(strips), "per_prompt": per_prompt, "seed": seed,
        "prompts": len(specs), "judge": str(judge.folder),
        "view_accuracy": float(correct.mean()), "view_accuracy_by_view": per_view,
        "strip_distance": float(distances.mean()),
        "consistent_strips": float((distances < reference["threshold"]).mean()),
        "real": reference,
        "seconds": round(time.time() - started, 1),
    }
    return result


def markdown_table(result: dict) -> str:
    real = result["real"]
    views = " | ".join(f"{100 * result['view_accuracy_by_view'][v]:.0f}%" for v in result["views"])
    return "\n".join([
        "| | view accuracy | " + " | ".join(result["views"]) + " | feature distance within a strip | "
        "consistent strips |",
        "|---|---|" + "---|" * len(result["views"]) + "---|---|",
        f"| {result['model']} ({result['strips']} strips) | {100 * result['view_accuracy']:.1f}% | {views} | "
        f"{result['strip_distance']:.2f} | {100 * result['consistent_strips']:.1f}% |",
        f"| real held-out items ({real['items']}) | - | " + " | ".join("-" for _ in result["views"]) +
        f" | {real['same_item']:.2f} (different items: {real['different_items']:.2f}) | "
        f"{100 * real['real_consistent']:.1f}% |",
    ])
