"""What every generative trainer does last: write the folder the studio loads, and the run's history."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..checkpoints import save_pretrained
from .bank import TRAINABLE_CATALOGS


def start_run(cfg, trainer: str):
    """The start every generative trainer shares: the catalog check, seeds, Accelerate, runs/ folder.
    Returns (start time, numpy rng, accelerator, runs folder)."""
    from accelerate import Accelerator

    if cfg.catalog not in TRAINABLE_CATALOGS:
        raise ValueError(f"the {trainer} trainer knows the catalogs {', '.join(TRAINABLE_CATALOGS)}, "
                         f"not {cfg.catalog!r}")
    started = time.time()
    torch.manual_seed(cfg.seed)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    runs = Path(cfg.runs)
    runs.mkdir(parents=True, exist_ok=True)
    return started, np.random.default_rng(cfg.seed), accelerator, runs


def hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{platform.machine()} CPU, {torch.get_num_threads()} threads"


def write_trained(model: torch.nn.Module, config, cfg, kind: str, steps: int, epochs: int, started: float,
                  history: list[dict], log=print) -> dict:
    """save_pretrained(model) to cfg.out with the training metrics; history.json to cfg.runs."""
    seconds = time.time() - started
    metrics = {"steps": steps, "epochs_seen": epochs, "batch_size": cfg.batch_size, "seconds": round(seconds, 1),
               "hardware": hardware(), "train": asdict(cfg)}
    save_pretrained(model, config, cfg.out, kind=kind, extra={"catalog": cfg.catalog, "training": metrics})
    (Path(cfg.runs) / "history.json").write_text(json.dumps({"metrics": metrics, "history": history}, indent=2))
    log(f"wrote {cfg.out} after {steps} steps ({seconds / 60:.1f} min)")
    return metrics
