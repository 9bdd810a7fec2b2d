"""Apply one recipe to many files, on this machine's cores or on a dask.distributed cluster.

    python -m studio edit --recipe r.json photos/ extra.jpg --out edited/ --format jpeg --quality 92
    python -m studio edit --recipe r.json photos/ --out edited/ --workers 4            # a local process pool
    python -m studio edit --recipe r.json /shared/photos --out /shared/edited --scheduler tcp://host:8786

Outputs are named after their inputs (<stem>.<ext>). Nothing a merchant made is overwritten: an input is
never a target, and an existing output gets a numbered name unless `overwrite` is set. Targets are chosen
here, before any work starts, so where a file lands does not depend on which worker finishes first: the local
pool and a cluster write the same bytes to the same names.

A bad file is reported and skipped; the rest proceed. Each finished file is appended to a manifest in the
output folder (`.studio-batch.jsonl`: a SHA-256 of the input's path and bytes, the recipe and the options,
and the file written),
flushed to disk before the next, so a run that was killed resumes where it stopped: a rerun skips every input
whose manifest line and output are both there, and gives a file that was named but not finished the same
name again. A changed input or recipe is edited again, to a new name. Outputs are written through a
temporary file and a rename, so a kill never leaves half a file (only a hidden `.<name>.*.tmp`, which the
rerun removes).

On a cluster every worker must see the inputs and the output folder at the same paths (a shared volume) and
run this package's environment; `dask scheduler` / `dask worker tcp://host:8786` start one (README,
"Running for a team").
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from ..files import leftovers
from ..images import ImageLoadError, load_image
from .export import EXTENSIONS, Provenance, export, resolve_format, sidecar_path
from .recipe import Recipe

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
KEEP = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
MANIFEST = ".studio-batch.jsonl"
MAX_WORKERS = 64


@dataclass
class BatchResult:
    written: list[Path] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)          # finished by an earlier run (the manifest)


@dataclass(frozen=True)
class Job:
    source: str
    target: str
    key: str                      # what was made: the input's bytes, the recipe and the options


def collect_images(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given (whatever their suffix, so a bad one is reported), and image files inside folders."""
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found.extend(sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(item)
    return found


def _target(source: Path, out_dir: Path, format: str | None, taken: set[Path], overwrite: bool) -> Path:
    kind = resolve_format("x." + (format or KEEP.get(source.suffix.lower(), "png")), None)
    path = out_dir / (source.stem + EXTENSIONS[kind])
    counter = 1
    while path in taken or (path.exists() and not overwrite):
        path = out_dir / f"{source.stem}-{counter}{EXTENSIONS[kind]}"
        counter += 1
    return path


def _digest(path: Path, settings: str) -> str:
    h = hashlib.sha256(json.dumps([settings, str(path.resolve())]).encode("utf-8"))
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(out_dir: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(finished, planned): key -> output file name, from a folder's manifest. A planned file was named by
    an earlier run that may have been killed before it finished; a line cut short by a kill is ignored."""
    done: dict[str, str] = {}
    planned: dict[str, str] = {}
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return done, planned
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            key, name = str(entry["key"]), Path(str(entry["target"])).name
        except (ValueError, KeyError, TypeError):
            continue
        (done if entry.get("state", "done") == "done" else planned)[key] = name
    return done, planned


def plan(recipe: Recipe, inputs: Iterable[str | Path], out_dir: str | Path, *, format: str | None = None,
         quality: int = 95, sidecar: bool = True, overwrite: bool = False
         ) -> tuple[list[Job], list[Path], list[tuple[Path, str]]]:
    """What a run would do: (jobs, inputs already done, inputs refused up front)."""
    files = collect_images(inputs)
    if not files:
        raise ValueError("no images given (folders are searched for " + ", ".join(sorted(IMAGE_SUFFIXES)) + ")")
    out = Path(out_dir)
    settings = json.dumps([recipe.to_json(), format, quality, sidecar])
    done, planned = read_manifest(out)
    sources = {f.resolve() for f in files}
    taken = {out / name for name in (*done.values(), *planned.values())}
    jobs, skipped, refused = [], [], []
    for source in files:
        try:
            key = _digest(source, settings)
            if key in done and (out / done[key]).is_file():
                skipped.append(source)
                continue
            if key in done or key in planned:
                # named by an earlier run (one that stopped, or whose output was since deleted): that name again,
                # and the half-written temporary files a kill left for it go
                target = out / done.get(key, planned.get(key))
                for stale in (*leftovers(target), *leftovers(sidecar_path(target))):
                    stale.unlink(missing_ok=True)
            else:
                target = _target(source, out, format, taken, overwrite)
            if target.resolve() in sources:
                raise ValueError(f"writing {target} would overwrite an input; choose another --out folder")
        except (ValueError, OSError) as exc:
            refused.append((source, str(exc)))
            continue
        taken.add(target)
        jobs.append(Job(str(source), str(target), key))
    return jobs, skipped, refused


def run_job(recipe_json: str, job: Job, quality: int, sidecar: bool) -> str | None:
    """One file (in whichever process or cluster worker runs it): None when written, else the error."""
    try:
        recipe = Recipe.from_json(recipe_json)
        source = Path(job.source)
        image = recipe.apply(load_image(source))
        export(image, Path(job.target), quality=quality, provenance=Provenance.inherit(source, recipe),
               sidecar=sidecar)
        return None
    except (ImageLoadError, ValueError, OSError) as exc:
        return str(exc)


def _record(manifest, jobs: list[Job], state: str = "done") -> None:
    for job in jobs:
        manifest.write(json.dumps({"key": job.key, "source": job.source, "target": Path(job.target).name,
                                   "state": state}) + "\n")
    manifest.flush()
    os.fsync(manifest.fileno())             # a finished file is on record before the next one is reported


def _check_workers(workers: int) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be a whole number in 1..{MAX_WORKERS}, got {workers!r}")
    return workers


def edit_files(recipe: Recipe, inputs: Iterable[str | Path], out_dir: str | Path, *, format: str | None = None,
               quality: int = 95, sidecar: bool = True, overwrite: bool = False, workers: int = 1,
               scheduler: str | None = None,
               progress: Callable[[Path, str | None], None] | None = None) -> BatchResult:
    """Run `recipe` on every input, writing to out_dir: in this process (workers=1), on a local process pool
    (workers>1), or on the dask.distributed scheduler at `scheduler`. progress(path, error or None) after each
    file, in the order they finish."""
    workers = _check_workers(workers)
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise ValueError(f"a scheduler address looks like tcp://host:8786, got {str(scheduler)[:100]!r}")
    jobs, skipped, refused = plan(recipe, inputs, out_dir, format=format, quality=quality, sidecar=sidecar,
                                  overwrite=overwrite)
    result = BatchResult(skipped=skipped)
    for source, error in refused:
        result.failures.append((source, error))
        if progress:
            progress(source, error)
    if not jobs:
        return result
    recipe_json = recipe.to_json()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / MANIFEST, "a", encoding="utf-8") as manifest:
        _record(manifest, jobs, "planned")          # the names are reserved before any file is written

        def finished(job: Job, error: str | None) -> None:
            if error is None:
                _record(manifest, [job])
                result.written.append(Path(job.target))
            else:
                result.failures.append((Path(job.source), error))
            if progress:
                progress(Path(job.source), error)

        if scheduler:
            _on_cluster(scheduler, recipe_json, jobs, quality, sidecar, finished)
        elif workers == 1:
            for job in jobs:
                finished(job, run_job(recipe_json, job, quality, sidecar))
        else:
            # spawn, not fork: a forked copy of a process holding torch's thread pools can deadlock
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
                pending = {pool.submit(run_job, recipe_json, job, quality, sidecar): job for job in jobs}
                for future in as_completed(pending):
                    finished(pending[future], future.result())
    order = {Path(j.target): n for n, j in enumerate(jobs)}
    result.written.sort(key=order.__getitem__)                 # the inputs' order, however they finished
    return result


def _on_cluster(address: str, recipe_json: str, jobs: list[Job], quality: int, sidecar: bool,
                finished: Callable[[Job, str | None], None]) -> None:
    try:
        from distributed import Client, as_completed as completed
    except ImportError as exc:
        raise ValueError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from exc
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach the dask scheduler at {address}: {exc}") from exc
    with client:
        futures = {client.submit(run_job, recipe_json, job, quality, sidecar, pure=False): job for job in jobs}
        for future in completed(futures):
            finished(futures[future], future.result())
