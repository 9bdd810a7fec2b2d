"""One-off conversion of the first weights layout to diffusers' (run once per folder; kept for merchants'
own folders trained before the change).

    python -m studio convert weights/vae-fashion --half

The first layout was config.json {"kind", "config" (nested text sizes), provenance} + model.safetensors.
The new one is what `save_pretrained` writes: a generator becomes a pipeline folder (model_index.json + a
component sub-folder), the evaluator a single ModelMixin folder. The tensors are the same (strict load);
`--half` stores a generator's weights in float16, computed in float32 when opened (open_pipeline), which
halves the folder and moves pixels by float16 rounding only.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

TEXT_KEYS = {"text_dim": "text_dim", "queries": "text_queries", "heads": "text_heads", "dim": "text_width"}
ARCHITECTURE = {
    "gan": ("size", "z_dim", "width", "cond_dim"),
    "vae": ("size", "width", "z_dim", "prior_components", "prior_hidden"),
    "evaluator": ("heads", "labels", "size", "width", "features"),
}


def is_legacy(folder: str | Path) -> bool:
    config = Path(folder) / "config.json"
    if not config.is_file() or (Path(folder) / "model_index.json").is_file():
        return False
    raw = json.loads(config.read_text())
    return "kind" in raw and "config" in raw


def _arguments(raw: dict) -> dict:
    kind, config = raw["kind"], raw["config"]
    if kind not in ARCHITECTURE:
        raise ValueError(f"unknown model kind {kind!r}; this converter knows {', '.join(ARCHITECTURE)}")
    args = {key: config[key] for key in ARCHITECTURE[kind] if key in config}
    if "heads" in args:                                 # ModelMixin keeps `heads` for the head modules
        args["head_sizes"] = args.pop("heads")
    args.update({new: config["text"][old] for old, new in TEXT_KEYS.items() if "text" in config})
    training = dict(raw.get("training") or raw.get("metrics") or {})
    if raw.get("prior"):
        training["prior"] = raw["prior"]
    return {**args, "catalog": raw.get("catalog"), "training": training or None}


def convert(folder: str | Path, half: bool = False) -> Path:
    """Rewrite `folder` in place in the new layout (its README.md is kept). Returns the folder."""
    from safetensors.torch import load_file

    from .models.evaluator import AttributeEvaluator
    from .models.gan import Generator
    from .models.vae import ConditionalVAE
    from .pipelines import GANPipeline, VAEPipeline

    folder = Path(folder)
    if not is_legacy(folder):
        raise ValueError(f"{folder} is not a folder in the first layout (config.json with kind and config)")
    raw = json.loads((folder / "config.json").read_text())
    network_cls = {"gan": Generator, "vae": ConditionalVAE, "evaluator": AttributeEvaluator}[raw["kind"]]
    network = network_cls(**_arguments(raw))
    network.load_state_dict(load_file(str(folder / "model.safetensors")), strict=True)
    staging = folder.with_name(folder.name + ".converting")
    shutil.rmtree(staging, ignore_errors=True)
    if raw["kind"] == "evaluator":
        network.save_pretrained(staging)
    else:
        if half:
            network.half()
        pipeline = GANPipeline(generator=network) if raw["kind"] == "gan" else VAEPipeline(vae=network)
        pipeline.save_pretrained(staging)
    if (folder / "README.md").is_file():
        shutil.copy2(folder / "README.md", staging / "README.md")
    shutil.rmtree(folder)
    staging.rename(folder)
    return folder
