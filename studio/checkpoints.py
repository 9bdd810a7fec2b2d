"""save_pretrained / load_pretrained: a model folder is config.json + model.safetensors (+ README.md).

The config is a frozen dataclass; `config.json` also records which registered model it is, so loading a
folder needs nothing else.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# The shipped model folders: weights/ at the repository root (also the Space's root).
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def save_pretrained(model: "torch.nn.Module", config, folder: str | Path, kind: str,
                    extra: dict | None = None) -> Path:
    """Write config.json (dataclass fields + kind + extra) and model.safetensors (float32, CPU)."""
    from safetensors.torch import save_file

    if not dataclasses.is_dataclass(config):
        raise TypeError(f"config must be a dataclass, not {type(config).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"kind": kind, "config": dataclasses.asdict(config), **(extra or {})}
    (folder / "config.json").write_text(json.dumps(payload, indent=2) + "\n")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    return folder


def read_config(folder: str | Path) -> dict:
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a model folder: no config.json")
    return json.loads(path.read_text())


def _tuples(value):
    """JSON lists back to the tuples frozen configs hold."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def load_pretrained(folder: str | Path, device: str = "cpu"):
    """(model in eval mode, config dataclass, raw config dict) from a folder written by save_pretrained."""
    from safetensors.torch import load_file

    from .models import MODELS

    raw = read_config(folder)
    kind = raw.get("kind")
    if kind not in MODELS:
        raise ValueError(f"{folder}: unknown model kind {kind!r}; registered: {', '.join(MODELS)}")
    model_cls, config_cls = MODELS[kind]
    config = config_cls(**{k: _tuples(v) for k, v in raw["config"].items()})
    model = model_cls(config)
    model.load_state_dict(load_file(str(Path(folder) / "model.safetensors"), device="cpu"), strict=True)
    return model.to(device).eval(), config, raw
