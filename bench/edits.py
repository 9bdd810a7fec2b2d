"""Editing speed: the fused adjustment path against Pillow, the live preview, and a full-resolution export.

    .venv/bin/python bench/edits.py

Lines (`name: value (baseline value, ratio)`):
- adjust_bcs_1024: brightness + contrast + saturation on a 1024x1024 photo through the fused path
  (one LUT + one 3x3 colour matrix), against the same three edits as a Pillow ImageEnhance chain.
  Goal: median <= 10 ms and >= 5x faster (ratio <= 0.2).
- preview_recipe5_2000: a 5-step recipe rendered on the <= 512 px preview copy of a 2000x2000 upload (the
  copy made once), against the same recipe at full resolution (a slider without the preview copy).
- export_recipe5_4000x3000_{jpeg,png}: a 5-step recipe applied to a 4000x3000 photo and written with
  metadata, against the same five steps done with plain Pillow (ImageEnhance, point, rotate, crop,
  UnsharpMask) and saved without metadata.
The photo is a real one from Debian's mate-backgrounds, which `make bench` installs (a synthetic stand-in,
said so on the first line, only when run by hand without it). The process's allocator is tuned as the app's
is (studio/runtime.py); `adjust_bcs_1024_untuned` repeats the first line in a fresh process without that,
to show what it is worth.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import best_of, report  # noqa: E402
from studio.edits.adjust import Adjustments  # noqa: E402
from studio.edits.export import Provenance, export  # noqa: E402
from studio.edits.recipe import Preview, Recipe  # noqa: E402
from studio.runtime import tune_allocator  # noqa: E402

PHOTO = Path("/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg")
RECIPE = Recipe.from_json([
    {"op": "adjust", "brightness": 1.1, "contrast": 1.15, "saturation": 1.2},
    {"op": "adjust", "warmth": 0.2, "gamma": 1.1},
    {"op": "rotate", "degrees": 3},
    {"op": "crop", "aspect": "4:3"},
    {"op": "adjust", "sharpness": 1.3},
])


def photo(width: int, height: int) -> Image.Image:
    if PHOTO.is_file():
        with Image.open(PHOTO) as source:
            return source.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (height // 32, width // 32, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)


def pillow_chain(image: Image.Image) -> Image.Image:
    image = ImageEnhance.Brightness(image).enhance(1.1)
    image = ImageEnhance.Contrast(image).enhance(1.15)
    return ImageEnhance.Color(image).enhance(1.2)


def pillow_pipeline(image: Image.Image, format: str) -> None:
    """The same 5 steps with plain Pillow, saved without metadata: the baseline for the export line."""
    image = pillow_chain(image)
    table = [round(255 * (min(255, v * gain) / 255) ** (1 / 1.1)) for gain in (1.04, 1.0, 0.96) for v in range(256)]
    image = image.point(table).rotate(3, Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    w, h = image.size
    crop_h = min(h, round(w * 3 / 4))
    crop_w = round(crop_h * 4 / 3)
    image = image.crop(((w - crop_w) // 2, (h - crop_h) // 2, (w + crop_w) // 2, (h + crop_h) // 2))
    image = image.filter(ImageFilter.UnsharpMask(radius=8, percent=30, threshold=0))
    image.save(io.BytesIO(), format=format.upper(), quality=92)


def adjust_line(name: str) -> None:
    square = photo(1024, 1024)
    fused = Adjustments(brightness=1.1, contrast=1.15, saturation=1.2)
    ours = best_of(lambda: fused.apply(square), repeat=41, warmup=3)
    theirs = best_of(lambda: pillow_chain(square), repeat=41, warmup=3)
    report(name, ours, theirs)


def main() -> None:
    if sys.argv[1:] == ["--untuned"]:
        adjust_line("adjust_bcs_1024_untuned")
        return
    print(f"photo: {PHOTO if PHOTO.is_file() else 'synthetic (install mate-backgrounds: make bench does)'}; "
          f"allocator tuned: {tune_allocator()}")
    adjust_line("adjust_bcs_1024")
    subprocess.run([sys.executable, __file__, "--untuned"], check=True)

    upload = photo(2000, 2000)
    source = Preview.of(upload)                        # made once per upload, as the app does
    preview = best_of(lambda: source.render(RECIPE), repeat=15, warmup=2)
    full = best_of(lambda: RECIPE.apply(upload), repeat=3)
    report("preview_recipe5_2000", preview, full)

    big = photo(4000, 3000)
    made = Provenance("upload", recipe=RECIPE)
    for format in ("jpeg", "png"):
        def ours_export():
            export(RECIPE.apply(big), io.BytesIO(), format=format, quality=92, provenance=made)

        report(f"export_recipe5_4000x3000_{format}", best_of(ours_export, repeat=3),
               best_of(lambda: pillow_pipeline(big, format), repeat=3))


if __name__ == "__main__":
    main()
