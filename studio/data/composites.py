"""Products with a known alpha matte over real photos, textures and clutter: what the learned cut-out
(studio/models/cutout.py) trains on and is measured on.

    python -m studio data cutout-objects                 # renders and reads the objects once into runs/cutout/
    bank = ObjectBank.open("train")                      # (N, 256, 256) RGBA + the clean alpha, memory-mapped
    pool = BackgroundPool("train", max_side=1024)        # photos and textures, reduced, in memory
    rgb, alpha = compose(bank, pool, rng, size=256)      # one composite and its truth

Objects (each with a true alpha):
- Sweet Home 3D models rendered at 256 px from two random views each (studio/data/render.py), once with the
  renderer's soft contact shadow (what is pasted) and once without (the truth: a cut-out keeps the product,
  not its shadow on the floor);
- the catalog's own 128 px icon renders;
- openclipart's RGBA art whose border is transparent (a product-like object on nothing), read at 256 px.
Backgrounds: crops of the installed photos, GIMP textures and graphics (studio/data/photos.py) at random
scales, plain colours, two-colour gradients, and clutter (other held-in objects scattered and blurred);
training may add desktop wallpapers (`wallpaper_files`: more photos and artwork, never held out).
Each composite also gets colour jitter, a drop shadow for art without one, blur, noise and JPEG artefacts.

Held out, by a fixed rule: furniture items by `furniture.is_test_item` (the same test items as every other
furniture catalog), clip art by a hash of its path (1 in 5), backgrounds: the held-out nature photos of
`photos.photo_files("test")` plus every 4th other file. `eval mask --set composites` reads only test
objects over test backgrounds; training reads only train ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image

from .base import CatalogError, check_split
from .furniture import DEFAULT_ROOT, _icon, is_test_item
from .multiview import library_items
from .photos import ROOT as PHOTO_ROOT
from .photos import load_photo, photo_files

OBJECT_SIDE = 256
CLIPART = Path("/usr/share/openclipart/png")
DEFAULT_CACHE = Path(os.environ.get("STUDIO_CUTOUT_CACHE", "runs/cutout"))
SPLITS = ("train", "test")
BANK_VERSION = 1                       # bump when what goes into the bank changes
VIEWS_PER_ITEM = 2
TEST_EVERY = 4                         # backgrounds: every 4th non-nature file is held out
BACKGROUND_KINDS = ("photo", "texture", "plain", "gradient", "clutter")
BUSY_KINDS = ("photo", "texture", "clutter")
BACKGROUND_SHARES = (0.45, 0.2, 0.1, 0.1, 0.15)
# More training backdrops (`train cutout --wallpapers`): desktop wallpapers, photos among them, read where the
# packages installed them and never copied; never held out, so the test backdrops do not change.
WALLPAPER_PACKAGES = ("ukui-wallpapers lomiri-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 "
                      "plasma-workspace-wallpapers")
WALLPAPER_CREDIT = ("Extra training backdrops read at run time from Debian's ukui-wallpapers (CC-BY-SA 3.0), "
                    "lomiri-wallpapers, -16.04 and -20.04 (CC-BY / CC-BY-SA 3.0-4.0 / CC0, credited per file in "
                    "their copyright files) and plasma-workspace-wallpapers (GPL-2+); none is copied into this "
                    "repository.")
WALLPAPER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def background_shares(text: str | None) -> tuple[float, ...]:
    """Shares of BACKGROUND_KINDS from "photo,texture,plain,gradient,clutter" numbers (any positive scale;
    normalised); empty or None: BACKGROUND_SHARES."""
    if not text:
        return BACKGROUND_SHARES
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"background shares must be numbers, got {text!r}") from None
    if len(values) != len(BACKGROUND_KINDS) or min(values) < 0 or sum(values) <= 0:
        raise ValueError(f"background shares need {len(BACKGROUND_KINDS)} non-negative numbers, not all zero "
                         f"({', '.join(BACKGROUND_KINDS)}), got {text!r}")
    return tuple(v / sum(values) for v in values)


def _hash_fraction(text: str) -> float:
    return int.from_bytes(hashlib.sha256(f"cutout\0{text}".encode()).digest()[:4], "big") / 2**32


def clipart_is_test(relative: Path) -> bool:
    """1 in 5 clip-art files is held out, by a hash of its path under the clip-art folder (named as if the
    folder were the package's own, so a copy elsewhere splits the same way)."""
    return _hash_fraction((CLIPART / relative).as_posix()) < 0.2


def clipart_object(path: Path, side: int = OBJECT_SIDE) -> np.ndarray | None:
    """(side, side, 4) uint8, the art fitted and centred; None when it is not an object on transparency
    (opaque, a transparent hole in an opaque frame, a speck, or a full-canvas shape)."""
    try:
        image = Image.open(path)
        image.draft("RGBA", (side * 2, side * 2))
        image = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    alpha = np.asarray(image.getchannel("A"))
    if alpha.size == 0 or alpha.min() > 0:
        return None
    edge = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    if (edge > 0).mean() > 0.05:                   # the art touches its frame: a picture, not an object
        return None
    box = Image.fromarray(alpha).getbbox()
    if box is None:
        return None
    image = image.crop(box)
    coverage = float((np.asarray(image.getchannel("A")) >= 128).mean())
    if min(image.size) < 24 or coverage < 0.15:    # lines, sparse scatters
        return None
    return _fit(image, side)


def _fit(image: Image.Image, side: int) -> np.ndarray:
    scale = side * 0.96 / max(image.size)
    new = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image.convert("RGBa").resize(new, Image.Resampling.LANCZOS).convert("RGBA")
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.paste(resized, ((side - new[0]) // 2, (side - new[1]) // 2))
    return np.asarray(canvas)


_worker_renderer = None


def _render_views(archive: str, model: str, rotation, key: str, side: int) -> list[np.ndarray]:
    """Two views of one model: (side, side, 5) = shadowed RGBA + the shadow-free alpha; [] if unreadable."""
    global _worker_renderer
    from .render import Renderer, load_model

    if _worker_renderer is None:
        _worker_renderer = Renderer()
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big"))
    angles = [(float(rng.uniform(-70, 70)) + 180 * (i % 2 and rng.random() < 0.3), float(rng.uniform(5, 35)))
              for i in range(VIEWS_PER_ITEM)]
    try:
        loaded = load_model(archive, model, rotation)
        shadowed = _worker_renderer.render_views(loaded, side, angles, shadow=True)
        clean = _worker_renderer.render_views(loaded, side, angles, shadow=False)
    except (ValueError, OSError, IndexError, KeyError):
        return []
    out = []
    for s, c in zip(shadowed, clean):
        a = np.asarray(c)[..., 3]
        if (a >= 128).sum() < 64:
            continue
        out.append(np.dstack([np.asarray(s), a]))
    return out


class ObjectBank:
    """Objects of one split: `rgba` (N, S, S, 4) uint8 as pasted (renders with their shadow) and `alpha`
    (N, S, S) uint8, the truth; `kinds` names each one's source (render, icon, clipart)."""

    def __init__(self, array: np.ndarray, kinds: list[str]):
        self.array, self.kinds = array, kinds
        self.weights: np.ndarray | None = None        # sampling probability per object (None: uniform)

    def pick(self, rng: np.random.Generator) -> int:
        return int(rng.choice(len(self), p=self.weights)) if self.weights is not None else int(rng.integers(len(self)))

    def __len__(self) -> int:
        return len(self.array)

    def rgba(self, i: int) -> np.ndarray:
        return self.array[i, ..., :4]

    def alpha(self, i: int) -> np.ndarray:
        return self.array[i, ..., 4]

    @classmethod
    def open(cls, split: str, cache: str | Path | None = None) -> "ObjectBank":
        check_split(split, SPLITS)
        index = Path(cache or DEFAULT_CACHE) / f"objects-{split}.json"
        if not index.is_file():
            raise CatalogError(f"no cut-out objects in {index.parent}: run `python -m studio data cutout-objects`")
        meta = json.loads(index.read_text())
        return cls(np.load(index.with_suffix(".npy"), mmap_mode="r"), meta["kinds"])


def build_objects(split: str, root: str | Path | None = None, cache: str | Path | None = None, workers: int = 2,
                  limit: int | None = None, clipart: Path = CLIPART,
                  progress: Callable[[str], None] | None = None) -> Path:
    """Render and read one split's objects into `cache/objects-<split>.npy` (+ .json); skipped when current."""
    check_split(split, SPLITS)
    root = Path(root) if root is not None else DEFAULT_ROOT
    cache = Path(cache) if cache is not None else DEFAULT_CACHE
    index, array_path = cache / f"objects-{split}.json", cache / f"objects-{split}.npy"
    test = split == "test"
    files = sorted(p for p in clipart.rglob("*.png") if clipart_is_test(p.relative_to(clipart)) == test) \
        if clipart.is_dir() else []
    # the clip art found is part of the stamp: a bank built before openclipart-png was installed is rebuilt
    stamp = f"v{BANK_VERSION}-{limit}-clipart{len(files)}"
    if index.is_file() and array_path.is_file() and json.loads(index.read_text()).get("stamp") == stamp:
        return index
    if not files and progress:
        progress(f"{split}: no clip art under {clipart} (Debian's openclipart-png; `make bench-data` installs it)")
    items = [it for it in library_items(root) if is_test_item(it.key) == test][:limit]
    rows, kinds = [], []
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context("spawn")) as pool:
        jobs = [pool.submit(_render_views, it.archive, it.model, it.rotation, it.key, OBJECT_SIDE) for it in items]
        for n, job in enumerate(jobs):
            for view in job.result():
                rows.append(view)
                kinds.append("render")
            if progress and n % 100 == 0:
                progress(f"{split}: rendered {n}/{len(items)} items")
    for it in items:                                   # the catalog's icons (no shadow)
        icon = _fit(_icon(it.archive, it.icon), OBJECT_SIDE)
        if (icon[..., 3] >= 128).sum() >= 64:
            rows.append(np.dstack([icon, icon[..., 3]]))
            kinds.append("icon")
    for path in files[: None if limit is None else 4 * limit]:
        art = clipart_object(path)
        if art is not None:
            rows.append(np.dstack([art, art[..., 3]]))
            kinds.append("clipart")
    if not rows:
        raise CatalogError(f"no {split} objects found under {root} and {clipart}")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(array_path, np.stack(rows))
    index.write_text(json.dumps({"stamp": stamp, "kinds": kinds, "count": len(rows)}))
    if progress:
        progress(f"{split}: {len(rows)} objects ({kinds.count('render')} renders, {kinds.count('icon')} icons, "
                 f"{kinds.count('clipart')} clip art)")
    return index


def wallpaper_files(root: Path = PHOTO_ROOT) -> list[Path]:
    """The extra training backdrops (WALLPAPER_PACKAGES, wherever installed; [] when none is): the images
    ukui and lomiri put straight into backgrounds/, and one image per Plasma wallpaper (each ships its picture
    in several sizes, some as links to one file, a dark variant aside: the largest file of `contents/images/`).
    Links resolved; sorted, each file once."""
    files = {p.resolve() for p in (root / "backgrounds").glob("*")
             if p.is_file() and p.suffix.lower() in WALLPAPER_SUFFIXES}
    for folder in sorted((root / "wallpapers").glob("*/contents/images")):
        sizes = {p.resolve() for p in folder.iterdir() if p.is_file() and p.suffix.lower() in WALLPAPER_SUFFIXES}
        if sizes:
            files.add(max(sizes, key=lambda p: (p.stat().st_size, p.name)))
    return sorted(files)


def background_files(split: str, root: Path = PHOTO_ROOT, wallpapers: bool = False) -> list[Path]:
    """The held-out nature photos and every 4th other file are test; the rest train. `wallpapers` adds
    `wallpaper_files` to the training split only: the test split is the same files with or without them."""
    check_split(split, SPLITS)
    held_photos = set(photo_files("test", root))
    others = [p for p in photo_files("train", root)]
    test_others = set(others[::TEST_EVERY])
    if split == "test":
        return sorted(held_photos | test_others)
    return [p for p in others if p not in test_others] + (wallpaper_files(root) if wallpapers else [])


class BackgroundPool:
    """One split's backgrounds, loaded once at `max_side` px. Textures (GIMP patterns) are tiled."""

    def __init__(self, split: str, max_side: int = 1024, root: Path = PHOTO_ROOT, limit: int | None = None,
                 wallpapers: bool = False):
        files = background_files(split, root, wallpapers)[:limit]
        self.images = [np.asarray(load_photo(p, max_side)) for p in files]
        self.is_texture = [p.suffix == ".pat" for p in files]
        self.files = files

    def __len__(self) -> int:
        return len(self.images)


def _crop(image: np.ndarray, size: int, rng: np.random.Generator, tile: bool) -> np.ndarray:
    h, w = image.shape[:2]
    if tile:                                          # a seamless texture repeated at a random scale
        scale = rng.uniform(0.5, 2.0)
        small = cv2.resize(image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
        reps = (size // small.shape[0] + 2, size // small.shape[1] + 2, 1)
        big = np.tile(small, reps)
        y, x = rng.integers(small.shape[0]), rng.integers(small.shape[1])
        return np.ascontiguousarray(big[y:y + size, x:x + size])
    side = int(rng.uniform(0.15, 1.0) * min(h, w))
    side = max(side, min(h, w, 32))
    y, x = rng.integers(h - side + 1), rng.integers(w - side + 1)
    return cv2.resize(image[y:y + side, x:x + side], (size, size),
                      interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)


def _background(kind: str, pool: BackgroundPool, bank: ObjectBank, size: int, rng: np.random.Generator,
                product: float = 0.5) -> np.ndarray:
    """size x size RGB of one kind; `product` (the product's longest side over size) bounds clutter's size."""
    if kind in ("photo", "texture"):
        wanted = [i for i, t in enumerate(pool.is_texture) if t == (kind == "texture")] or list(range(len(pool)))
        k = int(rng.choice(wanted))
        return _crop(pool.images[k], size, rng, pool.is_texture[k])
    if kind == "plain":
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.uint8), (size, size, 3)).copy()
    if kind == "gradient":
        a, b = rng.integers(0, 256, (2, 3)).astype(np.float32)
        t = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
        out = np.broadcast_to(a * (1 - t) + b * t, (size, size, 3))
        return np.ascontiguousarray(np.rot90(out, int(rng.integers(4)))).astype(np.uint8)
    # clutter: a photo or plain backdrop with other objects scattered over it, slightly out of focus
    base = _background("photo" if rng.random() < 0.5 else "plain", pool, bank, size, rng)
    for _ in range(int(rng.integers(3, 9))):          # each clearly smaller than the product
        obj = bank.rgba(int(rng.integers(len(bank))))
        side = max(8, int(rng.uniform(0.25, 0.6) * product * size))
        small = cv2.resize(np.ascontiguousarray(obj), (side, side), interpolation=cv2.INTER_AREA)
        y, x = rng.integers(-side // 2, size - side // 2, 2)
        _paste(base, small[..., :3], small[..., 3].astype(np.float32) / 255, int(x), int(y))
    return cv2.GaussianBlur(base, (0, 0), rng.uniform(0.5, 3.0))


def _paste(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend rgb onto canvas at (x, y) in place, clipped to the canvas."""
    h, w = canvas.shape[:2]
    oh, ow = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + ow, w), min(y + oh, h)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x, None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = np.clip(rgb[y0 - y:y1 - y, x0 - x:x1 - x] * a + region * (1 - a) + 0.5, 0, 255)


def _jitter_colour(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-12, 12)) % 180 if rng.random() < 0.5 else hsv[..., 0]
    hsv[..., 1] *= rng.uniform(0.6, 1.3)
    hsv[..., 2] = hsv[..., 2] * rng.uniform(0.7, 1.2) + rng.uniform(-15, 15)
    return cv2.cvtColor(np.clip(hsv, 0, [179, 255, 255]).astype(np.uint8), cv2.COLOR_HSV2RGB)


def photo_surface(rgb: np.ndarray, alpha: np.ndarray, pool: BackgroundPool, rng: np.random.Generator) -> np.ndarray:
    """The object's colours replaced by a crop of one of the pool's photos (not a texture when a photo is
    there), shaded by the object's own luminance and darkened towards its edge: a product whose surface looks
    like a photograph (fur, wood, fabric, glossy paint) rather than flat art or a clean render. A network
    trained only on the latter reads smooth photographic regions as background and sharp outlines as the
    product, which is what it then does on real photos."""
    h, w = alpha.shape
    photos = [i for i, t in enumerate(pool.is_texture) if not t] or list(range(len(pool)))
    k = int(rng.choice(photos))
    surface = _crop(pool.images[k], max(h, w), rng, pool.is_texture[k])[:h, :w].astype(np.float32)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    inside = alpha > 0.5
    shade = lum / max(float(lum[inside].mean()) if inside.any() else 128.0, 1.0)
    mix = rng.uniform(0.2, 0.7)                        # how much of the object's own shading shows
    out = surface * ((1 - mix) + mix * np.clip(shade, 0.2, 2.0))[..., None]
    rim = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), max(1.0, 0.03 * max(h, w)))
    out *= (1 - rng.uniform(0.0, 0.35) * (1 - np.clip(rim, 0, 1)))[..., None]   # edge falloff, as lit form has
    return np.clip(out, 0, 255).astype(np.uint8)


def compose(bank: ObjectBank, pool: BackgroundPool, rng: np.random.Generator, size: int = 256,
            index: int | None = None, kind: str | None = None,
            shares: tuple[float, ...] = BACKGROUND_SHARES, photo_fill: float = 0.0,
            overscale: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One composite: ((size, size, 3) uint8 RGB, (size, size) uint8 alpha truth). `index` picks the object
    and `kind` the background (else drawn by `shares` of BACKGROUND_KINDS). Training may ask for harder
    objects: `photo_fill` is the chance that the object's surface is a photograph (`photo_surface`) and
    `overscale` the chance that it is large enough to be cut by the frame (a close-up); at 0 (the default,
    and always for the held-out sets) no random number is drawn for them, so those sets do not change."""
    index = bank.pick(rng) if index is None else index
    kind = str(rng.choice(BACKGROUND_KINDS, p=shares)) if kind is None else kind
    longest = rng.uniform(0.5 if kind == "clutter" else 0.35, 0.95)
    if overscale and rng.random() < overscale:
        longest = rng.uniform(0.95, 1.3)
    background = _background(kind, pool, bank, size, rng, longest)
    obj = np.ascontiguousarray(bank.rgba(index))
    truth = np.ascontiguousarray(bank.alpha(index))
    if rng.random() < 0.5:
        obj, truth = obj[:, ::-1].copy(), truth[:, ::-1].copy()
    box = Image.fromarray(np.maximum(obj[..., 3], truth)).getbbox() or (0, 0, OBJECT_SIDE, OBJECT_SIDE)
    obj, truth = obj[box[1]:box[3], box[0]:box[2]], truth[box[1]:box[3], box[0]:box[2]]
    scale = longest * size / max(obj.shape[:2])
    new = (max(2, round(obj.shape[1] * scale)), max(2, round(obj.shape[0] * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    premul = obj[..., :3].astype(np.float32) * (obj[..., 3:] / 255.0)
    premul = cv2.resize(premul, new, interpolation=interp)
    a = np.clip(cv2.resize(obj[..., 3].astype(np.float32) / 255, new, interpolation=interp), 0, 1)
    t = np.clip(cv2.resize(truth.astype(np.float32) / 255, new, interpolation=interp), 0, 1)
    rgb = np.clip(premul / np.maximum(a[..., None], 1e-4), 0, 255).astype(np.uint8)
    if photo_fill and rng.random() < photo_fill:
        rgb = photo_surface(rgb, a, pool, rng)
    if rng.random() < 0.6:
        rgb = _jitter_colour(rgb, rng)
    x = int(rng.integers(min(0, size - new[0]), max(0, size - new[0]) + 1))
    y = int(rng.integers(min(0, size - new[1]), max(0, size - new[1]) + 1))
    if rng.random() < 0.3 and np.array_equal(a > 0.5, t > 0.5):       # a drop shadow for art without one
        shadow = cv2.GaussianBlur(t, (0, 0), rng.uniform(2, 8)) * rng.uniform(0.2, 0.55)
        dx, dy = rng.integers(-new[0] // 12 - 1, new[0] // 12 + 2), rng.integers(0, new[1] // 10 + 2)
        _paste(background, np.zeros(shadow.shape + (3,), np.float32), shadow, x + int(dx), y + int(dy))
    _paste(background, rgb.astype(np.float32), a, x, y)
    alpha = np.zeros((size, size), np.float32)
    h, w = t.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, size), min(y + h, size)
    alpha[y0:y1, x0:x1] = t[y0 - y:y1 - y, x0 - x:x1 - x]
    image = background
    if rng.random() < 0.15:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < 0.3:
        image = np.clip(image + rng.normal(0, rng.uniform(2, 10), image.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(image), np.rint(alpha * 255).astype(np.uint8)


def draw_composites(bank: ObjectBank, pool: BackgroundPool, n: int, size: int, seed,
                    shares: tuple[float, ...] = BACKGROUND_SHARES, photo_fill: float = 0.0,
                    overscale: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """n composites (n, size, size, 3) and their alphas (n, size, size), reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), np.uint8)
    alphas = np.empty((n, size, size), np.uint8)
    for i in range(n):
        images[i], alphas[i] = compose(bank, pool, rng, size, shares=shares, photo_fill=photo_fill,
                                       overscale=overscale)
    return images, alphas
