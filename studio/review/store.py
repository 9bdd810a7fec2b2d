"""Where the board lives: one SQLAlchemy engine, SQLite on the data dir by default or PostgreSQL by URL.

    STUDIO_DATABASE_URL=postgresql+psycopg://studio:secret@db.internal/studio python app.py   # a team's board
    python app.py                                     # sqlite:///studio-data/board.sqlite3 (nothing to install)

The schema is versioned with Alembic (`migrations/`) and brought to the newest version when a board opens;
several replicas starting at once take turns (SQLite: the write lock; PostgreSQL: a transaction-scoped
advisory lock), so a migration runs once. A board made before Alembic was used (tables but no
`alembic_version`) is stamped at the version its columns show, then upgraded.

SQLite runs in WAL mode; writes open with `BEGIN IMMEDIATE` and wait up to 30 s for the lock, so writers in
several threads or processes queue instead of failing. PostgreSQL runs at READ COMMITTED; a decision locks
its item's row (`SELECT ... FOR UPDATE`), so two replicas recording on one item take turns.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

MIGRATIONS = Path(__file__).with_name("migrations")
WRITE = "studio_write"                   # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)
MIGRATION_LOCK = 0x5354_5544             # PostgreSQL advisory lock key ("STUD")
SCHEMES = ("sqlite", "postgresql")


def redact(url: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", str(url))


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def open_engine(url: str) -> sa.Engine:
    """An engine for a board URL; PostgreSQL URLs without a driver get psycopg 3."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"not a database URL: {redact(url)}") from exc
    if parsed.get_backend_name() not in SCHEMES:
        raise ValueError(f"the board runs on SQLite or PostgreSQL, not {parsed.get_backend_name()!r}")
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise ValueError("a PostgreSQL board needs psycopg: pip install 'psycopg[binary]'") from exc
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=4, max_overflow=8)
    engine = sa.create_engine(parsed, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling is switched off so that `begin` below decides how each one starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # A writer takes the write lock up front: a deferred BEGIN that upgrades later can fail with SQLITE_BUSY
    # at once instead of waiting its turn.
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def writing(engine: sa.Engine):
    """One write transaction: committed on success, rolled back on any error."""
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        yield conn


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def legacy_revision(connection) -> str | None:
    """The revision a board made before Alembic matches (None: a new database, or one Alembic manages)."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    if "alembic_version" in tables or "items" not in tables:
        return None
    columns = {c["name"] for c in inspector.get_columns("decisions")}
    return "0002" if "verified" in columns else "0001"


def migrate(engine: sa.Engine) -> str:
    """Bring the schema to the newest revision; returns it."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = _alembic_config(conn)
        legacy = legacy_revision(conn)
        if legacy:
            command.stamp(config, legacy)
        command.upgrade(config, "head")
        return MigrationContext.configure(conn).get_current_revision()
