"""The VAE at tiny sizes (networks, API contracts), and the shipped weights when present."""

import json

import numpy as np
import pytest
import torch
from conftest import TINY_VAE, needs_fashion, write_vae
from PIL import Image

from studio.__main__ import main
from studio.checkpoints import WEIGHTS_DIR
from studio.models.vae import ConditionalVAE
from studio.pipelines import CAPABILITIES, open_pipeline
from studio.train.vae import gaussian_kl

SHIPPED = WEIGHTS_DIR / "vae-fashion"


@pytest.fixture(scope="module")
def tiny_vae(tmp_path_factory):
    return write_vae(tmp_path_factory.mktemp("vae") / "vae-tiny")


def test_shapes_and_kl():
    model = ConditionalVAE(**TINY_VAE)
    x, hole = torch.rand(3, 3, 16, 16) * 2 - 1, torch.zeros(3, 1, 16, 16)
    tokens, mask, pooled = torch.randn(3, 5, 384), torch.ones(3, 5, dtype=torch.bool), torch.randn(3, 384)
    recon, (mu_q, logvar_q), (mu_p, logvar_p) = model(x, hole, tokens, mask, pooled)
    assert recon.shape == x.shape and mu_q.shape == mu_p.shape == (3, 8)
    assert recon.abs().max() <= 1
    assert torch.allclose(gaussian_kl(mu_q, logvar_q, mu_q, logvar_q), torch.zeros(3, 8), atol=1e-6)
    assert (gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) >= -1e-6).all()


def test_save_load_round_trip_and_seeded_sampling(tiny_vae):
    index = json.loads((tiny_vae / "model_index.json").read_text())
    assert index["_class_name"] == "VAEPipeline" and index["vae"] == ["studio.models.vae", "ConditionalVAE"]
    assert ConditionalVAE.from_pretrained(tiny_vae, subfolder="vae").config.z_dim == 8
    vae = open_pipeline(tiny_vae)
    assert vae.capabilities == CAPABILITIES["vae"] == {"generate", "variations", "interpolate", "inpaint"}
    a = vae("red sneaker on a white background", num_images=3, seed=5)
    b = vae("red sneaker on a white background", num_images=3, seed=5)
    assert a.seed == 5 and len(a.images) == 3 and a.images[0].size == (16, 16)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.images, b.images))
    assert not np.array_equal(np.asarray(a.images[0]), np.asarray(a.images[1]))
    with pytest.raises(ValueError, match="empty"):
        vae("  ")


def test_mixture_prior_density_and_seeded_draws():
    torch.manual_seed(0)
    cond, pooled, z = torch.randn(4, 16), torch.randn(4, 384), torch.randn(4, 8)
    one = ConditionalVAE(**TINY_VAE, prior_components=1).mixture
    _, mu, logvar = one(cond, pooled)
    gaussian = torch.distributions.Normal(mu[:, 0], (0.5 * logvar[:, 0]).exp()).log_prob(z).sum(1)
    assert torch.allclose(one.log_prob(z, cond, pooled), gaussian, atol=1e-4)
    three = ConditionalVAE(**TINY_VAE, prior_components=3).mixture
    logits, mu, logvar = three(cond, pooled)
    parts = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z[:, None]).sum(2)
    by_hand = torch.log((logits.softmax(1) * parts.exp()).sum(1))
    assert torch.allclose(three.log_prob(z, cond, pooled), by_hand, atol=1e-4)
    # a draw with zero noise is the mean of a component; the same generator seed picks the same ones
    draw = three.sample(cond, pooled, torch.zeros(4, 8), torch.Generator().manual_seed(3))
    assert all(any(torch.allclose(draw[i], mu[i, k]) for k in range(3)) for i in range(4))
    again = three.sample(cond, pooled, torch.zeros(4, 8), torch.Generator().manual_seed(3))
    assert torch.equal(draw, again)
    with pytest.raises(ValueError, match="prior_components"):
        ConditionalVAE(**TINY_VAE, prior_components=-1)


def spread(images):
    arrays = np.stack([np.asarray(im, np.float64) for im in images])
    return float(arrays.std(axis=0).mean())


def test_variations_start_at_the_reconstruction_and_spread_with_strength(tiny_vae):
    vae = open_pipeline(tiny_vae)
    image = vae("navy ankle boot", num_images=1, seed=1).images[0]
    zero = vae.variations(image, "navy ankle boot", strength=0.0, num_images=4, seed=2)
    assert spread(zero.images) == 0                              # strength 0: every output is the reconstruction
    assert zero.method == "variations" and zero.parameters == {"strength": 0.0} and zero.seed == 2
    spreads = [spread(vae.variations(image, "navy ankle boot", strength=s, num_images=8, seed=3).images)
               for s in (0.0, 0.3, 0.7, 1.0)]
    assert all(a < b for a, b in zip(spreads, spreads[1:])), spreads
    big = image.resize((50, 40))
    assert vae.variations(big, "navy ankle boot", strength=0.5, num_images=2, seed=1).images[0].size == (50, 40)
    with pytest.raises(ValueError, match="strength"):
        vae.variations(image, "navy ankle boot", strength=1.5)


def test_repair_keeps_every_unmasked_pixel(tiny_vae):
    vae = open_pipeline(tiny_vae)
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    hole = np.zeros((30, 40), bool)
    hole[10:20, 12:25] = True
    result = vae.inpaint(photo, hole, prompt="a product")
    assert result.method == "inpaint" and len(result.images) == 1
    out = np.asarray(result.images[0])
    assert out.shape == (30, 40, 3)
    assert np.array_equal(out[~hole], np.asarray(photo)[~hole])
    assert not np.array_equal(out[hole], np.asarray(photo)[hole])


def test_the_studio_facade_and_the_repair_registry(tiny_vae):
    from studio import Studio
    from studio.edits.recipe import Recipe
    from studio.edits.repair import CLASSICAL, repair
    from studio.edits.steps import repair_step

    studio = Studio(weights=tiny_vae.parent)
    assert studio.models() == studio.models("inpaint") == ["vae-tiny"] and studio.can(None, "variations")
    frames = studio.interpolate(Image.new("RGB", (16, 16), "red"), Image.new("RGB", (16, 16), "blue"), 4)
    assert len(frames.images) == 4 and frames.method == "interpolate" and frames.seed is None
    # the studio owns its repair methods, built from its own weights; the shared classical set never changes
    methods = studio.repair_methods()
    assert list(methods) == ["telea", "ns", "vae:vae-tiny", "vae"] and methods.learned == ("vae:vae-tiny", "vae")
    assert methods.get("vae").target is methods.get("vae:vae-tiny")      # one model behind both names
    assert methods.choices == ("telea", "ns", "vae:vae-tiny")
    assert list(CLASSICAL) == ["telea", "ns"] and studio.repair_methods() is methods
    photo = Image.new("RGB", (16, 16), (200, 30, 30))
    hole = np.zeros((16, 16), bool)
    hole[4:8, 4:8] = True
    assert np.array_equal(np.asarray(repair(photo, hole, "vae:vae-tiny", methods=methods))[~hole],
                          np.asarray(photo)[~hole])
    recipe = Recipe.from_json([repair_step(hole, "vae:vae-tiny")])     # a recipe is data: it parses anywhere ...
    assert recipe.uses_model and recipe.apply(photo, methods=methods).size == (16, 16)
    with pytest.raises(ValueError, match="unknown repair method 'vae:vae-tiny'; this studio has: telea, ns"):
        recipe.apply(photo)                                             # ... and applies where the model is


@needs_fashion
def test_dry_run_training_writes_a_loadable_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "vae", "--catalog", "fashion", "--dry-run"]) == 0
    folder = tmp_path / "runs" / "dry-run" / "vae-fashion"
    vae = open_pipeline(folder)
    assert vae.vae.config.prior_components == 4 and vae.vae.mixture is not None      # the second stage ran
    assert vae("red sneaker", num_images=2, seed=0).images[0].size == (32, 32)
    record = vae.vae.config.training
    prior = record["prior"]
    assert set(prior["held_out_nll_per_dim"]) == {"mixture", "gaussian"} and prior["held_out_images"] >= 1
    assert record["steps"] == 4                                                       # refit keeps the record
    # a new run can start from the first one's weights; a folder of another shape is refused clearly
    assert main(["train", "vae", "--dry-run", "--init-from", str(folder), "--warmup", "0", "--out", "again"]) == 0
    assert open_pipeline("again").vae.config.training["train"]["init_from"] == str(folder)
    assert main(["train", "vae", "--dry-run", "--width", "8", "--init-from", str(folder), "--out", "other"]) == 2
    assert main(["train", "vae", "--dry-run", "--init-from", "missing-folder", "--out", "other"]) == 2


@pytest.mark.skipif(not (SHIPPED / "model_index.json").is_file(), reason="no VAE shipped in weights/")
def test_shipped_vae_interpolation_moves_monotonically_in_evaluator_features():
    """Five seeded pairs of different products: each frame's evaluator features are strictly further along
    the A -> B axis than the frame before (projection onto f(B) - f(A), from 0 at A to 1 at B)."""
    from studio.eval.judge import Judge, default_evaluator

    vae = open_pipeline(SHIPPED)
    judge = Judge(default_evaluator("fashion"))
    prompt_a, prompt_b = "red sneaker on a white background", "navy trousers on a beige background"
    for seed in range(1, 6):
        a = vae(prompt_a, num_images=1, seed=seed).images[0]
        b = vae(prompt_b, num_images=1, seed=seed).images[0]
        features = judge.analyse(vae.interpolate(a, b, steps=7, prompt=prompt_a, prompt_b=prompt_b).images)[1]
        axis = features[-1] - features[0]
        progress = (features - features[0]) @ axis / (axis @ axis)
        assert all(x < y for x, y in zip(progress, progress[1:])), (seed, progress.round(2))
        # the frames really travel: the middle one is well away from A, not stuck near it
        assert np.linalg.norm(features[3] - features[0]) > 0.25 * np.linalg.norm(axis)
