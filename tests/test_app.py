"""The app through gradio_client against a real local server: every public endpoint, and the API surface."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import product_photo, write_gan, write_stylenet, write_upscaler, write_vae
from PIL import Image

from studio.edits.export import read_metadata

gradio_client = pytest.importorskip("gradio_client")


def tiny_weights(root: Path) -> Path:
    write_gan(root / "gan-tiny")
    write_vae(root / "vae-tiny", sharpen=False)
    write_vae(root / "vae-views", seed=3, catalog="furniture-views")       # knows views: other angles
    write_upscaler(root / "upscaler-x2")
    write_stylenet(root / "style-live")
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio-tmp")))
    from app import build_demo
    from studio import Studio
    from studio.review import Board

    root = tmp_path_factory.mktemp("app")
    demo = build_demo(Studio(tiny_weights(root / "weights")), Board(root / "data"), root / "exports")
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=None,
                            max_file_size="50mb", run_history=False)
    client = gradio_client.Client(url, verbose=False, analytics_enabled=False,
                                  download_files=str(tmp_path_factory.mktemp("downloads")))
    yield demo, url, client
    client.close()
    demo.close()


@pytest.fixture()
def photo_file(tmp_path):
    path = tmp_path / "boot.jpg"
    product_photo((120, 90)).save(path, quality=95)
    return path


def test_public_endpoints_are_exactly_the_scriptable_ones(server):
    _, _, client = server
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert names == {"/generate", "/edit", "/repair", "/stylize", "/export", "/upscale", "/cutout", "/board_items",
                     "/board_decide", "/board_history", "/other_angles"}


def test_cutout_gives_a_transparent_png_of_the_same_size(server, photo_file):
    _, _, client = server
    out = Image.open(client.predict(gradio_client.handle_file(str(photo_file)), api_name="/cutout"))
    assert out.mode == "RGBA" and out.size == (120, 90)
    alpha = np.asarray(out.getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255                  # background gone, product kept
    assert alpha[45, 60] == 255 and alpha[2, 2] == 0                # the photo's ellipse is centred
    assert read_metadata(out.filename)["recipe"].steps[0]["op"] == "background"


def test_upscale_names_the_model_and_gives_the_exact_size(server, photo_file):
    _, _, client = server
    out = client.predict(gradio_client.handle_file(str(photo_file)), 2, "model", "png", api_name="/upscale")
    assert Image.open(out).size == (240, 180)
    found = read_metadata(out)
    assert found["recipe"].steps == ({"op": "upscale", "factor": 2, "method": "upscaler-x2"},)
    assert found["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    out = client.predict(gradio_client.handle_file(str(photo_file)), 4, "lanczos", "jpeg", api_name="/upscale")
    assert Image.open(out).size == (480, 360) and read_metadata(out)["digital_source_type"] is None
    with pytest.raises(Exception, match="no upscaler named .{1,6}upscaler-x4.{1,6} here; available: bicubic, "
                                        "lanczos, upscaler-x2"):
        client.predict(gradio_client.handle_file(str(photo_file)), 4, "model", "png", api_name="/upscale")
    with pytest.raises(Exception, match="factor must be a whole number from 2 to 4"):
        client.predict(gradio_client.handle_file(str(photo_file)), 8, "lanczos", "png", api_name="/upscale")


def test_other_angles_are_the_chosen_variant_from_each_view(server):
    import zipfile

    from studio.data.views import LABELS, parse_view

    _, _, client = server
    prompt = "a grey sofa on a white background, seen from the front"
    gallery, seed, *_ = client.predict(prompt, "vae-views", 3, 5, False, 1.0, api_name="/generate")
    archive = client.predict(prompt, 5, 2, 3, "", "vae-views", 1.0, api_name="/other_angles")
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert [row["view"] for row in manifest] == list(LABELS)
        assert all(parse_view(row["prompt"]) == row["view"] and row["variant"] == 2 for row in manifest)
        front = Image.open(z.open(manifest[0]["file"])).convert("RGB")
    from ui.common import display

    second = np.asarray(Image.open(gallery[1]["image"]).convert("RGB"), float)
    assert np.abs(np.asarray(display(front), float) - second).max() <= 2      # the strip's front is variant #2
    some = client.predict(prompt, 5, 1, 3, "side, top", "", 1.0, api_name="/other_angles")
    with zipfile.ZipFile(some) as z:
        assert [row["view"] for row in json.loads(z.read("manifest.json"))] == ["side", "top"]
    for bad, match in (((prompt, 5, 4, 3, "", "", 1.0), "variant"), ((prompt, 5, 1, 3, "sideways", "", 1.0), "view"),
                       ((prompt, 5, 1, 3, "", "vae-tiny", 1.0), "other angles"),
                       ((prompt, 5, 1, 3, "", "", 1.0, 0), "steps"), ((prompt, 5, 1, 3, "", "", 1.0, 20, 11), "guidance")):
        with pytest.raises(Exception, match=match):
            client.predict(*bad, api_name="/other_angles")


def test_generate_returns_the_variants_and_the_seed(server):
    _, _, client = server
    gallery, seed, note, *_ = client.predict("navy ankle boot on a cream background", "gan-tiny", 3, 11, False, 1.0,
                                             api_name="/generate")
    assert len(gallery) == 3 and seed == 11 and "11" in note
    again = client.predict("navy ankle boot on a cream background", "gan-tiny", 3, 11, False, 1.0,
                           api_name="/generate")[0]
    first = np.asarray(Image.open(gallery[0]["image"]))
    assert np.array_equal(first, np.asarray(Image.open(again[0]["image"])))
    with pytest.raises(Exception, match="empty"):
        client.predict("   ", "gan-tiny", 2, 1, False, 1.0, api_name="/generate")
    # a merchant who writes in Chinese is answered in Chinese, the details kept
    with pytest.raises(Exception, match="未知的模型 .*gan-none.*可用的模型："):
        client.predict("红色运动鞋", "gan-none", 2, 1, False, 1.0, api_name="/generate")
    from_vae = client.predict("red sneaker", "vae-tiny", 2, 3, False, 1.0, api_name="/generate")
    assert len(from_vae[0]) == 2 and from_vae[1] == 3


def test_edit_applies_a_recipe_and_writes_metadata(server, photo_file):
    _, _, client = server
    recipe = [{"op": "adjust", "brightness": 1.2}, {"op": "crop", "aspect": "1:1"}]
    out = client.predict(gradio_client.handle_file(str(photo_file)), json.dumps(recipe), "png", 95, api_name="/edit")
    image = Image.open(out)
    assert image.size == (90, 90)
    found = read_metadata(out)
    assert found["recipe"].steps[0]["brightness"] == 1.2 and found["digital_source_type"] is None
    with pytest.raises(Exception, match="unknown operation"):
        client.predict(gradio_client.handle_file(str(photo_file)), '[{"op": "melt"}]', "png", 95, api_name="/edit")


def test_a_browser_that_asks_for_chinese_gets_its_refusals_in_chinese(server, tmp_path):
    _, url, english = server
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    chinese = gradio_client.Client(url, verbose=False, analytics_enabled=False, download_files=str(tmp_path),
                                   headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    try:
        with pytest.raises(Exception, match="notes.png 不是本工具能读取的图片格式"):
            chinese.predict(gradio_client.handle_file(str(text)), "[]", "png", 95, api_name="/edit")
        with pytest.raises(Exception, match="第 1 步：未知的操作"):      # details kept
            chinese.predict(gradio_client.handle_file(str(text)), '[{"op": "melt"}]', "png", 95, api_name="/edit")
    finally:
        chinese.close()
    with pytest.raises(Exception, match="notes.png is not an image format"):
        english.predict(gradio_client.handle_file(str(text)), "[]", "png", 95, api_name="/edit")


def test_repair_and_stylize_and_export(server, photo_file, tmp_path):
    _, _, client = server
    mask = np.zeros((90, 120), np.uint8)
    mask[40:50, 50:60] = 255
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask).save(mask_path)
    repaired = np.asarray(Image.open(client.predict(gradio_client.handle_file(str(photo_file)),
                                                    gradio_client.handle_file(str(mask_path)), "telea",
                                                    api_name="/repair")).convert("RGB"))
    original = np.asarray(Image.open(photo_file).convert("RGB"))
    assert np.array_equal(repaired[mask == 0], original[mask == 0])
    reference = tmp_path / "warm.png"
    Image.new("RGB", (16, 16), (220, 120, 40)).save(reference)
    styled = client.predict(gradio_client.handle_file(str(photo_file)), gradio_client.handle_file(str(reference)),
                            "reinhard", 1.0, "all", api_name="/stylize")
    assert np.asarray(Image.open(styled).convert("RGB")).mean(axis=(0, 1))[0] > original.mean(axis=(0, 1))[0]
    neural = client.predict(gradio_client.handle_file(str(photo_file)), gradio_client.handle_file(str(reference)),
                            "neural", 1.0, "all", api_name="/stylize")
    found = read_metadata(neural)
    assert Image.open(neural).size == Image.open(photo_file).size
    assert found["recipe"].steps[0]["op"] == "neural_style" and "stats" in found["recipe"].steps[0]   # no file
    assert found["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert np.asarray(Image.open(neural).convert("RGB")).mean(axis=(0, 1))[0] > original.mean(axis=(0, 1))[0]
    live = client.predict(gradio_client.handle_file(str(photo_file)), gradio_client.handle_file(str(reference)),
                          "live", 0.5, "background", api_name="/stylize")
    step = read_metadata(live)["recipe"].steps[0]
    assert (step["method"], step["strength"], step["region"]) == ("style-live", 0.5, "background")
    assert Image.open(live).size == Image.open(photo_file).size
    house = client.predict(gradio_client.handle_file(str(photo_file)), None, "live", 0.5, "background", "linen",
                           api_name="/stylize")
    step = read_metadata(house)["recipe"].steps[0]
    assert (step["house"], step["method"], "stats" in step) == ("linen", "style-live", False)
    for args, message in (((None, "reinhard", 1.0, "all", "linen"), "use method neural or live"),
                          ((None, "live", 1.0, "all", "velvet"), "unknown house style .*velvet"),
                          ((None, "live", 1.0, "all"), "upload a style reference photo, or name a house style")):
        with pytest.raises(gradio_client.exceptions.AppError, match=message):
            client.predict(gradio_client.handle_file(str(photo_file)), *args, api_name="/stylize")
    with pytest.raises(gradio_client.exceptions.AppError, match="method must be one of reinhard, histogram, neural, live"):
        client.predict(gradio_client.handle_file(str(photo_file)), gradio_client.handle_file(str(reference)),
                       "sparkle", 0.5, "all", api_name="/stylize")
    exported = client.predict(gradio_client.handle_file(str(photo_file)), "jpeg", 90, "amazon-main", "navy boot", 5,
                              "gan-tiny", api_name="/export")
    found = read_metadata(exported)
    assert Image.open(exported).size == (2000, 2000)
    assert (found["prompt"], found["seed"], found["digital_source_type"]) == ("navy boot", 5,
                                                                            "trainedAlgorithmicMedia")


def test_no_work_at_import_and_a_clear_page_without_generators(tmp_path):
    import subprocess
    import sys

    import gradio as gr

    probe = "import sys, app; print('torch' in sys.modules, hasattr(app, 'demo'))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.split() == ["False", "False"], done.stderr          # no model, no demo built on import
    from app import build_demo
    from studio import Studio
    from studio.review import Board

    demo = build_demo(Studio(tmp_path / "empty"), Board(tmp_path / "data"), tmp_path / "exports")
    texts = [block.value for block in demo.blocks.values() if isinstance(block, gr.Markdown)]
    assert any("No generator is installed" in (t or "") for t in texts)
    button = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "generate-button")
    assert button.interactive is False
