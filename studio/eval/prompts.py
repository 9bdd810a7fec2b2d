"""Prompt suites: JSONL, one prompt with its labels per line.

    {"prompt": "crimson trainers on a cream backdrop", "catalog": "fashion", "category": "sneaker",
     "color": "red", "background": "cream", "style": "free"}

`color` / `background` are null when the prompt does not say; `view` (studio.data.views.LABELS) is set by
the multi-view furniture suite and absent elsewhere. `style` is "template" when the prompt was
phrased by the training-caption templates and "free" when it uses phrasings those templates never use,
so models can be scored separately on wording they have not seen.

    python -m studio eval prompts --out studio/eval/prompts/fashion-visible.jsonl    # regenerate
    python -m studio eval prompts --catalog furniture --out studio/eval/prompts/furniture-test.jsonl
    python -m studio eval prompts --catalog furniture-views --out studio/eval/prompts/furniture-views-test.jsonl
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..data import captions
from ..data.views import LABELS
from ..data.vocab import BACKGROUNDS, CATEGORIES, COLORS, visible_backgrounds

SUITE_DIR = Path(__file__).parent / "prompts"
FASHION_VISIBLE = SUITE_DIR / "fashion-visible.jsonl"
FURNITURE_TEST = SUITE_DIR / "furniture-test.jsonl"
FURNITURE_VIEWS_TEST = SUITE_DIR / "furniture-views-test.jsonl"

# Phrasings no caption template uses: other sentence shapes and other words for the same labels.
FREE_TEMPLATES: tuple[str, ...] = (
    "{color} coloured {noun} with {a_bg} background",
    "I need {a_product} photographed on {bg}",
    "{noun}, {color}, {bg} backdrop",
    "show me {a_product} against {bg}",
    "minimalist listing photo: {color} {noun}, {bg} backdrop",
    "{a_product} shot on {a_bg} background",
    "a {color} {noun} for my shop",
    "{noun} colour {color}",
    "a {noun} for my shop on {a_bg} background",
)
FREE_COLOR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("coal black", "black"), "white": ("pure white", "white"), "gray": ("heather grey", "grey"),
    "red": ("fire-engine red", "ruby red"), "orange": ("vivid orange", "orange"),
    "yellow": ("canary yellow", "mustard yellow"), "green": ("grass green", "green"),
    "teal": ("deep teal", "teal"), "blue": ("azure blue", "sapphire blue"), "navy": ("navy", "dark navy"),
    "purple": ("deep purple", "lilac purple"), "pink": ("candy pink", "flamingo pink"),
    "brown": ("coffee brown", "walnut brown"), "beige": ("light beige", "stone beige"),
}
FREE_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "tshirt": ("tshirt", "basic tee"), "trouser": ("chinos", "pair of pants"), "pullover": ("knitwear top", "sweatshirt"),
    "dress": ("summer dress", "day dress"), "coat": ("parka", "trench coat"), "sandal": ("heeled sandal", "slingback sandal"),
    "shirt": ("dress shirt", "oxford shirt"), "sneaker": ("kicks", "low-top sneaker"), "bag": ("satchel", "carryall bag"),
    "ankle_boot": ("booties", "heeled ankle boot"),
}


@dataclass(frozen=True)
class PromptSpec:
    prompt: str
    catalog: str
    category: str | None
    color: str | None
    background: str | None
    style: str = "template"
    view: str | None = None

    def labels(self) -> dict[str, str | None]:
        out = {"category": self.category, "color": self.color, "background": self.background}
        return out if self.view is None else {**out, "view": self.view}


def load_prompts(path: str | Path) -> list[PromptSpec]:
    """Read a suite; a bad line raises ValueError with its line number. A path that does not exist but
    names a shipped suite (`eval/prompts/fashion-visible.jsonl`, `fashion-visible`) reads that one."""
    path = Path(path)
    if not path.is_file():
        shipped = SUITE_DIR / (path.name if path.suffix == ".jsonl" else f"{path.name}.jsonl")
        if not shipped.is_file():
            raise ValueError(f"prompt suite {path} does not exist (shipped suites: "
                             f"{', '.join(p.stem for p in sorted(SUITE_DIR.glob('*.jsonl')))})")
        path = shipped
    specs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            spec = PromptSpec(prompt=record["prompt"], catalog=record.get("catalog", "fashion"),
                              category=record.get("category"), color=record.get("color"),
                              background=record.get("background"), style=record.get("style", "template"),
                              view=record.get("view"))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a prompt record ({exc})") from None
        if not isinstance(spec.prompt, str) or not spec.prompt.strip():
            raise ValueError(f"{path}:{number}: empty prompt")
        if spec.view is not None and spec.view not in LABELS:
            raise ValueError(f"{path}:{number}: unknown view {spec.view!r}; known: {', '.join(LABELS)}")
        if spec.catalog == "fashion":
            for key, vocab in (("category", CATEGORIES), ("color", COLORS), ("background", BACKGROUNDS)):
                value = getattr(spec, key)
                if value is not None and value not in vocab:
                    raise ValueError(f"{path}:{number}: unknown {key} {value!r}")
        specs.append(spec)
    if not specs:
        raise ValueError(f"prompt suite {path} is empty")
    return specs


def _fitting(templates: tuple[str, ...], labels: dict) -> list[str]:
    """Templates that state exactly the labels that are not None."""
    return [t for t in templates if captions.mentions_color(t) == (labels["color"] is not None)
            and captions.mentions_background(t) == (labels["background"] is not None)]


def _free_prompt(labels: dict, rng: np.random.Generator) -> str:
    options = _fitting(FREE_TEMPLATES, labels)
    template = options[int(rng.integers(len(options)))]
    noun = FREE_CATEGORY_WORDS[labels["category"]][int(rng.integers(2))]
    color = FREE_COLOR_WORDS[labels["color"]][int(rng.integers(2))] if labels["color"] else ""
    bg = captions.BACKGROUND_WORDS[labels["background"]][int(rng.integers(4))] if labels["background"] else ""
    plural = noun in ("chinos", "kicks", "booties")
    article = lambda p: ("an " if p[0] in "aeiou" else "a ") + p  # noqa: E731
    product = f"{color} {noun}"
    return template.format(noun=noun, color=color, bg=bg, a_bg=article(bg) if bg else "",
                           product=product, a_product=product if plural else article(product))


def build_fashion_suite(n: int = 240, free_share: float = 0.4, seed: int = 0) -> list[PromptSpec]:
    """A balanced suite of visible colourways: every category, colour and background appears; about
    free_share of prompts use free phrasings; 10% omit the background and 5% the colour."""
    rng = np.random.default_rng(seed)
    triples = [(cat, col, bg) for cat in CATEGORIES for col in COLORS for bg in visible_backgrounds(col)]
    order = rng.permutation(len(triples))
    # Cycle categories and colours so each appears about n/10 and n/14 times.
    chosen, used = [], set()
    for i in range(n):
        want_cat, want_col = CATEGORIES[i % len(CATEGORIES)], tuple(COLORS)[(i * 3) % len(COLORS)]
        options = [triples[j] for j in order if triples[j][0] == want_cat and triples[j][1] == want_col
                   and triples[j] not in used]
        triple = options[0] if options else triples[order[i % len(order)]]
        used.add(triple)
        chosen.append(triple)
    specs = []
    for category, color, background in chosen:
        labels = {"category": category, "color": color, "background": background}
        omit = rng.random()
        if omit < 0.10:
            labels["background"] = None
        elif omit < 0.15:
            labels["color"] = None
        if rng.random() < free_share:
            text, style = _free_prompt(labels, rng), "free"
        else:
            text, style = captions.caption(labels, rng, _fitting(captions.TEMPLATES, labels)).text, "template"
        specs.append(PromptSpec(text, "fashion", style=style, **labels))
    return specs


def build_furniture_suite(per_item: int = 2, seed: int = 0) -> list[PromptSpec]:
    """Captions of the furniture test items (products no model trained on), each on a background its render
    stands out on: `per_item` prompts per item, labelled with its category and that background (null when
    the caption does not say it). Style "template": the caption templates phrase them."""
    from ..data import open_catalog

    catalog = open_catalog("furniture", split="test", size=32, seed=seed)
    rng = np.random.default_rng(seed)
    specs = []
    for draw in range(per_item):
        shifted = open_catalog("furniture", split="test", size=32, seed=seed + draw)
        for i, item in enumerate(catalog.items):
            background = shifted.label(i)["background"]
            caption = captions.furniture_caption(item.name, item.category, item.tags, background, rng)
            specs.append(PromptSpec(caption.text, "furniture", item.category, None,
                                    background if "background" in caption.mentions else None))
    return specs


def build_views_suite(per_item: int = 2, partial_share: float = 0.15, seed: int = 0,
                      split: str = "test") -> list[PromptSpec]:
    """Captions of the multi-view catalog's test items (products no model trained on), each asking for a
    view: `per_item` prompts per item on different views drawn at random, on a background the item stands
    out on (left unsaid in a `partial_share` of them, and by the templates that do not name one). Labels: the
    item's class, the view, and the background and colour only where the caption says them (a generator
    cannot be scored on a backdrop it was not asked for). Style "template": the caption templates phrase them.
    split "train": the same for the training items, for diagnostics of fit (never a test of a model)."""
    from ..data import open_catalog
    from ..data.multiview import backgrounds_for

    catalog = open_catalog("furniture-views", split=split, size=64)
    rng = np.random.default_rng(seed)
    specs = []
    for i, item in enumerate(catalog.items):
        labels = catalog.label(i * len(catalog.views))
        for view in rng.choice(len(LABELS), size=min(per_item, len(LABELS)), replace=False):
            options = backgrounds_for(labels["color"])
            background = None if rng.random() < partial_share else options[int(rng.integers(len(options)))]
            caption = captions.view_caption(item.name, labels["category"], labels["color"], LABELS[view],
                                            background, rng)
            said = caption.mentions
            specs.append(PromptSpec(caption.text, "furniture-views", labels["category"],
                                    labels["color"] if "color" in said else None,
                                    background if "background" in said else None, view=LABELS[view]))
    return specs


def write_prompts(specs: list[PromptSpec], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: v for k, v in asdict(s).items() if k != "view" or v is not None} for s in specs]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
