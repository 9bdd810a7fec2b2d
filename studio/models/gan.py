"""Text-conditioned GAN in the DF-GAN family (Tao et al., CVPR 2022): one stage, noise and text fused
by affine (FiLM) transforms in every generator block; a matching-aware discriminator with a projection
head (Miyato & Koyama, ICLR 2018) and spectral norm (Miyato et al., ICLR 2018).

Networks only, on diffusers' ModelMixin + ConfigMixin (`Generator.from_pretrained(folder)` reads the
folder's config.json and safetensors): losses, conditioning augmentation and EMA live in
studio/train/gan.py, sampling in studio/pipelines.py.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch.nn.utils.parametrizations import spectral_norm

from .text_condition import TextCondition, check_size, pyramid


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


class Generator(ModelMixin, ConfigMixin):
    """size: output side (a power of two >= 16); width: channels at full resolution (x2 per halving, capped
    at 8x); cond_dim: the text condition after conditioning augmentation; text_*: the text condition's sizes.
    `catalog` and `training` are provenance (what it learned from, how long), kept in config.json for the
    model card; they change nothing in the network."""

    @register_to_config
    def __init__(self, size: int = 32, z_dim: int = 64, width: int = 32, cond_dim: int = 128,
                 text_dim: int = 384, text_queries: int = 4, text_heads: int = 4, text_width: int = 128,
                 catalog: str | None = None, training: dict | None = None):
        super().__init__()
        check_size(size)
        ch = pyramid(size, width)[::-1]                                        # 4x4 ... size x size
        self.text = TextCondition(text_dim, text_queries, text_heads, text_width)
        self.to_moments = nn.Linear(text_width, 2 * cond_dim)                  # conditioning augmentation
        self.fc = nn.Linear(z_dim + cond_dim, ch[0] * 16)
        self.blocks = nn.ModuleList(UpBlock(ch[i], ch[i + 1], z_dim + cond_dim) for i in range(len(ch) - 1))
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

    def forward(self, z, tokens, mask, pooled, cond_noise: torch.Tensor | None = None):
        """-> (images (B, 3, size, size) in [-1, 1], mu, logvar of the condition). Sampling uses the
        condition's mean (cond_noise None); training passes standard-normal noise of shape (B, cond_dim)
        for conditioning augmentation and puts the moments' KL in its loss. One forward for both, so a
        DistributedDataParallel wrapper sees every training pass."""
        mu, logvar = self.condition(tokens, mask, pooled)
        cond = mu if cond_noise is None else mu + cond_noise * (0.5 * logvar).exp()
        return self.synthesize(z, cond), mu, logvar


class DownBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = spectral_norm(nn.Conv2d(cin, cout, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.leaky_relu(self.conv1(F.leaky_relu(x, 0.2)), 0.2))
        return F.avg_pool2d(h + self.skip(x), 2)                               # (B, cout, H/2, W/2)


class Discriminator(ModelMixin, ConfigMixin):
    """The generator's critic during training (never shipped): the same size, width and text sizes.
    aux_classes > 0 adds an auxiliary classifier on the same features (AC-GAN, Odena et al. 2017; TAC-GAN,
    Dash et al. 2017): the VAE-GAN uses it for the backdrop, a label the realness logit weighs little."""

    @register_to_config
    def __init__(self, size: int = 32, width: int = 32, text_dim: int = 384, text_queries: int = 4,
                 text_heads: int = 4, text_width: int = 128, aux_classes: int = 0):
        super().__init__()
        if aux_classes < 0:
            raise ValueError(f"aux_classes must be >= 0, got {aux_classes}")
        check_size(size)
        ch = pyramid(size, width)                                              # size ... 4
        self.text = TextCondition(text_dim, text_queries, text_heads, text_width)
        self.from_rgb = spectral_norm(nn.Conv2d(3, ch[0], 3, padding=1))
        self.blocks = nn.ModuleList(DownBlock(ch[i], ch[i + 1]) for i in range(len(ch) - 1))
        self.out = spectral_norm(nn.Linear(ch[-1], 1))
        self.embed = spectral_norm(nn.Linear(text_width, ch[-1]))              # projection head
        self.aux = spectral_norm(nn.Linear(ch[-1], aux_classes)) if aux_classes else None

    @classmethod
    def matching(cls, generator: Generator) -> "Discriminator":
        """A discriminator sized for `generator`."""
        c = generator.config
        return cls(size=c.size, width=c.width, text_dim=c.text_dim, text_queries=c.text_queries,
                   text_heads=c.text_heads, text_width=c.text_width)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = self.from_rgb(images)                                              # (B, ch0, size, size)
        for block in self.blocks:
            x = block(x)                                                       # ... (B, chN, 4, 4)
        return F.leaky_relu(x, 0.2).sum(dim=(2, 3))                            # (B, chN)

    def forward(self, images, tokens, mask, pooled) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(realness logit of (image, text) pairs (B,): unconditional term + <embed(text), phi(image)>,
        the auxiliary class logits (B, aux_classes), or None without the head)."""
        phi = self.features(images)
        cond = self.embed(self.text(tokens, mask, pooled))                     # (B, chN)
        logit = self.out(phi).squeeze(1) + (phi * cond).sum(dim=1)
        return logit, (self.aux(phi) if self.aux is not None else None)
