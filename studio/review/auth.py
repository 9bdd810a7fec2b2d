"""Reviewer accounts for a shared board: users with salted, hashed passwords, in a small file or in the
board's database (the `users` table), where every replica of the app reads the same accounts.

    python -m studio user add users.txt ana          # asks for the password (or reads one line from stdin)
    python app.py --auth-file users.txt              # sign-in required; the signed-in user is the reviewer
    python -m studio user add postgresql://studio@db/studio ana      # the same, in the board's database
    python app.py --auth-file postgresql://studio@db/studio          # looked up at each sign-in

The file has one account per line, `name:pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`; blank lines and
lines starting with `#` are ignored. The hash is PBKDF2-HMAC-SHA256 (hashlib), 600,000 iterations for new
passwords (OWASP's 2023 figure), compared in constant time. Passwords are never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

SCHEME = "pbkdf2_sha256"
ITERATIONS = 600_000
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}")


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    if not isinstance(password, str) or len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        found = hashlib.pbkdf2_hmac("sha256", str(password).encode("utf-8"), bytes.fromhex(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found.hex(), digest)


def is_database(target: str | Path) -> bool:
    return "://" in str(target)


class Accounts:
    """The users of an auth file or database; `check(name, password)` is what the app's sign-in calls."""

    def __init__(self, users: dict[str, str] | None = None, engine=None):
        if not users and engine is None:
            raise ValueError("the auth file has no accounts")
        self.users = dict(users or {})
        self.engine = engine                    # a database's accounts are read at each sign-in

    @classmethod
    def load(cls, path: str | Path) -> "Accounts":
        """From an auth file, or from a board database given by its URL."""
        if is_database(path):
            from sqlalchemy import func, select

            from .store import migrate, open_engine
            from .tables import users

            engine = open_engine(str(path))
            migrate(engine)
            with engine.connect() as conn:
                if not conn.execute(select(func.count()).select_from(users)).scalar_one():
                    raise ValueError("the database has no accounts yet: add one with `python -m studio user add`")
            return cls(engine=engine)
        users: dict[str, str] = {}
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, stored = line.partition(":")
            if not sep or not NAME.fullmatch(name) or not stored.startswith(SCHEME + "$"):
                raise ValueError(f"{Path(path).name} line {number}: expected name:{SCHEME}$..., "
                                 "made with `python -m studio user add`")
            users[name] = stored
        return cls(users)

    def _stored(self, name: str) -> str | None:
        if self.engine is None:
            return self.users.get(name)
        from sqlalchemy import select

        from .tables import users

        with self.engine.connect() as conn:
            return conn.execute(select(users.c.password).where(users.c.name == name)).scalar_one_or_none()

    def check(self, name: str, password: str) -> bool:
        stored = self._stored(name) if isinstance(name, str) and NAME.fullmatch(name) else None
        if stored is None:
            verify_password(password, hash_password("timing-equaliser", 1000))    # same work for unknown names
            return False
        return verify_password(password, stored)


def add_user(path: str | Path, name: str, password: str) -> None:
    """Add or replace one account in an auth file (created if missing) or in a board database (by URL)."""
    if not NAME.fullmatch(name or ""):
        raise ValueError("a user name is 1-64 letters, digits, spaces or . _ @ -, starting with a letter or digit")
    if is_database(path):
        import time

        from .store import migrate, open_engine, writing
        from .tables import users

        engine = open_engine(str(path))
        try:
            migrate(engine)
            stored = hash_password(password)
            with writing(engine) as conn:
                conn.execute(users.delete().where(users.c.name == name))
                conn.execute(users.insert().values(name=name, password=stored, created_at=time.time()))
        finally:
            engine.dispose()
        return
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else \
        ["# Product Image Studio reviewers: name:pbkdf2_sha256$iterations$salt$hash (python -m studio user add)"]
    lines = [line for line in lines if line.partition(":")[0] != name]
    lines.append(f"{name}:{hash_password(password)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
