"""Section 5's tables from search results and baselines (plain records in, frames out)."""

import math

import pytest
from intdim.analysis import section5


def full_run(lr, seed, eval_accuracy, train_accuracy, status="ok"):
    return {"lr": lr, "seed": seed, "status": status, "eval_accuracy": eval_accuracy,
            "train_accuracy": train_accuracy}  # fmt: skip


def baseline(runs, best_lr, beats=True):
    return {"runs": runs, "best_lr": best_lr, "beats_majority": beats,
            "eval_majority_accuracy": 0.6}  # fmt: skip


def result(model, task, method, d90, status="reached"):
    return {"model": model, "task": task, "method": method, "d90": d90, "status": status,
            "lo": 10, "hi": d90 or 1000, "probes": []}  # fmt: skip


def test_trajectory_rows_take_the_seed_means_at_the_baselines_rate_and_the_trajectorys_method():
    baselines = {
        # 1e-3 lost a seed, so the baseline took 3e-3; the survivor's 0.9 must not count
        ("ck0", "t"): baseline(
            [
                full_run(1e-3, 0, 0.55, 0.9, "diverged"),
                full_run(1e-3, 1, 0.9, 0.9),
                full_run(3e-3, 0, 0.5, 0.6),
                full_run(3e-3, 1, 0.52, 0.64),
            ],
            best_lr=3e-3,
            beats=False,
        ),
        # 3e-3 has the single best run (0.85) but the lower mean (0.72 against 0.75)
        ("ck1", "t"): baseline(
            [
                full_run(1e-3, 0, 0.80, 0.95),
                full_run(1e-3, 1, 0.70, 0.85),
                full_run(3e-3, 0, 0.85, 0.99),
                full_run(3e-3, 1, 0.59, 0.97),
            ],
            best_lr=1e-3,
        ),
    }
    results = {
        ("ck0", "t", "said"): result("ck0", "t", "said", None, "skipped"),
        ("ck1", "t", "said"): result("ck1", "t", "said", 300),
        ("ck1", "t", "did"): result("ck1", "t", "did", 9000),  # a survey with another method
    }
    table = section5.trajectory_table({"traj": {10: "ck1", 0: "ck0"}},
                                      {"traj": {"tasks": ["t"], "method": "said"}}, results,
                                      baselines)  # fmt: skip
    assert list(table["step"]) == [0, 10]
    first, second = table.iloc[0], table.iloc[1]
    assert not first["beats_majority"] and first["search_status"] == "skipped"
    assert first["eval_accuracy"] == pytest.approx(0.51)
    assert first["train_accuracy"] == pytest.approx(0.62)
    assert second["d90"] == 300 and second["method"] == "said"
    assert second["eval_accuracy"] == pytest.approx(0.75)
    assert second["train_accuracy"] == pytest.approx(0.90)
    # the gap of the seed-mean accuracies
    assert second["relative_gap"] == pytest.approx((0.90 - 0.75) / (1 - 0.75))


def test_relative_gap_at_perfect_eval_accuracy_is_undefined():
    assert math.isnan(section5.relative_gap(1.0, 1.0))
    assert section5.relative_gap(0.9, 0.8) == pytest.approx(0.5)


def test_survey_and_bound_tables():
    metas = {"a": {"base_parameters": 10, "reference": "x"}, "b": {"base_parameters": 99,
                                                                    "reference": "y"}}  # fmt: skip
    results = {("a", "t", "said"): result("a", "t", "said", 50),
               ("b", "t", "said"): result("b", "t", "said", None, "not reached")}  # fmt: skip
    table = section5.survey_table(["a", "b"], ["t"], "said", results, metas)
    assert list(table["parameters"]) == [10, 99] and table["d90"].isna().tolist() == [False, True]
    assert list(table["searched_up_to"]) == [50, 1000]
    bounds = section5.bound_table([{"model": "a", "task": "t", "method": "said", "d90": 50,
                                    "d": 50, "bound": 0.4}, {"model": "b", "d90": None}])  # fmt: skip
    assert list(bounds["model"]) == ["a"] and bounds["bound"].iloc[0] == 0.4


def test_a_search_that_reached_at_d_min_or_never_ran_has_no_lower_end():
    # lo starts at d_min and is a d that failed only once a probe failed there (lo_verified)
    reached = {**result("a", "t", "said", 50), "lo": 30, "lo_verified": True}
    at_min = {**result("b", "t", "said", 30, "at d_min"), "lo": 30, "lo_verified": False}
    never = {**result("c", "t", "said", None, "skipped"), "lo": 30, "lo_verified": False}
    assert [section5.lower_end(r) for r in (reached, at_min, never)] == [30, None, None]
    metas = {m: {"base_parameters": 10, "reference": m} for m in "abc"}
    results = {(r["model"], "t", "said"): r for r in (reached, at_min, never)}
    table = section5.survey_table(["a", "b", "c"], ["t"], "said", results, metas)
    assert table["d90_lo"].tolist()[0] == 30 and table["d90_lo"].isna().tolist() == [
        False,
        True,
        True,
    ]
