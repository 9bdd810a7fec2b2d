"""Prompt understanding: the heads' mechanics at dry-run size, and the shipped heads on what merchants type
(English and Chinese), products no model makes, and routing between the installed models."""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import needs_furniture, write_vae
from studio.checkpoints import WEIGHTS_DIR
from studio.eval.prompts import load_prompts

SHIPPED = WEIGHTS_DIR / "understand"
needs_heads = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="no understanding heads shipped")
SUITES = Path(__file__).resolve().parents[1] / "studio" / "eval" / "prompts"
UNKNOWN, UNKNOWN_2, UNKNOWN_MIXED, UNKNOWN_QUANTITIES = (
    [line.strip() for line in (SUITES / name).read_text(encoding="utf-8").splitlines()
     if line.strip() and not line.startswith("#")]
    for name in ("unknown-products.txt", "unknown-products-2.txt", "unknown-products-mixed.txt",
                 "unknown-products-quantities.txt"))


@needs_furniture
def test_a_dry_run_writes_heads_that_read_prompts(tmp_path, monkeypatch):
    from studio.__main__ import main
    from studio.understand import PromptReader

    monkeypatch.chdir(tmp_path)
    assert main(["train", "understand", "--dry-run"]) == 0
    reader = PromptReader(tmp_path / "runs" / "dry-run" / "understand")
    understood = reader.read("red sneaker on a white background zorblax")
    assert understood.language == "en" and "zorblax" in understood.unplaced
    assert set(understood.labels) == {"category", "color", "background"} or understood.domain == "furniture"
    assert reader.read("白色背景上的红色运动鞋").language == "zh"
    with pytest.raises(ValueError, match="empty"):
        reader.read("   ")


@needs_heads
def test_chinese_and_english_land_on_the_same_labels_and_canonical_prompt():
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    zh, en = reader.read_many(["白色背景上的红色运动鞋", "red sneaker on a white background"])
    assert zh.labels == en.labels == {"category": "sneaker", "color": "red", "background": "white"}
    assert zh.canonical == en.canonical == "a red sneaker on a white background"
    assert zh.summary() == "red · sneaker · white background" and not zh.warnings
    # the backdrop asked once more without the product colour, for diffusion's composed guidance
    assert zh.backdrop_prompt == en.backdrop_prompt == "a sneaker on a white background"
    assert reader.read("black trousers on a cream background").backdrop_prompt == "trousers on a cream background"
    assert reader.read("a red sneaker").backdrop_prompt is None
    assert reader.read("a sneaker on a white background").backdrop_prompt is None
    wallet = reader.read("leather wallet, brown, studio shot")
    assert wallet.unknown_product and "wallet" in wallet.unplaced and wallet.canonical == wallet.prompt
    assert wallet.labels["category"] is None and wallet.summary() == "brown · a product no model makes"
    assert any("not a product these models know; nearest:" in w for w in wallet.warnings)
    assert wallet.backdrop_prompt is None


@needs_heads
def test_the_suites_read_through_the_heads():
    """Regression floors a little under what the shipped heads measure (the card has the numbers)."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    for suite, floors in (("fashion-visible", (0.95, 0.93, 0.97)), ("fashion-zh", (0.95, 0.95, 0.95))):
        specs = load_prompts(suite)
        read = reader.read_many([s.prompt for s in specs])
        for attribute, floor in zip(("category", "color", "background"), floors):
            hits = [u.labels.get(attribute) == getattr(s, attribute) for u, s in zip(read, specs)]
            assert np.mean(hits) >= floor, (suite, attribute, np.mean(hits))
        assert np.mean([u.domain == "fashion" for u in read]) >= 0.95
        assert np.mean([u.unknown_product for u in read]) <= 0.05
    furniture = reader.read_many([s.prompt for s in load_prompts("furniture-test")])
    assert np.mean([u.catalog == "furniture" for u in furniture]) >= 0.95     # the model it is generated on
    # the issue's bar: 90% of products no model makes are flagged (92% and 97% measured on the two lists)
    for products in (UNKNOWN, UNKNOWN_2):
        read = reader.read_many(products)
        assert len(products) >= 29 and np.mean([u.unknown_product for u in read]) >= 0.9
        assert all(u.warnings and u.canonical == u.prompt for u in read if u.unknown_product)
    # a word nothing here knows, with nothing but colours, backgrounds and template words around it, is the
    # product: flagged, and still generated on the nearest catalog's model
    made_up = reader.read("product photo of a grey zorbatron on a white background")
    assert made_up.unknown_product and made_up.unplaced == ("zorbatron",) and made_up.catalog in ("fashion", "furniture")
    assert not reader.names_something("product photo, on a white background") and not reader.names_something("红色，白底")
    assert reader.names_something("a red zorbatron") and reader.names_something("白底的仓鼠笼")


@needs_heads
def test_the_studio_routes_by_the_prompt_and_keeps_the_merchants_words(tmp_path):
    from studio import Studio

    weights = tmp_path / "weights"
    shutil.copytree(SHIPPED, weights / "understand")
    write_vae(weights / "vae-fashion", catalog="fashion")
    write_vae(weights / "vae-furniture", catalog="furniture", seed=1)
    studio = Studio(weights)
    assert studio.models() == ["vae-fashion", "vae-furniture"]           # the heads are not a generator
    sofa = studio.understand("蓝色沙发")              # the colour from its words (these heads read none for furniture)
    assert sofa.domain == "furniture" and sofa.model == "vae-furniture" and sofa.canonical == "a blue sofa"
    out = studio.generate("白色背景上的红色运动鞋", n=2, seed=3)
    assert out.model == "vae-fashion" and out.prompt == "a red sneaker on a white background"
    assert out.request == "白色背景上的红色运动鞋" and out.seed == 3
    chosen = studio.understand("a blue sofa on a white background", model="vae-fashion")
    assert chosen.model == "vae-fashion" and any("reads as furniture" in w for w in chosen.warnings)
    raw = studio.generate("red sneaker", n=1, seed=3, understand=False)
    assert raw.request is None and raw.prompt == "red sneaker"
    # the app's examples follow the chosen model's catalog (every catalog for Auto)
    from ui.generate import CHINESE_EXAMPLES, FURNITURE_EXAMPLES, examples_for

    furniture = examples_for(studio, "vae-furniture")
    assert set(FURNITURE_EXAMPLES) <= set(furniture) and not set(CHINESE_EXAMPLES) & set(furniture)
    assert set(CHINESE_EXAMPLES) <= set(examples_for(studio, "vae-fashion")) and not set(
        FURNITURE_EXAMPLES) & set(examples_for(studio, "vae-fashion"))
    assert set(furniture) < set(examples_for(studio, "auto"))
    # a model of the multi-view catalog is the first a furniture prompt goes to; one chosen by hand stays
    write_vae(weights / "vae-views", catalog="furniture-views", seed=2)
    studio = Studio(weights)
    assert studio.understand("蓝色沙发").model == "vae-views"
    kept = studio.understand("a blue sofa on a white background", model="vae-furniture")
    assert kept.model == "vae-furniture" and not any("reads as" in w for w in kept.warnings)
    assert studio.understand("红色运动鞋").model == "vae-fashion"
    # a view is understood (never "not understood"), kept in a rewritten furniture prompt, and a model that
    # shows one view says it cannot promise it
    side = studio.understand("蓝色沙发，侧面图")
    assert side.view == "side" and side.model == "vae-views" and side.canonical == "a blue sofa, seen from the side"
    assert not side.warnings
    plain = studio.understand("蓝色沙发")
    assert side.labels == plain.labels and plain.view is None
    boot = studio.understand("a red sneaker on a white background, side view")
    assert boot.view == "side" and not any("not understood" in w for w in boot.warnings)
    assert any("shows products from one view: the side view" in w for w in boot.warnings)


@needs_furniture
def test_the_held_out_unknown_products_name_no_catalog_item():
    """The list is what no model makes: no English line names a Sweet Home 3D item (either split), and none
    holds a training negative (those lines were moved to catalog-products.txt when this check found them)."""
    import re

    from studio.data import open_catalog
    from studio.data.phrasebook import UNKNOWN_EN, UNKNOWN_ZH

    names = {it.name.lower() for split in ("train", "test") for it in open_catalog("furniture", split=split, size=32).items}
    compounds = ("fountain pen", "bath bomb")           # a pen, not a Fountain; a bath product, not a Bath
    for line in UNKNOWN + UNKNOWN_2 + UNKNOWN_MIXED + UNKNOWN_QUANTITIES:
        text = " ".join(re.findall(r"[a-z0-9]+", line.lower()))
        for compound in compounds:
            text = text.replace(compound, "")
        named = [n for n in names if re.search(rf"(?<![a-z]){re.escape(n)}s?(?![a-z])", text)]
        assert not named, (line, named)
        assert not [u for u in UNKNOWN_EN if re.search(rf"(?<![a-z]){re.escape(u)}(?![a-z])", line.lower())], line
        assert not [u for u in UNKNOWN_ZH if u in line], line
    assert "a silver laptop on a white background" not in UNKNOWN          # the catalog has a Laptop


@needs_heads
def test_heads_that_never_learned_furniture_colours_guess_none():
    """The shipped heads predate coloured furniture requests: their colour head saw only fashion and misreads
    a furniture piece ("红色扶手椅" as beige), so a furniture reading carries no colour from them rather than a
    wrong one (a colour word of two characters or more still gives it: zh_product_colours); heads trained with
    `furniture_color_share` read it (weights/understand-zh, which reads Chinese)."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED, chinese=None)                  # the shipped heads alone
    armchair = reader.read("红扶手椅")                             # one character: no colour word, no colour
    assert reader.furniture_colour is False and armchair.domain == "furniture"
    assert "color" not in armchair.labels and armchair.canonical == "an armchair"
    worded = reader.read("红色扶手椅")
    assert worded.labels["color"] == "red" and worded.canonical == "a red armchair"
    assert reader.read("红色运动鞋").labels["color"] == "red"            # fashion keeps its colour
    if (SHIPPED.parent / "understand-zh" / "config.json").is_file():  # as the app reads Chinese: those learned them
        app = PromptReader(SHIPPED)
        red = app.read("红色扶手椅")
        assert app.chinese.furniture_colour is True
        assert red.labels["color"] == "red" and red.canonical == "a red armchair"


def test_furniture_reading_scores_each_label_over_the_requests_that_name_it():
    from studio.cards import furniture_reading
    from studio.eval.prompts import PromptSpec
    from studio.understand import Understanding

    specs = [PromptSpec("灰色沙发，侧面图", "furniture-views", "sofa", "gray", None, "zh", "side"),
             PromptSpec("白色书架，白底", "furniture-views", "shelf", "white", "white", "zh", None),
             PromptSpec("一盆绿植", "furniture-views", "plant", None, None, "zh", None)]
    read = [Understanding(s.prompt, "zh", "furniture", 1.0, labels, {}, (), "", view=view) for s, labels, view in zip(
        specs, ({"furniture_noun": "sofa", "color": "gray", "background": "black"},
                {"furniture_noun": "bookcase", "color": "brown", "background": "white"},
                {"furniture_noun": None, "color": None, "background": None}), ("side", None, None))]
    row = furniture_reading(specs, read)
    assert row["n"] == 3 and row["routed"] == 1.0 and row["flagged_unknown"] == 0.0
    # a bookcase is a shelf by the taxonomy; an unread noun is wrong even for the catch-all class
    assert row["said"] == {"category": 2 / 3, "color": 0.5, "background": 1.0, "view": 1.0}
    assert row["background_invented"] == 0.5                 # the sofa got a backdrop nobody named
    # heads that read no furniture colour (no "color" label on a furniture reading) are not scored on it
    colourless = [dataclasses.replace(u, labels={k: v for k, v in u.labels.items() if k != "color"}) for u in read]
    assert furniture_reading(specs, colourless)["said"]["color"] is None


@needs_heads
def test_the_card_reads_every_furniture_list_label_by_label_old_evaluations_included():
    """The understanding card has a label row, a routing row and a sentence for each furniture list read by
    furniture_reading (English ones under "free"), and still renders an evaluation written before, whose
    furniture-zh labels sit under "zh"."""
    from studio.cards import render_card

    evaluation = json.loads((SHIPPED / "evaluation.json").read_text())
    old = evaluation["suites"]["furniture-zh"]                 # as the older code wrote it: labels under "zh"
    old["zh"] = old.pop("said")
    for row in evaluation["suites"].values():
        row.pop("not_understood", None)
    evaluation["suites"]["furniture-en-2"] = {
        "n": 40, "routed": 0.95, "flagged_unknown": 0.025, "background_invented": 0.125,
        "said": {"category": 0.8, "color": 0.05, "background": 0.96, "view": 1.0}, "not_understood": 0.175}
    evaluation["suites"]["furniture-requests-en-2"] = dict(evaluation["suites"]["furniture-en-2"], n=24)
    card = render_card(SHIPPED, evaluation)
    assert "| furniture-en-2 | free | 80.0% | 5.0% | 96.0% |" in card
    assert "| furniture-requests-en-2 | free | 80.0% |" in card
    assert "| furniture-en-2 (40 prompts) | 95.0% | 2.5% | 17.5% |" in card
    assert "| fashion-visible (240 prompts) | 100.0% | 0.0% | - |" in card       # older evaluations: no share
    fresh = json.loads((SHIPPED / "evaluation.json").read_text())           # as this code writes it
    share = fresh["suites"]["fashion-visible"]["not_understood"]
    assert f"| fashion-visible (240 prompts) | 100.0% | 0.0% | {100 * share:.1f}% |" in render_card(SHIPPED, fresh)
    assert "(`furniture-en-2`, 40 written by hand later)" in card and "read for 12.5% of the requests" in card
    zh = evaluation["suites"]["furniture-zh"]["zh"]
    assert f"| furniture-zh | zh | {100 * zh['category']:.1f}% |" in card
    assert "Chinese furniture requests (`furniture-zh`" in card


def test_a_furniture_canonical_prompt_carries_the_colour_and_the_view():
    from studio.understand import canonical_prompt

    labels = {"furniture_noun": "armchair", "color": "gray", "background": "white"}
    assert canonical_prompt("灰色扶手椅", "zh", "furniture", labels, view="side") == \
        "a gray armchair on a white background, seen from the side"
    assert canonical_prompt("扶手椅", "zh", "furniture", {**labels, "color": None, "background": None}) == "an armchair"
    assert canonical_prompt("an orange armchair", "en", "furniture", {**labels, "color": "orange"}) == "an orange armchair"


@needs_furniture
def test_the_bank_labels_a_furniture_colour_only_where_the_phrasing_says_it():
    from studio.data.phrasebook import FURNITURE_NOUNS_ZH, ZH_BACKGROUND, ZH_COLOR
    from studio.train.configs import UnderstandTrainConfig
    from studio.train.understand import HEADS, build_bank

    texts, targets = build_bank(UnderstandTrainConfig(fashion_phrases=0, furniture_phrases=300, unknown_phrases=0))
    colours, furniture = HEADS["color"], HEADS["domain"].index("furniture")
    assert (targets["domain"] == furniture).all() and (targets["category"] == -1).all()
    chinese = [any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts]
    assert all(c == -1 for c, zh in zip(targets["color"], chinese) if not zh)   # English item captions: masked
    said = [(t, colours[c]) for t, c in zip(texts, targets["color"]) if c >= 0 and colours[c] != "none"]
    assert len(said) >= 30
    for text, colour in said:
        assert any(w in text for w in ZH_COLOR[colour]), (text, colour)
    backdrops = sorted((w for table in (ZH_BACKGROUND, FURNITURE_NOUNS_ZH) for words in table.values()
                        for w in words), key=len, reverse=True)
    unsaid = [t for t, c in zip(texts, targets["color"]) if c >= 0 and colours[c] == "none" and
              any("\u4e00" <= ch <= "\u9fff" for ch in t)]
    for text in unsaid:                                  # a Chinese request without a colour has no colour word
        for backdrop in backdrops:                       # outside its backdrop and noun ("白底", "绿植")
            text = text.replace(backdrop, " ")
        assert not any(w in text for words in ZH_COLOR.values() for w in words), text
    assert unsaid


@needs_heads
def test_labels_set_by_hand_override_the_reading(tmp_path):
    from studio import Studio
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    wallet = reader.read("leather wallet, brown, studio shot")
    bag = wallet.with_labels({"category": "bag"})
    assert bag.labels == {"category": "bag", "color": "brown", "background": None}
    assert bag.canonical == "a brown bag" and not bag.unknown_product and bag.domain == "fashion"
    assert not any("not a product" in w for w in bag.warnings) and "set by hand: category bag" in bag.warnings
    assert wallet.with_labels({"category": None}) is wallet                  # the same as read: nothing changes
    sofa = reader.read("red sneaker on a white background").with_labels({"furniture_noun": "sofa"})
    assert sofa.domain == "furniture" and sofa.labels == {"furniture_noun": "sofa", "color": "red", "background": "white"}
    assert sofa.canonical == "a red sofa on a white background"            # the colour read stays
    machine = reader.read("a coffee machine on a cream background")   # furniture, no noun the heads name
    assert machine.domain == "furniture" and machine.labels == {"furniture_noun": None, "background": "cream"}
    assert machine.with_labels({"background": "white"}).canonical == "a coffee machine on a white background"
    sneaker = reader.read("red sneaker on a white background")
    for chosen, message in (({"color": "mauve"}, "unknown color 'mauve'; choose one of black"),
                            ({"category": "bag", "furniture_noun": "sofa"}, "not both"),
                            ({"size": "xl"}, "size is not a label of fashion products")):
        with pytest.raises(ValueError, match=message):
            sneaker.with_labels(chosen)
    with pytest.raises(ValueError, match="set one product"):
        wallet.with_labels({"color": "red"})                 # an unknown product's colour, with no product

    weights = tmp_path / "weights"
    shutil.copytree(SHIPPED, weights / "understand")
    write_vae(weights / "vae-fashion", catalog="fashion")
    studio = Studio(weights)
    out = studio.generate("leather wallet, brown, studio shot", n=1, seed=2, labels={"category": "bag"})
    assert out.prompt == "a brown bag" and out.request == "leather wallet, brown, studio shot" and out.seed == 2
    with pytest.raises(ValueError, match="need the prompt-understanding heads"):
        studio.generate("red sneaker", n=1, understand=False, labels={"color": "blue"})


@needs_heads
def test_the_cli_prints_the_understanding(capsys):
    from studio.__main__ import main

    assert main(["understand", "黑色连衣裙，浅灰色背景"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["labels"] == {"category": "dress", "color": "black", "background": "light_gray"}
    assert printed["model"] == "gan-fashion" and printed["language"] == "zh"      # the default: the VAE-GAN
    assert main(["understand", "黑色连衣裙，浅灰色背景", "--set", "color=navy", "--set", "background="]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["labels"] == {"category": "dress", "color": "navy", "background": None}
    assert printed["canonical"] == "a navy dress"


def test_the_pickers_set_a_furniture_colour_too():
    """The app's "set by hand" pickers: the colour chosen goes with a furniture piece as with a fashion one."""
    from studio.understand import Understanding
    from ui.generate import hand_labels, shown_labels

    read = Understanding("灰色沙发", "zh", "furniture", 0.9, {"furniture_noun": "sofa", "color": "gray", "background": None},
                         {}, (), "a gray sofa")
    assert shown_labels(read) == ("furniture_noun:sofa", "gray", "")
    assert hand_labels(read, "furniture_noun:armchair", "blue", "white") == \
        {"furniture_noun": "armchair", "color": "blue", "background": "white"}
    assert hand_labels(read, "", "", "") == {"furniture_noun": None, "color": None, "background": None}
    chosen = read.with_labels(hand_labels(read, "furniture_noun:sofa", "navy", "cream"))
    assert chosen.canonical == "a navy sofa on a cream background" and chosen.labels["color"] == "navy"


def test_wide_chinese_phrasings_say_their_labels():
    """`--zh-wide` phrasings (more nouns, colours, cuts, request forms, a backdrop named by its colour alone)
    still name the labels they are filed under."""
    from studio.data import phrasebook as pb

    rng = np.random.default_rng(0)
    categories, colours, backdrops = list(pb.ZH_CATEGORY), list(pb.ZH_COLOR), list(pb.ZH_BACKGROUND)
    seen = set()
    for i in range(600):
        category, colour = categories[i % len(categories)], colours[i % len(colours)] if i % 7 else None
        backdrop = backdrops[i % len(backdrops)] if i % 5 else None
        text = pb.phrase_fashion({"category": category, "color": colour, "background": backdrop}, rng, "zh", wide=True)
        seen.add(text)
        assert any(n in text for n in pb.ZH_CATEGORY[category] + pb.ZH_CATEGORY_WIDE[category]), text
        if colour:
            assert any(w in text for w in pb.ZH_COLOR[colour] + pb.ZH_COLOR_WIDE[colour]), (text, colour)
        if backdrop:
            assert any(w in text for w in pb.ZH_BACKGROUND[backdrop] + pb.ZH_BACKGROUND_WIDE[backdrop] +
                       pb.ZH_BACKDROP_COLOR[backdrop]), (text, backdrop)
        else:
            assert "背景" not in text, text
        assert "{" not in text and "}" not in text, text
    assert len(seen) > 500                                   # varied, not a handful of fixed strings
    unknown = [pb.phrase_unknown(rng, "zh", wide=True) for _ in range(200)]
    assert all(any(u in text for u in pb.UNKNOWN_ZH) for text in unknown)


def test_the_wide_words_name_no_product_and_stay_out_of_the_narrow_recipe():
    """A cut, a material or a shop word never contains a product noun (a request of nothing but them names
    no product); each wider noun belongs to one category and is no product the models lack; the default
    (narrow) bank and vocabulary use none of the wider words, so the shipped recipe is reproduced as it was."""
    from studio.data import phrasebook as pb
    from studio.train.understand import vocabulary

    nouns = {n: c for c, words in {**pb.ZH_CATEGORY}.items() for n in words}
    wide_nouns = [(n, c) for c, words in pb.ZH_CATEGORY_WIDE.items() for n in words]
    assert len({n for n, _ in wide_nouns}) == len(wide_nouns)
    assert not [n for n, c in wide_nouns if nouns.get(n, c) != c]
    assert not [n for n, _ in wide_nouns if any(u in n for u in pb.UNKNOWN_ZH)]
    product_words = [w for words in (*pb.ZH_CATEGORY.values(), *pb.ZH_CATEGORY_WIDE.values(),
                                     *pb.FURNITURE_NOUNS_ZH.values()) for w in words if len(w) > 1]
    for word in (*pb.ZH_MODIFIERS, *pb.ZH_WHO, *pb.ZH_SHOP_WORDS, *pb.FURNITURE_ZH_MODIFIERS):
        assert not [p for p in product_words if p in word], word
    rng = np.random.default_rng(1)
    narrow = " ".join(pb.phrase_fashion({"category": c, "color": "red", "background": "white"}, rng, "zh")
                      for c in pb.ZH_CATEGORY for _ in range(40))
    only_wide = {w for w in [n for n, _ in wide_nouns] + list(pb.ZH_MODIFIERS) if not any(w in n or n in w for n in nouns)}
    assert not [w for w in only_wide if w in narrow]
    texts = ["red sneaker on white", "白底红色运动鞋"]
    assert not set(pb.ZH_MODIFIERS) & set(vocabulary(texts, np.zeros(2, int)))
    assert set(pb.ZH_MODIFIERS) <= set(vocabulary(texts, np.zeros(2, int), wide=True))


@needs_heads
def test_cuts_materials_and_backdrops_alone_name_no_product():
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    assert not reader.names_something("纯棉 修身款 白底")
    assert not reader.names_something("背景是浅灰色，淘宝主图")
    assert reader.names_something("纯棉毛巾，白底")


@needs_furniture
def test_a_wide_bank_files_a_backdrop_only_where_the_phrasing_names_one():
    from studio.data import phrasebook as pb
    from studio.train.configs import UnderstandTrainConfig
    from studio.train.understand import HEADS, build_bank

    texts, targets = build_bank(UnderstandTrainConfig(fashion_phrases=400, furniture_phrases=300, unknown_phrases=100,
                                                      chinese_share=1.0, zh_wide=True))
    backdrops, unknown = HEADS["background"], HEADS["domain"].index("unknown")
    named = 0
    for text, b, domain in zip(texts, targets["background"], targets["domain"]):
        if domain == unknown:
            continue
        if backdrops[b] == "none":
            assert "背景" not in text, text
        else:
            named += 1
            words = pb.ZH_BACKGROUND[backdrops[b]] + pb.ZH_BACKGROUND_WIDE[backdrops[b]] + pb.ZH_BACKDROP_COLOR[backdrops[b]]
            assert any(w in text for w in words), (text, backdrops[b])
    assert named > 300


@needs_furniture
def test_heads_that_read_characters_train_read_and_repeat(tmp_path, monkeypatch):
    """`--chars`: a convolution over the prompt's characters beside the sentence vector and the tokens; its
    alphabet is saved with the heads, a character it never saw reads as one id, and a reading repeats exactly."""
    from studio.__main__ import main
    from studio.understand import PromptReader

    monkeypatch.chdir(tmp_path)
    assert main(["train", "understand", "--dry-run", "--chars", "--zh-wide"]) == 0
    folder = tmp_path / "runs" / "dry-run" / "understand"
    config = json.loads((folder / "config.json").read_text())
    assert config["characters"] and "背" in config["characters"] and config["training"]["train"]["chars"]
    reader = PromptReader(folder)
    model = reader._load()
    assert model.char_reader is not None
    ids = model.char_ids(["黑色背景", "☃"])
    assert ids.shape[1] >= 4 and ids[0, :4].min() >= 2 and ids[1, 0] == 1 and ids[1, 1:].eq(0).all()
    first = reader.probabilities(["米色长裤，黑色背景"])
    again = PromptReader(folder).probabilities(["米色长裤，黑色背景"])
    assert all(np.array_equal(first[h], again[h]) for h in first)


def test_a_character_branch_for_chinese_only_adds_nothing_to_english():
    from studio.models.prompt_heads import PromptHeads

    kwargs = dict(input_dim=8, hidden=16, heads={"domain": ["fashion", "furniture", "unknown"]}, token_dim=4,
                  token_queries=1, token_width=8, characters=list("黑色背景ab"), char_width=8)
    heads = PromptHeads(**kwargs, char_scope="cjk")
    ids = heads.char_ids(["black on white", "黑色背景", "T恤 ab"])
    assert ids[0].eq(0).all() and ids[1, :4].min() >= 2 and ids[2, 0] == 1 and ids[2, 3:5].min() >= 2
    out = heads.char_reader(ids)
    assert out[0].eq(0).all() and out[1].abs().sum() > 0
    assert PromptHeads(**kwargs).char_ids(["black on white"])[0, :5].min() >= 1      # "all": English read too
    with pytest.raises(ValueError, match="char_scope"):
        PromptHeads(**kwargs, char_scope="latin")


@needs_heads
def test_prompts_with_chinese_go_to_the_chinese_heads_when_they_are_installed(tmp_path):
    """`<folder>-zh` beside the heads reads every prompt with Chinese characters; the rest, and the order of a
    batch, stay with the heads themselves; without that folder nothing changes."""
    from studio.understand import PromptReader

    shutil.copytree(SHIPPED, tmp_path / "understand")
    alone = PromptReader(tmp_path / "understand")
    assert alone.chinese is None
    shutil.copytree(SHIPPED, tmp_path / "understand-zh")
    reader = PromptReader(tmp_path / "understand")
    assert reader.chinese is not None and reader.chinese.folder == tmp_path / "understand-zh"
    assert reader.chinese.chinese is None and PromptReader(tmp_path / "understand", chinese=None).chinese is None
    seen = {}
    for name, r in (("main", reader), ("zh", reader.chinese)):
        def spy(prompts, _name=name, _read=r._read_here):
            seen.setdefault(_name, []).extend(prompts)
            return _read(prompts)
        r._read_here = spy
    prompts = ["red sneaker on white", "白底红色运动鞋", "a T恤 in black", "navy coat"]
    read = reader.read_many(prompts)
    # the mixed prompt is read whole by the Chinese heads, then in parts: its Chinese by them, its English by these
    assert seen == {"zh": ["白底红色运动鞋", "a T恤 in black", "a T恤"],
                    "main": ["red sneaker on white", "navy coat", "a in black"]}
    assert [u.prompt for u in read] == prompts
    assert read[1].labels == alone.read("白底红色运动鞋").labels                 # the same heads here: the same reading
    assert reader.text_encoder is not None and reader.text_encoder is reader.chinese.text_encoder   # one MiniLM


def test_extra_english_colours_are_product_colours_only_when_asked():
    """`--en-colours`: "cream" (beige) and "ivory" / "off-white" (white) become product colours; without it the
    English phrasings never use them for a product (the shipped recipe's bank is drawn as before)."""
    from studio.data import phrasebook as pb

    def phrasings(extra: bool) -> list[str]:
        rng = np.random.default_rng(3)
        return [pb.phrase_fashion({"category": "pullover", "color": colour, "background": "black"}, rng, "en",
                                  en_colours=extra) for colour in ("beige", "white") for _ in range(150)]

    words = [w for ws in pb.EN_COLOR_EXTRA.values() for w in ws]
    assert not [t for t in phrasings(False) if any(w in t.lower() for w in words)]
    with_extra = phrasings(True)
    assert any("cream" in t.lower() for t in with_extra[:150]) and any("ivory" in t.lower() for t in with_extra[150:])
    assert not [t for t in with_extra[150:] if "cream" in t.lower()]          # cream is never filed as white


def test_the_heads_read_a_request_without_its_asking_words():
    """"can you generate", "I'd like", "show me" and a closing "please" ask for an image: the heads read what is
    asked for; nothing is taken out of the middle, and a hyphenated word or a noun use stays."""
    from studio.understand import without_requests

    assert without_requests("hi, can you please generate a blue sofa on white?") == "a blue sofa on white"
    assert without_requests("I'd love a walnut bookcase") == "a walnut bookcase"
    assert without_requests("we're looking for red sneakers on white please") == "red sneakers on white"
    assert without_requests("show me navy trousers") == "navy trousers"
    assert without_requests("product render of a chair, show me") == "product render of a chair, show me"
    assert without_requests("render of a chair") == "render of a chair"
    assert without_requests("make-up bag") == "make-up bag"
    assert without_requests("generate") == "generate"                    # nothing else: kept as typed
    assert without_requests("帮我生成一张红色运动鞋") == "帮我生成一张红色运动鞋"


@needs_heads
def test_asking_words_and_word_forms_are_understood_not_flagged():
    """A plain request in request form is read, not warned about nor flagged as a product no model makes; a
    noun in a form the heads never saw ("trouser") is read in the form they did see."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    assert reader.known_forms("a beige trouser on white") == "a beige trousers on white"
    asked = reader.read("please generate a beige trouser, white background")
    assert asked.unplaced == () and not asked.unknown_product and not asked.warnings
    assert asked.catalog == "fashion" and asked.labels["category"] == "trouser"
    assert reader.read("could you show me a red dress on white").labels == {
        "category": "dress", "color": "red", "background": "white"}
    over = reader.read("red dress photographed over white")           # "over": a backdrop word, never unknown
    assert "over" not in over.unplaced and over.labels["background"] == "white"
    drone = reader.read("can you generate a drone on white")           # the product is still the unknown word
    assert drone.unknown_product and drone.unplaced == ("drone",)


@needs_heads
def test_a_furniture_noun_routes_to_furniture_and_a_noun_of_both_leaves_it_to_the_heads():
    """Colour words are mostly fashion's in training, so "navy blue bed" once read as a navy dress: a prompt
    naming furniture nouns and no fashion noun goes to furniture; "coat rack" names both, Chinese neither."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    assert reader.named_catalog("navy blue bed seen from above on light grey") == "furniture"
    assert reader.named_catalog("two red armchairs") == "furniture"
    assert reader.named_catalog("red sneakers on light grey") == "fashion"
    assert reader.named_catalog("a wooden coat rack") is None and reader.named_catalog("a drone") is None
    assert reader.named_catalog("红色扶手椅") is None
    bed = reader.read("navy blue bed seen from above on light grey")
    assert bed.catalog == "furniture" and bed.labels["furniture_noun"] == "bed" and bed.view == "top"
    sofa = reader.read("green velvet sofa on pale pink")     # a material the heads never saw: still a sofa,
    assert sofa.catalog == "furniture" and not sofa.unknown_product and sofa.unplaced == ()   # and understood
    assert reader.read("a handbag for the bedroom").catalog == "furniture"   # only ever routes TO furniture


@needs_heads
def test_hyphenated_words_of_known_parts_and_plain_furniture_nouns_are_read():
    """"ankle-boot" is the heads' "ankle boot", not an unknown product; a furniture noun the heads read no noun
    for ("a toilet"), or one they have no label for whose class is a label's ("cupboard"), is read from the
    prompt's words; a prompt naming two ("sofa bed") or an unknown hyphenated word keeps the heads' reading."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    assert reader.known_forms("navy ankle-boot, cream bg") == "navy ankle boot, cream bg"
    assert reader.known_forms("a t-shirt") == "a t-shirt" and reader.known_forms("e-commerce") == "e-commerce"
    boot = reader.read("navy ankle-boot, cream bg")
    assert not boot.unknown_product and boot.labels["category"] == "ankle_boot" and boot.unplaced == ()
    assert reader.named_furniture_noun("a toilet on white") == "toilet"
    assert reader.named_furniture_noun("two grey cupboards") == "cabinet"
    assert reader.named_furniture_noun("grey sofa bed") is None and reader.named_furniture_noun("马桶") is None
    assert reader.read("a toilet on white").labels["furniture_noun"] == "toilet"
    assert "zig-zag" in reader.read("zig-zag walnut sideboard on cream").unplaced      # ("mid-century": a style word)
    # common synonyms are furniture nouns of the same item class: routed to furniture, never flagged for them
    for prompt, noun in (("an oak sideboard on a cream backdrop", "cabinet"), ("white armoire", "wardrobe"),
                         ("a pink pouf", "stool"), ("a white baby crib", "bed")):
        read = reader.read(prompt)
        assert read.domain == "furniture" and read.labels["furniture_noun"] == noun, prompt


@needs_heads
def test_an_english_furniture_request_reads_its_colour_and_invents_no_backdrop():
    """These English heads read no furniture colour: the piece's colour comes from the words outside the
    backdrop phrase, and a backdrop they read off a colour word is dropped when the prompt names none."""
    from studio.data.captions import colors_named
    from studio.understand import PromptReader

    assert colors_named("navy blue bed on a white background") == ["navy"]
    reader = PromptReader(SHIPPED)
    sofa = reader.read("a grey sofa, seen from the side")
    assert reader.furniture_colour is False
    assert sofa.labels == {"furniture_noun": "sofa", "color": "gray", "background": None} and sofa.view == "side"
    assert set(sofa.confidences) == {"furniture_noun"}      # the heads' confidence only for what they read
    bed = reader.read("navy blue bed on light grey")
    assert bed.labels["color"] == "navy" and bed.labels["background"] == "light_gray"
    assert "color" not in reader.read("a wooden chair on white").labels              # no colour named: none
    assert "color" not in reader.read("a red and black chair on white").labels       # two: left to the model
    assert reader.read("red sneakers").labels["color"] == "red"                       # fashion: the heads' own


@needs_heads
def test_a_prompt_mixing_chinese_and_english_reads_each_part_with_its_own_heads():
    """"红色 sofa on white": the Chinese heads read the Chinese, the English heads the English; the product comes
    from the part that names one, and the colour and backdrop from either. A Latin word written against a
    following Chinese character is part of a Chinese word ("POLO衫"), as the heads' own "T恤" is; a prompt with no
    English word is read whole by the Chinese heads, as before."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    assert reader.chinese is not None
    assert reader.mixed_parts("白色背景的 red sneaker") == ("白色背景的", "red sneaker")
    assert reader.mixed_parts("navy T恤 on white") == ("T恤", "navy on white")
    assert reader.mixed_parts("红色sneaker，白底") == ("红色 ，白底", "sneaker")
    assert reader.mixed_parts("藏蓝色POLO衫，白底") is None and reader.mixed_parts("白底红色运动鞋") is None
    sofa = reader.read("红色 sofa on white")
    assert sofa.domain == "furniture" and sofa.language == "zh"
    assert (sofa.labels["furniture_noun"], sofa.labels["color"], sofa.labels["background"]) == ("sofa", "red", "white")
    boot = reader.read("黑色 ankle boot")
    assert not boot.unknown_product and boot.labels["category"] == "ankle_boot" and boot.labels["color"] == "black"
    sneaker = reader.read("白色背景的 red sneaker")
    assert sneaker.canonical == "a red sneaker on a white background" and sneaker.prompt == "白色背景的 red sneaker"
    watch = reader.read("白色背景的 smartwatch")                          # the English part names an unknown product
    assert watch.unknown_product and watch.labels["background"] == "white"
    light = reader.read("米白色 sofa，黑色背景")               # the colour part's words, not its heads' guess (black)
    assert (light.labels["furniture_noun"], light.labels["color"], light.labels["background"]) == ("sofa", "white", "black")
    assert reader.read("奶油色 dress on black").labels["color"] == "beige"
    chinese = reader.read("白底红色运动鞋")                                 # no English: the whole prompt, as before
    assert chinese.labels == reader.chinese._read_here(["白底红色运动鞋"])[0].labels


@needs_heads
def test_a_named_backdrop_wins_and_cream_or_ivory_is_a_product_colour_outside_it():
    """The heads take "cream" for a backdrop; a backdrop phrase the prompt names ("on black", "a dark background")
    is the backdrop, and a colour the heads leave unread comes from the words outside it, cream and ivory included."""
    from studio.understand import PromptReader, product_colours

    assert product_colours("a cream tote bag on a white background") == {"beige"}
    assert product_colours("an off-white bed") == {"white"} and product_colours("red and ivory scarf") == {"red", "white"}
    assert product_colours("walnut table on a cream backdrop") == set()
    reader = PromptReader(SHIPPED)
    lamp = reader.read("cream floor lamp on black")
    assert (lamp.labels["furniture_noun"], lamp.labels["color"], lamp.labels["background"]) == ("lamp", "beige", "black")
    dress = reader.read("cream dress on black")
    assert (dress.labels["category"], dress.labels["color"], dress.labels["background"]) == ("dress", "beige", "black")
    assert dress.canonical == "a beige dress on a black background"
    chair = reader.read("ivory dining chair seen from the side, dark background")
    assert chair.labels["background"] == "black" and chair.view == "side"
    assert reader.read("a grey sofa, seen from the side").labels["background"] is None    # none named: none read
    trousers = reader.read("womens beige trousers")                  # fashion too: beige is no backdrop here
    assert trousers.labels["background"] is None and trousers.canonical == "beige trousers"
    blouse = reader.read("beige linen blouse on black")            # the words' one colour, not the backdrop's
    assert (blouse.labels["color"], blouse.labels["background"]) == ("beige", "black")
    assert "color" not in blouse.confidences                      # the heads' confidence was for another colour


@needs_heads
def test_a_chinese_backdrop_phrase_names_the_backdrop_and_a_light_colour_the_product():
    """The Chinese heads take a light product colour for the backdrop ("米白色连衣裙，黑色背景" read a black dress on
    cream); a backdrop phrase gives the backdrop, and the one colour named outside it replaces the heads' colour
    where they read none or the backdrop's own, never a colour they read past ("青绿色" holds 绿色)."""
    from studio.understand import PromptReader, zh_backdrop, zh_product_colours

    assert zh_backdrop("米白色连衣裙，黑色背景") == ("black", "米白色连衣裙， ")
    assert zh_backdrop("一个白色手提包，背景是黑色")[0] == "black" and zh_backdrop("卡其色风衣（米白背景）")[0] == "cream"
    assert zh_backdrop("蓝牙音箱，灰底")[0] == "light_gray" and zh_backdrop("奶油色托特包，深色背景")[0] == "black"
    assert zh_backdrop("白色衬衫，黑色背景，白底")[0] is None                    # two backdrops: none read
    assert zh_product_colours("浅蓝色衬衫") == {"blue"} and zh_product_colours("象牙白运动鞋") == {"white"}
    assert zh_product_colours("蓝牙音箱") == set()                              # one character is no colour word
    reader = PromptReader(SHIPPED)
    dress = reader.read("米白色连衣裙，黑色背景")
    assert (dress.labels["category"], dress.labels["color"], dress.labels["background"]) == ("dress", "white", "black")
    assert reader.read("浅蓝色衬衫，白色背景").labels["background"] == "white"
    assert reader.read("米白底，青绿色衬衫").labels["color"] == "teal"          # the heads' own reading stands


@needs_heads
def test_a_chinese_furniture_word_the_heads_never_saw_names_its_piece_by_its_last_character():
    """"木桌" (a wooden table) is no word the Chinese heads learned: it was flagged as a product no model makes. A
    word ending in a furniture character names that piece, routes to furniture and is understood."""
    from studio.understand import PromptReader, zh_furniture_noun

    assert zh_furniture_noun("木桌") == "table" and zh_furniture_noun("鞋柜") == "cabinet"
    assert zh_furniture_noun("吊灯") == "lamp" and zh_furniture_noun("桌") is None and zh_furniture_noun("灯笼") is None
    reader = PromptReader(SHIPPED)
    table = reader.read("俯拍的木桌")
    assert table.domain == "furniture" and not table.unknown_product and table.labels["furniture_noun"] == "table"
    assert table.view == "top" and table.unplaced == () and not table.warnings
    assert reader.read("蓝牙音箱 白色背景").unknown_product                     # still no model's product


@needs_heads
def test_furniture_synonyms_and_materials_are_understood():
    """A furniture word the heads never saw that the noun lexicon knows names its piece whatever the heads read, and
    lifts their unknown lean when nothing else is unknown; material and finish words are understood (never "not
    understood") but still count as words in the unknown-product ablation ("wood bank" keeps "wood")."""
    from studio.data.phrasebook import EN_MATERIAL_WORDS, EN_STYLE_WORDS, descriptive_words, filler_words
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    recliner = reader.read("brown leather recliner")            # the heads alone read a door
    assert recliner.domain == "furniture" and recliner.labels["furniture_noun"] == "armchair"
    assert recliner.unplaced == () and not any(w.startswith("not understood") for w in recliner.warnings)
    for prompt, noun in (("black lacquered bureau", "cabinet"), ("a grey metal barstool", "stool")):
        read = reader.read(prompt)                              # flagged at the previous commit
        assert not read.unknown_product and read.labels["furniture_noun"] == noun and read.unplaced == (), prompt
    assert reader.read("red velvet dress").unplaced == () and reader.read("pink silk blouse").unplaced == ()
    # two nouns named ("recliner" -> armchair, "chair"): the heads' reading of a word they saw stands
    assert reader.named_furniture_noun("blue recliner chair") is None
    assert reader.read("blue recliner chair").labels["furniture_noun"] == "chair"
    # materials are not filler: a material alone still "names something", and products stay flagged
    english, _ = filler_words()
    assert descriptive_words() <= EN_MATERIAL_WORDS | EN_STYLE_WORDS and not {"velvet", "metal", "lacquered"} & english
    assert reader.names_something("velvet") and reader.names_something("wood")
    for prompt in ("a leather wallet", "stainless steel watch", "a metal bike helmet"):
        assert reader.read(prompt).unknown_product, prompt


@needs_heads
def test_chinese_material_words_are_understood_and_a_noun_after_one_still_reads():
    """A Chinese run the reader cannot place that is made of material words only is understood; one holding
    anything else is not, so "实木桌" still reaches the furniture-noun rule."""
    from studio.data.phrasebook import ZH_MATERIAL_WORDS, ZH_STYLE_WORDS, zh_descriptive_words
    from studio.understand import PromptReader

    assert all(len(w) >= 2 for w in ZH_MATERIAL_WORDS + ZH_STYLE_WORDS)
    assert set(zh_descriptive_words()) <= set(ZH_MATERIAL_WORDS + ZH_STYLE_WORDS)
    reader = PromptReader(SHIPPED)
    for prompt, category in (("红色丝绒连衣裙", "dress"), ("粉色真丝衬衫，白底", "shirt")):
        read = reader.read(prompt)
        assert read.unplaced == () and read.labels["category"] == category, prompt
    marble = reader.read("白色大理石茶几")
    assert marble.unplaced == () and marble.labels["furniture_noun"] == "table"
    chinese = reader.chinese
    assert chinese._descriptive_only("胡桃木") and chinese._descriptive_only("大理石不锈钢")
    assert not chinese._descriptive_only("实木桌") and not chinese._descriptive_only("婴儿")


@needs_heads
def test_style_and_selling_words_are_understood_in_both_languages():
    """Words of style, fit, audience or price name no product: understood, never "not understood", and a Chinese
    prompt whose only unknown run was one is no longer flagged for it ("极简白色床" was)."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    for prompt, label in (("elegant black armchair against light grey", "armchair"), ("unisex black hoodie", "pullover"),
                          ("a rustic farmhouse dining table", "table"), ("高端黑色大衣，浅灰色背景", "coat")):
        read = reader.read(prompt)
        assert read.unplaced == () and not read.unknown_product, prompt
        assert label in (read.labels.get("category"), read.labels.get("furniture_noun")), prompt
    bed = reader.read("极简白色床，浅灰色背景")
    assert not bed.unknown_product and bed.labels["furniture_noun"] == "bed" and bed.unplaced == ()
    assert reader.read("compact blue desk for small spaces").unplaced == ("spaces",)     # other words still shown


@needs_heads
def test_quantity_words_are_understood_and_hide_no_unknown_product():
    """How many and what size ("set of four", "two-seater", "两件装", "三人位") are understood; in English they name
    nothing, so an unknown product asked as "a pair of ice skates" is still flagged."""
    from studio.understand import PromptReader

    reader = PromptReader(SHIPPED)
    for prompt in ("a set of four white dining chairs", "two-seater grey sofa on white", "pack of 3 black t-shirts",
                   "三人位灰色沙发", "两件装黑色T恤，白底", "四把红色椅子，黑底"):
        read = reader.read(prompt)
        assert read.unplaced == () and not read.unknown_product, prompt
    assert not reader.names_something("a pair of, on white") and reader.names_something("两只")
    assert reader.read("pair of ice skates, white background").unknown_product
    assert reader.read("a set of golf clubs on white").unknown_product
    assert not reader.chinese._descriptive_only("四件套")          # a bedding set: "套" is left, a product word


@needs_heads
def test_a_chinese_length_is_no_colour_and_no_backdrop_is_invented():
    """"1.8米白色双人床" is a 1.8 m white bed, not an off-white (米白) one on a cream backdrop: lengths are read
    past, and a backdrop the Chinese heads read is dropped when the prompt has no backdrop phrase (背景, 底)."""
    from studio.understand import PromptReader, without_sizes

    assert without_sizes("1.8米白色双人床") == "白色双人床" and without_sizes("150cm灰色书架") == "灰色书架"
    assert without_sizes("米白色沙发") == "米白色沙发"
    reader = PromptReader(SHIPPED)
    bed = reader.read("1.8米白色双人床")
    assert bed.prompt == "1.8米白色双人床" and bed.labels["color"] == "white" and bed.labels["background"] is None
    assert bed.labels["furniture_noun"] == "bed" and bed.unplaced == ()
    sofa = reader.read("米白色布艺沙发")
    assert sofa.labels["color"] == "white" and sofa.labels["background"] is None
    assert reader.read("淡粉色衬衫").labels["background"] is None
    assert reader.read("米白色沙发，黑色背景").labels["background"] == "black"
    assert reader.read("淡粉色衬衫，白底").labels["background"] == "white"
    assert reader.read("1.8米").prompt == "1.8米"          # nothing but a length: read as typed, no error
