"""The board's tables in SQLAlchemy Core: the one description of the schema the code reads and writes.

The migrations under `migrations/versions/` build the same tables step by step; `tests/test_board_store.py`
checks that a database migrated to the head has exactly these columns.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite keeps INTEGER PRIMARY KEY AUTOINCREMENT (ids never reused); PostgreSQL a 64-bit identity.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

items = sa.Table(
    "items", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("added_by", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text),
    sa.Column("seed", sa.BigInteger),
    sa.Column("model", sa.Text),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("recipe", sa.Text, nullable=False),
    sa.Column("image", sa.Text, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("set_id", sa.String(32)),                      # images saved together (other angles) share one
    sa.Index("items_set", "set_id"),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id"), nullable=False),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("verified", sa.Integer, nullable=False, server_default="0"),
    # A client's idempotency key: the same request sent twice (a retry after a lost reply) records once.
    sa.Column("request_key", sa.String(64)),
    sa.Index("decisions_item", "item_id", "id"),
    sa.Index("decisions_request_key", "request_key", unique=True),
    sa.CheckConstraint("action IN ('approve', 'reject', 'reset', 'star', 'unstar', 'comment')",
                       name="decisions_action"),
    sqlite_autoincrement=True,
)

users = sa.Table(
    "users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password", sa.Text, nullable=False),          # pbkdf2_sha256$iterations$salt$hash (auth.py)
    sa.Column("created_at", sa.Float, nullable=False),
)
