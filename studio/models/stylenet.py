"""The live style network: arbitrary style transfer in one forward pass (AdaIN, Huang & Belongie, ICCV 2017),
with EfficientNet-Lite0 as the fixed encoder and a small decoder trained here (studio/train/stylenet.py).

- The photo's feature maps after Lite0 blocks 0, 2 and 4 (16, 24 and 40 channels at 1/2, 1/4 and 1/8 of its
  size) get the reference's per-channel mean and spread (adaptive instance normalisation) and the decoder
  turns them back into pixels. Three levels rather than AdaIN's one: the finer ones carry the photo's edges,
  which a decoder fed from 1/8 alone would blur (the content-keeping half of the bar).
- Strength blends the normalised features with the photo's own (AdaIN's content-style trade-off), so one
  network serves every strength; at 0 the decoder only reconstructs.
- The decoder upsamples by nearest neighbour then convolves (no transposed convolutions: no checkerboard),
  reflection padding, and runs its widest layers at low resolution: under 1 GMAC at 512x512 (width 48).

What a recipe keeps of a reference is its moments (`StyleStats.moments`, studio/edits/neural_style.py), so a
recipe replays without the reference file. Networks only; applying it to images is neural_style.py.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

BLOCKS = (0, 2, 4)              # Lite0 blocks whose outputs are normalised and decoded
CHANNELS = (16, 24, 40)         # ... their channels (strides 2, 4, 8)


def moments(feature: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, H, W) -> each channel's mean and standard deviation over its positions, (B, C) each."""
    flat = feature.flatten(2)
    return flat.mean(-1), (flat.var(-1, unbiased=False) + 1e-5).sqrt()


def adain(feature: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """`feature` with each channel's mean and spread set to `mean`, `std` ((B, C) or (C,)), blended with the
    feature itself by `strength`."""
    own_mean, own_std = moments(feature)
    mean, std = mean.expand_as(own_mean), std.expand_as(own_std)
    moved = (feature - own_mean[..., None, None]) / own_std[..., None, None] * std[..., None, None] \
        + mean[..., None, None]
    return moved if strength == 1 else strength * moved + (1 - strength) * feature


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3))


class _Residual(nn.Module):
    """Two 3x3 convolutions with a ReLU between, added to the input: depth without losing what came in."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels), nn.ReLU(), _conv(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class StyleDecoder(ModelMixin, ConfigMixin):
    """Decodes (AdaIN-moved) Lite0 maps after BLOCKS back to an image in [-1, 1] (not clamped: the caller
    clamps). `width`: channels at 1/8 (1/4 gets half of it, 1/2 a quarter). `depth`: residual blocks at 1/8
    and at 1/4 each (0: the first, shallow decoder; depth is where a decoder finds room to draw texture
    rather than only tone). `catalog`, `training`: provenance for the card."""

    @register_to_config
    def __init__(self, width: int = 48, depth: int = 0, catalog: str | None = None, training: dict | None = None):
        super().__init__()
        if width < 8:
            raise ValueError(f"width must be at least 8, got {width}")
        if depth < 0:
            raise ValueError(f"depth must not be negative, got {depth}")
        w8, w4, w2 = width, width // 2, width // 4
        self.at8 = _conv(CHANNELS[2], w8)
        self.deep8 = nn.Sequential(*[nn.Sequential(nn.ReLU(), _Residual(w8)) for _ in range(depth)])
        self.at4 = nn.Sequential(_conv(w8 + CHANNELS[1], w4), nn.ReLU(), _conv(w4, w4))
        self.deep4 = nn.Sequential(*[nn.Sequential(nn.ReLU(), _Residual(w4)) for _ in range(depth)])
        self.at2 = _conv(w4 + CHANNELS[0], w2)
        self.out = _conv(w2, 3)

    def forward(self, maps: list[torch.Tensor]) -> torch.Tensor:
        f0, f2, f4 = maps
        x = F.relu(self.deep8(self.at8(f4)))
        x = F.interpolate(x, size=f2.shape[-2:], mode="nearest")
        x = F.relu(self.deep4(self.at4(torch.cat([x, f2], 1))))
        x = F.interpolate(x, size=f0.shape[-2:], mode="nearest")
        x = F.relu(self.at2(torch.cat([x, f0], 1)))
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.out(x)


def stylize_batch(encoder, decoder: StyleDecoder, x: torch.Tensor, means: list[torch.Tensor],
                  stds: list[torch.Tensor], strength: float = 1.0) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1] (H, W multiples of 8) -> the decoder's image of its maps moved to the moments
    (one (B, C) or (C,) mean and std per block of BLOCKS)."""
    maps = encoder.feature_maps(x, BLOCKS)
    return decoder([adain(m, mu, sd, strength) for m, mu, sd in zip(maps, means, stds)])
