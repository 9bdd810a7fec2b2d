"""Command line for Product Image Studio.

    python -m studio data stats --catalog fashion
    python -m studio data stats --catalog furniture --json stats.json
    python -m studio data preview --catalog fashion --size 64 --out fashion.png
    python -m studio data preview --catalog furniture --out furniture.png
    python -m studio data preview --catalog path/to/shop --skip-bad-rows --out shop.png
    python -m studio train evaluator --catalog fashion --epochs 18 --out weights/evaluator-fashion
    python -m studio train vae --catalog fashion --size 32 --width 32 --steps 6000 --max-minutes 110
    python -m studio train vae --catalog fashion --steps 6000 --max-minutes 110 --resume   # the next leg
    accelerate launch --num_processes 2 -m studio train vae --catalog fashion        # several processes
    python -m studio train vae-prior --model weights/vae-fashion --components 32 --steps 3000
    python -m studio card weights/vae-fashion                  # re-evaluate, rewrite the model card
    python -m studio eval generate --model retrieval --prompts studio/eval/prompts/fashion-visible.jsonl \
        --per-prompt 10 --seed 0 --json runs/eval-retrieval.json
    python -m studio eval repair --method telea --catalog fashion --masks thin,medium,thick --n 500 \
        --seed 0 --json runs/repair-telea.json
    python -m studio eval repair --method telea,ns,inpaint-photos --inpainter weights/inpaint-photos \
        --catalog photos --masks medium,thick --n 200
    python -m studio eval mask --catalog furniture --split test --size 256
    python -m studio eval prompts --out studio/eval/prompts/fashion-visible.jsonl
    python -m studio eval validate --model weights/diffusion-fashion --model runs/diffusion-w48-out
    python -m studio eval views --model weights/diffusion-furniture-views --per-prompt 4
    python -m studio cascade runs/diffusion-fv-out --upscaler runs/upscaler-views-out --out weights/diffusion-furniture-views
    python -m studio edit --recipe recipe.json photos/ extra.jpg --out edited/ --format jpeg --quality 92
    python -m studio upscale photo.jpg --scale 2 --out photo-2x.png
    python -m studio cutout photo.jpg --out photo-cut.png
    python -m studio train upscaler --scale 4 --steps 6000 --max-minutes 40
    python -m studio eval upscale --scale 4 --model weights/upscaler-x4 --json runs/eval-upscale-x4.json

Heavy libraries are imported inside each command, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _data_render(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from .data.multiview import build_views

    start = time.perf_counter()
    with tqdm(unit="item", desc="rendering", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        index = build_views(args.size, cache=args.cache, workers=args.workers, limit=args.limit, progress=progress)
    found = json.loads(Path(index).read_text())
    print(f"{len(found['keys'])} items x {len(found['views'])} views at {args.size} px in {index.parent} "
          f"({time.perf_counter() - start:.0f} s; {len(found['failed'])} models could not be read"
          + (": " + ", ".join(found["failed"]) if found["failed"] else "") + ")")
    return 0


def _data_cutout_objects(args: argparse.Namespace) -> int:
    from .data.composites import build_objects

    for split in ("test", "train"):
        index = build_objects(split, cache=args.cache, workers=args.workers, limit=args.limit,
                              progress=lambda line: print(line, file=sys.stderr))
        print(f"{split}: {json.loads(Path(index).read_text())['count']} objects in {index.parent}")
    return 0


def _data_stats(args: argparse.Namespace) -> int:
    from .data import catalog_splits, open_catalog
    from .data.preview import label_counts

    splits = catalog_splits(args.catalog) if args.split == "all" else (args.split,)
    report: dict[str, dict] = {}
    note = ""
    for split in splits:
        catalog = open_catalog(args.catalog, split=split, seed=args.seed,
                               on_error="skip" if args.skip_bad_rows else "raise")
        counts = label_counts(catalog)
        note = catalog.note
        report[split] = {"count": len(catalog),
                         "labels": {a: dict(sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0]))))
                                    for a, c in counts.items()}}
        problems = getattr(catalog, "problems", [])
        if problems:
            report[split]["bad_rows"] = [str(p) for p in problems]
    name = args.catalog
    print(f"catalog {name}: " + ", ".join(f"{s} {r['count']:,}" for s, r in report.items())
          + f" (total {sum(r['count'] for r in report.values()):,})")
    if note:
        print(f"  {note}")
    for split, r in report.items():
        print(f"\n[{split}] {r['count']:,} samples")
        for attribute, values in r["labels"].items():
            if attribute == "name":
                print(f"  {attribute}: {len(values)} distinct")
                continue
            shown = ", ".join(f"{v}={c:,}" for v, c in values.items())
            print(f"  {attribute} ({len(values)}): {shown}")
        for problem in r.get("bad_rows", []):
            print(f"  bad row skipped: {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"\nwrote {args.json}")
    return 0


def _data_preview(args: argparse.Namespace) -> int:
    from .data import open_catalog
    from .data.preview import contact_sheet

    catalog = open_catalog(args.catalog, split=args.split, size=args.size, seed=args.seed,
                           on_error="skip" if args.skip_bad_rows else "raise")
    sheet = contact_sheet(catalog, n=args.n, columns=args.columns, tile=args.tile, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    print(f"wrote {out} ({min(args.n, len(catalog))} samples of {catalog.name}/{catalog.split}, "
          f"{sheet.width}x{sheet.height})")
    return 0


# a dry run: a few steps on a few images, written under runs/dry-run/ (explicit flags still win)
DRY_RUNS = {
    "evaluator": {"epochs": 1, "limit": 512},
    "gan": {"steps": 4, "batch_size": 8, "limit": 64, "phrasings": 2, "log_every": 2},
    "vae": {"steps": 4, "batch_size": 8, "limit": 64, "phrasings": 2, "mask_pool": 32, "prior_components": 4,
            "prior_steps": 4, "prior_phrasings": 2, "log_every": 2},
    "understand": {"steps": 20, "fashion_phrases": 400, "furniture_phrases": 100, "unknown_phrases": 100,
                   "log_every": 10},
    "vaegan": {"steps": 4, "batch_size": 8, "limit": 64, "phrasings": 2, "log_every": 2, "ramp": 2},
    "diffusion": {"steps": 4, "batch_size": 8, "limit": 64, "phrasings": 2, "log_every": 2, "mask_pool": 16,
                  "width": 8, "levels": 2, "attend_at": 8, "size": 16, "warmup_steps": 2},
    "stylenet": {"steps": 3, "batch_size": 2, "limit": 4, "epoch_pairs": 6, "patch": 64, "width": 8, "log_every": 1,
                 "max_side": 256},
    "cutout": {"steps": 3, "batch_size": 2, "limit": 4, "epoch_images": 4, "size": 64, "run_size": 64, "width": 16,
               "log_every": 1, "max_side": 256},
    "inpaint": {"steps": 3, "batch_size": 2, "limit": 4, "epoch_images": 4, "size": 64, "run_size": 64, "width": 16,
                "log_every": 1, "max_side": 256},
    "upscaler": {"steps": 4, "batch_size": 4, "limit": 6, "epoch_patches": 8, "patch": 16, "width": 8, "blocks": 1,
                 "log_every": 2, "max_side": 512},
}


def _trainer(kind: str):
    """(config class, train function) of a trainer, imported on use."""
    if kind == "evaluator":
        from .train.evaluator import EvaluatorTrainConfig, train_evaluator

        return EvaluatorTrainConfig, train_evaluator
    if kind == "gan":
        from .train.gan import GANTrainConfig, train_gan

        return GANTrainConfig, train_gan
    if kind == "understand":
        from .train.configs import UnderstandTrainConfig
        from .train.understand import train_understand

        return UnderstandTrainConfig, train_understand
    if kind == "vaegan":
        from .train.configs import VAEGANTrainConfig
        from .train.vaegan import train_vaegan

        return VAEGANTrainConfig, train_vaegan
    if kind == "diffusion":
        from .train.configs import DiffusionTrainConfig
        from .train.diffusion import train_diffusion

        return DiffusionTrainConfig, train_diffusion
    if kind == "stylenet":
        from .train.configs import StyleNetTrainConfig
        from .train.stylenet import train_stylenet

        return StyleNetTrainConfig, train_stylenet
    if kind == "cutout":
        from .train.configs import CutoutTrainConfig
        from .train.cutout import train_cutout

        return CutoutTrainConfig, train_cutout
    if kind == "inpaint":
        from .train.configs import InpaintTrainConfig
        from .train.inpaint import train_inpaint

        return InpaintTrainConfig, train_inpaint
    if kind == "upscaler":
        from .train.configs import UpscalerTrainConfig
        from .train.upscale import train_upscaler

        return UpscalerTrainConfig, train_upscaler
    from .train.vae import VAETrainConfig, train_vae

    return VAETrainConfig, train_vae


def _train(args: argparse.Namespace) -> int:
    kind = args.train_command
    cls, train = _trainer(kind)
    catalog = Path(getattr(args, "catalog", "fashion")).name
    defaults = dict(DRY_RUNS[kind]) if args.dry_run else {}
    name = kind if kind == "understand" else f"{kind}-{catalog}"        # the heads read every catalog
    if kind == "upscaler":                       # one folder per factor; the renders' apart from the photos'
        scale = getattr(args, "scale", 2)
        name = f"upscaler-x{scale}" if catalog == "photos" else f"upscaler-{catalog}-x{scale}"
    if kind == "stylenet":
        name = "style-live"
    if kind == "cutout":
        name = "cutout"
    if kind == "inpaint":
        name = "inpaint-photos"
    # the VAE-GAN is the GAN family's recipe that ships: it writes weights/gan-<catalog> (its state stays apart)
    folder = f"gan-{catalog}" if kind == "vaegan" else name
    out = getattr(args, "out", None) or (f"runs/dry-run/{name}" if args.dry_run else f"weights/{folder}")
    run_name = name if kind == "vaegan" and not getattr(args, "out", None) else Path(out).name
    defaults.update(out=out, runs=str(Path("runs") / (run_name + ("-dry" if args.dry_run else ""))))
    from .train.configs import config_from_flags

    metrics = train(config_from_flags(cls, args, defaults))
    if kind == "evaluator":
        print(f"wrote {out}: test accuracy " + ", ".join(f"{k} {100 * v:.2f}%" for k, v in metrics["test_accuracy"].items()))
    return 0


def _train_vae_prior(args: argparse.Namespace) -> int:
    from .train.configs import PriorFitConfig, config_from_flags
    from .train.vae import fit_prior

    fit_prior(args.model, config_from_flags(PriorFitConfig, args))
    return 0


def _card(args: argparse.Namespace) -> int:
    from .cards import EVALUATION, evaluate, write_card

    folder = Path(args.model)
    target = args.json or folder / EVALUATION
    if args.from_json:
        evaluation = json.loads(Path(args.from_json).read_text())
    else:
        evaluation = evaluate(folder, device=args.device, per_prompt=args.per_prompt, swap_pairs_n=args.swap_pairs,
                              repair_n=args.repair_n, log=lambda m: print(m, file=sys.stderr))
    card = write_card(folder, evaluation, json_path=None if args.from_json else target)
    print(f"wrote {card}" + ("" if args.from_json else f" and {target}"))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from .pipelines import open_pipeline, sampling

    pipeline = open_pipeline(args.model, device=args.device)
    settings = sampling(pipeline, {"truncation": args.truncation, "steps": args.steps, "guidance": args.guidance})
    result = pipeline(args.prompt, num_images=args.n, seed=args.seed, **settings)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(result.images):
        image.save(out / f"{result.model}-seed{result.seed}-{i:02d}.png")
    print(f"wrote {len(result.images)} images to {out} (seed {result.seed})")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .convert import convert

    for folder in args.folders:
        convert(folder, half=args.half)
        print(f"converted {folder}")
    return 0


def _cascade(args: argparse.Namespace) -> int:
    from .pipelines import cascade

    settings = {}
    if args.guidance is not None:
        settings["default_guidance"] = args.guidance
    if args.interval is not None:
        low, _, high = args.interval.partition(",")
        try:
            settings["guidance_interval"] = [float(low), None if high.strip() in ("", "none") else float(high)]
        except ValueError:
            raise ValueError(f"--interval is LOW,HIGH (HIGH may be none), got {args.interval!r}") from None
    out = cascade(args.model, None if args.upscaler == "none" else args.upscaler, args.out, **settings)
    print(f"wrote {out}: run `python -m studio card {out}` to measure it and write its card")
    return 0


def _edit(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .edits.batch import collect_images, edit_files
    from .edits.recipe import Recipe
    from .runtime import tune_allocator

    tune_allocator()

    path = Path(args.recipe)
    if not path.is_file():
        raise FileNotFoundError(f"no such recipe file: {path}")
    recipe = Recipe.from_json(path.read_text())
    total = len(collect_images(args.images))
    with tqdm(total=total, unit="image", desc="editing", file=sys.stderr, disable=args.quiet) as bar:
        def progress(source: Path, error: str | None) -> None:
            if error:
                tqdm.write(f"error: {source}: {error}", file=sys.stderr)
            bar.update(1)

        result = edit_files(recipe, args.images, args.out, format=None if args.format == "keep" else args.format,
                            quality=args.quality, sidecar=not args.no_sidecar, overwrite=args.overwrite,
                            workers=args.workers, scheduler=args.scheduler, progress=progress)
        bar.update(len(result.skipped))
    print(f"edited {len(result.written)} of {total} images into {args.out}"
          + (f" ({len(result.skipped)} already done by an earlier run, skipped)" if result.skipped else "")
          + (f"; {len(result.failures)} failed (listed above)" if result.failures else ""))
    return 1 if result.failures else 0


def _write_json(path: str | None, payload: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {path}")


def _eval_generate(args: argparse.Namespace) -> int:
    from .eval.generate import evaluate_generation, markdown_table, open_sampler, style_table
    from .eval.judge import Judge, default_evaluator
    from .eval.prompts import load_prompts

    specs = load_prompts(args.prompts)
    catalog = specs[0].catalog
    judge = Judge(args.evaluator or default_evaluator(catalog), device=args.device)
    sampler = open_sampler(args.model, catalog=catalog, size=args.size, device=args.device,
                           settings={"steps": args.steps, "guidance": args.guidance})
    reads = "raw"
    if not args.raw_prompts and args.model not in ("real", "retrieval"):
        from .eval.generate import UnderstoodSampler
        from .understand import PromptReader

        reader = PromptReader(args.understand, device=args.device) if args.understand else PromptReader(device=args.device)
        sampler, reads = UnderstoodSampler(sampler, reader), args.understand or "weights/understand"
    result = evaluate_generation(sampler, specs, args.per_prompt, args.seed, judge, catalog=catalog,
                                 log=lambda m: print(m, file=sys.stderr))
    result["prompts_file"], result["prompts_read_by"] = str(args.prompts), reads
    print(markdown_table(result))
    if len(result.get("attribute_accuracy_by_style", {})) > 1:
        print("\n" + style_table(result))
    print(f"\n{result['n_images']} images, {result['seconds']:.0f} s")
    _write_json(args.json, result)
    return 0


def _eval_views(args: argparse.Namespace) -> int:
    from .data.views import LABELS
    from .eval.judge import Judge, default_evaluator
    from .eval.prompts import load_prompts
    from .eval.views import evaluate_views, markdown_table
    from .pipelines import open_pipeline

    specs = load_prompts(args.prompts)
    if args.limit:
        specs = specs[:args.limit]
    judge = Judge(args.evaluator or default_evaluator("furniture-views"), device=args.device)
    views = [v.strip() for v in args.views.split(",") if v.strip()] if args.views else list(LABELS)
    result = evaluate_views(open_pipeline(args.model, args.device), specs, args.per_prompt, args.seed, judge,
                            views=views, log=lambda m: print(m, file=sys.stderr))
    result["prompts_file"] = str(args.prompts)
    print(markdown_table(result))
    print(f"\n{result['strips']} strips, {result['seconds']:.0f} s")
    _write_json(args.json, result)
    return 0


def _understand(args: argparse.Namespace) -> int:
    from .checkpoints import WEIGHTS_DIR
    from .studio import Studio

    chosen = {}
    for pair in args.set or ():
        head, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set takes HEAD=LABEL (e.g. color=blue), not {pair!r}")
        chosen[head.strip()] = value.strip() or None
    understood = Studio(args.weights or WEIGHTS_DIR).understand(args.prompt, labels=chosen)
    print(json.dumps(understood.to_dict(), indent=2, ensure_ascii=False))
    return 0


def _eval_repair(args: argparse.Namespace) -> int:
    from .edits.repair import CLASSICAL
    from .eval.repair import evaluate_repair, markdown_table

    methods = CLASSICAL.with_model("vae", args.vae) if args.vae else CLASSICAL
    for folder in filter(None, (args.inpainter or "").split(",")):
        methods = methods.with_model(Path(folder).name, folder)
    results = [evaluate_repair(method, catalog=args.catalog, masks=tuple(args.masks.split(",")), n=args.n,
                               seed=args.seed, size=args.size, methods=methods) for method in args.method.split(",")]
    print(markdown_table(results))
    _write_json(args.json, results[0] if len(results) == 1 else {"results": results})
    return 0


def _eval_upscale(args: argparse.Namespace) -> int:
    from .eval.upscale import evaluate_upscale, markdown_table, upscale_methods

    models = [m.strip() for m in args.model.split(",") if m.strip()] if args.model else []
    result = evaluate_upscale(upscale_methods(args.scale, models, args.device), args.scale, crops=args.crops,
                              seed=args.seed, max_side=args.max_side, log=lambda m: print(m, file=sys.stderr))
    print(markdown_table(result))
    print(f"\n{result['seconds']:.0f} s")
    _write_json(args.json, result)
    return 0


def _upscale(args: argparse.Namespace) -> int:
    """One `upscale` recipe step on the image, exported like an edit: the file's metadata names the factor
    and the method, and a trained upscaler marks the result as made with a model."""
    from .checkpoints import WEIGHTS_DIR
    from .edits.export import Provenance, export
    from .edits.recipe import Recipe
    from .edits.upscale import CLASSICAL_UPSCALERS
    from .images import load_image

    image = load_image(args.image)
    upscalers, method = CLASSICAL_UPSCALERS, args.method
    if method == "model":
        folder = Path(args.model) if args.model else WEIGHTS_DIR / f"upscaler-x{args.scale}"
        method = folder.name
        upscalers = upscalers.with_model(method, folder, args.device)
    recipe = Recipe.from_json([{"op": "upscale", "factor": args.scale, "method": method}])
    result = recipe.apply(image, upscalers=upscalers)
    out = export(result, args.out, provenance=Provenance.inherit(args.image, recipe), sidecar=not args.no_sidecar)
    print(f"wrote {out} ({image.width}x{image.height} -> {result.width}x{result.height}, {method})")
    return 0


def _cutout(args: argparse.Namespace) -> int:
    """The product cut out onto transparency, as the app's Remove background does: the learned cut-out
    when weights/cutout is installed, else the colour-based mask."""
    import numpy as np

    from .edits.export import Provenance, export
    from .edits.mask import learned_mask_installed
    from .edits.recipe import Recipe
    from .images import load_image

    if Path(args.out).suffix.lower() not in (".png", ".webp"):
        raise ValueError("a cut-out needs transparency: write it as .png or .webp")
    image = load_image(args.image)
    recipe = Recipe.from_json([{"op": "background", "background": {"kind": "transparent"}, "shadow": None}])
    result = recipe.apply(image)
    out = export(result, args.out, provenance=Provenance.inherit(args.image, recipe), sidecar=not args.no_sidecar)
    kept = float((np.asarray(result.getchannel("A")) >= 128).mean())
    print(f"wrote {out} ({result.width}x{result.height}, product {kept:.0%} of the frame, "
          f"{'learned cut-out' if learned_mask_installed() else 'colour-based mask'})")
    return 0


def _eval_style(args: argparse.Namespace) -> int:
    from .eval.style import evaluate_style, markdown_table, style_methods, style_pairs

    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    if "live" in names and not Path(args.live, "config.json").is_file():
        print(f"no live style network at {args.live}: measuring the others", file=sys.stderr)
        names.remove("live")
    strengths = tuple(float(a) for a in args.strengths.split(","))
    try:
        methods = style_methods(names, args.live, strengths)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    result = evaluate_style(methods, style_pairs(args.styles, args.split), side=args.side,
                            log=lambda m: print(m, file=sys.stderr))
    print(markdown_table(result))
    _write_json(args.json, result)
    return 0


def _eval_validate(args: argparse.Namespace) -> int:
    from .eval.validate import markdown_table, validate

    scales = tuple(float(g) for g in args.guidance.split(",")) if args.guidance else (None,)
    rows = validate(args.model, per_prompt=args.per_prompt, prompts=args.prompts, pairs=args.pairs,
                    seed=args.seed, device=args.device, guidance=scales)
    print(markdown_table(rows))
    _write_json(args.json, rows)
    return 0


def _eval_swap(args: argparse.Namespace) -> int:
    from .eval.generate import open_sampler
    from .eval.judge import Judge, default_evaluator
    from .eval.swap import swap_pairs, swap_test

    judge = Judge(args.evaluator or default_evaluator("fashion"), device=args.device)
    sampler = open_sampler(args.model, size=args.size, device=args.device)
    result = swap_test(sampler, judge, swap_pairs(args.pairs, args.seed), args.per_prompt, args.seed)
    result["model"] = sampler.name
    print(f"swap test, {sampler.name}: {100 * result['swap_accuracy']:.1f}% of samples follow the swap "
          f"({result['pairs']} pairs x 2 orders x {args.per_prompt}); "
          f"{100 * result['pairs_fully_right']:.0f}% of pairs fully right")
    _write_json(args.json, result)
    return 0


def _eval_mask(args: argparse.Namespace) -> int:
    from .eval.segment import evaluate_mask, mask_methods, markdown_table

    methods = mask_methods(tuple(m.strip() for m in args.methods.split(",") if m.strip()), args.model)
    result = evaluate_mask(args.catalog, split=args.split, size=args.size, limit=args.limit, methods=methods,
                           cache=args.cache)
    print(f"product masks on {result['images']} {result['catalog']}/{result['split']} images at {result['size']} px "
          f"({result['seconds']:.1f} s)")
    print(markdown_table(result))
    _write_json(args.json, result)
    return 0


def _eval_prompts(args: argparse.Namespace) -> int:
    from .eval.prompts import build_fashion_suite, build_furniture_suite, build_views_suite, write_prompts

    builders = {"furniture": lambda: build_furniture_suite(seed=args.seed),
                "furniture-views": lambda: build_views_suite(seed=args.seed)}
    specs = builders.get(args.catalog, lambda: build_fashion_suite(n=args.n, seed=args.seed))()
    path = write_prompts(specs, args.out)
    print(f"wrote {path} ({len(specs)} prompts)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .train.configs import (
        DiffusionTrainConfig,
        EvaluatorTrainConfig,
        GANTrainConfig,
        InpaintTrainConfig,
        PriorFitConfig,
        CutoutTrainConfig,
        StyleNetTrainConfig,
        UnderstandTrainConfig,
        UpscalerTrainConfig,
        VAEGANTrainConfig,
        VAETrainConfig,
        add_config_flags,
    )

    parser = argparse.ArgumentParser(prog="python -m studio", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="inspect product catalogs")
    data_commands = data.add_subparsers(dest="data_command", required=True)

    def catalog_args(p: argparse.ArgumentParser, default_split: str) -> None:
        p.add_argument("--catalog", required=True,
                       help="'fashion', 'furniture', 'furniture-views' (after `data render`), or a folder with "
                            "metadata.jsonl (imagefolder layout)")
        p.add_argument("--split", default=default_split, help=f"split to read (default: {default_split})")
        p.add_argument("--seed", type=int, default=0, help="colourway/background/caption seed (default: 0)")
        p.add_argument("--skip-bad-rows", action="store_true",
                       help="merchant folders: load the good rows and list the bad ones instead of failing")

    stats = data_commands.add_parser("stats", help="counts per split and per attribute value")
    catalog_args(stats, "all")
    stats.add_argument("--json", help="also write the counts to this JSON file")
    stats.set_defaults(func=_data_stats)

    preview = data_commands.add_parser("preview", help="a contact sheet of samples with their captions")
    catalog_args(preview, "train")
    preview.add_argument("--out", required=True, help="PNG file to write")
    preview.add_argument("--n", type=int, default=24, help="number of samples (default: 24)")
    preview.add_argument("--columns", type=int, default=6, help="samples per row (default: 6)")
    preview.add_argument("--size", type=int, default=None,
                         help="catalog image size in px (default: 32 fashion, 64 otherwise)")
    preview.add_argument("--tile", type=int, default=160, help="tile size on the sheet in px (default: 160)")
    preview.set_defaults(func=_data_preview)

    render = data_commands.add_parser("render", help="render every furniture model from 17 views (the "
                                                     "furniture-views catalog's cache)")
    render.add_argument("--size", type=int, default=64, help="render size in px: 64 or 128 (default: 64)")
    render.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="render processes, one OpenGL context each (default: the cores, at most 2)")
    render.add_argument("--cache", default=None, help="where the renders go (default: $STUDIO_VIEWS_CACHE or "
                                                      "runs/views)")
    render.add_argument("--limit", type=int, default=None, help="only the first N items (a quick look)")
    render.set_defaults(func=_data_render)

    objects = data_commands.add_parser("cutout-objects", help="render and read the cut-out's objects with true "
                                                              "alpha (train and test banks, minutes)")
    objects.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="render processes")
    objects.add_argument("--cache", default=None, help="where the banks go (default: $STUDIO_CUTOUT_CACHE or "
                                                       "runs/cutout)")
    objects.add_argument("--limit", type=int, default=None, help="only the first N furniture items (a quick look)")
    objects.set_defaults(func=_data_cutout_objects)

    train = commands.add_parser("train", help="train a model and write weights/<name>/ (under `accelerate launch` "
                                              "too: one process per device)")
    train_commands = train.add_subparsers(dest="train_command", required=True)
    for kind, description in (("evaluator", "the attribute evaluator (the harness's judge)"),
                              ("gan", "the text-conditioned GAN"),
                              ("vae", "the text-conditioned VAE (sampling, variations, repair)"),
                              ("understand", "the prompt-understanding heads (labels, routing, unknown products)"),
                              ("vaegan", "the VAE-GAN: a trained VAE's decoder fine-tuned adversarially (writes "
                                         "weights/gan-<catalog>)"),
                              ("diffusion", "the text-conditioned diffusion model (generation, more like this, "
                                            "repair)"),
                              ("upscaler", "the x2/x4 upscaler on the installed photos (writes "
                                           "weights/upscaler-x<scale>), or with --catalog furniture-views on "
                                           "the training renders (a generator's second stage)"),
                              ("stylenet", "the live style network's decoder on the installed photos (writes "
                                           "weights/style-live)"),
                              ("cutout", "the learned product cut-out on composites (run `data cutout-objects` "
                                         "first; writes weights/cutout)"),
                              ("inpaint", "the photo inpainter (repair) on the installed photos (writes "
                                          "weights/inpaint-photos)")):
        trainer = train_commands.add_parser(kind, help=description)
        add_config_flags(trainer, {"evaluator": EvaluatorTrainConfig, "gan": GANTrainConfig, "vae": VAETrainConfig,
                                   "understand": UnderstandTrainConfig, "vaegan": VAEGANTrainConfig,
                                   "diffusion": DiffusionTrainConfig, "upscaler": UpscalerTrainConfig,
                                   "stylenet": StyleNetTrainConfig, "cutout": CutoutTrainConfig,
                                   "inpaint": InpaintTrainConfig}[kind])
        trainer.add_argument("--dry-run", action="store_true",
                             help="a few steps on a few images, written under runs/dry-run/")
        trainer.set_defaults(func=_train)
    prior = train_commands.add_parser("vae-prior", help="fit (or refit) a trained VAE's mixture prior p(z | text)")
    prior.add_argument("--model", required=True, help="a VAE folder, rewritten in place")
    add_config_flags(prior, PriorFitConfig)
    prior.set_defaults(func=_train_vae_prior)

    card = commands.add_parser("card", help="re-evaluate a model folder and rewrite its model card (README.md)")
    card.add_argument("model", help="a model folder, e.g. weights/vae-fashion")
    card.add_argument("--from-json", default=None, help="write the card from this evaluation JSON, measuring nothing")
    card.add_argument("--json", default=None, help="where the evaluation goes (default: evaluation.json in the "
                                                   "folder, beside the card it makes)")
    card.add_argument("--per-prompt", type=int, default=10, help="images per prompt (default: 10)")
    card.add_argument("--swap-pairs", type=int, default=50, help="swap-test prompt pairs (default: 50)")
    card.add_argument("--repair-n", type=int, default=500, help="images per repair mask set (default: 500)")
    card.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    card.set_defaults(func=_card)

    sample = commands.add_parser("generate", help="images for a description from a trained generator")
    sample.add_argument("prompt", help="the product description")
    sample.add_argument("--model", required=True, help="a generator folder, e.g. weights/gan-fashion")
    sample.add_argument("-n", type=int, default=4, help="number of images (default: 4)")
    sample.add_argument("--seed", type=int, default=None, help="seed (default: a fresh one, printed)")
    sample.add_argument("--truncation", type=float, default=None, help="noise truncation threshold, e.g. 1.0")
    sample.add_argument("--steps", type=int, default=None, help="diffusion: solver steps (default: 20)")
    sample.add_argument("--guidance", type=float, default=None, help="diffusion: guidance scale (default: the model folder's own)")
    sample.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    sample.add_argument("--out", required=True, help="folder for the PNGs")
    sample.set_defaults(func=_generate)

    convert = commands.add_parser("convert", help="rewrite model folders of the first layout in diffusers' layout")
    convert.add_argument("folders", nargs="+", help="model folders (config.json with kind and config)")
    convert.add_argument("--half", action="store_true", help="store generator weights in float16")
    convert.set_defaults(func=_convert)

    stack = commands.add_parser("cascade", help="a diffusion folder with an upscaler as its second stage "
                                                "(images at the upscaler's scale), and its sampling settings")
    stack.add_argument("model", help="a diffusion folder (e.g. one `train diffusion` wrote)")
    stack.add_argument("--upscaler", required=True, help="an upscaler folder (e.g. `train upscaler --catalog "
                                                         "furniture-views`), or none")
    stack.add_argument("--out", required=True, help="the folder to write")
    stack.add_argument("--guidance", type=float, default=None, help="its default guidance (default: the model's)")
    stack.add_argument("--interval", default=None, help="its guidance interval LOW,HIGH in sigma (HIGH may be "
                                                        "none; default: the model's)")
    stack.set_defaults(func=_cascade)

    edit = commands.add_parser("edit", help="apply an edit recipe to images and folders of images")
    edit.add_argument("images", nargs="+", help="image files and/or folders (their PNG/JPEG/WebP/GIF/BMP/TIFF)")
    edit.add_argument("--recipe", required=True, help="recipe JSON: a list of steps (see studio/edits/recipe.py)")
    edit.add_argument("--out", required=True, help="output folder (never one of the inputs' files)")
    edit.add_argument("--format", choices=("keep", "png", "jpeg", "webp"), default="keep",
                      help="output format (default: keep the input's; PNG for GIF/BMP/TIFF)")
    edit.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1..100 (default: 95)")
    edit.add_argument("--no-sidecar", action="store_true", help="do not write <file>.json beside each output")
    edit.add_argument("--overwrite", action="store_true", help="replace existing outputs instead of numbering")
    edit.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                      help="processes on this machine (default: the cores, at most 4; 1 = this process only)")
    edit.add_argument("--scheduler", default=None,
                      help="a dask.distributed scheduler (tcp://host:8786) to spread the files over; its workers "
                           "must see the inputs and --out at the same paths")
    edit.add_argument("--quiet", action="store_true", help="no progress bar")
    edit.set_defaults(func=_edit)

    enlarge = commands.add_parser("upscale", help="enlarge an image x2 or x4 with the trained upscaler (exactly "
                                                  "the input's size times the factor)")
    enlarge.add_argument("image", help="the image file")
    enlarge.add_argument("--scale", type=int, choices=(2, 4), required=True, help="upscale factor")
    enlarge.add_argument("--out", required=True, help="the file to write (PNG, JPEG or WebP by its extension)")
    enlarge.add_argument("--model", default=None, help="upscaler folder (default: weights/upscaler-x<scale>)")
    enlarge.add_argument("--method", default="model", choices=("model", "lanczos", "bicubic"),
                         help="model (default) or a classical filter")
    enlarge.add_argument("--no-sidecar", action="store_true", help="do not write <file>.json beside the output")
    enlarge.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    enlarge.set_defaults(func=_upscale)

    cut = commands.add_parser("cutout", help="cut the product out onto transparency (an RGBA PNG or WebP)")
    cut.add_argument("image", help="the image file")
    cut.add_argument("--out", required=True, help="the file to write (.png or .webp)")
    cut.add_argument("--no-sidecar", action="store_true", help="do not write <file>.json beside the output")
    cut.set_defaults(func=_cutout)

    user = commands.add_parser("user", help="reviewer accounts for the app's --auth-file")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add or replace an account (the password is asked for, or read "
                                               "as one line from stdin)")
    add.add_argument("file", help="the auth file, e.g. studio-data/users.txt (created if missing), or the board "
                                  "database's URL (postgresql://...) for accounts every replica shares")
    add.add_argument("name", help="the reviewer's name, shown on the board")
    add.set_defaults(func=_user_add)

    evaluate = commands.add_parser("eval", help="measure models and repair methods")
    eval_commands = evaluate.add_subparsers(dest="eval_command", required=True)
    generate = eval_commands.add_parser("generate", help="score a text-to-image model on a prompt suite")
    generate.add_argument("--model", required=True,
                          help="a model folder (weights/gan-fashion, ...) or a named baseline: retrieval, real")
    generate.add_argument("--prompts", required=True, help="prompt suite JSONL")
    generate.add_argument("--per-prompt", type=int, default=10, help="images per prompt (default: 10)")
    generate.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    generate.add_argument("--size", type=int, default=32, help="image size of the reference sets (default: 32)")
    generate.add_argument("--evaluator", default=None, help="evaluator folder (default: weights/evaluator-<catalog>)")
    generate.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    generate.add_argument("--steps", type=int, default=None, help="diffusion: solver steps (default: 20)")
    generate.add_argument("--guidance", type=float, default=None, help="diffusion: guidance scale (default: the model folder's own)")
    generate.add_argument("--json", default=None, help="write all metrics to this JSON file")
    generate.add_argument("--raw-prompts", action="store_true",
                          help="give the model the prompts as written, not through studio.understand")
    generate.add_argument("--understand", default=None,
                          help="prompt-understanding heads to read the prompts with (default: weights/understand)")
    generate.set_defaults(func=_eval_generate)

    understand = commands.add_parser("understand", help="what a prompt asks for, as JSON (labels, canonical "
                                                        "prompt, warnings, the model it routes to)")
    understand.add_argument("prompt", help="the product description, any phrasing, English or Chinese")
    understand.add_argument("--weights", default=None, help="weights folder (default: the shipped one)")
    understand.add_argument("--set", action="append", metavar="HEAD=LABEL",
                            help="a label set by hand over what was read (category=coat, color=blue, "
                                 "background=white, furniture_noun=sofa; HEAD= leaves it to the model); repeatable")
    understand.set_defaults(func=_understand)

    repair = eval_commands.add_parser("repair", help="score repair methods on real images with LaMa-style holes")
    repair.add_argument("--method", required=True, help="method name(s), comma-separated: telea,ns")
    repair.add_argument("--catalog", default="fashion", help="catalog whose test split is used, or `photos`: crops of "
                                                             "the held-out real photos (default: fashion)")
    repair.add_argument("--masks", default="thin,medium,thick", help="mask sets (default: thin,medium,thick)")
    repair.add_argument("--n", type=int, default=500, help="images per mask set (default: 500)")
    repair.add_argument("--size", type=int, default=None, help="image size (default: the catalog's)")
    repair.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    repair.add_argument("--vae", default=None, help="a VAE folder to score as method `vae`, e.g. weights/vae-fashion")
    repair.add_argument("--inpainter", default=None, help="photo inpainter folder(s), comma-separated, each scored as "
                                                          "the method named by its folder, e.g. weights/inpaint-photos")
    repair.add_argument("--json", default=None, help="write the metrics to this JSON file")
    repair.set_defaults(func=_eval_repair)

    upscale_eval = eval_commands.add_parser("upscale", help="upscalers against bicubic and Lanczos on held-out photos")
    upscale_eval.add_argument("--scale", type=int, choices=(2, 4), required=True, help="upscale factor")
    upscale_eval.add_argument("--model", default=None,
                              help="upscaler folder(s), comma-separated (default: the classical filters only)")
    upscale_eval.add_argument("--crops", type=int, default=48, help="128 px crops per photo for fd_effnet (default: 48)")
    upscale_eval.add_argument("--max-side", type=int, default=None,
                              help="reduce each photo to this side first (default: full size)")
    upscale_eval.add_argument("--seed", type=int, default=0, help="seed of the crop places (default: 0)")
    upscale_eval.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    upscale_eval.add_argument("--json", default=None, help="write the metrics to this JSON file")
    upscale_eval.set_defaults(func=_eval_upscale)

    style_eval = eval_commands.add_parser("style", help="style methods on held-out photo/reference pairs: style "
                                                        "distance reduction and edge-map SSIM")
    style_eval.add_argument("--styles", type=int, default=None,
                            help="held-out references, each with every held-out photo (default: 6)")
    style_eval.add_argument("--split", choices=("test", "val"), default="test",
                            help="test: the held-out pairs (default); val: training photos and references "
                                 "kept for choosing settings (a network trained with --hold-val never reads them)")
    style_eval.add_argument("--side", type=int, default=512, help="photo side in px (default: 512)")
    style_eval.add_argument("--methods", default="reinhard,quality,live",
                            help="comma-separated: reinhard, quality, live (default: all three)")
    style_eval.add_argument("--live", default="weights/style-live", help="the live network's folder")
    style_eval.add_argument("--strengths", default="1",
                            help="comma-separated strengths for quality and live (default: 1)")
    style_eval.add_argument("--json", default=None, help="write the result to this JSON file")
    style_eval.set_defaults(func=_eval_style)

    swap = eval_commands.add_parser("swap", help="colour-binding test: product and background colours swapped")
    swap.add_argument("--model", required=True, help="a generator folder, or `real` for the ceiling")
    swap.add_argument("--pairs", type=int, default=50, help="prompt pairs (default: 50)")
    swap.add_argument("--per-prompt", type=int, default=4, help="images per prompt (default: 4)")
    swap.add_argument("--size", type=int, default=32, help="image size for `real` (default: 32)")
    swap.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    swap.add_argument("--evaluator", default=None, help="evaluator folder (default: weights/evaluator-fashion)")
    swap.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    swap.add_argument("--json", default=None, help="write the result to this JSON file")
    swap.set_defaults(func=_eval_swap)

    check = eval_commands.add_parser("validate", help="compare fashion generators on the validation split (choosing "
                                                      "a leg without looking at the test images)")
    check.add_argument("--model", action="append", required=True, help="a generator folder (repeat for each)")
    check.add_argument("--per-prompt", type=int, default=8, help="images per prompt (default: 8)")
    check.add_argument("--prompts", type=int, default=100, help="prompts in the validation suite (default: 100)")
    check.add_argument("--pairs", type=int, default=30, help="swap pairs, after the test's 50 (default: 30)")
    check.add_argument("--guidance", default=None,
                       help="diffusion: comma-separated guidance scales, a row each (default: the model's own)")
    check.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    check.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    check.add_argument("--json", default=None, help="write the table's numbers to this JSON file")
    check.set_defaults(func=_eval_validate)

    mask = eval_commands.add_parser("mask", help="score product masks (classical, learned) on images with true alpha")
    mask.add_argument("--catalog", default="furniture", choices=("furniture", "composites"),
                      help="furniture: catalog icons on plain and gradient backdrops; composites: held-out objects "
                           "over held-out photos, textures, clutter, plain and gradient (default: furniture)")
    mask.add_argument("--split", default="test", help="furniture split (default: test)")
    mask.add_argument("--size", type=int, default=256, help="image size in px (default: 256)")
    mask.add_argument("--limit", type=int, default=None, help="only the first N items (composites: objects)")
    mask.add_argument("--methods", default="classical,learned,learned-bilinear",
                      help="comma-separated: classical, learned, learned-bilinear, learned-all-pieces (default: "
                           "the first three)")
    mask.add_argument("--model", default=None, help="cut-out folder for the learned methods (default: weights/cutout)")
    mask.add_argument("--cache", default=None, help="object banks (default: runs/cutout)")
    mask.add_argument("--json", default=None, help="write the result to this JSON file")
    mask.set_defaults(func=_eval_mask)

    views = eval_commands.add_parser("views", help="score other angles: view accuracy and one product per strip")
    views.add_argument("--model", required=True, help="a generator folder trained on the multi-view catalog")
    views.add_argument("--prompts", default="furniture-views-test", help="prompt suite (default: furniture-views-test)")
    views.add_argument("--per-prompt", type=int, default=4, help="variants (strips) per prompt (default: 4)")
    views.add_argument("--views", default=None, help="comma-separated views (default: all six)")
    views.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    views.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    views.add_argument("--evaluator", default=None,
                       help="evaluator folder with a view head (default: weights/evaluator-furniture-views)")
    views.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    views.add_argument("--json", default=None, help="write the result to this JSON file")
    views.set_defaults(func=_eval_views)

    prompts = eval_commands.add_parser("prompts", help="write a prompt suite (deterministic)")
    prompts.add_argument("--out", required=True, help="JSONL file to write")
    prompts.add_argument("--catalog", choices=("fashion", "furniture", "furniture-views"), default="fashion",
                         help="fashion: balanced visible colourways; furniture: captions of the test items; "
                              "furniture-views: the test items' captions, each asking for a view")
    prompts.add_argument("--n", type=int, default=240, help="fashion: number of prompts (default: 240)")
    prompts.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    prompts.set_defaults(func=_eval_prompts)
    return parser


def _user_add(args) -> int:
    import getpass

    from .review.auth import add_user

    password = getpass.getpass(f"password for {args.name}: ") if sys.stdin.isatty() else sys.stdin.readline()
    add_user(args.file, args.name, password.rstrip("\n"))
    from .review.store import redact

    print(f"{args.name} can now sign in with --auth-file {redact(args.file)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    from .data.base import CatalogError
    from .images import ImageLoadError

    try:
        return args.func(args)
    except (CatalogError, ImageLoadError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
