"""A small super-resolution network (x2 or x4): the image upsampled by bicubic interpolation plus a learned
residual computed at the low resolution and rearranged into the high one by sub-pixel convolution.

- Sub-pixel convolution (ESPCN, Shi et al., CVPR 2016): every convolution runs at the input's resolution and
  a last one makes scale^2 x 3 channels that `PixelShuffle` rearranges, so cost follows the input's pixels.
- Residual blocks without batch norm (EDSR, Lim et al., CVPRW 2017), sized for two CPU cores: FSRCNN/ESPCN-
  size networks (tens of thousands of parameters) gain ~1-2 dB over bicubic on natural photos.
- Global residual over bicubic (VDSR, Kim et al., CVPR 2016): the network learns only the missing detail,
  and its last layer starts at zero, so an untrained network is exactly bicubic.

Networks only, on diffusers' ModelMixin + ConfigMixin; tiled inference on PIL images is studio/edits/upscale.py,
training studio/train/upscale.py.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.nn.utils.parametrizations import spectral_norm

SCALES = (2, 4)


class ResidualBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class Upscaler(ModelMixin, ConfigMixin):
    """scale: 2 or 4; width: channels at the input's resolution; blocks: residual blocks. `flavour` (fidelity:
    L1 only; perceptual: L1 + features + adversarial), `catalog` and `training` are provenance for the model
    card; they change nothing in the network."""

    @register_to_config
    def __init__(self, scale: int = 2, width: int = 24, blocks: int = 3, flavour: str = "fidelity",
                 catalog: str | None = None, training: dict | None = None):
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale}")
        if width < 1 or blocks < 0:
            raise ValueError(f"width must be positive and blocks not negative, got {width}, {blocks}")
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.tail = nn.Conv2d(width, 3 * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)                           # starts as bicubic

    @property
    def context(self) -> int:
        """Input pixels on each side an output pixel depends on: one per 3x3 convolution (head, two per block,
        tail), which also covers bicubic's two. What a tile needs around it for tiled output to equal
        untiled output."""
        return 2 + 2 * len(self.body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 3, h, w) in [-1, 1] -> (B, 3, h*scale, w*scale), not clamped (callers clamp)."""
        s = self.config.scale
        base = F.interpolate(x, scale_factor=s, mode="bicubic", align_corners=False)   # (B, 3, sh, sw)
        h = F.relu(self.head(x))                                                       # (B, width, h, w)
        h = self.body(h)
        return base + self.shuffle(self.tail(h))                                       # (B, 3, sh, sw)


class PatchCritic(nn.Module):
    """The perceptual flavour's discriminator during training (never shipped): a small spectral-norm
    convolutional stack giving a realness logit per patch of the high-resolution image (PatchGAN, Isola et
    al. 2017; SRGAN's idea with a light weight)."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.layers = nn.ModuleList([
            spectral_norm(nn.Conv2d(3, width, 3, padding=1)),
            spectral_norm(nn.Conv2d(width, width, 4, stride=2, padding=1)),
            spectral_norm(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)),
            spectral_norm(nn.Conv2d(2 * width, 2 * width, 4, stride=2, padding=1)),
        ])
        self.out = spectral_norm(nn.Conv2d(2 * width, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, 1, H/8, W/8) logits."""
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
        return self.out(x)
