"""Training text for the generative trainers: every label combination a catalog's training images can show,
phrased several ways and encoded once; and one epoch of images with the combination each one shows.

- fashion: a combination is (category, colour, background); every visible one has `phrasings` captions,
  a `partial_share` of them leaving out the background or the colour.
- furniture: a combination is (item, background); the captions come from the item's name, Sweet Home 3D
  category and tags (captions.furniture_caption), some without the background.
- furniture-views: a combination is (item, view, background), over the backgrounds the item stands out on;
  the captions (captions.view_caption) always name the view, some leave out the background.

The GAN's matching-aware discriminator also draws mismatched captions: full captions (those that say every
attribute) of another combination.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from ..data import captions, open_catalog
from ..data.views import view_index
from ..data.vocab import BACKGROUNDS, CATEGORIES, COLORS, visible_backgrounds
from .configs import TRAINABLE_CATALOGS  # noqa: E402


class CaptionBank:
    """`combos[i]` is phrased by the captions `by_combo[i]`; tokens, mask and pooled hold their encodings."""

    def __init__(self, combos: Sequence[tuple],
                 describe: Callable[[tuple, np.random.Generator], tuple[str, bool, bool]],
                 phrasings: int, seed: int, encoder):
        """describe(combo, rng) -> (caption, whether it says every label, whether it names the background);
        every combo's last label is its background (a BACKGROUNDS name)."""
        rng = np.random.default_rng(seed)
        self.combos = list(combos)
        self.index = {combo: i for i, combo in enumerate(self.combos)}
        texts, owner, is_full, says_bg = [], [], [], []
        for i, combo in enumerate(self.combos):
            for _ in range(phrasings):
                text, full, bg = describe(combo, rng)
                texts.append(text)
                owner.append(i)
                is_full.append(full)
                says_bg.append(bg)
        self.texts, self.owner = texts, np.array(owner)
        self.full = np.array(is_full)
        self.names_background = np.array(says_bg)
        self.combo_background = np.array([list(BACKGROUNDS).index(c[-1]) for c in self.combos], dtype=np.int64)
        enc = encoder.encode(texts)
        self.tokens, self.mask, self.pooled = enc.tokens.half(), enc.mask, enc.pooled.half()
        self.by_combo = [np.flatnonzero(self.owner == i) for i in range(len(self.combos))]
        self.full_ids = np.flatnonzero(self.full)
        self.view_of = np.array([view_index(t) for t in texts], dtype=np.int64)   # the view each names (0: none)
        self.background_of = np.array([captions.background_index(t) for t in texts], dtype=np.int64)  # likewise

    @classmethod
    def for_catalog(cls, catalog: str, phrasings: int, partial_share: float, seed: int, encoder,
                    limit: int | None = None) -> CaptionBank:
        """limit: only the first `limit` training samples will be drawn (render_epoch's limit)."""
        if catalog == "fashion":
            return cls.fashion(phrasings, partial_share, seed, encoder)
        if catalog == "furniture":
            return cls.furniture(phrasings, seed, encoder, limit)
        if catalog == "furniture-views":
            return cls.furniture_views(phrasings, partial_share, seed, encoder, limit)
        raise ValueError(f"the generative trainers know the catalogs {', '.join(TRAINABLE_CATALOGS)}, "
                         f"not {catalog!r}")

    @classmethod
    def fashion(cls, phrasings: int, partial_share: float, seed: int, encoder) -> CaptionBank:
        full = [t for t in captions.TEMPLATES if captions.mentions_color(t) and captions.mentions_background(t)]

        def describe(combo, rng):
            cat, col, bg = combo
            labels = {"category": cat, "color": col, "background": bg}
            partial = rng.random() < partial_share
            if partial:
                labels["background" if rng.random() < 0.6 else "color"] = None
            caption = captions.caption(labels, rng, full if not partial else captions.TEMPLATES)
            return caption.text, not partial, "background" in caption.mentions

        combos = [(c, k, b) for c in CATEGORIES for k in COLORS for b in visible_backgrounds(k)]
        return cls(combos, describe, phrasings, seed, encoder)

    @classmethod
    def furniture(cls, phrasings: int, seed: int, encoder, limit: int | None = None) -> CaptionBank:
        catalog = open_catalog("furniture", split="train", size=32)
        items = {item.key: item for item in catalog.items[:limit]}

        def describe(combo, rng):
            item = items[combo[0]]
            caption = captions.furniture_caption(item.name, item.category, item.tags, combo[1], rng)
            return caption.text, "background" in caption.mentions, "background" in caption.mentions

        return cls([(key, bg) for key in items for bg in BACKGROUNDS], describe, phrasings, seed, encoder)

    @classmethod
    def furniture_views(cls, phrasings: int, partial_share: float, seed: int, encoder,
                        limit: int | None = None) -> CaptionBank:
        """limit: the first `limit` samples (item-major: limit // 17 items, rounded up)."""
        from ..data.multiview import backgrounds_for
        from ..data.views import LABELS

        catalog = open_catalog("furniture-views", split="train", size=64)
        n_items = len(catalog.items) if limit is None else min(len(catalog.items), -(-limit // len(catalog.views)))
        items = {}
        for i in range(n_items):
            first = catalog.label(i * len(catalog.views))
            items[catalog.items[i].key] = (catalog.items[i].name, first["category"], first["color"])

        def describe(combo, rng):
            name, item_class, color = items[combo[0]]
            background = None if rng.random() < partial_share else combo[2]
            caption = captions.view_caption(name, item_class, color, combo[1], background, rng)
            return caption.text, "background" in caption.mentions, "background" in caption.mentions

        combos = [(key, view, bg) for key, (_, _, color) in items.items() for view in LABELS
                  for bg in backgrounds_for(color)]
        return cls(combos, describe, phrasings, seed, encoder)

    def combo_of(self, catalog, index: int) -> int:
        """The combination sample `index` of a training catalog shows."""
        labels = catalog.label(index)
        if catalog.name == "furniture":
            return self.index[(catalog.items[index].key, labels["background"])]
        if catalog.name == "furniture-views":
            item = catalog.items[index // len(catalog.views)].key
            return self.index[(item, labels["view"], labels["background"])]
        return self.index[(labels["category"], labels["color"], labels["background"])]

    def batch(self, ids: np.ndarray, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ids_t = torch.from_numpy(ids)
        length = int(self.mask[ids_t].sum(1).max())
        return (self.tokens[ids_t, :length].float().to(device), self.mask[ids_t, :length].to(device),
                self.pooled[ids_t].float().to(device))

    def views(self, ids: np.ndarray, device) -> torch.Tensor:
        """The view each caption names (studio.data.views.view_index), for a VAE with a view embedding."""
        return torch.from_numpy(self.view_of[ids]).to(device)

    def labels(self, ids: np.ndarray, device) -> dict[str, torch.Tensor]:
        """The view and the backdrop each caption names, read from its text as a prompt is read (0: none),
        for a diffusion network with label embeddings (studio.models.diffusion.TextUNet.with_labels)."""
        return {"view": self.views(ids, device), "background": torch.from_numpy(self.background_of[ids]).to(device)}

    def backgrounds(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For captions `ids`: the index in BACKGROUNDS of the backdrop each one's combination shows, and
        whether the caption names it (a caption that leaves it out asks for none)."""
        return self.combo_background[self.owner[ids]], self.names_background[ids]

    def positives(self, combos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.array([self.by_combo[c][rng.integers(len(self.by_combo[c]))] for c in combos])

    def mismatches(self, combos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Full captions of a different label combination (differs in at least one attribute)."""
        out = self.full_ids[rng.integers(len(self.full_ids), size=len(combos))]
        clash = self.owner[out] == combos
        while clash.any():
            out[clash] = self.full_ids[rng.integers(len(self.full_ids), size=int(clash.sum()))]
            clash = self.owner[out] == combos
        return out


def render_epoch(catalog_name: str, size: int, epoch: int, limit: int | None, bank: CaptionBank,
                 min_images: int = 4096, partners: bool = False) -> tuple[np.ndarray, ...]:
    """uint8 images (N, size, size, 3) and their combination ids, colourways / backgrounds drawn for
    `epoch`. A catalog smaller than `min_images` (furniture: ~740 items) is drawn several times with
    successive seeds, so an epoch is never only a handful of batches. partners (the multi-view catalog):
    a third array, for each image another view of the same product (on its own background)."""
    images, combos, others, draw = [], [], [], 0
    while draw == 0 or sum(map(len, images)) < min_images:
        catalog = open_catalog(catalog_name, split="train", size=size, seed=epoch + 10_000 * draw)
        n = len(catalog) if limit is None else min(limit, len(catalog))
        rng = np.random.default_rng(epoch + 10_000 * draw)
        order = rng.permutation(n)                                              # the first n: what the bank knows
        images.append(np.stack([np.asarray(catalog.image(int(i))) for i in order]))
        combos.append(np.array([bank.combo_of(catalog, int(i)) for i in order]))
        if partners:
            others.append(np.stack([np.asarray(catalog.image(j)) for j in _other_views(catalog, order, n, rng)]))
        draw += 1
        if limit is not None:
            break
    arrays = (np.concatenate(images), np.concatenate(combos))
    return arrays + (np.concatenate(others),) if partners else arrays


def _other_views(catalog, order: np.ndarray, n: int, rng: np.random.Generator) -> list[int]:
    """For each sample in `order`, another view of its product (among the first n samples when limited)."""
    views = len(getattr(catalog, "views", ()))
    if views < 2:
        raise ValueError(f"{catalog.name} has one view per product: no other view to train across")
    out = []
    for i in order:
        item, view = divmod(int(i), views)
        choices = [item * views + v for v in range(views) if v != view and item * views + v < n]
        out.append(int(choices[rng.integers(len(choices))]) if choices else int(i))
    return out


def to_unit(images: torch.Tensor, device) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> float (B, 3, H, W) in [-1, 1] on `device`."""
    return images.to(device).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def masked_training_set(cfg, log_line) -> tuple:
    """(CaptionBank, mask pool, EpochData): what the trainers that also learn to inpaint (VAE, diffusion)
    prepare once, the same on every process: the caption bank, a pool of LaMa-style masks (thin, medium
    and thick in turn) and the epoch-redrawn training images. `cfg` has catalog, size, limit, seed,
    phrasings, partial_share, text_cache and mask_pool."""
    from ..eval.masks import MASK_RECIPES, random_mask
    from ..text import TextEncoder
    from .common import EpochData

    bank = CaptionBank.for_catalog(cfg.catalog, cfg.phrasings, cfg.partial_share, cfg.seed,
                                   TextEncoder(cache_dir=cfg.text_cache), cfg.limit)
    kinds, masks_rng = list(MASK_RECIPES), np.random.default_rng(cfg.seed)
    pool = np.stack([random_mask(kinds[i % len(kinds)], cfg.size, masks_rng) for i in range(cfg.mask_pool)])
    across = getattr(cfg, "cross_view_share", 0) > 0 and cfg.catalog == "furniture-views"
    data = EpochData(lambda epoch: render_epoch(cfg.catalog, cfg.size, epoch, cfg.limit, bank, partners=across))
    log_line(f"caption bank: {len(bank.texts)} captions; {len(pool)} masks; {len(data)} images per epoch")
    return bank, pool, data


def hole_batch(pool: np.ndarray, n: int, share: float, rng: np.random.Generator, rest: float) -> torch.Tensor:
    """(n, 1, H, W) holes (1 = to fill): a pool mask for a `share` of the rows, `rest` everywhere in the
    others (0: nothing missing, the VAE's whole images; 1: everything to generate, diffusion's text-to-image)."""
    holes = np.full((n, 1, pool.shape[1], pool.shape[2]), rest, np.float32)
    masked = rng.random(n) < share
    holes[masked, 0] = pool[rng.integers(len(pool), size=int(masked.sum()))]
    return torch.from_numpy(holes)
