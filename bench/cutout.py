"""Cut-out speed on this CPU, against the classical colour-based mask in the same run (issue 18's goal on
2 CPU cores: a 2000x2000 photo cut out in <= 1.5 s).

    .venv/bin/python bench/cutout.py
    .venv/bin/python bench/cutout.py --model runs/cutout-out

The photo is a 2000x2000 crop of a real photo from Debian's mate-backgrounds (`make bench-data`), or, when
that package is absent, a generated texture of the same size (said on the line). Both lines time the whole
mask of the full-resolution photo: the learned one is the network at its size plus the guided-filter
refinement at 2000x2000; the baseline is `classical_mask` (border backdrop + GrabCut on a 320 px copy).
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
from studio.edits.cutout import FOLDER, cutout_alpha, open_cutout  # noqa: E402
from studio.edits.mask import classical_mask  # noqa: E402

PHOTO = Path("/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg")


def _photo() -> tuple[Image.Image, str]:
    if PHOTO.is_file():
        image = Image.open(PHOTO)
        image.draft("RGB", (2800, 1600))
        return image.convert("RGB").resize((3520, 1983)).crop((760, 0, 2760, 1983)).resize((2000, 2000)), "photo"
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (2000, 2000, 3), dtype=np.uint8)), "generated texture"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(WEIGHTS_DIR / FOLDER), help="the cut-out folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    photo, kind = _photo()
    if not Path(args.model, "config.json").is_file():
        print(f"no cut-out model at {args.model}")
        return
    net = open_cutout(args.model)
    learned = best_of(lambda: cutout_alpha(photo, net), repeat=5)
    classical = best_of(lambda: classical_mask(photo), repeat=5)
    report(f"cutout_2000px_{kind.replace(' ', '_')}", learned / 1000, classical / 1000, unit="s")


if __name__ == "__main__":
    main()
