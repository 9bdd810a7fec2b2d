"""Captions: many phrasings of one attribute tuple, and the reverse (text -> labels).

Models should learn a neighbourhood of sentence space, not a handful of exact strings, so every label has
several words for it and every caption picks a template and words with a seeded RNG. `parse` maps text back
to labels; the tests use it to check that each caption says what its labels say, and the evaluation
harness uses it to label free-form prompts.

    >>> import numpy as np
    >>> caption({"category": "sneaker", "color": "red", "background": "cream"}, np.random.default_rng(1)).text
    'cherry red sneakers isolated on a cream seamless background'
    >>> parse("pink trousers on a beige background")
    {'category': 'trouser', 'color': 'pink', 'background': 'cream'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .vocab import BACKGROUNDS, CATEGORIES, COLORS

# ---- words (data) ----------------------------------------------------------------------------------

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "tshirt": ("t-shirt", "tee", "tee shirt", "short-sleeve top", "crew-neck tee"),
    "trouser": ("trousers", "pants", "slacks", "straight-leg trousers", "full-length pants"),
    "pullover": ("pullover", "sweater", "jumper", "knit sweater", "crew-neck jumper"),
    "dress": ("dress", "frock", "shift dress", "sleeveless dress", "midi dress"),
    "coat": ("coat", "jacket", "overcoat", "winter coat", "zip jacket"),
    "sandal": ("sandal", "sandals", "strappy sandal", "open-toe sandal", "summer sandals"),
    "shirt": ("shirt", "button-down shirt", "button-up shirt", "blouse", "long-sleeve shirt"),
    "sneaker": ("sneaker", "trainer", "running shoe", "sneakers", "trainers", "athletic shoe"),
    "bag": ("bag", "handbag", "tote", "purse", "shoulder bag", "tote bag"),
    "ankle_boot": ("ankle boot", "bootie", "ankle boots", "short boot", "chelsea boot"),
}
# Nouns that take no "a": "red trousers on a white background".
PLURAL_WORDS = frozenset({
    "trousers", "pants", "slacks", "straight-leg trousers", "full-length pants", "sandals",
    "summer sandals", "sneakers", "trainers", "ankle boots",
})

COLOR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "jet black", "ebony", "inky black"),
    "white": ("white", "snow white", "bright white", "optic white"),
    "gray": ("gray", "grey", "slate grey", "ash gray"),
    "red": ("red", "crimson", "scarlet", "cherry red"),
    "orange": ("orange", "tangerine", "bright orange", "pumpkin orange"),
    "yellow": ("yellow", "lemon yellow", "golden yellow", "sunflower yellow"),
    "green": ("green", "emerald", "forest green", "kelly green"),
    "teal": ("teal", "blue-green", "dark cyan", "petrol"),
    "blue": ("blue", "royal blue", "cobalt", "bright blue"),
    "navy": ("navy", "navy blue", "dark blue", "midnight blue"),
    "purple": ("purple", "violet", "plum", "grape purple"),
    "pink": ("pink", "hot pink", "rose pink", "bubblegum pink"),
    "brown": ("brown", "chocolate", "chestnut", "cocoa brown"),
    "beige": ("beige", "tan", "sand", "camel"),
}

BACKGROUND_WORDS: dict[str, tuple[str, ...]] = {
    "white": ("white", "pure white", "plain white", "studio white"),
    "light_gray": ("light gray", "light grey", "pale gray", "soft grey"),
    "cream": ("cream", "off-white", "ivory", "eggshell"),
    "pastel_blue": ("pastel blue", "baby blue", "powder blue", "light blue"),
    "pastel_pink": ("pastel pink", "blush", "light pink", "baby pink"),
    "black": ("black", "dark", "deep black", "charcoal"),
}
# Looser words a merchant may type; `parse` accepts them, captions never use them (they would blur which
# of our six backdrops is meant).
BACKGROUND_ALIASES: dict[str, tuple[str, ...]] = {
    "white": ("bright", "clean white"), "light_gray": ("gray", "grey", "silver", "light-grey", "light-gray"),
    "cream": ("beige", "ecru", "vanilla"), "pastel_blue": ("blue", "sky blue", "pale blue"),
    "pastel_pink": ("pink", "rose", "pale pink"), "black": ("dark grey", "dark gray", "jet black"),
}
BACKGROUND_NOUNS: tuple[str, ...] = ("background", "backdrop", "studio backdrop", "seamless background")

# {product}: article + colour + noun ("a red sneaker", "red trousers"); {color}, {noun}; {bg}: background
# word ({a_bg} with its article); {bgnoun}: "background", "backdrop", ... A template mentions the colour
# if it uses {product} or {color}, and the background if it uses {bg} or {a_bg}.
TEMPLATES: tuple[str, ...] = (
    "{product} on {a_bg} {bgnoun}",
    "{product} against {a_bg} {bgnoun}",
    "product photo of {product} on {a_bg} {bgnoun}",
    "{color} {noun} on {bg}",
    "{noun} in {color}, {bg} {bgnoun}",
    "studio shot of {product}, {bg} {bgnoun}",
    "e-commerce photo: {color} {noun} on {a_bg} {bgnoun}",
    "{product} isolated on {a_bg} {bgnoun}",
    "catalog image of {product} over {a_bg} {bgnoun}",
    "{product}",
    "{color} {noun}",
    "a photo of {product}",
    "{bare_product} on {a_bg} {bgnoun}",
    "{bare_product}",
    "product photo of {bare_product}",
)

# ---- furniture -------------------------------------------------------------------------------------

# Sweet Home 3D categories as labels, and the room phrase a caption may use for them.
FURNITURE_ROOMS: dict[str, str | None] = {
    "living_room": "living room", "kitchen": "kitchen", "bedroom": "bedroom", "bathroom": "bathroom",
    "office": "office", "exterior": "garden", "lights": None, "miscellaneous": None,
    "doors_and_windows": None, "vehicles": None, "staircases": None, "characters": None,
}
FURNITURE_TEMPLATES: tuple[str, ...] = (
    "{a_name} on {a_bg} {bgnoun}",
    "{name} on {bg}",
    "product render of {a_name}, {bg} {bgnoun}",
    "{a_name}",
    "{name}, {tags}",
    "{a_name} for the {room}",
    "{a_name} for the {room}, on {a_bg} {bgnoun}",
    "catalog image of {a_name} ({tags}) against {a_bg} {bgnoun}",
    "3d render of {a_name}",
)


@dataclass(frozen=True)
class Caption:
    text: str
    mentions: frozenset[str]  # which label keys the text states


def _article(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def caption(labels: Mapping[str, str | None], rng: np.random.Generator,
            templates: Sequence[str] = TEMPLATES) -> Caption:
    """One phrasing of a fashion label tuple (category required; color/background may be None)."""
    category, color, background = labels.get("category"), labels.get("color"), labels.get("background")
    if category not in CATEGORY_WORDS:
        raise ValueError(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}")
    if color is not None and color not in COLOR_WORDS:
        raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLORS)}")
    if background is not None and background not in BACKGROUND_WORDS:
        raise ValueError(f"unknown background {background!r}; known: {', '.join(BACKGROUNDS)}")
    usable = [t for t in templates if (color is not None or not mentions_color(t))
              and (background is not None or not mentions_background(t))]
    if not usable:
        raise ValueError(f"no template fits labels {dict(labels)}")
    template = _pick(rng, usable)
    noun = _pick(rng, CATEGORY_WORDS[category])
    color_word = _pick(rng, COLOR_WORDS[color]) if color else ""
    colored = f"{color_word} {noun}".strip()
    fields = {
        "noun": noun,
        "color": color_word,
        "product": colored if noun in PLURAL_WORDS else _article(colored),
        "bare_product": noun if noun in PLURAL_WORDS else _article(noun),
        "bgnoun": _pick(rng, BACKGROUND_NOUNS),
    }
    fields["bg"] = _pick(rng, BACKGROUND_WORDS[background]) if background else ""
    fields["a_bg"] = _article(fields["bg"]) if background else ""
    mentions = {"category"} | ({"color"} if mentions_color(template) else set()) \
        | ({"background"} if mentions_background(template) else set())
    return Caption(template.format(**fields), frozenset(mentions))


def mentions_background(template: str) -> bool:
    """Whether a template states the background."""
    return "{bg}" in template or "{a_bg}" in template


def mentions_color(template: str) -> bool:
    """Whether a (fashion) template states the product colour."""
    return any(field in template for field in ("{product}", "{a_product}", "{color}"))


def furniture_caption(name: str, category: str, tags: Sequence[str], background: str | None,
                      rng: np.random.Generator, color: str | None = None) -> Caption:
    """One phrasing for a furniture item from its name, category label, tags and background label; with
    `color`, a word for it stands before the name ("a grey Corner sofa") and the caption mentions it."""
    if not name.strip():
        raise ValueError("furniture item has an empty name")
    if category not in FURNITURE_ROOMS:
        raise ValueError(f"unknown furniture category {category!r}; known: {', '.join(FURNITURE_ROOMS)}")
    if color is not None and color not in COLOR_WORDS:
        raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLOR_WORDS)}")
    room = FURNITURE_ROOMS[category]
    usable = [t for t in FURNITURE_TEMPLATES
              if (room or "{room}" not in t) and (tags or "{tags}" not in t) and (background or not mentions_background(t))]
    template = _pick(rng, usable)
    display = name if any(ch.isupper() for ch in name[1:]) else name.lower()
    if color is not None:
        display = f"{_pick(rng, COLOR_WORDS[color])} {display}"
    fields = {
        "name": display, "a_name": _article(display), "tags": ", ".join(t.lower() for t in tags),
        "room": room or "", "bgnoun": _pick(rng, BACKGROUND_NOUNS),
    }
    fields["bg"] = _pick(rng, BACKGROUND_WORDS[background]) if background else ""
    fields["a_bg"] = _article(fields["bg"]) if background else ""
    mentions = {"name"} | ({"background"} if mentions_background(template) else set()) \
        | ({"category"} if "{room}" in template else set()) | ({"color"} if color is not None else set())
    return Caption(template.format(**fields), frozenset(mentions))


# The multi-view catalog's captions: what the item is (its class noun, or its own name), its colour, the view
# and the background, e.g. "a grey sofa, seen from the side, on a white background".
VIEW_TEMPLATES: tuple[str, ...] = (
    "{a_col_noun}, {view}, on {a_bg} {bgnoun}",
    "{a_col_noun} {view} on {bg}",
    "product render of {a_col_name}, {view}, {bg} {bgnoun}",
    "{a_name}, {view}",
    "{view_title} of {a_col_noun} on {a_bg} {bgnoun}",
    "{a_col_noun}, {view}",
    "3d render of {a_name} {view} against {a_bg} {bgnoun}",
)


def view_caption(name: str, item_class: str, color: str, view: str, background: str | None,
                 rng: np.random.Generator) -> Caption:
    """One phrasing for a view of a furniture item: class noun or name, colour, view words, background."""
    from .views import VIEW_WORDS

    if not name.strip():
        raise ValueError("furniture item has an empty name")
    if view not in VIEW_WORDS:
        raise ValueError(f"unknown view {view!r}; known: {', '.join(VIEW_WORDS)}")
    if color not in COLOR_WORDS:
        raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLOR_WORDS)}")
    usable = [t for t in VIEW_TEMPLATES if background or not mentions_background(t)]
    template = _pick(rng, usable)
    display = name if any(ch.isupper() for ch in name[1:]) else name.lower()
    noun = item_class if item_class != "other" else display
    col = _pick(rng, COLOR_WORDS[color])
    phrase = _pick(rng, VIEW_WORDS[view][:3])
    fields = {"name": display, "a_name": _article(display), "a_col_noun": _article(f"{col} {noun}"),
              "a_col_name": _article(f"{col} {display}"), "view": phrase,
              "view_title": _pick(rng, [w for w in VIEW_WORDS[view] if w.endswith("view")] or [phrase]),
              "bgnoun": _pick(rng, BACKGROUND_NOUNS)}
    fields["bg"] = _pick(rng, BACKGROUND_WORDS[background]) if background else ""
    fields["a_bg"] = _article(fields["bg"]) if background else ""
    mentions = {"view"} | ({"background"} if mentions_background(template) else set()) \
        | ({"color"} if "col_" in template else set()) | ({"category"} if "col_noun" in template else {"name"})
    return Caption(template.format(**fields), frozenset(mentions))


# ---- parsing ---------------------------------------------------------------------------------------

def _alternation(words: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    lookup = {w: label for label, ws in words.items() for w in ws}
    # Longest first, so "navy blue" wins over "blue" and "tote bag" over "bag" at the same position.
    ordered = sorted(lookup, key=len, reverse=True)
    return "|".join(re.escape(w) for w in ordered), lookup


_CAT_RE, _CAT_LOOKUP = _alternation(CATEGORY_WORDS)
_COL_RE, _COL_LOOKUP = _alternation(COLOR_WORDS)
_BG_RE, _BG_LOOKUP = _alternation(
    {k: BACKGROUND_WORDS[k] + BACKGROUND_ALIASES.get(k, ()) for k in BACKGROUND_WORDS})
_BGNOUN_RE = "|".join(re.escape(w) for w in sorted(BACKGROUND_NOUNS, key=len, reverse=True))
_B = r"(?<![\w-])"  # word boundary that treats '-' as part of a word ("t-shirt" is not "shirt")
_E = r"(?![\w-])"
_BG_PATTERNS = (
    re.compile(rf"{_B}({_BG_RE})\s+(?:{_BGNOUN_RE}){_E}"),
    re.compile(rf"{_B}(?:on|against|over)\s+(?:an?\s+|the\s+)?({_BG_RE})\s*$"),
)
_CAT_PATTERN = re.compile(rf"{_B}({_CAT_RE}){_E}")
_COL_PATTERN = re.compile(rf"{_B}({_COL_RE}){_E}")


def without_background(text: str) -> str:
    """`text` with the background phrase `parse` reads taken out, with the "on a" before it ("a coffee
    machine on a cream background" -> "a coffee machine"); unchanged when it names no background."""
    lowered = text.lower()
    if len(lowered) != len(text):                     # positions would not carry over
        return text
    for pattern in _BG_PATTERNS:
        match = pattern.search(lowered)
        if match:
            head = re.sub(r"(?:\s*,)?\s*(?:(?:on|against|over)\s+)?(?:(?:an?|the)\s+)?$", "", text[:match.start()],
                          flags=re.IGNORECASE)
            return re.sub(r"\s+", " ", f"{head} {text[match.end():]}").strip(" ,.;:")
    return text


def background_index(text: str) -> int:
    """The backdrop a prompt names as a number for a label embedding: 0 when it names none, else 1 + its
    place in BACKGROUNDS (what `parse` reads)."""
    background = parse(text)["background"]
    return 0 if background is None else 1 + list(BACKGROUNDS).index(background)


def colors_named(text: str) -> list[str]:
    """Every colour label the colour words of a text name, in order, outside its backdrop phrase (as `parse`
    reads them): "navy blue bed on a white background" -> ["navy"]."""
    lowered = without_background(re.sub(r"\s+", " ", text.lower()).strip(" .!"))
    return [_COL_LOOKUP[m.group(1)] for m in _COL_PATTERN.finditer(lowered)]


def parse(text: str) -> dict[str, str | None]:
    """Labels a fashion description states: {'category', 'color', 'background'}, None where unsaid.

    The background is the colour word that qualifies 'background'/'backdrop' (or ends the text after
    'on'/'against'); the product colour is the first colour word outside that phrase.
    """
    lowered = re.sub(r"\s+", " ", text.lower()).strip(" .!")
    background = None
    for pattern in _BG_PATTERNS:
        match = pattern.search(lowered)
        if match:
            background = _BG_LOOKUP[match.group(1)]
            lowered = lowered[:match.start()] + " " + lowered[match.end():]
            break
    cat = _CAT_PATTERN.search(lowered)
    col = _COL_PATTERN.search(lowered)
    return {
        "category": _CAT_LOOKUP[cat.group(1)] if cat else None,
        "color": _COL_LOOKUP[col.group(1)] if col else None,
        "background": background,
    }
