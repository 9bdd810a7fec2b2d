"""Geometry: rotate, flip, crop to an aspect, resize, and place a product on a canvas.

    rotate(image, 12)                  # any angle; the canvas grows to keep every pixel, corners filled
    flip(image, "horizontal")
    crop_to_aspect(image, "4:5")       # the largest centred crop of that aspect
    resize(image, longest=2000)        # or width=/height=, or both for an exact size
    place_on_canvas(image, (2000, 2000), box, fill=0.85, background=(255, 255, 255))

Functions take PIL images of any mode (RGB, RGBA, and "L" masks alike), so a product mask can follow the
image through the same geometry. Fill colour: white for RGB, transparent for RGBA, 0 for masks.
"""

from __future__ import annotations

import math
import re

from PIL import Image

FLIPS = {"horizontal": Image.Transpose.FLIP_LEFT_RIGHT, "vertical": Image.Transpose.FLIP_TOP_BOTTOM}
MAX_SIDE = 10_000        # the largest side any marketplace accepts (Amazon: 10,000 px)


def default_fill(mode: str):
    return {"RGB": (255, 255, 255), "RGBA": (0, 0, 0, 0), "L": 0, "1": 0}.get(mode, 0)


def parse_aspect(aspect: str | float) -> float:
    """'4:5', '16x9', '1' or 0.8 -> width / height."""
    if isinstance(aspect, (int, float)) and not isinstance(aspect, bool):
        value = float(aspect)
    else:
        match = re.fullmatch(r"\s*([0-9.]+)\s*(?:[:x/]\s*([0-9.]+))?\s*", str(aspect))
        if not match:
            raise ValueError(f"aspect must look like '4:5' or 0.8, got {aspect!r}")
        try:
            value = float(match.group(1)) / float(match.group(2) or 1)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"aspect must look like '4:5' or 0.8, got {aspect!r}") from None
    if not math.isfinite(value) or not 0.05 <= value <= 20:
        raise ValueError(f"aspect must be between 1:20 and 20:1, got {aspect!r}")
    return value


def rotate(image: Image.Image, degrees: float, *, expand: bool = True, fill=None) -> Image.Image:
    """Rotate counter-clockwise by `degrees`. Multiples of 90 are exact; other angles resample bicubically
    (masks nearest) and, with expand, grow the canvas so no pixel is cut off."""
    if not math.isfinite(degrees):
        raise ValueError(f"degrees must be a finite number, got {degrees!r}")
    turns = degrees / 90
    if turns == round(turns):
        quarter = int(round(turns)) % 4
        transposes = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}
        return image.transpose(transposes[quarter]) if quarter else image.copy()
    resample = Image.Resampling.NEAREST if image.mode in ("L", "1") else Image.Resampling.BICUBIC
    return image.rotate(degrees, resample=resample, expand=expand,
                        fillcolor=default_fill(image.mode) if fill is None else fill)


def flip(image: Image.Image, axis: str) -> Image.Image:
    if axis not in FLIPS:
        raise ValueError(f"flip axis must be one of {', '.join(FLIPS)}, got {axis!r}")
    return image.transpose(FLIPS[axis])


def aspect_box(size: tuple[int, int], aspect: str | float, anchor: tuple[float, float] = (0.5, 0.5)
               ) -> tuple[int, int, int, int]:
    """The largest (left, top, right, bottom) box of `aspect` inside `size`, placed by anchor in [0, 1]^2."""
    ratio = parse_aspect(aspect)
    if not all(0 <= a <= 1 for a in anchor):
        raise ValueError(f"anchor must be two fractions in [0, 1], got {anchor!r}")
    width, height = size
    if width / height > ratio:
        w, h = max(1, round(height * ratio)), height
    else:
        w, h = width, max(1, round(width / ratio))
    left, top = round((width - w) * anchor[0]), round((height - h) * anchor[1])
    return left, top, left + w, top + h


def crop_to_aspect(image: Image.Image, aspect: str | float, anchor: tuple[float, float] = (0.5, 0.5)
                   ) -> Image.Image:
    return image.crop(aspect_box(image.size, aspect, anchor))


def crop_fraction(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    """Crop by a box given as fractions of the size, so the same step replays on any resolution."""
    left, top, right, bottom = box
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise ValueError(f"crop box must be fractions with 0 <= left < right <= 1 and 0 <= top < bottom <= 1, "
                         f"got {box!r}")
    w, h = image.size
    pixels = (round(left * w), round(top * h), max(round(right * w), round(left * w) + 1),
              max(round(bottom * h), round(top * h) + 1))
    return image.crop(pixels)


def target_size(size: tuple[int, int], width: int | None = None, height: int | None = None,
                longest: int | None = None) -> tuple[int, int]:
    """Resolve a resize request: exact (width and height), one side (aspect kept), or the longest side."""
    given = {k: v for k, v in (("width", width), ("height", height), ("longest", longest)) if v is not None}
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIDE:
            raise ValueError(f"{name} must be a whole number of pixels in 1..{MAX_SIDE}, got {value!r}")
    w, h = size
    if longest is not None:
        if width is not None or height is not None:
            raise ValueError("give either longest or width/height, not both")
        scale = longest / max(w, h)
        return max(1, round(w * scale)), max(1, round(h * scale))
    if width is not None and height is not None:
        return width, height
    if width is not None:
        return width, max(1, round(h * width / w))
    if height is not None:
        return max(1, round(w * height / h)), height
    raise ValueError("resize needs width, height or longest")


def resize(image: Image.Image, width: int | None = None, height: int | None = None,
           longest: int | None = None) -> Image.Image:
    """Lanczos for images (reducing_gap speeds up big downscales), nearest for masks."""
    size = target_size(image.size, width, height, longest)
    if size == image.size:
        return image.copy()
    if image.mode in ("L", "1"):
        return image.resize(size, Image.Resampling.NEAREST)
    shrinking = size[0] < image.width and size[1] < image.height
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if shrinking else None)


def place_on_canvas(image: Image.Image, canvas: tuple[int, int], box: tuple[int, int, int, int], fill: float,
                    background=None, resample: Image.Resampling | None = None) -> Image.Image:
    """Crop `box` (the product's bounding box) out of image, scale it so its larger side relative to the
    canvas is `fill`, and centre it on a canvas of `background` (default: the mode's fill colour).
    `resample` overrides resize()'s choice (nearest for masks), e.g. bilinear for a mask to be cut later."""
    if not 0 < fill <= 1:
        raise ValueError(f"fill must be in (0, 1], got {fill}")
    product = image.crop(box)
    scale = fill * min(canvas[0] / product.width, canvas[1] / product.height)
    size = (min(max(1, round(product.width * scale)), MAX_SIDE), min(max(1, round(product.height * scale)), MAX_SIDE))
    product = resize(product, width=size[0], height=size[1]) if resample is None else product.resize(size, resample)
    out = Image.new(image.mode, canvas, default_fill(image.mode) if background is None else background)
    offset = ((canvas[0] - product.width) // 2, (canvas[1] - product.height) // 2)
    if product.mode == "RGBA" and out.mode == "RGBA":
        out.alpha_composite(product, offset)
    else:
        out.paste(product, offset)
    return out
