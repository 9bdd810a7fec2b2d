"""Upscaling x2 / x4: a trained network (studio/models/upscaler.py) or a classical filter, PIL in, PIL out.

    net = open_upscaler("weights/upscaler-x4")
    big = upscale(image, net)                     # exactly image.size x 4, tiled so memory stays bounded
    big = classical_upscale(image, 4, "lanczos")  # the baselines: bicubic, lanczos
    tools = CLASSICAL_UPSCALERS.with_model("upscaler-x4", "weights/upscaler-x4")   # a Studio builds its own
    big = tools.apply(image, 4, "upscaler-x4")    # what a recipe's upscale step calls

The network runs over tiles of the input with `context` pixels of overlap on each side (what each output
pixel depends on), so a tiled pass equals an untiled one; memory follows the tile, not the photo. Colour goes
through the network; an alpha channel is enlarged with Lanczos (a matte has no texture to restore).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..images import DEFAULT_MAX_PIXELS

CLASSICAL_FILTERS = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
DEFAULT_TILE = 256


def check_upscale(size: tuple[int, int], scale: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """The output size, or ValueError when the scale is not 2 or 4 or the result would pass `max_pixels`."""
    if isinstance(scale, bool) or scale not in (2, 4):
        raise ValueError(f"the upscale factor must be 2 or 4, got {scale!r}")
    out = (size[0] * scale, size[1] * scale)
    if out[0] * out[1] > max_pixels:
        raise ValueError(f"upscaling {size[0]}x{size[1]} by {scale} would make {out[0]:,}x{out[1]:,} = "
                         f"{out[0] * out[1]:,} pixels, above the limit of {max_pixels:,}; crop or resize first")
    return out


def classical_upscale(image: Image.Image, scale: int, method: str = "lanczos") -> Image.Image:
    """The image enlarged `scale` times by a PIL filter (bicubic or lanczos), every channel alike."""
    if method not in CLASSICAL_FILTERS:
        raise ValueError(f"unknown upscale filter {method!r}; known: {', '.join(CLASSICAL_FILTERS)}")
    return image.resize(check_upscale(image.size, scale), CLASSICAL_FILTERS[method])


def open_upscaler(folder: str | Path, device: str = "cpu"):
    """The Upscaler network in `folder` (config.json + safetensors), in eval mode."""
    from ..checkpoints import open_network
    from ..models.upscaler import Upscaler

    if not (Path(folder) / "config.json").is_file():
        raise FileNotFoundError(f"no upscaler at {folder}: train one with `python -m studio train upscaler`")
    return open_network(folder, Upscaler, device=device)


def _tiles(length: int, tile: int) -> list[tuple[int, int]]:
    return [(start, min(start + tile, length)) for start in range(0, length, tile)]


def upscale(image: Image.Image, network, tile: int = DEFAULT_TILE) -> Image.Image:
    """`image` (RGB, RGBA, or any mode PIL converts to RGB) enlarged by the network's scale, exactly
    image.size x scale; tiles of `tile` input pixels square. A new image; the input is not changed."""
    import torch

    scale = network.config.scale
    out_w, out_h = check_upscale(image.size, scale)
    if tile < 8:
        raise ValueError(f"tile must be at least 8 pixels, got {tile}")
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA", "PA") else None
    rgb = np.asarray(image.convert("RGB"))
    device = next(network.parameters()).device
    context = network.context
    out = np.empty((out_h, out_w, 3), np.uint8)
    h, w = rgb.shape[:2]
    with torch.inference_mode():
        for y0, y1 in _tiles(h, tile):
            for x0, x1 in _tiles(w, tile):
                # the tile with its context (clipped at the image's edge, where the untiled pass pads too)
                cy0, cy1, cx0, cx1 = max(0, y0 - context), min(h, y1 + context), max(0, x0 - context), min(w, x1 + context)
                patch = torch.from_numpy(rgb[cy0:cy1, cx0:cx1].copy()).to(device)
                x = patch.permute(2, 0, 1)[None].float() / 127.5 - 1.0                # (1, 3, th, tw)
                y = network(x)[0].clamp(-1, 1)                                       # (3, th*s, tw*s)
                y = ((y + 1.0) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
                top, left = (y0 - cy0) * scale, (x0 - cx0) * scale
                out[y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
                    y[top:top + (y1 - y0) * scale, left:left + (x1 - x0) * scale]
    result = Image.fromarray(out, "RGB")
    if alpha is not None:
        result.putalpha(alpha.resize((out_w, out_h), Image.Resampling.LANCZOS))
    return result


class Upscalers:
    """The upscale methods one Studio (or one command) offers, by name: bicubic and Lanczos always, trained
    folders added with `with_model` (a new registry each time; the network loads on first use)."""

    def __init__(self, models: dict[str, tuple[Path, str]] | None = None):
        self._models = dict(models or {})          # name: (folder, device)
        self._loaded: dict[str, object] = {}

    def with_model(self, name: str, folder: str | Path, device: str = "cpu") -> "Upscalers":
        if not name or name in CLASSICAL_FILTERS:
            raise ValueError(f"an upscaler needs a name of its own, got {name!r}")
        if not (Path(folder) / "config.json").is_file():
            raise FileNotFoundError(f"no upscaler at {folder}: train one with `python -m studio train upscaler`")
        return Upscalers({**self._models, name: (Path(folder), device)})

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(CLASSICAL_FILTERS) + tuple(self._models)

    def learned(self, name: str) -> bool:
        return name in self._models

    def __contains__(self, name) -> bool:
        return name in CLASSICAL_FILTERS or name in self._models

    def check(self, name: str) -> None:
        """ValueError naming what this studio has when `name` is none of its upscalers."""
        if name not in self:
            raise ValueError(f"unknown upscaler {str(name)[:40]!r}; this studio has: {', '.join(self.choices)}")

    def network(self, name: str):
        self.check(name)
        if name not in self._models:
            raise ValueError(f"{name} is a filter, not a trained upscaler")
        if name not in self._loaded:
            folder, device = self._models[name]
            self._loaded[name] = open_upscaler(folder, device)
        return self._loaded[name]

    def apply(self, image: Image.Image, factor: int, name: str) -> Image.Image:
        """`image` enlarged `factor` times by method `name` (a trained one must have been trained for it)."""
        check_upscale(image.size, factor)
        self.check(name)
        if name in CLASSICAL_FILTERS:
            return classical_upscale(image, factor, name)
        network = self.network(name)
        if network.config.scale != factor:
            raise ValueError(f"{name} upscales x{network.config.scale}, not x{factor}")
        return upscale(image, network)


CLASSICAL_UPSCALERS = Upscalers()
