"""Studio: the one façade the UI and the CLI talk to. Loads models lazily; never imports gradio."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .checkpoints import WEIGHTS_DIR
from .sampling import GanGenerator, GenerationResult, VaeGenerator
from .text import TextEncoder, check_prompt

if TYPE_CHECKING:
    from .edits.repair import RepairMethods

GENERATOR_KINDS = {"gan": GanGenerator, "vae": VaeGenerator}


class Studio:
    def __init__(self, weights: str | Path = WEIGHTS_DIR, device: str = "cpu"):
        self.weights = Path(weights)
        self.device = device
        self.encoder = TextEncoder(device=device)
        self._generators: dict[str, GanGenerator | VaeGenerator] = {}
        self._lock = threading.Lock()
        self._repair_methods = None

    def repair_methods(self) -> "RepairMethods":
        """This studio's repair methods: Telea and Navier-Stokes, and each VAE in its weights folder as
        `vae:<folder>` on its device (nothing loads until a fill runs); `vae` names the first of them, as
        it always has for scripts. Built once, owned here."""
        from .edits.repair import CLASSICAL

        if self._repair_methods is None:
            methods = CLASSICAL
            vaes = self.models(("vae",))
            for name in vaes:
                methods = methods.with_model(f"vae:{name}", self.weights / name, self.device)
            self._repair_methods = methods.with_alias("vae", f"vae:{vaes[0]}") if vaes else methods
        return self._repair_methods

    def models(self, kinds: tuple[str, ...] = tuple(GENERATOR_KINDS)) -> list[str]:
        """Generator folders under the weights directory (a merchant's own trained model included)."""
        found = []
        for folder in sorted(self.weights.glob("*/config.json")):
            try:
                kind = json.loads(folder.read_text()).get("kind")
            except (OSError, json.JSONDecodeError):
                continue
            if kind in kinds:
                found.append(folder.parent.name)
        return found

    def _generator(self, model: str | None, kinds: tuple[str, ...] = tuple(GENERATOR_KINDS)):
        available = self.models(kinds)
        name = model or (available[0] if available else None)
        if name is None:
            raise ValueError(f"no generator ({', '.join(kinds)}) in {self.weights}; train one with "
                             f"`python -m studio train {kinds[0]}`")
        folder = Path(name) if Path(name).is_dir() else self.weights / name
        try:
            kind = json.loads((folder / "config.json").read_text()).get("kind")
        except (OSError, json.JSONDecodeError):
            kind = None
        if kind not in kinds:
            raise ValueError(f"unknown model {name!r}; available: {', '.join(available) or 'none'}")
        with self._lock:
            key = str(folder.resolve())
            if key not in self._generators:
                self._generators[key] = GENERATOR_KINDS[kind](folder, self.device, self.encoder)
            return self._generators[key]

    def generate(self, prompt: str, n: int = 4, seed: int | None = None, model: str | None = None,
                 truncation: float | None = None) -> GenerationResult:
        """n variants of `prompt`; the result carries the seed used (None draws a fresh one)."""
        return self._generator(model).generate(check_prompt(prompt), n=n, seed=seed, truncation=truncation)

    # ---- the VAE's extra abilities (model: a VAE folder name; default the first one)
    def has_vae(self) -> bool:
        return bool(self.models(("vae",)))

    def variations(self, image, prompt: str, strength: float = 0.5, n: int = 4, seed: int | None = None,
                   model: str | None = None) -> GenerationResult:
        """More like this `image`: 0 reconstructs it, 1 is a fresh sample for the prompt."""
        return self._generator(model, ("vae",)).variations(image, check_prompt(prompt), strength=strength, n=n,
                                                           seed=seed)

    def interpolate(self, image_a, image_b, steps: int = 5, prompt: str = "a product", model: str | None = None,
                    prompt_b: str | None = None):
        """Frames from A to B through the VAE's latent space (and from A's prompt to B's, when given)."""
        return self._generator(model, ("vae",)).interpolate(image_a, image_b, steps=steps, prompt=prompt,
                                                            prompt_b=prompt_b)

    def repair(self, image, mask, prompt: str = "a product", model: str | None = None):
        """The VAE fills the masked region; unmasked pixels are returned exactly."""
        return self._generator(model, ("vae",)).repair(image, mask, prompt=prompt)
