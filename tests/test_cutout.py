"""The learned cut-out (studio/models/cutout.py, edits/cutout.py, data/composites.py, train/cutout.py) and the
product mask that uses it: shapes and round trips, alpha that wins, the fallback without the model,
determinism, composites whose truth excludes the shadow, a dry-run training, the eval, the CLI."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import needs_furniture, product_photo
from studio.__main__ import main
from studio.data.composites import (BACKGROUND_KINDS, BackgroundPool, ObjectBank, background_files, clipart_object,
                                    compose, photo_surface, wallpaper_files)
from studio.edits import cutout as cutout_module
from studio.edits.cutout import cut_out, cutout_alpha, default_cutout, drop_frame_pieces, open_cutout
from studio.edits.export import read_metadata
from studio.edits.mask import classical_mask, learned_mask_installed, product_alpha, product_mask
from studio.edits.recipe import Recipe
from studio.models.cutout import CutoutNet
from studio.train.configs import CutoutTrainConfig
from test_upscale import photo_tree


def tiny_net(seed=0) -> CutoutNet:
    torch.manual_seed(seed)
    return CutoutNet(size=64, width=16).eval()


@pytest.fixture()
def installed(tmp_path, monkeypatch):
    """weights/cutout as a tiny (untrained) network: what product_mask picks up."""
    tiny_net().save_pretrained(str(tmp_path / "cutout"))
    monkeypatch.setattr(cutout_module, "WEIGHTS_DIR", tmp_path)
    cutout_module._cached.cache_clear()
    yield tmp_path / "cutout"
    cutout_module._cached.cache_clear()


@pytest.fixture()
def not_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(cutout_module, "WEIGHTS_DIR", tmp_path / "nothing")
    cutout_module._cached.cache_clear()
    yield
    cutout_module._cached.cache_clear()


def test_the_network_gives_one_logit_per_pixel_and_round_trips(tmp_path):
    net = tiny_net()
    x = torch.rand(2, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        out = net(x)
    assert out.shape == (2, 1, 64, 96)
    net.save_pretrained(str(tmp_path / "c"))
    again = open_cutout(tmp_path / "c")
    with torch.no_grad():
        assert torch.equal(again(x), out)
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.zeros(1, 3, 50, 64))
    with pytest.raises(ValueError, match="multiple of 32"):
        CutoutNet(size=100)
    with pytest.raises(FileNotFoundError, match="train one"):
        open_cutout(tmp_path / "missing")


def test_only_the_late_encoder_blocks_and_the_decoder_train():
    net = CutoutNet(size=64, width=16, tune_from=5)
    trainable = {id(p) for p in net.trainable_parameters()}
    assert not any(id(p) in trainable for p in net.encoder._blocks[4].parameters())
    assert all(id(p) in trainable for p in net.encoder._blocks[5].parameters())
    assert all(id(p) in trainable for p in net.out.parameters())
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    net.train()(x).mean().backward()
    assert net.encoder._blocks[4]._project_conv.weight.grad is None       # frozen: no gradient reaches it
    assert net.encoder._blocks[5]._project_conv.weight.grad is not None


def test_the_alpha_has_the_photo_size_and_is_deterministic():
    net = tiny_net()
    image = product_photo((150, 110))
    a = cutout_alpha(image, net)
    assert a.shape == (110, 150) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert np.array_equal(a, cutout_alpha(image, net))
    bilinear = cutout_alpha(image, net, refine="none")
    assert bilinear.shape == a.shape and not np.array_equal(a, bilinear)     # the guided filter did something
    rgba = cut_out(image, net)
    assert rgba.mode == "RGBA" and np.array_equal(np.asarray(rgba)[..., :3], np.asarray(image))
    with pytest.raises(ValueError, match="refine"):
        cutout_alpha(image, net, refine="magic")


def test_the_shipped_matte_is_snapped_to_opaque_and_clear(monkeypatch):
    net, image = default_cutout(), product_photo((120, 90))
    monkeypatch.setattr(cutout_module, "SNAP", 0.0)
    raw = cutout_alpha(image, net)
    monkeypatch.undo()
    snapped = cutout_alpha(image, net)
    near = lambda m: ((m > 0) & (m <= cutout_module.SNAP)) | ((m < 1) & (m >= 1 - cutout_module.SNAP))  # noqa: E731
    assert near(raw).sum() > 100 and not near(snapped).any()     # no faint veil, no see-through inside
    assert np.array_equal(snapped >= 0.5, raw >= 0.5)            # the mask itself is unchanged


def _pieces(*boxes, size=100, fringe=0.3):
    """A soft alpha: each (y0, y1, x0, x1) box solid, with a one-pixel fringe of `fringe` around it."""
    alpha = np.zeros((size, size), np.float32)
    for y0, y1, x0, x1 in boxes:
        alpha[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = np.maximum(alpha[max(0, y0 - 1):y1 + 1,
                                                                         max(0, x0 - 1):x1 + 1], fringe)
        alpha[y0:y1, x0:x1] = 1
    return alpha


def test_a_piece_cut_by_the_frame_is_dropped_when_a_whole_piece_stands_inside():
    inner, edge = (40, 60, 40, 60), (80, 100, 0, 20)              # 400 px inside; 400 px touching the frame
    alpha = _pieces(inner, edge)
    out = drop_frame_pieces(alpha)
    assert out[85:, :15].max() == 0 and out[79, 5] == 0            # the touching piece and its fringe are gone
    assert np.array_equal(out[30:70, 30:70], alpha[30:70, 30:70])  # the inner one is untouched, fringe and all
    big_edge = _pieces(inner, (60, 100, 0, 30))                    # 1,200 px touching: over 2x the inner piece
    assert np.array_equal(drop_frame_pieces(big_edge), big_edge)
    lone = _pieces((70, 100, 0, 40))                               # a product cut by the frame, alone: kept
    assert np.array_equal(drop_frame_pieces(lone), lone)
    both_edges = _pieces((0, 20, 0, 20), (80, 100, 80, 100))       # nothing inside to prefer: kept
    assert np.array_equal(drop_frame_pieces(both_edges), both_edges)
    near = _pieces(inner, (62, 100, 45, 55))                       # touching piece beside the inner one
    kept = drop_frame_pieces(near)
    assert kept[90:, 45:55].max() == 0 and np.array_equal(kept[40:61, 40:60], near[40:61, 40:60])


def test_specks_are_dropped_but_a_lone_small_piece_stays():
    from studio.edits.mask import drop_specks

    mask = np.zeros((200, 200), bool)
    mask[50:150, 50:150] = True
    mask[5, 190] = True                                            # 1 px: under 0.05% of the image
    mask[180:190, 10:20] = True                                    # 100 px: a real second piece
    kept = drop_specks(mask)
    assert not kept[5, 190] and kept[180:190, 10:20].all() and kept[50:150, 50:150].all()
    tiny = np.zeros((200, 200), bool)
    tiny[100, 100] = True                                          # the only piece stays, however small
    assert np.array_equal(drop_specks(tiny), tiny)


def test_product_mask_uses_the_installed_network_but_an_upload_alpha_wins(installed):
    assert learned_mask_installed() and default_cutout() is not None
    image = product_photo((96, 80))
    learned = product_mask(image)
    assert np.array_equal(learned, cutout_alpha(image, default_cutout()) >= 0.5)
    assert np.array_equal(product_mask(image, "learned"), learned)
    assert np.array_equal(product_alpha(image) >= 0.5, learned)
    rgba = image.convert("RGBA")
    alpha = np.zeros((80, 96), np.uint8)
    alpha[20:60, 30:70] = 255
    rgba.putalpha(Image.fromarray(alpha))
    assert np.array_equal(product_mask(rgba), alpha >= 128)
    assert np.array_equal(product_alpha(rgba), alpha / np.float32(255))
    # a cut made with the network is a composite with a trained model
    recipe = Recipe.from_json([{"op": "background", "background": {"kind": "transparent"}, "shadow": None}])
    assert recipe.uses_model and not Recipe.from_json([{"op": "flip", "axis": "horizontal"}]).uses_model
    out = recipe.apply(image)
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out.getchannel("A")) >= 128, learned)


def test_without_the_model_the_classical_mask_is_the_fallback(not_installed):
    image = product_photo((96, 80))
    assert default_cutout() is None and not learned_mask_installed()
    assert np.array_equal(product_mask(image), classical_mask(image))
    assert product_mask(image).mean() > 0.1                        # the photo's ellipse is found
    with pytest.raises(FileNotFoundError, match="not installed"):
        product_mask(image, "learned")
    with pytest.raises(ValueError, match="method must be"):
        product_mask(image, "psychic")
    assert not Recipe.from_json([{"op": "background", "background": {"kind": "transparent"}}]).uses_model


def bank_and_pool(tmp_path) -> tuple[ObjectBank, BackgroundPool]:
    """Two objects: a disc with a shadow pasted beside it (render-like) and a square without one."""
    side = 256
    yy, xx = np.mgrid[:side, :side]
    rows = []
    disc = (yy - 100) ** 2 + (xx - 128) ** 2 < 60 ** 2
    shadow = ((yy - 200) ** 2 / 20 ** 2 + (xx - 128) ** 2 / 70 ** 2 < 1) & ~disc
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[disc] = (200, 40, 40, 255)
    rgba[shadow] = (0, 0, 0, 80)
    rows.append(np.dstack([rgba, (disc * 255).astype(np.uint8)]))
    square = np.zeros((side, side, 4), np.uint8)
    square[60:200, 60:200] = (30, 120, 220, 255)
    rows.append(np.dstack([square, square[..., 3]]))
    bank = ObjectBank(np.stack(rows), ["render", "clipart"])
    return bank, BackgroundPool("train", max_side=256, root=photo_tree(tmp_path / "share"))


def test_composites_are_reproducible_and_their_truth_leaves_out_the_shadow(tmp_path):
    bank, pool = bank_and_pool(tmp_path)
    for kind in BACKGROUND_KINDS:
        rgb, alpha = compose(bank, pool, np.random.default_rng(3), 128, index=0, kind=kind)
        again = compose(bank, pool, np.random.default_rng(3), 128, index=0, kind=kind)
        assert rgb.shape == (128, 128, 3) and alpha.shape == (128, 128)
        assert np.array_equal(rgb, again[0]) and np.array_equal(alpha, again[1])
        assert 0.02 < (alpha >= 128).mean() < 0.9
    # the shadowed object's truth is the disc alone: round, no ellipse under it
    rgb, alpha = compose(bank, pool, np.random.default_rng(5), 256, index=0, kind="plain")
    ys, xs = np.nonzero(alpha >= 128)
    assert abs((ys.max() - ys.min()) - (xs.max() - xs.min())) <= 3
    assert set(pool.files).isdisjoint(BackgroundPool("test", max_side=256, root=tmp_path / "share").files)


def test_harder_training_objects_leave_the_held_out_draws_alone(tmp_path):
    bank, pool = bank_and_pool(tmp_path)
    for kind in BACKGROUND_KINDS:            # off: not one random number more, so the evaluation sets stay
        plain = compose(bank, pool, np.random.default_rng(4), 128, index=1, kind=kind)
        off = compose(bank, pool, np.random.default_rng(4), 128, index=1, kind=kind, photo_fill=0.0, overscale=0.0)
        assert all(np.array_equal(a, b) for a, b in zip(plain, off))
    # close-ups: the frame cuts some of them, and the truth is cut with them
    cut = 0
    for seed in range(12):
        rgb, alpha = compose(bank, pool, np.random.default_rng(seed), 128, index=1, kind="plain", overscale=1.0)
        solid = alpha >= 128
        cut += bool(solid[0].any() or solid[-1].any() or solid[:, 0].any() or solid[:, -1].any())
        assert 0.3 < solid.mean() <= 1.0
    assert cut >= 3
    # a photographed surface: the object takes the photo's colour, keeps its own shading and its alpha
    green = BackgroundPool.__new__(BackgroundPool)
    green.images, green.is_texture, green.files = [np.full((200, 200, 3), (30, 190, 40), np.uint8)], [False], []
    square = np.zeros((64, 64, 3), np.uint8)
    square[:, :32], square[:, 32:] = 200, 100                       # lit left half, shaded right half
    alpha = np.zeros((64, 64), np.float32)
    alpha[8:56, 8:56] = 1
    out = photo_surface(square, alpha, green, np.random.default_rng(0)).astype(int)
    inside = out[20:44, 12:52]
    assert (inside[..., 1] > inside[..., 0] + 60).all() and (inside[..., 1] > inside[..., 2] + 60).all()
    assert out[20:44, 12:28, 1].mean() > out[20:44, 36:52, 1].mean() + 10
    with pytest.raises(ValueError, match="chances"):
        CutoutTrainConfig(photo_fill=1.5)


def test_wallpapers_join_the_training_backdrops_only(tmp_path):
    root = photo_tree(tmp_path / "share")
    before = {split: background_files(split, root) for split in ("train", "test")}
    assert wallpaper_files(root) == [] and background_files("train", root, wallpapers=True) == before["train"]
    # ukui / lomiri: files straight in backgrounds/; Plasma: one picture in several sizes, one a link, and a dark one
    Image.new("RGB", (300, 200), (200, 90, 20)).save(root / "backgrounds/desert.png")
    (root / "backgrounds/README.txt").write_text("not an image")
    plasma = root / "wallpapers/Path/contents"
    (plasma / "images").mkdir(parents=True)
    (plasma / "images_dark").mkdir()
    Image.new("RGB", (640, 400), (20, 90, 200)).save(plasma / "images/1280x800.jpg", quality=95)
    Image.new("RGB", (64, 40), (20, 90, 200)).save(plasma / "images/640x400.jpg")
    (plasma / "images/2560x1600.jpg").symlink_to(plasma / "images/1280x800.jpg")
    Image.new("RGB", (640, 400), (5, 5, 5)).save(plasma / "images_dark/1280x800.jpg")
    extra = wallpaper_files(root)
    assert extra == sorted([(root / "backgrounds/desert.png").resolve(), (plasma / "images/1280x800.jpg").resolve()])
    assert background_files("train", root, wallpapers=True) == before["train"] + extra
    assert background_files("train", root) == before["train"]
    assert background_files("test", root, wallpapers=True) == background_files("test", root) == before["test"]
    pool = BackgroundPool("train", max_side=256, root=root, wallpapers=True)
    assert pool.files[-2:] == extra and not pool.is_texture[-1] and max(pool.images[-1].shape[:2]) == 256


def test_clipart_objects_are_art_on_transparency(tmp_path):
    art = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    art.paste((10, 200, 10, 255), (50, 40, 250, 160))
    art.save(tmp_path / "object.png")
    Image.new("RGBA", (300, 200), (255, 255, 255, 255)).save(tmp_path / "opaque.png")
    framed = Image.new("RGBA", (300, 200), (255, 0, 0, 255))
    framed.paste((0, 0, 0, 0), (100, 50, 200, 150))
    framed.save(tmp_path / "framed.png")
    found = clipart_object(tmp_path / "object.png")
    assert found.shape == (256, 256, 4) and (found[..., 3] >= 128).mean() > 0.3
    assert clipart_object(tmp_path / "opaque.png") is None and clipart_object(tmp_path / "framed.png") is None


@needs_furniture
def test_object_banks_and_a_dry_run_training_write_a_loadable_cutout(tmp_path, monkeypatch):
    pytest.importorskip("moderngl")
    from studio.data.composites import build_objects

    clipart = tmp_path / "clipart"
    clipart.mkdir()
    for i in range(24):                                           # 4 of these names are held out
        art = Image.new("RGBA", (120, 90), (0, 0, 0, 0))
        art.paste((10 * i, 100, 200, 255), (20, 15, 100, 75))
        art.save(clipart / f"art{i}.png")
    cache = tmp_path / "banks"
    try:
        for split in ("train", "test"):
            build_objects(split, cache=cache, workers=1, limit=2, clipart=clipart)
    except Exception as exc:                                      # no OpenGL here
        if "RenderUnavailable" in type(exc).__name__:
            pytest.skip(str(exc))
        raise
    train, test = ObjectBank.open("train", cache), ObjectBank.open("test", cache)
    assert {"render", "icon", "clipart"} <= set(train.kinds) and train.array.shape[1:] == (256, 256, 5)
    assert len(train.kinds) == len(train) and test.kinds.count("clipart") == 4
    # a bank is current only for the clip art it was built with: none found now -> rebuilt without it
    build_objects("test", cache=cache, workers=1, limit=2, clipart=tmp_path / "no-clipart")
    assert ObjectBank.open("test", cache).kinds.count("clipart") == 0
    monkeypatch.chdir(tmp_path)
    root = photo_tree(tmp_path / "share")
    out = tmp_path / "cutout"
    assert main(["train", "cutout", "--dry-run", "--cache", str(cache), "--root", str(root), "--out", str(out)]) == 0
    net = open_cutout(out)
    assert net.config.catalog == "composites" and net.config.training["steps"] == 3
    assert not any("P0.jpg" in s or "P3.jpg" in s for s in net.config.training["backgrounds"])   # held out
    assert cutout_alpha(product_photo((80, 60)), net).shape == (60, 80)


def test_eval_mask_scores_each_method_on_the_same_images(installed, tmp_path, monkeypatch):
    from studio.eval import segment

    bank, pool = bank_and_pool(tmp_path)
    monkeypatch.setattr("studio.data.composites.ObjectBank.open", classmethod(lambda cls, split, cache=None: bank))
    monkeypatch.setattr("studio.data.composites.BackgroundPool",
                        lambda split, max_side=1024, root=None, limit=None: pool)
    methods = segment.mask_methods(("classical", "learned"), str(installed))
    result = segment.evaluate_mask("composites", size=96, limit=2, methods=methods)
    assert result["images"] == 2 * 6 and set(result["methods"]) == {"classical", "learned"}
    busy = result["methods"]["classical"]["busy"]
    assert busy["n"] == 6 and 0 <= busy["min_iou"] <= busy["mean_iou"] <= 1 and 0 <= busy["boundary_f"] <= 1
    assert "| learned | photo |" in segment.markdown_table(result)
    # the sixth composite of each object, a photographed surface on a photo, is scored apart from busy
    assert result["methods"]["learned"][segment.PHOTO_SURFACE]["n"] == 2
    assert f"| learned | {segment.PHOTO_SURFACE} |" in segment.markdown_table(result)
    # the busy rows again, by the source of each composite's object: together they are the busy rows
    chosen = np.linspace(0, len(bank) - 1, 2).round().astype(int)
    expected = {f"busy ({bank.kinds[i]})" for i in chosen}
    by_source = {k: v for k, v in result["methods"]["classical"].items() if k.startswith("busy (")}
    assert set(by_source) == expected and sum(v["n"] for v in by_source.values()) == busy["n"]
    assert f"| classical | {sorted(expected)[0]} |" in segment.markdown_table(result)
    truth = np.zeros((40, 40), np.float32)
    truth[10:30, 10:30] = 1
    assert segment.score(truth, truth)[:2] == (1.0, 1.0) and segment.score(truth, truth)[2] == 0
    assert segment.score(np.zeros_like(truth), truth)[0] == 0
    with pytest.raises(ValueError, match="unknown mask method"):
        segment.mask_methods(("magic",))


def test_the_cutout_command_writes_an_rgba_png_with_provenance(installed, tmp_path, capsys):
    source = tmp_path / "boot.jpg"
    product_photo((120, 90)).save(source, quality=95)
    out = tmp_path / "boot-cut.png"
    assert main(["cutout", str(source), "--out", str(out)]) == 0
    image = Image.open(out)
    assert image.mode == "RGBA" and image.size == (120, 90)
    assert "learned cut-out" in capsys.readouterr().out
    found = read_metadata(out)
    assert found["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert json.loads((tmp_path / "boot-cut.png.json").read_text())
    assert main(["cutout", str(source), "--out", str(tmp_path / "x.jpg")]) != 0


def test_background_shares_are_read_normalised_and_checked(tmp_path, monkeypatch):
    from studio.data import composites

    assert composites.background_shares("") == composites.BACKGROUND_SHARES
    assert composites.background_shares("2,0,0,0,2") == (0.5, 0.0, 0.0, 0.0, 0.5)
    for bad in ("1,2", "a,b,c,d,e", "0,0,0,0,0", "1,1,1,1,-1"):
        with pytest.raises(ValueError, match="background shares"):
            composites.background_shares(bad)
    with pytest.raises(ValueError, match="background shares"):
        CutoutTrainConfig(background_shares="1,1")
    with pytest.raises(ValueError, match="boundary"):
        CutoutTrainConfig(boundary_weight=-1)
    drawn, depth = [], []
    real = composites._background

    def outermost(kind, *args):                                   # clutter draws a photo under itself
        if not depth:
            drawn.append(kind)
        depth.append(kind)
        try:
            return real(kind, *args)
        finally:
            depth.pop()

    monkeypatch.setattr(composites, "_background", outermost)
    bank, pool = bank_and_pool(tmp_path)
    composites.draw_composites(bank, pool, 6, 64, 0, shares=composites.background_shares("0,0,0,0,1"))
    assert drawn == ["clutter"] * 6
    drawn.clear()
    composites.draw_composites(bank, pool, 6, 64, 0, shares=composites.background_shares("1,0,1,0,0"))
    assert set(drawn) <= {"photo", "plain"} and len(drawn) == 6


def test_the_boundary_weight_makes_an_edge_error_cost_more_than_the_same_error_inside():
    from torch.nn import functional as F

    from studio.train.cutout import cutout_loss, edge_band

    alpha = torch.zeros(1, 1, 32, 32)
    alpha[..., 8:24, 8:24] = 1
    band = edge_band(alpha, 2)
    assert band[0, 0, 16, 16] == 0 and band[0, 0, 2, 2] == 0 and band[0, 0, 8, 16] == 1 and band[0, 0, 7, 16] == 1
    assert band[0, 0, 5, 16] == 0 and band[0, 0, 6, 16] == 1          # radius 2 outside, 2 inside
    logits = (alpha * 2 - 1) * 6                                       # right everywhere
    edge, inner = logits.clone(), logits.clone()
    edge[..., 8:10, 8:24] = -6                                         # 32 pixels wrong on the edge
    inner[..., 14:16, 8:24] = -6                                       # 32 pixels wrong deep inside
    plain = cutout_loss(edge, alpha, 1.0)[0]
    expected = F.binary_cross_entropy_with_logits(edge, alpha)
    p = torch.sigmoid(edge)
    dice = 1 - (2 * (p * alpha).sum() + 1) / (p.sum() + alpha.sum() + 1)
    assert plain.item() == pytest.approx((expected + dice).item(), rel=1e-6)   # weight 0: the old loss
    assert cutout_loss(edge, alpha, 1.0)[0].item() == pytest.approx(cutout_loss(inner, alpha, 1.0)[0].item(), rel=1e-4)
    assert cutout_loss(edge, alpha, 1.0, 4.0, 2)[0] > cutout_loss(inner, alpha, 1.0, 4.0, 2)[0]
