"""The learned photo inpainter (issue 18): network, training dry run, fill at any size, registry, CLI."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from studio.__main__ import main
from studio.edits import inpaint as inpaint_module
from studio.edits.inpaint import inpaint_fill, open_inpainter
from studio.edits.recipe import Recipe
from studio.edits.repair import CLASSICAL, NetworkInpaint, repair
from studio.edits.steps import repair_step
from studio.models.inpaint import InpaintNet
from studio.studio import Studio
from conftest import write_inpainter
from test_upscale import photo, photo_tree


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny inpainter whose last layer is no longer zero (a trained one's correction is not), saved."""
    return write_inpainter(tmp_path_factory.mktemp("weights") / "inpaint-photos")


def test_an_untrained_network_is_its_classical_base_and_the_hole_alone_changes():
    net = InpaintNet(size=64, width=16)
    x = torch.rand(2, 3, 64, 96) * 2 - 1
    hole = torch.zeros(2, 1, 64, 96)
    hole[:, :, 10:30, 20:50] = 1
    assert torch.equal(net(x, hole), x)                            # zero-initialised correction
    with torch.no_grad():
        net.out.weight.normal_(0, 0.1)
    out = net(x, hole)
    assert not torch.equal(out[hole.expand_as(x) > 0], x[hole.expand_as(x) > 0])
    assert torch.equal(out[hole.expand_as(x) == 0], x[hole.expand_as(x) == 0])
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.zeros(1, 3, 50, 64), torch.zeros(1, 1, 50, 64))
    with pytest.raises(ValueError, match="base must be"):
        InpaintNet(base="lama")


@pytest.mark.parametrize("shape, box", [((70, 90), (5, 40, 10, 60)),         # odd sides: padded for the encoder
                                        ((300, 260), (0, 250, 0, 200)),      # larger than size 64: reduced, enlarged
                                        ((40, 40), (0, 40, 30, 40)),         # a hole on the border
                                        ((6, 9), (2, 4, 3, 7))])             # smaller than the encoder's stride
def test_the_fill_keeps_every_pixel_outside_the_hole_and_is_deterministic(trained, shape, box):
    net = open_inpainter(trained)
    rgb = np.asarray(photo(shape[1], shape[0], seed=3))
    hole = np.zeros(shape, bool)
    hole[box[0]:box[1], box[2]:box[3]] = True
    out = inpaint_fill(net, rgb, hole)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out[~hole], rgb[~hole])
    assert np.array_equal(out, inpaint_fill(net, rgb, hole))
    base = CLASSICAL.get("ns").fill(rgb, hole, 3)
    assert not np.array_equal(out[hole], base[hole])               # the network's correction is applied


def test_only_a_crop_around_the_hole_reaches_the_network(trained, monkeypatch):
    net = open_inpainter(trained)
    seen = []
    real = inpaint_module._correction
    monkeypatch.setattr(inpaint_module, "_correction", lambda n, base, hole: seen.append(hole.shape) or real(n, base, hole))
    rgb = np.asarray(photo(400, 400, seed=4))
    hole = np.zeros((400, 400), bool)
    hole[200:210, 100:140] = True                                  # 40 px wide: margin 32 each side
    inpaint_fill(net, rgb, hole)
    assert seen == [(round(74 * 64 / 104), 64)]     # the 74 x 104 crop (hole + 32 px margin), reduced to size 64


def test_the_registry_offers_the_inpainter_as_a_learned_photo_method(trained, tmp_path):
    methods = CLASSICAL.with_model("inpaint-photos", trained)
    assert isinstance(methods.get("inpaint-photos"), NetworkInpaint)
    assert "inpaint-photos" in methods.learned and methods.photo_default == "inpaint-photos"
    assert CLASSICAL.photo_default == "telea"
    assert methods.label("inpaint-photos") == "Learned photo repair (inpaint-photos)"
    assert methods.label("ns") == "Navier-Stokes (classical)"
    rgba = np.dstack([np.asarray(photo(48, 40, seed=5)), np.full((40, 48), 200, np.uint8)])
    hole = np.zeros((40, 48), bool)
    hole[5:25, 10:30] = True
    out = np.asarray(repair(Image.fromarray(rgba, "RGBA"), hole, "inpaint-photos", methods=methods))
    assert np.array_equal(out[~hole], rgba[~hole]) and np.array_equal(out[..., 3], rgba[..., 3])
    # a recipe step names it, replays it exactly, and marks the result as made with a model
    recipe = Recipe.from_json([repair_step(hole, "inpaint-photos")])
    image = Image.fromarray(rgba[..., :3])
    assert np.array_equal(np.asarray(recipe.apply(image, methods=methods)), np.asarray(recipe.apply(image, methods=methods)))
    assert recipe.uses_model
    # a Studio finds it in its weights folder by the network's class
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "inpaint-photos").symlink_to(trained, target_is_directory=True)
    assert Studio(weights).repair_methods().photo_default == "inpaint-photos"


def test_a_dry_run_trains_on_the_training_photos_and_eval_scores_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = photo_tree(tmp_path / "share", side=200)
    out = tmp_path / "inpaint-photos"
    assert main(["train", "inpaint", "--dry-run", "--root", str(root), "--out", str(out)]) == 0
    net = open_inpainter(out)
    assert net.config.catalog == "photos" and net.config.training["steps"] == 3
    assert not any(s.endswith(("P0.jpg", "P3.jpg")) for s in net.config.training["sources"])   # held out
    from studio.eval.repair import evaluate_repair

    methods = CLASSICAL.with_model("inpaint-photos", out)
    features = lambda images: np.stack([np.asarray(i, np.float32).reshape(-1, 3).mean(0) for i in images])  # noqa: E731
    scores = {m: evaluate_repair(m, catalog="photos", masks=("medium",), n=4, size=64, effnet=features, methods=methods,
                                 photo_root=root) for m in ("ns", "inpaint-photos")}
    ns, learned = scores["ns"]["masks"]["medium"], scores["inpaint-photos"]["masks"]["medium"]
    assert ns["hole_area"] == learned["hole_area"] > 0                 # the same holes for every method
    assert np.isfinite(learned["psnr_hole"]) and learned["psnr"] >= learned["psnr_hole"]
    # the card states the bar against the better classical fill of the same run
    from studio.cards import render_card

    def scored(method, medium, thick, fd):
        masks = {k: {"psnr_hole": v, "ssim_hole": 0.5, "psnr": v + 8, "ssim": 0.9, "fd_effnet": fd, "hole_area": 0.2}
                 for k, v in (("medium", medium), ("thick", thick))}
        return {"method": method, "n": 4, "size": 256, "masks": masks, "seconds": 1.0}

    evaluation = {"model": "inpaint-photos", "repair": [scored("telea", 24.9, 22.8, 9.0), scored("ns", 25.0, 23.1, 8.0),
                                                        scored("inpaint-photos", 26.6, 24.0, 7.0)]}
    card = render_card(out, evaluation)
    assert card.startswith("# inpaint-photos\n") and "Navier-Stokes" in card
    assert "| medium holes: hole PSNR over the better classical fill | >= +1.5 dB | 26.60 dB (+1.60) (met) | ns 25.00 dB |" in card
    assert "| thick holes: hole PSNR over the better classical fill | >= +1.5 dB | 24.00 dB (+0.90) (**not met**) |" in card
    assert "| thick holes: fd_effnet | lower than both classical fills | 7.00 (met) | 8.00 |" in card


def test_eval_repair_names_an_inpainter_folder_as_a_method(trained, tmp_path, monkeypatch):
    calls = []

    def fake_evaluate(method, methods, **kwargs):
        calls.append((method, methods.get(method).learned))
        return {"method": method, "masks": {}}

    monkeypatch.setattr("studio.eval.repair.evaluate_repair", fake_evaluate)
    assert main(["eval", "repair", "--method", "ns,inpaint-photos", "--inpainter", str(trained),
                     "--catalog", "photos", "--json", str(tmp_path / "r.json")]) == 0
    assert calls == [("ns", False), ("inpaint-photos", True)]
    assert [r["method"] for r in json.loads((tmp_path / "r.json").read_text())["results"]] == ["ns", "inpaint-photos"]
