import json

import pytest
from PIL import Image

from studio.data import CatalogError, FolderCatalog, open_catalog


def make_shop(root, rows, files=("boot.png", "bag.jpg")):
    root.mkdir(parents=True, exist_ok=True)
    for name in files:
        Image.new("RGB", (80, 40), (20, 40, 160)).save(root / name)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (root / "metadata.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_good_folder_loads_with_attributes(tmp_path):
    shop = make_shop(tmp_path / "shop", [
        {"file_name": "boot.png", "text": "navy ankle boot", "color": "navy", "category": "ankle_boot"},
        {"file_name": "bag.jpg", "text": "blue tote bag", "color": None},
    ])
    catalog = FolderCatalog(shop, size=32)
    assert len(catalog) == 2 and catalog.splits == ("train",)
    assert catalog.attributes == ("color", "category")
    assert catalog.label(1) == {"color": None, "category": None}
    sample = catalog[0]
    assert sample.image.size == (32, 32) and sample.image.mode == "RGB"
    assert sample.caption == "navy ankle boot" and sample.labels["color"] == "navy"
    assert open_catalog(str(shop)).name == "shop"


BAD_ROWS = [
    ("{not json", "not valid JSON"),
    ('["a list"]', "expected a JSON object"),
    ({"text": "no file name"}, "missing 'file_name'"),
    ({"file_name": "boot.png", "text": "   "}, "missing or empty 'text'"),
    ({"file_name": "gone.png", "text": "a missing file"}, "no such file"),
    ({"file_name": "notes.png", "text": "not an image"}, "unreadable image"),
    ({"file_name": "cut.png", "text": "truncated image"}, "unreadable image"),
    ({"file_name": "../outside.png", "text": "escapes the folder"}, "inside"),
    ({"file_name": "bag.jpg", "text": "bad attribute", "color": ["red"]}, "must be a string or null"),
]


@pytest.mark.parametrize("row, message", BAD_ROWS)
def test_each_bad_row_is_reported_with_its_line(tmp_path, row, message):
    shop = make_shop(tmp_path / "shop", [{"file_name": "boot.png", "text": "good boot"}, row])
    (shop / "notes.png").write_text("hello")
    full = tmp_path / "full.png"
    Image.effect_noise((64, 64), 50).convert("RGB").save(full)
    (shop / "cut.png").write_bytes(full.read_bytes()[:300])
    (tmp_path / "outside.png").write_bytes(full.read_bytes())
    with pytest.raises(CatalogError, match=r"metadata\.jsonl:2: .*" + message.replace("(", r"\(")):
        FolderCatalog(shop)
    skipped = FolderCatalog(shop, on_error="skip")
    assert len(skipped) == 1 and [p.line for p in skipped.problems] == [2]
    assert message in skipped.problems[0].message


def test_duplicates_and_many_problems_are_all_counted(tmp_path):
    rows = [{"file_name": "boot.png", "text": "boot"}, {"file_name": "boot.png", "text": "again"}]
    rows += [{"file_name": f"gone{i}.png", "text": "x"} for i in range(30)]
    shop = make_shop(tmp_path / "shop", rows)
    with pytest.raises(CatalogError) as info:
        FolderCatalog(shop)
    text = str(info.value)
    assert "31 bad row(s)" in text and "listed twice (first on line 1)" in text and "and 11 more" in text


def test_split_folders_and_missing_metadata(tmp_path):
    make_shop(tmp_path / "shop" / "train", [{"file_name": "boot.png", "text": "boot"}])
    make_shop(tmp_path / "shop" / "test", [{"file_name": "bag.jpg", "text": "bag"}])
    assert FolderCatalog(tmp_path / "shop", split="test")[0].caption == "bag"
    with pytest.raises(ValueError, match="unknown split"):
        FolderCatalog(tmp_path / "shop", split="val")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="metadata.jsonl"):
        FolderCatalog(tmp_path / "empty")
    with pytest.raises(CatalogError, match="does not exist"):
        FolderCatalog(tmp_path / "nowhere")
    with pytest.raises(CatalogError, match="unknown catalog"):
        open_catalog("no-such-catalog")
