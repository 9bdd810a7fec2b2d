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
    assert np.allclose(again.correlation, stats.correlation, atol=1e-4) and stats.correlation.shape == (3,)
    good = stats.to_dict()
    older = {k: v for k, v in good.items() if k != "correlation"}       # recorded before correlations were kept
    assert StyleStats.from_dict(older).correlation is None
    for damage, message in (({"blocks": [0, 1]}, "measured at blocks"), ({"grams": good["grams"][:2]}, "one Gram"),
                            ({"grams": ["!!"] * 4}, "base64"), ({"color": [[0, 0]]}, "colour"),
                            ({"correlation": [0.5, 2.0, 0.1]}, "outside -1 to 1"),
                            ({"correlation": [0.5, "x", 0.1]}, "correlation")):
        with pytest.raises(ValueError, match=message):
            StyleStats.from_dict({**good, **damage})


def test_a_grey_reference_gives_a_grey_start_when_the_colour_correlation_is_matched(network):
    from studio.edits.neural_style import _color, _correlation, _to_tensor, match_color

    x = _to_tensor(photo((96, 64), seed=4))
    grey = _to_tensor(photo((64, 64), seed=9).convert("L").convert("RGB"))
    color, pairs = _color(grey), _correlation(grey)
    hue = lambda t: float(t[0].std(0).mean())                           # spread across R, G, B per pixel
    assert hue(match_color(x, color)) > 0.1                               # each channel alone: hues stay
    matched = match_color(x, color, pairs)
    assert hue(matched) < 0.02 and torch.allclose(_color(matched), color, atol=0.02)
    stats = StyleStats.measure(photo((64, 64), seed=9).convert("L").convert("RGB"), network)
    out = np.asarray(stylize(photo((96, 64), seed=4), stats, schedule=((64, 4),), network=network), np.float32)
    assert out.std(-1).mean() < 8                                          # near grey after the optimisation too


def test_stylize_moves_towards_the_reference_keeps_size_alpha_and_is_deterministic(network):
    content = photo((96, 80)).convert("RGBA")
    content.putalpha(Image.new("L", content.size, 200))
    reference = stripes()
    stats = StyleStats.measure(reference, network)
    calls = []
    schedule = ((64, 6), (96, 4))
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


def test_tiny_images_and_references_are_enlarged_for_the_network(network):
    swatch = Image.new("RGB", (8, 8), (220, 120, 40))                   # a colour swatch as the reference
    stats = StyleStats.measure(swatch, network)
    assert all(np.isfinite(g).all() for g in stats.grams)
    variant = photo((32, 32), seed=3)                                    # a generated variant's size
    out = stylize(variant, stats, schedule=((64, 5),), network=network)
    assert out.size == (32, 32)
    assert np.asarray(out, float)[..., 0].mean() > np.asarray(variant, float)[..., 0].mean()


def test_edge_ssim_is_one_for_the_same_image_and_low_for_another():
    a, b = photo(seed=1), photo(seed=2)
    assert edge_ssim(a, a) == pytest.approx(1.0)
    assert edge_ssim(a, b) < 0.7
    with pytest.raises(ValueError, match="differ in size"):
        edge_ssim(a, a.resize((10, 10)))


# ---- the recipe step: replay, the cache behind live previews, the product lock
from conftest import product_photo  # noqa: E402


def test_neural_style_step_replays_from_json_and_the_cache_serves_every_strength(monkeypatch):
    import json

    import studio.edits.neural_style as neural
    from studio.edits.recipe import Recipe
    from studio.edits.steps import neural_style_step

    made = []
    real = neural.stylize

    def counting(image, stats, **kw):
        made.append(image.size)
        return real(image, stats, **{**kw, "schedule": ((48, 8),)})

    monkeypatch.setattr(neural, "stylize", counting)
    monkeypatch.setattr(neural, "STYLIST", neural.Stylist())
    monkeypatch.setattr("studio.edits.recipe.STYLIST", neural.STYLIST)
    step = neural_style_step(stripes())
    assert set(step) == {"op", "method", "stats", "strength"}            # the statistics, never the file
    recipe = Recipe.from_json(json.loads(json.dumps([step])))
    content = product_photo((64, 48))
    seen = []
    full = recipe.apply(content, progress=lambda done, total: seen.append((done, total)))
    assert full.size == content.size and seen[-1] == (8, 8)
    assert np.abs(np.asarray(full, float) - np.asarray(content, float)).mean() > 2
    assert np.array_equal(np.asarray(recipe.apply(content)), np.asarray(full)) and len(made) == 1   # cached
    half = Recipe.from_json([{**step, "strength": 0.5}]).apply(content)    # a strength slider: no new work
    assert len(made) == 1
    assert np.array_equal(np.asarray(half), np.asarray(Image.blend(content, full, 0.5)))
    assert np.array_equal(np.asarray(Recipe.from_json([{**step, "strength": 0}]).apply(content)),
                          np.asarray(content))
    assert recipe.uses_model and recipe.summaries() == ["Neural style (quality) 100%"]
    with pytest.raises(ValueError, match="needs either the reference's stats .* or a house style"):
        Recipe.from_json([{"op": "neural_style", "strength": 1}])
    with pytest.raises(ValueError, match="upload a style reference"):
        neural_style_step(None)


def test_house_styles_are_drawn_here_named_in_recipes_and_replay_as_their_texture(monkeypatch):
    import json

    import studio.edits.neural_style as neural
    from studio.edits.house_styles import HOUSE_STYLES, house_reference
    from studio.edits.recipe import Recipe
    from studio.edits.steps import neural_style_step

    real = neural.stylize
    monkeypatch.setattr(neural, "stylize", lambda image, stats, **kw: real(image, stats, **{**kw,
                                                                                       "schedule": ((48, 6),)}))
    monkeypatch.setattr(neural, "STYLIST", neural.Stylist())
    monkeypatch.setattr("studio.edits.recipe.STYLIST", neural.STYLIST)
    drawn = {name: np.asarray(house_reference(name)) for name in HOUSE_STYLES}
    assert len(HOUSE_STYLES) >= 4 and all(a.shape == (256, 256, 3) for a in drawn.values())
    assert all(np.array_equal(np.asarray(house_reference(n)), drawn[n]) for n in HOUSE_STYLES)   # always the same
    assert len({a.tobytes() for a in drawn.values()}) == len(HOUSE_STYLES)
    assert all(a.std() > 8 for a in drawn.values())                      # textures, not flat colours

    step = neural_style_step(None, "all", 1.0, house="marble")
    assert set(step) == {"op", "method", "house", "strength"}             # the name, not the statistics
    recipe = Recipe.from_json(json.loads(json.dumps([step])))
    content = product_photo((64, 48))
    out = recipe.apply(content)
    assert out.size == content.size
    assert np.abs(np.asarray(out, float) - np.asarray(content, float)).mean() > 2
    # the same pixels as measuring the drawn texture as an uploaded reference
    measured = Recipe.from_json([neural_style_step(house_reference("marble"), "all", 1.0)]).apply(content)
    assert np.array_equal(np.asarray(out), np.asarray(measured))
    assert recipe.summaries() == ["Neural style (quality, house style marble) 100%"]
    with pytest.raises(ValueError, match="unknown house style 'velvet'"):
        neural_style_step(None, house="velvet")
    with pytest.raises(ValueError, match="unknown house style"):
        Recipe.from_json([{**step, "house": ["marble"]}])
    with pytest.raises(ValueError, match="not both"):
        Recipe.from_json([{**step, "stats": neural_style_step(stripes())["stats"]}])


@pytest.mark.parametrize("op", ["neural_style", "style"])
@pytest.mark.parametrize("region", ["product", "background"])
def test_product_lock_leaves_every_pixel_outside_the_feathered_band_unchanged(monkeypatch, op, region):
    import cv2

    import studio.edits.neural_style as neural
    from studio.edits.mask import product_mask
    from studio.edits.recipe import Recipe
    from studio.edits.steps import neural_style_step, style_step

    real = neural.stylize
    monkeypatch.setattr(neural, "stylize", lambda image, stats, **kw: real(image, stats, **{**kw, "schedule": ((64, 6),)}))
    monkeypatch.setattr("studio.edits.recipe.STYLIST", neural.Stylist())
    reference = stripes(colours=((20, 200, 60), (240, 20, 200)))
    step = neural_style_step(reference, region) if op == "neural_style" else style_step(reference, region=region)
    photo = product_photo((96, 72))
    out, before = np.asarray(Recipe.from_json([step]).apply(photo), int), np.asarray(photo, int)
    product = product_mask(photo)
    assert 0.1 < product.mean() < 0.6
    locked = ~product if region == "product" else product
    band = 3                                                            # px: the feather's reach (sigma 0.7 px)
    far = cv2.erode(locked.astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(bool)
    assert far.sum() > 200
    assert np.array_equal(out[far], before[far])                       # no halo into the locked side
    styled = cv2.erode((~locked).astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(bool)
    assert np.abs(out[styled] - before[styled]).mean() > 3              # and the other side did change


# ---- the live network (studio/models/stylenet.py): one pass, registered by a Studio, replayed by name
def test_adain_moves_moments_and_strength_blends():
    from studio.models.stylenet import adain, moments

    torch.manual_seed(0)
    x = torch.randn(2, 5, 8, 8) * 3 + 1
    mean, std = torch.arange(5.0), torch.full((5,), 0.5)
    moved = adain(x, mean, std)
    got_mean, got_std = moments(moved)
    assert torch.allclose(got_mean, mean.expand(2, 5), atol=1e-4) and torch.allclose(got_std, std.expand(2, 5), atol=1e-3)
    assert torch.allclose(adain(x, mean, std, 0.0), x) and torch.allclose(adain(x, mean, std, 0.25),
                                                                      0.25 * moved + 0.75 * x, atol=1e-5)


def test_live_style_through_a_studio_any_size_alpha_strength_and_refusals(tmp_path, network):
    import json

    from conftest import write_stylenet

    from studio import Studio
    from studio.edits.recipe import Recipe
    from studio.edits.steps import neural_style_step
    from studio.models.stylenet import StyleDecoder

    write_stylenet(tmp_path / "style-live")
    assert StyleDecoder.from_pretrained(str(tmp_path / "style-live")).config.width == 8      # round trip
    studio = Studio(tmp_path)
    assert studio.live_styles() == ("style-live",)
    step = neural_style_step(stripes(), "all", 1.0, "style-live")
    recipe = Recipe.from_json(json.loads(json.dumps([step])))
    for size in ((37, 23), (130, 70), (300, 170)):                      # off the strides; above the live side
        content = photo(size).convert("RGBA")
        content.putalpha(Image.new("L", size, 180))
        out = recipe.apply(content)
        assert out.size == size and out.mode == "RGBA"
        assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(content.getchannel("A")))
    content = photo((96, 64))
    full, again = recipe.apply(content), recipe.apply(content)
    assert np.array_equal(np.asarray(full), np.asarray(again))          # same input, same pixels
    half = Recipe.from_json([{**step, "strength": 0.3}]).apply(content)
    assert not np.array_equal(np.asarray(half), np.asarray(full))       # strength acts on the features
    assert recipe.uses_model and recipe.summaries() == ["Neural style (style-live) 100%"]
    with pytest.raises(ValueError, match="unknown style method 'style-gone'"):
        Recipe.from_json([{**step, "method": "style-gone"}]).apply(content)
    with pytest.raises(ValueError, match="unknown style method"):
        neural_style_step(stripes(), method="style-gone")
    with pytest.raises(ValueError, match="moments"):
        Recipe.from_json([{**step, "stats": {**step["stats"], "moments": step["stats"]["moments"][:1]}}])


def test_keep_detail_gives_the_photo_back_when_the_small_copy_is_unstyled_and_keeps_alpha():
    from studio.edits.neural_style import _fit, keep_detail

    content = photo((300, 200), seed=3).convert("RGBA")
    content.putalpha(Image.new("L", content.size, 77))
    small = _fit(content, 100)
    same = keep_detail(content, small, small)
    assert same.size == content.size and same.mode == "RGBA"
    assert np.array_equal(np.asarray(same.getchannel("A")), np.asarray(content.getchannel("A")))
    diff = np.abs(np.asarray(same.convert("RGB"), int) - np.asarray(content.convert("RGB"), int))
    assert diff.max() <= 1                                               # rounding only
    brighter = Image.fromarray(np.clip(np.asarray(small.convert("RGB"), int) + 40, 0, 255).astype(np.uint8))
    lifted = np.asarray(keep_detail(content, brighter, small).convert("RGB"), int)
    inside = np.asarray(content.convert("RGB"), int) < 200                # not clipped at white
    assert np.abs((lifted - np.asarray(content.convert("RGB"), int))[inside] - 40).mean() < 3


def test_style_references_skip_blank_overlays_and_copies_and_training_never_reads_the_held_out(tmp_path,
                                                                                             monkeypatch):
    from test_upscale import photo, photo_tree

    from studio.__main__ import main
    from studio.data.photos import style_references
    from studio.models.stylenet import StyleDecoder

    root = photo_tree(tmp_path / "share")
    abstract = root / "backgrounds/mate/abstract"
    photo(400, 240, seed=50).save(abstract / "Art_3840x2160.png")           # the same picture, larger
    overlay = np.zeros((240, 400, 4), np.uint8)
    overlay[..., :3], overlay[40:80, 40:200, 3] = 255, 90                   # MATE's transparent overlays
    Image.fromarray(overlay, "RGBA").save(abstract / "Overlay.png")
    (abstract / "Overlay.png").write_bytes((abstract / "Overlay.png").read_bytes() + b"\0" * 30_000)
    train, test = style_references(n_test=1, root=root)
    assert [p.name for p in test] == ["Art.png"] and [p.name for p in train] == ["rock.pat"]
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "style-live"
    assert main(["train", "stylenet", "--dry-run", "--root", str(root), "--out", str(out)]) == 0
    net = StyleDecoder.from_pretrained(str(out))
    sources = net.config.training["sources"]
    assert net.config.width == 8 and net.config.catalog == "photos" and sources
    assert not any(name in s for s in sources for name in ("Art.png", "Art_3840x2160", "P0.jpg", "P3.jpg"))


def test_style_validation_pairs_share_nothing_with_the_test_pairs_and_hold_val_keeps_them_out(tmp_path,
                                                                                              monkeypatch):
    from test_upscale import photo as noise, photo_tree, write_pat

    from studio.__main__ import main
    from studio.data.photos import photo_files, style_references, style_validation
    from studio.eval.style import style_pairs
    from studio.models.stylenet import StyleDecoder

    root = photo_tree(tmp_path / "share")
    for k in range(16):                                  # 18 references: 6 held out, 12 train
        write_pat(root / f"gimp/2.0/patterns/Stone/stone{k:02d}.pat", noise(96, 96, seed=70 + k))
    photos, refs = style_validation(n_styles=2, root=root)
    train, test = style_references(root=root)
    assert [p.name for p in photos] == ["P1.jpg", "P4.jpg"] and len(refs) == 2 and set(refs) <= set(train)
    assert not set(photos) & set(photo_files("test", root)) and not set(refs) & set(test)
    with pytest.raises(ValueError, match="unknown split"):
        style_pairs(1, split="train")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "style-live"
    assert main(["train", "stylenet", "--dry-run", "--root", str(root), "--out", str(out), "--hold-val",
                 "--depth", "1"]) == 0
    net = StyleDecoder.from_pretrained(str(out))
    sources = " ".join(net.config.training["sources"])
    assert net.config.depth == 1 and len(net.deep8) == len(net.deep4) == 1 and "P2.jpg" in sources
    assert not any(p.name in sources for p in photos + style_validation(root=root)[1] + test)


def test_a_photo_above_the_reference_side_is_styled_small_and_keeps_its_own_detail(network):
    from studio.edits.neural_style import _fit, keep_detail

    content, stats = photo((150, 100), seed=5).convert("RGBA"), StyleStats.measure(stripes(), network)
    content.putalpha(Image.new("L", content.size, 140))
    calls = []
    schedule = ((64, 5), (96, 3))
    out = stylize(content, stats, schedule=schedule, network=network, side=48, progress=lambda d, t: calls.append(t))
    assert out.size == content.size and out.mode == "RGBA" and calls == [5] * 5      # only the 48 px stage ran
    assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(content.getchannel("A")))
    small = _fit(content, 48)
    styled = stylize(small, stats, schedule=schedule, network=network, side=None)
    assert np.array_equal(np.asarray(out), np.asarray(keep_detail(content, styled, small)))
    full = stylize(content, stats, schedule=schedule, network=network, side=None)      # the coarse-to-fine path
    assert full.size == content.size and not np.array_equal(np.asarray(full), np.asarray(out))


def test_a_recipe_holds_at_most_two_quality_style_steps_refused_before_any_work(monkeypatch):
    import studio.edits.neural_style as neural
    from studio.edits.recipe import MAX_QUALITY_STYLES, Recipe
    from studio.edits.steps import neural_style_step

    step = neural_style_step(stripes())
    monkeypatch.setattr(neural, "stylize", lambda *a, **k: pytest.fail("no optimisation may start"))
    monkeypatch.setattr("studio.edits.recipe.STYLIST", neural.Stylist())
    recipe = Recipe.from_json([step] * (MAX_QUALITY_STYLES + 1))
    with pytest.raises(ValueError, match=f"step {MAX_QUALITY_STYLES + 1} \\(neural_style\\): a recipe holds at most"):
        recipe.apply(photo((64, 48)))
