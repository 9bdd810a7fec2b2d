import zipfile

import pytest

from conftest import FURNITURE_ROOT, needs_furniture
from studio.data import CatalogError, FurnitureCatalog, open_catalog
from studio.data.furniture import (EXCLUDED_CATEGORIES, category_label, is_test_item, parse_properties,
                                   read_library)
from studio.data.vocab import BACKGROUNDS, hex_to_rgb


def test_parse_properties_handles_java_syntax():
    text = "# comment\n! bang\na=1\nb : two\\\n   three\nc\\=d = e\\u20ac\nf g\nempty=\n"
    assert parse_properties(text) == {"a": "1", "b": "twothree", "c=d": "e\u20ac", "f": "g", "empty": ""}


def test_read_library(tiny_furniture_root):
    items = {it.name: it for it in read_library(tiny_furniture_root / "Test.sh3f")}
    assert set(items) == {"Office chair", "Lamp \u20ac deluxe", "Person"}
    chair = items["Office chair"]
    assert chair.category == "office" and chair.creator == "Alice" and chair.license == "CC-BY-3.0"
    assert chair.tags == ("Seat",)             # provenance tag and the name itself dropped
    assert items["Lamp \u20ac deluxe"].tags == ("Light", "Desk")
    assert "Alice" in chair.credit and "CC-BY-3.0" in chair.credit
    assert category_label("Doors and windows") == "doors_and_windows"


def test_catalog_splits_partition_and_exclusions(tiny_furniture_root):
    train = FurnitureCatalog("train", root=tiny_furniture_root, size=48)
    test = FurnitureCatalog("test", root=tiny_furniture_root, size=48)
    names = [it.name for it in train.items + test.items]
    assert sorted(names) == ["Lamp \u20ac deluxe", "Office chair"]          # 'characters' excluded
    everything = FurnitureCatalog("train", root=tiny_furniture_root, exclude_categories=())
    assert len(everything) + len(FurnitureCatalog("test", root=tiny_furniture_root, exclude_categories=())) == 3
    sample = (train if len(train) else test)[0]
    assert sample.image.size == (48, 48) and sample.image.mode == "RGB"
    assert sample.image.getpixel((0, 0)) == hex_to_rgb(BACKGROUNDS[sample.labels["background"]])
    assert sample.credit and sample.extra["license"] == "CC-BY-3.0"
    assert sample.labels["name"].lower() in sample.caption.lower()       # every template names the item


def test_background_choice_is_deterministic_and_visible(tiny_furniture_root):
    a = FurnitureCatalog("train", root=tiny_furniture_root, seed=3, exclude_categories=())
    b = FurnitureCatalog("train", root=tiny_furniture_root, seed=3, exclude_categories=())
    assert [a.label(i) for i in range(len(a))] == [b.label(i) for i in range(len(b))]
    assert [a[i].caption for i in range(len(a))] == [b[i].caption for i in range(len(b))]
    for i, item in enumerate(a.items):
        if item.name.startswith("Lamp"):                 # near-white render never on white or cream
            assert a.label(i)["background"] not in ("white", "cream", "light_gray")


def test_split_is_a_function_of_the_key_alone():
    keys = [f"Lib/item{i}" for i in range(2000)]
    assert [is_test_item(k) for k in keys] == [is_test_item(k) for k in reversed(keys)][::-1]
    share = sum(map(is_test_item, keys)) / len(keys)
    assert 0.07 < share < 0.13


def test_missing_and_broken_libraries(tmp_path):
    with pytest.raises(CatalogError, match="apt-get install sweethome3d-furniture"):
        FurnitureCatalog(root=tmp_path)
    (tmp_path / "Broken.sh3f").write_bytes(b"not a zip")
    with pytest.raises(CatalogError, match="not a readable Sweet Home 3D library"):
        FurnitureCatalog(root=tmp_path)
    with zipfile.ZipFile(tmp_path / "Broken.sh3f", "w") as z:
        z.writestr("PluginFurnitureCatalog.properties", "name#1=Sofa\nicon#1=/missing.png\n")
    with pytest.raises(CatalogError, match="has no icon"):
        FurnitureCatalog(root=tmp_path)


@needs_furniture
def test_real_sweethome3d_libraries():
    every = [it for lib in sorted(FURNITURE_ROOT.glob("*.sh3f")) for it in read_library(lib)]
    assert len(every) == 820
    kept = [it for it in every if it.category not in EXCLUDED_CATEGORIES]
    train, test = open_catalog("furniture", split="train"), open_catalog("furniture", split="test")
    assert len(train) + len(test) == len(kept)
    assert {it.key for it in train.items}.isdisjoint({it.key for it in test.items})
    assert 0.07 < len(test) / len(kept) < 0.14
    licenses = {it.license for it in every}
    assert licenses == {"CC0-1.0", "CC-BY-3.0"}
    assert all(it.creator for it in every if it.license == "CC-BY-3.0")
    sample = train[0]
    assert sample.image.size == (64, 64) and sample.caption


def test_image_is_the_sample_image(tiny_furniture_root):
    catalog = FurnitureCatalog("train", root=tiny_furniture_root, exclude_categories=())
    for i in range(len(catalog)):
        assert catalog.image(i).tobytes() == catalog[i].image.tobytes()
