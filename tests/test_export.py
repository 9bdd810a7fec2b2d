import io
import json

import numpy as np
import pytest
from PIL import Image, ImageCms

from conftest import product_photo
from studio.edits.background import encode_png
from studio.edits.export import (COMPOSITE, GENERATED, INLINE_RECIPE_LIMIT, Provenance, export, infotext,
                                 parse_infotext, read_metadata, sidecar_path)
from studio.edits.recipe import Recipe
from studio.images import load_image

RECIPE = Recipe.from_json([{"op": "adjust", "brightness": 1.1, "saturation": 1.2},
                           {"op": "crop", "aspect": "1:1"}])


@pytest.mark.parametrize("suffix", ["png", "jpg", "webp"])
def test_metadata_round_trip(tmp_path, suffix):
    image = RECIPE.apply(product_photo((90, 60)))
    made = Provenance("generated", prompt='navy "ankle" boot, on cream: classic', seed=123456789,
                      model="gan-fashion", truncation=0.8, recipe=RECIPE)
    path = export(image, tmp_path / f"boot.{suffix}", provenance=made, quality=90)
    found = read_metadata(path)
    assert found["prompt"] == made.prompt
    assert found["seed"] == 123456789
    assert found["model"] == "gan-fashion"
    assert found["recipe"] == RECIPE
    assert found["digital_source_type"] == GENERATED
    assert found["parameters"].startswith(made.prompt + "\n")
    side = json.loads(sidecar_path(path).read_text())
    assert side["seed"] == 123456789 and Recipe.from_json(side["recipe"]) == RECIPE
    # a diffusion variant also says which prompt it composed with its own (what remakes it)
    composed = Provenance("generated", prompt="a black coat on a white background", seed=3, model="diffusion-fashion",
                          steps=20, guidance=3.0, parts=("a coat on a white background",))
    path = export(image, tmp_path / f"coat.{suffix}", provenance=composed)
    assert "Composed with: a coat on a white background" in read_metadata(path)["parameters"]
    assert json.loads(sidecar_path(path).read_text())["parts"] == ["a coat on a white background"]
    if suffix == "png":                                     # an edit of it keeps them
        assert Provenance.inherit(path, RECIPE).parts == ("a coat on a white background",)


def test_png_is_lossless_and_everything_is_tagged_srgb(tmp_path):
    image = product_photo((50, 40))
    path = export(image, tmp_path / "a.png")
    again = Image.open(path)
    assert np.array_equal(np.asarray(again.convert("RGB")), np.asarray(image))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(again.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    for suffix in ("jpg", "webp"):
        assert "icc_profile" in Image.open(export(image, tmp_path / f"a.{suffix}")).info


def test_digital_source_type_follows_what_made_the_pixels(tmp_path):
    photo = product_photo((40, 30))
    only_adjusted = export(photo, tmp_path / "adjusted.jpg", provenance=Provenance("upload", recipe=RECIPE))
    assert read_metadata(only_adjusted)["digital_source_type"] is None
    assert "DigitalSourceType" not in Image.open(only_adjusted).info["xmp"].decode()
    mask = encode_png(Image.new("L", (40, 30), 0).point(lambda _: 255).crop((0, 0, 40, 30)))
    telea = Recipe.from_json([{"op": "repair", "mask": mask, "method": "telea"}])
    assert not telea.uses_model
    repaired = Recipe.from_json([{"op": "repair", "mask": mask, "method": "vae:vae-fashion"}])      # a trained one
    assert repaired.uses_model
    path = export(photo, tmp_path / "repaired.png", provenance=Provenance("upload", recipe=repaired))
    assert read_metadata(path)["digital_source_type"] == COMPOSITE


def test_editing_a_generated_file_keeps_its_ai_label_and_parameters(tmp_path):
    first = export(product_photo((40, 30)), tmp_path / "gen.png",
                   provenance=Provenance("generated", prompt="red sneaker", seed=5, model="gan-fashion"))
    inherited = Provenance.inherit(first, RECIPE)
    assert (inherited.origin, inherited.prompt, inherited.seed) == ("generated", "red sneaker", 5)
    second = export(RECIPE.apply(load_image(first)), tmp_path / "gen-edited.webp", provenance=inherited)
    assert read_metadata(second)["digital_source_type"] == GENERATED
    plain = tmp_path / "plain.png"
    product_photo((40, 30)).save(plain)
    assert Provenance.inherit(plain, RECIPE).digital_source_type is None


def swapped_red_blue_profile() -> bytes:
    """sRGB's ICC profile with the red and blue primaries (colorant and curve tags) exchanged: pixels stored
    as (200, 20, 20) in it are blue in sRGB. A profile that makes conversion visible."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(icc[128:132], "big")
    entries = {bytes(icc[132 + 12 * i: 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    for a, b in ((b"rXYZ", b"bXYZ"), (b"rTRC", b"bTRC")):
        ia, ib = entries[a], entries[b]
        icc[ia + 4: ia + 12], icc[ib + 4: ib + 12] = icc[ib + 4: ib + 12], icc[ia + 4: ia + 12]
    return bytes(icc)


def test_an_upload_with_a_foreign_icc_profile_is_converted_and_exported_as_srgb(tmp_path):
    source = tmp_path / "swapped.png"
    Image.new("RGB", (8, 8), (200, 20, 20)).save(source, icc_profile=swapped_red_blue_profile())
    loaded = load_image(source)
    r, g, b = loaded.getpixel((0, 0))
    assert b > 150 and r < 80                                          # converted, not read as sRGB
    again = Image.open(export(loaded, tmp_path / "out.png"))
    assert again.getpixel((0, 0)) == (r, g, b)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(again.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)


def test_large_recipes_are_named_by_hash_in_jpeg_and_kept_whole_in_the_sidecar(tmp_path):
    texture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (160, 160, 3), dtype=np.uint8))
    big = Recipe.from_json([{"op": "background", "background": {"kind": "texture", "texture": encode_png(texture)}}])
    assert len(big.to_json()) > INLINE_RECIPE_LIMIT
    path = export(product_photo((40, 30)), tmp_path / "big.jpg", provenance=Provenance(recipe=big))
    found = read_metadata(path)
    assert found["recipe"] is None and len(found["recipe_sha256"]) == 64
    assert Recipe.from_json(json.loads(sidecar_path(path).read_text())["recipe"]) == big


def test_infotext_quotes_values_that_would_break_the_line():
    text = infotext(Provenance(prompt="a, b", model="m:1", seed=3), (10, 20))
    fields = parse_infotext(text)
    assert fields["Model"] == "m:1" and fields["Seed"] == "3" and fields["Size"] == "10x20"
    assert fields["prompt"] == "a, b"


def test_jpeg_flattens_transparency_on_white_and_bad_requests_fail(tmp_path):
    cut = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert Image.open(export(cut, tmp_path / "c.jpg")).getpixel((5, 5)) == (255, 255, 255)
    assert Image.open(export(cut, tmp_path / "c.webp")).mode == "RGBA"
    with pytest.raises(ValueError, match="format"):
        export(cut, tmp_path / "c.tga")
    with pytest.raises(ValueError, match="quality"):
        export(cut, tmp_path / "c.jpg", quality=0)
    with pytest.raises(ValueError, match="origin"):
        Provenance("scanned")
