"""Product Image Studio, the web app (Gradio 6). Thin over `studio/`: each action is one library call.

    python app.py                                   # http://127.0.0.1:7860, weights from ./weights
    python app.py --host 0.0.0.0 --port 7860 --auth ana:secret --data-dir /srv/studio-data --device cuda
    make demo                                       # set-up, then the same

Scriptable with gradio_client: /generate, /edit, /repair, /stylize and /export are public endpoints; the
UI-only events (previews, selections) are private. Model calls share one queue ("model", one at a time);
cheap edits run in their own ("cpu").
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
from gradio import FileData
from PIL import Image

from studio import load_image
from studio.edits import LOOKS, PRESETS, ColorStats, Provenance, Recipe
from studio.edits.adjust import RANGES
from studio.edits.background import encode_png
from studio.edits.export import export as export_file
from studio.edits.repair import METHODS as REPAIR_METHODS
from studio.edits.session import EditSession
from studio.edits.style import TRANSFERS
from studio.images import ImageLoadError
from studio.review import Board, BoardError

try:                                    # on a ZeroGPU Space, model calls borrow the GPU; elsewhere a no-op
    import spaces

    gpu = spaces.GPU(duration=60)
except ImportError:
    def gpu(fn):
        return fn

# in the shipped models' vocabulary (studio/data/vocab.py): 14 colours, 6 backgrounds, 10 product kinds
EXAMPLES = ["navy ankle boot on a cream background", "red sneaker on a white background",
            "pink dress on a pastel blue background", "yellow handbag, light grey backdrop"]
# for a furniture model (Sweet Home 3D names and rooms)
FURNITURE_EXAMPLES = ["an armchair for the living room, on a cream background", "a bedside table on a light grey background"]
FILTERS = ["all", "pending", "approved", "rejected", "starred"]
EXPORT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WebP": "webp"}
MAX_UPLOAD = "50mb"


def friendly(fn):
    """The one place library errors become messages in the page."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, ImageLoadError, BoardError, FileNotFoundError) as exc:
            raise gr.Error(str(exc)) from None
    return wrapper


def _path(file) -> str:
    """A file input as a path: gradio gives a str, a FileData or a dict depending on the component."""
    if file is None:
        raise ValueError("no file was given")
    if isinstance(file, str):
        return file
    return file["path"] if isinstance(file, dict) else file.path


def _display(image: Image.Image, side: int = 256) -> Image.Image:
    """Generated variants are small (32-64 px): shown enlarged, kept at their own size."""
    if max(image.size) >= side:
        return image
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def _history(session: EditSession | None) -> str:
    if session is None or not session.recipe.steps:
        return "_No edits yet._"
    return "\n".join(f"{i}. {line}" for i, line in enumerate(session.recipe.summaries(), 1))


def _editor_mask(value, size: tuple[int, int]) -> np.ndarray:
    layers = [layer for layer in (value or {}).get("layers") or [] if layer is not None]
    if not layers:
        raise ValueError("draw over the part to repair first (the brush paints the mask)")
    alpha = np.maximum.reduce([np.asarray(layer)[..., 3] for layer in layers])
    if alpha.shape[::-1] != tuple(size):
        alpha = np.asarray(Image.fromarray(alpha).resize(size, Image.Resampling.NEAREST))
    if not (alpha > 0).any():
        raise ValueError("the mask is empty: draw over the part to repair")
    return alpha > 0


def build_demo(studio=None, board: Board | None = None, export_dir: str | Path | None = None) -> gr.Blocks:
    """The whole app around a Studio (models) and a Board (review store). Nothing runs until launch."""
    if studio is None:
        from studio import Studio

        studio = Studio()
    board = board or Board()
    exports = Path(export_dir or tempfile.mkdtemp(prefix="studio-exports-"))
    exports.mkdir(parents=True, exist_ok=True)
    models = studio.models()

    def out_folder() -> Path:
        """A fresh folder per request; folders older than an hour are removed (downloads are fetched at once)."""
        cutoff = time.time() - 3600
        for old in exports.iterdir():
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        folder = exports / uuid.uuid4().hex[:10]
        folder.mkdir(parents=True)
        return folder

    def as_files(images_with_captions, provenances=None) -> list[tuple[str, str]]:
        """Gallery items as PNG files we wrote (with provenance), not PIL images: Gradio copies files into
        its cache atomically, while PIL outputs are rewritten in place, so two users receiving the same
        pixels at the same moment could be served a half-written file."""
        folder = out_folder()
        shown = []
        for i, (image, caption) in enumerate(images_with_captions):
            made = provenances[i] if provenances else None
            path = export_file(image, folder / f"{i:02d}.png", provenance=made, sidecar=False)
            shown.append((str(path), caption))
        return shown

    def reviewer_name(name: str, request: gr.Request | None) -> str:
        user = getattr(request, "username", None) if request is not None else None
        return (user or name or "").strip()

    with gr.Blocks(title="Product Image Studio", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Product Image Studio\nDescribe a product to get image variants, or upload your own photo. "
                    "Edit it with live previews, check it against a marketplace's rules, save it to the team "
                    "board, and download files that carry how they were made.")
        your_name = gr.Textbox(label="Your name (shown on the review board)", placeholder="e.g. Ana",
                               elem_id="your-name", max_lines=1)
        session = gr.State(None)
        variants = gr.State([])

        with gr.Tabs() as tabs:
            # ------------------------------------------------------------------ Generate
            with gr.Tab("Generate", id="generate"):
                if not models:
                    gr.Markdown(f"**No generator is installed** in `{studio.weights}`. Train one with "
                                "`python -m studio train gan --catalog fashion`, then restart. You can still "
                                "upload your own photos on the Edit tab.")
                with gr.Row():
                    with gr.Column(scale=2):
                        prompt = gr.Textbox(label="Product description", elem_id="prompt", max_lines=2,
                                            placeholder="navy ankle boot on a cream background")
                        furniture = any("furniture" in name for name in models)
                        gr.Examples(EXAMPLES + (FURNITURE_EXAMPLES if furniture else []), inputs=prompt,
                                    cache_examples=False)
                    with gr.Column(scale=1):
                        model = gr.Dropdown(models, value=models[0] if models else None, label="Model",
                                            elem_id="model")
                        count = gr.Slider(1, 8, value=4, step=1, label="Variants", elem_id="count")
                        with gr.Row():
                            seed = gr.Number(value=0, precision=0, label="Seed", minimum=0, elem_id="seed")
                            random_seed = gr.Checkbox(value=True, label="Random seed", elem_id="random-seed")
                        truncation = gr.Slider(0.2, 2.0, value=1.0, step=0.05, label="Diversity (noise truncation)")
                generate_button = gr.Button("Generate", variant="primary", interactive=bool(models),
                                            elem_id="generate-button")
                used_seed = gr.Markdown(elem_id="used-seed")
                gallery = gr.Gallery(label="Variants", columns=4, height=320, format="png", allow_preview=False,
                                     elem_id="variants")
                with gr.Row():
                    to_edit = gr.Button("Edit the selected variant", elem_id="edit-variant")
                    to_board = gr.Button("Save the selected variant to the board", elem_id="save-variant")
                    pack = gr.Button("Prepare all variants as a zip")
                    pack_download = gr.DownloadButton("Download all variants", visible=False)
                picked = gr.State(None)
                if studio.has_vae():
                    with gr.Row():
                        likeness = gr.Slider(0.05, 1.0, value=0.4, step=0.05, label="How different (more like this)")
                        more_like = gr.Button("More like the selected variant", elem_id="more-like")
                        partner = gr.Number(value=2, precision=0, minimum=1, maximum=8, label="Blend with variant #")
                        blend_steps = gr.Slider(3, 8, value=5, step=1, label="In-betweens")
                        blend = gr.Button("Blend", elem_id="blend")

            # ------------------------------------------------------------------ Edit
            with gr.Tab("Edit", id="edit"):
                with gr.Row():
                    with gr.Column(scale=1):
                        upload = gr.File(label="Upload a product photo (PNG, JPEG, WebP, GIF, BMP, TIFF)",
                                         file_types=["image"], type="filepath", elem_id="upload")
                        sliders = {name: gr.Slider(low, high, value=neutral, step=0.01, label=name.capitalize(),
                                                   elem_id=f"slider-{name}")
                                   for name, (low, high, neutral) in RANGES.items()}
                        with gr.Row():
                            undo = gr.Button("Undo", elem_id="undo")
                            redo = gr.Button("Redo", elem_id="redo")
                        history = gr.Markdown("_No edits yet._", elem_id="history")
                    with gr.Column(scale=2):
                        preview = gr.Image(label="Preview", interactive=False, format="jpeg", height=460,
                                           elem_id="preview", buttons=[])
                        compare = gr.ImageSlider(label="Before / after", interactive=False, height=360, format="jpeg")
                with gr.Accordion("Layout: rotate, flip, crop, marketplace presets", open=False):
                    with gr.Row():
                        rotate_left = gr.Button("Rotate left")
                        rotate_right = gr.Button("Rotate right")
                        flip = gr.Button("Flip horizontally")
                        aspect = gr.Dropdown(["1:1", "4:5", "3:4", "4:3", "16:9"], value="1:1", label="Crop to")
                        crop = gr.Button("Crop")
                    with gr.Row():
                        preset = gr.Dropdown([(p.label, name) for name, p in PRESETS.items()], value="amazon-main",
                                             label="Marketplace preset", elem_id="preset")
                        check_button = gr.Button("Check the rules")
                        fix_button = gr.Button("Fix to the preset")
                    report = gr.Markdown(elem_id="preset-report")
                with gr.Accordion("Background", open=False):
                    with gr.Row():
                        backdrop = gr.Radio(["color", "gradient", "transparent"], value="color", label="New background")
                        top_colour = gr.ColorPicker("#ffffff", label="Colour (gradient top)")
                        bottom_colour = gr.ColorPicker("#d9dde3", label="Gradient bottom")
                        shadow = gr.Checkbox(True, label="Soft shadow")
                        background_button = gr.Button("Replace the background")
                with gr.Accordion("Style", open=False):
                    with gr.Row():
                        reference = gr.File(label="Style reference photo", file_types=["image"], type="filepath")
                        method = gr.Radio(list(TRANSFERS), value="reinhard", label="Colour transfer")
                        style_region = gr.Radio(["all", "product", "background"], value="product", label="Apply to")
                        strength = gr.Slider(0, 1, value=0.8, step=0.05, label="Strength")
                        style_button = gr.Button("Apply the reference's colours")
                    with gr.Row():
                        look = gr.Dropdown(list(LOOKS), value="detail", label="Look")
                        look_strength = gr.Slider(0, 1, value=0.6, step=0.05, label="Look strength")
                        look_button = gr.Button("Apply the look")
                with gr.Accordion("Repair: paint over a blemish, then repair", open=False):
                    editor = gr.ImageEditor(type="numpy", image_mode="RGBA", format="png", layers=False, transforms=(),
                                            sources=(), label="Paint the area to repair", elem_id="repair",
                                            brush=gr.Brush(colors=["#ff00ff"], default_color="#ff00ff",
                                                           color_mode="fixed", default_size=12), height=420)
                    with gr.Row():
                        load_editor = gr.Button("Load the current image", elem_id="load-repair")
                        repair_method = gr.Radio(list(REPAIR_METHODS), value="telea", label="Method")
                        repair_button = gr.Button("Repair", elem_id="repair-button")
                with gr.Row():
                    export_format = gr.Radio(list(EXPORT_FORMATS), value="PNG", label="Download as", elem_id="format")
                    quality = gr.Slider(50, 100, value=95, step=1, label="JPEG/WebP quality")
                    export_button = gr.Button("Prepare the full-resolution file", elem_id="export-button")
                    download = gr.DownloadButton("Download", visible=False, elem_id="download")
                    save_edit = gr.Button("Save this edit to the board", elem_id="save-edit")

            # ------------------------------------------------------------------ Board
            with gr.Tab("Review board", id="board"):
                with gr.Row():
                    status_filter = gr.Dropdown(FILTERS, value="all", label="Show")
                    refresh = gr.Button("Refresh", elem_id="refresh-board")
                    export_approved = gr.Button("Zip the approved items")
                    approved_download = gr.DownloadButton("Download approved", visible=False)
                board_gallery = gr.Gallery(label="Board", columns=5, height=300, allow_preview=False, format="png",
                                           elem_id="board")
                board_ids = gr.State([])
                chosen = gr.State(None)
                details = gr.Markdown("_Select an item._", elem_id="item-details")
                with gr.Row():
                    approve = gr.Button("Approve", variant="primary", elem_id="approve")
                    reject = gr.Button("Reject", variant="stop", elem_id="reject")
                    star = gr.Button("Star")
                    comment = gr.Textbox(label="Comment", max_lines=3)
                    add_comment = gr.Button("Add comment")
                compare_pick = gr.Dropdown([], multiselect=True, label="Compare side by side (pick two or more)")
                side_by_side = gr.Gallery(label="Side by side", columns=4, height=320, allow_preview=False,
                                          format="png")


        # ================================================================== events
        @friendly
        def run_generate(text, model_name, n, seed_value, random, trunc):
            result = gpu(studio.generate)(text, n=int(n), seed=None if random else int(seed_value or 0),
                                          model=model_name, truncation=float(trunc))
            made = [(image, Provenance("generated", prompt=result.prompt, seed=result.seed, model=result.model,
                                       truncation=float(trunc))) for image in result.images]
            shown = as_files([(_display(image), f"seed {result.seed} · #{i + 1}")
                              for i, image in enumerate(result.images)], [p for _, p in made])
            return shown, result.seed, f"Seed used: **{result.seed}**", made

        seed_out = gr.Number(visible=False)
        generate_button.click(run_generate, [prompt, model, count, seed, random_seed, truncation],
                              [gallery, seed_out, used_seed, variants], api_name="generate",
                              concurrency_id="model", concurrency_limit=1)
        prompt.submit(run_generate, [prompt, model, count, seed, random_seed, truncation],
                      [gallery, seed_out, used_seed, variants], api_visibility="private",
                      concurrency_id="model", concurrency_limit=1)

        def pick_variant(evt: gr.SelectData):
            return evt.index

        gallery.select(pick_variant, None, picked, api_visibility="private")

        def _chosen_variant(made, index):
            if not made:
                raise ValueError("generate some variants first")
            index = index if index is not None else 0
            if not 0 <= index < len(made):
                raise ValueError(f"there is no variant #{index + 1}; pick one of 1..{len(made)}")
            return made[index]

        def session_outputs(current: EditSession):
            values = current.slider_values()
            shown = _display(current.preview(), 384)
            return (current, shown, (_display(current.before(), 384), shown), _history(current),
                    *[values[name] for name in RANGES])

        edit_outputs = [session, preview, compare, history, *sliders.values()]

        @friendly
        def edit_variant(made, index):
            image, provenance = _chosen_variant(made, index)
            return (*session_outputs(EditSession.open(image, provenance)), gr.Tabs(selected="edit"))

        to_edit.click(edit_variant, [variants, picked], [*edit_outputs, tabs], api_visibility="private")

        @friendly
        def save_variant(made, index, name, request: gr.Request):
            image, provenance = _chosen_variant(made, index)
            item = board.add(image, added_by=reviewer_name(name, request) or "anonymous", prompt=provenance.prompt,
                             seed=provenance.seed, model=provenance.model, origin="generated")
            gr.Info(f"Saved to the board as {item.title!r}")

        to_board.click(save_variant, [variants, picked, your_name], None, api_visibility="private")

        if studio.has_vae():
            def _vae_of(provenance):
                """The VAE that made a variant (a furniture variant stays with the furniture VAE); else the first."""
                return provenance.model if provenance.model in studio.models(("vae",)) else None

            @friendly
            def more_like_this(made, index, strength):
                image, provenance = _chosen_variant(made, index)
                result = gpu(studio.variations)(image, provenance.prompt or "a product", strength=float(strength),
                                                n=max(2, len(made)), seed=provenance.seed,
                                                model=_vae_of(provenance))
                new = [(im, Provenance("generated", prompt=result.prompt, seed=result.seed, model=result.model))
                       for im in result.images]
                shown = as_files([(_display(im), f"like #{(index or 0) + 1} · {i + 1}")
                                  for i, (im, _) in enumerate(new)], [p for _, p in new])
                return shown, new

            more_like.click(more_like_this, [variants, picked, likeness], [gallery, variants], api_visibility="private",
                            concurrency_id="model", concurrency_limit=1)

            @friendly
            def blend_variants(made, index, other, steps):
                (a, made_a), (b, made_b) = _chosen_variant(made, index), _chosen_variant(made, int(other or 1) - 1)
                frames = gpu(studio.interpolate)(a, b, steps=int(steps), prompt=made_a.prompt or "a product",
                                                 model=_vae_of(made_a), prompt_b=made_b.prompt or None)
                new = [(im, made_a) for im in frames]
                shown = as_files([(_display(im), f"blend {i + 1}/{len(frames)}") for i, im in enumerate(frames)],
                                 [p for _, p in new])
                return shown, new

            blend.click(blend_variants, [variants, picked, partner, blend_steps], [gallery, variants],
                        api_visibility="private", concurrency_id="model", concurrency_limit=1)

        @friendly
        def pack_variants(made):
            if not made:
                raise ValueError("generate some variants first")
            folder = out_folder()
            manifest = []
            for i, (image, provenance) in enumerate(made, 1):
                path = export_file(image, folder / f"variant-{i:02d}-seed{provenance.seed}.png",
                                   provenance=provenance, sidecar=False)
                manifest.append({"file": path.name, "prompt": provenance.prompt, "seed": provenance.seed,
                                 "variant": i, "model": provenance.model, "truncation": provenance.truncation,
                                 "recipe": Recipe().to_dict()})
            target = folder / f"variants-seed{made[0][1].seed}.zip"
            with zipfile.ZipFile(target, "w") as archive:
                for row in manifest:
                    archive.write(folder / row["file"], row["file"])
                archive.writestr("manifest.json", json.dumps(manifest, indent=2))
            return gr.DownloadButton(value=str(target), visible=True)

        pack.click(pack_variants, variants, pack_download, api_visibility="private")

        @friendly
        def open_upload(path):
            if path is None:
                return None, None, None, "_No edits yet._", *[RANGES[n][2] for n in RANGES]
            image = load_image(path)
            return session_outputs(EditSession.open(image, Provenance.inherit(path, Recipe())))

        # undocumented rather than private: bench/app.py times the slider round trip through gradio_client
        upload.upload(open_upload, upload, edit_outputs, api_name="open_upload", api_visibility="undocumented",
                      concurrency_id="cpu", concurrency_limit=4)

        def live_preview(current: EditSession | None, *values):
            if current is None:
                return None
            return _display(current.live(dict(zip(RANGES, values))), 384)

        gr.on([s.input for s in sliders.values()], friendly(live_preview), [session, *sliders.values()], preview,
              trigger_mode="always_last", show_progress="hidden", api_name="live_preview",
              api_visibility="undocumented", concurrency_id="cpu", concurrency_limit=4)

        @friendly
        def commit_sliders(current: EditSession | None, *values):
            if current is None:
                raise ValueError("upload a photo or pick a variant first")
            current.commit_adjust(dict(zip(RANGES, values)))
            return current, (_display(current.before(), 384), _display(current.preview(), 384)), _history(current)

        gr.on([s.release for s in sliders.values()], commit_sliders, [session, *sliders.values()],
              [session, compare, history], trigger_mode="always_last", show_progress="hidden",
              api_visibility="private", concurrency_id="cpu", concurrency_limit=4)

        def step_event(make_step):
            @friendly
            def run(current: EditSession | None, *args):
                if current is None:
                    raise ValueError("upload a photo or pick a variant first")
                current.push(make_step(current, *args))
                return session_outputs(current)
            return run

        def bind(button, make_step, inputs=()):
            return button.click(step_event(make_step), [session, *inputs], edit_outputs, api_visibility="private",
                                concurrency_id="cpu", concurrency_limit=4)

        bind(rotate_left, lambda s: {"op": "rotate", "degrees": 90})
        bind(rotate_right, lambda s: {"op": "rotate", "degrees": -90})
        bind(flip, lambda s: {"op": "flip", "axis": "horizontal"})
        bind(crop, lambda s, a: {"op": "crop", "aspect": a}, [aspect])
        bind(fix_button, lambda s, p: {"op": "preset", "preset": p}, [preset])
        bind(background_button, lambda s, kind, top, bottom, shade: {
            "op": "background",
            "background": {"kind": kind, "color": top} if kind == "color" else
            {"kind": kind, "top": top, "bottom": bottom} if kind == "gradient" else {"kind": kind},
            "shadow": {"opacity": 0.35, "blur": 0.02, "offset": 0.015} if shade else None},
            [backdrop, top_colour, bottom_colour, shadow])

        def style_step(current, ref, how, region, amount):
            if ref is None:
                raise ValueError("upload a style reference photo first")
            stats = ColorStats.measure(load_image(ref).convert("RGB"))
            step = {"op": "style", "method": how, "stats": stats.to_dict(), "strength": float(amount)}
            return {**step, "region": region} if region != "all" else step

        bind(style_button, style_step, [reference, method, style_region, strength])
        bind(look_button, lambda s, name, amount: {"op": "look", "name": name, "strength": float(amount)},
             [look, look_strength])

        @friendly
        def load_into_editor(current: EditSession | None):
            if current is None:
                raise ValueError("upload a photo or pick a variant first")
            shown = _display(current.preview(), 384).convert("RGBA")     # painted at display size, mapped back
            return {"background": np.asarray(shown), "layers": [], "composite": None}

        load_editor.click(load_into_editor, session, editor, api_visibility="private")

        def repair_step(current, value, how):
            size = current.preview().size
            mask = _editor_mask(value, size)
            return {"op": "repair", "mask": encode_png(Image.fromarray(mask.astype(np.uint8) * 255)), "method": how}

        # after a repair the canvas shows the repaired image, strokes cleared, ready for the next blemish
        bind(repair_button, repair_step, [editor, repair_method]).success(
            load_into_editor, session, editor, api_visibility="private")

        @friendly
        def undo_redo(current: EditSession | None, forward: bool):
            if current is None:
                raise ValueError("nothing to undo yet")
            moved = current.redo() if forward else current.undo()
            if not moved:
                gr.Info("Nothing to redo." if forward else "Nothing to undo.")
            return session_outputs(current)

        undo.click(lambda s: undo_redo(s, False), session, edit_outputs, api_visibility="private")
        redo.click(lambda s: undo_redo(s, True), session, edit_outputs, api_visibility="private")

        @friendly
        def check_rules(current: EditSession | None, name):
            if current is None:
                raise ValueError("upload a photo or pick a variant first")
            problems = current.check(name)
            if not problems:
                return f"**Passes.** Meets every {PRESETS[name].label} rule."
            return "**Needs fixing** (or press *Fix to the preset*):\n" + "\n".join(
                f"- **{p.rule}**: {p.message}" for p in problems)

        check_button.click(check_rules, [session, preset], report, api_visibility="private", concurrency_id="cpu")

        @friendly
        def prepare_download(current: EditSession | None, label, q):
            if current is None:
                raise ValueError("upload a photo or pick a variant first")
            path = current.export(out_folder(), EXPORT_FORMATS[label], int(q))
            return gr.DownloadButton(f"Download {path.name}", value=str(path), visible=True)

        export_button.click(prepare_download, [session, export_format, quality], download, api_visibility="private",
                            concurrency_id="cpu")

        @friendly
        def save_current(current: EditSession | None, name, request: gr.Request):
            if current is None:
                raise ValueError("upload a photo or pick a variant first")
            made = current.provenance
            item = board.add(current.render(), added_by=reviewer_name(name, request) or "anonymous",
                             prompt=made.prompt, seed=made.seed, model=made.model, recipe=current.recipe,
                             origin=made.origin, title=made.prompt or "edited photo")
            gr.Info(f"Saved to the board as {item.title!r}")

        save_edit.click(save_current, [session, your_name], None, api_visibility="private")

        # ---- board
        def board_view(which):
            items = board.items(starred=True) if which == "starred" else board.items(
                status=None if which == "all" else which)
            shown = [(str(board.thumbnail(item.id)), f"{item.title} · {item.status}"
                      + (f" ★{len(item.stars)}" if item.stars else "")) for item in items]
            choices = [(f"{i.title} ({i.id})", i.id) for i in board.items()]
            return shown, [i.id for i in items], gr.Dropdown(choices=choices)

        refresh.click(friendly(board_view), status_filter, [board_gallery, board_ids, compare_pick],
                      api_visibility="private")
        status_filter.change(friendly(board_view), status_filter, [board_gallery, board_ids, compare_pick],
                             api_visibility="private")

        def describe(item_id):
            if item_id is None:
                return "_Select an item._"
            item = board.get(item_id)
            lines = [f"### {item.title}", f"**Status:** {item.status}"
                     + (f" (approved by {', '.join(item.approvals)})" if item.approvals else "")
                     + (f" (rejected by {', '.join(item.rejections)})" if item.rejections else ""),
                     f"**Prompt:** {item.prompt or '—'} · **seed** {item.seed if item.seed is not None else '—'} · "
                     f"**model** {item.model or '—'} · added by {item.added_by}",
                     "**Recipe:** " + ("; ".join(item.recipe.summaries()) or "none")]
            lines += [f"> {who}: {text}" for who, text, _ in item.comments]
            trail = board.history(item_id)
            if trail:
                lines.append("**Audit trail:** " + "; ".join(
                    f"{d.reviewer} {d.action}" for d in trail))
            return "\n\n".join(lines)

        def choose(ids, evt: gr.SelectData):
            item_id = ids[evt.index]
            return item_id, describe(item_id)

        board_gallery.select(friendly(choose), board_ids, [chosen, details], api_visibility="private")

        def act(action):
            @friendly
            def run(item_id, name, text, which, request: gr.Request):
                if item_id is None:
                    raise ValueError("select an item on the board first")
                who = reviewer_name(name, request)
                if not who:
                    raise ValueError("enter your name at the top of the page before reviewing")
                board.decide(item_id, who, action, text if action == "comment" else None)
                return (describe(item_id), *board_view(which))
            return run

        for button, action in ((approve, "approve"), (reject, "reject"), (star, "star"), (add_comment, "comment")):
            button.click(act(action), [chosen, your_name, comment, status_filter],
                         [details, board_gallery, board_ids, compare_pick], api_visibility="private")

        @friendly
        def side_by_side_view(ids):
            return [(str(board.thumbnail(item_id)), f"{board.get(item_id).title} · {board.get(item_id).status}")
                    for item_id in ids or []]

        compare_pick.change(side_by_side_view, compare_pick, side_by_side, api_visibility="private")

        @friendly
        def zip_approved():
            path = board.export_approved(out_folder() / "approved.zip")
            return gr.DownloadButton(value=str(path), visible=True)

        export_approved.click(zip_approved, None, approved_download, api_visibility="private")

        # ---- scriptable endpoints (gradio_client): files in, files out, metadata written by the engine
        def edit(image: FileData, recipe: str, format: str = "png", quality: int = 95) -> FileData:
            """Apply a recipe (JSON list of steps) to an image at full resolution; returns the exported file."""
            path = _path(image)
            steps = Recipe.from_json(recipe)
            out = export_file(steps.apply(load_image(path)), out_folder() / f"edited.{format}", quality=quality,
                              provenance=Provenance.inherit(path, steps))
            return FileData(path=str(out))

        def repair(image: FileData, mask: FileData, method: str = "telea") -> FileData:
            """Fill the mask's non-zero pixels (any size; resized to the image) with a repair method."""
            step = {"op": "repair", "mask": encode_png(load_image(_path(mask), keep_alpha=False).convert("L")),
                    "method": method}
            return edit(image, json.dumps([step]), "png")

        def stylize(image: FileData, reference: FileData, method: str = "reinhard", strength: float = 1.0,
                    region: str = "all") -> FileData:
            """Colour transfer from a reference photo (reinhard or histogram), optionally product-only."""
            stats = ColorStats.measure(load_image(_path(reference), keep_alpha=False))
            step = {"op": "style", "method": method, "stats": stats.to_dict(), "strength": strength}
            return edit(image, json.dumps([{**step, "region": region} if region != "all" else step]), "png")

        def export(image: FileData, format: str = "png", quality: int = 95, preset: str = "",
                   prompt: str = "", seed: int = -1, model: str = "") -> FileData:
            """Write an image as PNG/JPEG/WebP with provenance; an optional marketplace preset is applied first.
            prompt/seed/model mark a generated image (seed -1 = none)."""
            steps = Recipe.from_json([{"op": "preset", "preset": preset}] if preset else [])
            path = _path(image)
            inherited = Provenance.inherit(path, steps)
            made = Provenance("generated", prompt=prompt, seed=None if seed < 0 else seed, model=model or None,
                              recipe=steps) if prompt or model else inherited
            out = export_file(steps.apply(load_image(path)), out_folder() / f"export.{format}", quality=quality,
                              provenance=made)
            return FileData(path=str(out))

        for fn in (edit, repair, stylize, export):
            gr.api(friendly(fn), api_name=fn.__name__, concurrency_id="cpu", concurrency_limit=4)

        demo.load(friendly(board_view), status_filter, [board_gallery, board_ids, compare_pick],
                  api_visibility="private")
        demo.studio, demo.board, demo.exports = studio, board, exports   # for tests and bench
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Product Image Studio web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port (default: 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--auth", default=None, help="user:password required to open the app")
    parser.add_argument("--data-dir", default=os.environ.get("STUDIO_DATA_DIR", "studio-data"),
                        help="where the review board lives (default: $STUDIO_DATA_DIR or ./studio-data)")
    parser.add_argument("--weights", default="weights", help="folder of trained models (default: weights)")
    parser.add_argument("--device", default="cpu", help="torch device for the models (default: cpu)")
    args = parser.parse_args(argv)
    auth = None
    if args.auth:
        user, _, password = args.auth.partition(":")
        if not user or not password:
            parser.error("--auth must look like user:password")
        auth = (user, password)
    from studio import Studio

    demo = build_demo(Studio(args.weights, device=args.device), Board(args.data_dir))
    demo.queue(max_size=64)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                max_file_size=MAX_UPLOAD, footer_links=["api", "gradio"], run_history=False)


if __name__ == "__main__":
    main()
