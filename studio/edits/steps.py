"""Recipe steps built from what a merchant chose: the one place the UI and the scriptable API make them,
so the two cannot drift apart. Each function returns a step dict for `Recipe` / `EditSession.push`.

    style_step(load_image("sunset.jpg"), "reinhard", region="product", strength=0.8)
    neural_style_step(load_image("linen.jpg"), region="background")     # textures too (slow: seconds)
    neural_style_step(None, region="background", house="marble")         # a house style: no photo needed
    repair_step(mask, "telea")                   # mask: bool (H, W) array or an image, non-zero = fill
    background_step("gradient", "#ffffff", "#d9dde3", shadow=True)
    upscale_step(4, studio.upscalers())          # the trained x4 upscaler when there is one, else Lanczos
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .background import encode_png
from .style import ColorStats

SHADOW = {"opacity": 0.35, "blur": 0.02, "offset": 0.015}
TURNS = {"left": 90, "right": -90}


def rotate_step(direction: str) -> dict:
    if direction not in TURNS:
        raise ValueError(f"rotate left or right, got {direction!r}")
    return {"op": "rotate", "degrees": TURNS[direction]}


def background_step(kind: str, color: str = "#ffffff", bottom: str = "#d9dde3", shadow: bool = True) -> dict:
    """A colour, a vertical gradient (color at the top) or transparency behind the cut-out product."""
    backdrop = {"color": {"kind": "color", "color": color}, "gradient": {"kind": "gradient", "top": color,
                                                                         "bottom": bottom},
                "transparent": {"kind": "transparent"}}.get(kind)
    if backdrop is None:
        raise ValueError(f"the new background is a color, a gradient or transparent, got {kind!r}")
    return {"op": "background", "background": backdrop, "shadow": dict(SHADOW) if shadow else None}


def style_step(reference: Image.Image | None, method: str = "reinhard", region: str = "all",
               strength: float = 1.0) -> dict:
    """Colour transfer from a reference photo; the step keeps the reference's statistics, not the photo."""
    if reference is None:
        raise ValueError("upload a style reference photo first")
    stats = ColorStats.measure(reference.convert("RGB"))
    step = {"op": "style", "method": method, "stats": stats.to_dict(), "strength": _fraction(strength, "strength")}
    return {**step, "region": region} if region != "all" else step


def neural_style_step(reference: Image.Image | None, region: str = "all", strength: float = 1.0,
                      method: str = "quality", house: str | None = None) -> dict:
    """Neural style (textures and colours) from a reference photo or a house style (`house`, a name from
    house_styles.HOUSE_STYLES; the reference is then not needed): `method` quality (optimised on Lite0
    features; slow) or a live network's name (one pass). The step keeps the reference's statistics, not the
    photo; a house style only by its name."""
    from .house_styles import check_house
    from .neural_style import STYLIST, StyleStats

    if house is None and reference is None:
        raise ValueError("upload a style reference photo first, or choose a house style")
    STYLIST.check(method)
    if house is not None:
        style = {"house": check_house(house)}
    else:
        style = {"stats": StyleStats.measure(reference.convert("RGB"), STYLIST.network()).to_dict()}
    step = {"op": "neural_style", "method": method, **style, "strength": _fraction(strength, "strength")}
    return {**step, "region": region} if region != "all" else step


def look_step(name: str, strength: float = 1.0) -> dict:
    return {"op": "look", "name": name, "strength": _fraction(strength, "look strength")}


def upscale_step(factor, upscalers) -> dict:
    """Enlarge exactly `factor` (2 or 4) times: with `upscalers`' trained `upscaler-x<factor>` when it has
    one, else Lanczos."""
    factor = number(factor, "the enlargement", 2, 4, whole=True)
    if factor not in (2, 4):
        raise ValueError(f"enlarge 2 or 4 times, got {factor}")
    name = f"upscaler-x{factor}"
    return {"op": "upscale", "factor": factor, "method": name if name in upscalers else "lanczos"}


ENLARGE_FROM = 1.2          # a preset fix enlarges first when the image must grow by more than this


def preset_steps(size: tuple[int, int], preset, upscalers) -> tuple[list[dict], str]:
    """The steps that fix an image of `size` to `preset` (a name or a custom dict), and a sentence for the
    rule report: when the image is too small for the preset's size, it is first enlarged x2 or x4 (the
    smallest that covers it; the trained upscaler when there is one) so the fix does not blow it up blurry."""
    from .presets import preset_from_spec

    chosen = preset_from_spec(preset)
    need = max(chosen.width / size[0], chosen.height / size[1])
    step = {"op": "preset", "preset": chosen.name if chosen.name != "custom" else chosen.to_dict()}
    if need <= ENLARGE_FROM:
        return [step], ""
    enlarge = upscale_step(2 if need <= 2 else 4, upscalers)
    said = (f"The image ({size[0]}x{size[1]}) is smaller than {chosen.width}x{chosen.height}, so it was first "
            f"enlarged x{enlarge['factor']} with {enlarge['method']}"
            + (" (the trained upscaler)." if enlarge["method"] not in ("lanczos", "bicubic") else "."))
    return [enlarge, step], said


def repair_step(mask, method: str = "telea") -> dict:
    """A repair of the mask's non-zero pixels (an array or an image, resized to the image when applied)."""
    if isinstance(mask, Image.Image):
        mask = np.asarray(mask.convert("L")) > 0
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2 or not mask.any():
        raise ValueError("the mask is empty: paint over the part to repair")
    return {"op": "repair", "mask": encode_png(Image.fromarray(mask.astype(np.uint8) * 255)), "method": method}


def number(value, what: str, low: float, high: float, whole: bool = False) -> float | int:
    """A merchant's number checked against its range (whole when asked), else a ValueError naming it."""
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {str(value)[:40]!r}") from None
    if not low <= found <= high or (whole and not found.is_integer()):
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{what} must be {kind} from {low:g} to {high:g}, got {str(value)[:40]}")
    return int(found) if whole else found


def _fraction(value, what: str) -> float:
    return number(value, what, 0, 1)
