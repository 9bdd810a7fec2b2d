"""Recipes: an edit as a JSON list of steps, applied in order, replayable on any image at any size.

    recipe = Recipe.from_json('[{"op": "adjust", "brightness": 1.2}, {"op": "crop", "aspect": "1:1"}]')
    full = recipe.apply(image)                  # the export
    small = recipe.preview(image)               # the live preview: same steps on a <= 512 px copy
    history = EditHistory(); history.push({"op": "flip", "axis": "horizontal"}); history.undo()

Steps (every spatial amount is relative to the image, or scaled with it, so a preview matches the export):

| op         | parameters                                                                        |
|------------|-----------------------------------------------------------------------------------|
| adjust     | brightness, contrast, saturation, gamma, warmth, sharpness (see adjust.py); region |
| rotate     | degrees (counter-clockwise), expand (default true)                                |
| flip       | axis: horizontal / vertical                                                       |
| crop       | aspect ("4:5") with optional anchor [x, y], or box [left, top, right, bottom] fractions |
| resize     | width / height / longest in pixels (scaled down with a preview)                   |
| preset     | preset: a name from presets.PRESETS or a custom dict                              |
| background | background: {"kind": color/gradient/texture/transparent, ...}; shadow: {opacity, blur, offset} or null |
| style      | method: reinhard / histogram, stats (ColorStats.to_dict()), strength; region      |
| neural_style | method: quality / a live network's name (style-live), stats (StyleStats.to_dict()) or house |
|            | (a house style's name, house_styles.HOUSE_STYLES), strength; region. quality: optimisation on |
|            | EfficientNet-Lite0 features (seconds to a minute); live: one pass                 |
| look       | name: watercolor / detail / smooth / pencil, strength; region                     |
| repair     | mask: base64 PNG (non-zero = fill; resized to the image), method, radius           |
| upscale    | factor (2 or 4), method: lanczos / bicubic / a trained upscaler's name (upscaler-x4) |

`region` ("all", "product", "background") is the product lock. The product mask is estimated once, when
a step first needs it, and then follows every geometric step.

Every request's work is bounded: a recipe has at most MAX_STEPS steps, and the size after every step is
predicted from the input size before any pixel is touched (`Recipe.check_size`), so a recipe whose canvas
would grow past MAX_PIXELS (the upload limit) or whose total work would pass MAX_WORK is refused up front,
naming the step. `apply` checks the real size after each step as well.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from PIL import Image

from ..images import DEFAULT_MAX_PIXELS
from . import geometry
from .adjust import RANGES, Adjustments
from .background import Backdrop, Shadow, decode_png, replace_background
from .house_styles import check_house, house_stats
from .mask import REGIONS, learned_mask_installed, limit_to_region, product_alpha, product_mask
from .neural_style import QUALITY, STYLIST, StyleStats
from .presets import fix_with_mask, preset_from_spec
from .repair import CLASSICAL, CLASSICAL_NAMES, DEFAULT_RADIUS, RepairMethods, repair
from .style import LOOKS, TRANSFERS, ColorStats, look, transfer
from .upscale import CLASSICAL_FILTERS, CLASSICAL_UPSCALERS, Upscalers

RECIPE_VERSION = 1
PREVIEW_SIDE = 512
MAX_STEPS = 64                      # far above any hand-made edit; a slider drag is one step
MAX_PIXELS = DEFAULT_MAX_PIXELS     # after every step: the same limit as an upload
MAX_QUALITY_STYLES = 2              # neural style steps by optimisation (each up to a minute at 1024 px)
MAX_WORK = 1_500_000_000            # pixels summed over the steps: ~60 steps on a 24 MP photo
Size = tuple[int, int]


@dataclass
class _State:
    image: Image.Image
    scale: float = 1.0                     # preview side / export side
    mask: np.ndarray | None = None         # the product mask once something needed it
    matte: np.ndarray | None = None        # its soft alpha, while no geometric step has moved the mask
    methods: RepairMethods = CLASSICAL     # the repair methods of whoever applies the recipe
    upscalers: Upscalers = CLASSICAL_UPSCALERS   # ... and its upscalers
    preview: bool = False                  # a live preview: an upscale only rescales (see _apply_upscale)
    progress: Callable[[int, int], None] | None = None   # told (done, total) by a slow step (neural style)

    def product(self) -> np.ndarray:
        if self.mask is None or self.mask.shape != (self.image.height, self.image.width):
            self.matte = product_alpha(self.image) if learned_mask_installed() else None
            self.mask = product_mask(self.image) if self.matte is None else self.matte >= 0.5
        return self.mask

    def soft(self) -> np.ndarray | None:
        """The product's soft alpha for the current mask, or None when only the mask is known."""
        mask = self.product()
        return self.matte if self.matte is not None and self.matte.shape == mask.shape else None

    def move_mask(self, transform: Callable[[Image.Image], Image.Image]) -> None:
        self.matte = None
        if self.mask is not None:
            moved = transform(Image.fromarray(self.mask.astype(np.uint8) * 255, "L"))
            self.mask = np.asarray(moved) >= 128


@dataclass(frozen=True)
class Operation:
    fields: tuple[str, ...]                           # allowed parameters besides "op"
    check: Callable[[dict], dict]                     # normalised parameters (raises ValueError)
    apply: Callable[[_State, dict], None]             # updates the state in place
    summary: Callable[[dict], str]                    # for the history list
    regional: bool = False                            # takes "region"
    size: Callable[[Size, dict, float], Size] | None = None   # the size after the step (None: unchanged)


def _number(params: dict, name: str, default: float, low: float, high: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def _choice(params: dict, name: str, options, default=None):
    value = params.get(name, default)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(str, options))}, got {value!r}")
    return value


# ---- adjust
def _check_adjust(p: dict) -> dict:
    values = {k: p[k] for k in RANGES if k in p}
    return Adjustments(**values).to_dict()


def _apply_adjust(state: _State, p: dict) -> None:
    state.image = Adjustments(**{k: p[k] for k in RANGES if k in p}).apply(state.image)


def _summary_adjust(p: dict) -> str:
    parts = [f"{k} {p[k]:+.2f}" if k == "warmth" else f"{k} {p[k]:.2f}" for k in RANGES if k in p]
    return "Adjust: " + (", ".join(parts) if parts else "no change")


# ---- geometry
def _check_rotate(p: dict) -> dict:
    return {"degrees": _number(p, "degrees", 0.0, -360, 360), "expand": bool(p.get("expand", True))}


def _size_rotate(size: Size, p: dict, scale: float) -> Size:
    turns = p["degrees"] / 90
    if turns == round(turns):
        return size[::-1] if int(round(turns)) % 2 else size
    if not p["expand"]:
        return size
    angle = math.radians(p["degrees"])
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    return math.ceil(size[0] * cos + size[1] * sin), math.ceil(size[0] * sin + size[1] * cos)


def _apply_rotate(state: _State, p: dict) -> None:
    state.image = geometry.rotate(state.image, p["degrees"], expand=p["expand"])
    state.move_mask(lambda m: geometry.rotate(m, p["degrees"], expand=p["expand"]))


def _check_flip(p: dict) -> dict:
    return {"axis": _choice(p, "axis", tuple(geometry.FLIPS), "horizontal")}


def _apply_flip(state: _State, p: dict) -> None:
    state.image = geometry.flip(state.image, p["axis"])
    state.move_mask(lambda m: geometry.flip(m, p["axis"]))


def _check_crop(p: dict) -> dict:
    if ("aspect" in p) == ("box" in p):
        raise ValueError("crop needs exactly one of aspect (e.g. '4:5') or box [left, top, right, bottom]")
    if "aspect" in p:
        anchor = p.get("anchor", [0.5, 0.5])
        if not isinstance(anchor, (list, tuple)) or len(anchor) != 2:
            raise ValueError(f"anchor must be [x, y] fractions, got {anchor!r}")
        geometry.aspect_box((100, 100), p["aspect"], tuple(anchor))      # validates both
        return {"aspect": p["aspect"], "anchor": [float(a) for a in anchor]}
    box = p["box"]
    if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
        raise ValueError(f"crop box must be four fractions [left, top, right, bottom], got {box!r}")
    geometry.crop_fraction(Image.new("L", (1000, 1000)), tuple(box))     # validates the ranges
    return {"box": [float(v) for v in box]}


def _crop(image: Image.Image, p: dict) -> Image.Image:
    if "aspect" in p:
        return geometry.crop_to_aspect(image, p["aspect"], tuple(p["anchor"]))
    return geometry.crop_fraction(image, tuple(p["box"]))


def _size_crop(size: Size, p: dict, scale: float) -> Size:
    if "aspect" in p:
        left, top, right, bottom = geometry.aspect_box(size, p["aspect"], tuple(p["anchor"]))
        return right - left, bottom - top
    left, top, right, bottom = p["box"]
    w, h = size
    return (max(round(right * w), round(left * w) + 1) - round(left * w),
            max(round(bottom * h), round(top * h) + 1) - round(top * h))


def _apply_crop(state: _State, p: dict) -> None:
    state.image = _crop(state.image, p)
    state.move_mask(lambda m: _crop(m, p))


def _check_resize(p: dict) -> dict:
    given = {k: p[k] for k in ("width", "height", "longest") if p.get(k) is not None}
    geometry.target_size((100, 100), **given)                            # validates
    return given


def _size_resize(size: Size, p: dict, scale: float) -> Size:
    scaled = {k: max(1, round(p[k] * scale)) for k in ("width", "height", "longest") if k in p}
    return geometry.target_size(size, **scaled)


def _apply_resize(state: _State, p: dict) -> None:
    size = _size_resize(state.image.size, p, state.scale)
    state.image = geometry.resize(state.image, width=size[0], height=size[1])
    state.move_mask(lambda m: geometry.resize(m, width=size[0], height=size[1]))


def _check_preset(p: dict) -> dict:
    preset = preset_from_spec(p.get("preset"))
    return {"preset": preset.name if preset.name != "custom" else preset.to_dict()}


def _scaled_preset(p: dict, scale: float):
    preset = preset_from_spec(p["preset"])
    if scale != 1:
        preset = replace(preset, width=max(1, round(preset.width * scale)), height=max(1, round(preset.height * scale)))
    return preset


def _size_preset(size: Size, p: dict, scale: float) -> Size:
    preset = _scaled_preset(p, scale)
    return preset.width, preset.height


def _apply_preset(state: _State, p: dict) -> None:
    preset = _scaled_preset(p, state.scale)
    state.image, state.mask = fix_with_mask(state.image, preset, state.product())
    state.matte = None


# ---- background
def _check_background(p: dict) -> dict:
    backdrop = Backdrop.parse(p.get("background", {"kind": "color", "color": "#ffffff"}))
    shadow = p.get("shadow")
    if shadow is not None:
        if not isinstance(shadow, dict) or set(shadow) - {"opacity", "blur", "offset"}:
            raise ValueError(f"shadow must be a dict of opacity, blur and offset, got {shadow!r}")
        shadow = Shadow(**shadow).__dict__
    return {"background": backdrop.to_dict(), "shadow": shadow}


def _apply_background(state: _State, p: dict) -> None:
    shadow = Shadow(**p["shadow"]) if p["shadow"] else None
    state.image = replace_background(state.image, Backdrop.parse(p["background"]), mask=state.product(),
                                     shadow=shadow, alpha=state.soft())


# ---- style and looks
def _check_style(p: dict) -> dict:
    if "stats" not in p:
        raise ValueError("a style step needs the reference's stats (ColorStats.measure(reference).to_dict())")
    stats = ColorStats.from_dict(p["stats"])
    return {"method": _choice(p, "method", tuple(TRANSFERS), "reinhard"), "stats": stats.to_dict(),
            "strength": _number(p, "strength", 1.0, 0, 1)}


def _apply_style(state: _State, p: dict) -> None:
    region = p.get("region", "all")
    within = None if region == "all" else (state.product() if region == "product" else ~state.product())
    state.image = transfer(state.image, ColorStats.from_dict(p["stats"]), p["method"], p["strength"], within)


def _check_neural_style(p: dict) -> dict:
    if ("stats" in p) == ("house" in p):
        raise ValueError("a neural style step needs either the reference's stats "
                         "(StyleStats.measure(reference).to_dict()) or a house style's name (house), not both")
    style = ({"house": check_house(p["house"])} if "house" in p
             else {"stats": StyleStats.from_dict(p["stats"]).to_dict()})
    return {"method": _method_name(p, QUALITY, "a neural style method is quality or a live network's name"),
            **style, "strength": _number(p, "strength", 1.0, 0, 1)}


def _apply_neural_style(state: _State, p: dict) -> None:
    STYLIST.check(p["method"])
    if p["strength"] == 0:
        return
    stats = house_stats(p["house"]) if "house" in p else StyleStats.from_dict(p["stats"])
    if p["method"] != QUALITY:                 # a live network: the strength acts on its features
        state.image = STYLIST.live(state.image, stats, p["method"], p["strength"])
        return
    styled = STYLIST(state.image, stats, progress=state.progress)
    state.image = styled if p["strength"] == 1 else Image.blend(state.image, styled, p["strength"])


def _check_look(p: dict) -> dict:
    return {"name": _choice(p, "name", tuple(LOOKS)), "strength": _number(p, "strength", 1.0, 0, 1)}


def _apply_look(state: _State, p: dict) -> None:
    state.image = look(state.image, p["name"], p["strength"])


# ---- repair and upscale: steps that name a method of the studio applying them
def _method_name(p: dict, default: str, what: str) -> str:
    """A recipe is data: which methods exist depends on the studio applying it (its weights), so the name is
    only checked for shape here, and against the studio's own methods when the recipe is applied."""
    method = p.get("method", default)
    if not isinstance(method, str) or not re.fullmatch(r"[a-z0-9][a-z0-9:._-]{0,63}", method):
        raise ValueError(f"{what}, got {str(method)[:40]!r}")
    return method


def _check_repair(p: dict) -> dict:
    if not isinstance(p.get("mask"), str):
        raise ValueError("a repair step needs 'mask': base64 PNG data (non-zero = the region to fill)")
    decode_png(p["mask"])
    radius = p.get("radius", DEFAULT_RADIUS)
    if isinstance(radius, bool) or not isinstance(radius, int) or not 1 <= radius <= 50:
        raise ValueError(f"radius must be whole pixels in 1..50, got {radius!r}")
    method = _method_name(p, "telea", "a repair method is a name like telea, ns or vae:vae-fashion")
    return {"mask": p["mask"], "method": method, "radius": radius}


def _apply_repair(state: _State, p: dict) -> None:
    mask = decode_png(p["mask"]).convert("L")
    if mask.size != state.image.size:
        mask = mask.resize(state.image.size, Image.Resampling.NEAREST)
    state.image = repair(state.image, np.asarray(mask) > 0, p["method"], p["radius"], methods=state.methods)


# ---- upscale
def _check_upscale(p: dict) -> dict:
    factor = p.get("factor")
    if isinstance(factor, bool) or factor not in (2, 4):
        raise ValueError(f"factor must be 2 or 4, got {factor!r}")
    method = _method_name(p, "lanczos", "an upscale method is lanczos, bicubic or a trained upscaler's name")
    return {"factor": factor, "method": method}


def _size_upscale(size: Size, p: dict, scale: float) -> Size:
    return size[0] * p["factor"], size[1] * p["factor"]


def _apply_upscale(state: _State, p: dict) -> None:
    state.upscalers.check(p["method"])
    if state.preview:
        # the preview copy already stands for a larger image: it now stands for one `factor` times larger
        # still (the steps after scale their amounts by state.scale), so sliders stay live after an upscale
        # and the model's detail, invisible at preview size, is made only for the export
        state.scale /= p["factor"]
        return
    state.image = state.upscalers.apply(state.image, p["factor"], p["method"])
    size = state.image.size
    state.move_mask(lambda m: m.resize(size, Image.Resampling.NEAREST))


OPERATIONS: dict[str, Operation] = {
    "adjust": Operation(tuple(RANGES), _check_adjust, _apply_adjust, _summary_adjust, regional=True),
    "rotate": Operation(("degrees", "expand"), _check_rotate, _apply_rotate,
                        lambda p: f"Rotate {p['degrees']:g}°", size=_size_rotate),
    "flip": Operation(("axis",), _check_flip, _apply_flip, lambda p: f"Flip {p['axis']}"),
    "crop": Operation(("aspect", "anchor", "box"), _check_crop, _apply_crop,
                      lambda p: f"Crop to {p['aspect']}" if "aspect" in p else "Crop to a box", size=_size_crop),
    "resize": Operation(("width", "height", "longest"), _check_resize, _apply_resize,
                        lambda p: "Resize to " + ", ".join(f"{k} {p[k]}px" for k in ("width", "height", "longest")
                                                           if k in p), size=_size_resize),
    "preset": Operation(("preset",), _check_preset, _apply_preset,
                        lambda p: f"Preset {p['preset'] if isinstance(p['preset'], str) else 'custom'}",
                        size=_size_preset),
    "background": Operation(("background", "shadow"), _check_background, _apply_background,
                            lambda p: f"Background {p['background']['kind']}"
                                      + (" with shadow" if p["shadow"] else "")),
    "style": Operation(("method", "stats", "strength"), _check_style, _apply_style,
                       lambda p: f"Style ({p['method']}) {p['strength']:.0%}", regional=True),
    "neural_style": Operation(("method", "stats", "house", "strength"), _check_neural_style, _apply_neural_style,
                              lambda p: (f"Neural style ({p['method']}"
                                         + (f", house style {p['house']}" if "house" in p else "")
                                         + f") {p['strength']:.0%}"), regional=True),
    "look": Operation(("name", "strength"), _check_look, _apply_look,
                      lambda p: f"Look {p['name']} {p['strength']:.0%}", regional=True),
    "repair": Operation(("mask", "method", "radius"), _check_repair, _apply_repair,
                        lambda p: f"Repair ({p['method']})"),
    "upscale": Operation(("factor", "method"), _check_upscale, _apply_upscale,
                         lambda p: f"Upscale x{p['factor']} ({p['method']})", size=_size_upscale),
}


def check_step(step: dict, index: int | None = None) -> dict:
    """A validated, normalised copy of one step; ValueError names the step and the problem."""
    where = "step" if index is None else f"step {index + 1}"
    if not isinstance(step, dict) or "op" not in step:
        raise ValueError(f"{where}: a step is an object with an 'op', got {step!r:.80}")
    name = step["op"]
    if name not in OPERATIONS:
        raise ValueError(f"{where}: unknown operation {name!r}; known: {', '.join(OPERATIONS)}")
    op = OPERATIONS[name]
    allowed = set(op.fields) | {"op"} | ({"region"} if op.regional else set())
    unknown = set(step) - allowed
    if unknown:
        raise ValueError(f"{where} ({name}): unknown parameter(s) {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(sorted(allowed - {'op'}))}")
    try:
        params = op.check(step)
        if op.regional:
            region = _choice(step, "region", REGIONS, "all")
            if region != "all":
                params["region"] = region
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where} ({name}): {exc}") from None
    return {"op": name, **params}


def _check_length(n: int) -> None:
    if n > MAX_STEPS:
        raise ValueError(f"a recipe has at most {MAX_STEPS} steps, this one has {n:,}")


def preview_side(size: Size, max_side: int = PREVIEW_SIDE, wide: float = 4.0) -> int:
    """The preview's longest side: max_side, except for a long strip (aspect beyond `wide`), which keeps
    the same pixel budget (max_side squared) so a 8000x200 panorama previews at 3238x81, not 512x13."""
    long, short = max(size), max(1, min(size))
    if long / short <= wide:
        return max_side
    return min(long, max(max_side, int(math.sqrt(max_side * max_side * long / short))))


def downscale(image: Image.Image, max_side: int = PREVIEW_SIDE) -> Image.Image:
    """A copy whose longest side is at most max_side (the preview source)."""
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    if max(image.size) <= max_side:
        return image.copy()
    return geometry.resize(image, longest=max_side)


@dataclass(frozen=True)
class Recipe:
    steps: tuple[dict, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _check_length(len(self.steps))
        object.__setattr__(self, "steps", tuple(check_step(s, i) for i, s in enumerate(self.steps)))

    @classmethod
    def _of_checked(cls, steps) -> "Recipe":
        """A recipe from steps that already passed check_step (no second validation on every slider event)."""
        recipe = object.__new__(cls)
        object.__setattr__(recipe, "steps", tuple(steps))
        return recipe

    @classmethod
    def from_json(cls, data) -> "Recipe":
        """From JSON text, a list of steps, or {"version": 1, "steps": [...]}."""
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ValueError(f"recipe is not valid JSON: {exc}") from None
        if isinstance(data, dict):
            if data.get("version", RECIPE_VERSION) != RECIPE_VERSION:
                raise ValueError(f"recipe version {data.get('version')!r} is not supported (this studio reads "
                                 f"version {RECIPE_VERSION})")
            data = data.get("steps")
        if not isinstance(data, list):
            raise ValueError("a recipe is a JSON list of steps (or an object with 'steps')")
        return cls(tuple(data))

    def to_dict(self) -> dict:
        return {"version": RECIPE_VERSION, "steps": [dict(s) for s in self.steps]}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, separators=None if indent else (",", ":"))

    def then(self, step: dict) -> "Recipe":
        _check_length(len(self.steps) + 1)
        return Recipe._of_checked(self.steps + (check_step(step, len(self.steps)),))

    def sizes(self, size: Size, scale: float = 1.0) -> list[Size]:
        """The image size after each step, predicted from the input size without touching a pixel."""
        out = []
        for index, step in enumerate(self.steps):
            predict = OPERATIONS[step["op"]].size
            try:
                size = predict(size, step, scale) if predict else size
            except ValueError as exc:
                raise ValueError(f"step {index + 1} ({step['op']}): {exc}") from None
            out.append(size)
        return out

    def check_size(self, size: Size, *, max_pixels: int = MAX_PIXELS, max_work: int = MAX_WORK) -> None:
        """Refuse, before any work, a recipe whose image would grow past max_pixels after some step or whose
        steps would process more than max_work pixels in all; the message names the step."""
        work, optimised = size[0] * size[1], 0
        for index, (step, (w, h)) in enumerate(zip(self.steps, self.sizes(size))):
            optimised += step["op"] == "neural_style" and step["method"] == QUALITY
            if optimised > MAX_QUALITY_STYLES:
                raise ValueError(f"step {index + 1} (neural_style): a recipe holds at most {MAX_QUALITY_STYLES} "
                                 "quality neural style steps (each optimises for up to a minute); use the live "
                                 "method or undo one")
            if w * h > max_pixels:
                raise ValueError(f"step {index + 1} ({step['op']}) would make the image {w:,}x{h:,} = "
                                 f"{w * h:,} pixels, above the limit of {max_pixels:,}; remove that step")
            work += w * h
            if work > max_work:
                raise ValueError(f"the recipe is too much work for one request from step {index + 1} "
                                 f"({step['op']}) on: split it or work on a smaller image")

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def uses_model(self) -> bool:
        """Whether a trained model made any pixels (decides the IPTC digital source type of an upload)."""
        return any((s["op"] == "repair" and s["method"] not in CLASSICAL_NAMES)
                   or (s["op"] == "upscale" and s["method"] not in CLASSICAL_FILTERS)
                   or s["op"] == "neural_style" for s in self.steps) or (self.uses_mask and learned_mask_installed())

    @property
    def uses_mask(self) -> bool:
        """Whether a step cuts the product out (a new background, a preset, a product or background lock)."""
        return any(s["op"] in ("background", "preset") or s.get("region", "all") != "all" for s in self.steps)

    def summaries(self) -> list[str]:
        return [OPERATIONS[s["op"]].summary(s) + (f" ({s['region']} only)" if "region" in s else "")
                for s in self.steps]

    def apply(self, image: Image.Image, *, scale: float = 1.0, methods: RepairMethods = CLASSICAL,
              upscalers: Upscalers = CLASSICAL_UPSCALERS, preview: bool = False,
              progress: Callable[[int, int], None] | None = None) -> Image.Image:
        """Run every step in order on a copy. `scale` < 1 when `image` is a preview of the real one; `methods`
        and `upscalers` are what repair and upscale steps may name (a Studio's own, with its trained models);
        `preview`: the result is only looked at downscaled (an upscale step then changes no pixel);
        `progress`: told (done, total) while a slow step (neural style) works."""
        if image.mode not in ("RGB", "RGBA"):
            raise ValueError(f"recipes take RGB or RGBA images (load_image gives those), got mode {image.mode}")
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        # the limits hold for the full-resolution image a preview stands for
        self.check_size((round(image.width / scale), round(image.height / scale)))
        state = _State(image.copy(), scale, methods=methods, upscalers=upscalers, preview=preview,
                       progress=progress)
        for index, step in enumerate(self.steps):
            before, region = state.image, step.get("region", "all")
            try:
                mask = state.product() if region != "all" else None      # measured before the step
                OPERATIONS[step["op"]].apply(state, step)
                if mask is not None:
                    state.image = limit_to_region(state.image, before, mask, region)
            except ValueError as exc:
                raise ValueError(f"step {index + 1} ({step['op']}): {exc}") from None
            # the prediction's backstop (a little slack for rounding in the predicted sizes)
            if state.image.width * state.image.height > MAX_PIXELS * scale ** 2 * 1.01 + 4096:
                raise ValueError(f"step {index + 1} ({step['op']}) made the image {state.image.width:,}x"
                                 f"{state.image.height:,} pixels, above the limit of {MAX_PIXELS:,}")
        return state.image

    def preview(self, image: Image.Image, max_side: int = PREVIEW_SIDE, methods: RepairMethods = CLASSICAL,
                upscalers: Upscalers = CLASSICAL_UPSCALERS) -> Image.Image:
        """The same steps on a copy downscaled to max_side (sizes in steps scaled alike): what the live
        preview shows. The result is at most max_side too, even after an upscaling preset."""
        return Preview.of(image, max_side).render(self, methods, upscalers)


@dataclass(frozen=True)
class Preview:
    """The preview copy, made once per image; `render(recipe)` is all a slider event then costs."""
    image: Image.Image
    scale: float
    max_side: int = PREVIEW_SIDE

    @classmethod
    def of(cls, image: Image.Image, max_side: int = PREVIEW_SIDE) -> "Preview":
        side = preview_side(image.size, max_side)
        small = downscale(image, side)
        return cls(small, small.width / image.width, side)

    def render(self, recipe: Recipe, methods: RepairMethods = CLASSICAL,
               upscalers: Upscalers = CLASSICAL_UPSCALERS, progress=None) -> Image.Image:
        return downscale(recipe.apply(self.image, scale=self.scale, methods=methods, upscalers=upscalers,
                                      preview=True, progress=progress), self.max_side)


class EditHistory:
    """Undo/redo over recipes: each action leaves a snapshot (the steps themselves are shared, not copied), so
    an action may add a step or change one in place (the sliders' adjust step) and undo is one move back.
    At most MAX_UNDO snapshots are kept; the oldest go first."""

    MAX_UNDO = 100

    def __init__(self, recipe: Recipe | None = None):
        self._states: list[tuple[dict, ...]] = [tuple(recipe.steps) if recipe else ()]
        self._cursor = 0

    @property
    def recipe(self) -> Recipe:
        return Recipe._of_checked(self._states[self._cursor])

    def _record(self, steps: tuple[dict, ...], amend: bool) -> Recipe:
        _check_length(len(steps))
        if amend and self._cursor > 0:
            self._states[self._cursor] = steps               # refine the last action (one drag, one undo)
            del self._states[self._cursor + 1:]
        else:
            del self._states[self._cursor + 1:]               # a new action drops the redo tail
            self._states.append(steps)
            self._cursor += 1
            if len(self._states) > self.MAX_UNDO + 1:
                del self._states[0]
                self._cursor -= 1
        return self.recipe

    def push(self, step: dict, *, amend: bool = False) -> Recipe:
        """Add a step at the end."""
        current = self._states[self._cursor]
        _check_length(len(current) + 1)
        return self._record(current + (check_step(step, len(current)),), amend)

    def replace(self, index: int, step: dict | None, *, amend: bool = False) -> Recipe:
        """Change step `index` in place (None removes it); `amend` folds this into the previous action."""
        current = self._states[self._cursor]
        if not 0 <= index < len(current):
            raise ValueError(f"there is no step {index + 1} to change")
        new = () if step is None else (check_step(step, index),)
        return self._record(current[:index] + new + current[index + 1:], amend)

    def undo(self) -> bool:
        if self._cursor == 0:
            return False
        self._cursor -= 1
        return True

    def redo(self) -> bool:
        if self._cursor == len(self._states) - 1:
            return False
        self._cursor += 1
        return True

    @property
    def can_undo(self) -> bool:
        return self._cursor > 0

    @property
    def can_redo(self) -> bool:
        return self._cursor < len(self._states) - 1

    @property
    def cursor(self) -> int:
        return self._cursor

    def to_dict(self) -> dict:
        """JSON-ready: each distinct step once, each snapshot as indices into them."""
        steps: list[dict] = []
        index: dict[int, int] = {}
        states = []
        for state in self._states:
            for step in state:
                if id(step) not in index:
                    index[id(step)] = len(steps)
                    steps.append(step)
            states.append([index[id(step)] for step in state])
        return {"steps": [dict(s) for s in steps], "states": states, "cursor": self._cursor}

    @classmethod
    def from_dict(cls, data: dict) -> "EditHistory":
        """From to_dict()'s data (every step re-validated)."""
        if not isinstance(data.get("steps"), list) or len(data["steps"]) > MAX_STEPS * (cls.MAX_UNDO + 1):
            raise ValueError("a saved history's steps are damaged")
        checked = [check_step(step, i) for i, step in enumerate(data["steps"])]
        states = data["states"]
        cursor = data["cursor"]
        if not isinstance(states, list) or not states or len(states) > cls.MAX_UNDO + 1:
            raise ValueError("a saved history needs 1 to 101 snapshots")
        if isinstance(cursor, bool) or not isinstance(cursor, int) or not 0 <= cursor < len(states):
            raise ValueError(f"a history cursor must be in 0..{len(states) - 1}, got {cursor!r}")
        history = cls()
        history._states = []
        for state in states:
            if not isinstance(state, list) or len(state) > MAX_STEPS or not all(
                    isinstance(i, int) and 0 <= i < len(checked) for i in state):
                raise ValueError("a saved history snapshot is damaged")
            history._states.append(tuple(checked[i] for i in state))
        history._cursor = cursor
        return history

    def copy(self) -> "EditHistory":
        twin = EditHistory()
        twin._states, twin._cursor = list(self._states), self._cursor
        return twin
