"""Board storage: SQLite in WAL mode plus PNG files, under one data directory that survives restarts.

Layout of the data directory (`STUDIO_DATA_DIR`, default ./studio-data):

    board.sqlite3               items and the append-only decision log (the audit trail)
    images/ab/abcdef....png     each saved image, named by the SHA-256 of its bytes, written atomically

Every write is one short `BEGIN IMMEDIATE` transaction with a busy timeout, so reviewers in several threads
or processes queue instead of overwriting one another; decisions are only ever inserted, never updated, so
the log of who did what when is complete. An item's status is derived from that log: rejected while any
reviewer's latest verdict is a rejection, approved when at least one stands and none rejects, else pending.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import time
import uuid
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..edits.export import Provenance, export
from ..edits.recipe import Recipe
from ..files import atomic_write

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
ACTIONS = ("approve", "reject", "reset", "star", "unstar", "comment")
STATUSES = ("pending", "approved", "rejected")
MAX_TEXT = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    added_by TEXT NOT NULL,
    title TEXT NOT NULL,
    prompt TEXT,
    seed INTEGER,
    model TEXT,
    origin TEXT NOT NULL,
    recipe TEXT NOT NULL,
    image TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(id),
    reviewer TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('approve', 'reject', 'reset', 'star', 'unstar', 'comment')),
    comment TEXT,
    at REAL NOT NULL,
    verified INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS decisions_item ON decisions(item_id, id);
"""


def csv_cell(value) -> str:
    """A spreadsheet-safe CSV cell (OWASP CSV injection): text starting with = + - @, a tab or a line break
    would run as a formula in Excel or Sheets, so it is prefixed with a single quote. Numbers pass as they are."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class BoardError(ValueError):
    """A request the board cannot carry out: unknown item, bad action, empty reviewer name."""


@dataclass(frozen=True)
class Decision:
    id: int
    item_id: str
    reviewer: str
    action: str
    comment: str | None
    at: float
    verified: bool = False          # the reviewer was signed in (else the name is as typed)


@dataclass(frozen=True)
class Item:
    id: str
    created_at: float
    added_by: str
    title: str
    prompt: str | None
    seed: int | None
    model: str | None
    origin: str
    recipe: Recipe
    image_path: Path
    width: int
    height: int
    status: str = "pending"
    approvals: tuple[str, ...] = ()
    rejections: tuple[str, ...] = ()
    stars: tuple[str, ...] = ()
    comments: tuple[tuple[str, str, float], ...] = field(default_factory=tuple)   # (reviewer, text, at)

    def image(self) -> Image.Image:
        with Image.open(self.image_path) as image:
            return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")

    def provenance(self) -> Provenance:
        return Provenance(self.origin, prompt=self.prompt, seed=self.seed, model=self.model, recipe=self.recipe)


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BoardError(f"{what} must be a non-empty name")
    value = value.strip()
    if len(value) > 100:
        raise BoardError(f"{what} is longer than 100 characters")
    return value


class Board:
    def __init__(self, data_dir: str | Path | None = None):
        self.root = Path(data_dir or os.environ.get("STUDIO_DATA_DIR") or "studio-data")
        (self.root / "images").mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "board.sqlite3"
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(decisions)")}
            if "verified" not in columns:                # a board made before reviewers could sign in
                conn.execute("ALTER TABLE decisions ADD COLUMN verified INTEGER NOT NULL DEFAULT 0")

    # ---- plumbing
    @contextmanager
    def _connect(self):
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self):
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _store_image(self, image: Image.Image, provenance: Provenance) -> str:
        buffer = io.BytesIO()
        export(image, buffer, format="png", provenance=provenance)
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        relative = Path("images") / digest[:2] / f"{digest}.png"
        target = self.root / relative
        if not target.exists():
            atomic_write(target, lambda f: f.write(data))          # readers never see half a file
        return relative.as_posix()

    # ---- writing
    def add(self, image: Image.Image, *, added_by: str, prompt: str | None = None, seed: int | None = None,
            model: str | None = None, recipe: Recipe | None = None, origin: str = "generated",
            title: str | None = None) -> Item:
        """Save an image with how it was made; returns the new item (status pending)."""
        added_by = _name(added_by, "the name of who adds it")
        if image.mode not in ("RGB", "RGBA"):
            raise BoardError(f"board images must be RGB or RGBA, got mode {image.mode}")
        provenance = Provenance(origin, prompt=prompt, seed=seed, model=model, recipe=recipe or Recipe())
        relative = self._store_image(image, provenance)
        item_id = uuid.uuid4().hex[:12]
        title = (title or prompt or "untitled").strip()[:200] or "untitled"
        with self._write() as conn:
            conn.execute("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         (item_id, time.time(), added_by, title, prompt, seed, model, origin,
                          provenance.recipe.to_json(), relative, image.width, image.height))
        return self.get(item_id)

    def decide(self, item_id: str, reviewer: str, action: str, comment: str | None = None, *,
               verified: bool = False) -> Decision:
        """Record one reviewer's action (approve, reject, reset, star, unstar, comment); `verified` when the
        name comes from a sign-in rather than from what someone typed."""
        reviewer = _name(reviewer, "reviewer")
        if action not in ACTIONS:
            raise BoardError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        if action == "comment" and not (comment or "").strip():
            raise BoardError("a comment needs some text")
        if comment is not None and len(comment) > MAX_TEXT:
            raise BoardError(f"comments are limited to {MAX_TEXT} characters")
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
                raise BoardError(f"no board item {item_id!r}")
            at = time.time()
            cursor = conn.execute("INSERT INTO decisions (item_id, reviewer, action, comment, at, verified) "
                                  "VALUES (?,?,?,?,?,?)",
                                  (item_id, reviewer, action, comment.strip() if comment else None, at,
                                   int(bool(verified))))
            return Decision(cursor.lastrowid, item_id, reviewer, action, comment, at, bool(verified))

    # ---- reading
    def _item(self, row: tuple, decisions: list[Decision]) -> Item:
        verdicts: dict[str, str] = {}
        starred: dict[str, bool] = {}
        comments = []
        for d in decisions:
            if d.action in ("approve", "reject", "reset"):
                verdicts[d.reviewer] = d.action
            elif d.action in ("star", "unstar"):
                starred[d.reviewer] = d.action == "star"
            elif d.action == "comment":
                comments.append((d.reviewer, d.comment or "", d.at))
        approvals = tuple(sorted(r for r, v in verdicts.items() if v == "approve"))
        rejections = tuple(sorted(r for r, v in verdicts.items() if v == "reject"))
        status = "rejected" if rejections else "approved" if approvals else "pending"
        (item_id, created_at, added_by, title, prompt, seed, model, origin, recipe, image, width, height) = row
        return Item(item_id, created_at, added_by, title, prompt, seed, model, origin, Recipe.from_json(recipe),
                    self.root / image, width, height, status, approvals, rejections,
                    tuple(sorted(r for r, s in starred.items() if s)), tuple(comments))

    def _decisions(self, conn, item_ids: list[str]) -> dict[str, list[Decision]]:
        found: dict[str, list[Decision]] = {i: [] for i in item_ids}
        if not item_ids:
            return found
        marks = ",".join("?" * len(item_ids))
        for row in conn.execute(f"SELECT id, item_id, reviewer, action, comment, at, verified FROM decisions "
                                f"WHERE item_id IN ({marks}) ORDER BY id", item_ids):
            found[row[1]].append(Decision(*row[:6], bool(row[6])))
        return found

    def get(self, item_id: str) -> Item:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise BoardError(f"no board item {item_id!r}")
            return self._item(row, self._decisions(conn, [item_id])[item_id])

    def items(self, status: str | None = None, starred: bool | None = None) -> list[Item]:
        """Newest first; optionally only one status, or only starred ones."""
        if status is not None and status not in STATUSES:
            raise BoardError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM items ORDER BY created_at DESC, id").fetchall()
            decisions = self._decisions(conn, [r[0] for r in rows])
        items = [self._item(r, decisions[r[0]]) for r in rows]
        return [i for i in items
                if (status is None or i.status == status) and (starred is None or bool(i.stars) == starred)]

    def history(self, item_id: str | None = None) -> list[Decision]:
        """The audit trail, oldest first: every action ever taken (on one item, or on all)."""
        with self._connect() as conn:
            query = "SELECT id, item_id, reviewer, action, comment, at, verified FROM decisions"
            rows = conn.execute(query + (" WHERE item_id = ? ORDER BY id" if item_id else " ORDER BY id"),
                                (item_id,) if item_id else ()).fetchall()
        return [Decision(*r[:6], bool(r[6])) for r in rows]

    def thumbnail(self, item_id: str, side: int = 256) -> Path:
        """A PNG preview of the item, at least `side` px on its longest side (small generated images are
        enlarged), written once and atomically under thumbs/."""
        target = self.root / "thumbs" / f"{item_id}-{side}.png"
        if not target.exists():
            image = self.get(item_id).image()
            scale = side / max(image.size)
            image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                 Image.Resampling.LANCZOS)
            atomic_write(target, lambda f: image.save(f, format="PNG"))
        return target

    # ---- export
    def export_zip(self, target, items: list[Item]) -> Path | None:
        """A zip of the items' PNGs (metadata inside each) plus manifest.json and manifest.csv."""
        if not items:
            raise BoardError("nothing to export: no items match")
        rows = []
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
            for number, item in enumerate(items, 1):
                name = f"{number:03d}-{item.id}.png"
                archive.write(item.image_path, f"images/{name}")
                rows.append({"file": f"images/{name}", "id": item.id, "title": item.title, "prompt": item.prompt,
                             "seed": item.seed, "model": item.model, "origin": item.origin, "status": item.status,
                             "approved_by": list(item.approvals), "stars": len(item.stars),
                             "comments": [{"reviewer": r, "text": t} for r, t, _ in item.comments],
                             "recipe": item.recipe.to_dict()})
            archive.writestr("manifest.json", json.dumps(rows, indent=2))
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(["file", "id", "title", "prompt", "seed", "model", "status", "approved_by", "recipe"])
            for r in rows:
                seed = "" if r["seed"] is None else r["seed"]
                writer.writerow([csv_cell(v) for v in (
                    r["file"], r["id"], r["title"], r["prompt"] or "", seed, r["model"] or "", r["status"],
                    " ".join(r["approved_by"]), json.dumps(r["recipe"]))])
            archive.writestr("manifest.csv", text.getvalue())
        return Path(target) if isinstance(target, (str, Path)) else None

    def export_approved(self, target) -> Path | None:
        return self.export_zip(target, self.items(status="approved"))
