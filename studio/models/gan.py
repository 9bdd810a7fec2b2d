"""Text-conditioned GAN in the DF-GAN family (Tao et al., CVPR 2022): one stage, noise and text fused
by affine (FiLM) transforms in every generator block; a matching-aware discriminator with a projection
head (Miyato & Koyama, ICLR 2018) and spectral norm (Miyato et al., ICLR 2018).

Networks only: losses, conditioning augmentation, EMA and sampling live in studio/train/gan.py and
studio/generate.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from .text_condition import TextCondition, TextConditionConfig, check_image_config


@dataclass(frozen=True)
class GANConfig:
    size: int = 32                  # output side: 32 or 64 (a power of two >= 16)
    z_dim: int = 64
    width: int = 32                 # channels at the highest resolution; x2 per halving, capped at 8x
    cond_dim: int = 128             # the text condition after conditioning augmentation
    text: TextConditionConfig = field(default_factory=TextConditionConfig)

    def __post_init__(self):
        check_image_config(self)

    def channels(self) -> list[int]:
        """Channels at 4x4, 8x8, ..., size x size."""
        levels = int(math.log2(self.size)) - 1                 # 4 -> size
        return [self.width * min(8, 2 ** (levels - 1 - i)) for i in range(levels)]


class FiLM(nn.Module):
    """Per-channel scale and shift predicted from the condition (DF-GAN's affine fusion)."""

    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.linear = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)                       # starts as the identity

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.linear(cond).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return x * (1 + gamma) + beta


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film1 = FiLM(cond_dim, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.film2 = FiLM(cond_dim, cout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")                   # (B, cin, 2H, 2W)
        h = F.leaky_relu(self.film1(self.conv1(x), cond), 0.2)
        h = F.leaky_relu(self.film2(self.conv2(h), cond), 0.2)                # (B, cout, 2H, 2W)
        return self.skip(x) + h


class Generator(nn.Module):
    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        ch = config.channels()
        self.text = TextCondition(config.text)
        self.to_moments = nn.Linear(config.text.dim, 2 * config.cond_dim)      # conditioning augmentation
        self.fc = nn.Linear(config.z_dim + config.cond_dim, ch[0] * 16)
        self.blocks = nn.ModuleList(UpBlock(ch[i], ch[i + 1], config.z_dim + config.cond_dim)
                                    for i in range(len(ch) - 1))
        self.to_rgb = nn.Conv2d(ch[-1], 3, 3, padding=1)

    def condition(self, tokens, mask, pooled) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of the condition distribution (StackGAN's conditioning augmentation)."""
        return self.to_moments(self.text(tokens, mask, pooled)).chunk(2, dim=1)  # 2 x (B, cond_dim)

    def synthesize(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim), cond (B, cond_dim) -> images (B, 3, size, size) in [-1, 1]."""
        zc = torch.cat([z, cond], dim=1)                                        # (B, z+cond)
        x = self.fc(zc).view(z.shape[0], -1, 4, 4)                             # (B, ch0, 4, 4)
        for block in self.blocks:
            x = block(x, zc)                                                   # ... (B, ch, size, size)
        return torch.tanh(self.to_rgb(F.leaky_relu(x, 0.2)))

    def forward(self, z, tokens, mask, pooled) -> torch.Tensor:
        """Deterministic condition (the mean): what sampling uses."""
        mu, _ = self.condition(tokens, mask, pooled)
        return self.synthesize(z, mu)


class DownBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = spectral_norm(nn.Conv2d(cin, cout, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.leaky_relu(self.conv1(F.leaky_relu(x, 0.2)), 0.2))
        return F.avg_pool2d(h + self.skip(x), 2)                               # (B, cout, H/2, W/2)


class Discriminator(nn.Module):
    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        ch = config.channels()[::-1]                                           # size ... 4
        self.text = TextCondition(config.text)
        self.from_rgb = spectral_norm(nn.Conv2d(3, ch[0], 3, padding=1))
        self.blocks = nn.ModuleList(DownBlock(ch[i], ch[i + 1]) for i in range(len(ch) - 1))
        self.out = spectral_norm(nn.Linear(ch[-1], 1))
        self.embed = spectral_norm(nn.Linear(config.text.dim, ch[-1]))         # projection head

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = self.from_rgb(images)                                              # (B, ch0, size, size)
        for block in self.blocks:
            x = block(x)                                                       # ... (B, chN, 4, 4)
        return F.leaky_relu(x, 0.2).sum(dim=(2, 3))                            # (B, chN)

    def forward(self, images, tokens, mask, pooled) -> torch.Tensor:
        """Realness logit of (image, text) pairs, (B,): unconditional term + <embed(text), phi(image)>."""
        phi = self.features(images)
        cond = self.embed(self.text(tokens, mask, pooled))                     # (B, chN)
        return self.out(phi).squeeze(1) + (phi * cond).sum(dim=1)
