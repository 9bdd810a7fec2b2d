"""Rendering the multi-view furniture catalog: every Sweet Home 3D item from all 17 views at 64 px.

    .venv/bin/python bench/render.py

Line (`name: value (baseline value, ratio)`):
- render_catalog_64: wall seconds for `build_views(64)` over every item with 2 render processes (one
  OpenGL context each), against one process, measured on the first 80 items and scaled to the whole catalog
  (a full single-process pass would double the run). Goal: <= 600 s on 2 CPU cores. Lower is better.
Needs Debian's `sweethome3d-furniture` (`make test` installs it) and Mesa's EGL; says so and stops without.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import report  # noqa: E402
from studio.data.furniture import DEFAULT_ROOT  # noqa: E402
from studio.data.multiview import build_views, library_items  # noqa: E402

SAMPLE = 80


def main() -> None:
    if not any(DEFAULT_ROOT.glob("*.sh3f")):
        print("render_catalog_64: skipped (sweethome3d-furniture is not installed)")
        return
    total = len(library_items(DEFAULT_ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-render-") as scratch:
        began = time.perf_counter()
        build_views(64, cache=Path(scratch) / "one", workers=1, limit=SAMPLE)
        one = (time.perf_counter() - began) * total / SAMPLE
        began = time.perf_counter()
        build_views(64, cache=Path(scratch) / "two", workers=2)
        two = time.perf_counter() - began
    report("render_catalog_64", two, one, "s")
    print(f"({total} items x 17 views; goal <= 600 s)")


if __name__ == "__main__":
    main()
