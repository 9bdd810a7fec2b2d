"""The app in a real browser (Debian's Chromium driven by Playwright): a merchant's whole path.

Screenshots of each stage go to $STUDIO_ARTIFACTS (default runs/browser-test/) for a human to look at.
"""

import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import write_gan, write_inpainter, write_stylenet, write_upscaler
from PIL import Image

from studio.edits.export import read_metadata
from studio.edits.neural_style import LIVE_STRENGTH, QUALITY_STRENGTH

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")
ARTIFACTS = Path(os.environ.get("STUDIO_ARTIFACTS", Path(__file__).resolve().parents[1] / "runs" / "browser-test"))
TIMEOUT = 30_000
sync_api.expect.set_options(timeout=20_000)         # the first generate loads the text encoder


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import build_demo
    from studio import Studio
    from studio.review import Board

    root = tmp_path_factory.mktemp("browser-app")
    write_gan(root / "weights" / "gan-tiny")
    write_upscaler(root / "weights" / "upscaler-x2")
    write_upscaler(root / "weights" / "upscaler-x4", scale=4)
    write_stylenet(root / "weights" / "style-live")
    write_inpainter(root / "weights" / "inpaint-photos")
    demo = build_demo(Studio(root / "weights"), Board(root / "data"), root / "exports")
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", run_history=False)
    yield url, demo
    demo.close()


@pytest.fixture(scope="module")
def page():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT)
        yield tab
        context.close()
        browser.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextlib.contextmanager
def served(root: Path):
    """The app on the generator folders under root/weights (its board and exports beside them): its URL."""
    from app import build_demo
    from studio import Studio
    from studio.review import Board

    demo = build_demo(Studio(root / "weights"), Board(root / "data"), root / "exports")
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", run_history=False)
    try:
        yield url
    finally:
        demo.close()


def test_a_merchant_generates_edits_repairs_reviews_and_downloads(app_url, page, tmp_path):
    expect = sync_api.expect
    url, demo = app_url
    page.goto(url)
    page.locator("#your-name textarea, #your-name input").first.fill("Ana")

    # 1. describe a product, ask for 3 variants with a fixed seed
    page.locator("#prompt textarea").fill("navy ankle boot on a cream background")
    page.locator("#count input[type=number]").fill("3")
    page.locator("#count input[type=number]").press("Enter")
    page.locator("#random-seed input[type=checkbox]").uncheck()
    page.locator("#seed input").fill("42")
    page.locator("#generate-button").click()
    expect(page.locator("#used-seed")).to_contain_text("42")
    expect(page.locator("#variants img")).to_have_count(3)
    shot(page, "1-variants")

    # 1b. all variants as a zip: each as generated and x4 by the trained upscaler, which its file names
    page.get_by_role("button", name="Prepare all variants as a zip").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download all variants").click()
    bundle = tmp_path / "variants.zip"
    download.value.save_as(bundle)
    import json
    import zipfile

    with zipfile.ZipFile(bundle) as archive:
        rows = json.loads(archive.read("manifest.json"))
        archive.extractall(tmp_path / "variants")
    assert len(rows) == 6 and sum(r["file"].endswith("-x4.png") for r in rows) == 3
    for plain, big in zip(rows[::2], rows[1::2]):
        assert big["file"] == plain["file"].replace(".png", "-x4.png")
        small_size = Image.open(tmp_path / "variants" / plain["file"]).size
        assert Image.open(tmp_path / "variants" / big["file"]).size == (4 * small_size[0], 4 * small_size[1])
        assert read_metadata(tmp_path / "variants" / plain["file"])["recipe"].steps == ()
        assert read_metadata(tmp_path / "variants" / big["file"])["recipe"].steps == (
            {"op": "upscale", "factor": 4, "method": "upscaler-x4"},)

    # 2. pick one and open it in the editor
    page.locator("#variants img").nth(1).click()
    page.locator("#edit-variant").click()
    preview = page.locator("#preview img")
    expect(preview).to_be_visible()
    before = preview.get_attribute("src")

    # 3. move the brightness slider: the preview follows
    page.locator("#slider-brightness input[type=range]").fill("1.8")
    expect(preview).not_to_have_attribute("src", before)
    page.locator("#slider-brightness input[type=range]").dispatch_event("pointerup")
    expect(page.locator("#history")).to_contain_text("brightness 1.80")
    shot(page, "2-brightness")

    # 4. paint a mask on the repair canvas and repair
    page.get_by_text("Repair: paint over a blemish").click()
    page.locator("#load-repair").click()
    canvas = page.locator("#repair canvas").first
    expect(canvas).to_be_visible()
    page.wait_for_timeout(500)
    shot(page, "3a-repair-canvas")
    brush = page.get_by_label("Brush")
    if brush.count():
        brush.first.click()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    page.locator("#repair-button").click()
    expect(page.locator("#history")).to_contain_text("Repair (inpaint-photos)")    # the photo inpainter: first
    shot(page, "3-repair")

    # 5. download a PNG and check what it says about itself
    page.locator("#export-button").click()
    download_button = page.locator("#download")
    expect(download_button).to_be_visible()
    with page.expect_download() as pending:
        download_button.click()
    saved = tmp_path / pending.value.suggested_filename
    pending.value.save_as(saved)
    found = read_metadata(saved)
    assert Image.open(saved).format == "PNG"
    assert found["prompt"] == "navy ankle boot on a cream background" and found["seed"] == 42
    assert found["digital_source_type"] == "trainedAlgorithmicMedia"
    assert [s["op"] for s in found["recipe"].steps] == ["adjust", "repair"]

    # 6. save the edit to the board, approve it there
    page.locator("#save-edit").click()
    page.get_by_role("tab", name="Review board").click()
    page.locator("#refresh-board").click()
    expect(page.locator("#board img")).to_have_count(1)
    page.locator("#board img").first.click()
    expect(page.locator("#item-details")).to_contain_text("pending")
    page.locator("#approve").click()
    expect(page.locator("#item-details")).to_contain_text("approved by Ana")
    # a comment is text: markup in it is shown, never rendered, and the box is cleared for the next one
    page.locator("#comment textarea").fill('<img src=x onerror="window.hacked=1"> looks *great*')
    page.locator("#add-comment").click()
    expect(page.locator("#item-details")).to_contain_text('<img src=x onerror="window.hacked=1"> looks *great*')
    expect(page.locator("#item-details img")).to_have_count(0)
    expect(page.locator("#comment textarea")).to_have_value("")
    assert page.evaluate("window.hacked") is None
    shot(page, "4-board")
    assert demo.board.items(status="approved")[0].approvals == ("Ana",)
    expect(page.locator("#item-details")).to_contain_text("Ana (unverified)")


def test_a_merchant_uploads_a_photo_checks_amazon_rules_and_fixes_them(app_url, page, tmp_path):
    from conftest import product_photo

    expect = sync_api.expect
    url, _ = app_url
    # a broken file first: a clear message, nothing else happens
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    page.goto(url)
    page.get_by_role("tab", name="Edit").click()
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    expect(page.get_by_text("is not an image format this studio reads").first).to_be_visible()
    # then a real photo on an off-white backdrop: check, fix, check again
    photo = tmp_path / "boot.jpg"
    product_photo((900, 600), background=(235, 232, 225)).save(photo, quality=92)
    page.goto(url)
    page.get_by_role("tab", name="Edit").click()
    page.locator("#upload input[type=file]").set_input_files(str(photo))
    expect(page.locator("#preview img")).to_be_visible()
    page.get_by_text("Layout: rotate, flip, crop, marketplace presets").click()
    page.get_by_role("button", name="Check the rules").click()
    report = page.locator("#preset-report")
    expect(report).to_contain_text("2000x2000")
    expect(report).to_contain_text("85%")
    page.get_by_role("button", name="Fix to the preset").click()
    expect(page.locator("#history")).to_contain_text("Preset amazon-main")
    expect(page.locator("#history")).to_contain_text("Upscale x4 (upscaler-x4)")  # 900x600 is too small for 2000
    expect(report).to_contain_text("first enlarged x4 with upscaler-x4 (the trained upscaler)")
    page.get_by_role("button", name="Check the rules").click()
    expect(report).to_contain_text("Meets every Amazon main image rule")
    shot(page, "5-upload-amazon")
    # a busy night photo whose cut-out would be four sparkles: the fix is refused with the reason, and the
    # page keeps showing the photo and its history (no red "Error" over every control)
    from test_hardening import busy_photo

    night = tmp_path / "night.png"
    busy_photo().save(night)
    page.goto(url)
    page.get_by_role("tab", name="Edit").click()
    page.locator("#upload input[type=file]").set_input_files(str(night))
    expect(page.locator("#image-info")).to_contain_text("320x240 px")
    page.get_by_text("Layout: rotate, flip, crop, marketplace presets").click()
    page.get_by_role("button", name="Flip horizontally").click()
    expect(page.locator("#history")).to_contain_text("Flip horizontal")
    page.get_by_role("button", name="Fix to the preset").click()
    expect(page.get_by_text("cannot be cut out of this background reliably").first).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Flip horizontal")
    expect(page.locator("#history")).not_to_contain_text("Upscale")         # the refused fix left nothing
    expect(page.locator("#preview img")).to_be_visible()
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    shot(page, "5b-fix-refused")
    # enlarged twice with the trained upscaler: the history names it, the size doubles exactly
    expect(page.locator("#upscale-factor")).to_contain_text("trained upscaler (x2, x4)")
    page.get_by_role("button", name="Enlarge").click()
    expect(page.locator("#history")).to_contain_text("Upscale x2 (upscaler-x2)")
    expect(page.locator("#image-info")).to_contain_text("640x480 px")
    shot(page, "5c-enlarged")
    # a live neural style: the preview follows the strength slider before anything is recorded, then the
    # button records one step naming the network
    reference = tmp_path / "linen.png"
    Image.effect_noise((64, 64), 60).convert("RGB").save(reference)
    page.get_by_text("Style", exact=True).click()
    page.locator("#style-reference input[type=file]").set_input_files(str(reference))
    expect(page.locator("#neural-method")).to_contain_text("live (style-live)")
    # the strength starts where each method was chosen on validation pairs, and follows the method
    strength = page.locator("#neural-strength input[type=number]")
    expect(strength).to_have_value(_number(LIVE_STRENGTH))
    page.locator("#neural-method").get_by_text("quality (slow)").click()
    expect(strength).to_have_value(_number(QUALITY_STRENGTH))
    page.locator("#neural-method").get_by_text("live (style-live)").click()
    expect(strength).to_have_value(_number(LIVE_STRENGTH))
    before = page.locator("#preview img").get_attribute("src")
    page.locator("#neural-strength input[type=range]").fill("0.4")
    expect(page.locator("#preview img")).not_to_have_attribute("src", before)
    expect(page.locator("#history")).not_to_contain_text("Neural style")
    page.get_by_role("button", name="Restyle with these textures").click()
    expect(page.locator("#history")).to_contain_text("Neural style (style-live) 40%")
    shot(page, "5d-live-style")
    # a house style instead of the upload: no photo needed, the history names it
    page.locator("#house-style input").click()
    page.get_by_role("option", name="marble", exact=True).click()
    page.get_by_role("button", name="Restyle with these textures").click()
    expect(page.locator("#history")).to_contain_text("Neural style (style-live, house style marble) 40%")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    shot(page, "5e-house-style")


def _number(value: float):
    """What a number box shows for `value`, with or without trailing zeros (1, 1.0, 0.9, 0.90)."""
    whole, _, fraction = f"{value:g}".partition(".")
    return re.compile(rf"^{whole}(\.{fraction}0*)?$" if fraction else rf"^{whole}(\.0*)?$")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_transparent_cut_out_is_edited_downloaded_with_alpha_and_survives_a_restart(page, tmp_path):
    """An RGBA product PNG: the preview shows it on a checkerboard, steps keep the alpha, the PNG download
    has it; then the server restarts and a reload finds the same photo and history."""
    import numpy as np

    from app import build_demo
    from studio import Studio
    from studio.review import Board

    expect = sync_api.expect
    rgba = np.zeros((300, 400, 4), np.uint8)
    rgba[60:240, 120:280] = (200, 60, 40, 255)
    cut_out = tmp_path / "red-bag.png"
    Image.fromarray(rgba, "RGBA").save(cut_out)
    port, data = _free_port(), tmp_path / "data"

    def start():
        demo = build_demo(Studio(tmp_path / "no-weights"), Board(data), tmp_path / "exports")
        _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port,
                                run_history=False)
        return demo, url

    demo, url = start()
    try:
        page.goto(url)
        page.get_by_role("tab", name="Edit").click()
        page.locator("#upload input[type=file]").set_input_files(str(cut_out))
        expect(page.locator("#image-info")).to_contain_text("checkerboard")
        page.locator("#slider-brightness input[type=range]").fill("1.3")
        page.locator("#slider-brightness input[type=range]").dispatch_event("pointerup")
        expect(page.locator("#history")).to_contain_text("brightness 1.30")
        page.get_by_text("Layout: rotate, flip, crop, marketplace presets").click()
        page.get_by_role("button", name="Rotate left").click()
        expect(page.locator("#history")).to_contain_text("Rotate 90")
        expect(page.locator("#image-info")).to_contain_text("300x400 px")
        # the slider still shows the brightness that applies, and moving it changes that step in place
        expect(page.locator("#slider-brightness input[type=number]")).to_have_value("1.3")
        page.locator("#slider-brightness input[type=range]").fill("1.4")
        page.locator("#slider-brightness input[type=range]").dispatch_event("pointerup")
        expect(page.locator("#history")).to_contain_text(re.compile(r"Adjust: brightness 1\.40\s+Rotate 90"))
        page.locator("#undo").click()
        expect(page.locator("#history")).to_contain_text(re.compile(r"Adjust: brightness 1\.30\s+Rotate 90"))
        shot(page, "6-transparent-edit")
        page.locator("#export-button").click()
        with page.expect_download() as pending:
            page.locator("#download").click()
        saved = tmp_path / pending.value.suggested_filename
        pending.value.save_as(saved)
        assert saved.name == "red-bag-edited.png"
        with Image.open(saved) as downloaded:
            assert downloaded.mode == "RGBA" and downloaded.size == (300, 400)
            assert np.asarray(downloaded)[..., 3].min() == 0
        # a further edit makes the prepared file stale: the download button goes away
        page.get_by_role("button", name="Flip horizontally").click()
        expect(page.locator("#history")).to_contain_text("Flip horizontal")
        expect(page.locator("#download")).to_be_hidden()
    finally:
        demo.close()
    demo, url = start()                                 # the same port: localStorage belongs to the origin
    try:
        page.goto(url)
        page.get_by_role("tab", name="Edit").click()
        expect(page.locator("#history")).to_contain_text("brightness 1.30")
        expect(page.locator("#history")).to_contain_text("Flip horizontal")
        expect(page.locator("#preview img")).to_be_visible()
        page.locator("#undo").click()
        expect(page.locator("#history")).not_to_contain_text("Flip horizontal")
        shot(page, "7-restored-after-restart")
    finally:
        demo.close()


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "weights" / "understand" / "config.json").is_file(),
                    reason="no understanding heads shipped")
def test_a_chinese_prompt_is_understood_and_generates_and_an_unknown_product_is_warned_about(page, tmp_path):
    import shutil

    expect = sync_api.expect
    weights = tmp_path / "weights"
    shutil.copytree(Path(__file__).resolve().parents[1] / "weights" / "understand", weights / "understand")
    write_gan(weights / "gan-tiny", catalog="fashion")
    with served(tmp_path) as url:
        page.goto(url)
        expect(page.locator("#model input")).to_have_value("Auto (follows the prompt)")
        page.locator("#prompt textarea").fill("白色背景上的红色运动鞋")
        # the reading in the merchant's language; the model's own prompt stays English
        expect(page.locator("#understood")).to_contain_text("理解为：红色 · 运动鞋 · 白色背景")
        expect(page.locator("#understood")).to_contain_text("a red sneaker on a white background")
        expect(page.locator("#set-product input")).to_have_value("sneaker")       # the pickers show the reading
        expect(page.locator("#set-color input")).to_have_value("red")
        page.locator("#generate-button").click()
        expect(page.locator("#variants img")).to_have_count(4)
        expect(page.locator("#used-seed")).to_contain_text("gan-tiny")
        shot(page, "7-chinese-prompt")
        page.locator("#prompt textarea").fill("白色背景上的耳机")                  # headphones: no model makes them
        expect(page.locator("#understood")).to_contain_text("耳机：这些模型不认识这种商品")
        page.locator("#prompt textarea").fill("leather wallet, brown, studio shot")
        expect(page.locator("#understood")).to_contain_text("wallet: not a product these models know; nearest:")
        expect(page.locator("#set-product input")).to_have_value("not said: the model chooses")
        expect(page.locator("#set-color input")).to_have_value("brown")
        shot(page, "8-unknown-product")
        # the merchant settles for a bag: set by hand, the colour read stays, and the variants follow
        page.locator("#set-product input").click()
        page.get_by_role("option", name="bag", exact=True).click()
        expect(page.locator("#understood")).to_contain_text("set by hand: category bag")
        expect(page.locator("#understood")).to_contain_text("a brown bag")
        expect(page.locator("#understood")).not_to_contain_text("not a product these models know")
        page.locator("#random-seed input[type=checkbox]").uncheck()
        page.locator("#seed input").fill("5")
        page.locator("#generate-button").click()
        expect(page.locator("#used-seed")).to_contain_text("Seed used: 5 ")
        expect(page.locator("#variants img")).to_have_count(4)
        expect(page.locator("#understood")).to_contain_text("set by hand: category bag")   # what generate used
        shot(page, "9-set-by-hand")
        # editing the description reads it afresh: the hand-set product was for the old words
        page.locator("#prompt textarea").fill("black dress on a white background")
        expect(page.locator("#set-product input")).to_have_value("dress")
        expect(page.locator("#understood")).not_to_contain_text("set by hand")


def test_a_diffusion_model_shows_its_sliders_and_generates_and_varies(page, tmp_path):
    from test_diffusion import write_diffusion

    expect = sync_api.expect
    weights = tmp_path / "weights"
    write_gan(weights / "gan-tiny", catalog="fashion")
    write_diffusion(weights / "diffusion-tiny", default_guidance=2.0)      # the folder's own default guidance
    with served(tmp_path) as url:
        page.goto(url)
        expect(page.locator("#steps")).to_be_visible()
        expect(page.locator("#guidance")).to_be_visible()
        expect(page.locator("#guidance input[type=number]")).to_have_value("2")    # the slider starts there
        page.locator("#model input").click()
        page.get_by_role("option", name="diffusion-tiny", exact=True).click()
        page.locator("#steps input[type=number]").fill("5")
        page.locator("#steps input[type=number]").press("Enter")
        page.locator("#prompt textarea").fill("navy ankle boot on a cream background")
        page.locator("#random-seed input[type=checkbox]").uncheck()
        page.locator("#seed input").fill("3")
        page.locator("#generate-button").click()
        expect(page.locator("#variants img")).to_have_count(4)
        expect(page.locator("#used-seed")).to_contain_text("Seed used: 3 · diffusion-tiny · 5 steps, guidance 2")
        shot(page, "10-diffusion")
        page.locator("#variants img").first.click()
        page.locator("#more-like").click()
        expect(page.locator("#variants")).to_contain_text("like #1")
        expect(page.locator("#variants img")).to_have_count(4)
        shot(page, "11-diffusion-more-like-this")


def test_a_multi_view_diffusion_model_shows_a_variant_from_other_angles(page, tmp_path):
    from test_diffusion import write_diffusion

    expect = sync_api.expect
    weights = tmp_path / "weights"
    write_diffusion(weights / "diffusion-views", catalog="furniture-views")
    with served(tmp_path) as url:
        page.goto(url)
        page.locator("#steps input[type=number]").fill("3")
        page.locator("#steps input[type=number]").press("Enter")
        page.locator("#prompt textarea").fill("a grey sofa on a white background, seen from the front")
        page.locator("#random-seed input[type=checkbox]").uncheck()
        page.locator("#seed input").fill("4")
        page.locator("#generate-button").click()
        expect(page.locator("#variants img")).to_have_count(4)
        page.locator("#variants img").nth(1).click()
        page.locator("#other-angles").click()
        expect(page.locator("#variants img")).to_have_count(6)
        for view in ("#2 · front", "#2 · side", "#2 · top"):
            expect(page.locator("#variants")).to_contain_text(view)
        shot(page, "12-diffusion-other-angles")


def test_a_chinese_browser_reads_a_refusal_in_chinese(app_url, page):
    """The browser's language (Accept-Language, from the context's locale) picks the refusal's language when
    nothing typed says otherwise."""
    url, _ = app_url
    expect = sync_api.expect
    context = page.context.browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT)
        tab.goto(url)
        tab.locator("#back-variants").click()                 # nothing generated yet: nothing to go back to
        expect(tab.locator(".toast-body").first).to_contain_text("没有更早的变体可以返回")
        shot(tab, "14-chinese-refusal")
    finally:
        context.close()
