"""`eval style`: how far a style method moves a photo towards a reference, and how much of the photo stays.

    python -m studio eval style --json runs/eval-style.json

On held-out content/style pairs (the held-out photos of studio/data/photos.py as content; textures and
artwork as references, chosen by a fixed rule below), for each method:
- style distance: the mean squared difference of SWAG Gram matrices (studio/edits/neural_style.py) between
  the result and the reference at EfficientNet-Lite0 blocks 1, 3 and 5, which the quality method's loss does
  not use; reported as the reduction against the untouched photo's distance (1 - result / photo);
- content kept: SSIM between the edge maps (Sobel gradient magnitude of luminance) of the result and the
  photo.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

EVAL_BLOCKS = (1, 3, 5)
EVAL_SIDE = 256


def edge_map(image: Image.Image) -> np.ndarray:
    """Sobel gradient magnitude of luminance, scaled to 0..255 (float64)."""
    import cv2

    luminance = np.asarray(image.convert("L"), np.float64)
    gx, gy = cv2.Sobel(luminance, cv2.CV_64F, 1, 0, ksize=3), cv2.Sobel(luminance, cv2.CV_64F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    return magnitude * (255.0 / max(magnitude.max(), 1e-9))


def edge_ssim(a: Image.Image, b: Image.Image) -> float:
    from skimage.metrics import structural_similarity

    if a.size != b.size:
        raise ValueError(f"images differ in size: {a.size} vs {b.size}")
    return float(structural_similarity(edge_map(a), edge_map(b), data_range=255))


class StyleDistance:
    """SWAG Gram distance at EVAL_BLOCKS between an image and a reference (both seen at EVAL_SIDE)."""

    def __init__(self, network=None):
        from ..edits.neural_style import _network

        self.network = network or _network()

    def grams(self, image: Image.Image) -> list[np.ndarray]:
        import torch

        from ..edits.neural_style import _fit, _to_tensor, gram, swag

        with torch.inference_mode():
            maps = self.network.feature_maps(_to_tensor(_fit(image, EVAL_SIDE)), EVAL_BLOCKS)
            return [gram(swag(m))[0].numpy() for m in maps]

    def __call__(self, image: Image.Image, reference_grams: list[np.ndarray]) -> float:
        return float(np.mean([np.mean((g - r) ** 2) for g, r in zip(self.grams(image), reference_grams)]))


def style_pairs(n_styles: int | None = None, split: str = "test") -> list[tuple[Path, Path]]:
    """(content, style) pairs: every held-out photo with each of the `n_styles` held-out references
    (studio/data/photos.py `style_references`: every k-th GIMP pattern and MATE artwork by name); with
    split "val", the validation photos and references instead (`style_validation`: training images, none
    of them held out), for choosing a method's settings or a network without the test pairs."""
    from ..data.photos import STYLE_TEST, photo_files, style_references, style_validation

    if split == "val":
        photos, refs = style_validation(n_styles or STYLE_TEST)
        return [(c, s) for c in photos for s in refs]
    if split != "test":
        raise ValueError(f"unknown split {split!r}; style pairs have test and val")
    return [(c, s) for c in photo_files("test") for s in style_references(n_styles or STYLE_TEST)[1]]


def style_methods(names=("reinhard", "quality", "live"), live: str | Path | None = None,
                  strengths: tuple[float, ...] = (1.0,), network=None) -> dict[str, Callable]:
    """The methods `eval style` and the live network's card compare, by their table names: Reinhard colour
    transfer; quality (optimisation, studio/edits/neural_style.py, run once per pair and blended with the
    photo at each of `strengths`, as the recipe step's strength does); live (the network in folder `live`,
    one pass at each of `strengths`, which act on its features)."""
    from ..edits.neural_style import STYLIST, StyleStats, live_stylize, stylize
    from ..edits.style import ColorStats, transfer

    network = network or STYLIST.network()
    last_stats: list = [None, None]               # (the reference, its statistics): measured once per pair
    last_styled: list = [None, None]              # ((content, reference), the optimised result)

    def measured(style):
        if last_stats[0] is not style:
            last_stats[:] = [style, StyleStats.measure(style, network)]
        return last_stats[1]

    def quality(strength):
        def run(content, style):
            if last_styled[0] is None or last_styled[0][0] is not content or last_styled[0][1] is not style:
                last_styled[:] = [(content, style), stylize(content, measured(style), network=network)]
            return Image.blend(content, last_styled[1], strength)
        return run

    methods: dict[str, Callable] = {}
    for name in names:
        if name == "reinhard":
            methods["reinhard (colour transfer)"] = lambda c, s: transfer(c, ColorStats.measure(s), "reinhard", 1.0)
        elif name == "quality":
            methods.update({f"quality, strength {a:g}": quality(a) for a in strengths})
        elif name == "live":
            if live is None or not Path(live, "config.json").is_file():
                raise ValueError(f"no live style network at {live}")
            from ..checkpoints import open_network
            from ..models.stylenet import StyleDecoder

            decoder = open_network(live, StyleDecoder)
            for a in strengths:
                methods[f"live ({Path(live).name}), strength {a:g}"] = (
                    lambda c, s, a=a: live_stylize(c, measured(s), decoder, network, a))
        else:
            raise ValueError(f"unknown style method {name!r}; known: reinhard, quality, live")
    return methods


def evaluate_style(methods: dict[str, Callable[[Image.Image, Image.Image], Image.Image]],
                   pairs: list[tuple[Path, Path]], side: int = 512, log=print) -> dict:
    """Per method: mean style-distance reduction, mean edge SSIM, and per pair."""
    from ..data.photos import load_photo

    distance = StyleDistance()
    start = time.perf_counter()
    rows: dict[str, list[dict]] = {name: [] for name in methods}
    for content_path, style_path in pairs:
        content, style = load_photo(content_path, side), load_photo(style_path, 1024)
        reference = distance.grams(style)
        before = distance(content, reference)
        for name, method in methods.items():
            began = time.perf_counter()
            out = method(content, style)
            rows[name].append({"content": content_path.name, "style": style_path.name,
                               "reduction": 1 - distance(out, reference) / max(before, 1e-12),
                               "edge_ssim": edge_ssim(out, content), "seconds": time.perf_counter() - began})
        log(f"{content_path.name} x {style_path.name}: " + ", ".join(
            f"{n} {rows[n][-1]['reduction']:.0%} / {rows[n][-1]['edge_ssim']:.2f}" for n in methods))
    summary = {name: {"reduction": float(np.mean([r["reduction"] for r in found])),
                      "edge_ssim": float(np.mean([r["edge_ssim"] for r in found])),
                      "seconds": float(np.mean([r["seconds"] for r in found])), "pairs": found}
               for name, found in rows.items()}
    return {"side": side, "methods": summary, "seconds": round(time.perf_counter() - start, 1)}


def markdown_table(result: dict) -> str:
    lines = [f"{len(next(iter(result['methods'].values()))['pairs'])} content/style pairs at {result['side']} px", "",
             "| method | style distance reduction | edge-map SSIM with the photo | seconds per image |",
             "|---|---|---|---|"]
    lines += [f"| {name} | {m['reduction']:.0%} | {m['edge_ssim']:.3f} | {m['seconds']:.1f} |"
              for name, m in result["methods"].items()]
    return "\n".join(lines)
