"""Attribute evaluator: a small CNN that reads category, colour and background off a product image.

It is the project's judge (never a training loss for the generators): its accuracy on real test images is
the ceiling generated images are compared against, and its penultimate 256-d features are the space for
`fd_evaluator` / `kid_evaluator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class EvaluatorConfig:
    heads: tuple[tuple[str, int], ...] = (("category", 10), ("color", 14), ("background", 6))
    labels: tuple[tuple[str, ...], ...] = ()   # label names per head, in head order
    size: int = 32                             # input side; other sizes are resized to it
    width: int = 32                            # channels of the first stage (x2, x4 after)
    features: int = 256


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class AttributeEvaluator(nn.Module):
    def __init__(self, config: EvaluatorConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.stage1 = _block(3, w)
        self.stage2 = _block(w, 2 * w)
        self.stage3 = _block(2 * w, 4 * w)
        self.embed = nn.Linear(4 * w * 4 * 4, config.features)
        self.dropout = nn.Dropout(0.3)
        self.heads = nn.ModuleDict({name: nn.Linear(config.features, n) for name, n in config.heads})

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, features) penultimate activations."""
        s = self.config.size
        if x.shape[-2:] != (s, s):
            x = F.interpolate(x, size=(s, s), mode="area")
        x = F.max_pool2d(self.stage1(x), 2)           # (B, w, s/2, s/2)
        x = F.max_pool2d(self.stage2(x), 2)           # (B, 2w, s/4, s/4)
        x = F.max_pool2d(self.stage3(x), 2)           # (B, 4w, s/8, s/8)
        x = F.adaptive_avg_pool2d(x, 4).flatten(1)    # (B, 4w*16)
        return F.relu(self.embed(x))                  # (B, features)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.dropout(self.features(x))
        return {name: head(h) for name, head in self.heads.items()}
