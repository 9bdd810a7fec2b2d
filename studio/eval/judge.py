"""The judge: the trained attribute evaluator (labels + 256-d features) and EfficientNet-Lite0 features."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..checkpoints import WEIGHTS_DIR, open_network
from ..images import to_tensor

EFFNET_SIZE = 128     # input side for fd_effnet: 1280-d pooled features; cost grows with its square


def default_evaluator(catalog: str) -> Path:
    return WEIGHTS_DIR / f"evaluator-{catalog}"


def _batches(images: Sequence[Image.Image], batch_size: int, device: str):
    """(B, 3, H, W) tensors in [-1, 1]; images in one batch are brought to the first one's size."""
    for start in range(0, len(images), batch_size):
        chunk = [im if im.mode == "RGB" else im.convert("RGB") for im in images[start:start + batch_size]]
        size = chunk[0].size
        chunk = [im if im.size == size else im.resize(size, Image.Resampling.BILINEAR) for im in chunk]
        yield to_tensor(chunk).to(device)


class EffnetFeatures:
    """images -> (N, 1280) EfficientNet-Lite0 ImageNet features at EFFNET_SIZE px (loads lazily)."""

    def __init__(self, device: str = "cpu", batch_size: int = 128):
        self.device, self.batch_size = device, batch_size
        self._model = None

    @torch.inference_mode()
    def __call__(self, images: Sequence[Image.Image]) -> np.ndarray:
        if self._model is None:
            from ..models.effnet import load_efficientnet_lite0

            self._model = load_efficientnet_lite0().to(self.device)
        out = []
        for x in _batches(images, self.batch_size, self.device):
            x = F.interpolate(x, size=(EFFNET_SIZE, EFFNET_SIZE), mode="bilinear", align_corners=False)
            out.append(self._model.pooled_features(x).float().cpu().numpy())
        return np.concatenate(out)


class Judge:
    def __init__(self, folder: str | Path, device: str = "cpu", batch_size: int = 256):
        from ..models.evaluator import AttributeEvaluator

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"no evaluator at {folder}: train one with "
                                    f"`python -m studio train evaluator --catalog ...`")
        self.model = open_network(folder, AttributeEvaluator, device)
        self.config = self.model.config
        self.folder = folder
        self.labels = {name: names for (name, _), names in zip(self.config.head_sizes, self.config.labels)}
        self.metrics = self.config.training or {}
        self.device = device
        self.batch_size = batch_size
        self.effnet_features = EffnetFeatures(device)

    @torch.inference_mode()
    def analyse(self, images: Sequence[Image.Image]) -> tuple[dict[str, list[str]], np.ndarray]:
        """(predicted label per head, evaluator features (N, 256))."""
        predictions: dict[str, list[str]] = {h: [] for h in self.labels}
        features = []
        for x in _batches(images, self.batch_size, self.device):
            h = self.model.features(x)
            features.append(h.float().cpu().numpy())
            for head, names in self.labels.items():
                predictions[head].extend(names[i] for i in self.model.heads[head](h).argmax(1).tolist())
        return predictions, np.concatenate(features) if features else np.zeros((0, self.config.features))
