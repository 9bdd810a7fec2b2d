"""Repair speed on this CPU: the learned photo inpainter against Telea and Navier-Stokes in the same run
(issue 18's goal on 2 CPU cores: a 10% hole in a 2000x2000 photo repaired in <= 2 s).

    .venv/bin/python bench/repair.py
    .venv/bin/python bench/repair.py --model runs/inpaint-out

The photo is bench/cutout.py's 2000x2000 real photo (`make bench-data`; a generated texture when absent, said
on the line). Two holes of about 10% of the photo: one square box, and LaMa-style brush strokes (the first
seeded thick mask at 2000 px whose area is 8-12%). Every line times `repair()` on the full photo, as the app
calls it; the learned method's line is against Telea's, with Navier-Stokes (its base fill) printed too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from bench.cutout import _photo  # noqa: E402
from studio.checkpoints import WEIGHTS_DIR  # noqa: E402
from studio.edits.repair import CLASSICAL, repair  # noqa: E402
from studio.eval.masks import random_mask  # noqa: E402

SIDE = 2000


def holes() -> dict[str, np.ndarray]:
    box = np.zeros((SIDE, SIDE), bool)
    side = round(SIDE * 0.1 ** 0.5)
    box[700:700 + side, 600:600 + side] = True
    rng = np.random.default_rng(0)
    strokes = next(m for m in (random_mask("thick", SIDE, rng) for _ in range(200)) if 0.08 <= m.mean() <= 0.12)
    return {"box": box, "strokes": strokes}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(WEIGHTS_DIR / "inpaint-photos"), help="the photo inpainter folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    photo, kind = _photo()
    if not Path(args.model, "config.json").is_file():
        print(f"no photo inpainter at {args.model}")
        return
    methods = CLASSICAL.with_model("learned", args.model)
    for name, hole in holes().items():
        times = {m: best_of(lambda m=m: repair(photo, hole, m, methods=methods), repeat=3) for m in ("learned", "telea", "ns")}
        tag = f"{name}_{100 * hole.mean():.0f}pct_2000px_{kind.replace(' ', '_')}"
        report(f"repair_learned_{tag}", times["learned"] / 1000, times["telea"] / 1000, unit="s")
        report(f"repair_ns_{tag}", times["ns"] / 1000, times["telea"] / 1000, unit="s")


if __name__ == "__main__":
    main()
