"""Studio: the one façade the UI and the CLI talk to. Loads models lazily; never imports gradio."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .checkpoints import WEIGHTS_DIR
from .sampling import GanGenerator, GenerationResult
from .text import TextEncoder

GENERATOR_KINDS = {"gan": GanGenerator}


class Studio:
    def __init__(self, weights: str | Path = WEIGHTS_DIR, device: str = "cpu"):
        self.weights = Path(weights)
        self.device = device
        self.encoder = TextEncoder(device=device)
        self._generators: dict[str, GanGenerator] = {}
        self._lock = threading.Lock()

    def models(self) -> list[str]:
        """Generator folders under the weights directory (a merchant's own trained model included)."""
        found = []
        for folder in sorted(self.weights.glob("*/config.json")):
            try:
                kind = json.loads(folder.read_text()).get("kind")
            except (OSError, json.JSONDecodeError):
                continue
            if kind in GENERATOR_KINDS:
                found.append(folder.parent.name)
        return found

    def _generator(self, model: str | None) -> GanGenerator:
        available = self.models()
        name = model or (available[0] if available else None)
        if name is None:
            raise ValueError(f"no generator in {self.weights}; train one with `python -m studio train gan`")
        folder = Path(name) if Path(name).is_dir() else self.weights / name
        try:
            kind = json.loads((folder / "config.json").read_text()).get("kind")
        except (OSError, json.JSONDecodeError):
            kind = None
        if kind not in GENERATOR_KINDS:
            raise ValueError(f"unknown model {name!r}; available: {', '.join(available) or 'none'}")
        with self._lock:
            key = str(folder.resolve())
            if key not in self._generators:
                self._generators[key] = GENERATOR_KINDS[kind](folder, self.device, self.encoder)
            return self._generators[key]

    def generate(self, prompt: str, n: int = 4, seed: int | None = None, model: str | None = None,
                 truncation: float | None = None) -> GenerationResult:
        """n variants of `prompt`; the result carries the seed used (None draws a fresh one)."""
        return self._generator(model).generate(prompt, n=n, seed=seed, truncation=truncation)
