"""Upscaler speed on this CPU, against Lanczos in the same run (issue 19's goals, 2 CPU cores):
- a 1000x1000 photo x2 <= 3 s (`weights/upscaler-x2`);
- 8 generated 32 px variants to 128 px (x4) <= 0.3 s (`weights/upscaler-x4`).

    .venv/bin/python bench/upscale.py
    .venv/bin/python bench/upscale.py --x2 runs/upscaler-x2 --x4 runs/upscaler-x4

The photo is a 1000x1000 crop of a real photo from Debian's mate-backgrounds (`make bench-data`), or, when
that package is absent, a generated texture of the same size (said on the line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.checkpoints import WEIGHTS_DIR  # noqa: E402
from studio.edits.upscale import classical_upscale, open_upscaler, upscale  # noqa: E402

PHOTO = Path("/usr/share/backgrounds/mate/nature/Storm.jpg")


def _photo() -> tuple[Image.Image, str]:
    if PHOTO.is_file():
        return Image.open(PHOTO).convert("RGB").crop((0, 0, 1000, 1000)), "photo"
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)), "generated texture"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--x2", default=str(WEIGHTS_DIR / "upscaler-x2"), help="the x2 upscaler folder")
    parser.add_argument("--x4", default=str(WEIGHTS_DIR / "upscaler-x4"), help="the x4 upscaler folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    photo, kind = _photo()
    if Path(args.x2, "config.json").is_file():
        net = open_upscaler(args.x2)
        model = best_of(lambda: upscale(photo, net), repeat=3)
        lanczos = best_of(lambda: classical_upscale(photo, 2, "lanczos"), repeat=3)
        report(f"upscale_1000px_x2_{kind.replace(' ', '_')}", model / 1000, lanczos / 1000, unit="s")
    else:
        print(f"no x2 upscaler at {args.x2}")
    if Path(args.x4, "config.json").is_file():
        net = open_upscaler(args.x4)
        variants = [photo.resize((32, 32), Image.Resampling.BICUBIC).rotate(90 * i) for i in range(8)]
        model = best_of(lambda: [upscale(v, net) for v in variants], repeat=10, warmup=2)
        lanczos = best_of(lambda: [classical_upscale(v, 4, "lanczos") for v in variants], repeat=10, warmup=2)
        report("upscale_8_variants_32_to_128px", model, lanczos)
    else:
        print(f"no x4 upscaler at {args.x4}")


if __name__ == "__main__":
    main()
