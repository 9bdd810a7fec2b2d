"""`eval upscale`: upscalers against bicubic and Lanczos on held-out real photos.

    python -m studio eval upscale --scale 4 --model weights/upscaler-x4 --json runs/eval-upscale-x4.json

Each held-out photo (studio/data/photos.py, split "test"; never trained on) is cropped to a multiple of the
scale, reduced by PIL's bicubic filter, and enlarged back by every method. Scores against the original:
- PSNR on RGB and on luminance (BT.601 Y, as the super-resolution literature reports it), with `scale`
  pixels shaved off each border;
- SSIM (7x7 windows) on RGB and on Y, shaved alike;
- fd_effnet: the Fréchet distance between EfficientNet-Lite0 features of `crops` 128 px crops per photo of
  the result and of the original, the same crop places for every method (a distribution distance over a
  few hundred crops: compare methods with each other, not with published numbers).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..data.photos import load_photo, photo_files
from .metrics import frechet_distance, psnr

Method = Callable[[Image.Image], Image.Image]


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 Y in [16, 235] from uint8 RGB, as float64 (the convention of SRCNN onwards)."""
    rgb = rgb.astype(np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def _psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((luma(a) - luma(b)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def _ssim(a: np.ndarray, b: np.ndarray, channel_axis: int | None) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=channel_axis, data_range=255))


def upscale_methods(scale: int, folders: list, device: str = "cpu") -> dict[str, Method]:
    """name -> image function: bicubic and Lanczos, then each upscaler folder in order (its factor must be
    `scale`)."""
    from ..edits.upscale import CLASSICAL_FILTERS, classical_upscale, open_upscaler, upscale

    methods = {name: (lambda image, name=name: classical_upscale(image, scale, name)) for name in CLASSICAL_FILTERS}
    for folder in folders:
        network = open_upscaler(folder, device)
        if network.config.scale != scale:
            raise ValueError(f"{folder} upscales x{network.config.scale}, not x{scale}")
        methods[Path(folder).name] = lambda image, network=network: upscale(image, network)
    return methods


def degrade(photo: Image.Image, scale: int) -> tuple[Image.Image, Image.Image]:
    """(the original cropped to a multiple of `scale`, its bicubic reduction)."""
    w, h = photo.width // scale * scale, photo.height // scale * scale
    original = photo.crop((0, 0, w, h))
    return original, original.resize((w // scale, h // scale), Image.Resampling.BICUBIC)


def crop_boxes(size: tuple[int, int], n: int, side: int, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    w, h = size
    xs, ys = rng.integers(0, w - side + 1, n), rng.integers(0, h - side + 1, n)
    return [(int(x), int(y), int(x) + side, int(y) + side) for x, y in zip(xs, ys)]


def evaluate_upscale(methods: dict[str, Method], scale: int, files: list[Path] | None = None, crops: int = 48,
                     seed: int = 0, max_side: int | None = None, effnet=None, log=print) -> dict:
    """Per method: the mean and per-photo metrics over `files` (default: the held-out photos; see the module
    docstring)."""
    from .judge import EffnetFeatures

    files = files if files is not None else photo_files("test")
    if not methods or not files:
        raise ValueError("eval upscale needs at least one method and one photo")
    effnet = effnet or EffnetFeatures()
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    per_photo: dict[str, list[dict]] = {name: [] for name in methods}
    crops_of: dict[str, list[Image.Image]] = {name: [] for name in methods}
    reference_crops: list[Image.Image] = []
    for path in files:
        original, small = degrade(load_photo(path, max_side), scale)
        target = np.asarray(original)
        boxes = crop_boxes(original.size, crops, 128, rng)
        reference_crops += [original.crop(b) for b in boxes]
        s = scale
        for name, method in methods.items():
            result = method(small)
            if result.size != original.size:
                raise ValueError(f"{name} made {result.size} from {small.size}, not {original.size}")
            out = np.asarray(result.convert("RGB"))
            a, b = out[s:-s, s:-s], target[s:-s, s:-s]
            per_photo[name].append({"photo": path.name, "psnr": psnr(a, b), "psnr_y": _psnr_y(a, b),
                                    "ssim": _ssim(a, b, -1), "ssim_y": _ssim(luma(a), luma(b), None)})
            crops_of[name] += [result.crop(box) for box in boxes]
        log(f"{path.name}: " + ", ".join(f"{n} {per_photo[n][-1]['psnr']:.2f} dB" for n in methods))
    reference = effnet(reference_crops)
    summary = {}
    for name, rows in per_photo.items():
        summary[name] = {key: float(np.mean([r[key] for r in rows])) for key in ("psnr", "psnr_y", "ssim", "ssim_y")}
        summary[name]["fd_effnet"] = frechet_distance(effnet(crops_of[name]), reference)
        summary[name]["photos"] = rows
    return {"scale": scale, "photos": [p.name for p in files], "crops_per_photo": crops, "seed": seed,
            "methods": summary, "seconds": round(time.perf_counter() - start, 1)}


def markdown_table(result: dict, baseline: str = "lanczos") -> str:
    """One row per method; the gain columns compare with `baseline` photo by photo (mean and worst)."""
    methods = result["methods"]
    base = methods.get(baseline)
    lines = [f"x{result['scale']} on {len(result['photos'])} held-out photos ({', '.join(result['photos'])})", "",
             "| method | PSNR (dB) | PSNR Y (dB) | SSIM | SSIM Y | fd_effnet | gain over " + baseline
             + " (mean / worst photo, dB) |", "|---|---|---|---|---|---|---|"]
    for name, m in methods.items():
        gain = "-"
        if base is not None and name != baseline:
            gains = [r["psnr"] - b["psnr"] for r, b in zip(m["photos"], base["photos"])]
            gain = f"{np.mean(gains):+.2f} / {min(gains):+.2f}"
        lines.append(f"| {name} | {m['psnr']:.2f} | {m['psnr_y']:.2f} | {m['ssim']:.4f} | {m['ssim_y']:.4f} | "
                     f"{m['fd_effnet']:.2f} | {gain} |")
    return "\n".join(lines)
