"""Furniture catalog: Sweet Home 3D's furniture libraries (820 products rendered as 128x128 icons).

Source: Debian package `sweethome3d-furniture`, five `.sh3f` zip libraries read directly: each holds a
`PluginFurnitureCatalog.properties` (Java properties: name#N, category#N, tags#N, creator#N, icon#N)
and the icon PNGs on transparency. Licences are per library: Blend Swap CC-0 is public domain (CC0), the
others are CC-BY 3.0, so every sample carries its creator and licence for the model card's credits.

Split: an item is in `test` when a hash of its library and id falls in one tenth of the hash space; the
split never depends on which other items exist.

    python -m studio data preview --catalog furniture --out furniture.png
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..images import ImageLoadError, load_image
from . import captions
from .base import Catalog, CatalogError, Sample, check_size, check_split
from .vocab import BACKGROUNDS, MIN_VISIBLE_DELTA_E, hex_to_rgb, srgb_to_lab

DEFAULT_ROOT = Path("/usr/share/sweethome3d/furniture")
APT_PACKAGE = "sweethome3d-furniture"
# Not products a shop sells as home goods: people (Reallusion's human figures) and staircases (2 items,
# too few to learn or evaluate as a class).
EXCLUDED_CATEGORIES = ("characters", "staircases")
TEST_FRACTION = 10             # one item in ten goes to test
PRODUCT_FRACTION = 0.9         # the 128 px render fills this share of the output frame
SPLIT_SALT = "studio-furniture-split-v1"


@dataclass(frozen=True)
class FurnitureItem:
    key: str                   # "<library file stem>/<id>", stable
    library: str               # the library's display name
    name: str
    category: str              # label: snake_case of the Sweet Home 3D category
    tags: tuple[str, ...]
    creator: str
    license: str               # "CC0-1.0" or "CC-BY-3.0" (or the library's own words)
    archive: str               # path of the .sh3f
    icon: str                  # member path inside the archive
    model: str = ""            # the OBJ's member path inside the archive ("" when the library has none)
    rotation: tuple[float, ...] | None = None      # modelRotation: a row-major 3x3 that stands the model up

    @property
    def credit(self) -> str:
        return f"\u201c{self.name}\u201d by {self.creator} ({self.library}), {self.license}"


def parse_properties(text: str) -> dict[str, str]:
    """Parse Java .properties text: comments, '=' / ':' / space separators, line continuations, escapes."""
    result: dict[str, str] = {}
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:                       # an odd number of backslashes continues the line
            pending = line[:-1]
            continue
        pending = ""
        logical.append(line)
    if pending:
        logical.append(pending)
    for line in logical:
        match = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$", line)
        if match:
            result[_unescape(match.group(1))] = _unescape(match.group(2))
    return result


def _unescape(value: str) -> str:
    simple = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}

    def replace(m: re.Match) -> str:
        body = m.group(1)
        if body.startswith("u"):
            return chr(int(body[1:], 16))
        return simple.get(body, body)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, value)


def _short_license(text: str) -> str:
    lowered = text.lower()
    if "public domain" in lowered or "cc-0" in lowered or "cc0" in lowered:
        return "CC0-1.0"
    if "attribution 3.0" in lowered:
        return "CC-BY-3.0"
    return text.strip() or "unknown"


def category_label(category: str) -> str:
    """'Living room' -> 'living_room'."""
    return re.sub(r"[^a-z0-9]+", "_", category.lower()).strip("_")


def read_library(path: str | Path) -> list[FurnitureItem]:
    """All items of one .sh3f library."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            properties = parse_properties(archive.read("PluginFurnitureCatalog.properties").decode("latin-1"))
            members = set(archive.namelist())
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CatalogError(f"{path} is not a readable Sweet Home 3D library ({exc})") from None
    library = properties.get("name", path.stem)
    license_ = _short_license(properties.get("license", ""))
    numbers = sorted({int(m.group(1)) for k in properties if (m := re.fullmatch(r"name#(\d+)", k))})
    items = []
    for n in numbers:
        icon = properties.get(f"icon#{n}", "").lstrip("/")
        name = properties[f"name#{n}"].strip()
        if not icon or icon not in members or not name:
            raise CatalogError(f"{path}: item #{n} ({name!r}) has no icon {icon!r} in the archive")
        tags = tuple(t.strip() for t in properties.get(f"tags#{n}", "").split(",") if t.strip())
        # Drop provenance tags such as "Blend Swap" (the library's own name) and tags that repeat the name.
        tags = tuple(t for t in tags if not library.lower().startswith(t.lower()) and t.lower() != name.lower())
        items.append(FurnitureItem(
            key=f"{path.stem}/{properties.get(f'id#{n}', icon)}",
            library=library, name=name, category=category_label(properties.get(f"category#{n}", "Miscellaneous")),
            tags=tags, creator=properties.get(f"creator#{n}", "").strip() or library,
            license=license_, archive=str(path), icon=icon,
            model=properties.get(f"model#{n}", "").lstrip("/"), rotation=_rotation(properties.get(f"modelRotation#{n}")),
        ))
    return items


def _rotation(text: str | None) -> tuple[float, ...] | None:
    try:
        values = tuple(float(v) for v in (text or "").split())
    except ValueError:
        return None
    return values if len(values) == 9 else None


def is_test_item(key: str) -> bool:
    digest = hashlib.sha256(f"{SPLIT_SALT}\0{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % TEST_FRACTION == 0


@lru_cache(maxsize=8)
def _library_icons(archive: str) -> dict[str, Image.Image]:
    """Every icon of one library, decoded once (the zips are large; opening one per icon is slow)."""
    icons = {}
    with zipfile.ZipFile(archive) as z:
        for item in read_library(archive):
            try:
                icons[item.icon] = load_image(z.read(item.icon)).convert("RGBA")
            except ImageLoadError as exc:
                raise CatalogError(f"{archive}:{item.icon}: {exc}") from None
    return icons


def _icon(archive: str, member: str) -> Image.Image:
    return _library_icons(archive)[member]


def place_icon(icon: Image.Image, size: int) -> tuple[Image.Image, tuple[int, int]]:
    """The render scaled to fill PRODUCT_FRACTION of a size x size frame, and where it goes (centred)."""
    inner = max(1, round(size * PRODUCT_FRACTION))
    scale = inner / max(icon.size)
    new = (max(1, round(icon.width * scale)), max(1, round(icon.height * scale)))
    # Resample premultiplied so transparent pixels' hidden colour does not fringe the edges.
    resized = icon.convert("RGBa").resize(new, Image.Resampling.LANCZOS).convert("RGBA")
    return resized, ((size - new[0]) // 2, (size - new[1]) // 2)


def composite(icon: Image.Image, background: str, size: int) -> Image.Image:
    """Centre an RGBA render on a named background colour, size x size RGB."""
    resized, offset = place_icon(icon, size)
    canvas = Image.new("RGB", (size, size), hex_to_rgb(BACKGROUNDS[background]))
    canvas.paste(resized, offset, mask=resized.getchannel("A"))
    return canvas


def _mean_lab(icon: Image.Image) -> np.ndarray:
    rgba = np.asarray(icon, dtype=np.float64)
    weight = rgba[..., 3] / 255.0
    if weight.sum() == 0:
        return srgb_to_lab(np.array([128.0, 128.0, 128.0]))
    mean_rgb = (rgba[..., :3] * weight[..., None]).sum((0, 1)) / weight.sum()
    return srgb_to_lab(mean_rgb)


class FurnitureCatalog(Catalog):
    """Sweet Home 3D furniture renders on named backgrounds. Splits: train (~90%), test (~10%) by item."""

    name = "furniture"
    attributes = ("category", "background", "name")
    splits = ("train", "test")
    note = "split by item: a hash of library and id puts one item in ten in test"
    data_credit = ("Sweet Home 3D furniture libraries from Debian's `sweethome3d-furniture`: Blend Swap CC-0 "
                   "items are CC0 (public domain); Blend Swap CC-BY, Kator Legaz and Scopia items are CC-BY 3.0, "
                   "their creators listed in the package and credited per item by `python -m studio data stats`. "
                   "Renders composited on 6 named backgrounds, re-drawn every epoch. Split by item: a hash of "
                   "library and id puts about one item in ten in test.")

    def __init__(self, split: str = "train", size: int = 64, seed: int = 0, root: str | Path | None = None,
                 exclude_categories: Sequence[str] = EXCLUDED_CATEGORIES):
        self.split = check_split(split, self.splits)
        self.size = check_size(size)
        self.seed = int(seed)
        self.root = Path(root) if root is not None else DEFAULT_ROOT
        libraries = sorted(self.root.glob("*.sh3f")) if self.root.is_dir() else []
        if not libraries:
            raise CatalogError(f"no Sweet Home 3D furniture libraries (*.sh3f) in {self.root}. Install them "
                               f"with `sudo apt-get install {APT_PACKAGE}` (or run `make test`/`make demo`, "
                               f"which do), or pass root= to a folder of .sh3f files.")
        every = [item for lib in libraries for item in read_library(lib)]
        self.items = [it for it in every if it.category not in exclude_categories
                      and is_test_item(it.key) == (split == "test")]
        # A background per item, deterministic in (seed, key), among those its render stands out on.
        self._backgrounds = [self._pick_background(it) for it in self.items]

    def _pick_background(self, item: FurnitureItem) -> str:
        lab = _mean_lab(_icon(item.archive, item.icon))
        names = list(BACKGROUNDS)
        visible = [b for b in names if np.linalg.norm(lab - srgb_to_lab(np.array(hex_to_rgb(BACKGROUNDS[b]))))
                   >= MIN_VISIBLE_DELTA_E] or names
        digest = hashlib.sha256(f"{self.seed}\0{item.key}".encode()).digest()
        return visible[int.from_bytes(digest[:4], "big") % len(visible)]

    def __len__(self) -> int:
        return len(self.items)

    def label(self, index: int) -> dict[str, str | None]:
        index = self._check_index(index)
        item = self.items[index]
        return {"category": item.category, "background": self._backgrounds[index], "name": item.name}

    def render(self, index: int, background: str) -> Image.Image:
        """Item `index` on any named background."""
        if background not in BACKGROUNDS:
            raise ValueError(f"unknown background {background!r}; known: {', '.join(BACKGROUNDS)}")
        item = self.items[self._check_index(index)]
        return composite(_icon(item.archive, item.icon), background, self.size)

    def image(self, index: int) -> Image.Image:
        return self.render(index, self._backgrounds[self._check_index(index)])

    def sample(self, index: int) -> Sample:
        item, labels = self.items[index], self.label(index)
        digest = hashlib.sha256(f"caption\0{self.seed}\0{item.key}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        return Sample(
            image=self.render(index, labels["background"]),
            caption=captions.furniture_caption(item.name, item.category, item.tags, labels["background"], rng).text,
            labels=labels,
            key=f"furniture/{item.key}",
            credit=item.credit,
            extra={"creator": item.creator, "license": item.license, "library": item.library,
                   "tags": ", ".join(item.tags)},
        )
