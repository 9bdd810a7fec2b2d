"""Product catalogs with captions and attribute labels.

    open_catalog("fashion", split="test", size=64)      # Fashion-MNIST colourways
    open_catalog("furniture")                            # Sweet Home 3D renders
    open_catalog("path/to/shop")                         # a merchant's imagefolder
"""

from __future__ import annotations

from pathlib import Path

from .base import Catalog, CatalogError, Sample
from .fashion import FashionCatalog
from .folder import FolderCatalog, RowProblem
from .furniture import FurnitureCatalog
from .multiview import FurnitureViewsCatalog

CATALOGS: dict[str, type[Catalog]] = {"fashion": FashionCatalog, "furniture": FurnitureCatalog,
                                      "furniture-views": FurnitureViewsCatalog}


def open_catalog(name: str, split: str = "train", size: int | None = None, seed: int = 0,
                 on_error: str = "raise") -> Catalog:
    """A built-in catalog by name, or a folder path as a merchant catalog."""
    if name in CATALOGS:
        cls = CATALOGS[name]
        return cls(split=split, size=size or cls.default_size, seed=seed)  # type: ignore[call-arg]
    if Path(name).is_dir():
        return FolderCatalog(name, split=split, size=size or FolderCatalog.default_size, on_error=on_error)
    raise CatalogError(f"unknown catalog {name!r}: use {', '.join(CATALOGS)} or the path of a folder "
                       f"with a metadata.jsonl")


def catalog_splits(name: str) -> tuple[str, ...]:
    """The split names a catalog (by name or folder path) offers, without loading its images."""
    if name in CATALOGS:
        return CATALOGS[name].splits
    from .folder import find_splits

    if Path(name).is_dir():
        return tuple(find_splits(Path(name)))
    raise CatalogError(f"unknown catalog {name!r}: use {', '.join(CATALOGS)} or a folder path")


__all__ = ["CATALOGS", "Catalog", "CatalogError", "FashionCatalog", "FolderCatalog", "FurnitureCatalog", "FurnitureViewsCatalog",
           "RowProblem", "Sample", "catalog_splits", "open_catalog"]
