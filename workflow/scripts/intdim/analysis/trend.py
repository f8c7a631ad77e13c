"""A log-log trend through d90 intervals, and whether the intervals support it at all.

A search or a sweep pins d90 only to an interval (lo, hi]: the largest d that failed and the
smallest that succeeded. A slope fitted through the points says something only when it is
clear of zero at 95% confidence *and* the intervals do not all overlap; otherwise the figure
says that the trend is not resolved instead of printing a slope.

Along pre-training the paper's own d90 falls and then levels off (its Figure 2), which a straight
line fits badly however clear the fall. There the claim is judged by its ends instead
(``ends_ordered``): d90 at the last checkpoint against d90 at the first, apart or not.
"""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.95


def counted(n: int, noun: str) -> str:
    """'1 point', '2 points'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def intervals_overlap(lo: list[float], hi: list[float]) -> bool:
    """Whether some single d lies in every interval (lo_i, hi_i]."""
    return max(lo) < min(hi)


# Fewer searched checkpoints than this make a comparison of two models, not a trajectory.
MIN_CHECKPOINTS = 3


def ends_ordered(x: list[float], lo: list[float], hi: list[float],
                 min_points: int = MIN_CHECKPOINTS) -> dict:  # fmt: skip
    """Whether the interval at the largest x lies wholly below the one at the smallest x.

    ``direction`` is "falls" or "rises" when the two intervals (lo, hi] are apart (touching
    counts as apart, as for SAID against DID: lo is a d that failed, hi one that succeeded),
    None with the reason when they overlap or there are fewer than ``min_points`` points.
    """
    if not len(x) == len(lo) == len(hi):
        raise ValueError(f"x, lo and hi differ in length: {len(x)}, {len(lo)}, {len(hi)}")
    result = {"n": len(x), "direction": None, "first": None, "last": None}
    if len(x) < min_points:
        # A search that reached nothing up to d_max counts too: its d90 lies above d_max.
        checkpoints = counted(len(x), "checkpoint")
        reason = f"{checkpoints} with a d90 or d90 > d_max: a trend needs at least {min_points}"
        return {**result, "reason": reason}
    order = sorted(range(len(x)), key=lambda i: x[i])
    first, last = ((x[i], lo[i], hi[i]) for i in (order[0], order[-1]))
    result.update(first=first, last=last)
    if last[2] <= first[1]:
        return {**result, "direction": "falls", "reason": "the last interval lies below the first"}
    if first[2] <= last[1]:
        return {**result, "direction": "rises", "reason": "the last interval lies above the first"}
    return {**result, "reason": "the first and last intervals overlap"}


def fit_trend(x: list[float], lo: list[float], hi: list[float]) -> dict:
    """Least squares of log10 d90 on log10 x, d90 taken at each interval's geometric middle.

    Returns slope, intercept, Pearson r, the slope's 95% confidence interval (Student t, n - 2
    degrees of freedom), and ``resolved`` with the reason when it is not.
    """
    from scipy import stats

    n = len(x)
    result = {"n": n, "slope": math.nan, "intercept": math.nan, "r": math.nan,
              "slope_low": math.nan, "slope_high": math.nan}  # fmt: skip
    if n < 3:
        return {
            **result,
            "resolved": False,
            "reason": f"{counted(n, 'point')}: a slope needs at least 3",
        }
    middle = [math.sqrt(max(a, 1.0) * b) for a, b in zip(lo, hi, strict=True)]
    fit = stats.linregress(np.log10(x), np.log10(middle))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 2) * fit.stderr
    result.update(
        slope=float(fit.slope), intercept=float(fit.intercept), r=float(fit.rvalue),
        slope_low=float(fit.slope - half), slope_high=float(fit.slope + half),
    )  # fmt: skip
    if intervals_overlap(lo, hi):
        reason = "every d90 interval overlaps the others: one d fits them all"
        return {**result, "resolved": False, "reason": reason}
    if result["slope_low"] <= 0 <= result["slope_high"]:
        ci = f"[{result['slope_low']:.2f}, {result['slope_high']:.2f}]"
        return {**result, "resolved": False,
                "reason": f"the slope's {CONFIDENCE:.0%} interval {ci} includes 0"}  # fmt: skip
    return {**result, "resolved": True, "reason": "clear of zero"}


def describe_slope(trend: dict) -> str:
    """The fitted slope as a description only, whatever decided the verdict."""
    if math.isnan(trend["slope"]):
        return "no slope (fewer than 3 points)"
    return (f"log-log slope {trend['slope']:.2f}, {CONFIDENCE:.0%} interval "
            f"[{trend['slope_low']:.2f}, {trend['slope_high']:.2f}]")  # fmt: skip


def describe(trend: dict) -> str:
    """One line for a figure title or the report."""
    if not trend["resolved"]:
        return f"trend not resolved ({trend['reason']})"
    return (f"slope {trend['slope']:.2f} [{trend['slope_low']:.2f}, {trend['slope_high']:.2f}] "
            f"at {CONFIDENCE:.0%}, r = {trend['r']:.2f}, {trend['n']} points")  # fmt: skip
