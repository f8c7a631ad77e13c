"""A log-log trend through d90 intervals, and whether the intervals support it at all.

A search or a sweep pins d90 only to an interval (lo, hi]: the largest d that failed and the
smallest that succeeded. A slope fitted through the points says something only when it is
clear of zero at 95% confidence *and* the intervals do not all overlap; otherwise the figure
says that the trend is not resolved instead of printing a slope.
"""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.95


def intervals_overlap(lo: list[float], hi: list[float]) -> bool:
    """Whether some single d lies in every interval (lo_i, hi_i]."""
    return max(lo) < min(hi)


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
        return {**result, "resolved": False, "reason": f"{n} points: a slope needs at least 3"}
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


def describe(trend: dict) -> str:
    """One line for a figure title or the report."""
    if not trend["resolved"]:
        return f"trend not resolved ({trend['reason']})"
    return (f"slope {trend['slope']:.2f} [{trend['slope_low']:.2f}, {trend['slope_high']:.2f}] "
            f"at {CONFIDENCE:.0%}, r = {trend['r']:.2f}, {trend['n']} points")  # fmt: skip
