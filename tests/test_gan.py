"""The GAN at tiny sizes: networks, procedure pieces, sampling API, a dry-run training round trip."""

import json

import numpy as np
import pytest
import torch
from conftest import TINY_GAN, needs_fashion, write_gan

from studio.__main__ import main
from studio.models.gan import Discriminator, Generator
from studio.models.text_condition import TextCondition
from studio.pipelines import GANPipeline, open_pipeline, truncated_normal
from studio.train.gan import diff_augment


def text_batch(b=3, t=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, t, 384, generator=g), torch.ones(b, t, dtype=torch.bool), torch.randn(b, 384, generator=g)


@pytest.mark.parametrize("size", [16, 32, 64])
def test_shapes(size):
    G = Generator(**{**TINY_GAN, "size": size})
    D = Discriminator.matching(G)
    tokens, mask, pooled = text_batch()
    images, mu, logvar = G(torch.randn(3, 16), tokens, mask, pooled)
    assert images.shape == (3, 3, size, size) and images.abs().max() <= 1 and mu.shape == logvar.shape == (3, 16)
    logit, aux = D(images, tokens, mask, pooled)
    assert logit.shape == (3,) and aux is None
    # conditioning augmentation: noise moves the condition by its learned spread, only when given
    noisy = G(torch.zeros(3, 16), tokens, mask, pooled, cond_noise=torch.randn(3, 16))[0]
    assert not torch.allclose(noisy, G(torch.zeros(3, 16), tokens, mask, pooled)[0])
    with pytest.raises(ValueError, match="power of two"):
        Generator(size=48)


def test_condition_reads_the_tokens_not_only_the_pooled_vector():
    torch.manual_seed(0)
    condition = TextCondition(queries=2, heads=2, dim=16)
    tokens, mask, pooled = text_batch(b=1)
    # A colour swap keeps the pooled vector (cosine 0.98) but changes the contextual token states
    # (per-token cosine < 0.8, tests/test_text.py); the condition must follow the tokens.
    swapped = tokens.clone()
    swapped[:, 1] = torch.randn(384, generator=torch.Generator().manual_seed(9))
    a, b = condition(tokens, mask, pooled), condition(swapped, mask, pooled)
    assert not torch.allclose(a, b, atol=1e-4)
    # padding is ignored: extra masked tokens change nothing
    padded = torch.cat([tokens, torch.randn(1, 3, 384)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], dim=1)
    assert torch.allclose(a, condition(padded, padded_mask, pooled), atol=1e-5)


def test_save_load_round_trip_in_diffusers_layout(tmp_path):
    G = Generator(**TINY_GAN).eval()
    G.save_pretrained(tmp_path / "net")
    config = json.loads((tmp_path / "net" / "config.json").read_text())
    assert config["_class_name"] == "Generator" and config["width"] == 8 and "text" not in config   # flat, readable
    loaded = Generator.from_pretrained(tmp_path / "net")
    z, (tokens, mask, pooled) = torch.randn(3, 16), text_batch()
    with torch.no_grad():
        assert torch.equal(G(z, tokens, mask, pooled)[0], loaded(z, tokens, mask, pooled)[0])
    # as a pipeline: model_index.json names the pipeline and its component; open_pipeline reads it back
    GANPipeline(G).save_pretrained(str(tmp_path / "gan"))
    index = json.loads((tmp_path / "gan" / "model_index.json").read_text())
    assert index["_class_name"] == "GANPipeline" and index["generator"] == ["studio.models.gan", "Generator"]
    pipe = open_pipeline(tmp_path / "gan")
    assert pipe.capabilities == {"generate"} and pipe.size == 16 and pipe.name == "gan"
    opened = pipe.generator.state_dict()
    assert opened.keys() == G.state_dict().keys() and all(torch.equal(v, opened[k]) for k, v in G.state_dict().items())
    with torch.no_grad():       # the same weights; freshly loaded tensors may take another kernel path (1e-7)
        assert torch.allclose(G(z, tokens, mask, pooled)[0], pipe.generator(z, tokens, mask, pooled)[0], atol=1e-6)


def test_diff_augment_translation_and_cutout_only():
    x = torch.rand(4, 3, 16, 16)
    a = diff_augment(x, torch.Generator().manual_seed(1))
    b = diff_augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b)
    assert ((a == 0).all(dim=1).flatten(1).sum(1) >= 64).all()     # an 8x8 cutout in every image
    # no colour change: every kept pixel's colour exists in the source image
    kept = a[0].permute(1, 2, 0).reshape(-1, 3)
    kept = kept[(kept != 0).any(1)]
    source = x[0].permute(1, 2, 0).reshape(-1, 3)
    assert all(((source - p).abs().sum(1) < 1e-6).any() for p in kept[:20])


def test_truncation_bounds_the_noise():
    z = truncated_normal((1000, 16), 0.5, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.5
    assert truncated_normal((5, 4), None, torch.Generator().manual_seed(3)).equal(
        truncated_normal((5, 4), None, torch.Generator().manual_seed(3)))


@pytest.fixture(scope="module")
def tiny_gan(tmp_path_factory):
    return write_gan(tmp_path_factory.mktemp("gan") / "gan-tiny")


def test_generate_is_reproducible_and_checks_inputs(tiny_gan):
    gen = open_pipeline(tiny_gan)
    a = gen("red sneaker on a white background", num_images=4, seed=7)
    b = gen("red sneaker on a white background", num_images=4, seed=7)
    c = gen("red sneaker on a white background", num_images=4, seed=8)
    assert len(a.images) == 4 and a.seed == 7 and a.images[0].size == (16, 16)
    assert a.method == "generate" and a.parameters == {"truncation": None} and a.model == "gan-tiny"
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.images, b.images))
    assert not np.array_equal(np.asarray(a.images[0]), np.asarray(c.images[0]))
    assert not np.array_equal(np.asarray(a.images[0]), np.asarray(a.images[1]))   # n distinct draws
    fresh = gen("red sneaker", num_images=1)
    assert isinstance(fresh.seed, int) and 0 <= fresh.seed < 2 ** 31
    again = gen("red sneaker", num_images=1, **fresh.parameters, seed=fresh.seed)   # the output says how to redo it
    assert np.array_equal(np.asarray(again.images[0]), np.asarray(fresh.images[0]))
    for bad in ({"num_images": 0}, {"num_images": 65}, {"truncation": 0}, {"truncation": 9}):
        with pytest.raises(ValueError):
            gen("red sneaker", **{"num_images": 2, **bad})
    with pytest.raises(ValueError, match="empty"):
        gen("   ")
    with pytest.raises(ValueError, match="too long for the model"):
        gen("very " * 100 + "long")


def test_studio_facade_lists_and_uses_generators(tiny_gan):
    from studio import Studio

    studio = Studio(weights=tiny_gan.parent)
    assert studio.models() == ["gan-tiny"]
    result = studio.generate("navy ankle boot", n=2, seed=3, model="gan-tiny")
    assert result.seed == 3 and len(result.images) == 2
    with pytest.raises(ValueError, match="unknown model"):
        studio.generate("navy ankle boot", model="gan-nope")
    assert not studio.can("gan-tiny", "variations") and studio.can("gan-tiny", "generate")
    with pytest.raises(ValueError, match="unknown model 'gan-tiny' for variations"):
        studio.variations(None, "navy ankle boot", model="gan-tiny")
    evaluator = tiny_gan.parent / "evaluator-x"
    evaluator.mkdir()
    (evaluator / "config.json").write_text('{"_class_name": "AttributeEvaluator"}')
    with pytest.raises(ValueError, match="unknown model"):
        studio.generate("navy ankle boot", model="evaluator-x")
    with pytest.raises(ValueError, match="evaluator-x is not a generator: it holds AttributeEvaluator"):
        open_pipeline(evaluator)
    with pytest.raises(ValueError, match="no generator"):
        Studio(weights=evaluator).generate("navy ankle boot")


@needs_fashion
def test_dry_run_training_writes_a_loadable_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "gan", "--dry-run", "--width", "8", "--out", str(tmp_path / "gan-dry")]) == 0
    pipe = open_pipeline(tmp_path / "gan-dry")
    record = pipe.generator.config.training
    assert pipe.family == "gan" and record["steps"] == 4 and pipe.generator.config.width == 8
    assert pipe.generator.config.catalog == "fashion" and record["train"]["width"] == 8
    history = json.loads((tmp_path / "runs" / "gan-dry-dry" / "history.json").read_text())
    assert history["history"] and {"loss_d", "loss_g", "d_mis"} <= set(history["history"][-1])
    assert main(["generate", "red bag", "--model", str(tmp_path / "gan-dry"), "-n", "2", "--seed", "4",
                 "--out", str(tmp_path / "out")]) == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
