import numpy as np
import pytest
from PIL import Image, ImageFilter

from conftest import needs_furniture, product_photo
from studio.edits import geometry
from studio.edits.background import Backdrop, Shadow, parse_color, replace_background
from studio.edits.mask import limit_to_region, product_box, product_mask
from studio.edits.presets import PRESETS, Preset, check, fix, measure_fill, preset_from_spec


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def ellipse_truth(size, box=(0.3, 0.25, 0.7, 0.8)):
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = (box[0] + box[2]) / 2 * w, (box[1] + box[3]) / 2 * h
    rx, ry = (box[2] - box[0]) / 2 * w, (box[3] - box[1]) / 2 * h
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1


# ---- geometry
def test_quarter_turns_are_exact_and_other_angles_expand_with_white_corners():
    photo = product_photo((40, 30))
    assert np.array_equal(np.asarray(geometry.rotate(photo, 90)), np.rot90(np.asarray(photo)))
    assert np.array_equal(np.asarray(geometry.rotate(photo, -360)), np.asarray(photo))
    tilted = geometry.rotate(photo, 30)
    assert tilted.width > 40 and tilted.height > 30
    assert tilted.getpixel((0, 0)) == (255, 255, 255)
    rgba = geometry.rotate(photo.convert("RGBA"), 30)
    assert rgba.getpixel((0, 0))[3] == 0                                  # transparent fill for cut-outs


def test_flip_and_crop_to_aspect():
    photo = product_photo((40, 30))
    assert np.array_equal(np.asarray(geometry.flip(photo, "horizontal")), np.asarray(photo)[:, ::-1])
    assert geometry.crop_to_aspect(photo, "1:1").size == (30, 30)
    assert geometry.crop_to_aspect(photo, "4:5").size == (24, 30)
    assert geometry.crop_to_aspect(photo, 2.0).size == (40, 20)
    with pytest.raises(ValueError, match="aspect"):
        geometry.crop_to_aspect(photo, "wide")
    with pytest.raises(ValueError, match="flip axis"):
        geometry.flip(photo, "diagonal")


def test_resize_requests():
    assert geometry.target_size((400, 300), longest=200) == (200, 150)
    assert geometry.target_size((400, 300), width=100) == (100, 75)
    assert geometry.target_size((400, 300), width=10, height=10) == (10, 10)
    with pytest.raises(ValueError, match="longest"):
        geometry.target_size((400, 300), longest=0)
    with pytest.raises(ValueError, match="either"):
        geometry.target_size((400, 300), width=5, longest=5)


# ---- product mask
def test_mask_on_a_plain_backdrop_finds_the_product():
    photo = product_photo((200, 150))
    assert iou(product_mask(photo), ellipse_truth(photo.size)) > 0.95


def test_mask_on_a_busy_backdrop_uses_grabcut_and_still_finds_the_product():
    rng = np.random.default_rng(1)
    photo = np.asarray(product_photo((200, 150), background=(150, 160, 150))).astype(np.int16)
    truth = ellipse_truth((200, 150))
    noise = rng.integers(-40, 41, (150, 200, 1))
    photo[~truth] = np.clip(photo[~truth] + noise[~truth], 0, 255)        # mottled backdrop
    found = product_mask(Image.fromarray(photo.astype(np.uint8)))
    assert iou(found, truth) > 0.85


def test_alpha_is_the_mask_when_present():
    photo = product_photo((60, 40)).convert("RGBA")
    alpha = np.zeros((40, 60), np.uint8)
    alpha[5:20, 10:30] = 255
    photo.putalpha(Image.fromarray(alpha))
    assert np.array_equal(product_mask(photo), alpha > 0)
    assert product_box(alpha > 0) == (10, 5, 30, 20)
    assert product_box(np.zeros((4, 4), bool)) is None


def test_product_lock_leaves_the_locked_region_exactly_alone():
    photo = product_photo((120, 90))
    edited = Image.fromarray(255 - np.asarray(photo))
    mask = product_mask(photo)
    only_product = np.asarray(limit_to_region(edited, photo, mask, "product"))
    far_background = ~np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(9))
                                 ).astype(bool)
    assert np.array_equal(only_product[far_background], np.asarray(photo)[far_background])
    core = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255)
                      .filter(ImageFilter.MinFilter(9))).astype(bool)
    assert np.array_equal(only_product[core], np.asarray(edited)[core])
    with pytest.raises(ValueError, match="region"):
        limit_to_region(edited, photo, mask, "sky")


# ---- background
def test_replace_background_with_colour_gradient_texture_and_transparency():
    photo = product_photo((120, 90))
    red = np.asarray(replace_background(photo, Backdrop("color", color=(255, 0, 0))))
    assert tuple(red[2, 2]) == (255, 0, 0)
    core = ellipse_truth(photo.size, (0.33, 0.29, 0.67, 0.76))              # inside the feathered edge
    assert np.abs(red[core].astype(int) - np.asarray(photo)[core]).max() <= 2      # product kept
    grad = np.asarray(replace_background(photo, Backdrop("gradient", top=(255, 255, 255), bottom=(0, 0, 0))))
    assert grad[0, 2, 0] > grad[45, 2, 0] > grad[-1, 2, 0]
    tex = Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    textured = replace_background(photo, Backdrop.parse(Backdrop("texture", texture=tex).to_dict()))
    assert np.asarray(textured)[:10, :10].std() > 20
    cut = replace_background(photo, Backdrop("transparent"))
    assert cut.mode == "RGBA" and cut.getpixel((2, 2))[3] == 0 and cut.getpixel((60, 45))[3] >= 250   # a soft matte


def test_shadow_darkens_the_backdrop_below_the_product_only():
    photo = product_photo((120, 90))
    plain = np.asarray(replace_background(photo, Backdrop("color", color=(255, 255, 255)))).astype(int)
    shaded = np.asarray(replace_background(photo, Backdrop("color", color=(255, 255, 255)),
                                           shadow=Shadow(opacity=0.5, blur=0.02, offset=0.05))).astype(int)
    below = (int(0.8 * 90) + 2, 60)                                        # just under the product
    assert shaded[below].sum() < plain[below].sum() - 30
    assert np.array_equal(shaded[:5], plain[:5])                           # far above: untouched
    with pytest.raises(ValueError, match="opacity"):
        Shadow(opacity=2)


def test_colours_parse_and_bad_ones_say_how_to_write_them():
    assert parse_color("#fff") == (255, 255, 255) == parse_color("white") == parse_color([255, 255, 255])
    with pytest.raises(ValueError, match="#rrggbb"):
        parse_color("#ggg")
    with pytest.raises(ValueError, match="kind"):
        Backdrop.parse({"kind": "plaid"})


# ---- marketplace presets
def test_presets_are_data_with_the_marketplace_numbers():
    amazon = PRESETS["amazon-main"]
    assert (amazon.width, amazon.height, amazon.background, amazon.min_fill) == (2000, 2000, (255, 255, 255), 0.85)
    assert (PRESETS["instagram-portrait"].width, PRESETS["instagram-portrait"].height) == (1080, 1350)
    assert (PRESETS["taobao-main"].width, PRESETS["taobao-main"].height) == (800, 800)
    assert preset_from_spec({"width": 640, "height": 480, "background": "#eee"}).background == (238, 238, 238)
    with pytest.raises(ValueError, match="unknown preset"):
        preset_from_spec("ebay")


def test_check_reports_each_violation_and_fix_resolves_them():
    photo = product_photo((200, 150), background=(235, 235, 228))
    problems = {v.rule: v.message for v in check(photo, PRESETS["amazon-main"])}
    assert set(problems) == {"size", "fill", "background"}
    assert "2000x2000" in problems["size"] and "85%" in problems["fill"]
    fixed = fix(photo, PRESETS["amazon-main"])
    assert fixed.size == (2000, 2000)
    assert check(fixed, PRESETS["amazon-main"]) == []
    assert abs(measure_fill(product_mask(fixed)) - 0.88) < 0.02
    assert fixed.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize("name", ["shopify-square", "instagram-portrait", "taobao-main"])
def test_fix_without_a_background_rule_keeps_the_scene(name):
    photo = product_photo((200, 150), background=(200, 220, 240))
    preset = PRESETS[name]
    fixed = fix(photo, preset)
    assert fixed.size == (preset.width, preset.height)
    assert check(fixed, preset) == []
    assert np.abs(np.asarray(fixed)[2, 2].astype(int) - (200, 220, 240)).max() <= 8


def test_custom_presets_and_an_empty_image():
    custom = Preset.custom(300, 200, background="#000000", min_fill=0.5, fill=0.6)
    assert fix(product_photo((90, 90)), custom).size == (300, 200)
    blank = Image.new("RGB", (50, 50), (255, 255, 255))
    assert [v.rule for v in check(blank, custom)] == ["size", "product", "background"]   # white, not black
    with pytest.raises(ValueError, match="no product"):
        fix(blank, custom)
    with pytest.raises(ValueError, match="below"):
        Preset.custom(10, 10, min_fill=0.9, fill=0.5)


@needs_furniture
def test_product_mask_on_real_renders_with_true_alpha():
    """Sweet Home 3D renders carry exact alpha: the automatic mask must recover it from the RGB composite,
    on a plain studio colour and on a gradient sweep (measured over the whole test split: 0.936 / 0.945)."""
    from studio.eval.segment import evaluate_mask

    result = evaluate_mask("furniture", split="test", size=128, limit=40)
    classical = result["methods"]["classical"]
    assert classical["plain"]["mean_iou"] > 0.88
    assert classical["gradient"]["mean_iou"] > 0.88
    assert 0 < classical["plain"]["boundary_f"] <= 1 and classical["plain"]["sad"] >= 0
    with pytest.raises(ValueError, match="true alpha"):
        evaluate_mask("fashion")
