"""Caption banks and training epochs for both trainable catalogs; the furniture prompt suite and reference."""

import numpy as np
import pytest
import torch
from conftest import needs_fashion, needs_furniture

from studio.data import captions, open_catalog
from studio.data.vocab import BACKGROUNDS, hex_to_rgb, visible_backgrounds
from studio.eval.generate import RealSampler
from studio.eval.prompts import PromptSpec, build_furniture_suite
from studio.text import TextEncoder, TextEncoding
from studio.train.bank import CaptionBank, render_epoch


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return TextEncoder(cache_dir=tmp_path_factory.mktemp("text-cache"))


@needs_furniture
def test_furniture_bank_and_epoch_agree(encoder):
    bank = CaptionBank.for_catalog("furniture", phrasings=2, partial_share=0.15, seed=0, encoder=encoder, limit=3)
    assert len(bank.combos) == 3 * len(BACKGROUNDS) and len(bank.texts) == 2 * len(bank.combos)
    assert bank.tokens.shape[0] == len(bank.texts) and bank.by_combo[0].tolist() == [0, 1]
    catalog = open_catalog("furniture", split="train", size=32)
    for text, owner, full in zip(bank.texts, bank.owner, bank.full):
        key, background = bank.combos[owner]
        item = next(it for it in catalog.items if it.key == key)
        assert item.name.lower() in text.lower()
        said = {b for b, words in captions.BACKGROUND_WORDS.items() if any(w in text for w in words)}
        assert (background in said) == bool(full), text          # full captions name the background
    shown, named = bank.backgrounds(np.arange(len(bank.texts)))
    assert [list(BACKGROUNDS)[i] for i in shown] == [bank.combos[o][1] for o in bank.owner]
    assert named.tolist() == bank.full.tolist()                    # a furniture caption is full when it names it
    images, combos = render_epoch("furniture", 16, 0, 3, bank)
    assert images.shape == (3, 16, 16, 3) and images.dtype == np.uint8
    for image, combo in zip(images, combos):                      # each image is the item its combo says
        key, background = bank.combos[combo]
        index = next(i for i, it in enumerate(catalog.items) if it.key == key)
        expected = np.asarray(open_catalog("furniture", split="train", size=16).render(index, background))
        assert np.array_equal(image, expected)
    mismatched = bank.mismatches(combos, np.random.default_rng(0))
    assert (bank.owner[mismatched] != combos).all() and bank.full[mismatched].all()


class ZeroEncoder:
    """Stands in for MiniLM where only the captions' bookkeeping matters, not their encodings."""

    def encode(self, texts):
        return TextEncoding(tuple(texts), torch.zeros(len(texts), 384), torch.zeros(len(texts), 2, 384),
                            torch.ones(len(texts), 2, dtype=torch.bool))


@needs_furniture
def test_small_catalogs_are_drawn_several_times_per_epoch():
    bank = CaptionBank.for_catalog("furniture", phrasings=1, partial_share=0, seed=0, encoder=ZeroEncoder())
    _, combos = render_epoch("furniture", 16, 0, None, bank, min_images=1000)
    items = len(open_catalog("furniture", split="train", size=16))
    assert len(combos) == 2 * items                                 # ~740 items: two draws reach 1,000
    assert len(set(combos.tolist())) > items                        # with different backgrounds


@needs_fashion
def test_fashion_bank_covers_every_visible_colourway(encoder):
    bank = CaptionBank.for_catalog("fashion", phrasings=1, partial_share=0.0, seed=0, encoder=encoder)
    assert all(b in visible_backgrounds(k) for _, k, b in bank.combos) and bank.full.all()
    partial = CaptionBank.for_catalog("fashion", phrasings=2, partial_share=0.5, seed=0, encoder=ZeroEncoder())
    shown, named = partial.backgrounds(np.arange(len(partial.texts)))
    assert 0 < named.mean() < 1 and partial.full.any() and named[partial.full].all()
    for i in np.flatnonzero(~named)[:50]:                           # a caption that leaves it out names no backdrop
        said = {b for b, words in captions.BACKGROUND_WORDS.items() if any(f"{w} background" in partial.texts[i]
                                                                            or f"{w} backdrop" in partial.texts[i]
                                                                            for w in words)}
        assert not said, partial.texts[i]
    assert [list(BACKGROUNDS)[i] for i in shown] == [partial.combos[o][2] for o in partial.owner]
    _, combos = render_epoch("fashion", 16, 0, 8, bank)
    catalog = open_catalog("fashion", split="train", size=16, seed=0)
    shown = sorted(bank.combos[c] for c in combos)                 # the first 8 images, shuffled
    assert shown == sorted(tuple(catalog.label(i)[a] for a in ("category", "color", "background")) for i in range(8))
    with pytest.raises(ValueError, match="not 'shoes'"):
        CaptionBank.for_catalog("shoes", 1, 0.0, 0, encoder)


@needs_furniture
def test_furniture_suite_and_real_reference():
    specs = build_furniture_suite(per_item=2, seed=0)
    test_items = open_catalog("furniture", split="test", size=32).items
    assert len(specs) == 2 * len(test_items) and specs == build_furniture_suite(per_item=2, seed=0)
    train_names = {it.name for it in open_catalog("furniture", split="train", size=32).items}
    assert sum(it.name not in train_names for it in test_items) > len(test_items) / 2
    for spec in specs:
        assert spec.catalog == "furniture" and spec.color is None and spec.category
        assert spec.background is None or spec.background in BACKGROUNDS
    real = RealSampler("furniture", half=0, size=32)
    spec = PromptSpec("a lamp on a black background", "furniture", specs[0].category, None, "black")
    images = real.sample(spec, 3, seed=1)
    corner = np.asarray(images[0])[0, 0]
    assert len(images) == 3 and images[0].size == (32, 32)
    assert np.abs(corner.astype(int) - np.array(hex_to_rgb(BACKGROUNDS["black"]))).max() <= 2
