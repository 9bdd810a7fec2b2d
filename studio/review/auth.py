"""Reviewer accounts for a shared board: a small file of users with salted, hashed passwords.

    python -m studio user add users.txt ana          # asks for the password (or reads one line from stdin)
    python app.py --auth-file users.txt              # sign-in required; the signed-in user is the reviewer

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


class Accounts:
    """The users of an auth file; `check(name, password)` is what the app's sign-in calls."""

    def __init__(self, users: dict[str, str]):
        if not users:
            raise ValueError("the auth file has no accounts")
        self.users = dict(users)

    @classmethod
    def load(cls, path: str | Path) -> "Accounts":
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

    def check(self, name: str, password: str) -> bool:
        stored = self.users.get(name)
        if stored is None:
            verify_password(password, hash_password("timing-equaliser", 1000))    # same work for unknown names
            return False
        return verify_password(password, stored)


def add_user(path: str | Path, name: str, password: str) -> None:
    """Add or replace one account in an auth file (created if missing)."""
    if not NAME.fullmatch(name or ""):
        raise ValueError("a user name is 1-64 letters, digits, spaces or . _ @ -, starting with a letter or digit")
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else \
        ["# Product Image Studio reviewers: name:pbkdf2_sha256$iterations$salt$hash (python -m studio user add)"]
    lines = [line for line in lines if line.partition(":")[0] != name]
    lines.append(f"{name}:{hash_password(password)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
