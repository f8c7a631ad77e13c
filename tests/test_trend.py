"""A trend through d90 intervals is printed only when the intervals support it."""

import math

import pytest
from intdim.trend import describe, fit_trend, intervals_overlap


def test_overlapping_intervals_leave_the_trend_unresolved():
    # Figure 3 of an earlier default run: three d90s in one search bracket.
    trend = fit_trend([9.4e4, 2.4e5, 2.27e7], lo=[1017, 949, 949], hi=[1682, 1687, 1687])
    assert intervals_overlap([1017, 949, 949], [1682, 1687, 1687])
    assert not trend["resolved"] and "overlaps" in trend["reason"]
    assert describe(trend).startswith("trend not resolved")


def test_separated_intervals_on_a_clean_power_law_resolve_the_slope():
    x = [1e5, 1e6, 1e7, 1e8]
    hi = [1e4 * (v / 1e5) ** -0.5 for v in x]  # d90 falls as x^-0.5
    lo = [h / 1.2 for h in hi]
    trend = fit_trend(x, lo, hi)
    assert trend["resolved"]
    assert trend["slope"] == pytest.approx(-0.5, abs=1e-9)
    assert trend["slope_low"] <= -0.5 <= trend["slope_high"] < 0
    assert "slope -0.50" in describe(trend)


def test_a_slope_whose_interval_includes_zero_is_not_resolved():
    trend = fit_trend([1e5, 1e6, 1e7, 1e8], lo=[90, 900, 90, 900], hi=[100, 1000, 100, 1000])
    assert not trend["resolved"] and "includes 0" in trend["reason"]
    assert trend["slope_low"] < 0 < trend["slope_high"]


def test_two_points_are_no_trend():
    trend = fit_trend([1e5, 1e6], lo=[10, 100], hi=[20, 200])
    assert not trend["resolved"] and math.isnan(trend["slope"])
