"""Checks of the integer arguments every part shares (d, D, seeds), with one wording each."""

from __future__ import annotations

# Seeds are folded into the counter-based stream as 64-bit words.
SEED_LIMIT = 2**64


def is_integer(value) -> bool:
    """A Python or numpy integer, but not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_seed(seed) -> int:
    """A seed in [0, 2**64), or ValueError naming it."""
    if not is_integer(seed) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return seed


def check_dimension(value, name: str = "d", what: str = "subspace dimension") -> int:
    """An integer >= 1 (d, D, a size), or ValueError naming it as ``name=value``."""
    if not is_integer(value) or value < 1:
        raise ValueError(f"{what} {name} must be an integer >= 1, got {name}={value!r}")
    return value
