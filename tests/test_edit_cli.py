import json

import numpy as np
import pytest
from PIL import Image

from conftest import product_photo
from studio.__main__ import main
from studio.edits.batch import MANIFEST
from studio.edits.export import read_metadata
from studio.edits.recipe import Recipe

STEPS = [{"op": "adjust", "brightness": 1.1, "contrast": 1.2}, {"op": "crop", "aspect": "1:1"},
         {"op": "resize", "longest": 40}]


@pytest.fixture()
def shop(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(49):
        product_photo((48, 36), seed=i).save(folder / f"item{i:02d}.{'png' if i % 2 else 'jpg'}")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps(STEPS))
    return folder, recipe


def test_batch_edit_of_50_images_with_one_corrupt(shop, tmp_path, capsys):
    folder, recipe = shop
    out = tmp_path / "edited"
    code = main(["edit", "--recipe", str(recipe), str(folder), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert code == 1
    assert len(errors) == 1 and "broken.jpg" in errors[0] and "corrupt" in errors[0]
    images = sorted(p for p in out.iterdir() if not p.name.endswith(".json") and p.name != MANIFEST)
    assert len(images) == 49
    assert "edited 49 of 50 images" in captured.out and "1 failed" in captured.out
    first = Image.open(out / "item01.png")
    assert first.size == (40, 40) and first.format == "PNG"
    assert Image.open(out / "item00.jpg").format == "JPEG"                    # the input's format kept
    assert read_metadata(out / "item01.png")["recipe"] == Recipe.from_json(STEPS)
    expected = Recipe.from_json(STEPS).apply(Image.open(folder / "item01.png").convert("RGB"))
    assert np.array_equal(np.asarray(first.convert("RGB")), np.asarray(expected))


def test_batch_never_overwrites_inputs_or_earlier_outputs(shop, tmp_path, capsys):
    folder, recipe = shop
    code = main(["edit", "--recipe", str(recipe), str(folder / "item01.png"), "--out", str(folder), "--quiet",
                 "--overwrite"])
    assert code == 1 and "overwrite an input" in capsys.readouterr().err
    before = (folder / "item01.png").read_bytes()
    assert main(["edit", "--recipe", str(recipe), str(folder / "item01.png"), "--out", str(folder), "--quiet"]) == 0
    assert (folder / "item01.png").read_bytes() == before and (folder / "item01-1.png").is_file()
    out = tmp_path / "again"
    for _ in range(2):                                     # the same work again: done already, skipped
        assert main(["edit", "--recipe", str(recipe), str(folder / "item01.png"), "--out", str(out),
                     "--format", "webp", "--quiet"]) == 0
    assert "1 already done" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("*.webp")) == ["item01.webp"]
    assert main(["edit", "--recipe", str(recipe), str(folder / "item01.png"), "--out", str(out),
                 "--format", "webp", "--quality", "80", "--quiet"]) == 0          # other work: a new name
    assert sorted(p.name for p in out.glob("*.webp")) == ["item01-1.webp", "item01.webp"]


def test_bad_recipe_files_are_clear_errors(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"op": "sharpen"}]')
    assert main(["edit", "--recipe", str(bad), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown operation 'sharpen'" in capsys.readouterr().err
    assert main(["edit", "--recipe", str(tmp_path / "missing.json"), str(tmp_path), "--out", "o"]) == 2


def test_bad_pool_and_cluster_settings_are_clear_errors(shop, tmp_path, capsys):
    folder, recipe = shop
    assert main(["edit", "--recipe", str(recipe), str(folder), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "workers must be a whole number in 1..64" in capsys.readouterr().err
    pytest.importorskip("distributed")
    assert main(["edit", "--recipe", str(recipe), str(folder), "--out", str(tmp_path / "o"), "--quiet",
                 "--scheduler", "localhost:8786"]) == 2
    assert "looks like tcp://host:8786" in capsys.readouterr().err
    assert not (tmp_path / "o" / "item01.png").exists()


def test_a_file_named_but_not_finished_by_a_stopped_run_gets_its_name_again(shop, tmp_path, capsys):
    folder, recipe = shop
    out = tmp_path / "o"
    inputs = [str(folder / "item01.png"), str(folder / "item03.png")]
    assert main(["edit", "--recipe", str(recipe), *inputs, "--out", str(out), "--quiet", "--workers", "1"]) == 0
    manifest = out / MANIFEST
    lines = manifest.read_text().splitlines()
    assert [json.loads(line)["state"] for line in lines] == ["planned", "planned", "done", "done"]
    # as if killed while writing item03.png: its name reserved, no "done" line, a temporary file left
    manifest.write_text("\n".join(lines[:3]) + "\n")
    (out / "item03.png").unlink()
    (out / ".item03.png.k1ll3d.tmp").write_bytes(b"half")
    capsys.readouterr()
    assert main(["edit", "--recipe", str(recipe), *inputs, "--out", str(out), "--quiet", "--workers", "1"]) == 0
    assert "1 already done" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("*.png")) == ["item01.png", "item03.png"]
    assert not list(out.glob(".*.tmp"))
