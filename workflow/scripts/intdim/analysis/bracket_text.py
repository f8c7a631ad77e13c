"""How a d90 reads in a table or a sentence: the interval (lo, hi] its sweep or search pinned
it to, lo 0 where no d failed below it; "not reached" where nothing reached the threshold; and
"> d_max" for a search that failed every probe, the one at d_max too."""

from __future__ import annotations

import math

import pandas as pd


def bracket(lo, hi) -> str:
    """'(lo, hi]', 'not reached' where there is no hi, or '> lo' where hi is infinite (a search
    that reached nothing: its d_max as lo)."""
    if pd.isna(hi):
        return "not reached"
    if math.isinf(hi):
        return above(lo)
    return f"({0 if pd.isna(lo) else int(lo):,}, {int(hi):,}]"


def above(d_max) -> str:
    """A search that reached nothing: its last probe, at d_max, failed, so d90 lies above it."""
    return f"> {int(d_max):,}"
