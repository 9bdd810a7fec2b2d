import json

import numpy as np
import pytest
from PIL import Image

from conftest import product_photo
from studio.edits.background import encode_png
from studio.edits.recipe import EditHistory, Recipe, check_step, downscale
from studio.edits.style import ColorStats


def hole_png(size, box):
    mask = np.zeros((size[1], size[0]), np.uint8)
    mask[box[1]:box[3], box[0]:box[2]] = 255
    return encode_png(Image.fromarray(mask))


def full_recipe(size) -> Recipe:
    reference = Image.new("RGB", (8, 8), (190, 120, 80))
    return Recipe.from_json(json.dumps([
        {"op": "repair", "mask": hole_png(size, (5, 5, 12, 12)), "method": "telea"},
        {"op": "adjust", "brightness": 1.1, "contrast": 1.2, "saturation": 1.3},
        {"op": "rotate", "degrees": 8},
        {"op": "crop", "aspect": "4:5"},
        {"op": "style", "method": "reinhard", "stats": ColorStats.measure(reference).to_dict(), "strength": 0.5,
         "region": "product"},
        {"op": "look", "name": "detail", "strength": 0.4},
        {"op": "background", "background": {"kind": "color", "color": "#ffffff"},
         "shadow": {"opacity": 0.3, "blur": 0.02, "offset": 0.01}},
        {"op": "flip", "axis": "horizontal"},
        {"op": "preset", "preset": "taobao-main"},
    ]))


def test_replay_gives_identical_pixels_and_json_round_trips():
    photo = product_photo((160, 120))
    recipe = full_recipe(photo.size)
    first, second = recipe.apply(photo), Recipe.from_json(recipe.to_json()).apply(photo)
    assert first.size == (800, 800)
    assert np.array_equal(np.asarray(first), np.asarray(second))
    assert Recipe.from_json(recipe.to_json()) == recipe
    assert len(recipe.summaries()) == 9 and "product only" in recipe.summaries()[4]


def test_the_preview_is_the_export_at_preview_size():
    photo = product_photo((1200, 900))
    recipe = Recipe.from_json([{"op": "adjust", "brightness": 1.2, "warmth": 0.4}, {"op": "rotate", "degrees": 5},
                               {"op": "crop", "aspect": "1:1"}, {"op": "resize", "longest": 1000}])
    preview = recipe.preview(photo, 256)
    export = recipe.apply(photo)
    assert export.size == (1000, 1000) and max(preview.size) <= 256
    shrunk = export.resize(preview.size, Image.Resampling.BILINEAR)
    assert np.abs(np.asarray(preview).astype(int) - np.asarray(shrunk)).mean() < 3


def test_a_preview_stays_small_even_after_an_upscaling_preset():
    preview = Recipe.from_json([{"op": "preset", "preset": "shopify-square"}]).preview(product_photo((300, 200)), 128)
    assert preview.size == (128, 128)


def test_the_recipe_runs_at_any_size_and_on_cut_outs():
    recipe = full_recipe((160, 120))
    for size in [(64, 48), (333, 250)]:
        assert recipe.apply(product_photo(size)).size == (800, 800)
    cut_out = product_photo((100, 80)).convert("RGBA")
    assert Recipe.from_json([{"op": "adjust", "gamma": 1.3}, {"op": "rotate", "degrees": 15}]).apply(cut_out).mode \
        == "RGBA"


def test_product_locked_adjustment_leaves_the_background_alone():
    photo = product_photo((160, 120))
    out = Recipe.from_json([{"op": "adjust", "brightness": 0.5, "region": "product"}]).apply(photo)
    assert np.array_equal(np.asarray(out)[:10], np.asarray(photo)[:10])
    assert np.asarray(out)[60, 80].sum() < np.asarray(photo)[60, 80].sum() * 0.6


def test_repair_step_leaves_unmasked_pixels_unchanged():
    photo = product_photo((80, 60))
    out = np.asarray(Recipe.from_json([{"op": "repair", "mask": hole_png((80, 60), (30, 20, 40, 30))}]).apply(photo))
    outside = np.ones((60, 80), bool)
    outside[20:30, 30:40] = False
    assert np.array_equal(out[outside], np.asarray(photo)[outside])


def test_history_changes_a_step_in_place_and_saves_compactly():
    history = EditHistory()
    history.push({"op": "adjust", "brightness": 1.2})
    history.push({"op": "flip", "axis": "vertical"})
    history.replace(0, {"op": "adjust", "brightness": 1.5})
    assert history.recipe.steps[0]["brightness"] == 1.5 and len(history.recipe) == 2
    history.replace(0, {"op": "adjust", "brightness": 1.7}, amend=True)          # folded into the last action
    assert history.undo() and history.recipe.steps[0]["brightness"] == 1.2
    assert history.redo() and history.recipe.steps[0]["brightness"] == 1.7 and not history.can_redo
    history.replace(0, None)
    assert [s["op"] for s in history.recipe.steps] == ["flip"]
    with pytest.raises(ValueError, match="no step 5"):
        history.replace(4, None)
    saved = history.to_dict()
    assert len(saved["steps"]) == 3 and len(saved["states"]) == 5           # each step stored once
    again = EditHistory.from_dict(saved)
    assert again.recipe == history.recipe and again.undo() and again.recipe.steps[0]["brightness"] == 1.7
    for _ in range(EditHistory.MAX_UNDO + 20):
        history.push({"op": "flip", "axis": "horizontal"}) if len(history.recipe) < 60 else history.undo()
    assert len(history.to_dict()["states"]) <= EditHistory.MAX_UNDO + 1


def test_history_undo_redo_are_list_operations():
    history = EditHistory()
    assert not history.undo() and not history.can_undo
    history.push({"op": "adjust", "brightness": 1.2})
    history.push({"op": "flip", "axis": "vertical"})
    assert len(history.recipe) == 2
    assert history.undo() and len(history.recipe) == 1 and history.can_redo
    assert history.redo() and history.recipe.steps[-1]["op"] == "flip"
    history.undo()
    history.push({"op": "rotate", "degrees": 90})                     # a new step drops the redo tail
    assert [s["op"] for s in history.recipe.steps] == ["adjust", "rotate"] and not history.can_redo


@pytest.mark.parametrize("step, message", [
    ({"op": "blur"}, "unknown operation 'blur'"),
    ({"op": "adjust", "brightnes": 2}, "unknown parameter"),
    ({"op": "adjust", "contrast": 99}, "contrast"),
    ({"op": "crop"}, "exactly one of aspect"),
    ({"op": "crop", "box": [0.5, 0, 0.2, 1]}, "left < right"),
    ({"op": "rotate", "degrees": "ten"}, "degrees"),
    ({"op": "resize"}, "width, height or longest"),
    ({"op": "preset", "preset": "ebay"}, "unknown preset"),
    ({"op": "style", "method": "reinhard"}, "stats"),
    ({"op": "repair", "mask": "not-base64!"}, "PNG"),
    ({"op": "look", "name": "pencil", "region": "sky"}, "region"),
    ({"op": "flip", "axis": "horizontal", "region": "product"}, "unknown parameter"),
    ("adjust", "an object with an 'op'"),
])
def test_bad_steps_are_refused_with_the_step_named(step, message):
    with pytest.raises(ValueError, match=message):
        Recipe.from_json([{"op": "adjust", "brightness": 1.1}, step])
    with pytest.raises(ValueError, match="step 2"):
        Recipe.from_json([{"op": "adjust", "brightness": 1.1}, step])


def test_recipe_files_must_be_json_lists_of_this_version():
    with pytest.raises(ValueError, match="not valid JSON"):
        Recipe.from_json("[{")
    with pytest.raises(ValueError, match="version"):
        Recipe.from_json({"version": 9, "steps": []})
    assert Recipe.from_json({"version": 1, "steps": []}).apply(product_photo((10, 10))).size == (10, 10)
    assert check_step({"op": "adjust", "brightness": 1.0}) == {"op": "adjust"}
    with pytest.raises(ValueError, match="mode L"):
        Recipe().apply(Image.new("L", (4, 4)))
    assert max(downscale(product_photo((600, 300)), 100).size) == 100
