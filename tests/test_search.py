"""The d90 search: same answer as an exhaustive sweep on cases with a known d90, fewer runs."""

import math

import pytest
from intdim.analysis import search


def threshold_oracle(d_true):
    """A synthetic task whose d90 is d_true: a run reaches the threshold iff d >= d_true."""
    return lambda d: {"success": d >= d_true, "reason": "synthetic"}


def exhaustive_sweep(d_min, d_max, outcome):
    """Every integer d in the range: the smallest that reaches is d90 (None if none)."""
    runs = list(range(d_min, d_max + 1))
    reached = [d for d in runs if outcome(d)["success"]]
    return (min(reached) if reached else None), len(runs)


@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("d_true", [10, 11, 97, 1000, 1999, 2000])
def test_search_finds_the_sweep_d90_with_fewer_runs(k, d_true):
    oracle = threshold_oracle(d_true)
    sweep_d90, sweep_runs = exhaustive_sweep(10, 2000, oracle)
    state = search.run(search.start(10, 2000, k, precision=0.0), oracle)
    print(f"d_true={d_true} k={k}: search {search.training_runs(state)} runs in "
          f"{state['round']} rounds, exhaustive sweep {sweep_runs} runs")  # fmt: skip
    assert state["d90"] == sweep_d90 == d_true
    assert search.training_runs(state) < sweep_runs / 10


def test_search_reports_not_reached_and_tests_d_max():
    state = search.run(search.start(10, 2000, 3, 0.0), threshold_oracle(5000))
    assert state["d90"] is None and state["status"] == "not reached"
    assert 2000 in {p["d"] for p in state["probes"]}
    assert state["lo"] == 1999  # d_max failed, so the last bracket is (1999, 2000]


def test_bracket_narrows_to_the_requested_precision():
    d_true = 123_457
    state = search.run(search.start(100, 4_000_000, 4, precision=0.05), threshold_oracle(d_true))
    assert state["lo"] < d_true <= state["hi"] == state["d90"]
    assert state["hi"] <= state["lo"] * 1.05
    assert state["status"] == "reached"


def test_more_probes_per_round_means_fewer_rounds():
    oracle = threshold_oracle(31_623)
    rounds = {k: search.run(search.start(100, 4_000_000, k, 0.1), oracle)["round"] for k in (1, 4)}
    # log-space bisection needs about log2(log(40000)/log(1.1)) rounds; k = 4 about log5 of it
    assert rounds[1] >= math.floor(math.log2(math.log(40_000) / math.log(1.1)))
    assert rounds[4] < rounds[1] / 1.8


def test_probes_are_inside_the_bracket_and_log_spaced():
    probes = search.place_probes(100, 10_000, 3)
    assert probes == [316, 1000, 3162]
    assert search.place_probes(10, 11, 3) == []


def test_failures_are_recorded_with_their_reason():
    def outcome(d):
        if d < 500:
            return {"success": False, "reason": f"does not beat the majority class at d={d}"}
        return {"success": True, "reason": None}

    state = search.run(search.start(10, 2000, 2, 0.0), outcome)
    failed = [p for p in state["probes"] if not p["success"]]
    assert failed and all(p["reason"] == f"does not beat the majority class at d={p['d']}"
                          for p in failed)  # fmt: skip
    assert state["d90"] == 500


def test_a_non_monotone_outcome_is_counted():
    # succeeds only in a window: the search trusts its first success and notes the contradiction
    state = search.run(search.start(10, 2000, 3, 0.0),
                       lambda d: {"success": 100 <= d <= 300, "reason": None})  # fmt: skip
    assert state["d90"] == 100
    assert state["non_monotone"] >= 1


def test_missing_outcome_and_bad_ranges_are_errors():
    state = search.start(10, 2000, 2, 0.1)
    with pytest.raises(ValueError, match=r"no outcome for probes d=\["):
        search.advance(state, {})
    with pytest.raises(ValueError, match="d_min=50, d_max=20"):
        search.start(50, 20, 1, 0.1)
    with pytest.raises(ValueError, match="probes_per_round must be >= 1, got 0"):
        search.start(10, 20, 0, 0.1)


def test_stop_early_records_why():
    state = search.stop_early(search.start(10, 100, 1, 0.1), "baseline does not beat majority")
    assert state["done"] and state["next"] == [] and state["status"] == "skipped"
    assert state["reason"] == "baseline does not beat majority"


def test_d_max_is_capped_at_the_models_parameter_count():
    D = 1500
    state = search.start(10, 2000, 3, 0.0, D=D)
    assert state["hi"] == state["d_max"] == D and state["d_max_requested"] == 2000
    assert max(state["next"]) < D
    # Nothing reaches: the last probe is D itself, never a d above it.
    state = search.run(state, threshold_oracle(5000))
    probed = [p["d"] for p in state["probes"]]
    assert max(probed) == D and state["status"] == "not reached"
    assert "d_max=1500 (the model's D)" in state["reason"]
    # A d90 below D is found as without the cap.
    assert search.run(search.start(10, 2000, 3, 0.0, D=D), threshold_oracle(97))["d90"] == 97
    # A model larger than d_max changes nothing.
    uncapped = search.start(10, 2000, 3, 0.0)
    assert search.start(10, 2000, 3, 0.0, D=10**6)["next"] == uncapped["next"]


def test_a_model_no_larger_than_d_min_is_skipped():
    state = search.start(10, 2000, 3, 0.0, D=10)
    assert state["done"] and state["next"] == [] and state["status"] == "skipped"
    assert state["reason"] == "the model has D=10 parameters, not more than d_min=10"
    with pytest.raises(ValueError, match="D=0"):
        search.start(10, 2000, 3, 0.0, D=0)


def test_each_ending_states_its_reason():
    reached = search.run(search.start(10, 2000, 3, 0.0), threshold_oracle(97))
    assert reached["status"] == "reached" and reached["reason"] == "d90 in (96, 97]"
    at_min = search.run(search.start(10, 2000, 3, 0.0), threshold_oracle(1))
    assert at_min["status"] == "at d_min" and at_min["d90"] == 10
    assert at_min["reason"] == "d_min=10 already reaches the threshold"
    none = search.run(search.start(10, 2000, 3, 0.0), threshold_oracle(5000))
    assert none["reason"] == "no probe up to d_max=2000 reached the threshold"


def test_a_search_stops_after_max_rounds_and_says_so():
    assert search.start(10, 2000, 1, 0.0)["max_rounds"] == 50
    state = search.run(search.start(10, 2000, 1, 0.0, max_rounds=2), threshold_oracle(97))
    assert state["round"] == 2 and state["done"] and len(state["probes"]) == 2
    assert state["reason"] == "stopped after max_rounds=2"
    # Two bisection probes in log space: sqrt(10 * 2000) = 141 reaches, sqrt(10 * 141) = 38 fails.
    assert [p["d"] for p in state["probes"]] == [141, 38]
    assert state["status"] == "reached" and (state["lo"], state["d90"]) == (38, 141)


def test_the_bracket_counts_as_narrow_at_exactly_the_precision():
    # hi = lo * (1 + precision) exactly (125 = 100 * 1.25): narrow enough, so d_max is probed.
    assert search.start(100, 125, 1, precision=0.25)["next"] == [125]
    assert search.start(100, 126, 1, precision=0.25)["next"] == [112]
    with pytest.raises(ValueError, match="precision must be >= 0, got -0.1"):
        search.start(10, 20, 1, -0.1)


def test_probes_that_round_to_the_same_d_are_placed_once():
    # 10 * 1.3 ** (i / 6), i = 1..5: 10.4, 10.9, 11.4, 11.9, 12.5 round to 10, 11, 11, 12, 12.
    assert search.place_probes(10, 13, 5) == [11, 12]


def test_the_state_before_and_after_one_round_is_exactly_this():
    state = search.start(10, 2000, 1, 0.5)
    assert state == {
        "d_min": 10, "d_max": 2000, "d_max_requested": 2000, "D": None,
        "probes_per_round": 1, "precision": 0.5, "max_rounds": 50, "round": 0,
        "lo": 10, "lo_verified": False, "hi": 2000, "hi_verified": False, "probes": [],
        "non_monotone": 0, "done": False, "status": "searching", "reason": None, "d90": None,
        "next": [141],
    }  # fmt: skip
    after = search.advance(state, {141: {"success": False, "reason": "below"}})
    assert after == {
        **state, "round": 1, "lo": 141, "lo_verified": True, "next": [531],
        "probes": [{"round": 0, "d": 141, "success": False, "reason": "below"}],
    }  # fmt: skip
    assert state["probes"] == [] and state["next"] == [141]  # the old state is unchanged


def test_a_search_that_reaches_nothing_ends_exactly_so():
    # d_max = d_min + 1: nothing fits between, so d_max is the only probe; when it fails
    # d_min is not tried (a d below a failure cannot reach)
    state = search.run(search.start(10, 11, 1, 0.0), threshold_oracle(100))
    assert [p["d"] for p in state["probes"]] == [11]
    assert state == {
        "d_min": 10, "d_max": 11, "d_max_requested": 11, "D": None, "probes_per_round": 1,
        "precision": 0.0, "max_rounds": 50, "round": 1, "lo": 10, "lo_verified": False,
        "hi": 11, "hi_verified": False, "non_monotone": 0, "done": True,
        "status": "not reached", "reason": "no probe up to d_max=11 reached the threshold",
        "d90": None, "next": [],
        "probes": [{"round": 0, "d": 11, "success": False, "reason": "synthetic"}],
    }  # fmt: skip


def test_a_failure_at_d_min_verifies_the_lower_end():
    # every probe reaches down to d_min + 1; d_min itself fails, so d90 is in (10, 11]
    state = search.run(search.start(10, 2000, 3, 0.0), threshold_oracle(11))
    assert state["status"] == "reached" and state["reason"] == "d90 in (10, 11]"
    assert state["lo_verified"] and 10 in [p["d"] for p in state["probes"]]


def test_the_smallest_and_the_one_parameter_cases():
    assert search.start(1, 10, 1, 0.0)["next"] == [3]  # d_min = 1 is a valid start
    one = search.start(1, 5, 1, 0.0, D=1)  # a one-parameter model: nothing to search
    assert one["status"] == "skipped" and one["d_max"] == 1
    with pytest.raises(ValueError, match="d_min=10, d_max=10"):
        search.start(10, 10, 1, 0.0)
    with pytest.raises(ValueError, match="d_min=0, d_max=10"):
        search.start(0, 10, 1, 0.0)
