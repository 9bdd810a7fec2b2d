import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import product_photo
from studio.edits.mask import product_mask
from studio.edits.style import LOOKS, ColorStats, look, transfer


def lab_mean(image, mask=None):
    lab = cv2.cvtColor(np.asarray(image).astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    return (lab.reshape(-1, 3) if mask is None else lab[mask]).mean(0)


@pytest.fixture(scope="module")
def photo():
    return product_photo((120, 90), seed=5)


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(2)
    warm = np.clip(rng.normal((210, 140, 70), 25, (60, 80, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(warm)


def test_reinhard_moves_lab_statistics_to_the_reference(photo, reference):
    stats = ColorStats.measure(reference)
    out = transfer(photo, stats, "reinhard")
    assert np.abs(lab_mean(out) - np.array(stats.lab_mean)).max() < 2.5
    assert np.abs(lab_mean(photo) - np.array(stats.lab_mean)).max() > 20


def test_histogram_matching_matches_the_reference_quantiles(photo, reference):
    stats = ColorStats.measure(reference)
    out = np.asarray(transfer(photo, stats, "histogram"))
    ref = np.asarray(reference)
    for c in range(3):
        for q in (25, 50, 75):
            assert abs(np.percentile(out[..., c], q) - np.percentile(ref[..., c], q)) < 12, (c, q)


def test_strength_blends_between_input_and_full_transfer(photo, reference):
    stats = ColorStats.measure(reference)
    assert np.array_equal(np.asarray(transfer(photo, stats, strength=0)), np.asarray(photo))
    full = np.asarray(transfer(photo, stats)).astype(int)
    half = np.asarray(transfer(photo, stats, strength=0.5)).astype(int)
    expected = (full + np.asarray(photo).astype(int)) / 2
    assert np.abs(half - expected).max() <= 1


def test_measuring_inside_the_product_restyles_the_product_towards_the_reference(photo, reference):
    mask = product_mask(photo)
    stats = ColorStats.measure(reference)
    out = transfer(photo, stats, within=mask)
    assert np.abs(lab_mean(out, mask) - np.array(stats.lab_mean)).max() < 2.5


def test_stats_survive_json_and_reject_garbage(reference):
    stats = ColorStats.measure(reference)
    again = ColorStats.from_dict(stats.to_dict())
    assert np.allclose(again.lab_mean, stats.lab_mean, atol=1e-3)
    with pytest.raises(ValueError, match="lab_mean"):
        ColorStats.from_dict({"lab_std": [1, 2, 3]})
    with pytest.raises(ValueError, match="too few"):
        ColorStats.measure(reference, mask=np.zeros((60, 80), bool))


@pytest.mark.parametrize("name", list(LOOKS))
def test_looks_change_the_image_keep_its_size_and_vanish_at_strength_zero(photo, name):
    out = look(photo, name, 1.0)
    assert out.size == photo.size and out.mode == "RGB"
    assert np.abs(np.asarray(out).astype(int) - np.asarray(photo)).mean() > 1
    assert np.array_equal(np.asarray(look(photo, name, 0.0)), np.asarray(photo))


def test_unknown_style_names_and_bad_strength_are_refused(photo, reference):
    with pytest.raises(ValueError, match="known: watercolor"):
        look(photo, "oil")
    with pytest.raises(ValueError, match="strength"):
        transfer(photo, ColorStats.measure(reference), strength=1.5)
