"""Views of a product: the camera grid the multi-view furniture catalog is rendered on, what each view is
called, and the words captions use for it.

    VIEWS                      17 (azimuth, elevation) pairs: 8 azimuths x 2 elevations, and one from above
    view_label(90, 15)         "side"
    VIEW_WORDS["side"]         ("seen from the side", "side view", ...)
    parse_view("a grey sofa, seen from the side")  -> "side"      (parse_view("灰色沙发侧面图") -> "side")
    without_view("a grey sofa, seen from the side") -> "a grey sofa"
    view_index("a grey sofa, seen from the side")  -> 3   (0: no view named; 1 + the place in LABELS)
    with_view("a grey sofa, seen from the side", "back")  -> "a grey sofa, seen from the back"

Azimuth 0 looks at the product's front; azimuth grows counter-clockwise seen from above, so 90 shows its
right side. The labels: front (within 22.5 degrees of 0), three-quarter (45 or 315), side (90 or 270),
rear three-quarter (135 or 225), back (180), top (elevation 60 and above).
"""

from __future__ import annotations

import re

AZIMUTHS = tuple(range(0, 360, 45))
ELEVATIONS = (15, 35)
TOP = (0, 75)
VIEWS: tuple[tuple[int, int], ...] = tuple((a, e) for e in ELEVATIONS for a in AZIMUTHS) + (TOP,)
LABELS = ("front", "three-quarter", "side", "rear three-quarter", "back", "top")

# The first phrase of each is what a caption uses most; all of them are understood in a prompt.
VIEW_WORDS: dict[str, tuple[str, ...]] = {
    "front": ("seen from the front", "front view", "from the front", "facing the camera"),
    "three-quarter": ("in a three-quarter view", "three-quarter view", "seen at an angle from the front",
                      "from the front at an angle"),
    "side": ("seen from the side", "side view", "in profile", "from the side"),
    "rear three-quarter": ("seen from behind at an angle", "rear three-quarter view", "from behind at an angle"),
    "back": ("seen from the back", "back view", "rear view", "from behind", "from the back"),
    "top": ("seen from above", "top view", "from above", "overhead view", "bird's-eye view"),
}


def view_label(azimuth: float, elevation: float) -> str:
    """The name of the view from (azimuth, elevation) in degrees."""
    if elevation >= 60:
        return "top"
    a = azimuth % 360
    turn = min(a, 360 - a)                                 # 0 at the front, 180 at the back
    if turn <= 22.5:
        return "front"
    if turn < 67.5:
        return "three-quarter"
    if turn <= 112.5:
        return "side"
    if turn < 157.5:
        return "rear three-quarter"
    return "back"


# Chinese requests name views as product listings do (正面图, 侧面, 俯视图); understood, never written in captions.
# The bare 正面 / 侧面 / 背面 also name a product's parts (背面印花: a print on the back, 侧面口袋: a side pocket),
# so alone they count only as a clause of their own ("灰色沙发，侧面").
ZH_VIEW_WORDS: dict[str, tuple[str, ...]] = {
    "front": ("正面图", "正视图", "正面视角", "从正面看", "从正面", "正面"),
    "three-quarter": ("四分之三视角", "斜侧面", "斜前方", "45度角"),
    "side": ("侧面图", "侧视图", "侧面视角", "从侧面看", "从侧面", "侧拍", "侧面"),
    "rear three-quarter": ("斜后方", "后侧面"),
    "back": ("背面图", "后视图", "背面视角", "从背面看", "从背面", "从后面看", "从后面", "背面"),
    "top": ("俯视图", "顶视图", "俯视", "从上方", "从上面看", "从上往下看", "俯拍", "俯瞰", "顶部视角"),
}
_ZH_BARE = ("正面", "侧面", "背面")
_ZH_EDGE = r"\s,，.。;；:：、"

# More English phrasings merchants write: understood in a prompt, never written in a caption (VIEW_WORDS stay the
# captions' words). A verb before a phrase ("viewed from above", "seen from behind") goes with it.
VIEW_WORDS_READ: dict[str, tuple[str, ...]] = {
    "front": ("front-on", "head-on", "from the front side"),
    "three-quarter": ("three quarter view", "3/4 view", "at a 45-degree angle", "at a 45 degree angle", "45-degree angle",
                      "45 degree angle", "at an angle"),
    "side": ("side-on", "side profile", "profile view", "from the left", "from the right", "from the left side",
             "from the right side"),
    "back": ("from the rear", "rear-facing"),
    "top": ("top-down view", "top down view", "top-down", "from overhead", "from the top", "birds-eye view",
            "bird's eye view", "overhead shot", "overhead angle", "overhead photo"),
}
_VERB = r"(?:(?:seen|viewed|shown|pictured|photographed|shot|taken)\s+)?"
_PHRASES = sorted(((w, label) for table in (VIEW_WORDS, VIEW_WORDS_READ) for label, words in table.items()
                   for w in words), key=lambda p: -len(p[0]))
_VIEW_RE = re.compile(r"(?<![\w-])" + _VERB + "(" + "|".join(re.escape(w) for w, _ in _PHRASES) + r")(?![\w-])",
                      re.IGNORECASE)
_LOOKUP = {w.lower(): label for w, label in _PHRASES}
_ZH_PHRASES = sorted(((w, label) for label, words in ZH_VIEW_WORDS.items() for w in words), key=lambda p: -len(p[0]))
_ZH_RE = re.compile("|".join(rf"(?:(?<=^)|(?<=[{_ZH_EDGE}])){re.escape(w)}(?=$|[{_ZH_EDGE}])" if w in _ZH_BARE
                             else re.escape(w) for w, _ in _ZH_PHRASES))
_ZH_LOOKUP = dict(_ZH_PHRASES)


def parse_view(text: str) -> str | None:
    """The view a prompt asks for, or None. The longest phrase wins ("rear three-quarter view" is not
    "three-quarter view"); English phrases, then Chinese ones (ZH_VIEW_WORDS)."""
    match = _VIEW_RE.search(text or "")
    if match:
        return _LOOKUP[match.group(1).lower()]
    match = _ZH_RE.search(text or "")
    return _ZH_LOOKUP[match.group(0)] if match else None


def without_view(text: str) -> str:
    """The prompt with every view phrase (English or Chinese) taken out, and the separators it stood
    between closed up ("灰色沙发，侧面图，白色背景" -> "灰色沙发，白色背景")."""
    text = _ZH_RE.sub(" ", _VIEW_RE.sub(" ", text or ""))
    text = re.sub(r"([,，;；、])(?:\s*[,，;；、])+", r"\1", re.sub(r"\s+", " ", text))
    return re.sub(r"\s+([,，;；、])", r"\1", text).strip(" ,.;:，、；")


def view_index(text: str) -> int:
    """The view a prompt asks for as a number for a view embedding: 0 when it names none, else 1 + its place
    in LABELS."""
    view = parse_view(text)
    return 0 if view is None else 1 + LABELS.index(view)


def with_view(text: str, view: str) -> str:
    """The prompt asking for `view` instead: the view phrase it has is replaced in place (the first one; a
    "... view" phrase by one of the same shape, so "side view of a sofa" stays a sentence), or the view's
    caption phrase is appended after a comma."""
    if view not in VIEW_WORDS:
        raise ValueError(f"unknown view {view!r}; known: {', '.join(VIEW_WORDS)}")
    phrase = VIEW_WORDS[view][0]
    noun_phrase = next(w for w in VIEW_WORDS[view] if w.endswith(" view"))
    text = (text or "").strip()
    if _VIEW_RE.search(text):
        return _VIEW_RE.sub(lambda m: noun_phrase if m.group(1).lower().endswith(" view") else phrase, text, count=1)
    return f"{text.rstrip(' ,.;')}, {phrase}" if text else phrase
