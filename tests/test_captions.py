import doctest
import itertools

import numpy as np
import pytest

from studio.data import captions, vocab
from studio.data.captions import (BACKGROUND_WORDS, CATEGORY_WORDS, COLOR_WORDS, TEMPLATES, caption,
                                  furniture_caption, parse)


def test_vocabulary_is_the_contract():
    assert vocab.CATEGORIES == ("tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                                "sneaker", "bag", "ankle_boot")
    assert tuple(vocab.COLORS) == ("black", "white", "gray", "red", "orange", "yellow", "green", "teal",
                                   "blue", "navy", "purple", "pink", "brown", "beige")
    assert tuple(vocab.BACKGROUNDS) == ("white", "light_gray", "cream", "pastel_blue", "pastel_pink", "black")
    assert set(CATEGORY_WORDS) == set(vocab.CATEGORIES)
    assert set(COLOR_WORDS) == set(vocab.COLORS)
    assert set(BACKGROUND_WORDS) == set(vocab.BACKGROUNDS)


def test_invisible_pairs_are_excluded_and_every_colour_has_backdrops():
    assert not vocab.is_visible("white", "white")
    assert not vocab.is_visible("black", "black")
    assert not vocab.is_visible("white", "cream")
    assert vocab.is_visible("navy", "white")
    for color in vocab.COLORS:
        assert len(vocab.visible_backgrounds(color)) >= 3, color
    # every background hosts most colours, so no backdrop becomes a proxy for a colour
    for background in vocab.BACKGROUNDS:
        hosts = [c for c in vocab.COLORS if vocab.is_visible(c, background)]
        assert len(hosts) >= 10, (background, hosts)
    with pytest.raises(ValueError, match="unknown colour"):
        vocab.is_visible("mauve", "white")


def test_named_colours_are_distinct():
    for a, b in itertools.combinations(vocab.COLORS, 2):
        distance = vocab.delta_e(vocab.hex_to_rgb(vocab.COLORS[a]), vocab.hex_to_rgb(vocab.COLORS[b]))
        assert distance > 25, (a, b, distance)


def test_enough_templates_and_synonyms():
    assert len(TEMPLATES) >= 8
    for table in (CATEGORY_WORDS, COLOR_WORDS, BACKGROUND_WORDS):
        for label, words in table.items():
            assert len(set(words)) >= 4, label
    # no word may stand for two labels
    for table in (CATEGORY_WORDS, COLOR_WORDS, BACKGROUND_WORDS):
        words = [w for ws in table.values() for w in ws]
        assert len(words) == len(set(words))


def test_caption_says_what_the_labels_say():
    """Round trip over many random label tuples: parse(caption(labels)) gives back every mentioned label."""
    rng = np.random.default_rng(0)
    seen_templates = set()
    for _ in range(5000):
        labels = {"category": rng.choice(vocab.CATEGORIES), "color": rng.choice(list(vocab.COLORS)),
                  "background": rng.choice(list(vocab.BACKGROUNDS))}
        cap = caption(labels, rng)
        seen_templates.add(cap.text.split()[0])
        assert "category" in cap.mentions
        expected = {k: (v if k in cap.mentions else None) for k, v in labels.items()}
        assert parse(cap.text) == expected, cap.text
        assert "  " not in cap.text and " a a" not in cap.text and "a off" not in cap.text
    assert len(seen_templates) >= 6


def test_caption_without_optional_labels_never_invents_them():
    rng = np.random.default_rng(1)
    for _ in range(500):
        cap = caption({"category": "bag", "color": None, "background": None}, rng)
        assert cap.mentions == {"category"}
        assert parse(cap.text) == {"category": "bag", "color": None, "background": None}


def test_caption_is_deterministic_by_seed():
    labels = {"category": "dress", "color": "teal", "background": "cream"}
    a = [caption(labels, np.random.default_rng(7)).text for _ in range(3)]
    assert len(set(a)) == 1
    many = {caption(labels, np.random.default_rng(s)).text for s in range(50)}
    assert len(many) > 20


def test_caption_rejects_unknown_labels():
    with pytest.raises(ValueError, match="unknown category"):
        caption({"category": "hat"}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown colour"):
        caption({"category": "bag", "color": "mauve"}, np.random.default_rng(0))


@pytest.mark.parametrize("text, expected", [
    ("crimson trainers on a cream backdrop", ("sneaker", "red", "cream")),
    ("navy ankle boot on a cream background", ("ankle_boot", "navy", "cream")),
    ("pink trousers on a beige background", ("trouser", "pink", "cream")),
    ("beige trousers on a pink background", ("trouser", "beige", "pastel_pink")),
    ("a dark blue t-shirt", ("tshirt", "navy", None)),
    ("white button-down shirt on black", ("shirt", "white", "black")),
    ("Tote bag in tangerine, light grey backdrop", ("bag", "orange", "light_gray")),
    ("sandals", ("sandal", None, None)),
])
def test_parse_free_phrasings(text, expected):
    result = parse(text)
    assert (result["category"], result["color"], result["background"]) == expected


def test_furniture_caption_uses_name_room_tags_and_background():
    rng = np.random.default_rng(0)
    texts = {furniture_caption("Office chair", "office", ("Seat",), "cream", rng).text for _ in range(200)}
    assert all("office chair" in t for t in texts)
    assert any("for the office" in t for t in texts)
    assert any("seat" in t for t in texts)
    assert any(("cream" in t or "ivory" in t or "off-white" in t or "eggshell" in t) for t in texts)
    with pytest.raises(ValueError, match="empty name"):
        furniture_caption(" ", "office", (), None, rng)


def test_module_examples_hold():
    assert doctest.testmod(captions).failed == 0


def test_without_background_takes_out_the_phrase_parse_reads():
    from studio.data.captions import without_background

    assert without_background("a coffee machine on a cream background") == "a coffee machine"
    assert without_background("product render of a toaster, ivory studio backdrop") == "product render of a toaster"
    assert without_background("red sneaker against a pale gray background please") == "red sneaker please"
    assert without_background("a toaster") == "a toaster"
