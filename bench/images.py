"""What the safe upload path costs: studio.load_image against a bare PIL open + convert("RGB").

    .venv/bin/python bench/images.py

load_image adds header checks, EXIF orientation, ICC conversion and mode normalisation; on a 12 MP
photo this should stay a small fraction of the decode itself.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.images import load_image  # noqa: E402


def photo_bytes(width: int, height: int) -> bytes:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (height // 32, width // 32, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def main() -> None:
    for label, (w, h) in {"1mp": (1280, 800), "12mp": (4000, 3000)}.items():
        data = photo_bytes(w, h)
        bare = best_of(lambda: Image.open(io.BytesIO(data)).convert("RGB"), repeat=5)
        safe = best_of(lambda: load_image(data), repeat=5)
        report(f"load_image_{label}_jpeg", safe, bare)


if __name__ == "__main__":
    main()
