"""Past one host: the board's decision rate on PostgreSQL against SQLite, and batch edits on a two-worker
dask.distributed cluster against the local process pool with two processes.

    .venv/bin/python bench/team.py

Lines (`name: value (baseline value, ratio)`):
- board_decisions_postgres: decisions per second recorded by 2 processes x 4 threads at once on a throwaway
  PostgreSQL cluster (Debian's server, started here), against the same load on SQLite (WAL) in a temp dir.
  Every decision is its own committed transaction, as in the app; higher is better.
- batch_images_dask2: images per second editing 200 product photos (640x480, a 4-step recipe) on a local
  dask.distributed cluster (a scheduler and 2 single-thread worker processes, started here), against the
  local pool with 2 processes on the same files. The pool's time includes starting its processes (as every
  CLI run does); the cluster is already up (as a cluster is), but its workers import the library on their
  first task, which is counted. Higher is better; on one 2-core machine the pool should win (no scheduler
  round trips): the cluster's worth is machines beyond this one.
Needs `make postgres` (or `apt-get install postgresql`) and dask[distributed]; a missing one is said so and
its line skipped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench._common import report  # noqa: E402
from studio.edits.batch import edit_files  # noqa: E402
from studio.edits.recipe import Recipe  # noqa: E402
from studio.review import Board  # noqa: E402
from studio.review.pgcluster import TempCluster, unavailable_reason  # noqa: E402

PROCESSES, THREADS, PER_THREAD = 2, 4, 50
RECIPE = Recipe.from_json([{"op": "adjust", "brightness": 1.08, "contrast": 1.1, "sharpness": 1.2},
                           {"op": "crop", "aspect": "1:1"}, {"op": "resize", "longest": 400},
                           {"op": "flip", "axis": "horizontal"}])


def _reviewer(data: str, url: str | None, item_ids: list[str], name: str, start) -> None:
    board = Board(data, url)
    start.wait()

    def one(thread: int) -> None:
        for n in range(PER_THREAD):
            board.decide(item_ids[n % len(item_ids)], f"{name}-{thread}", "comment", f"note {n}")

    threads = [threading.Thread(target=one, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def decisions_per_second(data: Path, url: str | None) -> float:
    board = Board(data, url)
    ids = [board.add(Image.new("RGB", (8, 8), (i, 0, 0)), added_by="bench").id for i in range(8)]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES + 1)
    workers = [context.Process(target=_reviewer, args=(str(data), url, ids, f"r{p}", start))
               for p in range(PROCESSES)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    total = len(board.history())
    assert total == PROCESSES * THREADS * PER_THREAD, total
    return total / elapsed


def board_line(scratch: Path) -> None:
    sqlite = decisions_per_second(scratch / "sqlite", None)
    reason = unavailable_reason()
    if reason:
        print(f"board_decisions_postgres: skipped ({reason}); sqlite {sqlite:.1f} decisions/s")
        return
    with TempCluster() as cluster:
        postgres = decisions_per_second(scratch / "pg", cluster.create_database())
    report("board_decisions_postgres", postgres, sqlite, "decisions/s")


def photos(folder: Path, n: int = 200) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:480, 0:640]
    for i in range(n):
        base = np.stack([x * 0.2 + i, y * 0.3, (x + y) * 0.1], -1)
        pixels = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"sku{i:03d}.jpg", quality=90)
    return folder


def batch_line(scratch: Path) -> None:
    source = photos(scratch / "photos")
    began = time.perf_counter()
    edit_files(RECIPE, [source], scratch / "pool", workers=2)
    pool = 200 / (time.perf_counter() - began)
    try:
        from distributed import LocalCluster
    except ImportError:
        print(f"batch_images_dask2: skipped (dask.distributed not installed); pool {pool:.1f} images/s")
        return
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        began = time.perf_counter()
        result = edit_files(RECIPE, [source], scratch / "dask", scheduler=cluster.scheduler_address)
        dask = len(result.written) / (time.perf_counter() - began)
    report("batch_images_dask2", dask, pool, "images/s")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-team-") as scratch:
        board_line(Path(scratch))
        batch_line(Path(scratch))
    print(json.dumps({"processes": PROCESSES, "threads": THREADS, "per_thread": PER_THREAD}))


if __name__ == "__main__":
    main()
