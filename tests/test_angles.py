"""Other angles: one variant's latent decoded under each view's prompt (tiny VAEs), the view rewrite, and
the capability read from a folder."""

import numpy as np
import pytest
from conftest import write_vae

from studio.data.views import LABELS, parse_view, view_index, with_view
from studio.pipelines import ANGLES, is_generator, open_pipeline
from studio.studio import Studio


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    write_vae(root / "vae-furniture-views", seed=1, catalog="furniture-views", prior_components=2, prior_hidden=16)
    write_vae(root / "vae-fashion", seed=2, catalog="fashion")
    return root


def test_with_view_replaces_or_adds_the_view():
    assert with_view("a grey sofa, seen from the side", "back") == "a grey sofa, seen from the back"
    assert with_view("Rear three-quarter view of a red chair", "top") == "top view of a red chair"
    assert with_view("a red chair in profile", "front") == "a red chair seen from the front"
    assert with_view("a grey sofa on white.", "side") == "a grey sofa on white, seen from the side"
    for view in LABELS:
        for prompt in ("a teal armchair on a cream background", "an oak table, top view", "lamp"):
            assert parse_view(with_view(prompt, view)) == view
    with pytest.raises(ValueError, match="unknown view"):
        with_view("a sofa", "upside down")
    assert view_index("a sofa") == 0 and view_index("") == 0
    # Chinese requests name views too; without_view leaves the rest of the request
    from studio.data.views import without_view

    assert [parse_view(t) for t in ("灰色沙发侧面图", "木椅，俯视", "白色背景上的红色沙发，背面", "红色运动鞋", "侧面")] == \
        ["side", "top", "back", None, "side"]
    assert parse_view("背面印花的黑色T恤") is None and parse_view("带侧面口袋的背包，白底") is None   # parts, not views
    assert without_view("灰色沙发，侧面图") == "灰色沙发" and without_view("a grey sofa, seen from the side") == "a grey sofa"
    assert without_view("side view of a red chair on white") == "of a red chair on white"
    # a view between two clauses leaves one separator, as the request would read without it
    assert without_view("灰色沙发，侧面图，白色背景") == "灰色沙发，白色背景"
    assert without_view("a grey sofa, seen from the side, on a white background") == "a grey sofa, on a white background"
    assert [view_index(with_view("a sofa", v)) for v in LABELS] == list(range(1, len(LABELS) + 1))


def test_the_view_embedding_steers_the_condition_and_starts_at_zero(tmp_path):
    import torch

    from studio.models.vae import ConditionalVAE

    torch.manual_seed(0)
    kw = dict(size=16, width=8, z_dim=8, text_queries=2, text_heads=2, text_width=16)
    model, plain = ConditionalVAE(**kw, views=len(LABELS)), ConditionalVAE(**kw)
    tokens, mask, pooled = torch.randn(3, 5, 384), torch.ones(3, 5, dtype=torch.bool), torch.randn(3, 384)
    views = torch.tensor([0, 1, 6])
    assert torch.equal(model.condition(tokens, mask, pooled), model.condition(tokens, mask, pooled, views))
    with torch.no_grad():
        model.view_embedding.weight.normal_()
    cond = model.condition(tokens, mask, pooled, views)
    assert torch.equal(cond[0], model.condition(tokens, mask, pooled)[0])       # 0: no view named
    assert not torch.allclose(cond[1:], model.condition(tokens, mask, pooled)[1:])
    assert plain.view_embedding is None and "view_embedding.weight" not in plain.state_dict()
    with pytest.raises(ValueError, match="views must be >= 0"):
        ConditionalVAE(**kw, views=-1)


def test_a_view_embedding_model_draws_each_view_from_one_latent(tmp_path):
    import torch

    from studio.pipelines import VAEPipeline

    folder = write_vae(tmp_path / "vae-furniture-views", seed=3, catalog="furniture-views", views=len(LABELS))
    pipe = open_pipeline(folder)
    assert pipe.vae.config.views == len(LABELS)
    with torch.no_grad():                                       # as after training: views move the condition
        pipe.vae.view_embedding.weight.normal_(std=3.0)
    VAEPipeline(pipe.vae).save_pretrained(str(folder))
    pipe = open_pipeline(folder)
    prompt = "a grey sofa on a white background"
    strip = pipe.other_angles(prompt, seed=5, index=1, num_images=2)
    pictures = [np.asarray(im, float) for im in strip.images]
    assert all(np.abs(a - b).mean() > 0.5 for i, a in enumerate(pictures) for b in pictures[i + 1:])
    # the pipeline's condition embeds the view its prompt names
    side_prompt = with_view(prompt, "side")
    tokens, mask, pooled, _ = pipe._text(side_prompt, 1)
    expected = pipe.vae.condition(tokens, mask, pooled, torch.tensor([view_index(side_prompt)]))
    assert torch.equal(pipe._condition(side_prompt, 1)[0], expected)
    assert not torch.allclose(pipe._condition(side_prompt, 1)[0], pipe.vae.condition(tokens, mask, pooled))
    side = pipe.other_angles(prompt, seed=5, index=1, num_images=2, views=["side"]).images[0]
    assert np.array_equal(np.asarray(side), np.asarray(strip.images[LABELS.index("side")]))


def test_only_a_multi_view_model_offers_angles(weights):
    assert is_generator(weights / "vae-furniture-views", ANGLES)
    assert not is_generator(weights / "vae-fashion", ANGLES) and is_generator(weights / "vae-fashion")
    studio = Studio(weights)
    assert studio.models(ANGLES) == ["vae-furniture-views"]
    with pytest.raises(ValueError, match="not trained on product views"):
        open_pipeline(weights / "vae-fashion").other_angles("a red sneaker", seed=1)


def test_the_strip_is_the_chosen_variant_from_every_view(weights):
    pipe = open_pipeline(weights / "vae-furniture-views")
    prompt = "a grey sofa on a white background, seen from the front"
    batch = pipe(prompt, num_images=3, seed=11)
    strip = pipe.other_angles(prompt, seed=11, index=2, num_images=3)
    assert strip.seed == 11 and strip.method == "other_angles" and strip.parameters["views"] == list(LABELS)
    assert [parse_view(p) for p in strip.parameters["prompts"]] == list(LABELS)
    # the front of the strip is the variant itself: the same latent under the same words
    assert np.abs(np.asarray(strip.images[0], float) - np.asarray(batch.images[2], float)).max() <= 1
    again = pipe.other_angles(prompt, seed=11, index=2, num_images=3)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(strip.images, again.images))
    other = pipe.other_angles(prompt, seed=11, index=0, num_images=3, views=["side", "top"])
    assert len(other.images) == 2 and not np.array_equal(np.asarray(other.images[0]), np.asarray(strip.images[2]))
    studio = Studio(weights)
    through = studio.other_angles(prompt, seed=11, index=2, n=3, views=["front"])
    assert np.array_equal(np.asarray(through.images[0]), np.asarray(strip.images[0]))
    for bad in ({"index": 3}, {"index": -1}, {"views": ["upside"]}, {"views": []}, {"index": True}):
        with pytest.raises(ValueError):
            pipe.other_angles(prompt, seed=11, num_images=3, **bad)


def test_a_multi_view_diffusion_model_denoises_one_variant_s_noise_under_each_view(tmp_path):
    from test_diffusion import write_diffusion

    write_diffusion(tmp_path / "diffusion-furniture-views", catalog="furniture-views")
    write_diffusion(tmp_path / "diffusion-fashion", catalog="fashion")
    assert is_generator(tmp_path / "diffusion-furniture-views", ANGLES)
    assert not is_generator(tmp_path / "diffusion-fashion", ANGLES)
    pipe = open_pipeline(tmp_path / "diffusion-furniture-views")
    prompt = "a grey sofa on a white background, seen from the front"
    batch = pipe(prompt, num_images=3, seed=11, steps=4)
    strip = pipe.other_angles(prompt, seed=11, index=2, num_images=3, steps=4)
    assert strip.seed == 11 and strip.method == "other_angles" and strip.parameters["views"] == list(LABELS)
    assert strip.parameters["steps"] == 4 and [parse_view(p) for p in strip.parameters["prompts"]] == list(LABELS)
    # the front of the strip is the variant itself: its noise under the same words
    assert np.abs(np.asarray(strip.images[0], float) - np.asarray(batch.images[2], float)).max() <= 1
    assert not np.array_equal(np.asarray(strip.images[0]), np.asarray(strip.images[3]))   # the words matter
    again = pipe.other_angles(prompt, seed=11, index=2, num_images=3, steps=4)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(strip.images, again.images))
    studio = Studio(tmp_path)
    assert studio.models(ANGLES) == ["diffusion-furniture-views"]
    through = studio.other_angles(prompt, seed=11, index=2, n=3, views=["front", "top"], steps=4, truncation=0.5)
    assert through.parameters["steps"] == 4 and "truncation" not in through.parameters
    assert np.abs(np.asarray(through.images[0], float) - np.asarray(strip.images[0], float)).max() <= 1
    for bad in ({"index": 3}, {"views": ["upside"]}, {"views": []}, {"steps": 0}, {"guidance": 0.5}):
        with pytest.raises(ValueError):
            pipe.other_angles(prompt, seed=11, num_images=3, **bad)
    with pytest.raises(ValueError, match="not trained on product views"):
        open_pipeline(tmp_path / "diffusion-fashion").other_angles("a red sneaker", seed=1, steps=2)
