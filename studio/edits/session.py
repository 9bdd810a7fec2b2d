"""One image being edited: the full-resolution original, its history, and the preview copy.

    session = EditSession.open(load_image("boot.jpg"))            # or EditSession.open(variant, provenance)
    session.live({"brightness": 1.2})                             # preview while a slider moves (<= 512 px)
    session.commit_adjust({"brightness": 1.2})                    # slider released: one history step
    session.push({"op": "preset", "preset": "amazon-main"})
    session.undo(); session.redo()
    session.export("out/", "png")                                 # full resolution, with provenance

The sliders show one "adjust" step at the end of the recipe: moving them previews that step, releasing
them records it (replacing a trailing adjust step, so a drag is one undo), and undo puts the sliders back
to the values of whatever adjust step is then last. The original is never modified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from .adjust import RANGES, Adjustments
from .export import EXTENSIONS, Provenance, export, resolve_format
from .presets import check, preset_from_spec
from .recipe import EditHistory, Preview, Recipe


@dataclass
class EditSession:
    original: Image.Image
    provenance: Provenance = field(default_factory=Provenance)
    history: EditHistory = field(default_factory=EditHistory)
    preview_source: Preview | None = None
    _rendered: tuple[str, Image.Image] | None = None           # (recipe JSON, full-resolution result)

    @classmethod
    def open(cls, image: Image.Image, provenance: Provenance | None = None) -> "EditSession":
        if image.mode not in ("RGB", "RGBA"):
            raise ValueError(f"edit sessions take RGB or RGBA images (load_image gives those), got mode {image.mode}")
        return cls(image, provenance or Provenance(), EditHistory(), Preview.of(image))

    # ---- the recipe
    @property
    def recipe(self) -> Recipe:
        return self.history.recipe

    def _slider_step(self) -> dict | None:
        """The trailing whole-image adjust step, which the sliders show, if the recipe ends with one."""
        steps = self.recipe.steps
        return steps[-1] if steps and steps[-1]["op"] == "adjust" and "region" not in steps[-1] else None

    def _base(self) -> Recipe:
        """The recipe without the sliders' step."""
        steps = self.recipe.steps
        return self.recipe if self._slider_step() is None else Recipe._of_checked(steps[:-1])

    def slider_values(self) -> dict[str, float]:
        tail = self._slider_step() or {}
        return {name: float(tail.get(name, neutral)) for name, (_, _, neutral) in RANGES.items()}

    def live(self, values: dict[str, float]) -> Image.Image:
        """The preview with the sliders at `values`, nothing recorded."""
        adjust = Adjustments(**values).to_dict()
        recipe = self._base().then({"op": "adjust", **adjust}) if adjust else self._base()
        return self.preview_source.render(recipe)

    def commit_adjust(self, values: dict[str, float]) -> Recipe:
        adjust = Adjustments(**values).to_dict()
        if self._slider_step() is not None:
            self.history.undo()                          # replace the trailing adjust step: one drag, one undo
        if adjust:
            self.history.push({"op": "adjust", **adjust})
        return self.recipe

    def push(self, step: dict) -> Recipe:
        return self.history.push(step)

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # ---- images
    def preview(self) -> Image.Image:
        return self.preview_source.render(self.recipe)

    def before(self) -> Image.Image:
        return self.preview_source.image

    def render(self) -> Image.Image:
        """Full resolution, cached per recipe."""
        key = self.recipe.to_json()
        if self._rendered is None or self._rendered[0] != key:
            self._rendered = (key, self.recipe.apply(self.original))
        return self._rendered[1]

    def check(self, preset) -> list:
        return check(self.render(), preset_from_spec(preset))

    def export(self, folder: str | Path, format: str = "png", quality: int = 95, stem: str | None = None) -> Path:
        """Write the full-resolution result with its provenance; returns the path."""
        kind = resolve_format("x." + format, None)
        made = replace(self.provenance, recipe=self.recipe)
        stem = stem or _stem(made)
        return export(self.render(), Path(folder) / f"{stem}{EXTENSIONS[kind]}", quality=quality, provenance=made)


def _stem(provenance: Provenance) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", (provenance.prompt or "product").lower()).strip("-")[:40] or "product"
    return f"{words}-seed{provenance.seed}" if provenance.seed is not None else f"{words}-edited"
