"""Command line for Product Image Studio.

    python -m studio data stats --catalog fashion
    python -m studio data stats --catalog furniture --json stats.json
    python -m studio data preview --catalog fashion --size 64 --out fashion.png
    python -m studio data preview --catalog furniture --out furniture.png
    python -m studio data preview --catalog path/to/shop --skip-bad-rows --out shop.png

Heavy libraries are imported inside each command, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m studio", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="inspect product catalogs")
    data_commands = data.add_subparsers(dest="data_command", required=True)

    def catalog_args(p: argparse.ArgumentParser, default_split: str) -> None:
        p.add_argument("--catalog", required=True,
                       help="'fashion', 'furniture', or a folder with metadata.jsonl (imagefolder layout)")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    from .data.base import CatalogError
    from .images import ImageLoadError

    try:
        return args.func(args)
    except (CatalogError, ImageLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
