"""A trend through d90 intervals is printed only when the intervals support it."""

import math

import pytest
from intdim.analysis.trend import (
    describe,
    describe_slope,
    ends_ordered,
    fit_trend,
    intervals_overlap,
)


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


def test_every_reported_statistic_equals_a_hand_computed_fit():
    # d90 taken at each interval's geometric middle; a lower end of 0 counts as 1 there.
    x, lo, hi = (
        [10.0, 100.0, 1000.0, 10000.0],
        [0.0, 10.0, 100.0, 1000.0],
        [4.0, 40.0, 225.0, 4000.0],
    )
    u = [1.0, 2.0, 3.0, 4.0]  # log10 x
    v = [math.log10(m) for m in (2.0, 20.0, 150.0, 2000.0)]  # sqrt(max(lo, 1) * hi)
    ub, vb = sum(u) / 4, sum(v) / 4
    suu = sum((a - ub) ** 2 for a in u)
    svv = sum((b - vb) ** 2 for b in v)
    suv = sum((a - ub) * (b - vb) for a, b in zip(u, v, strict=True))
    slope, r = suv / suu, suv / math.sqrt(suu * svv)
    stderr = math.sqrt((1 - r**2) * svv / suu / 2)
    half = 4.302652729911275 * stderr  # Student t, 97.5% quantile, 2 degrees of freedom
    trend = fit_trend(x, lo, hi)
    assert trend["n"] == 4
    assert trend["slope"] == pytest.approx(slope, rel=1e-12)
    assert trend["intercept"] == pytest.approx(vb - slope * ub, rel=1e-12)
    assert trend["r"] == pytest.approx(r, rel=1e-12)
    assert trend["slope_low"] == pytest.approx(slope - half, abs=1e-9)
    assert trend["slope_high"] == pytest.approx(slope + half, abs=1e-9)
    assert trend["resolved"] and trend["reason"] == "clear of zero"
    assert describe(trend) == (
        f"slope {slope:.2f} [{slope - half:.2f}, {slope + half:.2f}] at 95%, r = {r:.2f}, 4 points"
    )


def test_intervals_that_only_touch_do_not_overlap():
    # (lo, hi] is open below: d = 100 is in (50, 100] but not in (100, 200].
    assert not intervals_overlap([50, 100], [100, 200])
    assert intervals_overlap([50, 99], [100, 200])


def test_the_reasons_name_the_interval_and_the_count():
    trend = fit_trend([1e5, 1e6, 1e7, 1e8], lo=[90, 900, 90, 900], hi=[100, 1000, 100, 1000])
    ci = f"[{trend['slope_low']:.2f}, {trend['slope_high']:.2f}]"
    assert trend["reason"] == f"the slope's 95% interval {ci} includes 0"
    assert describe(trend) == f"trend not resolved (the slope's 95% interval {ci} includes 0)"
    two = fit_trend([1e5, 1e6], lo=[10, 100], hi=[20, 200])
    assert two["reason"] == "2 points: a slope needs at least 3" and two["n"] == 2
    assert fit_trend([1e5], lo=[10], hi=[20])["reason"] == "1 point: a slope needs at least 3"
    assert all(math.isnan(two[k]) for k in ("intercept", "r", "slope_low", "slope_high"))
    overlap = fit_trend([1e5, 1e6, 1e7], lo=[10, 10, 10], hi=[20, 20, 20])
    assert overlap["reason"] == "every d90 interval overlaps the others: one d fits them all"


def test_points_and_intervals_of_different_lengths_are_an_error():
    with pytest.raises(ValueError):
        fit_trend([1e5, 1e6, 1e7], [10, 20], [30, 40, 50])


def test_the_ends_are_apart_when_they_touch_and_not_when_they_overlap_by_one():
    # (lo, hi]: lo failed and hi succeeded, so (100, 200] and (50, 100] share no d.
    touching = ends_ordered([1, 2, 3], lo=[100, 10, 50], hi=[200, 20, 100])
    assert touching["direction"] == "falls"
    assert touching["reason"] == "the last interval lies below the first"
    one_over = ends_ordered([1, 2, 3], lo=[100, 10, 50], hi=[200, 20, 101])
    assert one_over["direction"] is None
    assert one_over["reason"] == "the first and last intervals overlap"
    rising = ends_ordered([1, 2, 3], lo=[50, 10, 100], hi=[100, 20, 200])
    assert rising["direction"] == "rises"
    assert rising["reason"] == "the last interval lies above the first"
    assert ends_ordered([1, 2, 3], lo=[50, 10, 101], hi=[102, 20, 200])["direction"] is None


def test_only_the_ends_decide_in_the_order_of_x_and_three_points_are_needed():
    # A fall then a plateau with a bump: the slope's interval crosses 0, the ends are apart.
    x, lo, hi = [125, 250, 500, 1000, 2000], [1732, 83, 50, 83, 83], [2876, 137, 83, 137, 137]
    assert ends_ordered(x, lo, hi)["direction"] == "falls"
    assert fit_trend(x, lo, hi)["slope_low"] < 0 < fit_trend(x, lo, hi)["slope_high"]
    shuffled = ends_ordered(x[::-1], lo[::-1], hi[::-1])
    assert (shuffled["first"], shuffled["last"]) == ((125, 1732, 2876), (2000, 83, 137))
    two = ends_ordered([1, 2], lo=[1000, 10], hi=[2000, 20])
    assert two == {"n": 2, "direction": None, "first": None, "last": None,
                   "reason": "2 checkpoints with a d90 or d90 > d_max: a trend needs at least 3"}  # fmt: skip
    one = ends_ordered([1], lo=[10], hi=[20])["reason"]
    assert one == "1 checkpoint with a d90 or d90 > d_max: a trend needs at least 3"
    assert ends_ordered([1, 2], lo=[1000, 10], hi=[2000, 20], min_points=2)["direction"] == "falls"
    with pytest.raises(ValueError, match="differ in length: 3, 2, 3"):
        ends_ordered([1, 2, 3], [10, 20], [30, 40, 50])


def test_the_slope_is_described_without_a_verdict():
    x, lo, hi = [1e2, 1e3, 1e4], [400, 40, 4], [1600, 160, 16]  # d90 middles 800, 80, 8
    assert (
        describe_slope(fit_trend(x, lo, hi)) == "log-log slope -1.00, 95% interval [-1.00, -1.00]"
    )
    assert describe_slope(fit_trend([1, 2], [1, 2], [3, 4])) == "no slope (fewer than 3 points)"
