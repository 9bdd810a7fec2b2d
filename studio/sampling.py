"""Sampling from a trained generator folder: prompt -> n images in one forward pass, with the seed used.

    gen = GanGenerator("weights/gan-fashion")
    result = gen.generate("navy ankle boot on a cream background", n=8, seed=1)
    result.images, result.seed

Same seed, same prompt, same device -> the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .checkpoints import load_pretrained
from .edits.repair import blend_seam, fill_hole
from .seeds import MAX_SEED, check_seed, new_seed  # noqa: F401  (re-exported)
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


class _ModelFolder:
    """A trained folder of one kind, loaded with the text encoder it reads prompts with."""
    KIND = ""
    LABEL = ""

    def __init__(self, folder: str | Path, device: str = "cpu", encoder: TextEncoder | None = None):
        self.folder = Path(folder)
        self.model, self.config, raw = load_pretrained(self.folder, device)
        if raw.get("kind") != self.KIND:
            raise ValueError(f"{self.folder} holds a {raw.get('kind')!r}, not a {self.LABEL}")
        self.device = device
        self.encoder = encoder or TextEncoder(device=device)
        self.name = self.folder.name
        self.size = self.config.size


class GanGenerator(_ModelFolder):
    KIND, LABEL = "gan", "GAN generator"

    @torch.inference_mode()
    def generate(self, prompt: str, n: int = 4, seed: int | None = None,
                 truncation: float | None = None) -> GenerationResult:
        if not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
            raise ValueError(f"n must be an int in 1..{MAX_IMAGES}, got {n!r}")
        if truncation is not None and not 0 < truncation <= 4:
            raise ValueError(f"truncation must be in (0, 4] or None, got {truncation}")
        seed = check_seed(seed)
        # 1. text (raises ValueError for an empty or over-long prompt)
        text = self.encoder.encode([prompt])
        tokens, mask, pooled = (t.to(self.device).expand(n, *t.shape[1:]) for t in (text.tokens, text.mask, text.pooled))
        # 2. noise from a CPU generator: the same seed gives the same noise on every device
        z = truncated_normal((n, self.config.z_dim), truncation, torch.Generator().manual_seed(seed)).to(self.device)
        # 3. one forward pass; half precision on GPU
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            images = self.model(z, tokens, mask, pooled)
        return GenerationResult(to_pil(images.float()), text.texts[0], seed, self.name, truncation)


class VaeGenerator(_ModelFolder):
    """The text-conditioned VAE: sampling from p(z | text), variations, in-betweens and repair.

        vae = VaeGenerator("weights/vae-fashion")
        vae.generate("navy ankle boot on a cream background", n=8, seed=1)   # like GanGenerator
        vae.variations(image, "navy ankle boot", strength=0.5, n=4, seed=1)  # 0 = its reconstruction
        vae.interpolate(image_a, image_b, steps=5, prompt="...", prompt_b="...")  # A ... B
        vae.repair(image, mask, prompt="...")                                 # unmasked pixels kept exactly

    Inputs of any size are letterboxed to the model's size; outputs are mapped back onto the input's size.
    """
    KIND, LABEL = "vae", "VAE"

    # ---- plumbing
    def _condition(self, prompt: str, n: int) -> tuple[torch.Tensor, torch.Tensor, str]:
        """(VAE text condition (n, d), MiniLM pooled vector (n, 384), the prompt as encoded)."""
        text = self.encoder.encode([prompt])          # raises ValueError for an empty or over-long prompt
        tokens, mask, pooled = (t.to(self.device).expand(n, *t.shape[1:])
                                for t in (text.tokens, text.mask, text.pooled))
        return self.model.condition(tokens, mask, pooled), pooled, text.texts[0]

    def _fit(self, image: Image.Image) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
        """Letterbox onto the model's square; returns the tensor and the box the image occupies there."""
        from .images import fit, to_tensor

        scale = self.size / max(image.size)
        w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        box = ((self.size - w) // 2, (self.size - h) // 2, (self.size - w) // 2 + w, (self.size - h) // 2 + h)
        return to_tensor(fit(image, self.size)).to(self.device), box

    @staticmethod
    def _back(image: Image.Image, box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
        crop = image.crop(box)
        return crop if crop.size == size else crop.resize(size, Image.Resampling.BICUBIC)

    @staticmethod
    def _check(n: int, seed: int | None) -> int:
        if not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
            raise ValueError(f"n must be an int in 1..{MAX_IMAGES}, got {n!r}")
        return check_seed(seed)

    # ---- the four entries
    @torch.inference_mode()
    def generate(self, prompt: str, n: int = 4, seed: int | None = None,
                 truncation: float | None = None) -> GenerationResult:
        """z ~ p(z | text) (its noise truncated like the GAN's), decoded."""
        if truncation is not None and not 0 < truncation <= 4:
            raise ValueError(f"truncation must be in (0, 4] or None, got {truncation}")
        seed = self._check(n, seed)
        cond, pooled, text = self._condition(prompt, n)
        generator = torch.Generator().manual_seed(seed)
        eps = truncated_normal((n, self.config.z_dim), truncation, generator).to(self.device)
        images = self.model.decode(self.model.sample_latent(cond, pooled, eps, generator), cond)
        return GenerationResult(to_pil(images), text, seed, self.name, truncation)

    @torch.inference_mode()
    def variations(self, image: Image.Image, prompt: str, strength: float = 0.5, n: int = 4,
                   seed: int | None = None) -> GenerationResult:
        """More like this: z = (1 - s) * posterior mean + s * a prior draw. s = 0 reconstructs the image,
        s = 1 is an independent sample for the prompt; variety rises with s."""
        if not 0 <= strength <= 1:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        seed = self._check(n, seed)
        x, box = self._fit(image)
        cond, pooled, text = self._condition(prompt, n)
        mu_q, _ = self.model.encode(x.expand(n, -1, -1, -1), torch.zeros(n, 1, self.size, self.size,
                                                                         device=self.device), cond)
        generator = torch.Generator().manual_seed(seed)
        eps = torch.randn((n, self.config.z_dim), generator=generator).to(self.device)
        z = (1 - strength) * mu_q + strength * self.model.sample_latent(cond, pooled, eps, generator)
        images = [self._back(im, box, image.size) for im in to_pil(self.model.decode(z, cond))]
        return GenerationResult(images, text, seed, self.name, None)

    @torch.inference_mode()
    def interpolate(self, image_a: Image.Image, image_b: Image.Image, steps: int = 5,
                    prompt: str = "a product", prompt_b: str | None = None) -> list[Image.Image]:
        """`steps` frames from A's reconstruction to B's (both ends included): the latent and the text
        condition both move linearly, from A's prompt to B's (`prompt_b`, default the same prompt)."""
        if not isinstance(steps, int) or not 2 <= steps <= MAX_IMAGES:
            raise ValueError(f"steps must be an int in 2..{MAX_IMAGES}, got {steps!r}")
        (xa, box), (xb, _) = self._fit(image_a), self._fit(image_b)
        cond_a, _, _ = self._condition(prompt, 1)
        cond_b = cond_a if prompt_b is None else self._condition(prompt_b, 1)[0]
        no_hole = torch.zeros(1, 1, self.size, self.size, device=self.device)
        za, zb = self.model.encode(xa, no_hole, cond_a)[0], self.model.encode(xb, no_hole, cond_b)[0]
        t = torch.linspace(0, 1, steps, device=self.device)[:, None]
        frames = self.model.decode(za * (1 - t) + zb * t, cond_a * (1 - t) + cond_b * t)
        return [self._back(im, box, image_a.size) for im in to_pil(frames)]

    @torch.inference_mode()
    def fill(self, rgb: np.ndarray, hole: np.ndarray, prompt: str = "a product") -> np.ndarray:
        """The hole's pixels as uint8 (H, W, 3) at the input's size (pixels outside the hole: the decode).

        The decode is shifted by a smooth correction that makes it meet the surrounding pixels: the
        residual (original - decode) known outside the hole is filled into it with Telea and added, so
        the seam matches while the model's content stays."""
        image = Image.fromarray(rgb)
        x, box = self._fit(image)
        hole_small = np.array(self._letterbox_mask(hole, box), dtype=np.float32)
        h = torch.from_numpy(hole_small)[None, None].to(self.device)
        cond, _, _ = self._condition(prompt, 1)
        mu_q, _ = self.model.encode(x, h, cond)
        decoded = np.asarray(self._back(to_pil(self.model.decode(mu_q, cond))[0], box, image.size))
        return blend_seam(rgb, decoded, hole)

    def _letterbox_mask(self, hole, box) -> Image.Image:
        small = Image.fromarray(hole.astype(np.uint8) * 255).resize((box[2] - box[0], box[3] - box[1]),
                                                                    Image.Resampling.BILINEAR)
        canvas = Image.new("L", (self.size, self.size), 0)
        canvas.paste(small, box[:2])
        return canvas.point(lambda v: 1 if v >= 64 else 0)

    def repair(self, image: Image.Image, mask, prompt: str = "a product") -> Image.Image:
        """Fill the masked region; every unmasked pixel (and alpha) is returned exactly."""
        return fill_hole(image, mask, lambda rgb, hole: self.fill(rgb, hole, prompt))
