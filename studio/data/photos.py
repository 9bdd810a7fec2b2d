"""Photos and textures the machine has installed: what the upscaler learns from and is measured on.

    photo_files("train")     # every source below except the held-out photos
    photo_files("test")      # the held-out real photos (never trained on)
    load_photo(path)         # RGB, read from the package at run time (nothing here is copied into the repo)

Sources (Debian packages; `make bench-data` / `apt-get install mate-backgrounds gnome-backgrounds gimp-data`):

| source | what | licence |
|---|---|---|
| mate-backgrounds nature | 12 real photos, 1920-2560 px (JPEG) | GPL-2+ |
| mate-backgrounds abstract, desktop | artwork and graphics, 1920-5640 px | GPL-2+ |
| gnome-backgrounds | abstract/graphic 4096 px WebP | CC-BY-SA 3.0 / GPL-2+ |
| gimp-data patterns | 58 seamless textures (GIMP .pat) | GPL-3+ |

The split: the real photos are the ones a merchant's are like, so the test split is every third nature photo
by name (4 of 12: Aqua, FreshFlower, LadyBird, TwoWings); everything else trains. Images are read where the
package installed them; a weights folder trained on them records the sources in its card.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from .base import CatalogError

ROOT = Path("/usr/share")
NATURE = "backgrounds/mate/nature"
SOURCES: dict[str, tuple[str, str]] = {           # name: (folder under /usr/share, file pattern)
    "mate-nature": (NATURE, "*.jpg"),
    "mate-abstract": ("backgrounds/mate/abstract", "*.*"),
    "mate-desktop": ("backgrounds/mate/desktop", "*.*"),
    "gnome": ("backgrounds/gnome", "*.webp"),
    "gimp-patterns": ("gimp/2.0/patterns", "**/*.pat"),
}
PACKAGES = "mate-backgrounds gnome-backgrounds gimp-data"
CREDIT = ("Photos and textures read at run time from Debian's mate-backgrounds (GPL-2+), gnome-backgrounds "
          "(CC-BY-SA 3.0 / GPL-2+) and gimp-data (GPL-3+); none is copied into this repository.")
MIN_SIDE = 64                                      # smaller files (icons, 1 px patterns) teach nothing


def _is_test(path: Path) -> bool:
    if path.parent.as_posix().endswith(NATURE):
        nature = sorted(p.name for p in path.parent.glob(SOURCES["mate-nature"][1]))
        return nature.index(path.name) % 3 == 0
    return False


def photo_files(split: str, root: Path = ROOT) -> list[Path]:
    """The files of a split ("train" or "test"), sorted; CatalogError naming the packages when none is there."""
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; the photos have train and test")
    files = sorted(p for folder, pattern in SOURCES.values() for p in (root / folder).glob(pattern) if p.is_file())
    chosen = [p for p in files if _is_test(p) == (split == "test")]
    if not chosen:
        raise CatalogError(f"no {split} photos under {root}: install them with `apt-get install {PACKAGES}`")
    return chosen


STYLE_SOURCES = ("gimp-patterns", "mate-abstract")   # where `eval style` draws its references
STYLE_MIN_BYTES = 20_000                               # not the 1-2 px legacy patterns
STYLE_MIN_STD = 5.0                                    # luminance spread: not a blank image
STYLE_TEST = 6                                         # held-out references


def _is_style(path: Path) -> bool:
    """An opaque image with something in it: MATE's transparent overlays (Flow, Spring, ...) are white
    over white once flattened, and a blank reference asks a photo to be erased, not styled."""
    raw = read_pat(path) if path.suffix == ".pat" else Image.open(path)
    raw.thumbnail((256, 256))
    rgba = np.asarray(raw.convert("RGBA"), np.float32)
    if rgba[..., 3].mean() < 0.9 * 255:
        return False
    return float(np.asarray(load_photo(path, 256).convert("L"), np.float32).std()) >= STYLE_MIN_STD


def picture(path: Path) -> tuple[Path, str]:
    """What a file shows, regardless of its size: (folder, name without a trailing `_<W>x<H>`)."""
    return Path(path).parent, re.sub(r"_\d+x\d+$", "", Path(path).stem)


def style_references(n_test: int = STYLE_TEST, root: Path = ROOT) -> tuple[list[Path], list[Path]]:
    """(train, test) style references: the opaque, non-blank GIMP patterns and MATE artwork over
    STYLE_MIN_BYTES, one file per picture (MATE ships some in several sizes: `Name_3840x2160.jpg`), sorted
    by path; the test ones are every k-th so that `n_test` are held out (a fixed rule, not a choice), the
    rest train. `eval style` uses the test ones as references; a style network never reads them."""
    found, seen = [], set()
    for name in STYLE_SOURCES:
        for p in sorted((root / SOURCES[name][0]).glob(SOURCES[name][1])):
            if p.is_file() and p.stat().st_size > STYLE_MIN_BYTES and picture(p) not in seen and _is_style(p):
                seen.add(picture(p))
                found.append(p)
    if not found:
        raise CatalogError(f"no style references under {root}: install them with `apt-get install {PACKAGES}`")
    refs = sorted(found)
    test = refs[::max(1, len(refs) // n_test)][:n_test]
    return [p for p in refs if p not in test], test


def style_validation(n_styles: int = STYLE_TEST, root: Path = ROOT) -> tuple[list[Path], list[Path]]:
    """(photos, references) for choosing between style methods and networks without the held-out pairs:
    the training nature photos one after each held-out one by name (4 of 12) and every k-th training
    reference, starting half a step in (`n_styles` of them). A style network trained with `hold_val` never
    reads them, so they judge it as the test pairs would."""
    nature = sorted(p for p in (root / NATURE).glob(SOURCES["mate-nature"][1]) if p.is_file())
    photos = [p for i, p in enumerate(nature) if i % 3 == 1]
    train = style_references(root=root)[0]
    step = max(1, len(train) // max(1, n_styles))
    refs = train[step // 2::step][:n_styles]
    if not photos or not refs:
        raise CatalogError(f"no validation photos or references under {root}: install them with "
                           f"`apt-get install {PACKAGES}`")
    return photos, refs


def read_pat(path: Path) -> Image.Image:
    """A GIMP pattern: a big-endian header (header size, version, width, height, bytes per pixel, magic
    'GPAT'), the name, then raw pixels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA)."""
    data = path.read_bytes()
    if len(data) < 24:
        raise CatalogError(f"{path} is too short for a GIMP pattern")
    header, _, width, height, depth, magic = struct.unpack(">5I4s", data[:24])
    if magic != b"GPAT" or depth not in (1, 2, 3, 4) or header > len(data):
        raise CatalogError(f"{path} is not a GIMP pattern")
    pixels = np.frombuffer(data, np.uint8, count=width * height * depth, offset=header)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[depth]
    shape = (height, width) if depth == 1 else (height, width, depth)
    return Image.fromarray(pixels.reshape(shape), mode).convert("RGB")


def load_photo(path: Path, max_side: int | None = None) -> Image.Image:
    """RGB (transparency over white); with `max_side`, reduced (Lanczos) so the longest side fits."""
    path = Path(path)
    image = read_pat(path) if path.suffix == ".pat" else Image.open(path)
    image.load()
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    image = image.convert("RGB")
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    return image


def training_pool(max_side: int = 2048, root: Path = ROOT, limit: int | None = None
                  ) -> list[tuple[Path, np.ndarray]]:
    """(file, uint8 RGB) for every training image at least MIN_SIDE on its short side, at most `max_side`
    on its longest; `limit`: only the first N files (smoke runs)."""
    pool = []
    for path in photo_files("train", root)[:limit]:
        image = load_photo(path, max_side)
        if min(image.size) >= MIN_SIDE:
            pool.append((path, np.asarray(image)))
    return pool
