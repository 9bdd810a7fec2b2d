"""Score a text-to-image sampler on a prompt suite against real held-out images.

    python -m studio eval generate --model retrieval --prompts studio/eval/prompts/fashion-visible.jsonl \
        --per-prompt 10 --seed 0 --json runs/eval-retrieval.json
    python -m studio eval generate --model weights/gan-fashion --prompts ... --per-prompt 10 --json out.json

The reference distribution is half A of the real test split (even source indices), each image of the
prompt's category re-coloured to the prompt's colourway. `real_reference` scores half B the same way: the
ceiling for accuracy and the noise floor for the distances.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
from PIL import Image

from ..data import open_catalog
from ..data.vocab import COLORS, visible_backgrounds
from .judge import Judge
from .metrics import diversity, frechet_distance, kernel_distance, memorization, sharpness
from .prompts import PromptSpec

MEMORIZATION_REFERENCE = 10_000    # training images the nearest-neighbour check compares against
RETRIEVAL_POOL = 5_000             # training images the retrieval baseline may return (a subset of those)
ATTRIBUTES = ("category", "color", "background", "view")


class Sampler(Protocol):
    name: str
    size: int

    def sample(self, spec: PromptSpec, n: int, seed: int) -> list[Image.Image]: ...


def reference_indices(n_train: int, count: int) -> np.ndarray:
    """A fixed subset of the training split, shared by the retrieval pool and the memorisation check."""
    return np.random.default_rng(20240601).permutation(n_train)[:min(count, n_train)]


REAL_CATALOGS = ("fashion", "furniture", "furniture-views")


class RealSampler:
    """Real test images of the prompt's category in the prompt's colourway (fashion), on the prompt's
    background (furniture), and from the prompt's view (furniture-views); unsaid labels drawn at random.
    The halves: even and odd source indices, or, for the multi-view catalog, even and odd items (so the
    two halves never show the same product). `split="val"` draws from the validation split instead, for
    choosing between models without looking at the test images."""

    def __init__(self, catalog: str = "fashion", half: int = 0, size: int = 32, split: str = "test"):
        if catalog not in REAL_CATALOGS:
            raise ValueError(f"the real reference needs a catalog it can re-render ({', '.join(REAL_CATALOGS)}), "
                             f"not {catalog!r}")
        self.catalog = open_catalog(catalog, split=split, size=size)
        self.name, self.size = f"real-{split}-half-{'AB'[half]}", size
        views = len(getattr(self.catalog, "views", ())) or 1
        by_category: dict[str, list[int]] = {}
        by_view: dict[tuple[str, str], list[int]] = {}
        for i in range(len(self.catalog)):
            if (i // views) % 2 != half if views > 1 else i % 2 != half:
                continue
            labels = self.catalog.label(i)
            by_category.setdefault(labels["category"], []).append(i)
            if "view" in labels:
                by_view.setdefault((labels["category"], labels["view"]), []).append(i)
        self.by_category = {k: np.array(v) for k, v in by_category.items()}
        self.by_view = {k: np.array(v) for k, v in by_view.items()}

    def _pool(self, spec: PromptSpec) -> np.ndarray:
        """The prompt's class from its view; else its class; else its view; else everything."""
        if (spec.category, spec.view) in self.by_view:
            return self.by_view[(spec.category, spec.view)]
        if spec.category in self.by_category:
            return self.by_category[spec.category]
        of_view = [v for (_, view), v in sorted(self.by_view.items()) if view == spec.view]
        return np.concatenate(of_view or list(self.by_category.values()))

    def sample(self, spec: PromptSpec, n: int, seed: int) -> list[Image.Image]:
        rng = np.random.default_rng(seed)
        pool = self._pool(spec)
        images = []
        for index in rng.choice(pool, size=n, replace=len(pool) < n):
            if self.catalog.name in ("furniture", "furniture-views"):
                background = spec.background or self.catalog.label(int(index))["background"]
                images.append(self.catalog.render(int(index), background))
                continue
            color = spec.color or list(COLORS)[int(rng.integers(len(COLORS)))]
            options = visible_backgrounds(color)
            background = spec.background or options[int(rng.integers(len(options)))]
            images.append(self.catalog.render(int(index), color, background))
        return images


class RetrievalSampler:
    """Baseline: the training images whose captions are nearest to the prompt (MiniLM cosine).

    Deterministic (the seed changes nothing); it copies training images by construction, so it must
    lose to any real model on memorisation, and on diversity for prompts with few close captions.
    """

    def __init__(self, catalog: str = "fashion", size: int = 32, pool: int = RETRIEVAL_POOL):
        from ..text import TextEncoder

        self.catalog = open_catalog(catalog, split="train", size=size)
        self.name, self.size = "retrieval", size
        self.pool = reference_indices(len(self.catalog), pool)
        self.encoder = TextEncoder()
        captions = [self.catalog[int(i)].caption for i in self.pool]
        self.caption_vectors = self.encoder.encode(captions).pooled.numpy()

    def sample(self, spec: PromptSpec, n: int, seed: int) -> list[Image.Image]:
        query = self.encoder.encode([spec.prompt]).pooled.numpy()[0]
        best = np.argsort(-(self.caption_vectors @ query), kind="stable")[:n]
        return [self.catalog[int(self.pool[i])].image for i in best]


class GeneratorSampler:
    """A generator folder (any pipeline in studio.pipelines) as a sampler: the prompt text alone drives it."""

    def __init__(self, folder, device: str = "cpu", settings: dict | None = None):
        """settings: sampling settings (steps, guidance, truncation) for the pipelines that take them."""
        from ..pipelines import open_pipeline, sampling

        self.pipeline = open_pipeline(folder, device)
        self.name, self.size = self.pipeline.name, self.pipeline.output_size
        self.settings = sampling(self.pipeline, settings or {})

    def sample(self, spec: PromptSpec, n: int, seed: int, backdrop_prompt: str | None = None) -> list[Image.Image]:
        """backdrop_prompt: composed into the guidance by the pipelines that take it, as the app does."""
        from ..pipelines import composed

        return self.pipeline(spec.prompt, num_images=n, seed=seed, **self.settings,
                             **composed(self.pipeline, backdrop_prompt)).images


class UnderstoodSampler:
    """A sampler whose prompts go through studio.understand first, as the app's do (Studio.generate): the
    generator is given each prompt's canonical form, and a model that composes prompts its backdrop prompt."""

    def __init__(self, sampler: Sampler, reader):
        self.sampler, self.reader = sampler, reader
        self.name, self.size = sampler.name, sampler.size
        self._read: dict[str, tuple[str, str | None]] = {}

    def sample(self, spec: PromptSpec, n: int, seed: int) -> list[Image.Image]:
        import dataclasses

        if spec.prompt not in self._read:
            u = self.reader.read(spec.prompt)
            self._read[spec.prompt] = (u.canonical, u.backdrop_prompt)
        canonical, backdrop = self._read[spec.prompt]
        return self.sampler.sample(dataclasses.replace(spec, prompt=canonical), n, seed,
                                   **({"backdrop_prompt": backdrop} if backdrop else {}))


# `real` is half B of the test split: the same images as the `real_reference` row, drawn with the run's seed.
SAMPLERS: dict[str, Callable[..., Sampler]] = {
    "retrieval": RetrievalSampler,
    "real": lambda catalog="fashion", size=32: RealSampler(catalog, half=1, size=size),
}


def open_sampler(model: str, catalog: str = "fashion", size: int = 32, device: str = "cpu",
                 settings: dict | None = None) -> Sampler:
    """A named baseline, or a generator folder (opened by studio.pipelines.open_pipeline)."""
    if model in SAMPLERS:
        return SAMPLERS[model](catalog=catalog, size=size)
    if Path(model).is_dir():
        return GeneratorSampler(model, device=device, settings=settings)
    raise ValueError(f"unknown model {model!r}: use {', '.join(SAMPLERS)} or a generator folder")


@dataclass
class _Scored:
    predictions: dict[str, list[str]]
    features: np.ndarray
    effnet: np.ndarray
    groups: np.ndarray
    sharpness: float = float("nan")


def _draw(sampler: Sampler, specs: list[PromptSpec], per_prompt: int, seed: int, judge: Judge) -> _Scored:
    images, groups = [], []
    for p, spec in enumerate(specs):
        batch = sampler.sample(spec, per_prompt, seed + p)
        if len(batch) != per_prompt:
            raise RuntimeError(f"{sampler.name} returned {len(batch)} images for {per_prompt} asked")
        images.extend(batch)
        groups.extend([p] * per_prompt)
    predictions, features = judge.analyse(images)
    return _Scored(predictions, features, judge.effnet_features(images), np.array(groups), sharpness(images))


def _accuracy(scored: _Scored, specs: list[PromptSpec], keep=lambda spec: True) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    per_image_ok = np.ones(len(scored.groups), bool)
    asks_view = any(spec.view is not None for spec in specs)
    for attribute in ATTRIBUTES:
        if attribute == "view" and not asks_view:       # only multi-view suites say a view
            continue
        wanted = np.array([getattr(specs[g], attribute) for g in scored.groups], dtype=object)
        mask = np.array([w is not None and keep(specs[g]) for w, g in zip(wanted, scored.groups)])
        if attribute not in scored.predictions or not mask.any():
            out[attribute] = None
            continue
        correct = np.array(scored.predictions[attribute], dtype=object) == wanted
        out[attribute] = float(correct[mask].mean())
        per_image_ok &= correct | ~mask
    chosen = np.array([keep(specs[g]) for g in scored.groups])
    hits_all, n_all = int((per_image_ok & chosen).sum()), int(chosen.sum())
    out["all"] = hits_all / n_all if n_all else None
    return out


def _scores(scored: _Scored, reference: _Scored, train_features: np.ndarray, specs: list[PromptSpec],
            seed: int) -> dict:
    kid, kid_std = kernel_distance(scored.features, reference.features, seed=seed)
    styles = sorted({s.style for s in specs})
    return {
        "attribute_accuracy": _accuracy(scored, specs),
        "attribute_accuracy_by_style": {st: _accuracy(scored, specs, lambda s, st=st: s.style == st) for st in styles},
        "fd_evaluator": frechet_distance(scored.features, reference.features),
        "kid_evaluator": kid,
        "kid_evaluator_std": kid_std,
        "fd_effnet": frechet_distance(scored.effnet, reference.effnet),
        "diversity": diversity(scored.features, scored.groups),
        "sharpness": scored.sharpness,
        "memorization": memorization(scored.features, train_features, reference.features),
        "n_images": int(len(scored.groups)),
    }


def evaluate_generation(sampler: Sampler, specs: list[PromptSpec], per_prompt: int, seed: int,
                        judge: Judge, catalog: str = "fashion", log: Callable[[str], None] = print,
                        memorization_reference: int | None = None, split: str = "test") -> dict:
    """Every metric for `sampler` and, as `real_reference`, for real test images (the ceiling).
    split="val": both real halves come from the validation split (studio.eval.validate)."""
    if per_prompt < 2:
        raise ValueError(f"per_prompt must be at least 2 (diversity needs pairs), got {per_prompt}")
    started = time.time()
    # 1. the reference set (half A) and the real ceiling (half B), at the sampler's size
    reference = _draw(RealSampler(catalog, half=0, size=sampler.size, split=split), specs, per_prompt, seed, judge)
    real = _draw(RealSampler(catalog, half=1, size=sampler.size, split=split), specs, per_prompt, seed + 10**6,
                 judge)
    log(f"reference sets drawn ({time.time() - started:.0f} s)")
    # 2. training images for the memorisation check
    train = open_catalog(catalog, split="train", size=sampler.size)
    picks = reference_indices(len(train), memorization_reference or MEMORIZATION_REFERENCE)
    train_images = [train.image(int(i)) for i in picks]
    _, train_features = judge.analyse(train_images)
    # 3. the model's samples
    t_model = time.time()
    scored = _draw(sampler, specs, per_prompt, seed, judge)
    log(f"{sampler.name}: {len(scored.groups)} images scored ({time.time() - t_model:.0f} s)")
    result = _scores(scored, reference, train_features, specs, seed)
    result["real_reference"] = _scores(real, reference, train_features, specs, seed)
    result.update(model=sampler.name, per_prompt=per_prompt, seed=seed, prompts=len(specs),
                  judge=str(judge.folder), split=split, seconds=round(time.time() - started, 1))
    return result


def markdown_table(result: dict, extra: dict[str, dict] | None = None) -> str:
    """The model row, rows of other results (label -> result, e.g. baselines), and the real reference."""
    views = result["attribute_accuracy"].get("view") is not None       # a multi-view suite: a view column
    head = (f"| | category | colour | background |{' view |' if views else ''} all | fd_evaluator | "
            f"kid_evaluator | fd_effnet | diversity | sharpness | memorization (NN ratio) |\n"
            f"|---|---|---|---|{'---|' if views else ''}---|---|---|---|---|---|---|")

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}%"

    def row(name, r):
        acc = r["attribute_accuracy"]
        view = f" {pct(acc.get('view'))} |" if views else ""
        return (f"| {name} | {pct(acc['category'])} | {pct(acc['color'])} | {pct(acc['background'])} |{view} "
                f"{pct(acc['all'])} | {r['fd_evaluator']:.2f} | {r['kid_evaluator']:.4f} | {r['fd_effnet']:.2f} | "
                f"{r['diversity']:.2f} | {r.get('sharpness', float('nan')):.0f} | {r['memorization']['ratio']:.2f} |")

    others = [row(label, other) for label, other in (extra or {}).items()]
    return "\n".join([head, row(result["model"], result), *others,
                      row("real test images (ceiling)", result["real_reference"])])


def style_table(result: dict) -> str:
    """Accuracy by phrasing style (template vs free wording) as a markdown table."""
    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}%"

    lines = ["| prompts | category | colour | background |", "|---|---|---|---|"]
    lines += [f"| {style} | {pct(a['category'])} | {pct(a['color'])} | {pct(a['background'])} |"
              for style, a in result["attribute_accuracy_by_style"].items()]
    return "\n".join(lines)
