"""Where the shipped weights live, and the one way a single network folder is opened.

A generator folder is a pipeline (studio/pipelines.py: `open_pipeline`); a single network (the evaluator,
or a pipeline's component sub-folder) is what `ModelMixin.save_pretrained` writes: config.json naming its
class + safetensors.
"""

from __future__ import annotations

import json
from pathlib import Path

# The shipped model folders: weights/ at the repository root (also the Space's root).
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def network_class_name(folder: str | Path) -> str | None:
    """The `_class_name` a network folder's config.json records (None when there is none)."""
    path = Path(folder) / "config.json"
    try:
        return json.loads(path.read_text()).get("_class_name")
    except (OSError, ValueError, AttributeError):
        return None


def open_network(folder: str | Path, cls, device: str = "cpu", subfolder: str | None = None):
    """`cls.from_pretrained(folder)` in eval mode on `device`, computed in float32; a clear error when the
    folder holds something else."""
    import torch
    from diffusers.utils import logging

    where = Path(folder) / subfolder if subfolder else Path(folder)
    held = network_class_name(where)
    if held != cls.__name__:
        raise ValueError(f"{Path(folder).name} holds {held or 'no model'}, not a {cls.__name__}")
    logging.disable_progress_bar()
    model = cls.from_pretrained(str(folder), subfolder=subfolder, dtype=torch.float32)
    return model.to(device).eval()
