"""Fashion catalog: Zalando's Fashion-MNIST product photos, recoloured into named colourways.

Source: Debian package `dataset-fashion-mnist` (MIT, © Zalando SE): 60,000 train + 10,000 test grey
28x28 product photos in 10 categories. A fixed validation set of 500 per category is carved from train.

Each product gets a colourway: a named product colour (its shading kept from the photo as lightness
around the colour's own CIELAB lightness, hue and chroma from the colour) on a named background colour
where the pair is visible. The colourway and caption of sample i are a pure function of (split, i, seed).

    python -m studio data preview --catalog fashion --out fashion.png
"""

from __future__ import annotations

import gzip
import struct
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from . import captions
from .base import Catalog, CatalogError, Sample, check_size, check_split
from .vocab import (
    BACKGROUNDS,
    CATEGORIES,
    COLORS,
    hex_to_rgb,
    srgb_to_lab,
    visible_backgrounds,
)

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")
APT_PACKAGE = "dataset-fashion-mnist"
SOURCE_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
VAL_PER_CATEGORY = 500
VAL_SEED = 20200523            # fixed forever: changing it would move images between train and val
SPLIT_CODES = {"train": 1, "val": 2, "test": 3}
PRODUCT_FRACTION = 28 / 32     # the product box fills this share of the output, as 28 px in 32
INK_THRESHOLD = 0.04           # grey value above which a pixel belongs to the product
MAX_FILLED_HOLE = 12           # enclosed dark regions up to this many pixels (of 28x28) are product

_COLOR_NAMES = tuple(COLORS)
_BACKGROUND_NAMES = tuple(BACKGROUNDS)
_VISIBLE = {c: visible_backgrounds(c) for c in _COLOR_NAMES}


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX ubyte file (the MNIST format) into a uint8 array."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from exc
    if len(data) < 4:
        raise CatalogError(f"{path} is not an IDX file (only {len(data)} bytes)")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or not 1 <= ndim <= 4:
        raise CatalogError(f"{path} is not an unsigned-byte IDX file (header {data[:4].hex()})")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    expected = int(np.prod(shape))
    if len(data) - 4 - 4 * ndim != expected:
        raise CatalogError(f"{path} is truncated: header says {shape}, file holds "
                           f"{len(data) - 4 - 4 * ndim} of {expected} values")
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


@lru_cache(maxsize=4)
def load_source(root: str, source_split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N,28,28], labels uint8 [N]) of Fashion-MNIST's 'train' or 't10k' files."""
    image_file, label_file = (Path(root) / name for name in SOURCE_FILES[source_split])
    missing = [str(p) for p in (image_file, label_file) if not p.is_file()]
    if missing:
        raise CatalogError(f"Fashion-MNIST files are missing ({', '.join(missing)}). Install them with "
                           f"`sudo apt-get install {APT_PACKAGE}` (or run `make test`/`make demo`, "
                           f"which do), or pass root= to a folder holding the four .gz files.")
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise CatalogError(f"{root}: images {images.shape} and labels {labels.shape} do not match")
    if labels.max(initial=0) >= len(CATEGORIES):
        raise CatalogError(f"{label_file} has label {labels.max()}, above the 10 categories")
    return images, labels


def split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices into the source arrays for 'train' / 'val' (both from the train files) or 'test'."""
    if split == "test":
        return np.arange(len(labels))
    rng = np.random.default_rng(VAL_SEED)
    val = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:VAL_PER_CATEGORY]
                          for c in range(len(CATEGORIES))])
    in_val = np.zeros(len(labels), bool)
    in_val[val] = True
    return np.flatnonzero(in_val if split == "val" else ~in_val)


def product_alpha(gray: np.ndarray) -> np.ndarray:
    """Coverage of the product in a Fashion-MNIST photo, float32 in [0,1].

    The photos are bright products on black. Dark pixels inside the product (prints, seams) are also
    black, so small enclosed dark regions are filled; large ones (a bag's handle loop) stay background.
    """
    value = gray.astype(np.float32) / 255.0
    ink = value > INK_THRESHOLD
    count, regions, stats, _ = cv2.connectedComponentsWithStats((~ink).astype(np.uint8), connectivity=4)
    filled = ink.copy()
    h, w = ink.shape
    for region in range(1, count):
        x, y, rw, rh, area = stats[region]
        touches_border = x == 0 or y == 0 or x + rw == w or y + rh == h
        if not touches_border and area <= MAX_FILLED_HOLE:
            filled |= regions == region
    interior = cv2.erode(filled.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # Edges keep the photo's anti-aliasing; the interior is fully opaque.
    return np.where(interior, 1.0, np.clip(value / 0.25, 0.0, 1.0) * filled).astype(np.float32)


def colorway(gray: np.ndarray, color: str, background: str, size: int) -> np.ndarray:
    """Recolour one grey product photo to `color` on `background`; uint8 RGB (size, size, 3)."""
    # 1. product coverage and its shading relative to the product's median grey
    alpha = product_alpha(gray)
    value = gray.astype(np.float32) / 255.0
    inside = alpha > 0.5
    median = float(np.median(value[inside])) if inside.any() else 0.5
    # 2. upsample to the product box inside the frame
    inner = max(1, round(size * PRODUCT_FRACTION))
    if inner != gray.shape[0]:
        value = cv2.resize(value, (inner, inner), interpolation=cv2.INTER_CUBIC)
        alpha = np.clip(cv2.resize(alpha, (inner, inner), interpolation=cv2.INTER_CUBIC), 0, 1)
    # 3. lightness follows the photo around the colour's own lightness; chroma fades in shadow
    target = srgb_to_lab(np.array(hex_to_rgb(COLORS[color]))).astype(np.float32)
    amplitude = 30.0 + 25.0 * min(1.0, min(target[0], 100.0 - target[0]) / 40.0)
    lightness = np.clip(target[0] + amplitude * (value - median), 2.0, 98.0)
    chroma_scale = np.clip(lightness / max(float(target[0]), 1.0), 0.25, 1.0)
    lab = np.stack([lightness, target[1] * chroma_scale, target[2] * chroma_scale], axis=-1)
    product = np.clip(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB), 0.0, 1.0)
    # 4. composite on the background, centred
    bg = np.array(hex_to_rgb(BACKGROUNDS[background]), np.float32) / 255.0
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = bg
    top = (size - inner) // 2
    a = alpha[..., None]
    canvas[top:top + inner, top:top + inner] = a * product + (1 - a) * bg
    return np.round(canvas * 255.0).astype(np.uint8)


class FashionCatalog(Catalog):
    """Fashion-MNIST in colourways. Splits: train (55,000), val (5,000), test (10,000)."""

    name = "fashion"
    attributes = ("category", "color", "background")
    splits = ("train", "val", "test")
    default_size = 32
    note = ("Fashion-MNIST's own splits: its 60,000 train images are train + val (500 per category "
            "carved out, fixed), its 10,000 test images are test")
    data_credit = ("Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017), (c) Zalando SE, MIT licence, from Debian's "
                   "`dataset-fashion-mnist`. Each product is recoloured into one of 14 named colours on one of 6 "
                   "backgrounds (visible pairs only), re-drawn every epoch. Splits: train 55,000 / val 5,000 "
                   "(carved from Fashion-MNIST train) / test 10,000 (Fashion-MNIST test).")

    def __init__(self, split: str = "train", size: int = 32, seed: int = 0, root: str | Path | None = None):
        self.split = check_split(split, self.splits)
        self.size = check_size(size)
        self.seed = int(seed)
        self.root = Path(root) if root is not None else DEFAULT_ROOT
        images, labels = load_source(str(self.root), "t10k" if split == "test" else "train")
        self._index = split_indices(labels, split)
        self._images, self._categories = images, labels
        # Colourways for the whole split at once: a pure function of (seed, split).
        rng = np.random.default_rng([self.seed, SPLIT_CODES[split]])
        n = len(self._index)
        self._colors = rng.integers(len(_COLOR_NAMES), size=n)
        pick = rng.random(n)
        self._backgrounds = np.array([
            _BACKGROUND_NAMES.index(_VISIBLE[_COLOR_NAMES[c]][int(u * len(_VISIBLE[_COLOR_NAMES[c]]))])
            for c, u in zip(self._colors, pick)], dtype=np.int64)

    def __len__(self) -> int:
        return len(self._index)

    def label(self, index: int) -> dict[str, str | None]:
        index = self._check_index(index)
        return {
            "category": CATEGORIES[self._categories[self._index[index]]],
            "color": _COLOR_NAMES[self._colors[index]],
            "background": _BACKGROUND_NAMES[self._backgrounds[index]],
        }

    def gray(self, index: int) -> np.ndarray:
        """The original 28x28 grey photo of sample `index`."""
        return self._images[self._index[self._check_index(index)]]

    def render(self, index: int, color: str, background: str) -> Image.Image:
        """Sample `index` in any colourway (e.g. to match a prompt's labels for a real reference)."""
        if color not in COLORS:
            raise ValueError(f"unknown colour {color!r}; known: {', '.join(COLORS)}")
        if background not in BACKGROUNDS:
            raise ValueError(f"unknown background {background!r}; known: {', '.join(BACKGROUNDS)}")
        return Image.fromarray(colorway(self.gray(index), color, background, self.size))

    def image(self, index: int) -> Image.Image:
        labels = self.label(index)
        return self.render(index, labels["color"], labels["background"])

    def sample(self, index: int) -> Sample:
        labels = self.label(index)
        rng = np.random.default_rng([self.seed, SPLIT_CODES[self.split], index])
        return Sample(
            image=self.render(index, labels["color"], labels["background"]),
            caption=captions.caption(labels, rng).text,
            labels=labels,
            key=f"fashion/{self.split}/{int(self._index[index])}",
            credit="Fashion-MNIST, © Zalando SE, MIT licence",
        )
