"""Studio: the one façade the UI and the CLI talk to. Loads models lazily; never imports gradio."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .checkpoints import WEIGHTS_DIR
from .text import TextEncoder, check_prompt

FAMILY_ORDER = ("vaegan", "vae", "gan", "diffusion")      # generator families, best-measured first (the default model)
# the catalogs whose models make what a prompt reads as, preferred first: a furniture prompt goes to a model of
# the multi-view catalog (an item taxonomy, views, its own judge) before one of the single-icon catalog
SERVES = {"fashion": ("fashion",), "furniture": ("furniture-views", "furniture")}

if TYPE_CHECKING:
    from .edits.repair import RepairMethods
    from .edits.upscale import Upscalers
    from .pipelines import GenerationOutput, TextToImagePipeline
    from .understand import PromptReader, Understanding


class Studio:
    def __init__(self, weights: str | Path = WEIGHTS_DIR, device: str = "cpu"):
        self.weights = Path(weights)
        self.device = device
        self.encoder = TextEncoder(device=device)
        self._pipelines: dict[str, TextToImagePipeline] = {}
        self._lock = threading.Lock()
        self._repair_methods = None
        self._upscalers = None
        self._reader: PromptReader | None = None
        self._live_styles = self._register_live_styles()

    # ---- neural style: the live networks in its weights, named in recipes by their folder (style-live)
    def _register_live_styles(self) -> tuple[str, ...]:
        """Registers each live style network folder of the weights with the process's Stylist (the cache of
        neural style results every recipe shares; studio/edits/neural_style.py), nothing loaded yet."""
        from .checkpoints import network_class_name
        from .edits.neural_style import STYLIST

        folders = sorted(self.weights.iterdir()) if self.weights.is_dir() else []
        names = []
        for folder in folders:
            if folder.is_dir() and network_class_name(folder) == "StyleDecoder":
                STYLIST.register(folder.name, folder)
                names.append(folder.name)
        return tuple(names)

    def live_styles(self) -> tuple[str, ...]:
        """The live style networks recipes may name here (quality is always there)."""
        return self._live_styles

    # ---- what a prompt asks for (studio/understand.py), when the heads are installed
    def can_understand(self) -> bool:
        from .understand import FOLDER

        return (self.weights / FOLDER / "config.json").is_file()

    def understand(self, prompt: str, model: str | None = None, labels: dict | None = None) -> "Understanding":
        """The prompt's labels, canonical prompt and warnings, and the installed model it routes to (the
        first generator of the first catalog in SERVES that has one); `model`, when the merchant chose one,
        stays, with a warning when it was trained on another catalog. `labels`: what the merchant set by hand (head -> label or None),
        over what was read (Understanding.with_labels)."""
        from .pipelines import folder_catalog
        from .understand import FOLDER, PromptReader

        if self._reader is None:
            self._reader = PromptReader(self.weights / FOLDER, self.device, self.encoder)
        understood = self._reader.read(check_prompt(prompt)).with_labels(labels)
        catalogs = {name: folder_catalog(self.weights / name) for name in self.models()}
        warnings = list(understood.warnings)
        if model is None:
            model = next((name for wanted in SERVES.get(understood.catalog, (understood.catalog,))
                          for name, c in catalogs.items() if c == wanted), None)
            if model is None and understood.catalog == "furniture":
                warnings.append("no installed model makes furniture")
        elif understood.domain in SERVES and catalogs.get(model) not in (None, *SERVES[understood.domain]):
            warnings.append(f"this reads as {understood.domain}, and {model} was trained on {catalogs[model]}")
        if understood.view and model is not None and catalogs.get(model) != "furniture-views":
            warnings.append(f"{model} shows products from one view: the {understood.view} view asked for is not "
                            f"guaranteed")
        return dataclasses.replace(understood, model=model, warnings=tuple(warnings))

    def repair_methods(self) -> "RepairMethods":
        """This studio's repair methods: Telea and Navier-Stokes, and each generator in its weights folder
        that can inpaint, on its device (nothing loads until a fill runs): `diffusion:<folder>` for a
        diffusion model, `vae:<folder>` for the VAE family (the names saved recipes use); `vae` names the
        first VAE among them (else the first), as it always has for scripts; and each photo inpainter folder
        (`inpaint-photos`) by its name. Built once, owned here."""
        from .edits.repair import CLASSICAL
        from .pipelines import pipeline_class

        if self._repair_methods is None:
            methods = CLASSICAL
            inpainters = self.models("inpaint")
            families = {name: pipeline_class(self.weights / name).family for name in inpainters}
            named = {name: f"{'diffusion' if family == 'diffusion' else 'vae'}:{name}"
                     for name, family in families.items()}
            for name in inpainters:
                methods = methods.with_model(named[name], self.weights / name, self.device)
            plain = [n for n in inpainters if families[n] == "vae"] + inpainters
            methods = methods.with_alias("vae", named[plain[0]]) if inpainters else methods
            for folder in self._network_folders("InpaintNet"):            # photo inpainters, by folder name
                methods = methods.with_model(folder.name, folder, self.device)
            self._repair_methods = methods
        return self._repair_methods

    def _network_folders(self, class_name: str) -> list[Path]:
        """Network folders (config.json naming `class_name`) under the weights directory, by name."""
        from .checkpoints import network_class_name

        folders = sorted(self.weights.iterdir()) if self.weights.is_dir() else []
        return [f for f in folders if f.is_dir() and network_class_name(f) == class_name]

    def upscalers(self) -> "Upscalers":
        """This studio's upscalers: bicubic and Lanczos, and each trained upscaler folder in its weights
        (`upscaler-x2`, `upscaler-x4`, ...: the names recipes use); nothing loads until one runs. Built once."""
        from .edits.upscale import CLASSICAL_UPSCALERS

        if self._upscalers is None:
            tools = CLASSICAL_UPSCALERS
            for folder in self._network_folders("Upscaler"):
                tools = tools.with_model(folder.name, folder, self.device)
            self._upscalers = tools
        return self._upscalers

    def models(self, capability: str = "generate") -> list[str]:
        """Generator folders under the weights directory that offer `capability` (a merchant's own
        trained model included); see pipelines.CAPABILITIES."""
        from .pipelines import INDEX, is_generator, pipeline_class

        def rank(folder: Path) -> tuple[int, str]:
            family = pipeline_class(folder).family
            return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), folder.name)

        # the family that measured best on the visible suite comes first, so it is the default (issue 15:
        # the VAE-GAN beside its VAE in weights/gan-fashion/README.md), then by name
        found = [index.parent for index in self.weights.glob(f"*/{INDEX}") if is_generator(index.parent, capability)]
        return [folder.name for folder in sorted(found, key=rank)]

    def can(self, model: str | None, capability: str) -> bool:
        """Whether `model` (a folder name; None: the first generator) offers `capability`."""
        from .pipelines import is_generator

        name = model or next(iter(self.models()), None)
        return name is not None and is_generator(self.weights / name, capability)

    def settings(self, model: str | None = None) -> frozenset[str]:
        """The sampling settings `model` takes (None: those any installed generator takes), read from the
        folders without loading them: truncation for the one-pass generators, steps and guidance for
        diffusion."""
        from .pipelines import pipeline_class

        names = [model] if model else self.models()
        return frozenset().union(*(pipeline_class(self.weights / name).settings for name in names))

    def defaults(self, model: str | None = None) -> dict:
        """The sampling settings `model` uses when a request names none (None: the first installed
        generator that has such settings), read from its folder without loading it: {} when none has any."""
        from .pipelines import default_settings

        if model:
            return default_settings(self.weights / model)
        for name in self.models():
            try:
                found = default_settings(self.weights / name)
            except (OSError, ValueError):           # a folder whose index cannot say: it refuses when opened
                continue
            if found:
                return found
        return {}

    def pipeline(self, model: str | None = None, capability: str = "generate") -> "TextToImagePipeline":
        """The opened pipeline of a folder under the weights directory (default: the first that offers
        `capability`), cached; ValueError naming what is available otherwise."""
        from .pipelines import open_pipeline

        available = self.models(capability)
        name = model or (available[0] if available else None)
        if name is None:
            raise ValueError(f"no generator that can {capability} in {self.weights}; train one with "
                             f"`python -m studio train vae`")
        if name not in available:
            raise ValueError(f"unknown model {name!r} for {capability}; available: {', '.join(available) or 'none'}")
        folder = self.weights / name
        with self._lock:
            key = str(folder.resolve())
            if key not in self._pipelines:
                self._pipelines[key] = open_pipeline(folder, self.device, self.encoder)
            return self._pipelines[key]

    def generate(self, prompt: str, n: int = 4, seed: int | None = None, model: str | None = None,
                 truncation: float | None = None, understand: bool = True,
                 labels: dict | None = None, steps: int | None = None, guidance: float | None = None,
                 progress=None) -> "GenerationOutput":
        """n variants of `prompt`; the result carries the seed used (None draws a fresh one). With the
        understanding heads installed (and `understand`), the model follows the prompt unless one is given,
        the generator gets the canonical prompt (`labels` set by hand override what was read), and
        `request` keeps the merchant's words. Sampling settings go to the models that have them (see
        `sampling`): truncation to the one-pass generators, steps and guidance to diffusion, with
        `progress(done, total)` called after each denoising step."""
        from .pipelines import composed, sampling

        prompt = check_prompt(prompt)
        settings = {"truncation": truncation, "steps": steps, "guidance": guidance, "progress": progress}
        if not (understand and self.can_understand()):
            if labels:
                raise ValueError("labels set by hand need the prompt-understanding heads (weights/understand)")
            pipe = self.pipeline(model)
            return pipe(prompt, num_images=n, seed=seed, **sampling(pipe, settings))
        understood = self.understand(prompt, model, labels)
        pipe = self.pipeline(understood.model or model)
        out = pipe(understood.canonical, num_images=n, seed=seed, **sampling(pipe, settings),
                   **composed(pipe, understood.backdrop_prompt))
        return dataclasses.replace(out, request=prompt)

    def other_angles(self, prompt: str, seed: int, index: int = 0, n: int = 4, model: str | None = None,
                     views=None, truncation: float | None = None, steps: int | None = None,
                     guidance: float | None = None) -> "GenerationOutput":
        """Variant `index` of a generation (its prompt as the model was given it, its seed, its batch size n
        and sampling settings) from each of `views` (default: every named view): one latent (a VAE) or one
        starting noise (diffusion), the prompt rephrased per view."""
        from .pipelines import ANGLES, DEFAULT_ANGLES, sampling

        pipe = self.pipeline(model, ANGLES)
        settings = sampling(pipe, {"truncation": truncation, "steps": steps, "guidance": guidance})
        return pipe.other_angles(check_prompt(prompt), seed, index=index, num_images=n,
                                 views=DEFAULT_ANGLES if views is None else views, **settings)

    def variations(self, image, prompt: str, strength: float = 0.5, n: int = 4, seed: int | None = None,
                   model: str | None = None, steps: int | None = None, guidance: float | None = None,
                   progress=None) -> "GenerationOutput":
        """More like this `image`: 0 reconstructs it, 1 is a fresh sample for the prompt."""
        from .pipelines import sampling

        pipe = self.pipeline(model, "variations")
        settings = sampling(pipe, {"steps": steps, "guidance": guidance, "progress": progress})
        return pipe.variations(image, check_prompt(prompt), strength=strength, num_images=n, seed=seed, **settings)

    def interpolate(self, image_a, image_b, steps: int = 5, prompt: str = "a product", model: str | None = None,
                    prompt_b: str | None = None) -> "GenerationOutput":
        """Frames from A to B through the model's latent space (and from A's prompt to B's, when given)."""
        return self.pipeline(model, "interpolate").interpolate(image_a, image_b, steps=steps, prompt=prompt,
                                                               prompt_b=prompt_b)

    def repair(self, image, mask, prompt: str | None = None, model: str | None = None):
        """A learned fill of the masked region; unmasked pixels are returned exactly. Without a prompt each
        model fills as its repair method does (its own default)."""
        pipe = self.pipeline(model, "inpaint")
        return (pipe.inpaint(image, mask) if prompt is None else pipe.inpaint(image, mask, prompt=check_prompt(prompt))).images[0]

