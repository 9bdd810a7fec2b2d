"""The Generate room: a description in, seeded variants out; pick one to edit, save or vary."""

from __future__ import annotations

import dataclasses
import html
import json
import zipfile
from types import SimpleNamespace

import gradio as gr

from studio.edits import Provenance, Recipe
from studio.edits.export import export as export_file
from studio.messages import language_of, localise, summary_zh
from studio.text import MAX_PROMPT_CHARS

from .common import Context, display, explained, friendly, keeping, plain

# in the shipped models' vocabulary (studio/data/vocab.py): 14 colours, 6 backgrounds, 10 product kinds
EXAMPLES = ["navy ankle boot on a cream background", "red sneaker on a white background",
            "pink dress on a pastel blue background", "yellow handbag, light grey backdrop"]
# for a furniture model (Sweet Home 3D names and rooms)
FURNITURE_EXAMPLES = ["an armchair for the living room, on a cream background",
                      "a bedside table on a light grey background"]
# and in Chinese, which the understanding layer reads (it routes and rewrites them for the models)
CHINESE_EXAMPLES = ["白色背景上的红色运动鞋", "黑色连衣裙，浅灰色背景", "白底主图：棕色手提包"]
CHINESE_FURNITURE_EXAMPLES = ["浅灰色背景上的沙发"]
SAID = {"en": ("Understood as: ", "asks the model for ", "model: "), "zh": ("理解为：", "发给模型的描述：", "模型：")}
MAX_SETS = 10                     # earlier variant sets kept for "Back"
AUTO, AUTO_LABEL = "auto", "Auto (follows the prompt)"

try:                                    # on a ZeroGPU Space, model calls borrow the GPU; elsewhere a no-op
    import spaces

    gpu = spaces.GPU(duration=60)
except ImportError:
    def gpu(fn):
        return fn


def layout(ctx: Context) -> SimpleNamespace:
    studio = ctx.studio
    models = studio.models()
    ui = SimpleNamespace(models=models)
    if not models:
        gr.Markdown(f"**No generator is installed** in `{studio.weights.name}`. Train one with "
                    "`python -m studio train gan --catalog fashion`, then restart. You can still "
                    "upload your own photos on the Edit tab.")
    with gr.Row():
        with gr.Column(scale=2):
            ui.prompt = gr.Textbox(label="Product description", elem_id="prompt", max_lines=2,
                                   max_length=MAX_PROMPT_CHARS, placeholder="navy ankle boot on a cream background")
            ui.counter = gr.Markdown(f"0 / {MAX_PROMPT_CHARS} characters", elem_id="prompt-counter")
            ui.understood = gr.Markdown(elem_id="understood")
            # with the understanding heads installed, "auto" lets the prompt choose the model, and what was read
            # can be set by hand: these show the labels read and take the merchant's own
            ui.auto = studio.can_understand() and bool(models)
            ui.edits = gr.State({})                 # {"prompt": the text they were set for, "labels": {...}}
            with gr.Row(visible=ui.auto):
                ui.set_product, ui.set_color, ui.set_background = (
                    gr.Dropdown(choices, value="", label=label, elem_id=f"set-{name}", allow_custom_value=True,
                                interactive=True)
                    for name, label, choices in label_choices(studio))
            ui.examples = gr.Examples([[e] for e in examples_for(studio, None)], inputs=ui.prompt,
                                      cache_examples=False, examples_per_page=12)
        with gr.Column(scale=1):
            # custom values allowed so that run_generate, not Gradio, refuses an unknown one: Gradio's own
            # refusal quotes the value back, whatever it holds
            choices = ([(AUTO_LABEL, AUTO)] if ui.auto else []) + [(m, m) for m in models]
            ui.model = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Model", elem_id="model",
                                   allow_custom_value=True)
            ui.count = explained(gr.Slider(1, 8, value=4, step=1, label="Variants", elem_id="count"),
                                 "the number of variants")
            with gr.Row():
                ui.seed = explained(gr.Number(value=0, precision=0, label="Seed (the last one used shows here)",
                                              minimum=0, elem_id="seed"), "the seed")
                ui.random_seed = gr.Checkbox(value=True, label="Random seed", elem_id="random-seed")
            ui.truncation = explained(gr.Slider(0.2, 2.0, value=1.0, step=0.05, label="Diversity (noise truncation)",
                                                info="VAE and GAN models"), "the diversity")
            # the diffusion sliders show when a diffusion model is installed (the other models ignore them)
            from studio.pipelines import DEFAULT_GUIDANCE, DEFAULT_STEPS

            diffusion = "steps" in studio.settings() if models else False
            # the sliders start at the installed diffusion model's own defaults (its folder keeps its guidance)
            defaults = {"steps": DEFAULT_STEPS, "guidance": DEFAULT_GUIDANCE, **(studio.defaults() if diffusion else {})}
            ui.steps = explained(gr.Slider(4, 30, value=defaults["steps"], step=1, label="Denoising steps",
                                           info="diffusion models: more steps, finer detail, slower",
                                           visible=diffusion, elem_id="steps"), "the denoising steps")
            ui.guidance = explained(gr.Slider(1.0, 8.0, value=defaults["guidance"], step=0.5, label="Guidance",
                                              info="diffusion models: how closely to follow the description",
                                              visible=diffusion, elem_id="guidance"), "the guidance")
    ui.generate = gr.Button("Generate", variant="primary", interactive=bool(models), elem_id="generate-button")
    ui.used_seed = gr.Markdown(elem_id="used-seed")
    ui.gallery = gr.Gallery(label="Variants", columns=4, height=320, format="png", allow_preview=False,
                            elem_id="variants")
    with gr.Row():
        ui.to_edit = gr.Button("Edit the selected variant", elem_id="edit-variant")
        ui.to_board = gr.Button("Save the selected variant to the board", elem_id="save-variant")
        ui.back = gr.Button("Back to the previous variants", elem_id="back-variants")
        ui.pack = gr.Button("Prepare all variants as a zip")
        ui.pack_download = gr.DownloadButton("Download all variants", visible=False)
    ui.picked = gr.State(None)
    ui.variants = gr.State([])
    ui.earlier = gr.State([])                      # earlier variant sets, newest last
    # what the installed generators can do beyond generating (pipelines.CAPABILITIES), not which kind they are
    ui.can_vary, ui.can_blend = bool(studio.models("variations")), bool(studio.models("interpolate"))
    if ui.can_vary or ui.can_blend:
        with gr.Row():
            if ui.can_vary:
                ui.likeness = gr.Slider(0.05, 1.0, value=0.4, step=0.05, label="How different (more like this)")
                ui.more_like = gr.Button("More like the selected variant", elem_id="more-like")
            if ui.can_blend:
                ui.partner = gr.Number(value=2, precision=0, minimum=1, maximum=8, label="Blend with variant #")
                ui.blend_steps = gr.Slider(3, 8, value=5, step=1, label="In-betweens")
                ui.blend = gr.Button("Blend", elem_id="blend")
    # a model trained on the multi-view furniture catalog shows one variant from every named view
    from studio.pipelines import ANGLES

    ui.can_angle = bool(studio.models(ANGLES))
    if ui.can_angle:
        with gr.Row():
            ui.angles = gr.Button("Show the selected variant from other angles", elem_id="other-angles")
            ui.angles_to_board = gr.Button("Save these angles to the board as a set", elem_id="save-angles")
    return ui


def examples_for(studio, model: str | None) -> list[str]:
    """Example prompts a model can make: by the catalog it was trained on (every installed one for Auto);
    the Chinese ones when the understanding heads are installed to read them."""
    from studio.pipelines import folder_catalog

    names = [model] if model and model != AUTO else studio.models()
    catalogs = {folder_catalog(studio.weights / name) or "fashion" for name in names}
    chinese = studio.can_understand()
    out = []
    if "fashion" in catalogs:
        out += EXAMPLES + (CHINESE_EXAMPLES if chinese else [])
    if "furniture" in catalogs:
        out += FURNITURE_EXAMPLES + (CHINESE_FURNITURE_EXAMPLES if chinese else [])
    return out or EXAMPLES


def label_choices(studio) -> list[tuple[str, str, list]]:
    """(name, label, choices) of the three "set by hand" pickers: the products of the installed catalogs
    (value "head:label"), the colours and the backgrounds; "" is "as read" (the model chooses when the
    description does not say)."""
    from studio.pipelines import folder_catalog
    from studio.understand import CHOICES, PRODUCT_HEAD

    catalogs = [c for c in CHOICES if c in {folder_catalog(studio.weights / m) or "fashion" for m in studio.models()}]
    products = [(_words(v) + ("" if catalog == "fashion" else " (furniture)"), f"{PRODUCT_HEAD[catalog]}:{v}")
                for catalog in catalogs for v in CHOICES[catalog][PRODUCT_HEAD[catalog]]]
    unset = ("not said: the model chooses", "")
    return [("product", "Product", [unset, *products]),
            ("color", "Colour", [unset, *((_words(v), v) for v in CHOICES["fashion"]["color"])]),
            ("background", "Background", [unset, *((_words(v), v) for v in CHOICES["fashion"]["background"])])]


def _words(label: str) -> str:
    return label.replace("_", " ").replace("tshirt", "t-shirt")


def hand_labels(understood, product: str, color: str, background: str) -> dict:
    """The pickers' values as labels for Understanding.with_labels (what equals the reading drops out there)."""
    from studio.understand import PRODUCT_HEAD

    plain(product=product, colour=color, background=background)
    head, _, value = str(product or "").partition(":")
    if value and head not in PRODUCT_HEAD.values():
        raise ValueError("choose the product from the list")
    labels = {head: value} if value else {PRODUCT_HEAD.get(understood.domain, "category"): None}
    labels["color"] = str(color or "") or None                 # a furniture piece has a colour too
    labels["background"] = str(background or "") or None
    return labels


def shown_labels(understood) -> tuple[str, str, str]:
    """What the three pickers show for an understanding (values of label_choices)."""
    from studio.understand import PRODUCT_HEAD

    head = PRODUCT_HEAD.get(understood.domain)
    product = understood.labels.get(head) if head else None
    return (f"{head}:{product}" if product else "", understood.labels.get("color") or "",
            understood.labels.get("background") or "")


def chosen_variant(made, index):
    if not made:
        raise ValueError("generate some variants first")
    index = index if index is not None else 0
    if not 0 <= index < len(made):
        raise ValueError(f"there is no variant #{index + 1}; pick one of 1..{len(made)}")
    return made[index]


def _gallery(ctx: Context, made, captions) -> list:
    return ctx.as_files([(display(image), caption) for (image, _), caption in zip(made, captions)],
                        [p for _, p in made])


def _size_caption(made) -> str:
    if not made:
        return ""
    image = made[0][0]
    return f"generated at {image.width}x{image.height} px, shown enlarged" if max(image.size) < 256 else \
        f"{image.width}x{image.height} px"


def wire(ctx: Context, ui: SimpleNamespace) -> None:
    studio = ctx.studio

    ui.prompt.input(None, ui.prompt, ui.counter, js=f"(t) => `${{(t || '').length}} / {MAX_PROMPT_CHARS} characters`",
                    api_visibility="private")

    def edits_for(text, edits) -> dict | None:
        """The labels the merchant set by hand, if they were set for this very description."""
        return edits.get("labels") if isinstance(edits, dict) and edits.get("prompt") == (text or "").strip() else None

    @friendly
    def run_generate(text, model_name, n, seed_value, random, trunc, earlier, made, edits=None,
                     steps=None, guidance=None, progress=gr.Progress()):
        plain(description=text, model=model_name)
        if model_name not in ui.models and not (ui.auto and model_name == AUTO):
            raise ValueError(f"unknown model {str(model_name)[:40]!r}; available: {', '.join(ui.models) or 'none'}")
        chosen = None if model_name == AUTO else model_name
        labels = edits_for(text, edits) if ui.auto else None
        result = gpu(studio.generate)(text, n=int(n), seed=None if random else seed_value, model=chosen,
                                      truncation=float(trunc), labels=labels, steps=optional(whole, steps, "steps"),
                                      guidance=optional(number, guidance, "guidance"), progress=denoising(progress))
        new = [(image, provenance(result, i)) for i, image in enumerate(result.images)]
        shown = _gallery(ctx, new, [f"seed {result.seed} · #{i + 1}" for i in range(len(new))])
        used = result.parameters
        sampler = f" · {used['steps']} steps, guidance {used['guidance']:g}" if "steps" in used else ""
        note = f"Seed used: **{result.seed}** · {result.model}{sampler} · {_size_caption(new)}"
        return shown, result.seed, note, new, _remember(earlier, made), None, understood_text(text, chosen, labels)

    def understood_text(text, chosen, labels=None) -> str:
        """'Understood as: red · sneaker · white background → vae-fashion', then any warnings."""
        if not ui.auto or not (text or "").strip():
            return ""
        try:
            understood = studio.understand(text, chosen, labels)
        except ValueError as exc:                  # an over-long prompt: the counter already says so
            return f"⚠ {html.escape(localise(str(exc), language_of(text)))}"
        return understood_line(understood, chosen)

    def understood_line(understood, chosen) -> str:
        """The reading, in the language the description was written in (the model's own prompt stays English)."""
        said = SAID.get(understood.language, SAID["en"])
        summary = summary_zh(understood.summary()) if understood.language == "zh" else understood.summary()
        line = f"{said[0]}**{html.escape(summary)}**"
        if understood.canonical != understood.prompt:
            line += f" · {said[1]}“{html.escape(understood.canonical)}”"
        if understood.model and chosen is None:
            line += f" · {said[2]}{understood.model}"
        return "\n\n".join([line, *(f"{'✎' if w.startswith('set by hand') else '⚠'} "
                                     f"{html.escape(localise(w, understood.language))}" for w in understood.warnings)])

    @friendly
    def show_understood(text, model_name, edits):
        """The reading of the description as typed, in the line and in the pickers (with what the merchant set
        by hand for this same description)."""
        plain(description=text, model=model_name)
        chosen = None if model_name == AUTO else model_name
        if not (text or "").strip():
            return "", "", "", ""
        try:
            understood = studio.understand(text, chosen, edits_for(text, edits))
        except ValueError as exc:                  # an over-long prompt: the counter already says so
            return f"⚠ {html.escape(str(exc))}", gr.skip(), gr.skip(), gr.skip()
        return understood_line(understood, chosen), *shown_labels(understood)

    @keeping(2)
    def set_by_hand(text, model_name, product, color, background):
        """A picker changed by the merchant: those labels hold for this description (until it is edited)."""
        plain(description=text, model=model_name)
        chosen = None if model_name == AUTO else model_name
        if not (text or "").strip():
            raise ValueError("describe the product first; then set what should change")
        labels = hand_labels(studio.understand(text, chosen), product, color, background)
        understood = studio.understand(text, chosen, labels)          # refuses a label the catalog lacks
        return {"prompt": text.strip(), "labels": labels}, understood_line(understood, chosen)

    @friendly
    def matching_examples(model_name):
        plain(model=model_name)
        return gr.Dataset(samples=[[e] for e in examples_for(studio, model_name if model_name in ui.models else None)])

    ui.model.change(matching_examples, ui.model, ui.examples.dataset, api_visibility="private",
                    show_progress="hidden")

    if ui.auto:
        # follows the prompt as it is typed (a few ms a read); the model picker stays the merchant's
        pickers = [ui.set_product, ui.set_color, ui.set_background]
        gr.on([ui.prompt.change, ui.model.change], show_understood, [ui.prompt, ui.model, ui.edits],
              [ui.understood, *pickers], trigger_mode="always_last", show_progress="hidden", api_visibility="private")
        gr.on([p.input for p in pickers], set_by_hand, [ui.prompt, ui.model, *pickers], [ui.edits, ui.understood],
              trigger_mode="always_last", show_progress="hidden", api_visibility="private")

    # the seed box shows the seed used: untick "Random seed" to reproduce this set
    gr.on([ui.generate.click, ui.prompt.submit], run_generate,
          [ui.prompt, ui.model, ui.count, ui.seed, ui.random_seed, ui.truncation, ui.earlier, ui.variants, ui.edits,
           ui.steps, ui.guidance],
          [ui.gallery, ui.seed, ui.used_seed, ui.variants, ui.earlier, ui.picked, ui.understood], api_name="generate",
          api_description="Variants for a product description: (gallery, the seed used, a note, how the prompt "
                          "was understood)",
          concurrency_id="model", concurrency_limit=1)

    def pick_variant(evt: gr.SelectData):
        return evt.index

    ui.gallery.select(pick_variant, None, ui.picked, api_visibility="private")

    @keeping(4)
    def go_back(earlier):
        if not earlier:
            raise ValueError("there are no earlier variants to go back to")
        made = earlier[-1]
        shown = _gallery(ctx, made, [f"seed {p.seed} · #{i + 1}" for i, (_, p) in enumerate(made)])
        return shown, made, earlier[:-1], None

    ui.back.click(go_back, ui.earlier, [ui.gallery, ui.variants, ui.earlier, ui.picked], api_visibility="private")

    @keeping(0)
    def save_variant(made, index, name, request: gr.Request):
        from .board import reviewer

        image, provenance = chosen_variant(made, index)
        item = ctx.board.add(image, added_by=reviewer(ctx, name, request, adding=True), prompt=provenance.prompt,
                             seed=provenance.seed, model=provenance.model, origin="generated")
        gr.Info(f"Saved to the board as {html.escape(repr(item.title))}")        # toasts render HTML

    ui.to_board.click(save_variant, [ui.variants, ui.picked, ctx.components["your_name"]], None,
                      api_visibility="private").success(**ctx.components["refresh_board"])

    def _model_for(provenance, capability):
        """The model that made a variant when it can do this too (a furniture variant stays with the
        furniture model); else the first that can."""
        return provenance.model if provenance.model in studio.models(capability) else None

    if ui.can_vary:
        @keeping(4)
        def more_like_this(made, index, strength, earlier, steps=None, guidance=None, progress=gr.Progress()):
            image, made_by = chosen_variant(made, index)
            result = gpu(studio.variations)(image, made_by.prompt or "a product", strength=float(strength),
                                            n=max(2, len(made)), seed=made_by.seed,
                                            model=_model_for(made_by, "variations"),
                                            steps=optional(whole, steps, "steps"), guidance=optional(number, guidance, "guidance"),
                                            progress=denoising(progress))
            new = [(im, provenance(result)) for im in result.images]
            shown = _gallery(ctx, new, [f"like #{(index or 0) + 1} · {i + 1}" for i in range(len(new))])
            return shown, new, _remember(earlier, made), None

        ui.more_like.click(more_like_this, [ui.variants, ui.picked, ui.likeness, ui.earlier, ui.steps, ui.guidance],
                           [ui.gallery, ui.variants, ui.earlier, ui.picked], api_visibility="private",
                           concurrency_id="model", concurrency_limit=1)

    if ui.can_blend:
        @keeping(4)
        def blend_variants(made, index, other, steps, earlier):
            (a, made_a), (b, made_b) = chosen_variant(made, index), chosen_variant(made, int(other or 1) - 1)
            frames = gpu(studio.interpolate)(a, b, steps=int(steps), prompt=made_a.prompt or "a product",
                                             model=_model_for(made_a, "interpolate"),
                                             prompt_b=made_b.prompt or None).images
            new = [(im, made_a) for im in frames]
            shown = _gallery(ctx, new, [f"blend {i + 1}/{len(frames)}" for i in range(len(frames))])
            return shown, new, _remember(earlier, made), None

        ui.blend.click(blend_variants, [ui.variants, ui.picked, ui.partner, ui.blend_steps, ui.earlier],
                       [ui.gallery, ui.variants, ui.earlier, ui.picked], api_visibility="private",
                       concurrency_id="model", concurrency_limit=1)

    if ui.can_angle:
        from studio.pipelines import ANGLES

        @keeping(4)
        def show_angles(made, index, earlier):
            image, made_by = chosen_variant(made, index)
            if made_by.variant is None or made_by.model not in studio.models(ANGLES):
                raise ValueError("other angles are shown for a variant generated by a furniture model that "
                                 "knows views: generate with it, then pick a variant")
            result = gpu(studio.other_angles)(made_by.prompt, made_by.seed, index=made_by.variant, n=made_by.batch,
                                              model=made_by.model, truncation=made_by.truncation,
                                              steps=made_by.steps, guidance=made_by.guidance)
            views = result.parameters["views"]
            new = [(im, dataclasses.replace(provenance(result), prompt=prompt, request=made_by.request))
                   for im, prompt in zip(result.images, result.parameters["prompts"])]
            shown = _gallery(ctx, new, [f"#{made_by.variant + 1} · {view}" for view in views])
            return shown, new, _remember(earlier, made), None

        ui.angles.click(show_angles, [ui.variants, ui.picked, ui.earlier],
                        [ui.gallery, ui.variants, ui.earlier, ui.picked], api_visibility="private",
                        concurrency_id="model", concurrency_limit=1)

        @keeping(0)
        def save_angles(made, name, request: gr.Request):
            from .board import reviewer

            if not made or any(p.variant is not None or p.seed is None for _, p in made) or len(made) < 2:
                raise ValueError("show a variant from other angles first; then save the set")
            who = reviewer(ctx, name, request, adding=True)
            saved = ctx.board.add_set([(image, p.prompt) for image, p in made], added_by=who, seed=made[0][1].seed,
                                      model=made[0][1].model, origin="generated")
            gr.Info(f"Saved {len(saved)} angles to the board as one set")

        ui.angles_to_board.click(save_angles, [ui.variants, ctx.components["your_name"]], None,
                                 api_visibility="private").success(**ctx.components["refresh_board"])

    @keeping(1)
    def pack_variants(made):
        if not made:
            raise ValueError("generate some variants first")
        folder = ctx.out_folder()
        manifest = []
        # each variant as generated, and x4 by the trained upscaler when one is installed (its recipe says so)
        enlarge = Recipe.from_json([{"op": "upscale", "factor": 4, "method": "upscaler-x4"}]) \
            if "upscaler-x4" in ctx.upscalers else None
        for i, (image, provenance) in enumerate(made, 1):
            copies = [(image, provenance, "")]
            if enlarge is not None and max(image.size) <= 512:
                copies.append((enlarge.apply(image, upscalers=ctx.upscalers),
                               dataclasses.replace(provenance, recipe=enlarge), "-x4"))
            for picture, made_as, suffix in copies:
                path = export_file(picture, folder / f"variant-{i:02d}-seed{provenance.seed}{suffix}.png",
                                   provenance=made_as, sidecar=False)
                manifest.append({"file": path.name, "prompt": provenance.prompt, "seed": provenance.seed,
                                 "variant": i, "model": provenance.model, "truncation": provenance.truncation,
                                 "steps": provenance.steps, "guidance": provenance.guidance,
                                 "size": list(picture.size), "recipe": made_as.recipe.to_dict()})
        target = folder / f"variants-seed{made[0][1].seed}.zip"
        with zipfile.ZipFile(target, "w") as archive:
            for row in manifest:
                archive.write(folder / row["file"], row["file"])
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        return gr.DownloadButton(value=str(target), visible=True)

    ui.pack.click(pack_variants, ui.variants, ui.pack_download, api_visibility="private")


def provenance(result, variant: int | None = None) -> Provenance:
    """What a generated variant records: the prompt the model was given, the seed, the model and the
    sampling settings it used (only those it takes), the merchant's own words; for a variant of a plain
    generation (`variant`), its place in the batch and the batch's size, which other angles remake it from."""
    used = result.parameters
    return Provenance("generated", prompt=result.prompt, seed=result.seed, model=result.model,
                      truncation=used.get("truncation"), steps=used.get("steps"), guidance=used.get("guidance"),
                      request=result.request, variant=variant, parts=tuple(used.get("parts", ())),
                      batch=len(result.images) if variant is not None else None)


def denoising(progress):
    """A Gradio progress bar as a pipeline's progress(done, total) callback."""
    return lambda done, total: progress(done / total, desc=f"denoising {done}/{total}")


def number(value, what: str) -> float:
    """A slider's value as sent (a script may send anything): a finite number, else a clear refusal."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ValueError(f"{what} must be a number")
    return float(value)


def optional(check, value, what: str):
    """None (the model's default, for a script that leaves a slider out) or the checked value."""
    return None if value is None else check(value, what)


def whole(value, what: str) -> int:
    if number(value, what) != int(value):
        raise ValueError(f"{what} must be a whole number")
    return int(value)


def _remember(earlier: list, made: list) -> list:
    return (earlier + [made])[-MAX_SETS:] if made else earlier
