"""Merchant catalogs: any folder in the Hugging Face `imagefolder` layout.

    shop/metadata.jsonl          {"file_name": "boot1.jpg", "text": "navy ankle boot", "color": "navy"}
    shop/boot1.jpg ...

or with splits, `shop/train/metadata.jsonl` and `shop/test/metadata.jsonl`. `file_name` and `text` are
required; every other key is an attribute label (a string or null). A bad row (invalid JSON, missing or
unreadable image, empty text, a path outside the folder) is reported with its file and line number; by
default the catalog refuses to load, with `on_error="skip"` it loads the good rows and lists the bad ones
in `.problems`. Nothing is dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from ..images import ImageLoadError, fit, load_image
from .base import Catalog, CatalogError, Sample, check_size, check_split

METADATA = "metadata.jsonl"
RESERVED = ("file_name", "text")
MAX_LISTED = 20


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class _Row:
    path: Path
    text: str
    labels: dict[str, str | None]
    line: int


def find_splits(root: Path) -> dict[str, Path]:
    """split name -> its metadata.jsonl, in the imagefolder convention."""
    if (root / METADATA).is_file():
        return {"train": root / METADATA}
    found = {d.name: d / METADATA for d in sorted(root.iterdir()) if d.is_dir() and (d / METADATA).is_file()}
    if not found:
        raise CatalogError(f"{root} holds no {METADATA} (nor train/{METADATA}, test/{METADATA}); a merchant "
                           f"catalog needs one line per image: {{\"file_name\": ..., \"text\": ...}}")
    return found


def read_metadata(path: Path) -> tuple[list[_Row], list[RowProblem]]:
    """Validate every row of one metadata.jsonl: (good rows, problems)."""
    folder = path.parent.resolve()
    rows: list[_Row] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problem = lambda message: problems.append(RowProblem(str(path), number, message))  # noqa: E731
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problem(f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problem(f"expected a JSON object, got {type(record).__name__}")
            continue
        name, text = record.get("file_name"), record.get("text")
        if not isinstance(name, str) or not name.strip():
            problem("missing 'file_name'")
            continue
        if not isinstance(text, str) or not text.strip():
            problem(f"{name}: missing or empty 'text'")
            continue
        relative = PurePosixPath(name)
        target = (folder / relative).resolve()
        if relative.is_absolute() or folder not in target.parents:
            problem(f"{name}: file_name must be a path inside {folder}")
            continue
        if not target.is_file():
            problem(f"{name}: no such file")
            continue
        if name in seen:
            problem(f"{name}: listed twice (first on line {seen[name]})")
            continue
        try:
            with load_image(target):
                pass
        except ImageLoadError as exc:
            problem(f"{name}: unreadable image ({exc})")
            continue
        labels = {}
        for key, value in record.items():
            if key in RESERVED:
                continue
            if value is not None and not isinstance(value, (str, int, float, bool)):
                problem(f"{name}: attribute {key!r} must be a string or null, got {type(value).__name__}")
                break
            labels[key] = None if value is None else str(value)
        else:
            seen[name] = number
            rows.append(_Row(target, text.strip(), labels, number))
    return rows, problems


class FolderCatalog(Catalog):
    """A merchant's own products, from an imagefolder-layout folder. Images are letterboxed to size."""

    def __init__(self, root: str | Path, split: str = "train", size: int = 64, on_error: str = "raise"):
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise CatalogError(f"catalog folder {self.root} does not exist")
        self.name = self.root.resolve().name
        files = find_splits(self.root)
        self.splits = tuple(files)
        self.split = check_split(split, self.splits)
        self.size = check_size(size)
        self._rows, self.problems = read_metadata(files[split])
        if self.problems and on_error == "raise":
            listed = "\n  ".join(str(p) for p in self.problems[:MAX_LISTED])
            more = len(self.problems) - MAX_LISTED
            raise CatalogError(f"{len(self.problems)} bad row(s) in {files[split]}:\n  {listed}"
                               + (f"\n  ... and {more} more" if more > 0 else "")
                               + "\nFix them, or load with on_error='skip' to use the good rows.")
        if not self._rows:
            raise CatalogError(f"{files[split]} lists no usable images")
        keys: dict[str, None] = {}
        for row in self._rows:
            keys.update(dict.fromkeys(row.labels))
        self.attributes = tuple(keys)

    def __len__(self) -> int:
        return len(self._rows)

    def label(self, index: int) -> dict[str, str | None]:
        row = self._rows[self._check_index(index)]
        return {key: row.labels.get(key) for key in self.attributes}

    def sample(self, index: int) -> Sample:
        row = self._rows[index]
        with load_image(row.path) as image:
            picture: Image.Image = fit(image, self.size)
        return Sample(image=picture, caption=row.text, labels=self.label(index),
                      key=f"{self.name}/{self.split}/{row.path.relative_to(self.root.resolve()).as_posix()}",
                      extra={"line": str(row.line)})
