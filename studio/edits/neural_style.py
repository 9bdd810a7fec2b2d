"""Neural style transfer by optimisation ("quality" style): the photo's pixels moved until EfficientNet-Lite0
sees the reference's textures in them while keeping the photo's layout.

    stats = StyleStats.measure(load_image("painting.jpg"))       # what a recipe keeps, not the file
    styled = stylize(photo, stats, progress=lambda done, total: ...)

- Gatys, Ecker & Bethge (CVPR 2016): match the Gram matrices of feature maps of a fixed ImageNet network at
  several depths (style) and the feature maps at one depth (content), by gradient descent on the pixels.
  VGG is not obtainable here; EfficientNet-Lite0 is the only ImageNet network (studio/models/effnet.py).
- SWAG (Wang, Li & Vasconcelos, CVPR 2021): non-VGG networks have peaky, low-entropy activations that make
  Gram matching degenerate; a softmax over each feature map's positions before the statistics (and before
  the content comparison) restores stylisation. Here the softmax runs over each channel's positions and is
  rescaled by their count, so a uniform map reads 1 everywhere.
- Early blocks only (16 to 80 channels, strides 2 to 16): textures and edges live there, and they are cheap.
- Standardised maps carry no colour, so the reference's colour is matched by its own small term: the mean
  and spread of each RGB channel and the correlation of each channel pair (optimised jointly with the
  textures). Without the correlations a grey reference let the optimisation invent hues (purple and yellow
  in an orange flower, seen on the style-live card's sheet); with them, on `eval style --split val`,
  strength 0.9 measured 48% / 0.610 against 46.8% / 0.613.
- The photo's colours are first moved to the reference's (the whole colour covariance, a Cholesky map;
  each channel's mean and spread alone for statistics recorded without correlations) and the optimisation
  starts from there: colour is the part of a style the textures cannot carry without wiping the photo's
  edges.
- Total variation against the speckle pixel optimisation leaves in flat areas. A Laplacian loss (Li, Xu,
  Zhang, Liu & Wang, ACM MM 2017) is there too, off: at weights that held the edges it also held the
  textures back (-7% style-distance reduction at 1000).
- Weights chosen on validation pairs (training nature photos x training GIMP patterns, 12 pairs; not
  `eval style`'s held-out ones), by the most style-distance reduction whose edge-map SSIM
  stays >= 0.6: total variation 30 with content 0.1 at strength 0.7 measured 26% / 0.602, against 18% /
  0.700 at 0.6 and 34% / 0.493 at 0.8; total variation 10 gave 31% / 0.559 at 0.6 and 38% / 0.470 at 0.7;
  content 1 and no total variation lay below both curves (more speckle for the same reduction).
- Styled at the reference's scale: the reference's statistics are measured at REFERENCE_SIDE, so a larger
  photo is optimised as a copy of that side and its own fine detail is added back (`keep_detail`). On
  `eval style --split val` (4 training nature photos x 6 training references, 24 pairs at 512 px) this
  traded better than optimising coarse to fine up to the photo's size: at the same edge SSIM, more style
  (strength 0.9: 46.8% reduction at edge SSIM 0.613; coarse to fine at 0.7: 31% at 0.613), and 4-5 s a pair
  instead of 10 on one core.
  (Matching the style on a 256 px view while optimising at 512 came between: 43.4% / 0.611 at 0.75.)
  QUALITY_STRENGTH is the largest strength tried there (0.6-1 by 0.1, and 0.75) whose edge SSIM stays
  >= 0.6: 0.9 (1.0: 55.1% / 0.536).
- Coarse to fine (`side=None`): the optimisation runs at a small side first and each result, enlarged,
  starts the next size, up to the photo's own size (at most `max_side`; a larger photo gets the last result
  enlarged).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image

STYLE_BLOCKS = (0, 2, 4, 7)        # Lite0 blocks whose SWAG Gram matrices are matched (16, 24, 40, 80 channels)
CONTENT_BLOCK = 4                  # whose SWAG activations keep the photo's layout (40 channels at 1/8)
QUALITY_STRENGTH = 0.9             # the app's default strength per method, chosen on `eval style --split val`:
LIVE_STRENGTH = 1.0                # the most style-distance reduction whose edge SSIM stays >= 0.6 (docstring)
SWAG_CLIP = 4.0                    # standard deviations
MIN_SIDE = 64                      # smaller images are enlarged to this for the network (block 7 is 1/16)
REFERENCE_SIDE = 256               # the reference is measured at this longest side
LAPLACIAN_POOL = 2                 # the Laplacian loss sees the image pooled this much
SCHEDULE = ((256, 120), (512, 40), (1024, 12))   # (longest side, Adam steps) from coarse to fine


def default_strength(method: str) -> float:
    """The strength the app starts a neural style step at: QUALITY_STRENGTH for the optimisation method,
    LIVE_STRENGTH for a live network."""
    return QUALITY_STRENGTH if method == QUALITY else LIVE_STRENGTH


def _network():
    from ..models.effnet import load_efficientnet_lite0

    return load_efficientnet_lite0().requires_grad_(False)


def swag(feature):
    """(B, C, H, W) -> (B, C, H*W): each channel standardised over its positions, then a softmax over them,
    times their count (a uniform map reads 1 everywhere). Lite0's block outputs are linear bottlenecks that
    reach +-50, where a softmax of the raw values collapses onto a handful of positions; standardised, it
    smooths the peaks as SWAG intends; clipped at SWAG_CLIP deviations, as one bright spot in a flat map
    would otherwise stand sqrt(positions) deviations out."""
    flat = feature.flatten(2)
    z = (flat - flat.mean(-1, keepdim=True)) / (flat.std(-1, keepdim=True) + 1e-5)
    return z.clamp(-SWAG_CLIP, SWAG_CLIP).softmax(dim=-1) * flat.shape[-1]


def gram(flat):
    """(B, C, N) -> (B, C, C), normalised by N."""
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def _to_tensor(image: Image.Image):
    import torch

    array = np.asarray(image.convert("RGB"), np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)[None]


def _color(x):
    """(1, 3, H, W) -> (2, 3): each channel's mean and standard deviation."""
    import torch

    flat = x[0].flatten(1)
    return torch.stack([flat.mean(1), flat.std(1)])


PAIRS = ((0, 1), (0, 2), (1, 2))   # the channel pairs of a correlation vector: RG, RB, GB


def _correlation(x):
    """(1, 3, H, W) -> (3,): the correlation of the R-G, R-B and G-B channel pairs over the pixels."""
    flat = x[0].flatten(1)
    z = (flat - flat.mean(1, keepdim=True)) / (flat.std(1, keepdim=True) + 1e-5)
    c = z @ z.T / max(1, flat.shape[1] - 1)
    return c[[i for i, _ in PAIRS], [j for _, j in PAIRS]]


def _covariance(std, correlation):
    """The 3x3 covariance of channel spreads `std` (3,) and pair correlations `correlation` (3,)."""
    import torch

    r = torch.eye(3, dtype=std.dtype)
    for k, (i, j) in enumerate(PAIRS):
        r[i, j] = r[j, i] = correlation[k]
    return std[:, None] * r * std[None, :]


def match_color(x, color, correlation=None):
    """(1, 3, H, W) in [-1, 1] with each channel's mean and spread set to `color` ((2, 3)), clamped. With
    the reference's pair `correlation` (3,), the whole colour covariance is matched instead (a Cholesky
    map, as in Gatys et al. 2017's colour control): a grey reference then gives a grey start, where matching
    each channel alone keeps the photo's hues."""
    import torch

    mean, std = _color(x)
    if correlation is None:
        return ((x - mean[None, :, None, None]) / (std[None, :, None, None] + 1e-5) * color[1][None, :, None, None]
                + color[0][None, :, None, None]).clamp(-1, 1)
    eps = 1e-4 * torch.eye(3)
    own = torch.linalg.cholesky(_covariance(std, _correlation(x)) + eps)
    target = torch.linalg.cholesky(_covariance(color[1], correlation) + eps)
    flat = x[0].flatten(1) - mean[:, None]
    moved = target @ torch.linalg.solve_triangular(own, flat, upper=False) + color[0][:, None]
    return moved.reshape_as(x[0])[None].clamp(-1, 1)


def laplacian(x, pool: int = LAPLACIAN_POOL):
    """The 4-neighbour Laplacian of each channel of `x` average-pooled by `pool` (Li et al. 2017)."""
    import torch
    import torch.nn.functional as F

    if pool > 1:
        x = F.avg_pool2d(x, pool)
    kernel = torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=x.shape[1])


def total_variation(x):
    """Mean absolute difference between neighbouring pixels (Mahendran & Vedaldi 2015; Johnson et al. 2016
    use it against the speckle pixel optimisation leaves in flat areas)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def _fit(image: Image.Image, side: int, least: int = 0) -> Image.Image:
    """The image with its longest side at most `side` and at least `least` (geometry.resize: Lanczos)."""
    from .geometry import resize

    if max(image.size) > side:
        return resize(image, longest=side)
    return resize(image, longest=least) if max(image.size) < least else image


MOMENT_BLOCKS = (0, 2, 4)          # the live network's blocks (studio/models/stylenet.py BLOCKS)
CHANNELS = dict(zip(STYLE_BLOCKS, (16, 24, 40, 80)))


@dataclass(frozen=True)
class StyleStats:
    """The reference's SWAG Gram matrices at STYLE_BLOCKS (the quality method's target), its colour (mean
    and spread of R, G, B in [-1, 1], shape (2, 3)), the per-channel mean and spread of its maps at
    MOMENT_BLOCKS ((2, C) each: the live network's target) and the correlation of its channel pairs (PAIRS;
    None in statistics recorded before it was kept, which then replay matching each channel alone): all a
    recipe needs to replay the style."""
    grams: tuple[np.ndarray, ...]
    color: np.ndarray
    moments: tuple[np.ndarray, ...]
    correlation: np.ndarray | None = None

    @classmethod
    def measure(cls, reference: Image.Image, network=None) -> "StyleStats":
        import torch

        from ..models.stylenet import moments

        network = network or _network()
        x = _to_tensor(_fit(reference, REFERENCE_SIDE, least=MIN_SIDE))
        with torch.inference_mode():
            maps = network.feature_maps(x, STYLE_BLOCKS)
            grams = tuple(gram(swag(m))[0].numpy().astype(np.float32) for m in maps)
            found = tuple(torch.cat(moments(maps[STYLE_BLOCKS.index(b)])).reshape(2, -1).numpy().astype(np.float32)
                          for b in MOMENT_BLOCKS)
            correlation = _correlation(x).numpy().astype(np.float32)
        return cls(grams, _color(x).numpy().astype(np.float32), found, correlation)

    def to_dict(self) -> dict:
        out = {"blocks": list(STYLE_BLOCKS),
               "grams": [base64.b64encode(g.astype(np.float16).tobytes()).decode("ascii") for g in self.grams],
               "color": [[round(float(v), 5) for v in row] for row in self.color],
               "moments": [[[round(float(v), 5) for v in row] for row in m] for m in self.moments]}
        if self.correlation is not None:
            out["correlation"] = [round(float(v), 5) for v in self.correlation]
        return out

    def key(self) -> str:
        """A digest of the statistics (what a cached result was made for)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict) -> "StyleStats":
        if not isinstance(data, dict) or data.get("blocks") != list(STYLE_BLOCKS):
            raise ValueError(f"style statistics must be measured at blocks {list(STYLE_BLOCKS)}")
        grams = data.get("grams")
        if not isinstance(grams, list) or len(grams) != len(STYLE_BLOCKS):
            raise ValueError("style statistics need one Gram matrix per block")
        out = []
        for text, channels in zip(grams, CHANNELS.values()):
            try:
                raw = base64.b64decode(text, validate=True)
            except (TypeError, ValueError):
                raise ValueError("style statistics are not valid base64") from None
            if len(raw) != channels * channels * 2:
                raise ValueError(f"a {channels}-channel Gram matrix has {channels * channels} entries")
            g = np.frombuffer(raw, np.float16).astype(np.float32).reshape(channels, channels)
            if not np.isfinite(g).all():
                raise ValueError("style statistics hold non-finite numbers")
            out.append(g)
        color = _array(data.get("color"), (2, 3), "the colour's mean and spread per channel")
        moments = data.get("moments")
        if not isinstance(moments, list) or len(moments) != len(MOMENT_BLOCKS):
            raise ValueError(f"style statistics need the maps' moments at blocks {list(MOMENT_BLOCKS)}")
        found = tuple(_array(m, (2, CHANNELS[b]), f"block {b}'s moments") for m, b in zip(moments, MOMENT_BLOCKS))
        if any((m[1] <= 0).any() for m in found):
            raise ValueError("a spread in the style statistics is not positive")
        correlation = data.get("correlation")
        if correlation is not None:
            correlation = _array([correlation], (1, 3), "the correlation of the colour channel pairs")[0]
            if (np.abs(correlation) > 1).any():
                raise ValueError("a colour correlation in the style statistics lies outside -1 to 1")
        return cls(tuple(out), color, found, correlation)


def _array(value, shape: tuple[int, int], what: str) -> np.ndarray:
    """`value` (nested lists) as a finite float32 array of `shape`, else ValueError naming `what`."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != shape or not np.isfinite(array).all():
        raise ValueError(f"style statistics need {what}, {shape}")
    return array.astype(np.float32)


def stylize(content: Image.Image, stats: StyleStats, *, style_weight: float = 1.0, content_weight: float = 0.1,
            color_weight: float = 1.0, laplacian_weight: float = 0.0, tv_weight: float = 30.0,
            start_color: bool = True, schedule=SCHEDULE, max_side: int = 1024, lr: float = 0.02, network=None,
            side: int | None = REFERENCE_SIDE, progress: Callable[[int, int], None] | None = None) -> Image.Image:
    """`content` (RGB or RGBA; alpha kept) restyled towards `stats`; the same size as `content`.
    Deterministic for the same inputs on the same machine (no noise: it starts from the photo).

    With `side` (default: REFERENCE_SIDE, where the reference's statistics were measured), a larger image is
    optimised as a copy of that side and its own fine detail added back (`keep_detail`), as the live method
    does; `side=None` runs the coarse-to-fine `schedule` up to the image's own size (at most `max_side`)."""
    import torch
    import torch.nn.functional as F

    weights = (style_weight, content_weight, color_weight, laplacian_weight, tv_weight)
    if min(weights) < 0 or style_weight + content_weight + color_weight == 0:
        raise ValueError("style, content and colour weights must not be negative, and not all zero")
    photo_in, content = content, _working_copy(content, side)
    network = network or _network()
    targets = [torch.from_numpy(g)[None] for g in stats.grams]
    color = torch.from_numpy(stats.color)
    pairs = None if stats.correlation is None else torch.from_numpy(stats.correlation)
    stages = [(max(min(longest, max_side, max(content.size)), MIN_SIDE), steps) for longest, steps in schedule]
    stages = [s for i, s in enumerate(stages) if i == 0 or s[0] > stages[i - 1][0]]   # no repeated sizes
    total, done = sum(steps for _, steps in stages), 0
    current = None
    for longest, steps in stages:
        photo = _to_tensor(_fit(content, longest, least=MIN_SIDE))
        with torch.no_grad():
            keep = swag(network.feature_maps(photo, (CONTENT_BLOCK,))[0])
            edges = laplacian(photo) if laplacian_weight else None
        if current is None and start_color:
            photo = match_color(photo, color, pairs)
        start = photo if current is None else F.interpolate(current, size=photo.shape[-2:], mode="bicubic",
                                                            align_corners=False)
        x = start.clone().clamp(-1, 1).requires_grad_(True)
        optimiser = torch.optim.Adam([x], lr=lr)
        for _ in range(steps):
            maps = network.feature_maps(x, STYLE_BLOCKS)
            style = sum(F.mse_loss(gram(swag(m)), t) for m, t in zip(maps, targets))
            layout = F.mse_loss(swag(maps[STYLE_BLOCKS.index(CONTENT_BLOCK)]), keep)
            tone = F.mse_loss(_color(x), color) + (0 if pairs is None else F.mse_loss(_correlation(x), pairs))
            loss = style_weight * style + content_weight * layout + color_weight * tone
            if edges is not None:
                loss = loss + laplacian_weight * F.mse_loss(laplacian(x), edges)
            if tv_weight:
                loss = loss + tv_weight * total_variation(x)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                x.clamp_(-1, 1)
            done += 1
            if progress is not None:
                progress(done, total)
        current = x.detach()
    return keep_detail(photo_in, _as_content(current, content), content)


def _as_content(x, content: Image.Image) -> Image.Image:
    """(1, 3, h, w) in [-1, 1] -> an image of `content`'s size (Lanczos when it differs), with its alpha."""
    array = ((x[0].clamp(-1, 1).permute(1, 2, 0).numpy() + 1.0) * 127.5).round().astype(np.uint8)
    out = Image.fromarray(array, "RGB")
    if out.size != content.size:
        out = out.resize(content.size, Image.Resampling.LANCZOS)
    if content.mode == "RGBA":
        out.putalpha(content.getchannel("A"))
    return out


LIVE_MAX_SIDE = 1536               # the live network runs at most at this side (a larger image: enlarged result)


def _working_copy(content: Image.Image, side: int | None) -> Image.Image:
    """What a method styles: `content` itself, or its copy at `side` when it is larger (`keep_detail` then
    brings the result back to `content`'s size)."""
    return _fit(content, side) if side is not None and max(content.size) > side else content


def keep_detail(content: Image.Image, styled_small: Image.Image, small: Image.Image) -> Image.Image:
    """The styled small copy enlarged to `content`'s size plus the detail the small copy lost (`content` less
    the small copy enlarged the same way): the style where the reference's statistics were measured, the
    photo's own fine edges on top (one level of a Laplacian pyramid). RGB; `content`'s alpha kept. When
    `small` is `content` itself (nothing was reduced), `styled_small` is the answer as it is."""
    if small is content:
        return styled_small
    enlarge = lambda im: np.asarray(im.convert("RGB").resize(content.size, Image.Resampling.BICUBIC), np.float32)
    out = enlarge(styled_small) + np.asarray(content.convert("RGB"), np.float32) - enlarge(small)
    result = Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8), "RGB")
    if content.mode == "RGBA":
        result.putalpha(content.getchannel("A"))
    return result


def live_stylize(content: Image.Image, stats: StyleStats, decoder, network, strength: float = 1.0,
                 side: int | None = REFERENCE_SIDE) -> Image.Image:
    """`content` (RGB or RGBA; alpha kept) restyled in one pass of the live network (studio/models/stylenet.py)
    towards `stats`' moments, `strength` in [0, 1] blending the moved maps with the photo's own.

    With `side` (default: REFERENCE_SIDE, where the reference's moments were measured), a larger image is
    styled as a copy of that side and its own fine detail added back (`keep_detail`): the texture keeps the
    scale it has in the reference whatever the photo's size, so the 512 px preview and the full-size export
    agree, and the photo's edges survive. Chosen on `eval style --split val` (the shipped network, strength 1:
    28% style-distance reduction at edge SSIM 0.623, against 21% at 0.602 at strength 0.7 when run at
    512 px). `side=None` runs the network at the image's own size (at most LIVE_MAX_SIDE)."""
    import torch
    import torch.nn.functional as F

    from ..models.stylenet import stylize_batch

    photo_in, content = content, _working_copy(content, side)
    photo = _to_tensor(_fit(content, LIVE_MAX_SIDE, least=MIN_SIDE))
    h, w = photo.shape[-2:]
    pad_h, pad_w = -h % 16, -w % 16                 # the encoder's strides: whole maps at every level
    padded = F.pad(photo, (0, pad_w, 0, pad_h), mode="replicate")
    means = [torch.from_numpy(m[0]) for m in stats.moments]
    stds = [torch.from_numpy(m[1]) for m in stats.moments]
    with torch.inference_mode():
        out = stylize_batch(network, decoder, padded, means, stds, strength)[..., :h, :w]
    return keep_detail(photo_in, _as_content(out, content), content)


QUALITY = "quality"                # the optimisation method's name in recipes (the live ones: their folders')


class Stylist:
    """Neural style for every recipe of the process. Quality: `stylize` with the network loaded once and the
    last few results kept: a live preview runs the whole recipe again on every slider event, and a neural
    step whose input and statistics have not changed is then found here instead of optimised again (seconds
    to a minute each). Live: the registered live networks by name (a Studio registers its folders), each
    loaded on first use."""

    def __init__(self, capacity: int = 6):
        self.capacity = capacity
        self._network = None
        self._results: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._lock = threading.Lock()
        self._live: dict[str, tuple[str, object]] = {}      # name: (folder, decoder once loaded)

    # ---- the live networks recipes may name (a Studio registers the folders in its weights)
    def register(self, name: str, folder) -> None:
        from pathlib import Path

        if not (Path(folder) / "config.json").is_file():
            raise FileNotFoundError(f"no live style network at {folder}: train one with "
                                    "`python -m studio train stylenet`")
        with self._lock:
            if self._live.get(name, (None,))[0] != str(folder):
                self._live[name] = (str(folder), None)

    def check(self, name: str) -> None:
        if name != QUALITY and name not in self._live:
            raise ValueError(f"unknown style method {str(name)[:40]!r}; here: "
                             + ", ".join((QUALITY, *self._live)))

    def decoder(self, name: str):
        from ..checkpoints import open_network
        from ..models.stylenet import StyleDecoder

        self.check(name)
        if name == QUALITY:
            raise ValueError("quality is the optimisation method, not a live network")
        with self._lock:
            folder, decoder = self._live[name]
            if decoder is None:
                decoder = open_network(folder, StyleDecoder).requires_grad_(False)
                self._live[name] = (folder, decoder)
            return decoder

    def live(self, image: Image.Image, stats: StyleStats, name: str, strength: float = 1.0) -> Image.Image:
        return live_stylize(image, stats, self.decoder(name), self.network(), strength)

    def network(self):
        with self._lock:
            if self._network is None:
                self._network = _network()
            return self._network

    def __call__(self, image: Image.Image, stats: StyleStats,
                 progress: Callable[[int, int], None] | None = None) -> Image.Image:
        key = (hashlib.sha256(image.tobytes()).hexdigest(), image.size, image.mode, stats.key())
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
                return found.copy()
        out = stylize(image, stats, network=self.network(), progress=progress)
        with self._lock:
            self._results[key] = out
            while len(self._results) > self.capacity:
                self._results.popitem(last=False)
        return out.copy()


STYLIST = Stylist()
