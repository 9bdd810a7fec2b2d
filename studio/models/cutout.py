"""The learned product cut-out: an alpha matte from an RGB photo, the shared U-Net on the ImageNet
EfficientNet-Lite0 (studio/models/liteunet.py: encoder, decoder, sub-pixel output at full resolution).

- Output: one logit per pixel; the alpha is its sigmoid. Trained on composites with known alpha
  (studio/data/composites.py, studio/train/cutout.py); batch norm in the encoder re-estimates its statistics
  on the composites, so inference uses running averages of the training data, not ImageNet's. Run at `size` x
  `size` and refined to the photo's own resolution by studio/edits/cutout.py.

On diffusers' ModelMixin + ConfigMixin, so a folder is config.json + diffusion_pytorch_model.safetensors.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin
from diffusers.configuration_utils import register_to_config

from .liteunet import LiteUNet


class CutoutNet(LiteUNet, ConfigMixin):
    """size: the side the network runs at; width: decoder channels at 1/32 (halved towards full resolution,
    never under 16); tune_from: the first encoder block training updates. `catalog` and `training` are
    provenance for the model card."""

    @register_to_config
    def __init__(self, size: int = 320, width: int = 64, tune_from: int = 5, catalog: str | None = None,
                 training: dict | None = None):
        super().__init__()
        if size % 32 or size < 64:
            raise ValueError(f"size must be a multiple of 32 and at least 64, got {size}")
        self._build(width, out_channels=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 3, H, W) in [-1, 1], H and W multiples of 32 -> (B, 1, H, W) alpha logits."""
        return self._decode(x)
