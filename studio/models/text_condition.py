"""Text condition shared by the GAN and the VAE: MiniLM token states -> one condition vector.

The mean-pooled MiniLM vector barely moves when two colours swap nouns (cosine 0.98 for "pink trousers
on a beige background" vs "beige trousers on a pink background"), so the condition is built from the
per-token states: several learned queries attend over the tokens (attention pooling, as in AttnGAN's use
of word features; Xu et al., CVPR 2018), each free to pick up a different part of the description (the
product, its colour, the backdrop). Their outputs and the pooled vector are mixed by a small MLP.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass(frozen=True)
class TextConditionConfig:
    text_dim: int = 384      # MiniLM hidden size
    queries: int = 4         # attention-pooling slots
    heads: int = 4
    dim: int = 128           # output condition size


class TextCondition(nn.Module):
    def __init__(self, config: TextConditionConfig):
        super().__init__()
        self.config = config
        self.token_proj = nn.Linear(config.text_dim, config.dim)
        self.queries = nn.Parameter(torch.randn(config.queries, config.dim) * 0.02)
        self.attention = nn.MultiheadAttention(config.dim, config.heads, batch_first=True)
        self.pooled_proj = nn.Linear(config.text_dim, config.dim)
        self.mix = nn.Sequential(
            nn.Linear(config.dim * (config.queries + 1), 2 * config.dim), nn.SiLU(),
            nn.Linear(2 * config.dim, config.dim),
        )

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """tokens (B, T, 384), mask (B, T) True on real tokens, pooled (B, 384) -> (B, dim)."""
        b = tokens.shape[0]
        keys = self.token_proj(tokens)                                        # (B, T, dim)
        queries = self.queries.unsqueeze(0).expand(b, -1, -1)                  # (B, Q, dim)
        slots, _ = self.attention(queries, keys, keys, key_padding_mask=~mask)  # (B, Q, dim)
        parts = torch.cat([slots.flatten(1), self.pooled_proj(pooled)], dim=1)  # (B, (Q+1)*dim)
        return self.mix(parts)                                                 # (B, dim)


def check_image_config(config) -> None:
    """Shared by the GAN's and the VAE's frozen configs: the nested text config comes back from config.json
    as a dict, and the image side must be a power of two of at least 16."""
    if isinstance(config.text, dict):
        object.__setattr__(config, "text", TextConditionConfig(**config.text))
    if config.size < 16 or config.size & (config.size - 1):
        raise ValueError(f"size must be a power of two >= 16, got {config.size}")
