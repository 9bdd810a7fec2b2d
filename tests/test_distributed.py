"""Accelerate as it is meant: two CPU processes (gloo) train each generator family and the evaluator for a
few steps, write a folder that loads and generates, and a resumed run continues from the saved step with
the optimiser state (not a fresh one)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import needs_fashion

ACCELERATE = Path(sys.executable).with_name("accelerate")
pytestmark = [needs_fashion, pytest.mark.skipif(not ACCELERATE.is_file(), reason="accelerate's launcher missing")]


def launch(tmp_path: Path, *args: str) -> str:
    """Two processes of `python -m studio train ...` on the CPU, in tmp_path; their output.

    In accelerate 1.15, `launch --cpu` starts one process (several only through MPI); `--multi_gpu` starts
    them through torch.distributed, and on a machine without CUDA the Accelerator runs them on the CPU
    with gloo (ACCELERATE_USE_CPU makes that explicit)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [str(ACCELERATE), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "studio", "train", *args]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def optimiser_steps(state: Path, name: str = "optimizer.bin") -> set[int]:
    saved = torch.load(state / name, map_location="cpu", weights_only=False)
    return {int(s["step"]) for s in saved["state"].values()}


@pytest.fixture(scope="module")
def text_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("text-cache"))


@pytest.mark.parametrize("kind", ["gan", "vae"])
def test_two_processes_train_resume_and_write_a_generator(kind, tmp_path, text_cache):
    from studio.pipelines import open_pipeline

    out = tmp_path / f"{kind}-two"
    # leg 1 ends on its (spent) time budget after one step: state saved, a usable folder written
    first = launch(tmp_path, kind, "--dry-run", "--out", str(out), "--text-cache", text_cache, "--steps", "6",
                   "--max-minutes", "0")
    state = tmp_path / "runs" / f"{kind}-two-dry" / "state"
    assert optimiser_steps(state) == {1}
    assert first.count("caption bank:") == 1 and first.count("time budget") == 1   # only the main process speaks
    record = open_pipeline(out).network.config.training
    assert record["steps"] == 1 and record["processes"] == 2
    # leg 2 continues from the saved step, with the optimiser's state
    second = launch(tmp_path, kind, "--dry-run", "--out", str(out), "--text-cache", text_cache, "--steps", "6",
                    "--resume")
    assert f"resumed {kind.upper()} at step 1" in second
    assert optimiser_steps(state) == {6}                            # Adam's own step count carried on
    if kind == "gan":
        assert optimiser_steps(state, "optimizer_1.bin") == {6}
        ema = torch.load(state / "custom_checkpoint_1.pkl", map_location="cpu", weights_only=False)
        assert ema["optimization_step"] == 6                        # diffusers' EMAModel resumed too
    history = json.loads((tmp_path / "runs" / f"{kind}-two-dry" / "history.json").read_text())
    assert [h["step"] for h in history["history"]] == [2, 4, 6] and history["metrics"]["steps"] == 6
    pipe = open_pipeline(out)
    assert pipe.family == kind and pipe.network.config.training["steps"] == 6
    images = pipe("red sneaker on a white background", num_images=2, seed=1).images
    assert len(images) == 2 and images[0].size == (32, 32)
    if kind == "vae":
        assert pipe.vae.mixture is not None                         # the finished run fitted its prior


def test_two_processes_train_and_resume_the_evaluator(tmp_path):
    from studio.checkpoints import open_network
    from studio.models import AttributeEvaluator

    out = tmp_path / "evaluator-two"
    args = ("evaluator", "--dry-run", "--out", str(out), "--batch-size", "64", "--epochs", "2")
    launch(tmp_path, *args, "--max-minutes", "0")
    state = tmp_path / "runs" / "evaluator-two-dry" / "state"
    assert optimiser_steps(state) == {1}                            # of 8: 512 images / (64 x 2 processes) x 2
    second = launch(tmp_path, *args, "--resume")
    assert "resumed evaluator at step 1" in second and optimiser_steps(state) == {8}
    model = open_network(out, AttributeEvaluator)
    assert model.config.training["steps"] == 8 and [h["epoch"] for h in model.config.training["history"]] == [1, 2]
    logits = model(torch.zeros(2, 3, 32, 32))
    assert set(logits) == {"category", "color", "background"} and np.isfinite(logits["color"].detach().numpy()).all()


def test_two_processes_fine_tune_a_vaegan_and_resume_it(tmp_path, text_cache):
    from test_vaegan import write_vae_with_prior

    from studio.pipelines import open_pipeline

    source, out = write_vae_with_prior(tmp_path / "vae-tiny"), tmp_path / "gan-two"
    args = ("vaegan", "--dry-run", "--init-from", str(source), "--size", "16", "--d-width", "8", "--out", str(out),
            "--text-cache", text_cache, "--steps", "6")
    first = launch(tmp_path, *args, "--max-minutes", "0")
    state = tmp_path / "runs" / "gan-two-dry" / "state"
    assert optimiser_steps(state) == {1} and optimiser_steps(state, "optimizer_1.bin") == {1}
    assert first.count("fine-tuning the decoder") == 1
    second = launch(tmp_path, *args, "--resume")
    assert "resumed VAE-GAN at step 1" in second and optimiser_steps(state) == {6}
    ema = torch.load(state / "custom_checkpoint_1.pkl", map_location="cpu", weights_only=False)
    assert ema["optimization_step"] == 6                            # the decoder's EMA resumed too
    pipe = open_pipeline(out)
    record = pipe.network.config.training
    assert pipe.family == "vaegan" and record["steps"] == 6 and record["processes"] == 2 and record["legs"] == 2
    assert len(pipe("red sneaker on a white background", num_images=2, seed=1).images) == 2


def test_two_processes_train_a_diffusion_model_and_resume_it(tmp_path, text_cache):
    from studio.pipelines import open_pipeline

    out = tmp_path / "diffusion-two"
    args = ("diffusion", "--dry-run", "--out", str(out), "--text-cache", text_cache, "--steps", "6")
    first = launch(tmp_path, *args, "--max-minutes", "0")
    state = tmp_path / "runs" / "diffusion-two-dry" / "state"
    assert optimiser_steps(state) == {1} and first.count("UNet:") == 1
    second = launch(tmp_path, *args, "--resume")
    assert "resumed diffusion at step 1" in second and optimiser_steps(state) == {6}
    ema = torch.load(state / "custom_checkpoint_1.pkl", map_location="cpu", weights_only=False)
    assert ema["optimization_step"] == 6                            # the UNet's EMA resumed too
    pipe = open_pipeline(out)
    record = pipe.network.config.training
    assert pipe.family == "diffusion" and record["steps"] == 6 and record["processes"] == 2 and record["legs"] == 2
    assert len(pipe("red sneaker on a white background", num_images=2, seed=1, steps=3).images) == 2
