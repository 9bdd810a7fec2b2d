"""The library's side of hardening the app: bounded recipes, saved edit sessions, spreadsheet-safe manifests,
plain-language errors, transparency through every step."""

import csv
import io
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import product_photo
from studio.edits.export import export
from studio.edits.recipe import MAX_STEPS, Recipe
from studio.edits.session import EditSession, SessionStore
from studio.images import ImageLoadError, load_image
from studio.review.board import Board, csv_cell
from studio.seeds import MAX_SEED, check_seed


def test_canvas_growth_is_refused_before_any_work_naming_the_step():
    # each expanding 45° turn multiplies the pixel count by ~2: a 600x400 photo passes 64 MP within 12 steps
    recipe = Recipe.from_json([{"op": "rotate", "degrees": 45}] * 20)
    sizes = recipe.sizes((600, 400))
    assert sizes[0] == (708, 708) and sizes[-1][0] > 100_000
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"step \d+ \(rotate\) would make the image .* above the limit"):
        recipe.apply(product_photo((600, 400)))
    assert time.perf_counter() - start < 1.0             # refused from the sizes alone


def test_predicted_sizes_match_the_real_ones():
    image = product_photo((333, 201))
    recipe = Recipe.from_json([{"op": "rotate", "degrees": 17}, {"op": "crop", "aspect": "4:5"},
                               {"op": "rotate", "degrees": 90}, {"op": "crop", "box": [0.1, 0.2, 0.7, 0.9]},
                               {"op": "resize", "longest": 150}, {"op": "preset", "preset": "taobao-main"},
                               {"op": "flip", "axis": "vertical"}])
    state = image
    for step, predicted in zip(recipe.steps, recipe.sizes(image.size)):
        state = Recipe.from_json([step]).apply(state)
        assert abs(state.width - predicted[0]) <= 1 and abs(state.height - predicted[1]) <= 1, step


def test_long_recipes_are_refused():
    with pytest.raises(ValueError, match=f"at most {MAX_STEPS} steps"):
        Recipe.from_json([{"op": "flip", "axis": "horizontal"}] * 10_000)
    session = EditSession.open(product_photo((60, 40)))
    for _ in range(MAX_STEPS):
        session.push({"op": "flip", "axis": "horizontal"})
    with pytest.raises(ValueError, match="at most"):
        session.push({"op": "flip", "axis": "horizontal"})


def test_a_session_refuses_a_step_that_would_grow_the_full_image_too_far():
    session = EditSession.open(product_photo((4000, 3000)))
    session.push({"op": "rotate", "degrees": 45})
    with pytest.raises(ValueError, match="step 3 \\(rotate\\)"):
        for _ in range(5):
            session.push({"op": "rotate", "degrees": 45})
    assert len(session.recipe) == 2                    # the refused step was not recorded


def test_a_session_survives_in_the_store_and_is_restored_from_disk(tmp_path):
    store = SessionStore(tmp_path / "sessions", in_memory=1)
    sid = store.new_id()
    session = EditSession.open(product_photo((80, 60)), name="My Boot (1).JPG")
    session.push({"op": "rotate", "degrees": 90})
    session.commit_adjust({"brightness": 1.3})
    session.undo()
    store.put(sid, session, new_original=True)
    other = store.new_id()
    store.put(other, EditSession.open(product_photo((30, 30))), new_original=True)   # evicts sid from memory
    fresh = SessionStore(tmp_path / "sessions")                                          # a restarted server
    restored = fresh.get(sid)
    assert restored is not None and restored is not session
    assert restored.recipe == session.recipe and restored.redo() and restored.recipe.steps[-1]["op"] == "adjust"
    assert np.array_equal(np.asarray(restored.original), np.asarray(session.original))
    assert restored.export(tmp_path / "out", "png").name == "My-Boot-1-edited.png"
    assert fresh.get("../../etc") is None and fresh.get(None) is None
    with pytest.raises(ValueError, match="session id"):
        fresh.put("../x", session)


def test_sessions_expire(tmp_path):
    store = SessionStore(tmp_path / "sessions", max_age=60, max_sessions=2)
    ids = [store.new_id() for _ in range(3)]
    for sid in ids:
        store.put(sid, EditSession.open(product_photo((20, 20))))
    assert store.expire() == 1 and store.get(ids[0]) is None        # the oldest beyond max_sessions
    assert store.expire(now=time.time() + 3600) == 2 and not any(store.root.iterdir())
    small = SessionStore(tmp_path / "small", max_bytes=1)                    # a disk budget: only the newest stays
    for sid in ids:
        small.put(sid, EditSession.open(product_photo((20, 20))), new_original=True)
    assert [f.name for f in small.root.iterdir()] == [ids[-1]]


def test_transparency_survives_every_step_and_png_webp_exports(tmp_path):
    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[10:50, 20:60] = (200, 40, 40, 255)
    image = Image.fromarray(rgba, "RGBA")
    recipe = Recipe.from_json([{"op": "adjust", "brightness": 1.2}, {"op": "rotate", "degrees": 10},
                               {"op": "look", "name": "detail", "strength": 0.5}, {"op": "crop", "aspect": "1:1"},
                               {"op": "background", "background": {"kind": "transparent"}, "shadow": None}])
    out = recipe.apply(image)
    assert out.mode == "RGBA" and np.asarray(out)[..., 3].min() == 0 and np.asarray(out)[..., 3].max() == 255
    for format in ("png", "webp"):
        path = export(out, tmp_path / f"x.{format}", quality=100)
        assert Image.open(path).mode == "RGBA"
    flat = Image.open(export(out, tmp_path / "x.jpg"))
    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (255, 255, 255)


def test_manifest_csv_cells_cannot_become_formulas(tmp_path):
    assert csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert csv_cell("+1") == "'+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("red bag") == "red bag"
    assert csv_cell(12) == "12"
    board = Board(tmp_path / "data")
    item = board.add(product_photo((20, 20)), added_by="Ana", prompt="=cmd|' /C calc'!A0", seed=3)
    board.decide(item.id, "Ana", "approve")
    target = tmp_path / "approved.zip"
    board.export_approved(target)
    with zipfile.ZipFile(target) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode())))
    assert rows[1][3] == "'=cmd|' /C calc'!A0" and rows[1][4] == "3"


def test_errors_are_in_plain_words(tmp_path):
    with pytest.raises(ValueError, match="whole number from 0 to"):
        check_seed(2**70)
    with pytest.raises(ValueError, match="whole number"):
        check_seed("abc")
    assert check_seed(7.0) == 7 and check_seed(MAX_SEED) == MAX_SEED and 0 <= check_seed(None) < 2**31
    big = io.BytesIO()
    Image.new("1", (12000, 12000)).save(big, "PNG")
    with pytest.raises(ImageLoadError) as caught:
        load_image(big.getvalue())
    assert "64,000,000 pixels" in str(caught.value) and "bomb" not in str(caught.value)
    with pytest.raises(ImageLoadError) as caught:
        load_image(b"not an image at all")
    assert "BytesIO" not in str(caught.value) and "0x" not in str(caught.value)
    missing = tmp_path / "secret" / "file.png"
    with pytest.raises(ImageLoadError) as caught:
        load_image(missing)
    assert str(tmp_path) not in str(caught.value)
    with pytest.raises(ValueError) as caught:
        Recipe.from_json([{"op": "repair", "mask": "aGVsbG8="}])
    assert "BytesIO" not in str(caught.value) and "embedded image" in str(caught.value)


def busy_photo(size=(320, 240), seed=0) -> Image.Image:
    """A dark, mottled night scene with four bright sparkles: the estimated mask finds only the sparkles
    (the case where a rocket photo was reduced to four sparkles)."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    mottle = cv2.resize(rng.normal(0, 1, (h // 8, w // 8, 3)), (w, h), interpolation=cv2.INTER_CUBIC)
    rgb = 70 + 35 * mottle + rng.normal(0, 6, (h, w, 3))
    yy, xx = np.mgrid[:h, :w]
    for cx, cy in [(60, 50), (250, 40), (90, 190), (270, 200)]:
        rgb[(yy - cy) ** 2 + (xx - cx) ** 2 < 9] = 255
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def test_a_fix_that_would_destroy_the_picture_is_refused_and_nothing_is_lost():
    from studio.edits.presets import PRESETS, fix

    with pytest.raises(ValueError, match="cannot be cut out of this background reliably"):
        fix(busy_photo(), PRESETS["amazon-main"])
    session = EditSession.open(busy_photo())
    session.push({"op": "flip", "axis": "horizontal"})
    session.push({"op": "rotate", "degrees": 90})
    session.undo()                                                  # a redo tail that must survive
    with pytest.raises(ValueError, match="reliably"):
        session.push({"op": "preset", "preset": "amazon-main"})
    assert [s["op"] for s in session.recipe.steps] == ["flip"] and session.redo()
    # a clean product photo is still fixed, and then passes
    fixed = fix(product_photo((300, 200), background=(235, 232, 225)), PRESETS["amazon-main"])
    from studio.edits.presets import check

    assert check(fixed, PRESETS["amazon-main"]) == []


def test_on_a_busy_backdrop_a_pair_is_placed_but_a_scatter_is_refused():
    """The scatter rule counts the two largest pieces: a pair of shoes cut out of a busy photo is fixed (a
    stray pixel in its mask does not shrink it), four equal sparkles (no piece pair holding 60%) are refused."""
    from studio.edits.presets import PRESETS, check, fix_with_mask

    photo = busy_photo()
    pair = np.zeros((240, 320), bool)
    pair[80:180, 60:140] = pair[80:180, 180:260] = True
    fixed, _ = fix_with_mask(photo, PRESETS["amazon-main"], pair)
    assert fixed.size == (PRESETS["amazon-main"].width, PRESETS["amazon-main"].height)
    assert check(fixed, PRESETS["amazon-main"], np.asarray(fixed.convert("L")) < 250) == []
    speck = pair.copy()
    speck[5, 5] = True                                             # one stray pixel far from the product
    fixed, _ = fix_with_mask(photo, PRESETS["amazon-main"], speck)
    assert check(fixed, PRESETS["amazon-main"], np.asarray(fixed.convert("L")) < 250) == []   # fill still 85%
    sparkles = np.zeros((240, 320), bool)
    for y, x in [(40, 40), (40, 240), (160, 40), (160, 240)]:
        sparkles[y:y + 40, x:x + 40] = True
    with pytest.raises(ValueError, match="reliably"):
        fix_with_mask(photo, PRESETS["amazon-main"], sparkles)


def test_a_panorama_previews_as_a_readable_strip():
    from studio.edits.recipe import Preview

    assert Preview.of(Image.new("RGB", (8000, 200))).image.size == (3238, 81)
    assert Preview.of(Image.new("RGB", (2000, 1500))).image.size == (512, 384)        # ordinary photos as before


def test_upload_notes_say_what_happened(tmp_path):
    from studio.images import upload_notes

    frames = [Image.new("RGB", (80, 80), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = tmp_path / "spin.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    assert any("animated (3 frames)" in n for n in upload_notes(gif, load_image(gif)))
    tiny = tmp_path / "dot.png"
    Image.new("RGB", (1, 1)).save(tiny)
    assert any("only 1x1 px" in n for n in upload_notes(tiny, load_image(tiny)))
    plain = tmp_path / "plain.png"
    product_photo((120, 90)).save(plain)
    assert upload_notes(plain, load_image(plain)) == []


def test_display_copies_show_transparency_on_a_checkerboard():
    from ui.common import display

    rgba = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    shown = display(rgba, 256)
    assert shown.mode == "RGB" and len(set(np.asarray(shown).reshape(-1, 3)[:, 0].tolist())) == 2
    assert display(Image.new("RGB", (32, 32)), 256).size == (256, 256)


def test_a_forked_session_is_a_copy_of_its_own(tmp_path):
    """A page load restores the browser's last session as a copy for that tab: two tabs never edit one."""
    store = SessionStore(tmp_path / "sessions")
    first = store.new_id()
    session = EditSession.open(product_photo((50, 40)), name="boot.png")
    session.push({"op": "flip", "axis": "horizontal"})
    store.put(first, session, new_original=True)
    tab_a, tab_b = store.fork(first), store.fork(first)
    assert len({first, tab_a, tab_b}) == 3 and store.fork(store.new_id()) is None and store.fork(None) is None
    a, b = store.get(tab_a), store.get(tab_b)
    a.push({"op": "rotate", "degrees": 90})
    store.put(tab_a, a)
    assert [s["op"] for s in SessionStore(tmp_path / "sessions").get(tab_b).recipe.steps] == ["flip"]
    assert [s["op"] for s in SessionStore(tmp_path / "sessions").get(tab_a).recipe.steps] == ["flip", "rotate"]
    assert b is not a and np.array_equal(np.asarray(b.original), np.asarray(session.original))


def test_small_products_and_pairs_on_a_plain_backdrop_are_still_fixed():
    """The refusal is for busy scenes only: a ring filling 1% of a white photo, or a pair of earrings (two
    pieces of equal size), is cut out from a plain backdrop reliably and gets fixed."""
    from studio.edits.presets import PRESETS, check, fix

    ring = product_photo((1000, 800), background=(250, 250, 250), box=(0.47, 0.46, 0.55, 0.56))
    pair = np.asarray(product_photo((600, 400), background=(245, 245, 245), box=(0.2, 0.4, 0.3, 0.6))).copy()
    pair[:, 300:] = np.asarray(product_photo((600, 400), background=(245, 245, 245), box=(0.2, 0.4, 0.3, 0.6)))[:, :300]
    for image in (ring, Image.fromarray(pair)):
        fixed = fix(image, PRESETS["amazon-main"])
        assert check(fixed, PRESETS["amazon-main"]) == []
