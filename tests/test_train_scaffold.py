"""The shared training scaffold: one epoch/batch iterator whose resumed legs see exactly the batches an
uninterrupted run sees, checkpoints that carry the step and history, and CLI flags generated from the
training dataclasses (one source of defaults)."""

import argparse
import dataclasses

import numpy as np
import pytest

from studio.train.common import EpochData, Run
from studio.train.configs import GANTrainConfig, TrainConfig, VAETrainConfig, add_config_flags, config_from_flags


def _leg(runs, steps, resume=False, max_minutes=None, fixed=False):
    cfg = TrainConfig(steps=steps, batch_size=3, save_every=100, runs=str(runs), resume=resume, seed=5,
                      max_minutes=max_minutes)
    run = Run(cfg, "test", log=lambda message: None)
    data = EpochData(lambda epoch: (np.arange(10) + 100 * epoch,))       # a new draw every epoch
    loader = run.loader(data)
    run.resume(planned_steps_fixed=fixed)
    seen = []
    for (batch,) in run.batches(data, loader):
        seen.append(batch.tolist())
        run.log(value=float(batch.sum()))
    return run, seen


def test_resumed_legs_see_the_batches_of_one_uninterrupted_run(tmp_path):
    whole_run, whole = _leg(tmp_path / "whole", 8)
    assert len(whole) == 8 and whole_run.progress.epoch == 2          # 3 batches an epoch (the rest dropped)
    assert all(x // 100 == i // 3 for i, b in enumerate(whole) for x in b)   # epoch e draws from epoch e's data
    assert sorted(x for b in whole[:3] for x in b) != sorted(x for b in whole[3:6] for x in b)
    _, first = _leg(tmp_path / "legs", 4)                               # stops mid-epoch, state saved
    second_run, second = _leg(tmp_path / "legs", 8, resume=True)
    assert first + second == whole
    assert [h["step"] for h in second_run.progress.history] == list(range(1, 9))   # history carried over
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        _leg(tmp_path / "none", 4, resume=True)
    # a trainer whose learning-rate schedule was laid out for the planned steps refuses another total
    with pytest.raises(ValueError, match="planned for 8 steps"):
        _leg(tmp_path / "legs", 12, resume=True, fixed=True)


def test_a_spent_time_budget_ends_the_leg_with_its_state_saved(tmp_path):
    run, seen = _leg(tmp_path / "budget", 50, max_minutes=0)
    assert run.out_of_time and len(seen) == 1 and (tmp_path / "budget" / "state").is_dir()
    _, rest = _leg(tmp_path / "budget", 3, resume=True)
    assert len(rest) == 2


def test_flags_come_from_the_dataclass_fields():
    parser = argparse.ArgumentParser()
    add_config_flags(parser, VAETrainConfig)
    flags = {a.dest for a in parser._actions}
    assert {f.name for f in dataclasses.fields(VAETrainConfig)} <= flags
    help_text = parser.format_help()
    assert "encoder/decoder width (default: 32)" in help_text and "--mixed-precision" in help_text
    args = parser.parse_args(["--width", "8", "--resume", "--max-minutes", "110"])
    cfg = config_from_flags(VAETrainConfig, args, {"steps": 4, "width": 64})
    assert (cfg.width, cfg.steps, cfg.resume, cfg.max_minutes, cfg.lr) == (8, 4, True, 110.0, VAETrainConfig.lr)
    gan = argparse.ArgumentParser()
    add_config_flags(gan, GANTrainConfig)
    assert config_from_flags(GANTrainConfig, gan.parse_args([])) == GANTrainConfig()
    with pytest.raises(ValueError, match="mixed_precision"):
        TrainConfig(mixed_precision="fp8")
