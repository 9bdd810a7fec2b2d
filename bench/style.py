"""Style transfer speed on this CPU (issue 19's goals, 2 CPU cores), each against Reinhard colour transfer
on the same image in the same run:
- live style (`weights/style-live`, one pass): <= 150 ms per preview frame at 512 px (as the app runs it: a
  copy at the reference's side plus the photo's own detail; also the network run at the full 512 px);
- quality style (optimisation) on a 1024 px photo: <= 60 s (as the app runs it, and coarse to fine up to the
  photo's size, the earlier way).

    .venv/bin/python bench/style.py
    .venv/bin/python bench/style.py --live runs/style-live-out --skip-quality

The photo is a crop of a real photo from Debian's mate-backgrounds (`make bench-data`), or, when that package
is absent, a generated texture of the same size (said on the line); the reference is a GIMP pattern when
installed, else a generated one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.checkpoints import WEIGHTS_DIR, open_network  # noqa: E402
from studio.edits.neural_style import (LIVE_STRENGTH, REFERENCE_SIDE, STYLIST, StyleStats,  # noqa: E402
                                      live_stylize, stylize)
from studio.edits.style import ColorStats, transfer  # noqa: E402

PHOTO = Path("/usr/share/backgrounds/mate/nature/Storm.jpg")
PATTERN = Path("/usr/share/gimp/2.0/patterns/Stone/stone33.pat")


def _images(side: int) -> tuple[Image.Image, Image.Image, str]:
    rng = np.random.default_rng(0)
    if PHOTO.is_file():
        photo, kind = Image.open(PHOTO).convert("RGB"), "photo"
        photo = photo.crop((0, 0, min(photo.size), min(photo.size))).resize((side, side), Image.Resampling.LANCZOS)
    else:
        photo, kind = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)), "generated texture"
    if PATTERN.is_file():
        from studio.data.photos import load_photo

        reference = load_photo(PATTERN)
    else:
        reference = Image.fromarray(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8))
    return photo, reference, kind


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", default=str(WEIGHTS_DIR / "style-live"), help="the live style network's folder")
    parser.add_argument("--skip-quality", action="store_true", help="only the live network (the quality run takes "
                                                                   "up to a minute)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    network = STYLIST.network()
    photo, reference, kind = _images(512)
    stats, colours = StyleStats.measure(reference, network), ColorStats.measure(reference)
    reinhard = best_of(lambda: transfer(photo, colours, "reinhard", 0.8), repeat=5, warmup=1)
    if Path(args.live, "config.json").is_file():
        from studio.models.stylenet import StyleDecoder

        decoder = open_network(args.live, StyleDecoder)
        for name, side in (("", REFERENCE_SIDE), ("_full_size", None)):
            live = best_of(lambda: live_stylize(photo, stats, decoder, network, LIVE_STRENGTH, side=side),
                           repeat=5, warmup=2)
            report(f"live_style_512px_frame{name}_{kind.replace(' ', '_')}", live, reinhard)
    else:
        print(f"no live style network at {args.live}")
    if not args.skip_quality:
        photo, _, kind = _images(1024)
        reinhard = best_of(lambda: transfer(photo, colours, "reinhard", 1.0), repeat=3, warmup=1)
        for name, side in (("", REFERENCE_SIDE), ("_coarse_to_fine", None)):
            began = time.perf_counter()
            stylize(photo, stats, network=network, side=side)
            report(f"quality_style_1024px{name}_{kind.replace(' ', '_')}", time.perf_counter() - began,
                   reinhard / 1000, unit="s")


if __name__ == "__main__":
    main()
