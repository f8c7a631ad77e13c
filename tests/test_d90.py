import json
import math

import pandas as pd
import pytest
from intdim.analysis.d90 import (
    MAJORITY_ALPHA,
    RUN_COLUMNS,
    collect_runs,
    d90_table,
    first_reaching,
    interpolate_crossing,
    majority_needed,
    majority_p_value,
    majority_reason,
    probe_outcome,
    select_baseline,
    table1,
)
from scipy import stats


def _runs(scores_by_lr, method="did", full=0.8):
    rows = []
    for lr, scores in scores_by_lr.items():
        for d, s in scores.items():
            rows.append({"model": "m", "task": "t", "method": method, "d": d, "D": 1000, "lr": lr,
                         "seed": 0, "status": "ok" if s == s else "diverged", "eval_accuracy": s,
                         "full_score": full, "threshold_score": 0.9 * full})  # fmt: skip
    return pd.DataFrame(rows)


def test_d90_is_the_smallest_d_whose_best_lr_reaches_the_threshold():
    # threshold 0.72: lr 0.1 reaches it first at d=100, lr 0.01 only at d=1000
    runs = _runs({0.1: {10: 0.60, 100: 0.73, 1000: 0.70}, 0.01: {10: 0.5, 100: 0.6, 1000: 0.79}})
    row = d90_table(runs, "accuracy").iloc[0]
    assert row["d90"] == 100 and row["status"] == "reached"
    assert row["best_score_at_d90"] == 0.73
    # log-linear crossing between (10, 0.60) and (100, 0.73) at 0.72
    expected = math.exp(math.log(10) + (0.72 - 0.60) / (0.73 - 0.60) * math.log(10))
    assert row["d90_interpolated"] == pytest.approx(expected)


def test_not_reached_and_failed_runs():
    runs = _runs({0.1: {10: float("nan"), 100: 0.5}})
    row = d90_table(runs, "accuracy").iloc[0]
    assert pd.isna(row["d90"]) and row["status"] == "not reached"
    assert math.isnan(interpolate_crossing(pd.Series({10: 0.1}), 0.5))


def test_table1_keeps_a_method_that_never_reaches_the_threshold():
    runs = pd.concat([_runs({0.1: {10: 0.1}}), _runs({0.1: {10: 0.1, 50: 0.9}}, method="said")])
    table = table1(d90_table(runs, "accuracy"))
    assert list(table.columns) == ["model", "D", "t DID", "t SAID"]
    assert pd.isna(table.iloc[0]["t DID"]) and table.iloc[0]["t SAID"] == 50


def test_table1_has_one_column_per_task_and_method():
    runs = pd.concat([_runs({0.1: {10: 0.8}}), _runs({0.1: {10: 0.1, 50: 0.9}}, method="said")])
    table = table1(d90_table(runs, "accuracy"))
    assert list(table.columns) == ["model", "D", "t DID", "t SAID"]
    assert table.iloc[0].tolist() == ["m", 1000, 10, 50]


def test_baseline_takes_the_best_learning_rate_and_ignores_failures():
    runs = [
        {"model": "m", "task": "t", "lr": 1e-5, "seed": 0, "status": "ok", "eval_accuracy": 0.7, "eval_majority_accuracy": 0.6},
        {"model": "m", "task": "t", "lr": 1e-4, "seed": 0, "status": "ok", "eval_accuracy": 0.8, "eval_majority_accuracy": 0.6},
        {"model": "m", "task": "t", "lr": 1e-3, "seed": 0, "status": "diverged", "eval_accuracy": float("nan"), "eval_majority_accuracy": 0.6, "reason": "nan"},
    ]  # fmt: skip
    base = select_baseline(runs, "accuracy", 0.9, eval_size=400)
    assert base["best_lr"] == 1e-4 and base["full_score"] == 0.8
    assert base["threshold_score"] == pytest.approx(0.72) and base["beats_majority"]
    with pytest.raises(
        ValueError,
        match=r"every full fine-tuning run failed: diverged at lr 0\.001 \(seed 0\): nan$",
    ):
        select_baseline(runs[2:], "accuracy", 0.9, eval_size=400)


def test_d90_carries_its_grid_interval_and_each_seeds_own_d90():
    rows = []
    # seed 0 reaches at d = 100, seed 1 only at d = 1000; the mean over seeds at 1000.
    scores = {0: {10: 0.5, 100: 0.95, 1000: 0.95}, 1: {10: 0.5, 100: 0.6, 1000: 0.95}}
    for seed, by_d in scores.items():
        for d, s in by_d.items():
            rows.append({"model": "m", "task": "t", "method": "did", "d": d, "D": 10**6,
                         "lr": 0.1, "seed": seed, "status": "ok", "eval_accuracy": s,
                         "full_score": 1.0, "threshold_score": 0.9})  # fmt: skip
    row = d90_table(pd.DataFrame(rows), "accuracy").iloc[0]
    assert row["d90"] == 1000 and row["d90_lo"] == 100  # d90 in (100, 1000]
    assert row["seeds"] == 2 and row["d90_by_seed"] == "0: 100; 1: 1000"
    assert (row["d90_seed_min"], row["d90_seed_max"], row["seeds_reaching"]) == (100, 1000, 2)


def test_a_score_exactly_at_the_threshold_reaches_it():
    # full 0.8 x 0.9 = 0.72 in binary floating point; the run scores exactly that number
    runs = _runs({0.1: {10: 0.5, 100: 0.9 * 0.8, 1000: 0.9}})
    row = d90_table(runs, "accuracy").iloc[0]
    assert row["d90"] == 100 and row["d90_lo"] == 10
    # The boundary: within float rounding (1e-9) below the threshold reaches it, 2e-9 does not.
    within = _runs({0.1: {10: 0.5, 100: 0.9 * 0.8 - 0.5e-9, 1000: 0.9}})
    assert d90_table(within, "accuracy").iloc[0]["d90"] == 100
    just_below = _runs({0.1: {10: 0.5, 100: 0.9 * 0.8 - 2e-9, 1000: 0.9}})
    assert d90_table(just_below, "accuracy").iloc[0]["d90"] == 1000


def test_a_score_equal_to_the_threshold_in_exact_arithmetic_reaches_it():
    # Full runs of 333 and 347 right of 400 set the threshold at 0.9 x 340 / 400 = 306 / 400
    # exactly, but in floats 0.9 x mean(0.8325, 0.8675) = 0.7650000000000001 > 306 / 400.
    base = select_baseline([_full(333 / 400, seed=0), _full(347 / 400, seed=1)], "accuracy", 0.9,
                           eval_size=400)  # fmt: skip
    target = base["threshold_score"]
    assert target > 306 / 400  # the rounding this guards against
    runs = _runs({0.1: {100: 305 / 400, 300: 306 / 400, 1000: 0.85}})
    assert d90_table(runs.assign(threshold_score=target), "accuracy").iloc[0]["d90"] == 300
    assert first_reaching(pd.Series({100: 305 / 400, 300: 306 / 400}), target) == 300
    assert interpolate_crossing(pd.Series({100: 305 / 400, 300: 306 / 400}), target) == 300.0
    # A tie in floats too is the grid point itself, not exp(log 100 + log 3) = 299.99999999999994.
    assert interpolate_crossing(pd.Series({100: 0.5, 300: 0.72}), 0.72) == 300.0
    assert probe_outcome([_probe(306 / 400)], "accuracy", target, majority=0.5)["success"]
    assert not probe_outcome([_probe(305 / 400)], "accuracy", target, majority=0.5)["success"]


def test_a_mean_equal_to_the_majority_share_in_exact_arithmetic_does_not_beat_it():
    # 260 and 262 right of 400 average 261 / 400, the majority class's share; the float mean
    # is 0.6525000000000001, above 261 / 400 = 0.6525.
    majority = 261 / 400
    runs = [
        _full(260 / 400, seed=0, majority=majority),
        _full(262 / 400, seed=1, majority=majority),
    ]
    base = select_baseline(runs, "accuracy", 0.9, eval_size=400)
    assert base["full_score"] > majority  # the rounding this guards against
    assert not base["beats_majority"]
    probe = [_probe(260 / 400, seed=0), _probe(262 / 400, seed=1)]
    assert not probe_outcome(probe, "accuracy", 0.5, majority=majority)["success"]
    # A probe needs only to be above the majority share: one more right answer of 800 is.
    assert probe_outcome([*probe[:1], _probe(263 / 400, seed=1)], "accuracy", 0.5,
                         majority=majority)["success"]  # fmt: skip


def test_the_baseline_beats_the_majority_class_only_beyond_chance():
    # On 10 eval examples of which half are the majority class, a model that is right by chance
    # half the time scores 9 or more with probability 11 / 1024 (1 + 10 ways), 8 or more with
    # 56 / 1024 (1 + 10 + 45): 9 of 10 is below the 5% level, 8 of 10 is not.
    def base(*scores):
        runs = [_full(score, seed=s, majority=0.5) for s, score in enumerate(scores)]
        return select_baseline(runs, "accuracy", 0.9, eval_size=10)

    nine, eight = base(0.9), base(0.8)
    assert nine["beats_majority"] and nine["majority_p_value"] == pytest.approx(11 / 1024)
    assert not eight["beats_majority"] and eight["majority_p_value"] == pytest.approx(56 / 1024)
    assert nine["eval_size"] == 10 and MAJORITY_ALPHA == 0.05  # the level the docs state
    # Seeds score the same examples: their mean of 8.5 right answers counts as 8, not 9.
    assert base(0.8, 0.9)["majority_p_value"] == pytest.approx(56 / 1024)
    assert base(0.9, 0.9)["beats_majority"]
    # mean(1 / 10, 7 / 10) x 10 is 3.9999999999999996 in floats: still 4 right answers,
    # 848 / 1024 (1024 - 1 - 10 - 45 - 120), not 968 / 1024.
    assert base(0.1, 0.7)["majority_p_value"] == pytest.approx(848 / 1024)
    # A score within float rounding (1e-9) below k / n is k right answers; 2e-9 below is not.
    assert majority_p_value(0.4 - 0.9e-9, 0.5, 10) == pytest.approx(848 / 1024)
    assert majority_p_value(0.4 - 2e-9, 0.5, 10) == pytest.approx(968 / 1024)
    # A p-value exactly at the level does not pass: one example right of one, against a share
    # of 0.05, has p = 0.05 exactly.
    at_level = select_baseline([_full(1.0, majority=0.05)], "accuracy", 0.9, eval_size=1)
    assert at_level["majority_p_value"] == 0.05 and not at_level["beats_majority"]
    # Another metric has no majority class to beat.
    other = select_baseline([_full(0.5, majority=0.5)], "f1", 0.9, eval_size=10)
    assert other["beats_majority"] and other["majority_p_value"] is None
    with pytest.raises(ValueError, match=r"eval_size must be a positive number .* got 0$"):
        majority_p_value(0.9, 0.5, 0)


def test_a_skipped_search_says_why_with_the_test():
    base = select_baseline([_full(309 / 400, majority=0.7475)], "accuracy", 0.9, eval_size=400)
    assert not base["beats_majority"]
    assert majority_reason(base) == (
        "full fine-tuning does not beat the majority class beyond chance (0.7725 against a "
        f"majority share of 0.7475 on 400 eval examples: one-sided binomial p = "
        f"{base['majority_p_value']:.3g}, not below 0.05; it would need 314 of 400 right, "
        "0.7850)"
    )
    assert 0.05 < base["majority_p_value"] < 0.5


def test_the_accuracy_needed_to_beat_the_majority_class_is_the_tests_boundary():
    # Half the 10 examples in the majority class: 9 right has p = 11 / 1024, 8 right 56 / 1024.
    assert majority_needed(0.5, 10) == 9
    # At 74.75% of 400, from the binomial tail directly: 314 right is below 5%, 313 is not.
    tail = [stats.binom.sf(k - 1, 400, 0.7475) for k in (313, 314)]
    assert tail[0] >= 0.05 > tail[1] and majority_needed(0.7475, 400) == 314
    # More examples resolve a smaller margin: 1,500 need 0.7667, 400 need 0.785.
    assert majority_needed(0.7475, 1500) == 1150
    # One example against a 5% share: even the one right answer has p = 0.05, not below it.
    assert majority_needed(0.05, 1) == 2
    assert majority_needed(0.0, 10) == 1


def _probe(score, seed=0, lr=0.1, status="ok"):
    return {"lr": lr, "seed": seed, "status": status, "reason": None, "eval_accuracy": score}


def _full(score, seed=0, lr=1e-4, majority=0.5, status="ok", reason=None):
    """One full fine-tuning run as select_baseline reads it."""
    return {"model": "m", "task": "t", "lr": lr, "seed": seed, "status": status,
            "reason": reason, "eval_accuracy": score, "eval_f1": score,
            "eval_majority_accuracy": majority}  # fmt: skip


def test_a_probe_reaches_at_the_target_and_must_beat_the_majority_class():
    # target 0.7: exactly 0.7 reaches it, and so does a float rounding below; 2e-9 below not
    assert probe_outcome([_probe(0.7)], "accuracy", 0.7, majority=0.5)["success"]
    assert probe_outcome([_probe(0.7 - 0.5e-9)], "accuracy", 0.7, majority=0.5)["success"]
    below = probe_outcome([_probe(0.7 - 2e-9)], "accuracy", 0.7, majority=0.5)
    assert not below["success"] and below["reason"].startswith("below the threshold")
    # above the target but only as good as predicting the majority class: a failure
    tied = probe_outcome([_probe(0.68)], "accuracy", 0.6, majority=0.68)
    assert (
        not tied["success"]
        and "does not beat the majority class (0.6800 <= 0.6800)" in (tied["reason"])
    )
    assert probe_outcome([_probe(0.681)], "accuracy", 0.6, majority=0.68)["success"]
    # The boundary: within float rounding above the majority share is no better than it.
    assert not probe_outcome([_probe(0.68 + 0.5e-9)], "accuracy", 0.6, majority=0.68)["success"]
    assert probe_outcome([_probe(0.68 + 2e-9)], "accuracy", 0.6, majority=0.68)["success"]
    # F1 has no majority rule
    assert probe_outcome([{**_probe(None), "eval_f1": 0.6}], "f1", 0.6, majority=0.9)["success"]


def test_a_probe_averages_seeds_per_rate_and_takes_the_best_rate():
    # lr 0.1: seeds 0.9 and 0.5 (mean 0.7); lr 0.01: 0.72 and 0.72 (mean 0.72)
    runs = [_probe(0.9, 0), _probe(0.5, 1), _probe(0.72, 0, 0.01), _probe(0.72, 1, 0.01)]
    outcome = probe_outcome(runs, "accuracy", 0.71, majority=0.5)
    assert outcome["success"] and outcome["score"] == pytest.approx(0.72)
    assert outcome["best_run"]["lr"] == "0.01"
    failed = probe_outcome([_probe(None, status="diverged")], "accuracy", 0.7, 0.5)
    assert not failed["success"] and failed["reason"].startswith("no run finished")


def test_a_probe_reports_its_runs_score_and_best_run():
    runs = [_probe(0.8, 0, 0.1), _probe(0.6, 1, 0.1), _probe(0.5, 0, 0.01)]
    outcome = probe_outcome(runs, "accuracy", 0.65, majority=0.5)
    assert outcome == {"runs": 3, "score": pytest.approx(0.7), "best_run": {"lr": "0.1", "seed": 0},
                       "success": True, "reason": "reaches the threshold (0.7000 >= 0.6500)"}  # fmt: skip
    failed = probe_outcome([_probe(None, status="diverged")], "accuracy", 0.7, 0.5)
    assert (failed["runs"], failed["score"], failed["best_run"]) == (1, None, None)
    assert failed["reason"] == "no run finished (diverged at lr 0.1 (seed 0): None)"


def test_a_d90_at_the_first_grid_point_is_only_bounded_above():
    runs = _runs({0.1: {10: 0.75, 100: 0.8, 1000: 0.8}})
    row = d90_table(runs, "accuracy").iloc[0]
    assert row["status"] == "at or below the smallest d" and row["d90"] == 10
    assert pd.isna(row["d90_lo"]) and row["d90_interpolated"] == 10.0
    assert (row["d_min"], row["d_max"], row["D"]) == (10, 1000, 1000)
    assert (row["full_score"], row["threshold_score"]) == (0.8, pytest.approx(0.72))
    assert (row["model"], row["task"], row["method"], row["seeds"]) == ("m", "t", "did", 1)
    assert row["d90_by_seed"] == "0: 10"


def test_a_seed_that_never_reaches_is_shown_as_a_dash():
    rows = []
    for seed, scores in ((0, {10: 0.5, 100: 0.75}), (1, {10: 0.5, 100: 0.6})):
        for d, s in scores.items():
            rows.append({"model": "m", "task": "t", "method": "said", "d": d, "D": 1000, "lr": 0.1,
                         "seed": seed, "status": "ok", "eval_accuracy": s, "full_score": 0.8,
                         "threshold_score": 0.6})  # fmt: skip
    row = d90_table(pd.DataFrame(rows), "accuracy").iloc[0]
    # Threshold 0.6: each seed reaches it at d = 100 (0.75 and exactly 0.6). Threshold 0.7:
    # only seed 0 does, and the mean over seeds (0.675) does not.
    assert row["d90_by_seed"] == "0: 100; 1: 100"
    strict = d90_table(pd.DataFrame(rows).assign(threshold_score=0.7), "accuracy").iloc[0]
    assert strict["d90_by_seed"] == "0: 100; 1: -" and strict["seeds_reaching"] == 1
    assert pd.isna(strict["d90"])  # the mean over seeds (0.675) stays below 0.7
    assert (strict["d90_seed_min"], strict["d90_seed_max"]) == (100, 100)


def test_the_crossing_is_log_linear_and_falls_back_to_the_grid():
    assert interpolate_crossing(pd.Series({100: 0.5, 1000: 0.7}), 0.6) == pytest.approx(
        math.sqrt(100 * 1000)
    )
    # the first grid point already reaches: that point; a diverged point before: the grid point
    assert interpolate_crossing(pd.Series({100: 0.7, 1000: 0.8}), 0.6) == 100.0
    assert interpolate_crossing(pd.Series({100: float("nan"), 1000: 0.8}), 0.6) == 1000.0
    # reaching exactly at a grid point interpolates to that point
    assert interpolate_crossing(pd.Series({100: 0.5, 1000: 0.6}), 0.6) == pytest.approx(1000.0)


def test_the_baseline_averages_seeds_and_says_whether_it_beats_the_majority_class():
    def run(lr, seed, score):
        return _full(score, seed, lr, majority=0.6)

    # lr 1e-4: seeds 0.9 and 0.5 (mean 0.7); lr 1e-5: 0.65 and 0.65
    base = select_baseline([run(1e-4, 0, 0.9), run(1e-4, 1, 0.5), run(1e-5, 0, 0.65),
                            run(1e-5, 1, 0.65)], "accuracy", 0.9, eval_size=400)  # fmt: skip
    assert (base["best_lr"], base["full_score"]) == (1e-4, pytest.approx(0.7))
    assert base["threshold_score"] == pytest.approx(0.63) and base["threshold"] == 0.9
    assert base["beats_majority"] and base["eval_majority_accuracy"] == 0.6
    assert base["metric"] == "accuracy" and len(base["runs"]) == 4
    assert set(base["runs"][0]) == set(RUN_COLUMNS) and base["runs"][0]["eval_accuracy"] == 0.9
    tied = select_baseline([run(1e-4, 0, 0.6)], "accuracy", 0.9, eval_size=400)
    assert not tied["beats_majority"]  # as good as the majority class is not better
    assert select_baseline([run(1e-4, 0, 0.6)], "f1", 0.9, 400)["beats_majority"]  # no such rule
    with pytest.raises(
        ValueError, match=r"failed: failed at lr 0\.0001 \(seed 0\): out of memory$"
    ):
        select_baseline([{**run(1e-4, 0, None), "status": "failed", "reason": "out of memory"}],
                        "accuracy", 0.9, eval_size=400)  # fmt: skip


def test_probe_reasons_state_the_scores():
    below = probe_outcome([_probe(0.65)], "accuracy", 0.7, majority=0.5)
    assert below["reason"] == "below the threshold (0.6500 < 0.7000)"
    assert below["best_run"] == {"lr": "0.1", "seed": 0} and below["score"] == 0.65
    tied = probe_outcome([_probe(0.68)], "accuracy", 0.6, majority=0.68)
    assert tied["reason"] == "does not beat the majority class (0.6800 <= 0.6800)"


def test_d90_columns_are_nullable_integers():
    frame = d90_table(_runs({0.1: {10: 0.5, 100: 0.75}}), "accuracy")
    for column in ("d90", "d90_lo", "d90_seed_min", "d90_seed_max"):
        assert str(frame[column].dtype) == "Int64"


def test_every_failed_run_is_named_and_rates_print_as_the_paths_do():
    failed = probe_outcome(
        [{**_probe(None, status="diverged"), "reason": "nan loss"},
         {**_probe(None, seed=1, status="failed"), "reason": "oom"}],
        "accuracy", 0.7, 0.5,
    )  # fmt: skip
    assert failed["reason"] == (
        "no run finished (diverged at lr 0.1 (seed 0): nan loss; failed at lr 0.1 (seed 1): oom)"
    )
    odd = probe_outcome([_probe(0.8, lr=0.1234567), _probe(0.7, lr=1e-5)], "accuracy", 0.6, 0.5)
    assert odd["best_run"]["lr"] == "0.123457"
    assert probe_outcome([_probe(0.8, lr=1e-5)], "accuracy", 0.6, 0.5)["best_run"]["lr"] == "1e-05"
    with pytest.raises(
        ValueError,
        match=r"run failed: failed at lr 0\.0001 \(seed 0\): oom; failed at lr 0\.0001 \(seed 1\): nan loss$",
    ):
        select_baseline(
            [{"lr": 1e-4, "seed": s, "status": "failed", "reason": r, "eval_accuracy": None,
              "eval_majority_accuracy": 0.5} for s, r in ((0, "oom"), (1, "nan loss"))],
            "accuracy", 0.9, eval_size=400,
        )  # fmt: skip


def _seeded(scores_by_lr_seed, full=0.8):
    """Runs from {lr: {seed: {d: score}}}; a NaN score is a diverged run."""
    return pd.concat(
        [_runs({lr: by_d}, full=full).assign(seed=seed)
         for lr, by_seed in scores_by_lr_seed.items() for seed, by_d in by_seed.items()],
        ignore_index=True,
    )  # fmt: skip


def test_a_rate_counts_for_d90_only_when_every_seed_finished():
    # Threshold 0.75. At d = 100, lr 0.1 has seed 0 at 1.0 and seed 1 diverged: the survivor
    # alone would reach, but the rate does not count; lr 0.01 (0.5, 0.5) stays below.
    diverged = _seeded({0.1: {0: {100: 1.0, 1000: 0.875}, 1: {100: math.nan, 1000: 0.875}},
                        0.01: {0: {100: 0.5, 1000: 0.5}, 1: {100: 0.5, 1000: 0.5}}})  # fmt: skip
    diverged["threshold_score"] = 0.75
    row = d90_table(diverged, "accuracy").iloc[0]
    assert (row["d90"], row["d90_lo"], row["best_score_at_d90"]) == (1000, 100, 0.875)
    assert row["d90_by_seed"] == "0: 100; 1: 1000"

    # The boundary: that seed finishing at 0.5 gives a mean of exactly 0.75, which reaches.
    def finishing_at(score):
        runs = diverged.copy()
        runs.loc[runs["eval_accuracy"].isna(), ["eval_accuracy", "status"]] = [score, "ok"]
        return d90_table(runs, "accuracy").iloc[0]["d90"]

    assert (finishing_at(0.5), finishing_at(0.5 - 2**-20)) == (100, 1000)


def test_a_probe_takes_the_best_rate_that_finished_for_every_seed():
    runs = [_probe(0.9, 0), {**_probe(None, 1, status="diverged"), "reason": "nan loss"},
            _probe(0.72, 0, 0.01), _probe(0.72, 1, 0.01)]  # fmt: skip
    outcome = probe_outcome(runs, "accuracy", 0.71, majority=0.5)
    assert outcome["success"] and outcome["score"] == pytest.approx(0.72)
    assert outcome["best_run"] == {"lr": "0.01", "seed": 0}
    alone = probe_outcome(runs[:2], "accuracy", 0.71, majority=0.5)
    assert not alone["success"] and alone["score"] is None
    assert (
        alone["reason"] == "no rate finished for every seed (diverged at lr 0.1 (seed 1): nan loss)"
    )


def test_the_baseline_rate_must_finish_for_every_seed():
    def run(lr, seed, score, status="ok"):
        return _full(score, seed, lr, 0.6, status, None if status == "ok" else "nan loss")

    # lr 1e-4: seed 0 at 0.9, seed 1 diverged; lr 1e-5: 0.65 and 0.65
    runs = [run(1e-4, 0, 0.9), run(1e-4, 1, None, "diverged"), run(1e-5, 0, 0.65),
            run(1e-5, 1, 0.65)]  # fmt: skip
    base = select_baseline(runs, "accuracy", 0.9, eval_size=400)
    assert (base["best_lr"], base["full_score"]) == (1e-5, 0.65)
    with pytest.raises(ValueError, match=r"^no full fine-tuning rate finished for every seed: "
                       r"diverged at lr 0\.0001 \(seed 1\): nan loss$"):  # fmt: skip
        select_baseline(runs[:2], "accuracy", 0.9, eval_size=400)
    runs[2] = run(1e-5, 0, None, "diverged")
    with pytest.raises(ValueError, match=r"seed: diverged at lr 0\.0001 \(seed 1\): nan loss; "
                       r"diverged at lr 1e-05 \(seed 0\): nan loss$"):  # fmt: skip
        select_baseline(runs, "accuracy", 0.9, eval_size=400)


def test_collect_runs_puts_every_run_beside_its_baseline_in_one_sorted_table(tmp_path):
    def write(name, data):
        path = tmp_path / name
        path.write_text(json.dumps(data))
        return str(path)

    def run(model, method, d, lr, seed, score):
        return {"model": model, "task": "t", "method": method, "d": d, "D": 1000, "lr": lr,
                "seed": seed, "status": "ok", "eval_accuracy": score,
                "eval_majority_accuracy": 0.5}  # fmt: skip

    baselines = [
        write("base_m.json", select_baseline([run("m", "full", None, 1e-3, 0, 0.8),
                                              run("m", "full", None, 1e-4, 0, 0.7)],
                                             "accuracy", 0.9, eval_size=400)),
        write("base_a.json", select_baseline([run("a", "full", None, 1e-3, 0, 0.6)],
                                             "accuracy", 0.5, eval_size=400)),
    ]  # fmt: skip
    metrics = [
        write("m_said_1.json", {**run("m", "said", 100, 0.1, 1, 0.75), "extra": 1}),
        write("m_said_0.json", run("m", "said", 100, 0.1, 0, 0.74)),
        write("m_did.json", run("m", "did", 100, 0.1, 0, 0.73)),
        write("m_did_10.json", run("m", "did", 10, 0.3, 0, 0.6)),  # d, not lr, orders these
        write("a_did.json", run("a", "did", 10, 0.1, 0, 0.4)),
    ]
    frame = collect_runs(metrics, baselines)
    assert list(frame.columns) == RUN_COLUMNS + ["full_score", "threshold_score"]
    assert frame["reason"].isna().all()  # a key no run wrote is a gap, and "extra" is dropped
    keys = ["model", "method", "d", "lr", "seed", "eval_accuracy", "full_score",
            "threshold_score"]  # fmt: skip
    rows = [[None if v != v else v for v in row] for row in frame[keys].values.tolist()]
    assert rows == [
        ["a", "did", 10, 0.1, 0, 0.4, 0.6, pytest.approx(0.3)],
        ["a", "full", None, 1e-3, 0, 0.6, 0.6, pytest.approx(0.3)],
        ["m", "did", 10, 0.3, 0, 0.6, 0.8, pytest.approx(0.72)],
        ["m", "did", 100, 0.1, 0, 0.73, 0.8, pytest.approx(0.72)],
        ["m", "full", None, 1e-4, 0, 0.7, 0.8, pytest.approx(0.72)],
        ["m", "full", None, 1e-3, 0, 0.8, 0.8, pytest.approx(0.72)],
        ["m", "said", 100, 0.1, 0, 0.74, 0.8, pytest.approx(0.72)],
        ["m", "said", 100, 0.1, 1, 0.75, 0.8, pytest.approx(0.72)],
    ]


def test_grid_points_above_d90_that_fall_short_are_counted():
    # threshold 0.72: d90 = 100; 1,000 falls short at the best rate, 10,000 diverged at its
    # only rate, 30 lies below d90 and does not count
    runs = _runs({0.1: {30: 0.5, 100: 0.73, 1000: 0.71, 3000: 0.8, 10000: float("nan")}})
    assert d90_table(runs, "accuracy").iloc[0]["failed_above"] == 2

    # The boundary is the threshold's own: within float rounding below it reaches, 2e-9 not.
    def above_at(score):
        return d90_table(_runs({0.1: {100: 0.73, 1000: score}}), "accuracy").iloc[0]

    assert above_at(0.9 * 0.8 - 0.5e-9)["failed_above"] == 0
    assert above_at(0.9 * 0.8 - 2e-9)["failed_above"] == 1
    # another rate reaching at 1,000 is the best rate there: nothing fell short
    both = _runs({0.1: {100: 0.73, 1000: 0.71}, 0.01: {100: 0.6, 1000: 0.75}})
    assert d90_table(both, "accuracy").iloc[0]["failed_above"] == 0
    assert d90_table(_runs({0.1: {10: 0.5, 100: 0.6}}), "accuracy").iloc[0]["failed_above"] == 0
