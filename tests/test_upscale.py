"""The upscaler (studio/models/upscaler.py, edits/upscale.py, train/upscale.py, eval/upscale.py): exact
sizes, tiling that changes nothing, the recipe step and its metadata, the CLI, and a dry-run training on a
photo tree built here (the Debian photo packages are not needed)."""

import json
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from studio.__main__ import main
from studio.data.base import CatalogError
from studio.data.photos import NATURE, photo_files, read_pat, training_pool
from studio.edits.export import read_metadata
from studio.edits.recipe import Recipe
from studio.edits.upscale import (
    CLASSICAL_UPSCALERS,
    check_upscale,
    classical_upscale,
    open_upscaler,
    upscale,
)
from studio.models.upscaler import Upscaler


def trained_like(scale=2, width=8, blocks=2, seed=0) -> Upscaler:
    """A small upscaler whose residual is not zero (as after training)."""
    torch.manual_seed(seed)
    net = Upscaler(scale=scale, width=width, blocks=blocks)
    with torch.no_grad():
        net.tail.weight.normal_(std=0.05)
    return net.eval()


def photo(w=37, h=23, seed=0, mode="RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if mode == "RGBA":
        return Image.fromarray(np.dstack([base, rng.integers(0, 256, (h, w), dtype=np.uint8)]), "RGBA")
    return Image.fromarray(base, "RGB")


def test_an_untrained_upscaler_is_bicubic_and_the_shapes_are_exact():
    x = torch.rand(2, 3, 9, 13) * 2 - 1
    for scale in (2, 4):
        net = Upscaler(scale=scale, width=4, blocks=1)
        expected = torch.nn.functional.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
        assert torch.equal(net(x), expected)                       # the last layer starts at zero
        assert trained_like(scale)(x).shape == (2, 3, 9 * scale, 13 * scale)
    with pytest.raises(ValueError, match="scale must be one of"):
        Upscaler(scale=3)


def test_upscale_gives_exact_sizes_keeps_alpha_and_leaves_the_input_alone():
    net = trained_like(2)
    image = photo(37, 23)
    before = np.asarray(image).copy()
    out = upscale(image, net)
    assert out.size == (74, 46) and out.mode == "RGB" and np.array_equal(np.asarray(image), before)
    rgba = photo(21, 10, mode="RGBA")
    big = upscale(rgba, trained_like(4))
    assert big.size == (84, 40) and big.mode == "RGBA"
    expected_alpha = rgba.getchannel("A").resize((84, 40), Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(big.getchannel("A")), np.asarray(expected_alpha))
    for method in ("bicubic", "lanczos"):
        assert classical_upscale(image, 4, method).size == (148, 92)


def test_a_tiled_pass_equals_the_untiled_one():
    net = trained_like(2, blocks=3, seed=1)
    image = photo(70, 45, seed=2)
    whole = np.asarray(upscale(image, net, tile=4096), np.int16)
    for tile in (8, 16, 33):
        tiled = np.asarray(upscale(image, net, tile=tile), np.int16)
        assert np.abs(tiled - whole).max() <= 1, tile
    # and the network's residual is really there (tiling is tested on a non-trivial output)
    assert not np.array_equal(whole, np.asarray(classical_upscale(image, 2, "bicubic"), np.int16))


def test_sizes_and_factors_are_checked_before_any_work():
    assert check_upscale((100, 50), 4) == (400, 200)
    for bad in (3, 1, True, "2"):
        with pytest.raises(ValueError, match="factor must be 2 or 4"):
            check_upscale((10, 10), bad)
    with pytest.raises(ValueError, match="above the limit"):
        check_upscale((5000, 5000), 4)
    with pytest.raises(ValueError, match="tile must be at least"):
        upscale(photo(), trained_like(), tile=2)


def test_a_saved_upscaler_opens_and_gives_the_same_pixels(tmp_path):
    net = trained_like(4)
    net.save_pretrained(str(tmp_path / "upscaler-x4"))
    opened = open_upscaler(tmp_path / "upscaler-x4")
    image = photo(16, 12)
    assert np.array_equal(np.asarray(upscale(image, net)), np.asarray(upscale(image, opened)))
    with pytest.raises(FileNotFoundError, match="train one"):
        open_upscaler(tmp_path / "nothing")


def test_the_upscale_recipe_step_predicts_sizes_names_the_model_and_refuses_unknown_ones(tmp_path):
    trained_like(2).save_pretrained(str(tmp_path / "upscaler-x2"))
    tools = CLASSICAL_UPSCALERS.with_model("upscaler-x2", tmp_path / "upscaler-x2")
    recipe = Recipe.from_json([{"op": "upscale", "factor": 2, "method": "upscaler-x2"}, {"op": "flip"}])
    assert recipe.sizes((30, 20)) == [(60, 40), (60, 40)] and recipe.uses_model
    assert recipe.summaries()[0] == "Upscale x2 (upscaler-x2)"
    image = photo(30, 20)
    out = recipe.apply(image, upscalers=tools)
    assert out.size == (60, 40)
    assert np.array_equal(np.asarray(out), np.asarray(upscale(image, tools.network("upscaler-x2")).transpose(
        Image.Transpose.FLIP_LEFT_RIGHT)))
    classical = Recipe.from_json([{"op": "upscale", "factor": 4}])
    assert not classical.uses_model and classical.apply(image).size == (120, 80)
    with pytest.raises(ValueError, match="unknown upscaler 'upscaler-x2'; this studio has: bicubic, lanczos"):
        recipe.apply(image)                                         # a studio without that model
    with pytest.raises(ValueError, match="upscales x2, not x4"):
        Recipe.from_json([{"op": "upscale", "factor": 4, "method": "upscaler-x2"}]).apply(image, upscalers=tools)
    for bad, message in (({"factor": 3}, "factor must be 2 or 4"), ({"factor": 2, "method": "../x"}, "upscale method"),
                         ({"factor": 2, "scale": 2}, "unknown parameter")):
        with pytest.raises(ValueError, match=message):
            Recipe.from_json([{"op": "upscale", **bad}])
    with pytest.raises(ValueError, match="above the limit"):        # refused from the size, before any work
        classical.check_size((5000, 4000))
    # a product lock after an upscale follows the larger image
    locked = Recipe.from_json([{"op": "upscale", "factor": 2}, {"op": "adjust", "brightness": 1.5,
                                                                "region": "background"}])
    assert locked.apply(image).size == (60, 40)


def test_the_cli_writes_the_exact_size_with_metadata_naming_the_model(tmp_path):
    trained_like(2).save_pretrained(str(tmp_path / "upscaler-x2"))
    source = tmp_path / "in.png"
    photo(31, 17).save(source)
    out = tmp_path / "out.png"
    assert main(["upscale", str(source), "--scale", "2", "--model", str(tmp_path / "upscaler-x2"),
                 "--out", str(out)]) == 0
    written = Image.open(out)
    assert written.size == (62, 34)
    meta = read_metadata(out)
    assert meta["recipe"].steps == ({"op": "upscale", "factor": 2, "method": "upscaler-x2"},)
    assert meta["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert json.loads((tmp_path / "out.png.json").read_text())["size"] == [62, 34]
    assert main(["upscale", str(source), "--scale", "4", "--method", "lanczos", "--out", str(tmp_path / "l.jpg")]) == 0
    assert Image.open(tmp_path / "l.jpg").size == (124, 68)
    assert read_metadata(tmp_path / "l.jpg")["digital_source_type"] is None
    # the wrong factor for the model, and a missing model, are clear errors (exit 2)
    assert main(["upscale", str(source), "--scale", "4", "--model", str(tmp_path / "upscaler-x2"),
                 "--out", str(tmp_path / "x.png")]) == 2
    assert main(["upscale", str(source), "--scale", "2", "--model", str(tmp_path / "none"),
                 "--out", str(tmp_path / "y.png")]) == 2
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()


def write_pat(path, image: Image.Image, name=b"test"):
    """A GIMP pattern file (the format read_pat reads)."""
    array = np.asarray(image.convert("RGB"))
    header = struct.pack(">5I4s", 24 + len(name) + 1, 1, image.width, image.height, 3, b"GPAT")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + name + b"\0" + array.tobytes())


def photo_tree(root, n_nature=6, side=160):
    """A stand-in for the installed packages: nature photos, one abstract image, one GIMP pattern."""
    nature = root / NATURE
    nature.mkdir(parents=True)
    for i in range(n_nature):
        photo(side, side - 20, seed=i).save(nature / f"P{i}.jpg", quality=95)
    (root / "backgrounds/mate/abstract").mkdir(parents=True)
    photo(200, 120, seed=50).save(root / "backgrounds/mate/abstract/Art.png")
    write_pat(root / "gimp/2.0/patterns/Stone/rock.pat", photo(96, 96, seed=60))
    write_pat(root / "gimp/2.0/patterns/Legacy/tiny.pat", photo(8, 8, seed=61))   # too small to train on
    return root


def test_photo_split_patterns_and_the_training_pool(tmp_path):
    root = photo_tree(tmp_path / "share")
    test = photo_files("test", root)
    assert [p.name for p in test] == ["P0.jpg", "P3.jpg"]           # every third nature photo by name
    train = photo_files("train", root)
    assert not set(train) & set(test) and len(train) == 4 + 1 + 2
    pattern = read_pat(root / "gimp/2.0/patterns/Stone/rock.pat")
    assert pattern.size == (96, 96) and np.array_equal(np.asarray(pattern), np.asarray(photo(96, 96, seed=60)))
    pool = training_pool(root=root)
    assert len(pool) == 6 and all(min(a.shape[:2]) >= 64 for _, a in pool)
    with pytest.raises(CatalogError, match="apt-get install"):
        photo_files("train", tmp_path / "empty")
    with pytest.raises(CatalogError, match="not a GIMP pattern"):
        (tmp_path / "bad.pat").write_bytes(b"x" * 40)
        read_pat(tmp_path / "bad.pat")


def test_a_dry_run_trains_and_writes_a_loadable_upscaler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = photo_tree(tmp_path / "share")
    out = tmp_path / "upscaler-x4"
    assert main(["train", "upscaler", "--dry-run", "--scale", "4", "--root", str(root), "--out", str(out)]) == 0
    net = open_upscaler(out)
    assert net.config.scale == 4 and net.config.training["steps"] == 4 and net.config.catalog == "photos"
    assert not any("P0.jpg" in s or "P3.jpg" in s for s in net.config.training["sources"])   # held out
    assert upscale(photo(10, 10), net).size == (40, 40)


def test_eval_upscale_scores_every_method_against_lanczos(tmp_path):
    from studio.eval.upscale import evaluate_upscale, markdown_table

    root = photo_tree(tmp_path / "share", side=200)
    files = photo_files("test", root)
    net = trained_like(2)

    def features(images):                     # a cheap stand-in for EfficientNet: colour statistics
        return np.stack([np.asarray(im, np.float64).reshape(-1, 3).mean(0) for im in images])

    methods = {"bicubic": lambda im: classical_upscale(im, 2, "bicubic"),
               "lanczos": lambda im: classical_upscale(im, 2, "lanczos"),
               "tiny": lambda im: upscale(im, net)}
    result = evaluate_upscale(methods, 2, files=files, crops=4, effnet=features, log=lambda m: None)
    assert set(result["methods"]) == set(methods) and result["photos"] == ["P0.jpg", "P3.jpg"]
    for m in result["methods"].values():
        assert 5 < m["psnr"] < 60 and 0 < m["ssim"] <= 1 and len(m["photos"]) == 2
    table = markdown_table(result)
    assert "| tiny |" in table and "gain over lanczos" in table
    with pytest.raises(ValueError, match="not"):
        evaluate_upscale({"wrong": lambda im: im}, 2, files=files, crops=2, effnet=features, log=lambda m: None)


def test_the_upscaler_card_states_issue_19s_bars_from_the_numbers(tmp_path, monkeypatch):
    from studio.cards import describe, render_card

    monkeypatch.chdir(tmp_path)
    root = photo_tree(tmp_path / "share")
    out = tmp_path / "upscaler-x4"
    assert main(["train", "upscaler", "--dry-run", "--scale", "4", "--root", str(root), "--out", str(out)]) == 0
    assert describe(out)["family"] == "upscaler"

    def method(psnrs):
        photos = [{"photo": f"P{i}.jpg", "psnr": v, "psnr_y": v + 1, "ssim": 0.8, "ssim_y": 0.85}
                  for i, v in enumerate(psnrs)]
        return {"psnr": float(np.mean(psnrs)), "psnr_y": float(np.mean(psnrs)) + 1, "ssim": 0.8, "ssim_y": 0.85,
                "fd_effnet": 10.0, "photos": photos}

    def card(model_psnrs):
        evaluation = {"model": "upscaler-x4", "upscale": {
            "scale": 4, "photos": ["P0.jpg", "P1.jpg"], "crops_per_photo": 4, "seed": 0, "seconds": 1.0,
            "methods": {"bicubic": method([29.0, 30.5]), "lanczos": method([30.0, 31.0]),
                        "upscaler-x4": method(model_psnrs)}}}
        return render_card(out, evaluation)

    low = card([31.5, 31.2])                         # +1.5 and +0.2 dB: mean +0.85
    assert "| x4 PSNR gain over Lanczos, mean | >= +1.0 dB | +0.85 dB (**not met**)" in low
    assert "| x4 gain, worst photo | >= +0.3 dB | +0.20 dB (**not met**)" in low
    high = card([31.4, 32.5])                        # +1.4 and +1.5
    assert "+1.45 dB (met)" in high and "+1.40 dB (met)" in high
    assert "| upscaler-x4 |" in high and "+1.45 / +1.40" in high
    assert "python -m studio train upscaler" in high and "--scale 4" in high


def test_an_edit_session_previews_an_upscale_cheaply_and_exports_it_exactly(tmp_path):
    from studio.edits.session import EditSession
    from studio.edits.steps import upscale_step

    trained_like(2).save_pretrained(str(tmp_path / "upscaler-x2"))
    tools = CLASSICAL_UPSCALERS.with_model("upscaler-x2", tmp_path / "upscaler-x2")
    assert upscale_step(2, tools) == {"op": "upscale", "factor": 2, "method": "upscaler-x2"}
    assert upscale_step("4", tools) == {"op": "upscale", "factor": 4, "method": "lanczos"}   # no x4 model here
    with pytest.raises(ValueError, match="enlarge 2 or 4 times"):
        upscale_step(3, tools)
    image = photo(300, 160, seed=4)
    session = EditSession.open(image, upscalers=tools)
    before = session.preview()
    session.push(upscale_step(2, tools))
    session.push({"op": "resize", "longest": 400})
    # the preview stands for the 600x320 image without making it: resize 400 of 600 -> 2/3 of the preview
    assert session.preview().size == (200, 107) and before.size == (300, 160)
    assert session.recipe.sizes(image.size) == [(600, 320), (400, 213)]
    full = session.render()
    assert full.size == (400, 213)
    expected = upscale(image, tools.network("upscaler-x2")).resize((400, 213), Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(full, np.int16) - np.asarray(expected, np.int16)).max() <= 1
    assert session.live({"brightness": 1.2}).size == (200, 107)    # sliders stay live after it
    plain = EditSession.open(image)                                 # a studio without the model refuses the step
    with pytest.raises(ValueError, match="unknown upscaler 'upscaler-x2'"):
        plain.push({"op": "upscale", "factor": 2, "method": "upscaler-x2"})
    assert plain.recipe.steps == ()


def test_a_preset_fix_enlarges_a_small_image_first_as_one_undoable_action(tmp_path):
    from studio.edits.session import EditSession
    from studio.edits.steps import preset_steps

    trained_like(2).save_pretrained(str(tmp_path / "upscaler-x2"))
    tools = CLASSICAL_UPSCALERS.with_model("upscaler-x2", tmp_path / "upscaler-x2")
    steps, said = preset_steps((1100, 1000), "amazon-main", tools)          # needs x1.8: the trained x2
    assert steps == [{"op": "upscale", "factor": 2, "method": "upscaler-x2"}, {"op": "preset", "preset": "amazon-main"}]
    assert "first enlarged x2 with upscaler-x2 (the trained upscaler)" in said
    steps, said = preset_steps((600, 400), "amazon-main", tools)            # x5: x4, Lanczos (no x4 model)
    assert steps[0] == {"op": "upscale", "factor": 4, "method": "lanczos"} and "x4 with lanczos." in said
    assert preset_steps((1900, 1900), "amazon-main", tools) == ([{"op": "preset", "preset": "amazon-main"}], "")
    from conftest import product_photo

    session = EditSession.open(product_photo((300, 200)), upscalers=tools)
    session.push({"op": "flip"})
    session.push_steps(preset_steps((300, 200), "taobao-main", tools)[0])   # 800 px: x4 first
    assert [s["op"] for s in session.recipe.steps] == ["flip", "upscale", "preset"]
    assert session.render().size == (800, 800)
    session.history.undo()                                                  # one undo takes both back
    assert [s["op"] for s in session.recipe.steps] == ["flip"]
    with pytest.raises(ValueError):                                         # all or nothing
        session.push_steps([{"op": "upscale", "factor": 2}, {"op": "upscale", "factor": 4, "method": "nope"}])
    assert [s["op"] for s in session.recipe.steps] == ["flip"]


def test_a_perceptual_dry_run_continues_the_fidelity_upscaler(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = photo_tree(tmp_path / "share")
    fidelity, perceptual = tmp_path / "upscaler-x2", tmp_path / "upscaler-x2-perceptual"
    common = ["train", "upscaler", "--dry-run", "--scale", "2", "--root", str(root)]
    assert main([*common, "--out", str(fidelity)]) == 0
    assert main([*common, "--flavour", "perceptual", "--init-from", str(fidelity), "--out", str(perceptual)]) == 0
    net = open_upscaler(perceptual)
    assert net.config.flavour == "perceptual" and net.config.training["init_from"] == str(fidelity)
    history = json.loads((tmp_path / "runs" / "upscaler-x2-perceptual-dry" / "history.json").read_text())
    assert {"l1", "feature", "adv", "critic"} <= set(history["history"][-1])
    assert main([*common, "--flavour", "perceptual", "--width", "4", "--init-from", str(fidelity),
                 "--out", str(tmp_path / "bad")]) == 2                          # a shape it cannot continue
    assert main([*common, "--flavour", "sharp", "--out", str(tmp_path / "bad")]) == 2
