"""The multi-view furniture catalog: views and their words, the item taxonomy, and a catalog built from a
library generated here (boxes with known colours) so the split, labels and captions are checked without
Debian's package; the real libraries are checked when installed."""

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import CUBE_FRONT, CUBE_REST, CUBE_VERTICES, FURNITURE_ROOT, needs_furniture, png_bytes
from studio.data import captions
from studio.data.furniture import is_test_item, read_library
from studio.data.taxonomy import CLASSES, OTHER, item_class
from studio.data.views import LABELS, VIEW_WORDS, VIEWS, parse_view, view_label

BOX = "mtllib box.mtl\n" + CUBE_VERTICES + "usemtl body\n" + CUBE_FRONT + CUBE_REST
NAMES = ["Sofa", "Oak table", "Desk lamp", "Armchair", "Bookcase", "Wardrobe", "Double bed", "Chair", "Fridge",
         "Door", "Window", "Plant", "Cup", "Wall switch", "Scooter", "Washbasin", "TV", "Teddy bear"]
COLOURS = {"red": (0.78, 0.13, 0.16), "blue": (0.16, 0.38, 0.88), "green": (0.18, 0.56, 0.23)}


def test_every_view_has_a_label_and_every_phrase_reads_back():
    assert len(VIEWS) >= 16 and {view_label(a, e) for a, e in VIEWS} == set(LABELS)
    assert view_label(0, 15) == "front" and view_label(90, 15) == "side" and view_label(270, 35) == "side"
    assert view_label(180, 15) == "back" and view_label(45, 15) == view_label(315, 35) == "three-quarter"
    assert view_label(135, 15) == "rear three-quarter" and view_label(0, 75) == "top"
    for label, words in VIEW_WORDS.items():
        for phrase in words:
            assert parse_view(f"a grey sofa, {phrase}, on white") == label, phrase
    assert parse_view("a grey sofa on white") is None
    assert parse_view("a sofa, rear three-quarter view") == "rear three-quarter"


def test_more_english_view_phrasings_are_read_and_never_captioned():
    """Merchants' own phrasings ("viewed from above", "top-down", "from the left") are read, a verb before a
    view phrase goes with it, and none of them is ever written into a caption (VIEW_WORDS stay the captions')."""
    from studio.data.views import VIEW_WORDS_READ, with_view, without_view

    for label, words in VIEW_WORDS_READ.items():
        for phrase in words:
            assert parse_view(f"a grey sofa, {phrase}, on white") == label, phrase
            assert phrase not in VIEW_WORDS[label]
    assert parse_view("a blue office chair seen from behind") == "back"
    assert without_view("a blue office chair seen from behind") == "a blue office chair"
    assert without_view("chair viewed from above, white background") == "chair, white background"
    assert parse_view("a chair seen from behind at an angle") == "rear three-quarter"       # the longest wins
    assert without_view("a bed at a 45 degree angle") == "a bed"
    assert with_view("chair viewed from above", "side") == "chair seen from the side"
    assert parse_view("overhead shot of a table") == "top" and parse_view("overhead lamp on white") is None


def test_chinese_view_phrasings_are_read_and_bare_ones_only_as_a_clause():
    """Listing words (侧面图, 俯视图), "from the X" forms (从侧面看, 从后面看) and shot words (俯拍, 侧拍) are read; a
    bare 背面 glued to a noun names a part of the product (背面印花), not a view."""
    from studio.data.views import ZH_VIEW_WORDS, without_view

    for label, words in ZH_VIEW_WORDS.items():
        for phrase in words:
            assert parse_view(f"灰色沙发，{phrase}，白色背景") == label, phrase
    assert parse_view("从侧面看的灰色沙发") == "side" and without_view("从侧面看的灰色沙发") == "的灰色沙发"
    assert parse_view("俯拍的木桌") == "top" and parse_view("从后面看的白色椅子") == "back"
    assert parse_view("背面印花T恤") is None and parse_view("灰色沙发背面") is None


def test_view_captions_say_their_labels():
    rng = np.random.default_rng(0)
    for n in range(200):
        view = LABELS[n % len(LABELS)]
        made = captions.view_caption("Corner sofa", "sofa", "teal", view, "cream" if n % 3 else None, rng)
        assert parse_view(made.text) == view, made.text
        parsed = captions.parse(made.text)
        if "color" in made.mentions:
            assert parsed.get("color") == "teal", made.text
        if "background" in made.mentions:
            assert parsed.get("background") == "cream", made.text
        assert ("sofa" in made.text) == ("category" in made.mentions) or "corner sofa" in made.text


def test_the_taxonomy_files_names_by_what_they_are():
    assert len(CLASSES) >= 12 and CLASSES[-1] == OTHER
    cases = {"Glass door cabinet": "cabinet", "Desk lamp": "lamp", "Bedside table": "table", "Armchair":
             "armchair", "Corner sofa": "sofa", "Bunk bed": "bed", "Bar stool": "chair", "Table fan": "appliance",
             "Pool table": OTHER, "Wall double socket": "electrical fitting", "Coffee mug": "tableware",
             "Teddy bear": OTHER, "Sliding window": "window", "Garage door": "door", "Upright piano": OTHER,
             "Indoor bike": OTHER, "Cup cake": OTHER}
    for name, expected in cases.items():
        assert item_class(name) == expected, name
    assert item_class("Thing", ("Seat",)) == "chair"                 # the tags when the name says nothing
    assert item_class("Birthday cake", ("Food", "Candles")) == OTHER  # a name the rules know beats the tags
    assert item_class("Helmet", ("Motorbike",)) == OTHER


@needs_furniture
def test_the_taxonomy_covers_every_real_item_with_enough_items_per_class():
    from studio.data.multiview import library_items

    items = library_items(FURNITURE_ROOT)
    counts = {c: 0 for c in CLASSES}
    for it in items:
        counts[item_class(it.name, it.tags)] += 1
    assert sum(counts.values()) == len(items) > 700
    assert all(counts[c] >= 12 for c in CLASSES), counts           # every class can be learned and tested


def _library(root, n: int = 60):
    """A .sh3f with n boxes named after furniture, each one colour, each with an icon and a model."""
    lines = ["id=Gen#Library", "name=Generated", "license=CC0 public domain"]
    with zipfile.ZipFile(root / "Gen.sh3f", "w") as z:
        for i in range(n):
            colour = list(COLOURS)[i % 3]
            lines += [f"id#{i}=Gen#{i}", f"name#{i}={NAMES[i % len(NAMES)]}", f"category#{i}=Living room",
                      f"icon#{i}=/gen/{i}.png", f"model#{i}=/gen/{i}/box.obj", f"creator#{i}=Gen"]
            z.writestr(f"gen/{i}.png", png_bytes(Image.new("RGBA", (8, 8), (255, 0, 0, 255))))
            z.writestr(f"gen/{i}/box.obj", BOX)
            r, g, b = COLOURS[colour]
            z.writestr(f"gen/{i}/box.mtl", f"newmtl body\nKd {r} {g} {b}\n")
        z.writestr("PluginFurnitureCatalog.properties", "\n".join(lines))
    return root


@pytest.fixture(scope="module")
def views_cache(tmp_path_factory):
    pytest.importorskip("moderngl")
    from studio.data import render
    from studio.data.multiview import build_views

    try:
        render.Renderer().close()
    except render.RenderUnavailable as exc:
        pytest.skip(str(exc))
    root = _library(tmp_path_factory.mktemp("lib"))
    cache = tmp_path_factory.mktemp("views")
    index = build_views(64, root=root, cache=cache, workers=1)
    return root, cache, index


def test_the_catalog_splits_by_item_and_labels_every_view(views_cache):
    from studio.data.multiview import FurnitureViewsCatalog, build_views

    root, cache, index = views_cache
    mtime = index.stat().st_mtime_ns
    assert build_views(64, root=root, cache=cache, workers=1).stat().st_mtime_ns == mtime    # current: kept
    train, test = (FurnitureViewsCatalog(s, root=root, cache=cache) for s in ("train", "test"))
    train_keys, test_keys = {it.key for it in train.items}, {it.key for it in test.items}
    assert train_keys and test_keys and not train_keys & test_keys
    assert len(train_keys | test_keys) == 60 and all(is_test_item(k) for k in test_keys)
    assert len(train) == len(train.items) * len(VIEWS)
    for index_ in range(0, len(test), 5):
        sample = test.sample(index_)
        item, view = divmod(index_, len(VIEWS))
        assert sample.key.startswith(f"furniture-views/test/{test.items[item].key}/")       # never a train item
        assert sample.labels["view"] == view_label(*VIEWS[view]) == parse_view(sample.caption)
        assert sample.labels["category"] == item_class(test.items[item].name)
        assert sample.image.size == (64, 64) and sample.image.mode == "RGB"
    colours = {train.items[i].key: train.label(i * len(VIEWS))["color"] for i in range(len(train.items))}
    for key, colour in colours.items():                             # the box's own colour, found again
        assert colour == list(COLOURS)[int(key.split("#")[1]) % 3], (key, colour)
    alpha = np.asarray(train.rgba(0))[..., 3]
    assert alpha[0, 0] == 0 and alpha[32, 32] == 255


def test_a_missing_cache_says_how_to_build_it(tmp_path, views_cache):
    from studio.data.base import CatalogError
    from studio.data.multiview import FurnitureViewsCatalog

    root, _, _ = views_cache
    with pytest.raises(CatalogError, match="python -m studio data render --size 64"):
        FurnitureViewsCatalog("train", root=root, cache=tmp_path / "empty")
    stale = tmp_path / "stale"
    stale.mkdir()
    for name in ("views-64.npy", "views-64.json"):
        (stale / name).write_bytes((views_cache[1] / name).read_bytes())
    index = json.loads((stale / "views-64.json").read_text())
    (stale / "views-64.json").write_text(json.dumps({**index, "fingerprint": "0" * 16}))
    with pytest.raises(CatalogError, match="out of date"):
        FurnitureViewsCatalog("train", root=root, cache=stale)


@needs_furniture
def test_items_carry_their_models():
    items = read_library(sorted(FURNITURE_ROOT.glob("*.sh3f"))[0])
    assert all(it.model.endswith(".obj") for it in items)
    with zipfile.ZipFile(items[0].archive) as z:
        assert items[0].model in z.namelist()


def test_the_views_caption_bank_names_each_view_and_matches_the_epoch(views_cache, monkeypatch, tmp_path):
    from studio.data.multiview import FurnitureViewsCatalog, backgrounds_for
    from studio.text import TextEncoder
    from studio.train.bank import CaptionBank, render_epoch

    root, cache, _ = views_cache
    monkeypatch.setattr("studio.data.multiview.DEFAULT_ROOT", root)
    monkeypatch.setattr("studio.data.multiview.DEFAULT_CACHE", cache)
    catalog = FurnitureViewsCatalog("train", root=root, cache=cache)
    limit = 2 * len(VIEWS)                                      # the first two items, every view
    bank = CaptionBank.for_catalog("furniture-views", phrasings=2, partial_share=0.3, seed=0,
                                   encoder=TextEncoder(cache_dir=tmp_path), limit=limit)
    colours = [catalog.label(i * len(VIEWS))["color"] for i in range(2)]
    assert len(bank.combos) == sum(len(LABELS) * len(backgrounds_for(c)) for c in colours)
    assert len(bank.texts) == 2 * len(bank.combos)
    for text, owner, full in zip(bank.texts, bank.owner, bank.full):
        key, view, background = bank.combos[owner]
        assert parse_view(text) == view, text                   # every caption says its view
        said = {b for b, words in captions.BACKGROUND_WORDS.items() if any(w in text for w in words)}
        assert (background in said) == bool(full), text
    assert not bank.full.all() and bank.full.any()              # some leave the background out
    assert [LABELS[v - 1] for v in bank.views(np.arange(len(bank.texts)), "cpu").tolist()] == \
        [bank.combos[o][1] for o in bank.owner]                 # ... and its view number says the same
    images, combos = render_epoch("furniture-views", 64, 0, limit, bank)
    assert images.shape == (limit, 64, 64, 3)
    shown = {(bank.combos[c][0], bank.combos[c][1]) for c in combos}
    assert shown == {(catalog.items[i // len(VIEWS)].key, view_label(*VIEWS[i % len(VIEWS)])) for i in range(limit)}
    for image, combo in zip(images[:6], combos[:6]):             # the image is the combination's render
        key, view, background = bank.combos[combo]
        matches = [i for i in range(limit) if catalog.items[i // len(VIEWS)].key == key
                   and view_label(*VIEWS[i % len(VIEWS)]) == view]
        assert any(np.array_equal(image, np.asarray(catalog.render(i, background))) for i in matches)


class _RealStrips:
    """A stand-in generator for `eval views`: each strip is real renders of one test item (or, `mixed`, each
    view from a different item), from the views asked, on one background."""

    name, size, output_size = "real-strips", 64, 64

    def __init__(self, catalog, mixed: bool = False):
        self.catalog, self.mixed = catalog, mixed

    def other_angles(self, prompt, seed, index=0, num_images=4, views=LABELS):
        from studio.eval.views import view_indices

        items = len(self.catalog.items)
        chosen = [(seed + index + (k if self.mixed else 0)) % items for k in range(len(views))]
        images = [self.catalog.render(item * len(VIEWS) + camera, "white")
                  for item, camera in zip(chosen, view_indices(views))]
        return type("Out", (), {"images": images})()


def test_eval_views_scores_view_accuracy_and_one_product_per_strip(views_cache, monkeypatch, tmp_path):
    import torch

    from studio.data.multiview import FurnitureViewsCatalog
    from studio.eval.judge import Judge
    from studio.eval.prompts import PromptSpec
    from studio.eval.views import evaluate_views
    from studio.models import AttributeEvaluator

    root, cache, _ = views_cache
    monkeypatch.setattr("studio.data.multiview.DEFAULT_ROOT", root)
    monkeypatch.setattr("studio.data.multiview.DEFAULT_CACHE", cache)
    torch.manual_seed(0)
    AttributeEvaluator(head_sizes=(("category", 3), ("view", len(LABELS))), labels=(("a", "b", "c"), LABELS),
                       size=32, width=8).save_pretrained(tmp_path / "judge")
    judge = Judge(tmp_path / "judge")
    test = FurnitureViewsCatalog("test", root=root, cache=cache)
    specs = [PromptSpec(f"a box number {i}", "furniture-views", None, None, None, view="front") for i in range(3)]
    one = evaluate_views(_RealStrips(test), specs, 2, 0, judge, log=lambda m: None)
    assert one["strips"] == 6 and set(one["view_accuracy_by_view"]) == set(LABELS)
    # view accuracy is the judge's on exactly those images
    images = [im for p in range(3) for k in range(2) for im in _RealStrips(test).other_angles("", p, k).images]
    predicted = judge.analyse(images)[0]["view"]
    assert one["view_accuracy"] == pytest.approx(np.mean([a == b for a, b in zip(predicted, LABELS * 6)]))
    mixed = evaluate_views(_RealStrips(test, mixed=True), specs, 2, 0, judge, log=lambda m: None)
    assert one["real"] == mixed["real"] and one["real"]["same_item"] < one["real"]["different_items"]
    assert mixed["strip_distance"] > one["strip_distance"]           # other products in one strip: further apart
    with pytest.raises(ValueError, match="no view head"):
        AttributeEvaluator(head_sizes=(("category", 3),), labels=(("a", "b", "c"),), size=32,
                           width=8).save_pretrained(tmp_path / "plain")
        evaluate_views(_RealStrips(test), specs, 2, 0, Judge(tmp_path / "plain"), log=lambda m: None)


def test_the_judge_is_never_shown_mirrored_views():
    """A mirrored render is lit from the front-right, as no render is (the key light stands front-left), and a
    mirrored rear three-quarter view is lit as a three-quarter view: flips would teach the view head wrong."""
    import torch

    from studio.data.fashion import FashionCatalog
    from studio.data.multiview import FurnitureViewsCatalog
    from studio.train.evaluator import augment

    assert FashionCatalog.mirror_safe and not FurnitureViewsCatalog.mirror_safe
    x = torch.zeros(64, 3, 16, 16)
    x[..., :8] = 1.0                                        # bright on the left, as a key light from the left

    def left_lit(flips: bool) -> torch.Tensor:
        out = augment(x, torch.Generator().manual_seed(0), flips=flips)
        return out[..., :8].mean((1, 2, 3)) > out[..., 8:].mean((1, 2, 3))

    assert left_lit(False).all()
    assert 10 < int(left_lit(True).sum()) < 54                # flipped about half the time where mirrors are safe


def test_the_judges_scale_jitter_is_seeded_keeps_the_backdrop_and_is_checked():
    import torch

    from studio.train.configs import EvaluatorTrainConfig
    from studio.train.evaluator import augment

    x = torch.full((32, 3, 32, 32), -0.5)                    # a backdrop with a product in the middle
    x[:, :, 12:20, 12:20] = 1.0
    plain = augment(x, torch.Generator().manual_seed(0), flips=False)
    zoomed = augment(x, torch.Generator().manual_seed(0), flips=False, zoom=0.3)
    assert torch.equal(zoomed, augment(x, torch.Generator().manual_seed(0), flips=False, zoom=0.3))
    assert torch.equal(plain, augment(x, torch.Generator().manual_seed(0), flips=False, zoom=0.0))
    product = (zoomed > 0.9).flatten(1).sum(1).float()      # the product's area moves with the scale drawn
    assert product.std() > 1.0 and product.min() > 0
    assert torch.allclose(zoomed[:, :, 0, 0], torch.tensor(-0.5))   # what comes in at the edge is backdrop
    for bad in ({"zoom": 0.5}, {"label_smoothing": -0.1}):
        with pytest.raises(ValueError, match="zoom and label_smoothing"):
            EvaluatorTrainConfig(**bad)


def test_the_views_suite_labels_only_what_each_prompt_says(views_cache, monkeypatch):
    """A backdrop or colour the caption leaves unsaid is no label: a generator cannot be scored on it."""
    from studio.data.multiview import FurnitureViewsCatalog
    from studio.eval.prompts import build_views_suite

    root, cache, _ = views_cache
    monkeypatch.setattr("studio.data.multiview.DEFAULT_ROOT", root)
    monkeypatch.setattr("studio.data.multiview.DEFAULT_CACHE", cache)
    specs = build_views_suite(per_item=3, seed=0)
    assert len(specs) == 3 * len(FurnitureViewsCatalog("test", root=root, cache=cache).items)
    unsaid = 0
    for spec in specs:
        parsed = captions.parse(spec.prompt)
        assert spec.background == parsed["background"], spec.prompt
        assert spec.color is None or spec.color == parsed["color"], spec.prompt
        assert parse_view(spec.prompt) == spec.view, spec.prompt
        unsaid += spec.background is None
    assert 0 < unsaid < len(specs)


@pytest.fixture
def generated_catalogs(views_cache, monkeypatch):
    """open_catalog answers "furniture" and "furniture-views" from the generated library (the same items)."""
    import studio.data as data
    from studio.data.furniture import FurnitureCatalog
    from studio.data.multiview import FurnitureViewsCatalog

    root, cache, _ = views_cache

    def opened(name, split="train", size=64, **kwargs):
        if name == "furniture-views":
            return FurnitureViewsCatalog(split, size, root=root, cache=cache)
        assert name == "furniture", name
        return FurnitureCatalog(split, size, root=root)

    monkeypatch.setattr(data, "open_catalog", opened)


def test_english_furniture_phrasings_from_view_captions_carry_the_colour_they_say(generated_catalogs):
    """`--en-furniture-views`: English furniture requests that name a colour ("a red sofa on a white
    background") are in the understanding bank with that colour as the target, the view phrase taken out."""
    from studio.data.views import parse_view
    from studio.train.configs import UnderstandTrainConfig
    from studio.train.understand import HEADS, build_bank

    cfg = UnderstandTrainConfig(fashion_phrases=0, furniture_phrases=400, unknown_phrases=0, chinese_share=0.0,
                                en_furniture_views=0.5)
    texts, targets = build_bank(cfg)
    colours = HEADS["color"]
    said = [(t, colours[c]) for t, c in zip(texts, targets["color"]) if c >= 0 and colours[c] != "none"]
    assert 60 <= len(said) <= 200                          # about half the phrasings, most of them naming it
    assert {c for _, c in said} <= set(COLOURS)            # the boxes' own colours, nothing else
    for text, colour in said:
        assert captions.parse(text)["color"] == colour, text
    assert not any(parse_view(t) for t in texts)           # read as the reader reads: without the view
    unsaid = [t for t, c in zip(texts, targets["color"]) if c >= 0 and colours[c] == "none"]
    assert unsaid and not any(captions.parse(t)["color"] for t in unsaid)
    assert (targets["color"] == -1).sum() >= 100           # the single-icon captions stay masked
    assert build_bank(UnderstandTrainConfig(fashion_phrases=0, furniture_phrases=50, unknown_phrases=0,
                                            chinese_share=0.0))[1]["color"].max() == -1


def test_english_item_captions_can_name_the_item_colour_before_its_name(generated_catalogs):
    """`--en-furniture-colour`: a share of the English item captions say the item's own colour (its renders'
    dominant colour) before its name, with that colour as the target; the rest stay masked, and the noun
    target is the name's either way."""
    import studio.data as data
    from studio.train.configs import UnderstandTrainConfig
    from studio.train.understand import HEADS, build_bank

    colours_of = data.open_catalog("furniture-views", split="train").item_colors()
    names = {it.name.lower(): colours_of[it.key] for it in data.open_catalog("furniture", split="train").items}
    cfg = UnderstandTrainConfig(fashion_phrases=0, furniture_phrases=300, unknown_phrases=0, chinese_share=0.0,
                                en_furniture_colour=0.5)
    texts, targets = build_bank(cfg)
    colours = HEADS["color"]
    said = [(t, colours[c]) for t, c in zip(texts, targets["color"]) if c >= 0]
    assert 100 <= len(said) <= 200 and "none" not in {c for _, c in said}
    for text, colour in said:
        assert captions.parse(text)["color"] == colour, text
        word = next(w for w in captions.COLOR_WORDS[colour] if w in text.lower())
        after = text.lower().split(word, 1)[1].strip()
        assert any(after.startswith(name) for name, c in names.items() if c == colour), text   # before its name
    masked = [t for t, c in zip(texts, targets["color"]) if c < 0]
    assert masked and not any(captions.parse(t)["color"] for t in masked)
    assert (targets["furniture_noun"] >= 0).all()
    plain = build_bank(UnderstandTrainConfig(fashion_phrases=0, furniture_phrases=300, unknown_phrases=0,
                                             chinese_share=0.0))
    assert plain[1]["color"].max() == -1                   # without the option, as before: masked
