"""Writing files that readers (other threads, other processes, a server restarted mid-write) never see half
written: the bytes go to a temporary file in the same folder, which then replaces the target atomically."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call write(file) on a temporary file beside `path`, then rename it over `path`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # hidden and named after the target (.<name>.<random>.tmp): a folder listing never shows one, and a
    # process that was killed mid-write leaves one that its rerun can find (`leftovers`)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as tmp:
        write(tmp)
    os.replace(tmp.name, path)
    return path


def leftovers(path: str | Path) -> list[Path]:
    """Temporary files a killed `atomic_write(path, ...)` left behind."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
