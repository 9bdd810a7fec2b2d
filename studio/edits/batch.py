"""Apply one recipe to many files: a bad file is reported and skipped, the rest proceed.

    python -m studio edit --recipe r.json photos/ extra.jpg --out edited/ --format jpeg --quality 92

Outputs are named after their inputs (<stem>.<ext>). Nothing a merchant made is overwritten: an input is
never a target, and an existing output gets a numbered name unless `overwrite` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..images import ImageLoadError, load_image
from .export import EXTENSIONS, Provenance, export, resolve_format
from .recipe import Recipe

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
KEEP = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


@dataclass
class BatchResult:
    written: list[Path] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)


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


def edit_files(recipe: Recipe, inputs: Iterable[str | Path], out_dir: str | Path, *, format: str | None = None,
               quality: int = 95, sidecar: bool = True, overwrite: bool = False,
               progress: Callable[[Path, str | None], None] | None = None) -> BatchResult:
    """Run `recipe` on every input, writing to out_dir. progress(path, error or None) after each file."""
    files = collect_images(inputs)
    if not files:
        raise ValueError("no images given (folders are searched for " + ", ".join(sorted(IMAGE_SUFFIXES)) + ")")
    out = Path(out_dir)
    sources = {f.resolve() for f in files}
    result, taken = BatchResult(), set()
    for source in files:
        error = None
        try:
            target = _target(source, out, format, taken, overwrite)
            if target.resolve() in sources:
                raise ValueError(f"writing {target} would overwrite an input; choose another --out folder")
            image = recipe.apply(load_image(source))
            export(image, target, quality=quality, provenance=Provenance.inherit(source, recipe), sidecar=sidecar)
            taken.add(target)
            result.written.append(target)
        except (ImageLoadError, ValueError, OSError) as exc:
            error = str(exc)
            result.failures.append((source, error))
        if progress:
            progress(source, error)
    return result
