"""How a d90 reads in a table or a sentence: the interval (lo, hi] its sweep or search pinned
it to, lo 0 where no d failed below it; "not reached" where nothing reached the threshold; and
"> d_max" for a search that failed every probe, the one at d_max too; and, after a d90, how many
runs above it failed, where reaching the threshold was not monotone in d, and whether the probe
that set it beat the majority class only within chance."""

from __future__ import annotations

import math

import pandas as pd

from .d90 import MAJORITY_ALPHA


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


def failed_above_note(n, noun: str) -> str:
    """' (1 probe above it failed)' after a d90 whose search (noun 'probe') or grid (noun 'grid
    point') saw a failure at a larger d; '' where none did, or the table predates the count."""
    if pd.isna(n) or not int(n):
        return ""
    n = int(n)
    return f" ({n} {noun}{'' if n == 1 else 's'} above it failed)"


def within_chance_note(p_value) -> str:
    """' (its probe within chance of the majority class, p = 0.07)' after a d90 whose deciding
    probe's p-value against the majority class is ``MAJORITY_ALPHA`` or more; '' otherwise, or
    where there is none (no d90, another metric, a table from before the column)."""
    if p_value is None or pd.isna(p_value) or p_value < MAJORITY_ALPHA:
        return ""
    return f" (its probe within chance of the majority class, p = {p_value:.2g})"


def probe_note(failed_above, p_value) -> str:
    """Everything that follows a search's d90: the probes above it that failed and whether the
    probe that set it beat the majority class only within chance."""
    return failed_above_note(failed_above, "probe") + within_chance_note(p_value)
