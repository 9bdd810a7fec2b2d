import json
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import needs_fashion, needs_furniture
from studio.__main__ import main


def make_shop(root, rows):
    root.mkdir()
    Image.new("RGB", (50, 50), (200, 30, 30)).save(root / "a.png")
    (root / "metadata.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return root


def test_stats_and_preview_on_a_merchant_folder(tmp_path, capsys):
    shop = make_shop(tmp_path / "shop", [{"file_name": "a.png", "text": "red cap", "color": "red"}])
    assert main(["data", "stats", "--catalog", str(shop), "--json", str(tmp_path / "s.json")]) == 0
    assert "train 1" in capsys.readouterr().out
    assert json.loads((tmp_path / "s.json").read_text())["train"]["labels"]["color"] == {"red": 1}
    out = tmp_path / "sheet.png"
    assert main(["data", "preview", "--catalog", str(shop), "--out", str(out), "--tile", "64"]) == 0
    with Image.open(out) as sheet:
        assert sheet.width == 6 * 64


def test_bad_rows_exit_2_with_line_numbers_or_are_skipped_on_request(tmp_path, capsys):
    shop = make_shop(tmp_path / "shop", [{"file_name": "a.png", "text": "red cap"},
                                         {"file_name": "gone.png", "text": "missing"}])
    assert main(["data", "stats", "--catalog", str(shop)]) == 2
    assert "metadata.jsonl:2: gone.png: no such file" in capsys.readouterr().err
    assert main(["data", "stats", "--catalog", str(shop), "--skip-bad-rows"]) == 0
    assert "bad row skipped" in capsys.readouterr().out


def test_help_is_instant_and_imports_nothing_heavy():
    code = ("import sys; from studio.__main__ import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'cv2', 'gradio') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@needs_fashion
def test_fashion_stats_show_real_splits_and_all_labels(tmp_path, capsys):
    assert main(["data", "stats", "--catalog", "fashion", "--json", str(tmp_path / "f.json")]) == 0
    report = json.loads((tmp_path / "f.json").read_text())
    assert {s: r["count"] for s, r in report.items()} == {"train": 55000, "val": 5000, "test": 10000}
    assert len(report["train"]["labels"]["color"]) == 14 and len(report["test"]["labels"]["background"]) == 6
    assert "60,000" in capsys.readouterr().out


@needs_fashion
@needs_furniture
def test_preview_sheets_for_both_catalogs(tmp_path):
    for name in ("fashion", "furniture"):
        out = tmp_path / f"{name}.png"
        assert main(["data", "preview", "--catalog", name, "--n", "12", "--out", str(out)]) == 0
        with Image.open(out) as sheet:
            pixels = np.asarray(sheet.convert("RGB").resize((96, 64))).reshape(-1, 3)
            colours = len(np.unique(pixels, axis=0))
            assert sheet.size[0] == 6 * 160 and colours > 200    # coloured products, not a blank sheet
