"""One image being edited: the full-resolution original, its history, and the preview copy.

    session = EditSession.open(load_image("boot.jpg"))            # or EditSession.open(variant, provenance)
    session.live({"brightness": 1.2})                             # preview while a slider moves (<= 512 px)
    session.commit_adjust({"brightness": 1.2})                    # slider released: one history step
    session.push({"op": "preset", "preset": "amazon-main"})
    session.undo(); session.redo()
    session.export("out/", "png")                                 # full resolution, with provenance

The sliders show the recipe's last whole-image "adjust" step, wherever it stands: moving them previews that
step changed in place, releasing them records the change (a run of releases is one undo), so after a
rotate or a crop they still show the adjustment that applies. With no adjust step yet, the first release
adds one at the end. Undo puts the sliders back to the values before. The original is never modified.

A step that would take the full-resolution image past the recipe limits (recipe.MAX_STEPS, MAX_PIXELS,
MAX_WORK) is refused when it is pushed, before any pixel work, with the step named.

`SessionStore` keeps sessions on disk (the original as PNG, the history and provenance as JSON) under a
per-browser id, so a reload or a server restart finds them again, and holds only the most recently used
ones in memory:

    store = SessionStore("studio-data/sessions")
    store.put(browser_id, session)        # after every change (the original is written once)
    store.get(browser_id)                 # from memory, else from disk, else None
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from .adjust import RANGES, Adjustments
from .export import EXTENSIONS, Provenance, export, resolve_format
from ..files import atomic_write
from .presets import check, preset_from_spec
from .recipe import EditHistory, Preview, Recipe
from .repair import CLASSICAL, RepairMethods
from .upscale import CLASSICAL_UPSCALERS, Upscalers


@dataclass
class EditSession:
    original: Image.Image
    provenance: Provenance = field(default_factory=Provenance)
    history: EditHistory = field(default_factory=EditHistory)
    preview_source: Preview | None = None
    _rendered: tuple[str, Image.Image] | None = None           # (recipe JSON, full-resolution result)
    _preview: tuple | None = None                              # (the recipe's steps, their preview)
    name: str | None = None                                    # the upload's file name, for the download
    _sliders_last: tuple | None = None                         # (history cursor, step index) of the last release
    methods: RepairMethods = CLASSICAL                         # the repair methods its steps may use
    upscalers: Upscalers = CLASSICAL_UPSCALERS                 # ... and the upscalers

    @classmethod
    def open(cls, image: Image.Image, provenance: Provenance | None = None, name: str | None = None,
             methods: RepairMethods = CLASSICAL, upscalers: Upscalers = CLASSICAL_UPSCALERS) -> "EditSession":
        if image.mode not in ("RGB", "RGBA"):
            raise ValueError(f"edit sessions take RGB or RGBA images (load_image gives those), got mode {image.mode}")
        return cls(image, provenance or Provenance(), EditHistory(), Preview.of(image), name=clean_name(name),
                   methods=methods, upscalers=upscalers)

    # ---- the recipe
    @property
    def recipe(self) -> Recipe:
        return self.history.recipe

    def _slider_index(self) -> int | None:
        """Where the sliders' step is: the last whole-image adjust step of the recipe, wherever it stands."""
        steps = self.recipe.steps
        for index in range(len(steps) - 1, -1, -1):
            if steps[index]["op"] == "adjust" and "region" not in steps[index]:
                return index
        return None

    def slider_values(self) -> dict[str, float]:
        index = self._slider_index()
        step = self.recipe.steps[index] if index is not None else {}
        return {name: float(step.get(name, neutral)) for name, (_, _, neutral) in RANGES.items()}

    def _with_sliders(self, values: dict[str, float]) -> Recipe:
        """The recipe with the sliders at `values`: their step changed in place (removed when neutral), or
        added at the end when there is none yet."""
        adjust = Adjustments(**values).to_dict()
        steps, index = list(self.recipe.steps), self._slider_index()
        step = {"op": "adjust", **adjust}
        if index is None:
            return Recipe._of_checked(steps + [step]) if adjust else self.recipe
        steps[index:index + 1] = [step] if adjust else []
        return Recipe._of_checked(steps)

    def live(self, values: dict[str, float]) -> Image.Image:
        """The preview with the sliders at `values`, nothing recorded."""
        return self.preview_source.render(self._with_sliders(values), self.methods, self.upscalers)

    def try_step(self, step: dict) -> Image.Image:
        """The preview with `step` added at the end, nothing recorded (a live style's strength slider)."""
        return self.preview_source.render(self.recipe.then(step), self.methods, self.upscalers)

    def commit_adjust(self, values: dict[str, float]) -> Recipe:
        """Record the sliders (released): their step changes in place, so they keep showing their values
        after other steps; a run of slider releases is one undo."""
        adjust = Adjustments(**values).to_dict()
        self._with_sliders(values).check_size(self.original.size)
        index = self._slider_index()
        amend = self._sliders_last == (self.history.cursor, index) and index is not None
        if index is None:
            if not adjust:
                return self.recipe
            self.history.push({"op": "adjust", **adjust}, amend=amend)
            index = len(self.recipe.steps) - 1
        else:
            self.history.replace(index, {"op": "adjust", **adjust} if adjust else None, amend=amend)
            index = index if adjust else None
        self._sliders_last = (self.history.cursor, index)
        return self.recipe

    def push_steps(self, steps: list[dict], progress=None) -> Recipe:
        """Several steps as one action (one undo takes them all back), all or nothing: refused (ValueError
        naming the step) when the result would break the recipe limits, or when a step refuses the image (a
        fix that would cut away most of the product); the history, redo tail included, is then as it was.
        `progress` is told (done, total) while a slow step renders the preview."""
        recipe = self.recipe
        for step in steps:
            recipe = recipe.then(step)
        recipe.check_size(self.original.size)
        saved = self.history.copy()
        for i, step in enumerate(steps):
            self.history.push(step, amend=i > 0)
        try:
            self.preview(progress)
        except ValueError:
            self.history = saved
            raise
        return self.recipe

    def push(self, step: dict, progress=None) -> Recipe:
        """Add a step (refused as push_steps refuses)."""
        return self.push_steps([step], progress)

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # ---- images
    def preview(self, progress=None) -> Image.Image:
        """The recipe on the preview copy, cached while the recipe stays the same (a pushed step is rendered
        once, not again for the page). The history's steps tuple is the key: it changes with every action."""
        steps = self.recipe.steps
        if self._preview is None or self._preview[0] is not steps:
            self._preview = (steps, self.preview_source.render(self.recipe, self.methods, self.upscalers, progress))
        return self._preview[1]

    def before(self) -> Image.Image:
        return self.preview_source.image

    def render(self, progress=None) -> Image.Image:
        """Full resolution, cached per recipe."""
        key = self.recipe.to_json()
        if self._rendered is None or self._rendered[0] != key:
            self._rendered = (key, self.recipe.apply(self.original, methods=self.methods, upscalers=self.upscalers,
                                                     progress=progress))
        return self._rendered[1]

    def check(self, preset) -> list:
        return check(self.render(), preset_from_spec(preset))

    def export(self, folder: str | Path, format: str = "png", quality: int = 95, stem: str | None = None,
               progress=None) -> Path:
        """Write the full-resolution result with its provenance; returns the path."""
        kind = resolve_format("x." + format, None)
        made = replace(self.provenance, recipe=self.recipe)
        stem = stem or _stem(made, self.name)
        return export(self.render(progress), Path(folder) / f"{stem}{EXTENSIONS[kind]}", quality=quality, provenance=made)

    # ---- persistence
    def state(self) -> dict:
        """Everything but the original's pixels, as JSON-ready data."""
        made = self.provenance
        return {"version": 2, "name": self.name, "history": self.history.to_dict(),
                "provenance": {"origin": made.origin, "prompt": made.prompt, "seed": made.seed, "model": made.model,
                               "truncation": made.truncation, "steps": made.steps, "guidance": made.guidance,
                               "prior_source_type": made.prior_source_type,
                               "request": made.request}}

    @classmethod
    def from_state(cls, original: Image.Image, state: dict, methods: RepairMethods = CLASSICAL,
                   upscalers: Upscalers = CLASSICAL_UPSCALERS) -> "EditSession":
        session = cls.open(original, Provenance(**state["provenance"]), state.get("name"), methods, upscalers)
        session.history = EditHistory.from_dict(state["history"])
        return session


def clean_name(name: str | None) -> str | None:
    """A file name's stem, reduced to safe characters (it names the download)."""
    if not name:
        return None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(name)).stem).strip("-._")[:60]
    return stem or None


def _stem(provenance: Provenance, name: str | None = None) -> str:
    if name and provenance.prompt is None:
        return f"{name}-edited"
    words = re.sub(r"[^a-z0-9]+", "-", (provenance.prompt or "product").lower()).strip("-")[:40] or "product"
    return f"{words}-seed{provenance.seed}" if provenance.seed is not None else f"{words}-edited"


SESSION_ID = re.compile(r"[0-9a-f]{32}")


class SessionStore:
    """Edit sessions on disk under `root`/<id>/ (original.png, session.json), the most recent in memory.

    Ids are 32 hex characters (uuid4; anything else is refused, so an id never walks the file system).
    Sessions untouched for `max_age` seconds are deleted by `expire()`, and then the oldest while more than
    `max_sessions` or `max_bytes` are kept on disk; `in_memory` stay in memory.
    """

    def __init__(self, root: str | Path, in_memory: int = 8, max_age: float = 7 * 24 * 3600,
                 max_sessions: int = 1000, max_bytes: int = 5 * 2**30, methods: RepairMethods = CLASSICAL,
                 upscalers: Upscalers = CLASSICAL_UPSCALERS):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.in_memory, self.max_age, self.max_sessions = in_memory, max_age, max_sessions
        self.max_bytes, self.methods, self.upscalers = max_bytes, methods, upscalers
        self._live: OrderedDict[str, EditSession] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        import uuid

        return uuid.uuid4().hex

    @staticmethod
    def valid(session_id) -> bool:
        return isinstance(session_id, str) and SESSION_ID.fullmatch(session_id) is not None

    def _folder(self, session_id: str) -> Path:
        if not self.valid(session_id):
            raise ValueError("this page's session id is not valid; reload the page")
        return self.root / session_id

    def put(self, session_id: str, session: EditSession, *, new_original: bool = False) -> None:
        """Save the session (after every change); the original's PNG is written when new or replaced."""
        folder = self._folder(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        original = folder / "original.png"
        if new_original or not original.exists():
            atomic_write(original, lambda f: session.original.save(f, format="PNG", compress_level=1))
        state = json.dumps(session.state())
        atomic_write(folder / "session.json", lambda f: f.write(state.encode("utf-8")))
        self._remember(session_id, session)
        if new_original:
            self.expire()

    def get(self, session_id) -> EditSession | None:
        if not self.valid(session_id):
            return None
        with self._lock:
            if session_id in self._live:
                self._live.move_to_end(session_id)
                return self._live[session_id]
        folder = self.root / session_id
        try:
            state = json.loads((folder / "session.json").read_text())
            with Image.open(folder / "original.png") as image:
                original = image.convert("RGBA" if image.mode == "RGBA" else "RGB")
            session = EditSession.from_state(original, state, self.methods, self.upscalers)
        except (OSError, ValueError, KeyError, TypeError):
            return None                                  # missing or damaged: the page starts afresh
        self._remember(session_id, session)
        return session

    def _remember(self, session_id: str, session: EditSession) -> None:
        with self._lock:
            self._live[session_id] = session
            self._live.move_to_end(session_id)
            while len(self._live) > self.in_memory:
                self._live.popitem(last=False)

    def fork(self, session_id) -> str | None:
        """A copy of a saved session under a new id (the original's PNG hard-linked, it is never rewritten in
        place); None when there is none to copy."""
        found = self.get(session_id)
        if found is None:
            return None
        source, new = self.root / session_id, self.new_id()
        target = self.root / new
        target.mkdir()
        try:
            os.link(source / "original.png", target / "original.png")
        except OSError:                                  # a file system without hard links
            shutil.copyfile(source / "original.png", target / "original.png")
        shutil.copyfile(source / "session.json", target / "session.json")
        # the copy in memory shares the decoded original and its preview copy (neither is ever changed) and
        # gets a history of its own, so a page load decodes the photo once, not twice
        twin = replace(found, history=found.history.copy(), _rendered=None, _preview=None, _sliders_last=None)
        self._remember(new, twin)
        return new

    def release(self, session_id) -> None:
        """Drop a session from memory (its tab closed); it stays on disk until it expires."""
        with self._lock:
            self._live.pop(session_id, None)

    def expire(self, now: float | None = None) -> int:
        """Delete sessions idle for more than max_age, then the oldest beyond max_sessions or max_bytes;
        returns how many went."""
        now = time.time() if now is None else now
        folders = []
        for folder in self.root.iterdir():
            if folder.is_dir() and self.valid(folder.name):
                stamp = folder / "session.json"
                size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
                folders.append((stamp.stat().st_mtime if stamp.exists() else folder.stat().st_mtime, size, folder))
        folders.sort()
        doomed = [f for t, _, f in folders if now - t > self.max_age]
        alive = [(size, f) for t, size, f in folders if now - t <= self.max_age]
        total = sum(size for size, _ in alive)
        while len(alive) > 1 and (len(alive) > self.max_sessions or total > self.max_bytes):   # newest stays
            size, folder = alive.pop(0)
            doomed.append(folder)
            total -= size
        for folder in doomed:
            self.release(folder.name)
            shutil.rmtree(folder, ignore_errors=True)
        return len(doomed)

