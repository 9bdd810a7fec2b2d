"""Writing files that readers (other threads, other processes, a server restarted mid-write) never see half
written: the bytes go to a temporary file in the same folder, which then replaces the target atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call write(file) on a temporary file beside `path`, then rename it over `path`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        write(tmp)
    os.replace(tmp.name, path)
    return path
