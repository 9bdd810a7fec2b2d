"""The diffusion family (studio/models/diffusion.py, studio/pipelines.py, studio/train/diffusion.py) at tiny
sizes: the pipeline round-trips through save/open, the same seed gives the same pixels, guidance 1 is the
conditional prediction, inpainting keeps every unmasked pixel, and a dry-run training writes a folder the
studio opens."""

import json
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import needs_fashion
from studio.__main__ import main
from studio.checkpoints import WEIGHTS_DIR
from studio.pipelines import CAPABILITIES, DiffusionTextPipeline, open_pipeline, pipeline_class

PROMPT = "red sneaker on a white background"


def tiny_unet(**extra):
    from studio.models.diffusion import TextUNet

    torch.manual_seed(0)
    unet = TextUNet(size=16, channels=(8, 16), attention=(False, True), heads=2, groups=8, **extra)
    with torch.no_grad():                     # as if trained a little: the known-pixel channels matter
        unet.unet.conv_in.weight.normal_(0, 0.1)
        unet.null_token.normal_()
        unet.null_pooled.normal_()
    return unet.eval()


def write_diffusion(folder, catalog="fashion", training=None, **settings):
    from studio.train.diffusion import noise_schedule

    unet = tiny_unet(catalog=catalog, training=training)
    DiffusionTextPipeline(unet, noise_schedule("v_prediction")[1], **settings).save_pretrained(str(folder))
    return folder


def pixels(images):
    return [np.asarray(im) for im in images]


@pytest.fixture(scope="module")
def pipe(tmp_path_factory):
    return open_pipeline(write_diffusion(tmp_path_factory.mktemp("weights") / "diffusion-tiny"))


def test_the_network_starts_blind_to_the_known_pixels_and_drops_only_the_rows_asked():
    from studio.models.diffusion import TextUNet

    torch.manual_seed(0)
    unet = TextUNet(size=16, channels=(8, 16), attention=(False, True), heads=2, groups=8).eval()
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 900])
    tokens, mask, pooled = torch.randn(2, 5, 384), torch.ones(2, 5, dtype=torch.bool), torch.randn(2, 384)
    hole = torch.zeros(2, 1, 16, 16)
    with torch.no_grad():
        a = unet(x, t, hole, torch.zeros(2, 3, 16, 16), tokens, mask, pooled)
        b = unet(x, t, hole, torch.rand(2, 3, 16, 16), tokens, mask, pooled)
    assert a.shape == (2, 3, 16, 16) and torch.equal(a, b)             # zero-initialised extra channels
    dropped = unet.without_text(tokens, mask, pooled, torch.tensor([False, True]))
    assert torch.equal(dropped[0][0], tokens[0]) and torch.equal(dropped[2][0], pooled[0])
    assert dropped[1][1].tolist() == [True, False, False, False, False]
    assert torch.equal(dropped[0][1, 0], unet.null_token[0, 0]) and not dropped[0][1, 1:].any()
    with pytest.raises(ValueError, match="divide into 8 groups"):
        TextUNet(size=16, channels=(12, 16), attention=(False, True), groups=8)
    with pytest.raises(ValueError, match="same 2-5 levels"):
        TextUNet(size=16, channels=(8, 16), attention=(True,))


def test_label_embeddings_start_as_the_network_without_them_and_reach_the_pooled_vector():
    plain, labelled = tiny_unet(), tiny_unet(views=6, backgrounds=6)
    labelled.load_state_dict(plain.state_dict(), strict=False)
    assert labelled.labelled and not plain.labelled
    x, t, hole = torch.randn(3, 3, 16, 16), torch.tensor([5, 400, 900]), torch.ones(3, 1, 16, 16)
    texts = (torch.randn(3, 4, 384), torch.ones(3, 4, dtype=torch.bool), torch.randn(3, 384))
    view, background = torch.tensor([0, 2, 6]), torch.tensor([1, 0, 3])
    with torch.no_grad():                               # zero at the start: the same network
        assert torch.equal(plain(x, t, hole, x, *texts), labelled(x, t, hole, x, *texts, view=view,
                                                                  background=background))
        labelled.view_embedding.weight.copy_(torch.arange(7.0)[:, None].expand(7, 384))
        labelled.background_embedding.weight.copy_(10 * torch.arange(7.0)[:, None].expand(7, 384))
        shifted = labelled.with_labels(texts[2], view, background) - texts[2]
        assert torch.allclose(shifted[:, 0], torch.tensor([10.0, 2.0, 36.0]))
        assert torch.equal(labelled.with_labels(texts[2]), texts[2])          # none given: none added
        # a row that drops its text drops its labels too: the null condition stays one condition
        drop = torch.tensor([True, True, True])
        assert torch.equal(labelled(x, t, hole, x, *texts, drop=drop, view=view, background=background),
                           plain(x, t, hole, x, *texts, drop=drop))
        assert not torch.equal(labelled(x, t, hole, x, *texts, view=view, background=background),
                               plain(x, t, hole, x, *texts))
    from studio.models.diffusion import TextUNet

    with pytest.raises(ValueError, match="views and backgrounds"):
        TextUNet(size=16, channels=(8, 16), attention=(False, True), groups=8, views=-1)


def test_a_labelled_folder_reads_the_view_and_backdrop_each_prompt_names(tmp_path):
    from studio.data.captions import background_index
    from studio.data.views import view_index
    from studio.train.diffusion import noise_schedule

    unet = tiny_unet(views=6, backgrounds=6, catalog="furniture-views")
    with torch.no_grad():
        unet.view_embedding.weight.normal_()
        unet.background_embedding.weight.normal_()
    DiffusionTextPipeline(unet, noise_schedule("v_prediction")[1]).save_pretrained(str(tmp_path / "labelled"))
    pipe = open_pipeline(tmp_path / "labelled")
    assert pipe.unet.labelled and torch.allclose(pipe.unet.view_embedding.weight, unet.view_embedding.weight)
    prompt = "a navy sofa, seen from the side on a cream background"
    assert view_index(prompt) > 0 and background_index(prompt) > 0
    (_, _, pooled), used = pipe._text3(prompt, 2)
    base = pipe._text(prompt, 2)[2]
    expected = base + pipe.unet.view_embedding.weight[view_index(used)] \
        + pipe.unet.background_embedding.weight[background_index(used)]
    assert torch.allclose(pooled, expected)
    (_, _, bare), _ = pipe._text3("a navy sofa", 1)                     # names neither: row 0 of each
    assert torch.allclose(bare, pipe._text("a navy sofa", 1)[2] + pipe.unet.view_embedding.weight[0]
                          + pipe.unet.background_embedding.weight[0])
    side = pixels(pipe(prompt, num_images=1, seed=3, steps=3).images)[0]
    back = pixels(pipe(prompt.replace("side", "back"), num_images=1, seed=3, steps=3).images)[0]
    assert not np.array_equal(side, back)
    assert np.array_equal(side, pixels(pipe(prompt, num_images=1, seed=3, steps=3).images)[0])


def test_a_run_starts_from_a_folder_without_label_embeddings_and_refuses_other_shapes(tmp_path):
    from studio.train.diffusion import _initial_weights

    source = write_diffusion(tmp_path / "plain")
    labelled = tiny_unet(views=6, backgrounds=6)
    _initial_weights(labelled, str(source), lambda *_: None)
    assert not labelled.view_embedding.weight.any()
    assert torch.allclose(labelled.null_pooled, open_pipeline(source).unet.null_pooled)
    from studio.models.diffusion import TextUNet

    wider = TextUNet(size=16, channels=(16, 16), attention=(False, True), heads=2, groups=8)
    with pytest.raises(ValueError, match="does not match"):
        _initial_weights(wider, str(source), lambda *_: None)


def test_a_folder_round_trips_and_the_same_seed_gives_the_same_pixels(pipe, tmp_path):
    assert isinstance(pipe, DiffusionTextPipeline) and pipe.family == "diffusion" and pipe.catalog == "fashion"
    assert pipe.capabilities == CAPABILITIES["diffusion"] == {"generate", "variations", "inpaint"}
    index = json.loads((write_diffusion(tmp_path / "written") / "model_index.json").read_text())
    assert index["scheduler"] == ["diffusers", "DPMSolverMultistepScheduler"]
    assert index["unet"] == ["studio.models.diffusion", "TextUNet"]
    a = pipe(PROMPT, num_images=3, seed=7, steps=4)
    b = pipe(PROMPT, num_images=3, seed=7, steps=4)
    assert a.seed == 7 and a.parameters == {"steps": 4, "guidance": 3.0} and a.images[0].size == (16, 16)
    assert all(np.array_equal(i, j) for i, j in zip(pixels(a.images), pixels(b.images)))
    assert not np.array_equal(pixels(a.images)[0], pixels(pipe(PROMPT, num_images=1, seed=8, steps=4).images)[0])
    pipe.save_pretrained(str(tmp_path / "again"))
    again = open_pipeline(tmp_path / "again")
    assert pipeline_class(tmp_path / "again") is DiffusionTextPipeline
    c = again(PROMPT, num_images=3, seed=7, steps=4)
    assert all(np.array_equal(i, j) for i, j in zip(pixels(a.images), pixels(c.images)))
    seen = []
    pipe(PROMPT, num_images=1, seed=1, steps=5, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 5) for i in range(1, 6)]


def test_guidance_one_is_the_conditional_prediction(pipe):
    x, t = torch.randn(2, 3, 16, 16), torch.tensor(500)
    hole, known = torch.ones(2, 1, 16, 16), torch.zeros(2, 3, 16, 16)
    text = pipe._text(PROMPT, 2)[:3]
    with torch.inference_mode():
        conditional = pipe.unet(x, t.repeat(2), hole, known, *text)
        unconditional = pipe.unet(x, t.repeat(2), hole, known, *text, drop=torch.ones(2, dtype=torch.bool))
        assert torch.equal(pipe.predict(x, t, hole, known, text, 1.0), conditional)
        # the doubled-batch path, just above 1, is the conditional prediction too
        assert torch.allclose(pipe.predict(x, t, hole, known, text, 1.0 + 1e-6), conditional, atol=1e-4)
        guided = pipe.predict(x, t, hole, known, text, 4.0)
    assert torch.allclose(guided, unconditional + 4.0 * (conditional - unconditional), atol=1e-4)
    assert not torch.allclose(conditional, unconditional, atol=1e-3)        # the text does something
    # no text at all: the null condition, whatever the guidance
    with torch.inference_mode():
        for g in (1.0, 4.0):
            assert torch.allclose(pipe.predict(x, t, hole, known, None, g), unconditional, atol=1e-5)


@pytest.mark.parametrize("prediction", ["v_prediction", "epsilon"])
def test_projected_guidance_drops_only_the_part_along_the_conditional_image(tmp_path, prediction):
    from studio.train.diffusion import noise_schedule

    sampler = noise_schedule(prediction)[1]
    plain = DiffusionTextPipeline(tiny_unet(), sampler)
    projected = DiffusionTextPipeline(tiny_unet(), sampler, guidance_parallel=0.0)
    projected.save_pretrained(str(tmp_path / "projected"))
    assert open_pipeline(tmp_path / "projected").config.guidance_parallel == 0.0
    x, t = torch.randn(2, 3, 16, 16), torch.tensor(300)
    hole, known = torch.ones(2, 1, 16, 16), torch.zeros(2, 3, 16, 16)
    text = plain._text(PROMPT, 2)[:3]
    alpha_bar = sampler.alphas_cumprod[300]
    alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()

    def clean(prediction_):                   # the clean image a prediction stands for
        return alpha * x - sigma * prediction_ if prediction == "v_prediction" else (x - sigma * prediction_) / alpha

    with torch.inference_mode():
        cond = plain.predict(x, t, hole, known, text, 1.0)
        assert torch.equal(projected.predict(x, t, hole, known, text, 1.0), cond)    # no guidance, nothing to project
        full = clean(plain.predict(x, t, hole, known, text, 3.0)) - clean(cond)
        kept = clean(projected.predict(x, t, hole, known, text, 3.0)) - clean(cond)
    direction = clean(cond).flatten(1) / clean(cond).flatten(1).norm(dim=1, keepdim=True)
    along = (kept.flatten(1) * direction).sum(1)
    assert torch.allclose(along, torch.zeros(2), atol=1e-3 * kept.flatten(1).norm(dim=1).max())   # nothing along it
    orthogonal = full.flatten(1) - (full.flatten(1) * direction).sum(1, keepdim=True) * direction
    assert torch.allclose(kept.flatten(1), orthogonal, atol=1e-4)                                 # the rest as before
    assert (full.flatten(1) * direction).sum(1).abs().min() > 1e-3                # plain guidance had a part along it
    with pytest.raises(ValueError, match="guidance_parallel must be"):
        DiffusionTextPipeline(tiny_unet(), sampler, guidance_parallel=1.5)


def test_composed_prompts_add_their_guidance_to_the_prompts(pipe):
    x, t = torch.randn(2, 3, 16, 16), torch.tensor(400)
    hole, known = torch.ones(2, 1, 16, 16), torch.zeros(2, 3, 16, 16)
    text = pipe._text(PROMPT, 2)[:3]
    part = pipe._text("a plain sneaker shown on a clean white studio background", 2)[:3]   # a longer text
    assert part[0].shape[1] != text[0].shape[1]
    with torch.inference_mode():
        cond = pipe.unet(x, t.repeat(2), hole, known, *text)
        uncond = pipe.unet(x, t.repeat(2), hole, known, *text, drop=torch.ones(2, dtype=torch.bool))
        alone = pipe.unet(x, t.repeat(2), hole, known, *part)
        composed = pipe.predict(x, t, hole, known, text, 3.0, [part], 0.5)
        assert torch.allclose(composed, uncond + 3.0 * (cond - uncond) + 0.5 * (alone - uncond), atol=1e-4)
        assert torch.allclose(pipe.predict(x, t, hole, known, text, 1.0, [part], 1.0), cond + alone - uncond,
                              atol=1e-4)
    plain = pipe(PROMPT, num_images=2, seed=4, steps=3)
    made = pipe(PROMPT, num_images=2, seed=4, steps=3, parts=["a sneaker on a white background"])
    again = pipe(PROMPT, num_images=2, seed=4, steps=3, parts=["a sneaker on a white background"])
    assert all(np.array_equal(a, b) for a, b in zip(pixels(made.images), pixels(again.images)))
    assert not all(np.array_equal(a, b) for a, b in zip(pixels(made.images), pixels(plain.images)))
    assert made.parameters["parts"] == ["a sneaker on a white background"] and "parts" not in plain.parameters
    for bad in ("a sneaker", ["a", "b", "c"], [3], None):
        with pytest.raises(ValueError, match="parts must be"):
            pipe(PROMPT, num_images=1, steps=2, parts=bad)


def test_guidance_applies_only_inside_its_noise_interval(pipe, monkeypatch):
    from diffusers.configuration_utils import FrozenDict

    part = ["a sneaker on a white background"]
    unguided = pixels(pipe(PROMPT, num_images=2, seed=5, steps=4, guidance=1.0).images)
    guided = pixels(pipe(PROMPT, num_images=2, seed=5, steps=4, guidance=4.0, parts=part).images)
    assert not all(np.array_equal(a, b) for a, b in zip(guided, unguided))
    seen = []
    real_predict = type(pipe).predict

    def spy(self, x, t, hole, known, text, guidance, parts=(), *rest):
        seen.append((int(t), guidance, len(parts)))
        return real_predict(self, x, t, hole, known, text, guidance, parts, *rest)

    monkeypatch.setattr(type(pipe), "predict", spy)
    first = float(pipe._sampler(4).sigmas[0])
    interval = lambda low, high: monkeypatch.setattr(pipe, "_internal_dict",  # noqa: E731
                                                     FrozenDict({**pipe.config, "guidance_interval": [low, high]}))
    interval(first, None)                                                     # the noisiest step alone
    made = pixels(pipe(PROMPT, num_images=2, seed=5, steps=4, guidance=4.0, parts=part).images)
    inside = [float(s) >= first for s in pipe._sampler(4).sigmas[:4]]
    assert [g for _, g, _ in seen] == [4.0 if i else 1.0 for i in inside] and inside.count(False) == 3
    assert [n for _, _, n in seen] == [1 if i else 0 for i in inside]
    assert not all(np.array_equal(a, b) for a, b in zip(made, guided))
    seen.clear()
    interval(0.0, 1e-9)                                 # nowhere: the conditional prediction alone
    nowhere = pixels(pipe(PROMPT, num_images=2, seed=5, steps=4, guidance=4.0, parts=part).images)
    assert all(np.array_equal(a, b) for a, b in zip(nowhere, unguided)) and {g for _, g, _ in seen} == {1.0}


def test_a_folder_keeps_its_own_guidance_interval(tmp_path):
    folder = write_diffusion(tmp_path / "diffusion-i", guidance_interval=[0.5, None])
    assert json.loads((folder / "model_index.json").read_text())["guidance_interval"] == [0.5, None]
    pipe = open_pipeline(folder)
    sigmas = pipe._sampler(6).sigmas[:6]
    calls = []
    real = pipe.unet.forward

    def count(noisy, *args, **kwargs):
        calls.append(len(noisy))
        return real(noisy, *args, **kwargs)

    pipe.unet.forward = count
    made = pipe(PROMPT, num_images=2, seed=3, steps=6, guidance=3.0, parts=["a sneaker on a white background"])
    # a step inside the interval runs the prompt, the null text and the part in one batch; outside, the prompt alone
    assert calls == [6 if float(s) >= 0.5 else 2 for s in sigmas] and 2 in calls and 6 in calls
    pipe.unet.forward = real
    again = pipe(PROMPT, num_images=2, seed=3, steps=6, guidance=3.0, parts=["a sneaker on a white background"])
    assert all(np.array_equal(a, b) for a, b in zip(pixels(made.images), pixels(again.images)))
    # "more like this" over only the steps below the interval: guidance still reaches it
    below = sum(float(s) < 0.5 for s in sigmas)
    start = pipe(PROMPT, num_images=1, seed=3, steps=6).images[0]
    loose, strict = (pixels(pipe.variations(start, PROMPT, strength=below / 6, num_images=2, seed=1, steps=6,
                                            guidance=g).images) for g in (1.0, 4.0))
    assert not all(np.array_equal(a, b) for a, b in zip(loose, strict))
    everywhere = open_pipeline(write_diffusion(tmp_path / "diffusion-all"))
    assert everywhere.config.guidance_interval == [0.0, None]
    for bad in ([1.0, 0.5], [-1, None], [None, 2], "0.5", [0.5], [float("nan"), None], [True, None]):
        with pytest.raises(ValueError, match="guidance_interval must be"):
            write_diffusion(tmp_path / "diffusion-bad", guidance_interval=bad)


def test_inpainting_keeps_every_unmasked_pixel_and_variations_follow_their_strength(pipe):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (40, 28, 3), dtype=np.uint8))
    rgba = image.convert("RGBA")
    mask = np.zeros((40, 28), bool)
    mask[10:25, 5:20] = True
    for source in (image, rgba):
        out = pipe.inpaint(source, mask, PROMPT).images[0]
        assert out.mode == source.mode and out.size == source.size
        assert np.array_equal(np.asarray(out)[~mask], np.asarray(source)[~mask])
        assert not np.array_equal(np.asarray(out)[mask], np.asarray(source)[mask])
    again = pipe.inpaint(image, mask, PROMPT).images[0]
    assert np.array_equal(np.asarray(again), np.asarray(pipe.inpaint(image, mask, PROMPT).images[0]))
    made = pipe(PROMPT, num_images=1, seed=3, steps=4).images[0]
    same = pipe.variations(made, PROMPT, strength=0.0, num_images=2, seed=1, steps=4)
    assert all(np.array_equal(im, np.asarray(made)) for im in pixels(same.images))   # nothing to denoise
    near, far = (pipe.variations(made, PROMPT, strength=s, num_images=4, seed=1, steps=10) for s in (0.2, 1.0))
    distance = [np.mean([np.abs(im.astype(int) - np.asarray(made)).mean() for im in pixels(v.images)])
                for v in (near, far)]
    assert 0 < distance[0] < distance[1] and near.parameters["strength"] == 0.2
    wide = pipe.variations(image, PROMPT, strength=0.5, num_images=2, seed=1, steps=4)
    assert wide.images[0].size == image.size


def test_a_fill_can_average_several_draws(pipe):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    hole = np.zeros((24, 24), bool)
    hole[6:18, 4:16] = True
    one = pipe.fill(rgb, hole, PROMPT, steps=4, draws=1)
    assert np.array_equal(pipe.fill(rgb, hole, PROMPT, steps=4), pipe.fill(rgb, hole, PROMPT, steps=4, draws=16))
    mean = pipe.fill(rgb, hole, PROMPT, steps=4, draws=3)
    assert np.array_equal(mean, pipe.fill(rgb, hole, PROMPT, steps=4, draws=3))  # the same seed, the same pixels
    assert mean.shape == rgb.shape and not np.array_equal(mean[hole], one[hole])
    # a mean of draws strays less from pixel to pixel than one draw does
    assert mean[hole].astype(float).std() < one[hole].astype(float).std()
    # a repair says nothing about the image: the null condition, not the prompt's, and just as repeatable
    unsaid = pipe.fill(rgb, hole, steps=4, draws=2)
    assert np.array_equal(unsaid, pipe.fill(rgb, hole, None, steps=4, draws=2))
    assert not np.array_equal(unsaid[hole], pipe.fill(rgb, hole, PROMPT, steps=4, draws=2)[hole])
    for bad in (0, 17, 2.0, True):
        with pytest.raises(ValueError, match="draws must be"):
            pipe.fill(rgb, hole, PROMPT, steps=4, draws=bad)


def test_a_fill_below_full_strength_starts_from_the_classical_fill(pipe, monkeypatch):
    import studio.pipelines as pipelines
    from studio.pipelines import FILL_STEPS, FILL_STRENGTH

    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    hole = np.zeros((24, 24), bool)
    hole[5:17, 6:18] = True
    assert round(FILL_STEPS * FILL_STRENGTH) < FILL_STEPS      # the default skips the noisiest step(s)
    usual, from_noise = pipe.fill(rgb, hole, draws=2), pipe.fill(rgb, hole, draws=2, strength=1.0)

    class White:                                              # another classical start: a white hole
        @staticmethod
        def fill(rgb, hole, radius):
            out = rgb.copy()
            out[hole] = 255
            return out

    monkeypatch.setattr(pipelines, "TELEA", White())
    assert not np.array_equal(pipe.fill(rgb, hole, draws=2)[hole], usual[hole])
    assert np.array_equal(pipe.fill(rgb, hole, draws=2, strength=1.0), from_noise)   # pure noise ignores it


@pytest.mark.parametrize("bad, message", [({"steps": 0}, "steps must be"), ({"steps": 51}, "steps must be"),
                                          ({"steps": 2.5}, "steps must be"), ({"guidance": 0.5}, "guidance must be"),
                                          ({"guidance": "3"}, "guidance must be"), ({"num_images": 0}, "num_images"),
                                          ({"seed": -1}, "seed must be")])
def test_bad_settings_are_refused_by_name(pipe, bad, message):
    with pytest.raises(ValueError, match=message):
        pipe(PROMPT, **{"num_images": 1, "steps": 2, **bad})


def test_the_studio_gives_each_model_its_own_settings(tmp_path):
    from conftest import write_vae

    from studio.studio import Studio

    write_diffusion(tmp_path / "diffusion-fashion")
    write_vae(tmp_path / "vae-fashion", catalog="fashion")
    studio = Studio(tmp_path)
    assert studio.models() == ["vae-fashion", "diffusion-fashion"]      # diffusion is not the default yet
    assert studio.settings("diffusion-fashion") == {"steps", "guidance", "progress"}
    assert studio.settings() == {"steps", "guidance", "progress", "truncation"}
    made = studio.generate(PROMPT, n=1, seed=2, model="diffusion-fashion", truncation=0.7, steps=3, guidance=2.0)
    assert made.parameters == {"steps": 3, "guidance": 2.0}
    vae = studio.generate(PROMPT, n=1, seed=2, model="vae-fashion", truncation=0.7, steps=3)
    assert vae.parameters == {"truncation": 0.7}
    if (WEIGHTS_DIR / "understand" / "config.json").is_file():      # the prompt read first, as in the app
        shutil.copytree(WEIGHTS_DIR / "understand", tmp_path / "understand")
        studio = Studio(tmp_path)
        made = studio.generate("black coat on a white background", n=1, seed=2, model="diffusion-fashion", steps=2)
        assert made.parameters["parts"] == ["a coat on a white background"]
        assert "parts" not in studio.generate("black coat on a white background", n=1, seed=2, model="vae-fashion",
                                              steps=2).parameters
    assert "diffusion-fashion" in studio.models("inpaint") and "diffusion:diffusion-fashion" in studio.repair_methods()
    assert studio.repair_methods().get("vae").target.name == "vae:vae-fashion"      # the alias stays on the VAE


def test_a_folder_keeps_its_own_default_guidance(tmp_path, pipe):
    from studio.cards import describe
    from studio.pipelines import DEFAULT_GUIDANCE, default_settings
    from studio.studio import Studio

    own = open_pipeline(write_diffusion(tmp_path / "diffusion-fashion", default_guidance=2.0))
    assert json.loads((tmp_path / "diffusion-fashion" / "model_index.json").read_text())["default_guidance"] == 2.0
    assert default_settings(tmp_path / "diffusion-fashion") == {"steps": 20, "guidance": 2.0}
    assert describe(tmp_path / "diffusion-fashion")["sampling"]["guidance"] == 2.0
    made = own(PROMPT, num_images=2, seed=3, steps=3)                        # no guidance named: the folder's
    assert made.parameters["guidance"] == 2.0
    same = own(PROMPT, num_images=2, seed=3, steps=3, guidance=2.0)
    assert all(np.array_equal(i, j) for i, j in zip(pixels(made.images), pixels(same.images)))
    assert own.variations(made.images[0], PROMPT, num_images=1, seed=1, steps=3).parameters["guidance"] == 2.0
    assert own(PROMPT, num_images=1, seed=3, steps=3, guidance=4.0).parameters["guidance"] == 4.0
    # a folder written before the setting existed samples at the studio-wide default
    assert pipe(PROMPT, num_images=1, seed=3, steps=2).parameters["guidance"] == DEFAULT_GUIDANCE
    studio = Studio(tmp_path)
    assert studio.defaults() == {"steps": 20, "guidance": 2.0}
    assert studio.generate(PROMPT, n=1, seed=1, steps=2, understand=False).parameters["guidance"] == 2.0
    with pytest.raises(ValueError, match="guidance must be"):
        write_diffusion(tmp_path / "bad", default_guidance=0.2)
    index = tmp_path / "diffusion-fashion" / "model_index.json"
    index.write_text(json.dumps({**json.loads(index.read_text()), "default_guidance": "lots"}))
    with pytest.raises(ValueError, match="not a number"):
        default_settings(tmp_path / "diffusion-fashion")
    write_diffusion(tmp_path / "diffusion-other", default_guidance=2.5)
    assert studio.defaults() == {"steps": 20, "guidance": 2.5}          # the unreadable one is passed over
    with pytest.raises(ValueError, match="not a number"):
        studio.defaults("diffusion-fashion")


def test_a_network_grows_a_level_in_front_and_keeps_the_trained_ones(tmp_path):
    from studio.train.configs import DiffusionTrainConfig
    from studio.train.diffusion import grow_weights, grown_unet

    source = write_diffusion(tmp_path / "small")                      # 16 px, levels of 8 and 16 channels
    small = open_pipeline(source).unet
    cfg = DiffusionTrainConfig(size=32, grow_from=str(source), label_embeddings=True)
    big = grown_unet(cfg)
    assert big.config.size == 32 and tuple(big.config.channels) == (8, 8, 16)
    assert tuple(big.config.attention) == (False, False, True) and big.config.views == 6
    new = grow_weights(big, str(source), lambda *_: None)
    old = small.state_dict()
    grown = big.state_dict()
    # every trained tensor has a place: down level i is now level i + 1, the rest keep their names
    assert torch.equal(grown["unet.down_blocks.1.resnets.0.conv1.weight"], old["unet.down_blocks.0.resnets.0.conv1.weight"])
    assert torch.equal(grown["unet.up_blocks.1.resnets.0.conv1.weight"], old["unet.up_blocks.1.resnets.0.conv1.weight"])
    for name in ("unet.conv_in.weight", "unet.conv_out.weight", "unet.time_embedding.linear_1.weight", "null_pooled"):
        assert torch.equal(grown[name], old[name])
    for name, value in old.items():                                  # and every one of them, unchanged
        match = re.match(r"unet\.down_blocks\.(\d+)\.(.*)", name)
        assert torch.equal(grown[f"unet.down_blocks.{int(match.group(1)) + 1}.{match.group(2)}" if match else name], value)
    # what is new: the first down level, the last up level, one upsampler, and the label embeddings (at zero)
    assert new and all(k.startswith(("unet.down_blocks.0.", "unet.up_blocks.2.", "unet.up_blocks.1.upsamplers.",
                                     "view_embedding.", "background_embedding.")) for k in new)
    assert not big.view_embedding.weight.any()
    b = 2
    x = torch.randn(b, 3, 32, 32)
    out = big(x, torch.tensor([10, 500]), torch.zeros(b, 1, 32, 32), x, torch.randn(b, 5, 384),
              torch.ones(b, 5, dtype=torch.bool), torch.randn(b, 384))
    assert out.shape == x.shape and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="twice the source"):
        grown_unet(DiffusionTrainConfig(size=64, grow_from=str(source)))
    with pytest.raises(ValueError, match="give one"):
        DiffusionTrainConfig(size=32, grow_from=str(source), init_from=str(source))
    with pytest.raises(FileNotFoundError, match="to grow from"):
        grown_unet(DiffusionTrainConfig(size=32, grow_from=str(tmp_path / "missing")))


@needs_fashion
def test_a_dry_run_writes_a_folder_the_studio_opens(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "diffusion-dry"
    assert main(["train", "diffusion", "--dry-run", "--out", str(out)]) == 0
    pipe = open_pipeline(out)
    record = pipe.network.config.training
    assert pipe.family == "diffusion" and record["steps"] == 4 and record["train"]["prediction"] == "v_prediction"
    assert pipe.scheduler.config.prediction_type == "v_prediction"
    history = json.loads((tmp_path / "runs" / "diffusion-dry-dry" / "history.json").read_text())
    assert [h["step"] for h in history["history"]] == [2, 4] and np.isfinite(history["history"][-1]["loss"])
    assert (tmp_path / "runs" / "diffusion-dry-dry" / "samples-000004.png").is_file()
    assert len(pipe(PROMPT, num_images=2, seed=1, steps=3).images) == 2
    # a second run can start from this one's weights, with label embeddings the first did not have
    assert main(["train", "diffusion", "--dry-run", "--out", str(tmp_path / "diffusion-more"),
                 "--init-from", str(out), "--label-embeddings"]) == 0
    more = open_pipeline(tmp_path / "diffusion-more")
    assert more.unet.labelled and more.unet.config.views == 6 and more.unet.config.backgrounds == 6
    assert more.network.config.training["train"]["label_embeddings"] is True
    # ... or grow it to twice the size, one level in front
    size = pipe.unet.config.size
    assert main(["train", "diffusion", "--dry-run", "--out", str(tmp_path / "diffusion-grown"), "--size",
                 str(2 * size), "--grow-from", str(out)]) == 0
    grown = open_pipeline(tmp_path / "diffusion-grown")
    assert grown.unet.config.size == 2 * size and len(grown.unet.config.channels) == len(pipe.unet.config.channels) + 1
    assert grown(PROMPT, num_images=1, seed=1, steps=2).images[0].size == (2 * size, 2 * size)


def test_the_training_loss_weights_and_targets():
    from studio.train.diffusion import diffusion_loss, noise_schedule

    schedule, sampler = noise_schedule("v_prediction")
    assert sampler.config.timestep_spacing == "trailing" and sampler.config.beta_schedule == "squaredcos_cap_v2"
    unet = tiny_unet()
    x0, hole = torch.rand(4, 3, 16, 16) * 2 - 1, torch.ones(4, 1, 16, 16)
    texts = (torch.randn(4, 3, 384), torch.ones(4, 3, dtype=torch.bool), torch.randn(4, 384))
    drop = torch.tensor([True, False, False, True])
    losses = [diffusion_loss(unet, schedule, x0, hole, texts, drop, torch.Generator().manual_seed(0), g).item()
              for g in (0.0, 5.0, 5.0)]
    assert losses[1] == losses[2] and losses[0] != losses[1] and all(np.isfinite(losses))
    # a floor under the weight: the same draw, so the loss can only grow
    floored = [diffusion_loss(unet, schedule, x0, hole, texts, drop, torch.Generator().manual_seed(0), 5.0, f).item()
               for f in (0.0, 0.5)]
    assert floored[0] == losses[1] and floored[1] > floored[0]


def test_the_weight_average_warms_up_only_from_a_random_start():
    from studio.train.configs import DiffusionTrainConfig
    from studio.train.diffusion import weight_average

    net = torch.nn.Linear(3, 2)
    start = [p.detach().clone() for p in net.parameters()]
    fresh, continued = weight_average(net, DiffusionTrainConfig()), weight_average(net, DiffusionTrainConfig(init_from="x"))
    fresh.step(net.parameters())                  # diffusers' first update copies the weights in both cases
    continued.step(net.parameters())
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    for _ in range(3):
        fresh.step(net.parameters())
        continued.step(net.parameters())
    assert fresh.cur_decay_value < 0.9 and continued.cur_decay_value == DiffusionTrainConfig().ema_decay
    # the continued average stays near the starting weights; the warmed-up one has moved to the new ones
    moved = [s - p0 for s, p0 in zip(continued.shadow_params, start)]
    assert all(float(m.abs().max()) < 0.01 for m in moved)
    assert all(torch.allclose(s, p.detach(), atol=0.2) for s, p in zip(fresh.shadow_params, net.parameters()))


def test_a_cascade_folder_enlarges_every_image_through_its_upscaler(tmp_path, pipe):
    from studio.models.upscaler import Upscaler
    from studio.train.diffusion import noise_schedule

    torch.manual_seed(1)
    upscaler = Upscaler(scale=2, width=4, blocks=1, catalog="furniture-views")
    with torch.no_grad():                                    # as if trained: more than bicubic
        upscaler.tail.weight.normal_(0, 0.05)
    folder = tmp_path / "diffusion-cascade"
    DiffusionTextPipeline(tiny_unet(), noise_schedule("v_prediction")[1], upscaler=upscaler).save_pretrained(str(folder))
    index = json.loads((folder / "model_index.json").read_text())
    assert index["upscaler"] == ["studio.models.upscaler", "Upscaler"] and (folder / "upscaler" / "config.json").is_file()
    cascade = open_pipeline(folder)
    assert (cascade.size, cascade.scale, cascade.output_size) == (16, 2, 32)
    assert (pipe.upscaler, pipe.scale, pipe.output_size) == (None, 1, 16)     # a folder without one
    made = cascade(PROMPT, num_images=2, seed=4, steps=3)
    plain = pipe(PROMPT, num_images=2, seed=4, steps=3)                      # the same network and sampler
    assert [im.size for im in made.images] == [(32, 32)] * 2
    from studio.images import to_pil, to_tensor

    for big, small in zip(made.images, plain.images):                       # the first stage's image, enlarged
        with torch.no_grad():
            expected = to_pil(upscaler(to_tensor(small)).clamp(-1, 1))[0]
        assert np.abs(np.asarray(big, float) - np.asarray(expected, float)).max() <= 3
    assert np.array_equal(pixels(made.images), pixels(cascade(PROMPT, num_images=2, seed=4, steps=3).images))
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30, 3), np.uint8))
    assert cascade.variations(photo, PROMPT, strength=0.5, num_images=1, seed=1, steps=2).images[0].size == (30, 40)
    mask = np.zeros((40, 30), bool)
    mask[10:20, 5:15] = True
    repaired = np.asarray(cascade.inpaint(photo, mask, seed=1).images[0])
    assert np.array_equal(repaired[~mask], np.asarray(photo)[~mask])
    # the index must name the class it holds
    index["upscaler"] = ["studio.models.vae", "ConditionalVAE"]
    (folder / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ValueError, match="upscaler"):
        pipeline_class(folder)
    index["upscaler"] = [None, None]
    (folder / "model_index.json").write_text(json.dumps(index))
    assert pipeline_class(folder) is DiffusionTextPipeline


def test_the_cascade_command_adds_an_upscaler_and_the_settings(tmp_path, capsys):
    from conftest import write_upscaler, write_vae

    from studio.models.upscaler import Upscaler

    source = write_diffusion(tmp_path / "diffusion-source", catalog="furniture-views", guidance_interval=[0.5, None])
    stage = write_upscaler(tmp_path / "upscaler-x2")                    # no catalog: refused
    assert main(["cascade", str(source), "--upscaler", str(stage), "--out", str(tmp_path / "out")]) == 2
    assert "learned from None" in capsys.readouterr().err and not (tmp_path / "out").exists()
    Upscaler(scale=4, width=4, blocks=1, catalog="furniture-views").save_pretrained(str(tmp_path / "up-views"))
    out = tmp_path / "diffusion-furniture-views"
    assert main(["cascade", str(source), "--upscaler", str(tmp_path / "up-views"), "--out", str(out),
                 "--guidance", "2.5", "--interval", "1.3,100"]) == 0
    made = open_pipeline(out)
    assert (made.output_size, made.config.default_guidance, list(made.config.guidance_interval)) == (64, 2.5, [1.3, 100])
    assert main(["cascade", str(out), "--upscaler", "none", "--out", str(tmp_path / "plain")]) == 0
    plain = open_pipeline(tmp_path / "plain")
    assert plain.upscaler is None and list(plain.config.guidance_interval) == [1.3, 100]
    assert torch.equal(plain.unet.unet.conv_in.weight, made.unet.unet.conv_in.weight)
    assert main(["cascade", str(source), "--upscaler", "none", "--out", str(tmp_path / "x"), "--interval", "low"]) == 2
    assert "LOW,HIGH" in capsys.readouterr().err
    write_vae(tmp_path / "vae-fashion")
    assert main(["cascade", str(tmp_path / "vae-fashion"), "--upscaler", "none", "--out", str(tmp_path / "y")]) == 2
    assert "starts from a diffusion" in capsys.readouterr().err
