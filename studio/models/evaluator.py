"""Attribute evaluator: a network that reads category, colour, background (and, for the multi-view catalog,
the view) off a product image. Two backbones: a small CNN trained from scratch (`backbone="cnn"`, the fashion
and single-icon furniture judges), or EfficientNet-Lite0 started from its ImageNet weights and fine-tuned
(`backbone="effnet-lite0"`, run at `input_size` px), for catalogs where a from-scratch CNN stays far under
the bar on 2 CPU cores (the multi-view furniture judge: item class and view).

It is the project's judge (never a training loss for the generators): its accuracy on real test images is
the ceiling generated images are compared against, and its penultimate 256-d features are the space for
`fd_evaluator` / `kid_evaluator`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config


BACKBONES = ("cnn", "effnet-lite0")


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class AttributeEvaluator(ModelMixin, ConfigMixin):
    """head_sizes: (attribute, number of labels) pairs; labels: the label names per head, in head order; size:
    the input side (other sizes are resized to it); width: channels of the first stage (x2, x4 after).
    `catalog` and `training` are provenance (the catalog it reads, its training record and test accuracy),
    kept in config.json for the harness and the model card."""

    @register_to_config
    def __init__(self, head_sizes=(("category", 10), ("color", 14), ("background", 6)), labels=(), size: int = 32,
                 width: int = 32, features: int = 256, catalog: str | None = None, training: dict | None = None,
                 backbone: str = "cnn", input_size: int | None = None):
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown evaluator backbone {backbone!r}; known: {', '.join(BACKBONES)}")
        if backbone == "effnet-lite0":
            from .effnet import EfficientNetLite0

            self.trunk = EfficientNetLite0(num_classes=None)
            self.embed = nn.Linear(1280, features)
        else:
            w = width
            self.stage1 = _block(3, w)
            self.stage2 = _block(w, 2 * w)
            self.stage3 = _block(2 * w, 4 * w)
            self.embed = nn.Linear(4 * w * 4 * 4, features)
        self.dropout = nn.Dropout(0.3)
        self.heads = nn.ModuleDict({name: nn.Linear(features, n) for name, n in head_sizes})

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, features) penultimate activations."""
        s = self.config.size
        if x.shape[-2:] != (s, s):
            x = F.interpolate(x, size=(s, s), mode="area")
        if self.config.backbone == "effnet-lite0":
            side = self.config.input_size or s
            if side != s:
                x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
            return F.relu(self.embed(self.trunk.pooled_features(x)))
        x = F.max_pool2d(self.stage1(x), 2)           # (B, w, s/2, s/2)
        x = F.max_pool2d(self.stage2(x), 2)           # (B, 2w, s/4, s/4)
        x = F.max_pool2d(self.stage3(x), 2)           # (B, 4w, s/8, s/8)
        x = F.adaptive_avg_pool2d(x, 4).flatten(1)    # (B, 4w*16)
        return F.relu(self.embed(x))                  # (B, features)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.dropout(self.features(x))
        return {name: head(h) for name, head in self.heads.items()}

    def start_from_imagenet(self) -> None:
        """Load the ImageNet weights into the EfficientNet trunk (training starts from them)."""
        from .effnet import load_efficientnet_lite0

        state = {k: v for k, v in load_efficientnet_lite0().state_dict().items() if not k.startswith("_fc.")}
        self.trunk.load_state_dict(state, strict=True)
