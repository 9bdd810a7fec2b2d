import numpy as np
import pytest
from PIL import Image, ImageFilter

from conftest import product_photo
from studio.edits.adjust import RANGES, Adjustments, brightness, contrast, gamma, saturation, sharpness, warmth


@pytest.fixture(scope="module")
def photo():
    return product_photo((96, 72), seed=3)


def arr(image):
    return np.asarray(image).astype(np.int16)


@pytest.mark.parametrize("name", list(RANGES))
def test_neutral_value_is_the_identity(photo, name):
    out = Adjustments(**{name: RANGES[name][2]}).apply(photo)
    assert np.array_equal(np.asarray(out), np.asarray(photo))
    assert out is not photo


@pytest.mark.parametrize("name", list(RANGES))
def test_alpha_is_carried_through_and_input_not_mutated(photo, name):
    rgba = photo.copy()
    rgba.putalpha(Image.fromarray((np.arange(96 * 72) % 256).astype(np.uint8).reshape(72, 96)))
    before = np.asarray(rgba).copy()
    low, high, neutral = RANGES[name]
    out = Adjustments(**{name: (neutral + high) / 2}).apply(rgba)
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[..., 3], before[..., 3])
    assert np.array_equal(np.asarray(rgba), before)


def test_brightness_is_monotone_and_multiplies(photo):
    means = [arr(brightness(photo, f)).mean() for f in (0.0, 0.5, 1.0, 1.5, 2.0)]
    assert means[0] == 0
    assert all(a < b for a, b in zip(means, means[1:]))
    pixel = arr(photo)[40, 48]
    assert np.all(np.abs(arr(brightness(photo, 0.5))[40, 48] - pixel * 0.5) <= 0.5 + 1e-9)


def test_contrast_pivots_on_mid_grey_and_spreads_values(photo):
    grey = Image.new("RGB", (4, 4), (128, 128, 128))
    assert np.all(np.abs(arr(contrast(grey, 3.0)) - 128) <= 1)            # 127.5 + 0.5 * 3 = 129
    stds = [arr(contrast(photo, f)).std() for f in (0.0, 0.5, 1.0, 1.3)]
    assert stds[0] < 1 and all(a < b for a, b in zip(stds, stds[1:]))


def test_saturation_zero_is_grey_and_more_saturation_raises_chroma(photo):
    grey = arr(saturation(photo, 0.0))
    assert np.abs(grey - grey[..., :1]).max() <= 1
    assert np.abs(grey[..., 0] - arr(photo.convert("L"))).max() <= 1       # Rec. 601 luma, like Pillow
    chroma = [np.ptp(arr(saturation(photo, s)), axis=-1).mean() for s in (0.0, 0.5, 1.0, 1.5)]
    assert all(a < b for a, b in zip(chroma, chroma[1:]))


def test_gamma_lifts_midtones_and_keeps_black_and_white():
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (3, 1)).T[None].repeat(2, 0), "RGB")
    out = arr(gamma(ramp, 2.0))
    assert out[0, 0, 0] == 0 and out[0, 255, 0] == 255
    assert out[0, 128, 0] == round(255 * (128 / 255) ** 0.5)
    assert np.all(np.diff(out[0, :, 0]) >= 0)


def test_warmth_moves_red_up_and_blue_down(photo):
    cold, warm = arr(warmth(photo, -0.8)), arr(warmth(photo, 0.8))
    assert (warm[..., 0] - warm[..., 2]).mean() > (arr(photo)[..., 0] - arr(photo)[..., 2]).mean() > \
        (cold[..., 0] - cold[..., 2]).mean()
    assert np.array_equal(warm[..., 1], arr(photo)[..., 1])                 # green untouched


def test_sharpness_raises_and_lowers_high_frequency_energy(photo):
    def energy(image):
        return np.abs(np.diff(arr(image.convert("L")), axis=1)).mean()
    assert energy(sharpness(photo, 0.0)) < energy(photo) < energy(sharpness(photo, 2.0))


def test_fused_path_matches_single_steps_in_order(photo):
    fused = arr(Adjustments(brightness=1.2, contrast=1.3, saturation=1.4, gamma=1.1, warmth=0.3).apply(photo))
    step = photo
    for f in (lambda i: warmth(i, 0.3), lambda i: brightness(i, 1.2), lambda i: contrast(i, 1.3),
              lambda i: gamma(i, 1.1), lambda i: saturation(i, 1.4)):
        step = f(step)
    # single steps round to 8 bits between steps; the fused LUT rounds once
    assert np.abs(fused - arr(step)).max() <= 4
    assert np.abs(fused - arr(step)).mean() < 0.8


def test_pillow_agrees_with_our_saturation_and_brightness_definitions(photo):
    from PIL import ImageEnhance

    ours, theirs = arr(saturation(photo, 1.5)), arr(ImageEnhance.Color(photo).enhance(1.5))
    assert np.abs(ours - theirs).max() <= 2
    assert np.abs(arr(brightness(photo, 1.3)) - arr(ImageEnhance.Brightness(photo).enhance(1.3))).max() <= 1


@pytest.mark.parametrize("bad", [{"brightness": -0.1}, {"contrast": 9}, {"gamma": 0}, {"warmth": 2},
                                 {"saturation": float("nan")}, {"sharpness": "2"}, {"brightness": True}])
def test_out_of_range_values_raise_a_named_error(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        Adjustments(**bad)


def test_other_modes_are_refused(photo):
    with pytest.raises(ValueError, match="mode L"):
        brightness(photo.convert("L"), 1.2)


def test_unsharp_sigma_scales_with_the_image():
    from studio.edits.adjust import sharpen_sigma

    assert sharpen_sigma(400, 300) == 1.0                                   # at least one pixel
    assert sharpen_sigma(4000, 3000) == 8.0                                 # 1/500 of the longest side


def test_sharpness_one_leaves_a_blurred_photo_alone():
    blurred = product_photo((64, 48)).filter(ImageFilter.GaussianBlur(2))
    assert np.array_equal(arr(sharpness(blurred, 1.0)), arr(blurred))
