"""Sampling from a trained generator folder: prompt -> n images in one forward pass, with the seed used.

    gen = GanGenerator("weights/gan-fashion")
    result = gen.generate("navy ankle boot on a cream background", n=8, seed=1)
    result.images, result.seed

Same seed, same prompt, same device -> the same pixels.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from .checkpoints import load_pretrained
from .images import to_pil
from .text import TextEncoder

MAX_IMAGES = 64


@dataclass(frozen=True)
class GenerationResult:
    images: list[Image.Image]
    prompt: str
    seed: int
    model: str
    truncation: float | None


def new_seed() -> int:
    return secrets.randbits(31)


def truncated_normal(shape: tuple[int, ...], threshold: float | None, generator: torch.Generator) -> torch.Tensor:
    """Standard normal noise; with a threshold, entries beyond +-threshold are redrawn (the truncation
    trick, Brock et al. 2019): lower thresholds trade variety for typical, cleaner samples."""
    z = torch.randn(shape, generator=generator)
    if threshold is not None:
        for _ in range(100):
            outside = z.abs() > threshold
            if not outside.any():
                break
            z[outside] = torch.randn(int(outside.sum()), generator=generator)
        z = z.clamp(-threshold, threshold)
    return z


class GanGenerator:
    def __init__(self, folder: str | Path, device: str = "cpu", encoder: TextEncoder | None = None):
        self.folder = Path(folder)
        self.model, self.config, raw = load_pretrained(self.folder, device)
        if raw.get("kind") != "gan":
            raise ValueError(f"{self.folder} holds a {raw.get('kind')!r}, not a GAN generator")
        self.device = device
        self.encoder = encoder or TextEncoder(device=device)
        self.name = self.folder.name
        self.size = self.config.size

    @torch.inference_mode()
    def generate(self, prompt: str, n: int = 4, seed: int | None = None,
                 truncation: float | None = None) -> GenerationResult:
        if not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
            raise ValueError(f"n must be an int in 1..{MAX_IMAGES}, got {n!r}")
        if truncation is not None and not 0 < truncation <= 4:
            raise ValueError(f"truncation must be in (0, 4] or None, got {truncation}")
        seed = new_seed() if seed is None else int(seed)
        # 1. text (raises ValueError for an empty or over-long prompt)
        text = self.encoder.encode([prompt])
        tokens, mask, pooled = (t.to(self.device).expand(n, *t.shape[1:]) for t in (text.tokens, text.mask, text.pooled))
        # 2. noise from a CPU generator: the same seed gives the same noise on every device
        z = truncated_normal((n, self.config.z_dim), truncation, torch.Generator().manual_seed(seed)).to(self.device)
        # 3. one forward pass; half precision on GPU
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            images = self.model(z, tokens, mask, pooled)
        return GenerationResult(to_pil(images.float()), text.texts[0], seed, self.name, truncation)
