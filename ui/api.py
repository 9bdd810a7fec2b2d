"""The scriptable API (gradio_client, raw HTTP, MCP): /edit, /repair, /stylize, /export, /upscale, /cutout, the board's
/board_items, /board_decide and /board_history, /other_angles when a multi-view furniture model is installed
(and /generate, which is the Generate room's button itself, in ui/generate.py).

Names and argument order are a contract with merchants' scripts: new arguments go at the end, optional.
Images go in as uploaded files (`gradio_client.handle_file`); a bare server path is refused.
"""

from __future__ import annotations

import json
import zipfile

import gradio as gr
from gradio import FileData

from studio import load_image
from studio.edits import Provenance, Recipe
from studio.edits.export import export as export_file
from studio.edits.steps import neural_style_step, number, repair_step, style_step
from studio.edits.style import TRANSFERS
from studio.edits.session import clean_name
from studio.seeds import check_seed
from studio.text import check_prompt

from .board import reviewer
from .common import Context, friendly, plain, uploaded

FORMATS = ("png", "jpeg", "webp")
MAX_LISTED = 5000                   # the board endpoints answer with at most this many rows (the newest)


def _stem(file) -> str:
    """The uploaded file's own name, made safe, for the file we send back."""
    name = file.get("orig_name") if isinstance(file, dict) else getattr(file, "orig_name", None)
    return clean_name(name if isinstance(name, str) else None) or "image"


def _format(value) -> str:
    if not isinstance(value, str) or value.lower() not in FORMATS + ("jpg",):
        raise ValueError(f"format must be png, jpeg or webp, got {str(value)[:20]!r}")
    return "jpeg" if value.lower() == "jpg" else value.lower()


def build(ctx: Context, demo: gr.Blocks) -> None:
    def edit(image: FileData, recipe: str, format: str = "png", quality: int = 95) -> FileData:
        """Apply a recipe (JSON list of steps) to an image at full resolution; returns the exported file."""
        plain(format=format, quality=quality)
        path = uploaded(image, demo)
        steps = Recipe.from_json(recipe if isinstance(recipe, (str, list, dict)) else str(recipe))
        kind, q = _format(format), number(quality, "quality", 1, 100, whole=True)
        source = load_image(path)
        target = ctx.out_folder() / f"{_stem(image)}-edited.{kind}"
        out = export_file(steps.apply(source, methods=ctx.methods, upscalers=ctx.upscalers), target, quality=q,
                          provenance=Provenance.inherit(path, steps))
        return FileData(path=str(out))

    def repair(image: FileData, mask: FileData, method: str = "telea") -> FileData:
        """Fill the mask's non-zero pixels (any size; resized to the image) with a repair method."""
        plain(method=method)
        step = repair_step(load_image(uploaded(mask, demo), keep_alpha=False), method)
        return edit(image, json.dumps([step]), "png")

    def stylize(image: FileData, reference: FileData | None = None, method: str = "reinhard", strength: float = 1.0,
                region: str = "all", house: str = "") -> FileData:
        """Style from a reference photo: colour transfer (reinhard or histogram), or its textures and colours
        too: "neural" (optimised on EfficientNet-Lite0 features; up to a minute at 1024 px) or "live" (the
        trained live network, one pass; or name one); optionally product-only or background-only (region).
        house: a house style's name (linen, marble, halftone, brushed metal, watercolour) instead of a
        reference, for the neural and live methods."""
        plain(method=method, strength=strength, region=region, house=house)
        live = ctx.studio.live_styles()
        if method == "live" and not live:
            raise ValueError("no live style network is installed here; use method neural")
        neural = {"neural": "quality", "quality": "quality", "live": live[0] if live else None,
                  **{name: name for name in live}}.get(method)
        if neural is None and method not in TRANSFERS:
            raise ValueError(f"method must be one of {', '.join((*TRANSFERS, 'neural', 'live', *live))}, "
                             f"got {str(method)[:40]!r}")
        if house and not neural:
            raise ValueError("a house style restyles textures: use method neural or live with it")
        if not house and reference is None:
            raise ValueError("upload a style reference photo, or name a house style")
        reference = None if house else load_image(uploaded(reference, demo), keep_alpha=False)
        step = (neural_style_step(reference, region, strength, neural, house=house or None) if neural
                else style_step(reference, method, region, strength))
        return edit(image, json.dumps([step]), "png")

    def export(image: FileData, format: str = "png", quality: int = 95, preset: str = "",
               prompt: str = "", seed: int = -1, model: str = "") -> FileData:
        """Write an image as PNG/JPEG/WebP with provenance; an optional marketplace preset is applied first.
        prompt/seed/model mark a generated image (seed -1 = none)."""
        plain(format=format, quality=quality, preset=preset, prompt=prompt, seed=seed, model=model)
        path = uploaded(image, demo)
        steps = Recipe.from_json([{"op": "preset", "preset": preset}] if preset else [])
        kind, q = _format(format), number(quality, "quality", 1, 100, whole=True)
        seed_used = None if seed in (-1, None) else check_seed(seed)
        for value, what in ((prompt, "prompt"), (model, "model")):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{what} must be text")
        if prompt:
            check_prompt(prompt)
        if model and len(model) > 100:
            raise ValueError("a model name is at most 100 characters")
        inherited = Provenance.inherit(path, steps)
        made = Provenance("generated", prompt=prompt or None, seed=seed_used, model=model or None,
                          recipe=steps) if prompt or model else inherited
        out = export_file(steps.apply(load_image(path)), ctx.out_folder() / f"{_stem(image)}.{kind}", quality=q,
                          provenance=made)
        return FileData(path=str(out))

    def upscale(image: FileData, factor: int = 2, method: str = "model", format: str = "png") -> FileData:
        """Enlarge an image exactly `factor` (2 or 4) times: method "model" (the trained upscaler for that
        factor), "lanczos", "bicubic", or an upscaler's name. The file's metadata names what was used."""
        plain(factor=factor, method=method, format=format)
        _words(method=method)
        factor = number(factor, "factor", 2, 4, whole=True)
        name = f"upscaler-x{factor}" if method in ("model", "", None) else method
        if name not in ctx.upscalers:
            raise ValueError(f"no upscaler named {name[:40]!r} here; available: {', '.join(ctx.upscalers.choices)}")
        return edit(image, json.dumps([{"op": "upscale", "factor": factor, "method": name}]), format)

    def cutout(image: FileData) -> FileData:
        """The product cut out: a PNG with the background transparent (the learned cut-out when installed,
        else the colour-based mask; an upload that already has transparency keeps its own)."""
        return edit(image, json.dumps([{"op": "background", "background": {"kind": "transparent"},
                                        "shadow": None}]), "png")

    for fn in (edit, repair, stylize, export, upscale, cutout):
        gr.api(friendly(fn), api_name=fn.__name__, concurrency_id="cpu", concurrency_limit=4)

    from studio.pipelines import ANGLES

    if ctx.studio.models(ANGLES):
        def other_angles(prompt: str, seed: int, variant: int = 1, variants: int = 4, views: str = "",
                         model: str = "", truncation: float = 1.0, steps: int = 20,
                         guidance: float = 0.0) -> FileData:
            """Variant #`variant` (1-based) of a generation with a multi-view furniture model (`prompt` as the
            model was given it, `seed`, `variants` in the batch, and its settings: truncation for a VAE,
            steps and guidance (0: the model's own) for diffusion) from each view ("" = all: front,
            three-quarter, side, rear three-quarter, back, top; or a comma-separated list). Returns a zip: a
            PNG per view with its provenance, and manifest.json."""
            plain(prompt=prompt, seed=seed, variant=variant, variants=variants, truncation=truncation, steps=steps,
                  guidance=guidance)
            _words(views=views, model=model)
            names = [v.strip() for v in views.split(",") if v.strip()] if views else None
            index = number(variant, "variant", 1, 64, whole=True) - 1
            size = number(variants, "variants", 1, 64, whole=True)
            if model and model not in ctx.studio.models(ANGLES):
                raise ValueError(f"unknown model for other angles; available: {', '.join(ctx.studio.models(ANGLES))}")
            result = ctx.studio.other_angles(check_prompt(prompt), check_seed(seed), index=index, n=size,
                                             model=model or None, views=names,
                                             truncation=number(truncation, "truncation", 0.2, 2.0),
                                             steps=number(steps, "steps", 1, 50, whole=True),
                                             guidance=number(guidance, "guidance", 0, 10) or None)
            folder = ctx.out_folder()
            rows = []
            for view, image, text in zip(result.parameters["views"], result.images, result.parameters["prompts"]):
                name = f"angle-{view.replace(' ', '-')}-seed{result.seed}.png"
                used = result.parameters
                export_file(image, folder / name, sidecar=False,
                            provenance=Provenance("generated", prompt=text, seed=result.seed, model=result.model,
                                                  truncation=used.get("truncation"), steps=used.get("steps"),
                                                  guidance=used.get("guidance")))
                rows.append({"file": name, "view": view, "prompt": text, "seed": result.seed, "variant": index + 1,
                             "variants": size, "model": result.model})
            target = folder / f"angles-seed{result.seed}-{index + 1}.zip"
            with zipfile.ZipFile(target, "w") as archive:
                for row in rows:
                    archive.write(folder / row["file"], row["file"])
                archive.writestr("manifest.json", json.dumps(rows, indent=2))
            return FileData(path=str(target))

        gr.api(friendly(other_angles), api_name="other_angles", concurrency_id="model", concurrency_limit=1)

    def board_items(status: str = "") -> list[dict]:
        """The board's items, newest first (status: "", pending, approved, rejected or starred); at most the
        newest 5000."""
        _words(status=status)
        if status == "starred":
            found = ctx.board.items(starred=True)
        else:
            found = ctx.board.items(status=status or None)
        return [{"id": i.id, "title": i.title, "status": i.status, "prompt": i.prompt, "seed": i.seed,
                 "model": i.model, "approved_by": list(i.approvals), "rejected_by": list(i.rejections),
                 "stars": len(i.stars), "comments": [{"reviewer": r, "text": t} for r, t, _ in i.comments]}
                for i in found[:MAX_LISTED]]

    def board_decide(item_id: str, reviewer_name: str, action: str, comment: str = "", request_key: str = "",
                     request: gr.Request = None) -> dict:
        """Record approve, reject, reset, star, unstar or comment on an item. With sign-in the signed-in user
        is the reviewer and reviewer_name is ignored. A request_key (8-64 characters, unique per request)
        makes a retry safe: the same key records once."""
        _words(item_id=item_id, reviewer_name=reviewer_name, action=action, comment=comment,
               request_key=request_key)
        decision = ctx.board.decide(item_id or "", reviewer(ctx, reviewer_name, request), action or "",
                                    comment or None, verified=ctx.verified_names, request_key=request_key or None)
        return _decision(decision)

    def board_history(item_id: str = "") -> list[dict]:
        """The audit trail, oldest first: every decision (on one item, or on the whole board); at most the
        latest 5000."""
        _words(item_id=item_id)
        return [_decision(d) for d in ctx.board.history(item_id or None, limit=MAX_LISTED)]

    for fn in (board_items, board_decide, board_history):
        gr.api(friendly(fn), api_name=fn.__name__, concurrency_id="board", concurrency_limit=8)


def _words(**named) -> None:
    """The board's arguments are text (or left out): anything else is refused before it reaches the database."""
    for what, value in named.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{what} must be text")
        if value and len(value) > 2000:
            raise ValueError(f"{what} is longer than 2000 characters")


def _decision(d) -> dict:
    return {"id": d.id, "item_id": d.item_id, "reviewer": d.reviewer, "action": d.action, "comment": d.comment,
            "at": d.at, "verified": d.verified}
