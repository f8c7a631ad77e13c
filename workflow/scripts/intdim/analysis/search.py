"""Search for d90 in rounds of k parallel probes, narrowing a bracket in log space.

The paper bisects d between 100 and 4,000,000 (k = 1 here). With k > 1 each round places k
probes evenly in log d strictly inside the bracket, so all of them can run side by side; the
bracket shrinks by a factor of about k + 1 in log space per round instead of 2.

The state is a plain dict (JSON in the workflow, one file per round):

* ``lo``: the largest d known to fail, or d_min before any probe failed (``lo_verified``);
* ``hi``: the smallest d known to reach the threshold, or d_max before any probe did
  (d_max is capped at the model's parameter count D);
* ``next``: the probes of the coming round; ``probes``: every probe so far, with its outcome.

The search assumes, as the paper does, that reaching the threshold is monotone in d. A failure
above a success contradicts that; it is kept in ``probes`` and counted in ``non_monotone``.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def start(
    d_min: int,
    d_max: int,
    probes_per_round: int,
    precision: float,
    max_rounds: int = 50,
    D: int | None = None,
):
    """The state before round 0, searching [d_min, min(d_max, D)].

    A model with D parameters caps the range at D: for d >= D the subspace is (almost surely)
    all of R^D, so a wider one can reach nothing that d = D cannot. A model no larger than d_min
    leaves nothing to search; the search is then skipped, with that reason.
    """
    if not 1 <= d_min < d_max:
        raise ValueError(f"search needs 1 <= d_min < d_max, got d_min={d_min}, d_max={d_max}")
    if probes_per_round < 1:
        raise ValueError(f"probes_per_round must be >= 1, got {probes_per_round}")
    if precision < 0:
        raise ValueError(f"precision must be >= 0, got {precision}")
    if D is not None and D < 1:
        raise ValueError(f"the model's parameter count D must be >= 1, got D={D}")
    capped = d_max if D is None else min(d_max, D)
    state = {
        "d_min": d_min, "d_max": capped, "d_max_requested": d_max, "D": D,
        "probes_per_round": probes_per_round, "precision": precision, "max_rounds": max_rounds,
        "round": 0, "lo": d_min, "lo_verified": False, "hi": capped, "hi_verified": False,
        "probes": [], "non_monotone": 0, "done": False, "status": "searching",
        "reason": None, "d90": None,
    }  # fmt: skip
    if capped <= d_min:
        return stop_early(state, f"the model has D={D} parameters, not more than d_min={d_min}")
    return _plan(state)


def stop_early(state: dict, reason: str) -> dict:
    """End the search without probing, e.g. when full fine-tuning cannot beat the majority."""
    return {**state, "next": [], "done": True, "status": "skipped", "reason": reason}


def place_probes(lo: int, hi: int, k: int) -> list[int]:
    """k integers evenly spaced in log d strictly between lo and hi (fewer if none fit)."""
    ratio = math.log(hi) - math.log(lo)
    points = {round(math.exp(math.log(lo) + ratio * i / (k + 1))) for i in range(1, k + 1)}
    return sorted(p for p in points if lo < p < hi)


def _converged(state: dict) -> bool:
    lo, hi = state["lo"], state["hi"]
    return hi <= lo * (1 + state["precision"]) or not place_probes(lo, hi, 1)


def _plan(state: dict) -> dict:
    """Choose the next round's probes, or finish."""
    state = dict(state)
    lo, hi = state["lo"], state["hi"]
    if _converged(state):
        probed = {p["d"] for p in state["probes"]}
        if not state["hi_verified"] and hi not in probed:
            # Every probe failed: d_max itself decides between 'd90 = d_max' and 'not reached'.
            state["next"] = [hi]
            return state
        if not state["lo_verified"] and lo not in probed:
            # Every probe reached: d_min itself decides whether d90 is below the range.
            state["next"] = [lo]
            return state
        return _finish(state)
    if state["round"] >= state["max_rounds"]:
        return _finish(state, f"stopped after max_rounds={state['max_rounds']}")
    state["next"] = place_probes(lo, hi, state["probes_per_round"])
    return state


def _finish(state: dict, reason: str | None = None) -> dict:
    state["next"], state["done"] = [], True
    if state["hi_verified"]:
        state["d90"] = state["hi"]
        state["status"] = "reached" if state["lo_verified"] else "at d_min"
        state["reason"] = reason or (
            f"d90 in ({state['lo']}, {state['hi']}]" if state["lo_verified"]
            else f"d_min={state['d_min']} already reaches the threshold"
        )  # fmt: skip
    else:
        state["status"] = "not reached"
        top = f"d_max={state['d_max']}"
        if state["d_max"] != state["d_max_requested"]:
            top += " (the model's D)"
        state["reason"] = reason or f"no probe up to {top} reached the threshold"
    return state


def advance(state: dict, outcomes: dict[int, dict]) -> dict:
    """Fold the outcomes of the current round's probes into the bracket, then plan the next.

    ``outcomes`` maps each probed d to a dict with at least ``success`` (bool) and ``reason``.
    """
    missing = sorted(set(state["next"]) - set(outcomes))
    if missing:
        raise ValueError(f"round {state['round']}: no outcome for probes d={missing}")
    state = dict(state, probes=list(state["probes"]))
    for d in state["next"]:
        state["probes"].append({"round": state["round"], "d": d, **outcomes[d]})
    lo, hi = state["lo"], state["hi"]
    successes = [d for d in state["next"] if outcomes[d]["success"]]
    if successes and min(successes) <= hi:
        hi, state["hi_verified"] = min(successes), True
    failures = [d for d in state["next"] if not outcomes[d]["success"]]
    state["non_monotone"] += sum(d >= hi for d in failures if state["hi_verified"])
    below = [d for d in failures if d < hi]
    if below and max(below) >= lo:
        lo, state["lo_verified"] = max(below), True
    if not state["hi_verified"] and hi in failures:  # d_max itself failed: nothing reaches
        state.update(lo=lo, hi=hi, round=state["round"] + 1)
        return _finish(state)
    state.update(lo=lo, hi=hi, round=state["round"] + 1)
    return _plan(state)


def run(state: dict, outcome: Callable[[int], dict]) -> dict:
    """Drive a search to the end with a function d -> outcome (tests, synthetic cases)."""
    while not state["done"]:
        state = advance(state, {d: outcome(d) for d in state["next"]})
    return state


def training_runs(state: dict) -> int:
    return len(state["probes"])
