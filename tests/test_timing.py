"""The benchmarks' timing helpers: quartiles of the timed steps and the spread of a ratio."""

import pytest
from intdim.measure.timing import quartiles, ratio_range, time_samples


def test_quartiles_are_the_inclusive_ones_and_one_sample_is_its_own():
    assert quartiles([5.0, 1.0, 4.0, 2.0, 3.0]) == (2.0, 3.0, 4.0)
    assert quartiles([1.0, 2.0, 3.0, 4.0]) == (1.75, 2.5, 3.25)
    assert quartiles([7.0]) == (7.0, 7.0, 7.0)


def test_a_ratios_range_takes_opposite_quartiles():
    # sub quartiles (2, 3, 4); full [1, 1, 2, 3, 3] has quartiles (1, 2, 3)
    low, mid, high = ratio_range([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 2.0, 3.0, 3.0])
    assert (low, mid, high) == pytest.approx((2 / 3, 3 / 2, 4 / 1))
    assert ratio_range([2.0] * 5, [1.0] * 5) == (2.0, 2.0, 2.0)


def test_time_samples_times_each_call_after_the_warmup():
    calls = []
    samples = time_samples(lambda: calls.append(1), "cpu", warmup=2, steps=10)
    assert len(samples) == 10 and len(calls) == 12 and all(t >= 0 for t in samples)
