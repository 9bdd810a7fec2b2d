"""Board storage: a SQL database (SQLite by default, PostgreSQL for a team) plus PNG files in a data dir.

Layout of the data directory (`STUDIO_DATA_DIR`, default ./studio-data), which every replica must share:

    board.sqlite3               items and the append-only decision log (the audit trail), unless
                                STUDIO_DATABASE_URL names another database (see store.py)
    images/ab/abcdef....png     each saved image, named by the SHA-256 of its bytes, written atomically
    thumbs/                     previews, rebuilt from images/ when missing

Every write is one short transaction (SQLite: `BEGIN IMMEDIATE` with a busy timeout; PostgreSQL: the item's
row locked), so reviewers in several threads, processes or replicas queue instead of overwriting one another;
decisions are only ever inserted, never updated, so the log of who did what when is complete and its order
is the order of the ids. An item's status is derived from that log: rejected while any reviewer's latest
verdict is a rejection, approved when at least one stands and none rejects, else pending.

A decision is recorded once per request: a client may send a `request_key` (a retry after a lost reply
returns the first record), and the same reviewer sending the same action and text on the same item again
within `REPEAT_WINDOW` seconds (a double click, on any replica) gets the first record back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import sqlalchemy as sa
from PIL import Image

from ..edits.export import Provenance, export
from ..edits.recipe import Recipe
from ..files import atomic_write
from . import store
from .tables import decisions, items

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
ACTIONS = ("approve", "reject", "reset", "star", "unstar", "comment")
STATUSES = ("pending", "approved", "rejected")
MAX_TEXT = 2000
MAX_SET = 24                # images one set may hold (a product from every named view is 6)

REPEAT_WINDOW = 3.0                 # seconds: the same decision again this soon is a double click
DECISION_COLUMNS = (decisions.c.id, decisions.c.item_id, decisions.c.reviewer, decisions.c.action,
                    decisions.c.comment, decisions.c.at, decisions.c.verified)


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
    set_id: str | None = None       # shared by images saved together as a set (a product's other angles)

    def image(self) -> Image.Image:
        with Image.open(self.image_path) as image:
            return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")

    def provenance(self) -> Provenance:
        return Provenance(self.origin, prompt=self.prompt, seed=self.seed, model=self.model, recipe=self.recipe)


def _decision(row) -> Decision:
    return Decision(row.id, row.item_id, row.reviewer, row.action, row.comment, row.at, bool(row.verified))


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BoardError(f"{what} must be a non-empty name")
    value = value.strip()
    if len(value) > 100:
        raise BoardError(f"{what} is longer than 100 characters")
    return value


class Board:
    """The review board on a data dir (images) and a database (items and decisions).

    `database_url` (else `$STUDIO_DATABASE_URL`, else SQLite in the data dir) picks the database; opening a
    board brings its schema to the newest version."""

    def __init__(self, data_dir: str | Path | None = None, database_url: str | None = None):
        self.root = Path(data_dir or os.environ.get("STUDIO_DATA_DIR") or "studio-data")
        (self.root / "images").mkdir(parents=True, exist_ok=True)
        url = database_url or os.environ.get("STUDIO_DATABASE_URL") or store.sqlite_url(self.root / "board.sqlite3")
        self.engine = store.open_engine(url)
        self.url = store.redact(self.engine.url.render_as_string(hide_password=True))
        self.db_path = Path(self.engine.url.database) if self.engine.dialect.name == "sqlite" else None
        try:
            self.revision = store.migrate(self.engine)
        except sa.exc.OperationalError as exc:
            self.engine.dispose()
            raise BoardError(f"cannot open the board database {self.url}: {str(exc.orig).strip()}") from exc

    def close(self) -> None:
        """Give back the database connections (a board is usable again after; it reconnects)."""
        self.engine.dispose()

    # ---- plumbing
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
        return self._insert([(image, prompt)], None, added_by, seed, model, recipe, origin, title)[0]

    def add_set(self, images: Sequence[tuple[Image.Image, str | None]], *, added_by: str, seed: int | None = None,
                model: str | None = None, recipe: Recipe | None = None, origin: str = "generated",
                title: str | None = None) -> list[Item]:
        """Save images made together ((image, prompt) pairs: one product from several angles) as one set, in
        one transaction: all of them or none. Each is an item of its own (reviewed on its own) carrying the
        set's id. Returns the new items in order."""
        return self._insert(images, uuid.uuid4().hex[:12], added_by, seed, model, recipe, origin, title)

    def _insert(self, images, set_id, added_by, seed, model, recipe, origin, title) -> list[Item]:
        added_by = _name(added_by, "the name of who adds it")
        if not images or len(images) > MAX_SET:
            raise BoardError(f"a set holds 1 to {MAX_SET} images, got {len(images)}")
        rows = []
        now = time.time()
        for image, _ in images:                                  # every image checked before any is stored
            if not isinstance(image, Image.Image) or image.mode not in ("RGB", "RGBA"):
                raise BoardError(f"board images must be RGB or RGBA, got {getattr(image, 'mode', type(image).__name__)}")
        for n, (image, prompt) in enumerate(images):
            provenance = Provenance(origin, prompt=prompt, seed=seed, model=model, recipe=recipe or Recipe())
            relative = self._store_image(image, provenance)      # the files first: a row never points at nothing
            rows.append(dict(id=uuid.uuid4().hex[:12], created_at=now + n * 1e-6, added_by=added_by,
                             title=(title or prompt or "untitled").strip()[:200] or "untitled", prompt=prompt,
                             seed=seed, model=model, origin=origin, recipe=provenance.recipe.to_json(),
                             image=relative, width=image.width, height=image.height, set_id=set_id))
        with store.writing(self.engine) as conn:
            conn.execute(items.insert(), rows)
        return [self.get(row["id"]) for row in rows]

    def in_set(self, set_id: str) -> list[Item]:
        """The items saved together under `set_id`, in the order they were saved."""
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(items.c.id).where(items.c.set_id == set_id)
                               .order_by(items.c.created_at, items.c.id)).scalars().all()
        return [self.get(i) for i in ids]

    def decide(self, item_id: str, reviewer: str, action: str, comment: str | None = None, *,
               verified: bool = False, request_key: str | None = None) -> Decision:
        """Record one reviewer's action (approve, reject, reset, star, unstar, comment); `verified` when the
        name comes from a sign-in rather than from what someone typed. Returns the decision as recorded: the
        earlier one for a repeated `request_key` or a double click (see the module notes)."""
        reviewer = _name(reviewer, "reviewer")
        if not isinstance(item_id, str) or not item_id:
            raise BoardError("which item? the item id must be given as text")
        if action not in ACTIONS:
            raise BoardError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        if action == "comment" and not (comment or "").strip():
            raise BoardError("a comment needs some text")
        if comment is not None and len(comment) > MAX_TEXT:
            raise BoardError(f"comments are limited to {MAX_TEXT} characters")
        if request_key is not None and (not isinstance(request_key, str) or not 8 <= len(request_key) <= 64):
            raise BoardError("a request key is 8 to 64 characters")
        comment = comment.strip() if comment and comment.strip() else None
        with store.writing(self.engine) as conn:
            # Lock the item's row (PostgreSQL; SQLite's write lock already serialises): two replicas recording
            # on one item take turns, so the repeat check below sees the other's record.
            locked = conn.execute(sa.select(items.c.id).where(items.c.id == item_id).with_for_update()).first()
            if locked is None:
                raise BoardError(f"no board item {item_id!r}")
            if request_key is not None:
                # stored scoped to reviewer and item: one client's key can never claim another's request
                request_key = hashlib.sha256(f"{reviewer}\0{item_id}\0{request_key}".encode()).hexdigest()
                row = conn.execute(sa.select(*DECISION_COLUMNS).where(decisions.c.request_key == request_key)).first()
                if row is not None:
                    return _decision(row)
            at = time.time()
            last = conn.execute(sa.select(*DECISION_COLUMNS)
                                .where(decisions.c.item_id == item_id, decisions.c.reviewer == reviewer)
                                .order_by(decisions.c.id.desc()).limit(1)).first()
            if last is not None and (last.action, last.comment) == (action, comment) and \
                    0 <= at - last.at < REPEAT_WINDOW:
                return _decision(last)
            result = conn.execute(decisions.insert().values(
                item_id=item_id, reviewer=reviewer, action=action, comment=comment, at=at,
                verified=int(bool(verified)), request_key=request_key))
            return Decision(result.inserted_primary_key[0], item_id, reviewer, action, comment, at, bool(verified))

    # ---- reading
    def _item(self, row, decisions_: list[Decision]) -> Item:
        verdicts: dict[str, str] = {}
        starred: dict[str, bool] = {}
        comments = []
        for d in decisions_:
            if d.action in ("approve", "reject", "reset"):
                verdicts[d.reviewer] = d.action
            elif d.action in ("star", "unstar"):
                starred[d.reviewer] = d.action == "star"
            elif d.action == "comment":
                comments.append((d.reviewer, d.comment or "", d.at))
        approvals = tuple(sorted(r for r, v in verdicts.items() if v == "approve"))
        rejections = tuple(sorted(r for r, v in verdicts.items() if v == "reject"))
        status = "rejected" if rejections else "approved" if approvals else "pending"
        return Item(row.id, row.created_at, row.added_by, row.title, row.prompt, row.seed, row.model, row.origin,
                    Recipe.from_json(row.recipe), self.root / row.image, row.width, row.height, status,
                    approvals, rejections, tuple(sorted(r for r, s in starred.items() if s)), tuple(comments),
                    row.set_id)

    def _decisions(self, conn, item_ids: list[str]) -> dict[str, list[Decision]]:
        found: dict[str, list[Decision]] = {i: [] for i in item_ids}
        for start in range(0, len(item_ids), 500):          # bounded IN lists on either engine
            chunk = item_ids[start:start + 500]
            for row in conn.execute(sa.select(*DECISION_COLUMNS).where(decisions.c.item_id.in_(chunk))
                                    .order_by(decisions.c.id)):
                found[row.item_id].append(_decision(row))
        return found

    def get(self, item_id: str) -> Item:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(items).where(items.c.id == item_id)).first()
            if row is None:
                raise BoardError(f"no board item {item_id!r}")
            return self._item(row, self._decisions(conn, [item_id])[item_id])

    def items(self, status: str | None = None, starred: bool | None = None) -> list[Item]:
        """Newest first; optionally only one status, or only starred ones."""
        if status is not None and status not in STATUSES:
            raise BoardError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(items).order_by(items.c.created_at.desc(), items.c.id)).all()
            found = self._decisions(conn, [r.id for r in rows])
        listed = [self._item(r, found[r.id]) for r in rows]
        return [i for i in listed
                if (status is None or i.status == status) and (starred is None or bool(i.stars) == starred)]

    def history(self, item_id: str | None = None, limit: int | None = None) -> list[Decision]:
        """The audit trail, oldest first: every action ever taken (on one item, or on all); with `limit`, only
        the latest that many."""
        query = sa.select(*DECISION_COLUMNS).order_by(decisions.c.id.desc())
        if item_id:
            query = query.where(decisions.c.item_id == item_id)
        if limit is not None:
            query = query.limit(max(0, int(limit)))
        with self.engine.connect() as conn:
            return [_decision(r) for r in conn.execute(query)][::-1]

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
