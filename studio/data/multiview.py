"""The multi-view furniture catalog: every Sweet Home 3D item rendered from the 17 views of `views.VIEWS`,
labelled by what it is (`taxonomy.item_class`), from where it is seen, its dominant colour and a background.

    python -m studio data render --size 64                 # renders once into runs/views/ (minutes)
    python -m studio data stats --catalog furniture-views
    python -m studio data preview --catalog furniture-views --out views.png

The renders are a cache, rebuilt when the libraries or the renderer change (a fingerprint of both is stored
beside them): `runs/views/views-<size>.npy` (items x views x size x size x RGBA, read as a memory map) and
`views-<size>.json` (the item keys, their dominant colours, the fingerprint). Nothing of the package's data
is committed.

Split: by item, with the same hash as the single-icon catalog (`furniture.is_test_item`), so an item's 17
views are all in train or all in test, and test items are the same ones in both catalogs.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from . import captions
from .base import Catalog, CatalogError, Sample, check_size, check_split
from .furniture import APT_PACKAGE, DEFAULT_ROOT, EXCLUDED_CATEGORIES, FurnitureItem, is_test_item, read_library
from .taxonomy import item_class
from .views import VIEWS, view_label
from .vocab import BACKGROUNDS, COLORS, hex_to_rgb, srgb_to_lab, visible_backgrounds

RENDER_VERSION = 3                 # bump when the renderer's pictures change, so caches rebuild
DEFAULT_CACHE = Path(os.environ.get("STUDIO_VIEWS_CACHE", "runs/views"))
RENDER_SIZES = (64, 128)
_PALETTE = np.stack([srgb_to_lab(np.array(hex_to_rgb(h), np.float64)) for h in COLORS.values()])


def backgrounds_for(color: str) -> tuple[str, ...]:
    """The backgrounds an item of dominant `color` is shown on: those it stands out on (all if none)."""
    return visible_backgrounds(color) or tuple(BACKGROUNDS)


def library_items(root: Path, exclude: Sequence[str] = EXCLUDED_CATEGORIES) -> list[FurnitureItem]:
    libraries = sorted(root.glob("*.sh3f")) if root.is_dir() else []
    if not libraries:
        raise CatalogError(f"no Sweet Home 3D furniture libraries (*.sh3f) in {root}. Install them with "
                           f"`sudo apt-get install {APT_PACKAGE}` (or run `make test`).")
    return [it for lib in libraries for it in read_library(lib) if it.category not in exclude and it.model]


def fingerprint(root: Path) -> str:
    """The libraries (names, sizes, times) and the renderer's version: what the cache was made from."""
    h = hashlib.sha256(f"render-v{RENDER_VERSION}\0{VIEWS}".encode())
    for lib in sorted(root.glob("*.sh3f")):
        stat = lib.stat()
        h.update(f"{lib.name}\0{stat.st_size}\0{int(stat.st_mtime)}\0".encode())
    return h.hexdigest()[:16]


def dominant_color(rgba: np.ndarray) -> str:
    """The colour name (vocab.COLORS) most of the product's opaque pixels are nearest to, over its views."""
    pixels = rgba.reshape(-1, 4)
    solid = pixels[pixels[:, 3] > 200][:, :3]
    if len(solid) == 0:
        return "gray"
    if len(solid) > 20000:                       # a fixed subsample: same answer every time
        solid = solid[:: len(solid) // 20000 + 1]
    lab = srgb_to_lab(solid.astype(np.float64))
    nearest = np.argmin(((lab[:, None, :] - _PALETTE[None]) ** 2).sum(-1), axis=1)
    return list(COLORS)[int(np.bincount(nearest, minlength=len(COLORS)).argmax())]


_worker_renderer = None


def _render_item(archive: str, model: str, rotation, size: int) -> tuple[np.ndarray | None, str, str]:
    """All views of one item (in a worker process, which keeps one OpenGL context): (rgba, colour, error).
    Lit by a key light fixed on the set (`light="world"`), so the shading and the shadow tell a symmetric
    item's front from its back. The colour is read off unlit renders from the front and a high three-quarter
    view: shading would make every product darker than it is."""
    global _worker_renderer
    from .render import Renderer, load_model

    if _worker_renderer is None:
        _worker_renderer = Renderer()
    try:
        loaded = load_model(archive, model, rotation)
        views = _worker_renderer.render_views(loaded, size, VIEWS, light="world")
        flat = _worker_renderer.render_views(loaded, 64, [(0, 15), (45, 35)], lit=False)
    except (ValueError, OSError, IndexError, KeyError) as exc:       # a model trimesh cannot read
        return None, "gray", f"{type(exc).__name__}: {exc}"
    return np.stack([np.asarray(v) for v in views]), dominant_color(np.stack([np.asarray(v) for v in flat])), ""


def build_views(size: int = 64, root: str | Path | None = None, cache: str | Path | None = None,
                workers: int = 2, limit: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Render every item's views into the cache (skipped when the cache is current); returns the .json."""
    if size not in RENDER_SIZES:
        raise ValueError(f"multi-view renders are {' or '.join(map(str, RENDER_SIZES))} px, got {size!r}")
    root = Path(root) if root is not None else DEFAULT_ROOT
    cache = Path(cache) if cache is not None else DEFAULT_CACHE
    items = library_items(root)[:limit]
    index_path, array_path = cache / f"views-{size}.json", cache / f"views-{size}.npy"
    stamp = fingerprint(root) + (f"-limit{limit}" if limit else "")
    if index_path.is_file() and array_path.is_file():
        if json.loads(index_path.read_text()).get("fingerprint") == stamp:
            return index_path
    cache.mkdir(parents=True, exist_ok=True)
    partial = array_path.with_suffix(".partial.npy")
    out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=(len(items), len(VIEWS), size, size, 4))
    keys, colors, failed = [], [], {}
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context("spawn")) as pool:
        jobs = [pool.submit(_render_item, it.archive, it.model, it.rotation, size) for it in items]
        for n, (item, job) in enumerate(zip(items, jobs)):
            rgba, color, error = job.result()
            if rgba is None:
                failed[item.key] = error
                rgba = np.zeros(out.shape[1:], np.uint8)
            out[n] = rgba
            keys.append(item.key)
            colors.append(color)
            if progress:
                progress(n + 1, len(items))
    out.flush()
    del out
    os.replace(partial, array_path)
    index_path.write_text(json.dumps({"fingerprint": stamp, "size": size, "views": VIEWS, "keys": keys,
                                      "colors": colors, "failed": failed}, indent=1))
    return index_path


class FurnitureViewsCatalog(Catalog):
    """Every furniture item from 17 views on named backgrounds; samples are (item, view) pairs."""

    name = "furniture-views"
    attributes = ("category", "view", "color", "background", "name")
    splits = ("train", "test")
    note = "split by item (the furniture catalog's hash): all 17 views of an item are on one side"
    data_credit = ("Sweet Home 3D furniture libraries from Debian's `sweethome3d-furniture` (Blend Swap CC-0 "
                   "items CC0; Blend Swap CC-BY, Kator Legaz and Scopia items CC-BY 3.0, credited per item), "
                   "their 3D models rendered here from 17 views (studio/data/render.py), composited on 6 "
                   "named backgrounds. Split by item: about one item in ten in test.")
    default_size = 64
    # the key light stands at the product's front-left (render.WORLD_KEY): a mirrored view is lit from the
    # front-right, as no render is, and a mirrored rear three-quarter view is lit as a three-quarter one is
    mirror_safe = False

    def __init__(self, split: str = "train", size: int = 64, seed: int = 0, root: str | Path | None = None,
                 cache: str | Path | None = None):
        self.split = check_split(split, self.splits)
        self.size = check_size(size)
        self.seed = int(seed)
        root = Path(root) if root is not None else DEFAULT_ROOT
        cache = Path(cache) if cache is not None else DEFAULT_CACHE
        render_size = next((s for s in RENDER_SIZES if s >= self.size), RENDER_SIZES[-1])
        index_path = cache / f"views-{render_size}.json"
        if not index_path.is_file():
            raise CatalogError(f"the multi-view renders are not built yet ({index_path}): run "
                               f"`python -m studio data render --size {render_size}` (a few minutes)")
        index = json.loads(index_path.read_text())
        if not str(index.get("fingerprint", "")).startswith(fingerprint(root)):
            raise CatalogError(f"the multi-view renders in {cache} are out of date (the libraries or the renderer "
                               f"changed): run `python -m studio data render --size {render_size}` again")
        self.render_size = render_size
        self.renders = np.load(cache / f"views-{render_size}.npy", mmap_mode="r")
        by_key = {it.key: it for it in library_items(root)}
        failed = index.get("failed", {})
        rows = [(n, by_key[k], c) for n, (k, c) in enumerate(zip(index["keys"], index["colors"]))
                if k in by_key and k not in failed and is_test_item(k) == (split == "test")]
        self.items = [it for _, it, _ in rows]
        self._rows = [n for n, _, _ in rows]
        self._colors = [c for _, _, c in rows]
        self._classes = [item_class(it.name, it.tags) for it in self.items]
        self.views = [tuple(v) for v in index["views"]]

    def __len__(self) -> int:
        return len(self.items) * len(self.views)

    def item_colors(self) -> dict[str, str]:
        """Each item's key -> its dominant colour (vocab.COLORS), as its captions name it."""
        return {it.key: color for it, color in zip(self.items, self._colors)}

    def _where(self, index: int) -> tuple[int, int]:
        return divmod(self._check_index(index), len(self.views))

    def _background(self, item: int, view: int) -> str:
        visible = backgrounds_for(self._colors[item])
        digest = hashlib.sha256(f"{self.seed}\0{self.items[item].key}\0{view}".encode()).digest()
        return visible[int.from_bytes(digest[:4], "big") % len(visible)]

    def label(self, index: int) -> dict[str, str | None]:
        item, view = self._where(index)
        return {"category": self._classes[item], "view": view_label(*self.views[view]),
                "color": self._colors[item], "background": self._background(item, view),
                "name": self.items[item].name}

    def rgba(self, index: int) -> Image.Image:
        """The render itself, on transparency, at the catalog's size."""
        item, view = self._where(index)
        image = Image.fromarray(np.asarray(self.renders[self._rows[item], view]), "RGBA")
        if image.size != (self.size, self.size):
            image = image.convert("RGBa").resize((self.size, self.size), Image.Resampling.LANCZOS).convert("RGBA")
        return image

    def render(self, index: int, background: str) -> Image.Image:
        if background not in BACKGROUNDS:
            raise ValueError(f"unknown background {background!r}; known: {', '.join(BACKGROUNDS)}")
        canvas = Image.new("RGB", (self.size, self.size), hex_to_rgb(BACKGROUNDS[background]))
        top = self.rgba(index)
        canvas.paste(top, (0, 0), mask=top.getchannel("A"))
        return canvas

    def image(self, index: int) -> Image.Image:
        return self.render(index, self.label(index)["background"])

    def sample(self, index: int) -> Sample:
        item, view = self._where(index)
        labels = self.label(index)
        it = self.items[item]
        digest = hashlib.sha256(f"caption\0{self.seed}\0{it.key}\0{view}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        caption = captions.view_caption(it.name, labels["category"], labels["color"], labels["view"],
                                        labels["background"], rng)
        return Sample(image=self.render(index, labels["background"]), caption=caption.text, labels=labels,
                      key=f"{self.name}/{self.split}/{it.key}/{view}", credit=it.credit)
