"""Generators as pipelines in diffusers' shape: one folder, one class, one output type.

    pipe = open_pipeline("weights/vae-fashion")                 # any generator folder
    out = pipe("navy ankle boot on a cream background", num_images=8, seed=1)
    out.images, out.seed, out.parameters                        # what reproduces them
    pipe.variations(image, "navy ankle boot", strength=0.5, num_images=4, seed=1)   # where offered

A generator folder is what `DiffusionPipeline.save_pretrained` writes: `model_index.json` naming the
pipeline class and its components, one sub-folder per component (config.json + safetensors, written by the
component's own `save_pretrained`), and the model card. Each family states what it can do in
`capabilities`; `CAPABILITIES` is the table the app and the CLI read instead of checking kinds.

The text encoder (MiniLM, shipped with the environment) is not a component: it is shared by every
pipeline a process opens and never copied into a weights folder.

Same seed, same prompt, same device -> the same pixels: noise comes from a CPU `torch.Generator` seeded
per call, so it does not depend on the device either.
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Sequence

import numpy as np
import torch
from diffusers import DiffusionPipeline, DPMSolverMultistepScheduler
from PIL import Image

from .data.captions import background_index
from .data.views import LABELS as VIEW_LABELS
from .data.views import view_index
from .edits.repair import TELEA, blend_seam, fill_hole
from .images import to_pil
from .models.diffusion import TextUNet
from .models.gan import Generator
from .models.upscaler import Upscaler
from .models.vae import ConditionalVAE
from .seeds import check_seed

if TYPE_CHECKING:
    from .text import TextEncoder

MAX_IMAGES = 64
DEFAULT_ANGLES = VIEW_LABELS              # every named view, front first
INDEX = "model_index.json"


@dataclass(frozen=True)
class GenerationOutput:
    """What every pipeline call returns.

    images: the pictures, at the model's output size (or the input's, for calls that take an image);
    seed: the seed used (None for deterministic calls such as interpolation);
    prompt: the prompt as encoded; model: the folder's name; method: the call that made them;
    parameters: everything else the call needs to make the same images again (truncation, strength, ...);
    request: the prompt as the merchant typed it, when studio.understand turned it into `prompt`.
    """
    images: list[Image.Image]
    seed: int | None
    prompt: str
    model: str
    method: str = "generate"
    parameters: dict = field(default_factory=dict)
    request: str | None = None        # the merchant's own words, when the understanding layer rewrote them

    @property
    def truncation(self) -> float | None:
        return self.parameters.get("truncation")


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


def _check_count(n, low: int = 1, what: str = "num_images") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= MAX_IMAGES:
        raise ValueError(f"{what} must be a whole number from {low} to {MAX_IMAGES}, got {n!r}")
    return n


def _check_truncation(truncation) -> None:
    if truncation is not None and not 0 < truncation <= 4:
        raise ValueError(f"truncation must be in (0, 4] or None, got {truncation}")


class TextToImagePipeline(DiffusionPipeline):
    """What the families share: the text encoder, the prompt's condition, the folder's name and size."""

    family: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    network_name: ClassVar[str] = ""          # the component that holds the size, catalog and training record
    network_class: ClassVar[type] = object    # the class model_index.json must name for it
    composes: ClassVar[bool] = False          # whether a call takes `parts`, prompts composed with the prompt
    extra_components: ClassVar[dict[str, list[str]]] = {}   # others it names (module, class): a scheduler
    optional: ClassVar[dict[str, list[str]]] = {}   # components a folder may hold or leave out: an upscaler
    settings: ClassVar[frozenset[str]] = frozenset({"truncation"})   # sampling options its __call__ takes

    @property
    def network(self):
        return getattr(self, self.network_name)

    @property
    def size(self) -> int:
        return self.network.config.size

    @property
    def output_size(self) -> int:
        """The side of the images a generating call returns: the network's, unless a stage enlarges them."""
        return self.size

    @property
    def catalog(self) -> str | None:
        return self.network.config.catalog

    @property
    def name(self) -> str:
        return Path(self.name_or_path).name if getattr(self, "name_or_path", None) else self.family

    def use_encoder(self, encoder: "TextEncoder | None") -> "TextToImagePipeline":
        """Share a text encoder (else one is made on first use, on this pipeline's device)."""
        self.__dict__["_encoder"] = encoder
        return self

    @property
    def encoder(self) -> "TextEncoder":
        if self.__dict__.get("_encoder") is None:
            from .text import TextEncoder

            self.__dict__["_encoder"] = TextEncoder(device=str(self.network.device))
        return self.__dict__["_encoder"]

    def _text(self, prompt: str, n: int):
        """(tokens, mask, pooled) for `prompt`, repeated n times on the network's device, and the prompt as
        encoded. Raises ValueError for an empty or over-long prompt."""
        text = self.encoder.encode([prompt])
        device = self.network.device
        tokens, mask, pooled = (t.to(device).expand(n, *t.shape[1:]) for t in (text.tokens, text.mask, text.pooled))
        return tokens, mask, pooled, text.texts[0]

    def _seeded_noise(self, num_images: int, seed: int | None, truncation: float | None):
        """Check a generating call's arguments; (the seed used, its CPU generator after the noise was drawn,
        the (truncated) standard-normal noise (num_images, z_dim) on the network's device)."""
        _check_count(num_images)
        _check_truncation(truncation)
        seed = check_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        noise = truncated_normal((num_images, self.network.config.z_dim), truncation, generator)
        return seed, generator, noise.to(self.network.device)

    def _angles(self, views: Sequence[str], index, num_images) -> list[str]:
        """Check an other_angles request (a model that knows views, known views, a variant of the batch)."""
        if self.catalog != "furniture-views":
            raise ValueError(f"{self.name} was not trained on product views (catalog {self.catalog}); "
                             f"other angles need a model trained on the multi-view furniture catalog")
        views = list(views)
        unknown = [v for v in views if v not in VIEW_LABELS]
        if unknown or not views:
            raise ValueError(f"unknown view {unknown[0] if unknown else ''!r}; known: {', '.join(VIEW_LABELS)}")
        num_images = _check_count(num_images)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < num_images:
            raise ValueError(f"index must be a variant number from 0 to {num_images - 1}, got {index!r}")
        return views

    def _output(self, images, seed, prompt, method, **parameters) -> GenerationOutput:
        return GenerationOutput(images, seed, prompt, self.name, method, parameters)

    def _fit(self, image: Image.Image) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
        """Letterbox onto the model's square; returns the tensor and the box the image occupies there."""
        from .images import fit, to_tensor

        size = self.size
        scale = size / max(image.size)
        w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        box = ((size - w) // 2, (size - h) // 2, (size - w) // 2 + w, (size - h) // 2 + h)
        return to_tensor(fit(image, size)).to(self.network.device), box

    @staticmethod
    def _back(image: Image.Image, box: tuple[int, int, int, int], size: tuple[int, int]) -> Image.Image:
        crop = image.crop(box)
        return crop if crop.size == size else crop.resize(size, Image.Resampling.BICUBIC)

    def _hole(self, hole: np.ndarray, box: tuple[int, int, int, int]) -> torch.Tensor:
        """A bool (H, W) hole at the input's size -> (1, 1, size, size) float at the model's, letterboxed
        like the image (`box` from _fit); a pixel is hole when a quarter or more of it was."""
        small = Image.fromarray(hole.astype(np.uint8) * 255).resize((box[2] - box[0], box[3] - box[1]),
                                                                    Image.Resampling.BILINEAR)
        canvas = Image.new("L", (self.size, self.size), 0)
        canvas.paste(small, box[:2])
        hole_small = np.array(canvas.point(lambda v: 1 if v >= 64 else 0), dtype=np.float32)
        return torch.from_numpy(hole_small)[None, None].to(self.network.device)


class GANPipeline(TextToImagePipeline):
    """The text-conditioned GAN: one forward pass of the generator per call."""

    family, network_name, network_class = "gan", "generator", Generator
    capabilities = frozenset({"generate"})

    def __init__(self, generator: Generator):
        super().__init__()
        self.register_modules(generator=generator)

    @torch.inference_mode()
    def __call__(self, prompt: str, num_images: int = 4, seed: int | None = None,
                 truncation: float | None = None) -> GenerationOutput:
        seed, _, z = self._seeded_noise(num_images, seed, truncation)
        tokens, mask, pooled, text = self._text(prompt, num_images)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=z.device.type == "cuda"):
            images = self.generator(z, tokens, mask, pooled)[0]
        return self._output(to_pil(images.float()), seed, text, "generate", truncation=truncation)


class VAEPipeline(TextToImagePipeline):
    """The text-conditioned VAE: sampling from p(z | text), variations, in-betweens and inpainting.

    Inputs of any size are letterboxed to the model's size; outputs are mapped back onto the input's size.
    """

    family, network_name, network_class = "vae", "vae", ConditionalVAE
    capabilities = frozenset({"generate", "variations", "interpolate", "inpaint"})

    def __init__(self, vae: ConditionalVAE):
        super().__init__()
        self.register_modules(vae=vae)

    # ---- plumbing
    def _condition(self, prompt: str, n: int):
        """(VAE text condition (n, d), MiniLM pooled vector (n, 384), the prompt as encoded)."""
        tokens, mask, pooled, text = self._text(prompt, n)
        view = torch.full((n,), view_index(text), dtype=torch.long, device=pooled.device)
        return self.vae.condition(tokens, mask, pooled, view), pooled, text

    def _no_hole(self, n: int) -> torch.Tensor:
        return torch.zeros(n, 1, self.size, self.size, device=self.vae.device)

    # ---- the four abilities
    @torch.inference_mode()
    def __call__(self, prompt: str, num_images: int = 4, seed: int | None = None,
                 truncation: float | None = None) -> GenerationOutput:
        """z ~ p(z | text) (its noise truncated like the GAN's), decoded."""
        seed, generator, eps = self._seeded_noise(num_images, seed, truncation)
        cond, pooled, text = self._condition(prompt, num_images)
        images = self.vae.decode(self.vae.sample_latent(cond, pooled, eps, generator), cond)
        return self._output(to_pil(images), seed, text, "generate", truncation=truncation)

    @torch.inference_mode()
    def other_angles(self, prompt: str, seed: int, index: int = 0, num_images: int = 4,
                     views: Sequence[str] = DEFAULT_ANGLES, truncation: float | None = None) -> GenerationOutput:
        """The product of variant `index` of `self(prompt, num_images, seed, truncation)` from other views:
        that variant's latent decoded under the prompt rephrased for each view (studio.data.views). Only a
        model trained on the multi-view catalog knows views; others raise ValueError."""
        from .data.views import with_view

        views = self._angles(views, index, num_images)
        seed, generator, eps = self._seeded_noise(num_images, seed, truncation)
        cond, pooled, text = self._condition(prompt, num_images)
        z = self.vae.sample_latent(cond, pooled, eps, generator)[index:index + 1]        # the chosen variant
        prompts = [with_view(text, v) for v in views]
        conds = torch.cat([self._condition(p, 1)[0] for p in prompts])
        images = self.vae.decode(z.expand(len(views), -1), conds)
        return self._output(to_pil(images), seed, text, "other_angles", truncation=truncation, index=index,
                            num_images=num_images, views=views, prompts=prompts)

    @torch.inference_mode()
    def variations(self, image: Image.Image, prompt: str, strength: float = 0.5, num_images: int = 4,
                   seed: int | None = None) -> GenerationOutput:
        """More like this: z = (1 - s) * posterior mean + s * a prior draw. s = 0 reconstructs the image,
        s = 1 is an independent sample for the prompt; variety rises with s."""
        if not 0 <= strength <= 1:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        _check_count(num_images)
        seed = check_seed(seed)
        x, box = self._fit(image)
        n = num_images
        cond, pooled, text = self._condition(prompt, n)
        mu_q, _ = self.vae.encode(x.expand(n, -1, -1, -1), self._no_hole(n), cond)
        generator = torch.Generator().manual_seed(seed)
        eps = torch.randn((n, self.vae.config.z_dim), generator=generator).to(self.vae.device)
        z = (1 - strength) * mu_q + strength * self.vae.sample_latent(cond, pooled, eps, generator)
        images = [self._back(im, box, image.size) for im in to_pil(self.vae.decode(z, cond))]
        return self._output(images, seed, text, "variations", strength=strength)

    @torch.inference_mode()
    def interpolate(self, image_a: Image.Image, image_b: Image.Image, steps: int = 5,
                    prompt: str = "a product", prompt_b: str | None = None) -> GenerationOutput:
        """`steps` frames from A's reconstruction to B's (both ends included): the latent and the text
        condition both move linearly, from A's prompt to B's (`prompt_b`, default the same prompt)."""
        _check_count(steps, 2, "steps")
        (xa, box), (xb, _) = self._fit(image_a), self._fit(image_b)
        cond_a, _, text = self._condition(prompt, 1)
        cond_b = cond_a if prompt_b is None else self._condition(prompt_b, 1)[0]
        za, zb = self.vae.encode(xa, self._no_hole(1), cond_a)[0], self.vae.encode(xb, self._no_hole(1), cond_b)[0]
        t = torch.linspace(0, 1, steps, device=self.vae.device)[:, None]
        frames = self.vae.decode(za * (1 - t) + zb * t, cond_a * (1 - t) + cond_b * t)
        images = [self._back(im, box, image_a.size) for im in to_pil(frames)]
        return self._output(images, None, text, "interpolate", steps=steps, prompt_b=prompt_b)

    @torch.inference_mode()
    def fill(self, rgb: np.ndarray, hole: np.ndarray, prompt: str = "a product") -> np.ndarray:
        """The hole's pixels as uint8 (H, W, 3) at the input's size (pixels outside the hole: the decode).

        The decode is shifted by a smooth correction that makes it meet the surrounding pixels: the
        residual (original - decode) known outside the hole is filled into it with Telea and added, so
        the seam matches while the model's content stays."""
        image = Image.fromarray(rgb)
        x, box = self._fit(image)
        h = self._hole(hole, box)
        cond, _, _ = self._condition(prompt, 1)
        mu_q, _ = self.vae.encode(x, h, cond)
        decoded = np.asarray(self._back(to_pil(self.vae.decode(mu_q, cond))[0], box, image.size))
        return blend_seam(rgb, decoded, hole)

    def inpaint(self, image: Image.Image, mask, prompt: str = "a product") -> GenerationOutput:
        """Fill the masked region; every unmasked pixel (and alpha) is returned exactly."""
        repaired = fill_hole(image, mask, lambda rgb, hole: self.fill(rgb, hole, prompt))
        return self._output([repaired], None, prompt, "inpaint")


class VAEGANPipeline(VAEPipeline):
    """The VAE-GAN: a text-conditioned VAE whose decoder was then trained adversarially against a
    discriminator (studio/train/vaegan.py). It samples as the VAE does, in one forward pass (z from the
    mixture prior, decoded), and keeps the VAE's encoder, so variations, blends and repair carry over."""

    family = "vaegan"



MAX_STEPS = 50
DEFAULT_STEPS, DEFAULT_GUIDANCE = 20, 3.0
FILL_GUIDANCE, FILL_STRENGTH, FILL_DRAWS, FILL_STEPS = 1.0, 0.9, 16, 10   # repair: see DiffusionTextPipeline.fill
MAX_DRAWS = 16
PART_GUIDANCE, MAX_PARTS = 0.5, 2      # composed prompts: see DiffusionTextPipeline.predict and __call__
GUIDANCE_INTERVAL = (0.0, None)  # sigma where guidance applies, None: no upper end (DiffusionTextPipeline._denoise)


def _check_sampling(steps, guidance) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {str(steps)[:20]!r}")
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not 1.0 <= guidance <= 10.0:
        raise ValueError(f"guidance must be a number from 1 to 10, got {str(guidance)[:20]!r}")


def composed(pipe: "TextToImagePipeline", backdrop_prompt: str | None) -> dict:
    """The `parts` keyword for a call of `pipe`: the backdrop prompt (Understanding.backdrop_prompt) for a
    pipeline that composes prompts, nothing otherwise. The app, the evaluation and the cards all ask here."""
    return {"parts": [backdrop_prompt]} if backdrop_prompt and pipe.composes else {}


def _check_parts(parts) -> tuple[str, ...]:
    if isinstance(parts, str) or not isinstance(parts, (list, tuple)) or len(parts) > MAX_PARTS \
            or not all(isinstance(p, str) for p in parts):
        raise ValueError(f"parts must be a list of at most {MAX_PARTS} prompts")
    return tuple(parts)


def _check_interval(interval) -> tuple[float, float | None]:
    """A guidance interval as [low, high]: noise levels (sigma), low >= 0, high None (no upper end) or above low."""
    def number(x) -> bool:
        return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)

    if isinstance(interval, (str, bytes)) or not isinstance(interval, Sequence) or len(interval) != 2 \
            or not number(interval[0]) or interval[0] < 0 \
            or not (interval[1] is None or number(interval[1]) and interval[1] > interval[0]):
        raise ValueError(f"guidance_interval must be [low, high] noise levels with 0 <= low < high (high may be "
                         f"null: no upper end), got {str(interval)[:40]!r}")
    return float(interval[0]), None if interval[1] is None else float(interval[1])


def _stack_texts(texts: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
    """Encoded texts (tokens (n, T_i, D), mask (n, T_i), pooled (n, D)) as one batch: tokens and masks
    padded to the longest T with masked-out positions."""
    length = max(tokens.shape[1] for tokens, _, _ in texts)

    def pad(x: torch.Tensor) -> torch.Tensor:                              # along the token axis
        return torch.cat([x, x.new_zeros((x.shape[0], length - x.shape[1], *x.shape[2:]))], dim=1)

    return (torch.cat([pad(tok) for tok, _, _ in texts]), torch.cat([pad(m) for _, m, _ in texts]),
            torch.cat([pooled for _, _, pooled in texts]))


class DiffusionTextPipeline(TextToImagePipeline):
    """Pixel-space diffusion (studio/models/diffusion.py): text-to-image, "more like this" (image-to-image:
    the image noised to a strength, then denoised) and inpainting (the hole and the known pixels as extra
    input channels), sampled with DPM-Solver++ (Lu et al. 2022) in `steps` model evaluations and
    classifier-free guidance (Ho & Salimans 2022): prediction = uncond + guidance * (cond - uncond).

    `scheduler` is the sampler's configuration, kept in the folder (its betas and prediction type are the
    training schedule's); every call builds its own copy, so concurrent requests never share its state.
    Noise comes from a CPU generator, and the solver adds none after the first draw: same seed, same pixels.

    `upscaler` (optional, studio/models/upscaler.py): a cascade's second stage (Ho et al. 2021, "Cascaded
    diffusion models"; here a learned x2/x4 upscaler, not a second diffusion model). The network samples at
    its own size and every image a call returns is enlarged by it, so the folder's output size is the
    network's times its scale. A folder without one returns the network's size.
    """

    family, network_name, network_class = "diffusion", "unet", TextUNet
    capabilities = frozenset({"generate", "variations", "inpaint"})
    extra_components = {"scheduler": ["diffusers", "DPMSolverMultistepScheduler"]}
    optional = {"upscaler": ["studio.models.upscaler", "Upscaler"]}
    _optional_components = ["upscaler"]
    settings = frozenset({"steps", "guidance", "progress"})
    composes = True

    def __init__(self, unet: TextUNet, scheduler: DPMSolverMultistepScheduler, upscaler: Upscaler | None = None,
                 default_guidance: float = DEFAULT_GUIDANCE, guidance_parallel: float = 1.0,
                 guidance_interval: tuple[float, float | None] | list = GUIDANCE_INTERVAL):
        super().__init__()
        if upscaler is not None and not isinstance(upscaler, Upscaler):
            raise ValueError(f"a diffusion pipeline's upscaler is an Upscaler, got {type(upscaler).__name__}")
        # channels-last convolutions: ~1.2x faster sampling on these CPU cores (bench/generate.py), same weights
        self.register_modules(unet=unet.to(memory_format=torch.channels_last), scheduler=scheduler,
                              upscaler=upscaler)
        # the scale a call that names none samples at: kept in model_index.json, since where guidance trades
        # text faithfulness for realism and diversity differs from one set of weights to the next (chosen on
        # the validation split, see the folder's card); folders without it sample at DEFAULT_GUIDANCE
        _check_sampling(DEFAULT_STEPS, default_guidance)
        # the share of guidance's update kept along the conditional image prediction (see _project): 1 is
        # classifier-free guidance as Ho & Salimans; below 1, adaptive projected guidance (Sadat et al. 2024)
        if isinstance(guidance_parallel, bool) or not isinstance(guidance_parallel, (int, float)) \
                or not 0 <= guidance_parallel <= 1:
            raise ValueError(f"guidance_parallel must be a number from 0 to 1, got {str(guidance_parallel)[:20]!r}")
        # the noise levels where guidance (and the composed parts) apply, [low, high or None]: see _denoise
        interval = _check_interval(guidance_interval)
        self.register_to_config(default_guidance=float(default_guidance), guidance_parallel=float(guidance_parallel),
                                guidance_interval=list(interval))

    def _guidance(self, guidance: float | None) -> float:
        return self.config.default_guidance if guidance is None else guidance

    @property
    def scale(self) -> int:
        """How much the upscaler enlarges the network's images (1 without one)."""
        return 1 if self.upscaler is None else int(self.upscaler.config.scale)

    @property
    def output_size(self) -> int:
        return self.size * self.scale

    def _finish(self, images: torch.Tensor) -> torch.Tensor:
        """Sampled images in [-1, 1] at the network's size -> at the output size (through the upscaler)."""
        if self.upscaler is None:
            return images
        return self.upscaler(images.to(self.upscaler.device)).clamp(-1, 1)

    def _enlarged(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A box on the network's square (_fit) on the output's."""
        return tuple(v * self.scale for v in box)

    # ---- one denoising step and the loop
    def predict(self, noisy: torch.Tensor, timestep: torch.Tensor, hole: torch.Tensor, known: torch.Tensor,
                text: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None, guidance: float,
                parts: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = (),
                part_guidance: float = PART_GUIDANCE) -> torch.Tensor:
        """The guided prediction for a batch: the text-conditioned one when guidance is 1, else both the
        conditioned and the unconditioned (the null text) in one batch, extrapolated. text None: the
        unconditioned prediction alone (nothing said about the image). Each of `parts` (other encoded
        prompts) adds part_guidance * (its prediction - unconditioned), Composable Diffusion's "and"
        (Liu et al. 2022), computed in the same batch."""
        n = len(noisy)
        t = timestep.expand(n) if timestep.ndim else timestep.repeat(n)
        if text is None:
            return self.unet(noisy, t, hole, known, *self._null_text(n), drop=torch.ones(n, dtype=torch.bool,
                                                                                          device=noisy.device))
        if guidance == 1.0 and not parts:
            return self.unet(noisy, t, hole, known, *text)
        texts = [text, text, *parts]                                          # conditioned, unconditioned, parts
        k = len(texts)
        drop = (torch.arange(k * n, device=noisy.device) // n) == 1           # the second block: no text
        out = self.unet(noisy.repeat(k, 1, 1, 1), t.repeat(k), hole.repeat(k, 1, 1, 1), known.repeat(k, 1, 1, 1),
                        *_stack_texts(texts), drop=drop)
        cond, uncond, *extra = out.chunk(k)
        parts_update = sum((part_guidance * (e - uncond) for e in extra), torch.zeros_like(uncond))
        if self.config.guidance_parallel == 1.0:
            return uncond + guidance * (cond - uncond) + parts_update
        return cond + self._project((guidance - 1) * (cond - uncond) + parts_update, cond, noisy, t)

    def _project(self, update: torch.Tensor, cond: torch.Tensor, noisy: torch.Tensor, t: torch.Tensor
                 ) -> torch.Tensor:
        """Adaptive projected guidance (Sadat et al. 2024, "Eliminating oversaturation and artifacts of high
        guidance scales"): guidance's update to the prediction, seen as a change of the predicted clean image,
        split into the part parallel to the conditional clean image (which mostly scales its contrast and
        saturation) and the part orthogonal to it (which moves its content); the parallel part is kept only
        at the share config.guidance_parallel. The network predicts v or the noise, both linear in the clean
        image at a fixed noisy input, so the update is mapped to the clean image's space and back exactly."""
        alpha_bar = self.scheduler.alphas_cumprod.to(noisy.device, noisy.dtype)[t.long()].view(-1, 1, 1, 1)
        alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
        kind = self.scheduler.config.prediction_type
        if kind == "v_prediction":               # x0 = alpha * x_t - sigma * v
            clean, per_unit = alpha * noisy - sigma * cond, -sigma
        elif kind == "epsilon":                  # x0 = (x_t - sigma * eps) / alpha
            clean, per_unit = (noisy - sigma * cond) / alpha, -sigma / alpha
        else:                                    # the network predicts x0 itself
            clean, per_unit = cond, torch.ones_like(alpha)
        change = (update * per_unit).flatten(1)
        direction = clean.flatten(1)
        direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-8)
        parallel = (change * direction).sum(dim=1, keepdim=True) * direction
        change = change - (1 - self.config.guidance_parallel) * parallel
        return change.view_as(update) / per_unit

    def _sampler(self, steps: int) -> DPMSolverMultistepScheduler:
        sampler = DPMSolverMultistepScheduler.from_config(self.scheduler.config)
        sampler.set_timesteps(steps, device=self.unet.device)
        return sampler

    def _denoise(self, x, sampler, start: int, hole, known, text, guidance, progress, parts=(),
                 interval: Sequence[float | None] = GUIDANCE_INTERVAL) -> torch.Tensor:
        """`steps` solver steps from `start`. Guidance (and the parts) applies only at the noise levels inside
        `interval` (sigma = sqrt((1 - alpha_bar) / alpha_bar)); elsewhere the step takes the text-conditioned
        prediction alone, one network pass instead of two or three (Kynkaanniemi et al. 2024, "Applying guidance in
        a limited interval"). Text-to-image passes the folder's `guidance_interval`; "more like this" and repair
        guide every step they run (they start part-way down the schedule, often below the interval, where the
        guidance slider would otherwise do nothing). The default is every level. The shipped diffusion-fashion
        (2026-12-06, 3.5 M parameters) guides from sigma 1.3 (the lowest low end that kept the app's composed path
        under 2.8 s) to 100 (the first, pure-noise step unguided too, which lowered fd_evaluator on validation): 8
        of 20 steps; its card has the timings and the validation rows. With the earlier 1.6 M network, on the
        validation split (100 prompts x 8, 30 swap pairs kept apart from `eval swap`'s; the 2026-12-05 training leg,
        20 steps, guidance 3) leaving the three noisiest steps unguided (sigma <= 5) raised diversity 19.7 -> 21.9
        and lowered fd_evaluator 72 -> 63 but lost the backdrop (96.8% -> 93.4%) and the swap test (89.6% -> 83.3%);
        guiding only those steps (sigma >= 5) lost the category (90.6% -> 82.4%); leaving the last three unguided
        (sigma >= 0.28) changed nothing beyond noise (fd 70.5)."""
        timesteps, sigmas = sampler.timesteps[start:], sampler.sigmas[start:]
        low, high = interval
        high = float("inf") if high is None else high
        if start:
            sampler.set_begin_index(start)
        for i, t in enumerate(timesteps):
            inside = low <= float(sigmas[i]) <= high
            prediction = self.predict(x, t, hole, known, text, guidance if inside else 1.0, parts if inside else ())
            x = sampler.step(prediction, t, x, return_dict=False)[0]
            if progress is not None:
                progress(i + 1, len(timesteps))
        return x.clamp(-1, 1)

    def _text3(self, prompt: str, n: int):
        """((tokens, mask, pooled), the prompt as encoded); for a network with label embeddings the pooled
        vector already holds the view and the backdrop the prompt names, read as training read its captions."""
        tokens, mask, pooled, text = self._text(prompt, n)
        if self.unet.labelled:
            def index(value: int) -> torch.Tensor:
                return torch.full((n,), value, dtype=torch.long, device=pooled.device)

            pooled = self.unet.with_labels(pooled, index(view_index(text)), index(background_index(text)))
        return (tokens, mask, pooled), text

    def _null_text(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Placeholders shaped like an encoded text, for rows the network reads as the null condition."""
        device, width = self.unet.device, self.unet.config.text_dim
        return (torch.zeros(n, 1, width, device=device), torch.ones(n, 1, dtype=torch.bool, device=device),
                torch.zeros(n, width, device=device))

    def _noise(self, n: int, seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch.randn((n, 3, self.size, self.size), generator=generator).to(self.unet.device)

    # ---- the three abilities
    @torch.inference_mode()
    def __call__(self, prompt: str, num_images: int = 4, seed: int | None = None, steps: int = DEFAULT_STEPS,
                 guidance: float | None = None, progress=None, parts: Sequence[str] = ()) -> GenerationOutput:
        """Text to image: pure noise denoised in `steps` solver steps, everything to generate. `parts`: up to
        MAX_PARTS prompts that each add their guidance to the prompt's (see predict): the app passes the
        request without its product colour (Understanding.backdrop_prompt), so the backdrop it names is
        asked for once more without the colour word that leaks into it. PART_GUIDANCE was chosen on 30 swap
        pairs kept apart from `eval swap`'s (seed 1; 240 images each, diffusion-fashion of 2026-12-04):
        share with the product colour and backdrop both right 90.4% without, 93.8% at 0.5, 93.3% at 1.0,
        89.2% at 1.25, 78.3% at 2 (the colour word lost from the product). guidance None: the folder's own
        default (config.default_guidance)."""
        _check_count(num_images)
        guidance = self._guidance(guidance)
        _check_sampling(steps, guidance)
        parts = _check_parts(parts)
        seed = check_seed(seed)
        text, prompt_used = self._text3(prompt, num_images)
        encoded = [self._text3(part, num_images) for part in parts]
        sampler = self._sampler(steps)
        x = self._noise(num_images, seed) * sampler.init_noise_sigma
        everything = torch.ones(num_images, 1, self.size, self.size, device=self.unet.device)
        images = self._finish(self._denoise(x, sampler, 0, everything, torch.zeros_like(x), text, guidance, progress,
                                            [e[0] for e in encoded], self.config.guidance_interval))
        extra = {"parts": [e[1] for e in encoded]} if parts else {}
        return self._output(to_pil(images), seed, prompt_used, "generate", steps=steps, guidance=guidance, **extra)

    @torch.inference_mode()
    def other_angles(self, prompt: str, seed: int, index: int = 0, num_images: int = 4,
                     views: Sequence[str] = DEFAULT_ANGLES, steps: int = DEFAULT_STEPS,
                     guidance: float | None = None, progress=None) -> GenerationOutput:
        """The product of variant `index` of `self(prompt, num_images, seed, steps, guidance)` from other
        views: that variant's starting noise denoised under the prompt rephrased for each view
        (studio.data.views), in one batch. The noise fixes much of what the product looks like and the
        view words its pose; how far one product stays one product is what `eval views` measures. Only a
        model trained on the multi-view catalog knows views; others raise ValueError."""
        from .data.views import with_view

        views = self._angles(views, index, num_images)
        guidance = self._guidance(guidance)
        _check_sampling(steps, guidance)
        seed = check_seed(seed)
        prompt_used = self._text3(prompt, 1)[1]
        prompts = [with_view(prompt_used, v) for v in views]
        text = _stack_texts([self._text3(p, 1)[0] for p in prompts])
        sampler = self._sampler(steps)
        noise = self._noise(num_images, seed)[index:index + 1].expand(len(views), -1, -1, -1)
        x = noise * sampler.init_noise_sigma
        everything = torch.ones(len(views), 1, self.size, self.size, device=self.unet.device)
        images = self._finish(self._denoise(x, sampler, 0, everything, torch.zeros_like(x), text, guidance,
                                            progress, (), self.config.guidance_interval))
        return self._output(to_pil(images), seed, prompt_used, "other_angles", steps=steps, guidance=guidance,
                            index=index, num_images=num_images, views=views, prompts=prompts)

    @torch.inference_mode()
    def variations(self, image: Image.Image, prompt: str, strength: float = 0.5, num_images: int = 4,
                   seed: int | None = None, steps: int = DEFAULT_STEPS, guidance: float | None = None,
                   progress=None) -> GenerationOutput:
        """More like this (image-to-image, SDEdit: Meng et al. 2022): the image noised to `strength` of the
        schedule and denoised for the prompt. 0 returns the image as the model sees it, 1 ignores it."""
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1:
            raise ValueError(f"strength must be in [0, 1], got {str(strength)[:20]!r}")
        _check_count(num_images)
        guidance = self._guidance(guidance)
        _check_sampling(steps, guidance)
        seed = check_seed(seed)
        x0, box = self._fit(image)
        x0 = x0.expand(num_images, -1, -1, -1)
        text, prompt_used = self._text3(prompt, num_images)
        sampler = self._sampler(steps)
        start = steps - round(steps * strength)
        noise = self._noise(num_images, seed)
        if start == steps:
            images = x0
        else:
            x = sampler.add_noise(x0, noise, sampler.timesteps[start:start + 1].expand(num_images))
            everything = torch.ones(num_images, 1, self.size, self.size, device=self.unet.device)
            images = self._denoise(x, sampler, start, everything, torch.zeros_like(x), text, guidance, progress)
        out = [self._back(im, self._enlarged(box), image.size) for im in to_pil(self._finish(images))]
        return self._output(out, seed, prompt_used, "variations", strength=strength, steps=steps, guidance=guidance)

    @torch.inference_mode()
    def fill(self, rgb: np.ndarray, hole: np.ndarray, prompt: str | None = None, seed: int = 0,
             steps: int = FILL_STEPS, guidance: float = FILL_GUIDANCE, strength: float = FILL_STRENGTH,
             draws: int = FILL_DRAWS) -> np.ndarray:
        """The hole's pixels as uint8 (H, W, 3) at the input's size: the model generates inside the hole
        given the pixels around it (seed fixed: the same repair twice gives the same pixels), and the
        result is made to meet the surrounding pixels as the VAE's fill is (blend_seam).

        strength < 1 starts from a classical (Telea) fill of the hole noised to that share of the schedule,
        as A1111's "fill" masked content with a denoising strength: this model learned little about the
        known pixels at the very highest noise levels (its Min-SNR weighting gives them almost no weight),
        and on `eval repair` (100 fashion test images) 0.8 measured +1.3 dB hole PSNR over a fill from pure
        noise (medium masks 18.2 against 17.0 dB, thick 19.2 against 18.0), guidance 1 +0.3-0.5 dB over 3.
        With the 2026-12-05 folder, 16 draws and 10 steps, chosen on 120 validation images (never the test
        ones; medium / thick masks, hole PSNR): 0.8 21.69 / 21.82 dB, 0.9 22.05 / 22.55, 1.0 (pure noise)
        21.49 / 21.96; 0.85 rounds to 0.8's 8 of 10 steps; 0.9 at 20 steps 22.00 / 22.48 (no better for twice
        the time). Today's weights follow the known pixels well enough that only the noisiest step is better
        left to the classical start.

        draws > 1 averages that many fills (one batch, seeds from `seed`): an estimate of the mean fill given
        the pixels around the hole, closer to the original on average and softer than one draw. On the same
        100 images (medium / thick masks, hole PSNR) with the first diffusion-fashion: one draw at 20 steps
        18.21 / 19.20 dB, 4 draws 19.97 / 20.62, 8 draws at 10 steps 20.49 / 21.00 (the VAE: 21.45 / 22.07);
        a single step from pure noise (the network's own mean estimate) 14.76 / 14.68.

        prompt None (what a repair gets) fills under the null condition the network learned for guidance,
        not under an invented caption such as "a product" (no training caption reads like that): with the
        2026-12-04 folder, medium masks, 8 draws 20.92 -> 21.01 dB, and 16 draws under the null condition
        21.17 (the VAE 21.45)."""
        _check_sampling(steps, guidance)
        if not 0 < strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= MAX_DRAWS:
            raise ValueError(f"draws must be a whole number from 1 to {MAX_DRAWS}, got {str(draws)[:20]!r}")
        image = Image.fromarray(rgb)
        known, box = self._fit(image)
        h = self._hole(hole, box)
        known, h = known.expand(draws, -1, -1, -1), h.expand(draws, -1, -1, -1)
        text = None if prompt is None else self._text3(prompt, draws)[0]
        sampler = self._sampler(steps)
        start = steps - max(1, round(steps * strength))
        noise = self._noise(draws, seed)
        if start:
            prefilled, _ = self._fit(Image.fromarray(TELEA.fill(rgb, hole, 3)))
            x = sampler.add_noise(prefilled.expand(draws, -1, -1, -1), noise,
                                  sampler.timesteps[start:start + 1].expand(draws))
        else:
            x = noise * sampler.init_noise_sigma
        images = self._finish(self._denoise(x, sampler, start, h, known, text, guidance, None).mean(0, keepdim=True))
        decoded = np.asarray(self._back(to_pil(images)[0], self._enlarged(box), image.size))
        return blend_seam(rgb, decoded, hole)

    def inpaint(self, image: Image.Image, mask, prompt: str | None = None, seed: int = 0) -> GenerationOutput:
        """Fill the masked region; every unmasked pixel (and alpha) is returned exactly. prompt None: the
        null condition (see fill)."""
        seed = check_seed(seed)
        repaired = fill_hole(image, mask, lambda rgb, hole: self.fill(rgb, hole, prompt, seed))
        return self._output([repaired], seed, prompt, "inpaint")


PIPELINES: dict[str, type[TextToImagePipeline]] = {cls.__name__: cls for cls in
                                                   (GANPipeline, VAEPipeline, VAEGANPipeline,
                                                                    DiffusionTextPipeline)}
CAPABILITIES: dict[str, frozenset[str]] = {cls.family: cls.capabilities for cls in PIPELINES.values()}


def cascade(folder: str | Path, upscaler: str | Path | None, out: str | Path, **settings) -> Path:
    """Write a diffusion folder as `folder`'s network and sampler with `upscaler`'s network as its second
    stage (None: without one), into `out`; `settings` (default_guidance, guidance_interval) replace the
    folder's own. The upscaler must have learned from the network's catalog (or photos, the general one).
    Stored in float16 as a trained folder is (opened in float32)."""
    from .edits.upscale import open_upscaler
    from .train.common import save_pipeline

    pipe = open_pipeline(folder)
    if not isinstance(pipe, DiffusionTextPipeline):
        raise ValueError(f"{Path(folder).name} is a {pipe.family} generator; a cascade starts from a diffusion one")
    stage = None
    if upscaler is not None:
        stage = open_upscaler(upscaler)
        if stage.config.catalog not in (pipe.catalog, "photos"):
            raise ValueError(f"{Path(upscaler).name} learned from {stage.config.catalog}, "
                             f"{Path(folder).name} from {pipe.catalog}")
    own = {k: pipe.config[k] for k in ("default_guidance", "guidance_parallel", "guidance_interval")}
    own.update(settings)
    return save_pipeline(DiffusionTextPipeline(pipe.unet, pipe.scheduler, stage, **own), out)


def sampling(pipe: TextToImagePipeline, settings: dict) -> dict:
    """The settings (None: the model's default) that this pipeline's calls take: one form can hold the
    truncation slider and the diffusion sliders, and each model gets its own."""
    return {k: v for k, v in settings.items() if v is not None and k in pipe.settings}


def pipeline_class(folder: str | Path) -> type[TextToImagePipeline]:
    """The generator class a folder holds, read from its model_index.json (nothing is loaded). One clear
    ValueError for anything else: a missing folder, a single network such as the evaluator, a pipeline
    this studio does not know."""
    folder = Path(folder)
    index = folder / INDEX
    if not index.is_file():
        config = folder / "config.json"
        if config.is_file():
            try:
                held = json.loads(config.read_text()).get("_class_name", "an unknown model")
            except (OSError, ValueError, AttributeError):
                held = "an unreadable config.json"
            raise ValueError(f"{folder.name} is not a generator: it holds {held}, which makes no images")
        raise ValueError(f"{folder.name} is not a generator folder (no {INDEX})")
    try:
        content = json.loads(index.read_text())
        name = content.get("_class_name")
    except (OSError, ValueError, AttributeError):
        raise ValueError(f"{folder.name}: its {INDEX} cannot be read") from None
    if name not in PIPELINES:
        raise ValueError(f"{folder.name} holds a {name!r}; generators: {', '.join(PIPELINES)}")
    cls = PIPELINES[name]
    # diffusers imports whatever module a component entry names: only the network this pipeline is made of
    expected = {cls.network_name: [cls.network_class.__module__, cls.network_class.__name__],
                **cls.extra_components}
    # besides its components an index may hold the pipeline's own settings (DiffusionTextPipeline's
    # default_guidance), which its __init__ checks when the folder is opened
    own = set(inspect.signature(cls.__init__).parameters) - set(expected) - set(cls.optional) - {"self"}
    components = {k: v for k, v in content.items() if not k.startswith("_") and k not in own}
    for part, entry in cls.optional.items():            # held as named, or left out (absent or [null, null])
        held = components.pop(part, None)
        if held not in (None, [None, None], entry):
            raise ValueError(f"{folder.name}: a {part} of a {name} is a {entry}, its {INDEX} names {held}")
    if components != expected:
        made_of = ", ".join(f"{k} = {v}" for k, v in expected.items())
        raise ValueError(f"{folder.name}: a {name} is made of {made_of}, its {INDEX} names {components}")
    return cls


def default_settings(folder: str | Path) -> dict:
    """The sampling settings a generator folder's calls use when they name none (read from its files,
    nothing loaded): steps and guidance for diffusion (its own default guidance where the index keeps one),
    nothing for the one-pass generators."""
    cls = pipeline_class(folder)
    if "guidance" not in cls.settings:
        return {}
    guidance = json.loads((Path(folder) / INDEX).read_text()).get("default_guidance", DEFAULT_GUIDANCE)
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)):
        raise ValueError(f"{Path(folder).name}: its {INDEX} holds a default_guidance that is not a number")
    return {"steps": DEFAULT_STEPS, "guidance": float(guidance)}


def folder_catalog(folder: str | Path) -> str | None:
    """The catalog a generator folder's network learned from (its config.json), without loading it."""
    try:
        cls = pipeline_class(folder)
        config = json.loads((Path(folder) / cls.network_name / "config.json").read_text())
    except (ValueError, OSError):
        return None
    return config.get("catalog")


ANGLES = "angles"       # the capability of a VAE trained on the multi-view catalog: other_angles


def is_generator(folder: str | Path, capability: str = "generate") -> bool:
    """Whether the folder holds a generator that can `capability` (read from its files, nothing loaded)."""
    try:
        if capability == ANGLES:
            return hasattr(pipeline_class(folder), "other_angles") and folder_catalog(folder) == "furniture-views"
        return capability in pipeline_class(folder).capabilities
    except ValueError:
        return False


def open_pipeline(folder: str | Path, device: str = "cpu", encoder: "TextEncoder | None" = None
                  ) -> TextToImagePipeline:
    """The one place a generator folder is opened (Studio, the CLI, the evaluation harness, the app).
    Weights stored in half precision are computed in float32."""
    from diffusers.utils import logging

    cls = pipeline_class(folder)
    logging.disable_progress_bar()
    pipe = cls.from_pretrained(str(Path(folder)), dtype=torch.float32)
    pipe.to(device)
    for module in pipe.components.values():
        if isinstance(module, torch.nn.Module):
            module.eval().requires_grad_(False)
    return pipe.use_encoder(encoder)
