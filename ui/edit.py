"""The Edit room: a photo or a variant, live slider previews, layout and presets, background, style, repair,
and the full-resolution download. The session (original + recipe) is saved under the browser's id after
every change, so a reload or a server restart finds it again."""

from __future__ import annotations

import functools
import html
from types import SimpleNamespace

import gradio as gr
import numpy as np
from PIL import Image

from studio import load_image
from studio.edits import LOOKS, PRESETS, Provenance, Recipe
from studio.edits.adjust import RANGES
from studio.edits.house_styles import HOUSE_STYLES
from studio.edits.neural_style import default_strength
from studio.edits.session import EditSession
from studio.edits.steps import (
    background_step,
    look_step,
    neural_style_step,
    preset_steps,
    repair_step,
    rotate_step,
    style_step,
    upscale_step,
)
from studio.edits.style import TRANSFERS
from studio.images import upload_notes

from .common import PREVIEW_SIDE, Context, display, keeping

EXPORT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WebP": "webp"}
NO_EDITS = "_No edits yet._"
OWN_REFERENCE = "the uploaded reference"


def layout(ctx: Context) -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Row():
        with gr.Column(scale=1):
            ui.upload = gr.File(label="Upload a product photo (PNG, JPEG, WebP, GIF, BMP, TIFF)", file_types=["image"],
                                type="filepath", elem_id="upload")
            ui.sliders = {name: gr.Slider(low, high, value=neutral, step=0.01, label=name.capitalize(),
                                          elem_id=f"slider-{name}")
                          for name, (low, high, neutral) in RANGES.items()}
            with gr.Row():
                ui.undo = gr.Button("Undo", elem_id="undo", interactive=False)
                ui.redo = gr.Button("Redo", elem_id="redo", interactive=False)
            ui.remove_background = gr.Button("Remove background", elem_id="remove-background")
            ui.history = gr.Markdown(NO_EDITS, elem_id="history")
        with gr.Column(scale=2):
            ui.preview = gr.Image(label="Preview", interactive=False, format="jpeg", height=460, elem_id="preview",
                                  buttons=[])
            ui.info = gr.Markdown(elem_id="image-info")
            ui.compare = gr.ImageSlider(label="Before / after", interactive=False, height=360, format="jpeg",
                                        elem_id="compare")
    with gr.Accordion("Layout: rotate, flip, crop, marketplace presets", open=False):
        with gr.Row():
            ui.rotate_left = gr.Button("Rotate left")
            ui.rotate_right = gr.Button("Rotate right")
            ui.flip = gr.Button("Flip horizontally")
            ui.aspect = gr.Dropdown(["1:1", "4:5", "3:4", "4:3", "16:9"], value="1:1", label="Crop to")
            ui.crop = gr.Button("Crop")
        with gr.Row():
            ui.preset = gr.Dropdown([(p.label, name) for name, p in PRESETS.items()], value="amazon-main",
                                    label="Marketplace preset", elem_id="preset")
            ui.check = gr.Button("Check the rules")
            ui.fix = gr.Button("Fix to the preset")
        with gr.Row():
            trained = [f for f in (2, 4) if f"upscaler-x{f}" in ctx.upscalers]
            ui.factor = gr.Radio([("x2", 2), ("x4", 4)], value=2, label="Enlarge (exactly 2 or 4 times the size)",
                                 elem_id="upscale-factor",
                                 info=("with the trained upscaler (" + ", ".join(f"x{f}" for f in trained) + "), "
                                       "else Lanczos") if trained else "with Lanczos (no trained upscaler installed)")
            ui.upscale = gr.Button("Enlarge", elem_id="upscale-button")
        ui.report = gr.Markdown(elem_id="preset-report")
    with gr.Accordion("Background", open=False):
        with gr.Row():
            ui.backdrop = gr.Radio(["color", "gradient", "transparent"], value="color", label="New background")
            ui.top_colour = gr.ColorPicker("#ffffff", label="Colour (gradient top)")
            ui.bottom_colour = gr.ColorPicker("#d9dde3", label="Gradient bottom")
            ui.shadow = gr.Checkbox(True, label="Soft shadow")
            ui.background = gr.Button("Replace the background", elem_id="background-button")
    with gr.Accordion("Style", open=False):
        with gr.Row():
            ui.reference = gr.File(label="Style reference photo", file_types=["image"], type="filepath",
                                   elem_id="style-reference")
            ui.method = gr.Radio(list(TRANSFERS), value="reinhard", label="Colour transfer")
            ui.style_region = gr.Radio(["all", "product", "background"], value="product", label="Apply to")
            ui.strength = gr.Slider(0, 1, value=0.8, step=0.05, label="Strength")
            ui.style = gr.Button("Apply the reference's colours")
        with gr.Row():
            live = ctx.studio.live_styles()
            ui.neural_method = gr.Radio([(f"live ({name})", name) for name in live] + [("quality (slow)", "quality")],
                                        value=live[0] if live else "quality", label="Neural style: textures too",
                                        elem_id="neural-method",
                                        info="live: previews while the strength moves; quality: optimised, "
                                             "seconds to a minute")
            ui.house = gr.Dropdown([(OWN_REFERENCE, "")] + [(name, name) for name in HOUSE_STYLES], value="",
                                   label="Textures from", elem_id="house-style",
                                   info="the uploaded reference, or a house style (no photo needed)")
            ui.neural_strength = gr.Slider(0, 1, value=default_strength(ui.neural_method.value), step=0.05,
                                           label="Neural strength",
                                           elem_id="neural-strength")
            ui.neural = gr.Button("Restyle with these textures", elem_id="neural-style")
        with gr.Row():
            ui.look = gr.Dropdown(list(LOOKS), value="detail", label="Look")
            ui.look_strength = gr.Slider(0, 1, value=0.6, step=0.05, label="Look strength")
            ui.apply_look = gr.Button("Apply the look")
    with gr.Accordion("Repair: paint over a blemish, then repair", open=False):
        ui.editor = gr.ImageEditor(type="numpy", image_mode="RGBA", format="png", layers=False, transforms=(),
                                   sources=(), label="Paint the area to repair", elem_id="repair",
                                   brush=gr.Brush(colors=["#ff00ff"], default_color="#ff00ff", color_mode="fixed",
                                                  default_size=12), height=420)
        with gr.Row():
            ui.load_editor = gr.Button("Load the current image", elem_id="load-repair")
            ui.repair_method = gr.Radio([(ctx.methods.label(m), m) for m in ctx.methods.choices],
                                        value=ctx.methods.photo_default, label="Method")
            ui.repair = gr.Button("Repair", elem_id="repair-button")
    with gr.Row():
        ui.format = gr.Radio(list(EXPORT_FORMATS), value="PNG", label="Download as", elem_id="format")
        ui.quality = gr.Slider(50, 100, value=95, step=1, label="JPEG/WebP quality")
        ui.export = gr.Button("Prepare the full-resolution file", elem_id="export-button")
        ui.download = gr.DownloadButton("Download", visible=False, elem_id="download")
        ui.save = gr.Button("Save this edit to the board", elem_id="save-edit")
    ui.outputs = [ui.preview, ui.compare, ui.history, ui.info, ui.undo, ui.redo, ui.download, ui.report,
                  *ui.sliders.values()]
    return ui


def _history(session: EditSession | None) -> str:
    if session is None or not session.recipe.steps:
        return NO_EDITS
    return "\n".join(f"{i}. {line}" for i, line in enumerate(session.recipe.summaries(), 1))


def _pair(before: Image.Image, after: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Before and after letterboxed onto one canvas, so the slider compares whole images (a crop or a
    rotation changes the size; the slider would otherwise cut one of them)."""
    width, height = max(before.width, after.width), max(before.height, after.height)

    def fit(image):
        canvas = Image.new("RGB", (width, height), (240, 240, 240))
        canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
        return canvas
    return fit(before), fit(after)


def session_outputs(current: EditSession | None, report: str = "") -> tuple:
    """Everything the Edit room shows for a session; a stale download and rule report are cleared."""
    hidden = gr.DownloadButton(visible=False, value=None)
    if current is None:
        return (None, None, NO_EDITS, "", gr.Button(interactive=False), gr.Button(interactive=False), hidden, "",
                *[RANGES[n][2] for n in RANGES])
    values = current.slider_values()
    result = current.preview()
    shown = display(result, PREVIEW_SIDE)
    before = display(current.before(), PREVIEW_SIDE)
    full = current.recipe.sizes(current.original.size)[-1] if current.recipe.steps else current.original.size
    info = f"{full[0]}x{full[1]} px at full resolution" + (", shown enlarged" if max(full) < PREVIEW_SIDE else "")
    if result.mode == "RGBA":
        info += " · transparent areas show as a checkerboard"
    return (shown, _pair(before, shown), _history(current), info,
            gr.Button(interactive=current.history.can_undo), gr.Button(interactive=current.history.can_redo),
            hidden, report, *[values[name] for name in RANGES])


def wire(ctx: Context, ui: SimpleNamespace) -> None:
    key = ctx.components["session_key"]               # this tab's session id (from the browser's, on load)
    cpu = {"concurrency_id": "cpu", "concurrency_limit": 4}

    changed = [ctx.components["browser"], *ui.outputs]   # the browser remembers the session changed last

    def start(bid, session: EditSession, request=None) -> tuple:
        """A new photo: a session of its own (another tab's stays as it is); this tab and the browser take
        its id."""
        ctx.mark_started(request)
        bid = ctx.sessions.new_id()
        ctx.sessions.put(bid, session, new_original=True)
        return (bid, bid, *session_outputs(session))

    @keeping(len(changed) + 1)
    def open_upload(bid, path, request: gr.Request):
        if path is None:
            return (bid, gr.skip(), *session_outputs(ctx.sessions.get(bid)))
        image = load_image(path)
        for note in upload_notes(path, image):
            gr.Warning(html.escape(note))                 # toasts render HTML; the note names the file
        return start(bid, EditSession.open(image, Provenance.inherit(path, Recipe()), name=path, methods=ctx.methods,
                                          upscalers=ctx.upscalers),
                     request)

    # undocumented rather than private: bench/app.py times the slider round trip through gradio_client
    ui.upload.upload(open_upload, [key, ui.upload], [key, ctx.components["browser"], *ui.outputs],
                     api_name="open_upload",
                     api_visibility="undocumented", **cpu)
    ctx.components["open_session"] = start

    def live_preview(bid, *values):
        current = ctx.sessions.get(bid)
        if current is None:
            return None
        return display(current.live(dict(zip(RANGES, values))), PREVIEW_SIDE)

    gr.on([s.input for s in ui.sliders.values()], keeping(1)(live_preview), [key, *ui.sliders.values()],
          ui.preview, trigger_mode="always_last", show_progress="hidden", api_name="live_preview",
          api_visibility="undocumented", **cpu)

    @keeping(len(changed))
    def commit_sliders(bid, *values):
        current = ctx.session(bid)
        current.commit_adjust(dict(zip(RANGES, values)))
        ctx.sessions.put(bid, current)
        return (bid, *session_outputs(current))

    gr.on([s.release for s in ui.sliders.values()], commit_sliders, [key, *ui.sliders.values()], changed,
          trigger_mode="always_last", show_progress="hidden", api_visibility="private", **cpu)

    def bind(button, make_step, inputs=()):
        @keeping(len(changed))
        def run(bid, *args):
            current = ctx.session(bid)
            current.push(make_step(*args))
            ctx.sessions.put(bid, current)
            return (bid, *session_outputs(current))
        return button.click(run, [key, *inputs], changed, api_visibility="private", **cpu)

    bind(ui.rotate_left, lambda: rotate_step("left"))
    bind(ui.rotate_right, lambda: rotate_step("right"))
    bind(ui.flip, lambda: {"op": "flip", "axis": "horizontal"})
    bind(ui.crop, lambda a: {"op": "crop", "aspect": a}, [ui.aspect])
    bind(ui.background, background_step, [ui.backdrop, ui.top_colour, ui.bottom_colour, ui.shadow])
    bind(ui.remove_background, lambda: background_step("transparent", shadow=False))
    bind(ui.style, lambda ref, how, region, amount: style_step(load_image(ref) if ref else None, how, region, amount),
         [ui.reference, ui.method, ui.style_region, ui.strength])

    @functools.lru_cache(maxsize=8)
    def reference_step(path, method, region, amount, house=""):
        """The neural step for an uploaded reference (each upload has a path of its own) or a house style:
        measured once while the strength slider moves."""
        if house:
            return neural_style_step(None, region, amount, method, house=house)
        return neural_style_step(load_image(path), region, amount, method)

    @keeping(len(changed))
    def neural_style(bid, ref, method, region, amount, house, progress=gr.Progress()):
        current = ctx.session(bid)
        step = (neural_style_step(None, region, amount, method, house=house) if house
                else neural_style_step(load_image(ref) if ref else None, region, amount, method))
        current.push(step, progress=lambda done, total: progress((done, total), desc="Restyling", unit="steps"))
        ctx.sessions.put(bid, current)
        return (bid, *session_outputs(current))

    ui.neural.click(neural_style, [key, ui.reference, ui.neural_method, ui.style_region, ui.neural_strength,
                                   ui.house], changed, api_visibility="private", **cpu)

    @keeping(1)
    def live_style(bid, ref, method, region, amount, house):
        """A live network's result on the preview while its strength slider moves (nothing recorded)."""
        current = ctx.sessions.get(bid)
        if current is None or not (ref or house) or method == "quality":
            return gr.skip()
        step = {**reference_step(None if house else ref, method, region, 1.0, house), "strength": float(amount)}
        return display(current.try_step(step), PREVIEW_SIDE)

    ui.neural_method.change(default_strength, ui.neural_method, ui.neural_strength, api_visibility="private",
                            queue=False)
    ui.neural_strength.input(live_style, [key, ui.reference, ui.neural_method, ui.style_region, ui.neural_strength,
                                          ui.house],
                             ui.preview, trigger_mode="always_last", show_progress="hidden",
                             api_visibility="private", **cpu)
    bind(ui.apply_look, look_step, [ui.look, ui.look_strength])
    bind(ui.upscale, lambda factor: upscale_step(factor, ctx.upscalers), [ui.factor])

    @keeping(len(changed))
    def fix_to_preset(bid, name):
        current = ctx.session(bid)
        size = current.recipe.sizes(current.original.size)[-1] if current.recipe.steps else current.original.size
        steps, said = preset_steps(size, name, ctx.upscalers)
        current.push_steps(steps)
        ctx.sessions.put(bid, current)
        return (bid, *session_outputs(current, _report(name, current.check(name), said)))

    ui.fix.click(fix_to_preset, [key, ui.preset], changed, api_visibility="private", **cpu)

    @keeping(1)
    def load_into_editor(bid):
        current = ctx.session(bid)
        shown = display(current.preview(), PREVIEW_SIDE).convert("RGBA")     # painted at display size, mapped back
        return {"background": np.asarray(shown), "layers": [], "composite": None}

    ui.load_editor.click(load_into_editor, key, ui.editor, api_visibility="private")

    def repair_from_editor(value, how):
        layers = [layer for layer in (value or {}).get("layers") or [] if layer is not None]
        if not layers:
            raise ValueError("paint over the part to repair first (the brush paints the mask)")
        alpha = np.maximum.reduce([np.asarray(layer)[..., 3] for layer in layers])
        return repair_step(alpha > 0, how)

    # after a repair the canvas shows the repaired image, strokes cleared, ready for the next blemish
    bind(ui.repair, repair_from_editor, [ui.editor, ui.repair_method]).success(
        load_into_editor, key, ui.editor, api_visibility="private")

    @keeping(len(changed))
    def undo_redo(bid, forward: bool):
        current = ctx.session(bid)
        current.redo() if forward else current.undo()
        ctx.sessions.put(bid, current)
        return (bid, *session_outputs(current))

    ui.undo.click(lambda bid: undo_redo(bid, False), key, changed, api_visibility="private", **cpu)
    ui.redo.click(lambda bid: undo_redo(bid, True), key, changed, api_visibility="private", **cpu)

    @keeping(1)
    def check_rules(bid, name):
        return _report(name, ctx.session(bid).check(name))

    ui.check.click(check_rules, [key, ui.preset], ui.report, api_visibility="private", **cpu)
    # a rule report or a prepared file describes one state of the image: a new choice makes them stale
    ui.preset.change(lambda: "", None, ui.report, api_visibility="private")
    gr.on([ui.format.change, ui.quality.release], lambda: gr.DownloadButton(visible=False, value=None), None,
          ui.download, api_visibility="private")

    @keeping(1)
    def prepare_download(bid, label, q, progress=gr.Progress()):
        current = ctx.session(bid)
        kind = EXPORT_FORMATS.get(label)
        if kind is None:
            raise ValueError(f"download as PNG, JPEG or WebP, not {str(label)[:20]!r}")

        def told(done, total):
            progress((done, total), desc="Rendering", unit="steps")
        if kind == "jpeg" and current.render(told).mode == "RGBA":
            gr.Info("JPEG has no transparency: the transparent areas are flattened onto white. "
                    "Choose PNG or WebP to keep them.")
        path = current.export(ctx.out_folder(), kind, int(q), progress=told)
        return gr.DownloadButton(f"Download {path.name}", value=str(path), visible=True)

    ui.export.click(prepare_download, [key, ui.format, ui.quality], ui.download, api_visibility="private", **cpu)

    @keeping(0)
    def save_current(bid, name, request: gr.Request, progress=gr.Progress()):
        from .board import reviewer

        current = ctx.session(bid)
        made = current.provenance
        rendered = current.render(lambda done, total: progress((done, total), desc="Rendering", unit="steps"))
        item = ctx.board.add(rendered, added_by=reviewer(ctx, name, request, adding=True),
                             prompt=made.prompt, seed=made.seed, model=made.model, recipe=current.recipe,
                             origin=made.origin, title=made.prompt or current.name or "edited photo")
        gr.Info(f"Saved to the board as {html.escape(repr(item.title))}")        # toasts render HTML

    ui.save.click(save_current, [key, ctx.components["your_name"]], None,
                  api_visibility="private").success(**ctx.components["refresh_board"])


def _report(name: str, problems: list, said: str = "") -> str:
    label = PRESETS[name].label if name in PRESETS else name
    if not problems:
        return f"**Passes.** Meets every {label} rule." + (f" {said}" if said else "")
    return "**Needs fixing** (or press *Fix to the preset*):\n" + "\n".join(
        f"- **{p.rule}**: {p.message}" for p in problems)
