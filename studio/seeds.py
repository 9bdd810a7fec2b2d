"""Seeds: every generating call takes one (None draws a fresh one) and returns the one it used. No torch here,
so the app and the CLI can check a seed without loading a model."""

from __future__ import annotations

import secrets

MAX_SEED = 2**63 - 1               # torch.Generator.manual_seed takes a signed 64-bit integer


def new_seed() -> int:
    return secrets.randbits(31)


def check_seed(seed) -> int:
    """The seed to use: a fresh one for None, else a whole number in 0..MAX_SEED (ValueError otherwise)."""
    if seed is None:
        return new_seed()
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED:,}, got {str(seed)[:40]!r}")
    return seed
