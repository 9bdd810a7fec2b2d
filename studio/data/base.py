"""What every catalog is: an indexable set of product samples with captions and attribute labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

from PIL import Image


class CatalogError(ValueError):
    """A catalog cannot be read: missing data package, bad folder, bad rows."""


@dataclass(frozen=True)
class Sample:
    image: Image.Image                      # RGB, size x size
    caption: str                            # one phrasing, seeded
    labels: Mapping[str, str | None]        # attribute labels, always complete for the catalog
    key: str                                # stable id, e.g. "fashion/train/123"
    credit: str | None = None               # creator and licence where the source asks for credit
    extra: Mapping[str, str] = field(default_factory=dict)


class Catalog:
    """Base class: subclasses set `name`, `split`, `size`, `attributes` and implement the three methods.

    `label(i)` must be cheap (no image decoding) so statistics over 60k samples stay fast.
    """

    name: str
    split: str
    size: int
    attributes: tuple[str, ...]
    splits: tuple[str, ...]
    note: str = ""              # where the splits come from, shown by `data stats`
    data_credit: str = ""       # the source, its creators and licence, as model cards state it (once, here)
    default_size: int = 64
    mirror_safe: bool = True    # a left-right mirror image keeps every label true (augmentation may flip)

    def __len__(self) -> int:
        raise NotImplementedError

    def label(self, index: int) -> dict[str, str | None]:
        raise NotImplementedError

    def sample(self, index: int) -> Sample:
        raise NotImplementedError

    def image(self, index: int) -> Image.Image:
        """Only the image of sample `index` (training loops need no caption)."""
        return self.sample(self._check_index(index)).image

    def __getitem__(self, index: int) -> Sample:
        return self.sample(self._check_index(index))

    def __iter__(self) -> Iterator[Sample]:
        return (self.sample(i) for i in range(len(self)))

    def _check_index(self, index: int) -> int:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"{self.name}/{self.split} has {n} samples; index {index} is out of range")
        return index % n


def check_split(split: str, splits: tuple[str, ...]) -> str:
    if split not in splits:
        raise ValueError(f"unknown split {split!r}; this catalog has {', '.join(splits)}")
    return split


def check_size(size: int) -> int:
    if not isinstance(size, int) or not 8 <= size <= 1024:
        raise ValueError(f"size must be an int in 8..1024 pixels, got {size!r}")
    return size
