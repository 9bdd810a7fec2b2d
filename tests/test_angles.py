"""Other angles: one variant's latent decoded under each view's prompt (tiny VAEs), the view rewrite, and
the capability read from a folder."""

import numpy as np
import pytest
from conftest import write_vae

from studio.data.views import LABELS, parse_view, with_view
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
