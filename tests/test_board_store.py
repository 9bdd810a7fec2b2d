"""The board's storage: migrations from every earlier schema, the two engines, repeated requests."""

import sqlite3
import time

import pytest
import sqlalchemy as sa

from conftest import product_photo
from studio.review import Board, BoardError
from studio.review import board as board_module
from studio.review.store import open_engine, redact
from studio.review.tables import metadata

# The schema boards were created with before Alembic managed them (the sign-in column came later).
FIRST_SCHEMA = """
CREATE TABLE items (id TEXT PRIMARY KEY, created_at REAL NOT NULL, added_by TEXT NOT NULL, title TEXT NOT NULL,
    prompt TEXT, seed INTEGER, model TEXT, origin TEXT NOT NULL, recipe TEXT NOT NULL, image TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL);
CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL REFERENCES items(id),
    reviewer TEXT NOT NULL, action TEXT NOT NULL, comment TEXT, at REAL NOT NULL);
CREATE INDEX decisions_item ON decisions(item_id, id);
INSERT INTO items VALUES ('old1', 1.0, 'ana', 'navy boot', 'navy boot', 3, 'vae-fashion', 'generated', '[]',
    'images/none.png', 32, 32);
INSERT INTO decisions (item_id, reviewer, action, comment, at) VALUES ('old1', 'ben', 'approve', NULL, 2.0);
INSERT INTO decisions (item_id, reviewer, action, comment, at) VALUES ('old1', 'cy', 'comment', 'nice', 3.0);
"""


@pytest.mark.parametrize("signed_in_column", [False, True])
def test_a_board_from_before_migrations_keeps_its_log_and_reaches_the_newest_schema(tmp_path, signed_in_column):
    with sqlite3.connect(tmp_path / "board.sqlite3") as conn:
        conn.executescript(FIRST_SCHEMA)
        if signed_in_column:
            conn.execute("ALTER TABLE decisions ADD COLUMN verified INTEGER NOT NULL DEFAULT 0")
    board = Board(tmp_path)
    assert board.revision == "0004"
    old = board.get("old1")
    assert (old.status, old.approvals, old.comments[0][:2]) == ("approved", ("ben",), ("cy", "nice"))
    assert [d.verified for d in board.history()] == [False, False]
    new = board.decide("old1", "dee", "reject", verified=True)
    assert new.id == 3 and board.get("old1").status == "rejected"
    assert Board(tmp_path).revision == "0004"                           # opening again is a no-op


def _columns(engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
            if t != "alembic_version"}


def test_the_migrations_build_exactly_the_tables_the_code_uses(tmp_path, board_url):
    board = Board(tmp_path, board_url)
    assert _columns(board.engine) == {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    indexes = {i["name"] for i in sa.inspect(board.engine).get_indexes("decisions")}
    assert {"decisions_item", "decisions_request_key"} <= indexes


def test_a_retried_request_and_a_double_click_record_once(tmp_path, board_url, monkeypatch):
    board = Board(tmp_path, board_url)
    item = board.add(product_photo((12, 12)), added_by="ana")
    first = board.decide(item.id, "ben", "comment", "warmer please", request_key="req-0001")
    assert board.decide(item.id, "ben", "comment", "warmer please", request_key="req-0001") == first
    assert board.decide(item.id, "ben", "comment", "warmer please") == first        # a double click
    approve = board.decide(item.id, "ben", "approve")
    assert approve.id != first.id and board.decide(item.id, "ben", "approve").id == approve.id
    board.decide(item.id, "ben", "reset")
    assert board.decide(item.id, "ben", "approve").id != approve.id            # a change of mind records
    assert board.decide(item.id, "cy", "approve").reviewer == "cy"            # another reviewer records
    monkeypatch.setattr(board_module, "REPEAT_WINDOW", 0.0)
    again = board.decide(item.id, "ben", "comment", "warmer please")         # past the window: a new record
    assert again.id not in (d.id for d in board.history()[:-1])
    assert [d.action for d in board.history(item.id)] == ["comment", "approve", "reset", "approve", "approve",
                                                          "comment"]
    other = board.decide(item.id, "cy", "comment", "mine", request_key="req-0001")   # the same key, another
    assert other.id != first.id and other.reviewer == "cy"                          # reviewer: their own record
    with pytest.raises(BoardError, match="request key"):
        board.decide(item.id, "ben", "star", request_key="short")


def test_an_open_postgres_board_survives_a_server_restart(tmp_path, pg_cluster):
    url = pg_cluster.create_database()
    board = Board(tmp_path, url)
    item = board.add(product_photo((12, 12)), added_by="ana")
    board.decide(item.id, "ben", "approve")
    pg_cluster.stop()
    pg_cluster.start()
    board.decide(item.id, "cy", "star")                     # the pool's dead connections are replaced
    board.close()
    again = Board(tmp_path, url).get(item.id)
    assert (again.status, again.approvals, again.stars) == ("approved", ("ben",), ("cy",))


def test_bad_database_urls_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        Board(tmp_path, "mysql://root@localhost/board")
    with pytest.raises(ValueError, match="not a database URL"):
        open_engine("no scheme at all")
    with pytest.raises(BoardError, match=r"cannot open the board database postgresql\+psycopg://ana:\*\*\*@"):
        Board(tmp_path, "postgresql://ana:hunter2@127.0.0.1:1/board")
    assert redact("postgresql://ana:hunter2@db/board") == "postgresql://ana:***@db/board"


def test_the_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    board = Board(tmp_path / "data")
    board.add(product_photo((8, 8)), added_by="ana")
    assert (tmp_path / "elsewhere.db").is_file() and not (tmp_path / "data" / "board.sqlite3").exists()
    assert time.time() - board.items()[0].created_at < 60


def test_accounts_in_the_board_database_are_shared_and_read_at_each_sign_in(tmp_path, board_url):
    from studio.review.auth import Accounts, add_user

    url = board_url or f"sqlite:///{tmp_path / 'board.sqlite3'}"
    with pytest.raises(ValueError, match="no accounts yet"):
        Accounts.load(url)
    add_user(url, "ana", "ana-secret-1")
    accounts = Accounts.load(url)                        # one replica's sign-in
    assert accounts.check("ana", "ana-secret-1") and not accounts.check("ana", "wrong-password")
    add_user(url, "ben", "ben-secret-1")                 # added from elsewhere while it runs
    assert accounts.check("ben", "ben-secret-1") and not accounts.check("cy", "anything-at-all")
    add_user(url, "ana", "new-secret-2")                 # a replaced password
    assert accounts.check("ana", "new-secret-2") and not accounts.check("ana", "ana-secret-1")
    board = Board(tmp_path, url)                         # the same database still opens as a board
    assert board.items() == []
