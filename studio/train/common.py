"""The training scaffold every trainer shares, on Hugging Face Accelerate used as it is meant:

- `TrainConfig` (studio/train/configs.py): the fields every trainer has; a trainer's config subclasses it,
  and the CLI flags are generated from the dataclass's fields (one source of defaults).
- `Run`: one Accelerator (CPU, one GPU or several processes under `accelerate launch`; `--mixed-precision`),
  seeds, a prepared `DataLoader` so processes see different batches, `batches()` (the one epoch/batch
  iterator, with the time budget), `log()`, `checkpoint()` (`save_state`: networks, optimisers, schedules,
  EMA, step and history) and `--resume` (`load_state`: the run continues from the saved step). Every write
  is guarded by `is_main_process`.
- `write_trained`: what every trainer does last: the EMA or final weights as a pipeline folder or a network folder
  (studio/pipelines.py), the training record in the network's config.json, history.json in runs/.

A long run is a chain of legs: `--max-minutes 110` ends a leg (state saved, a usable folder written);
the same command with `--resume` continues it from `runs/<name>/state/`.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from .configs import TRAINABLE_CATALOGS, TrainConfig


class Progress:
    """Step, epoch and history: checkpointed with the networks (accelerate's register_for_checkpointing)."""

    def __init__(self):
        self.step, self.epoch, self.history, self.planned = 0, 0, [], 0
        self.seconds, self.legs = 0.0, 0             # wall time and legs before this one (a resumed run)

    def state_dict(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "history": json.dumps(self.history), "planned": self.planned,
                "seconds": self.seconds, "legs": self.legs}

    def load_state_dict(self, state: dict) -> None:
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.history = json.loads(state["history"])
        self.planned = int(state.get("planned", 0))
        self.seconds, self.legs = float(state.get("seconds", 0.0)), int(state.get("legs", 0))


class EpochData(torch.utils.data.Dataset):
    """A training set re-drawn every epoch (new colourways, backgrounds): `draw(epoch)` returns arrays of
    equal length whose rows are the samples. Every process draws the same epoch; the prepared DataLoader
    gives each its own share of it."""

    def __init__(self, draw: Callable[[int], tuple]):
        self.draw = draw
        self.arrays = draw(0)
        self.length, self.epoch = len(self.arrays[0]), 0

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.arrays, self.epoch = self.draw(epoch), epoch
            if len(self.arrays[0]) != self.length:
                raise RuntimeError(f"epoch {epoch} drew {len(self.arrays[0])} samples, epoch 0 drew {self.length}")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int):
        return tuple(a[i] for a in self.arrays)


def hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    threads = torch.get_num_threads()
    return f"{platform.machine()} CPU, {threads} thread{'s' if threads > 1 else ''}"


class Run:
    """One training run (or one leg of it); see the module docstring."""

    def __init__(self, cfg: TrainConfig, trainer: str, log=print, catalogs=TRAINABLE_CATALOGS):
        from accelerate import Accelerator
        from accelerate.utils import DataLoaderConfiguration, set_seed

        if cfg.catalog not in catalogs:
            raise ValueError(f"the {trainer} trainer knows the catalogs {', '.join(catalogs)}, not {cfg.catalog!r}")
        self.cfg, self.trainer, self._log = cfg, trainer, log
        self.started = time.time()
        # the seedable sampler shuffles each epoch by (seed, epoch): a resumed leg skips exactly the batches
        # the saved one had taken
        self.accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=cfg.mixed_precision,
                                       dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
        self.device = self.accelerator.device
        set_seed(cfg.seed)
        self.runs, self.state_dir = Path(cfg.runs), Path(cfg.runs) / "state"
        if self.is_main:
            self.runs.mkdir(parents=True, exist_ok=True)
        self.progress = Progress()
        self.accelerator.register_for_checkpointing(self.progress)
        self.out_of_time = False
        self._earlier = (0.0, 0)                      # (seconds, legs) of the legs before this one

    @property
    def is_main(self) -> bool:
        return self.accelerator.is_main_process

    @property
    def step(self) -> int:
        return self.progress.step

    def prepare(self, *objects):
        return self.accelerator.prepare(*objects)

    def track(self, *objects) -> None:
        """More state for checkpoints (e.g. an EMAModel): anything with state_dict / load_state_dict."""
        for obj in objects:
            self.accelerator.register_for_checkpointing(obj)

    def loader(self, data: EpochData, batch_size: int | None = None):
        """A shuffled DataLoader over `data`, prepared: under several processes each gets its own batches."""
        loader = torch.utils.data.DataLoader(data, batch_size=batch_size or self.cfg.batch_size, shuffle=True,
                                             drop_last=len(data) >= (batch_size or self.cfg.batch_size),
                                             generator=torch.Generator().manual_seed(self.cfg.seed))
        return self.accelerator.prepare(loader)

    def rng(self, salt: int = 0) -> np.random.Generator:
        """This step's numpy randomness (captions, masks): a function of seed, step and process, so a
        resumed run draws what the uninterrupted one would have, and processes draw differently."""
        return np.random.default_rng([self.cfg.seed, self.step, self.accelerator.process_index, salt])

    def torch_rng(self, salt: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed(int(self.rng(salt).integers(2**62)))

    def resume(self, planned_steps_fixed: bool = True) -> None:
        """load_state from runs/<name>/state when --resume is set (after prepare and track).

        planned_steps_fixed: the trainer's learning-rate schedule was laid out for the run's total steps,
        so a resumed leg must keep them (another total would leave the schedule finished or cut short)."""
        if not self.cfg.resume:
            return
        if not (self.state_dir / "custom_checkpoint_0.pkl").is_file():
            raise FileNotFoundError(f"nothing to resume: no saved state in {self.state_dir}")
        self.accelerator.load_state(str(self.state_dir))
        planned = self.progress.planned
        if planned_steps_fixed and planned and planned != self.cfg.steps:
            raise ValueError(f"the run in {self.state_dir} was planned for {planned} steps and its learning-rate "
                             f"schedule follows them: resume it with the same steps (or epochs), or start a new "
                             f"run from its weights")
        self._earlier = (self.progress.seconds, self.progress.legs)
        self.log_line(f"resumed {self.trainer} at step {self.step} (epoch {self.progress.epoch}) from {self.state_dir}")

    def batches(self, data: EpochData, loader, on_epoch: Callable[[int], None] | None = None) -> Iterator:
        """Batches from the step after the saved one to cfg.steps, re-drawing the data every epoch; stops
        early when the leg's time budget is spent (then `out_of_time` is True). The step counter is
        advanced before each batch is yielded."""
        cfg = self.cfg
        per_epoch = len(loader)
        if per_epoch == 0:
            raise ValueError(f"{len(data)} training samples make no batch of {cfg.batch_size}")
        while self.step < cfg.steps:
            epoch, done = divmod(self.step, per_epoch)
            self.progress.epoch = epoch
            data.set_epoch(epoch)
            loader.set_epoch(epoch)
            source = self.accelerator.skip_first_batches(loader, done) if done else loader
            for batch in source:
                self.progress.step += 1
                yield batch
                if self.step % per_epoch == 0:
                    if on_epoch is not None:
                        on_epoch(epoch + 1)               # before the state is saved: its log is part of it
                    self.progress.epoch = epoch + 1       # full passes so far
                if self.step % cfg.save_every == 0 or self.step == cfg.steps:
                    self.checkpoint()
                if cfg.max_minutes is not None and time.time() - self.started > 60 * cfg.max_minutes:
                    self.out_of_time = True
                    self.checkpoint()
                    self.log_line(f"time budget of {cfg.max_minutes} min reached at step {self.step}; "
                                  f"continue with --resume")
                    return
                if self.step >= cfg.steps:
                    return

    def due(self) -> bool:
        return self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps

    def log(self, **values) -> None:
        """A history entry (main process prints it); numbers rounded."""
        entry = {"step": self.step, "epoch": values.pop("epoch", self.progress.epoch),
                 **{k: round(float(v), 5) if isinstance(v, (float, torch.Tensor)) else v for k, v in values.items()},
                 "seconds": round(time.time() - self.started, 1)}
        self.progress.history.append(entry)
        self.log_line(json.dumps(entry))

    def log_line(self, message: str) -> None:
        if self.is_main:
            self._log(message)

    def checkpoint(self) -> None:
        """save_state: every prepared network, optimiser and schedule, the tracked objects, step and history."""
        self.progress.planned = self.cfg.steps
        earlier = (self.progress.seconds, self.progress.legs)
        self.progress.seconds, self.progress.legs = self.total_seconds(), self._earlier[1] + 1
        self.accelerator.save_state(str(self.state_dir))
        self.progress.seconds, self.progress.legs = earlier

    def total_seconds(self) -> float:
        """Wall time of this run so far: the earlier legs' (saved with the state) and this one's."""
        return self._earlier[0] + time.time() - self.started

    def unwrap(self, model):
        return self.accelerator.unwrap_model(model)

    def record(self, **extra) -> dict:
        """The training record a weights folder keeps: steps, passes, batch, wall time, hardware, config."""
        cfg = self.cfg
        return {"steps": self.step, "epochs_seen": self.progress.epoch, "batch_size": cfg.batch_size,
                "processes": self.accelerator.num_processes, "seconds": round(self.total_seconds(), 1),
                "legs": self._earlier[1] + 1,
                "hardware": hardware(), "train": asdict(cfg), **extra}


def write_trained(run: Run, network, metrics: dict, pipeline_cls=None, after=None, log=print,
                  message: str | None = None) -> dict:
    """What every trainer does last, on the main process: the training record into the network's
    config.json; the folder at cfg.out (a pipeline of it, float16 on disk, when `pipeline_cls` is given,
    else the network's own folder); history.json in runs/; then `after(folder)` (a model card, say). Every
    process waits for it. Returns the record."""
    if run.is_main:
        network.register_to_config(catalog=run.cfg.catalog, training=metrics)
        if pipeline_cls is not None:
            save_pipeline(pipeline_cls(network), run.cfg.out)
        else:
            network.save_pretrained(run.cfg.out)
        (run.runs / "history.json").write_text(json.dumps({"metrics": metrics, "history": run.progress.history},
                                                          indent=2))
        if after is not None:
            after(run.cfg.out)
        log(message or f"wrote {run.cfg.out} after {run.step} steps ({metrics['seconds'] / 60:.1f} min)")
    run.accelerator.wait_for_everyone()
    return metrics


def save_pipeline(pipeline, folder: str | Path) -> Path:
    """save_pretrained with the weights stored in float16 (opened in float32: studio.pipelines); a model
    card already in the folder stays."""
    import copy

    folder = Path(folder)
    half = copy.deepcopy(pipeline)
    for module in half.components.values():
        if isinstance(module, torch.nn.Module):
            module.half()
    half.save_pretrained(str(folder))
    return folder


