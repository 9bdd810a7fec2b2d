"""Text condition shared by the GAN and the VAE: MiniLM token states -> one condition vector.

The mean-pooled MiniLM vector barely moves when two colours swap nouns (cosine 0.98 for "pink trousers
on a beige background" vs "beige trousers on a pink background"), so the condition is built from the
per-token states: several learned queries attend over the tokens (attention pooling, as in AttnGAN's use
of word features; Xu et al., CVPR 2018), each free to pick up a different part of the description (the
product, its colour, the backdrop). Their outputs and the pooled vector are mixed by a small MLP.

Its sizes are four flat arguments of every network that holds one (`text_dim`, `text_queries`,
`text_heads`, `text_width`), so a model's config.json stays one readable level deep.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class TextCondition(nn.Module):
    def __init__(self, text_dim: int = 384, queries: int = 4, heads: int = 4, dim: int = 128):
        super().__init__()
        self.dim = dim
        self.token_proj = nn.Linear(text_dim, dim)
        self.queries = nn.Parameter(torch.randn(queries, dim) * 0.02)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.pooled_proj = nn.Linear(text_dim, dim)
        self.mix = nn.Sequential(nn.Linear(dim * (queries + 1), 2 * dim), nn.SiLU(), nn.Linear(2 * dim, dim))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """tokens (B, T, 384), mask (B, T) True on real tokens, pooled (B, 384) -> (B, dim)."""
        b = tokens.shape[0]
        keys = self.token_proj(tokens)                                        # (B, T, dim)
        queries = self.queries.unsqueeze(0).expand(b, -1, -1)                  # (B, Q, dim)
        slots, _ = self.attention(queries, keys, keys, key_padding_mask=~mask)  # (B, Q, dim)
        parts = torch.cat([slots.flatten(1), self.pooled_proj(pooled)], dim=1)  # (B, (Q+1)*dim)
        return self.mix(parts)                                                 # (B, dim)


def check_size(size: int) -> None:
    """The GAN's and the VAE's image side: a power of two of at least 16."""
    if not isinstance(size, int) or size < 16 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 16, got {size!r}")


def pyramid(size: int, width: int) -> list[int]:
    """Channels from `size` down to 4 px: `width` at full resolution, x2 per halving, capped at 8x."""
    levels = size.bit_length() - 2                 # log2(size) - 1 levels: size, size/2, ..., 4
    return [width * min(8, 2 ** i) for i in range(levels)]
