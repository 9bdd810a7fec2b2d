"""The learned photo inpainter: a hole in a photo filled by the shared U-Net on the ImageNet
EfficientNet-Lite0 (studio/models/liteunet.py), as a correction of a classical fill.

- Input: the photo with its hole already filled by OpenCV's Navier-Stokes inpainting (smooth, seam-free, the
  better classical baseline on held-out photo crops) — what the ImageNet encoder sees — and the hole mask as
  a guide channel the decoder sees at every level.
- Output: an RGB residual added to that fill inside the hole (outside it the photo is kept exactly by the
  caller). The last layer starts at zero, so an untrained network is exactly Navier-Stokes and training can
  only move away from it where the data says so (VDSR's global residual, applied to inpainting).
- Trained on crops of the installed photos with LaMa-style holes (studio/train/inpaint.py): L1 inside the
  hole plus a perceptual term on EfficientNet-Lite0 feature maps. Run on a crop around the hole, at most
  `size` px on its long side (studio/edits/repair.py), so cost follows the hole, not the photo.

On diffusers' ModelMixin + ConfigMixin, so a folder is config.json + diffusion_pytorch_model.safetensors.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from diffusers import ConfigMixin
from diffusers.configuration_utils import register_to_config

from .liteunet import LiteUNet


class InpaintNet(LiteUNet, ConfigMixin):
    """size: the longest side the network runs at (a larger crop is reduced to it and its correction
    enlarged back); width: decoder channels at 1/32; tune_from: the first encoder block training updates;
    base: the classical fill the network corrects (`ns`). `catalog` and `training` are provenance for the
    model card."""

    @register_to_config
    def __init__(self, size: int = 512, width: int = 64, tune_from: int = 5, base: str = "ns",
                 catalog: str | None = None, training: dict | None = None):
        super().__init__()
        if size % 32 or size < 64:
            raise ValueError(f"size must be a multiple of 32 and at least 64, got {size}")
        if base not in ("ns", "telea"):
            raise ValueError(f"base must be ns or telea, got {base!r}")
        self._build(width, out_channels=3, guide_channels=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)                   # starts as the classical fill

    def forward(self, filled: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """filled (B, 3, H, W) in [-1, 1] (the classical fill), hole (B, 1, H, W) in {0, 1}; H and W multiples
        of 32 -> (B, 3, H, W): the corrected image inside the hole, `filled` outside it (not clamped)."""
        residual = self._decode(filled, hole)
        return filled + residual * hole
