"""Quality style transfer's core (studio/edits/neural_style.py) and `eval style`'s measures
(studio/eval/style.py), at tiny sizes on the real EfficientNet-Lite0 weights."""

import numpy as np
import pytest
import torch
from PIL import Image

from studio.edits.neural_style import StyleStats, gram, stylize, swag
from studio.eval.style import StyleDistance, edge_ssim


@pytest.fixture(scope="module")
def network():
    from studio.edits.neural_style import _network

    return _network()


def stripes(size=(64, 48), period=6, colours=((200, 40, 40), (250, 220, 60))) -> Image.Image:
    x = np.arange(size[0])[None, :] + np.arange(size[1])[:, None]
    mask = (x // period) % 2 == 0
    return Image.fromarray(np.where(mask[..., None], colours[0], colours[1]).astype(np.uint8), "RGB")


def photo(size=(64, 48), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def test_swag_is_a_smoothed_distribution_per_channel():
    flat = torch.zeros(1, 2, 4, 4)
    assert torch.allclose(swag(flat), torch.ones(1, 2, 16))            # a uniform map reads 1 everywhere
    spike = torch.zeros(1, 1, 16, 16)
    spike[0, 0, 3, 3] = 1000.0                                            # one bright spot in a flat map
    out = swag(spike)
    assert torch.allclose(out.sum(-1), torch.tensor(256.0)) and out.max() < 60   # clipped: not all on one
    assert gram(out).shape == (1, 1, 1)


def test_style_stats_round_trip_and_refuse_damaged_data(network):
    stats = StyleStats.measure(stripes(), network)
    assert [g.shape for g in stats.grams] == [(16, 16), (24, 24), (40, 40), (80, 80)] and stats.color.shape == (2, 3)
    again = StyleStats.from_dict(stats.to_dict())
    for a, b in zip(stats.grams, again.grams):
        assert np.allclose(a, b, rtol=2e-3, atol=2e-3)                  # stored in float16
    good = stats.to_dict()
    for damage, message in (({"blocks": [0, 1]}, "measured at blocks"), ({"grams": good["grams"][:2]}, "one Gram"),
                            ({"grams": ["!!"] * 4}, "base64"), ({"color": [[0, 0]]}, "colour")):
        with pytest.raises(ValueError, match=message):
            StyleStats.from_dict({**good, **damage})


def test_stylize_moves_towards_the_reference_keeps_size_alpha_and_is_deterministic(network):
    content = photo((48, 40)).convert("RGBA")
    content.putalpha(Image.new("L", content.size, 200))
    reference = stripes()
    stats = StyleStats.measure(reference, network)
    calls = []
    schedule = ((32, 6), (48, 4))
    out = stylize(content, stats, schedule=schedule, network=network, progress=lambda d, t: calls.append((d, t)))
    assert out.size == content.size and out.mode == "RGBA"
    assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(content.getchannel("A")))
    assert calls[-1] == (10, 10) and len(calls) == 10
    again = stylize(content, stats, schedule=schedule, network=network)
    assert np.array_equal(np.asarray(out), np.asarray(again))
    distance = StyleDistance(network)
    target = distance.grams(reference)
    assert distance(out.convert("RGB"), target) < distance(content.convert("RGB"), target)
    with pytest.raises(ValueError, match="must not be negative"):
        stylize(content, stats, style_weight=-1, network=network)


def test_edge_ssim_is_one_for_the_same_image_and_low_for_another():
    a, b = photo(seed=1), photo(seed=2)
    assert edge_ssim(a, a) == pytest.approx(1.0)
    assert edge_ssim(a, b) < 0.7
    with pytest.raises(ValueError, match="differ in size"):
        edge_ssim(a, a.resize((10, 10)))
