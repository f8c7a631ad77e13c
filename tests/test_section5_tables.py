"""Section 5's tables from search results and baselines (plain records in, frames out)."""

import math

import pandas as pd
import pytest
from intdim.analysis import section5
from intdim.analysis.d90 import majority_p_value

TRAJECTORY_COLUMNS = [
    "trajectory", "step", "model", "task", "method", "d90", "d90_lo", "d90_hi", "search_status",
    "failed_above", "d90_majority_p", "beats_majority", "eval_accuracy", "train_accuracy",
    "train_accuracy_at_eval_balance", "relative_gap", "eval_majority_accuracy", "majority_p_value",
    "seeds",
]  # fmt: skip


SURVEY_COLUMNS = [
    "model", "task", "method", "parameters", "reference", "d90", "d90_lo", "d90_hi",
    "searched_up_to", "search_status", "failed_above", "d90_majority_p", "seeds",
]  # fmt: skip


def records(frame):
    """A table's rows as plain dicts, its gaps as None (pd.NA equals nothing)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def full_run(lr, seed, eval_accuracy, at_balance, status="ok"):
    """A full fine-tune whose plain train accuracy is 0.05 above the one at the eval balance."""
    return {"model": "m", "task": "t", "lr": lr, "seed": seed, "status": status,
            "eval_accuracy": eval_accuracy, "train_accuracy": at_balance + 0.05,
            "train_accuracy_at_eval_balance": at_balance}  # fmt: skip


def baseline(runs, best_lr, beats=True):
    return {"runs": runs, "best_lr": best_lr, "beats_majority": beats,
            "eval_majority_accuracy": 0.6, "majority_p_value": 0.01 if beats else 0.3}  # fmt: skip


def result(model, task, method, d90, status="reached", seeds=(0, 1)):
    return {"model": model, "task": task, "method": method, "d90": d90, "status": status,
            "lo": 10, "hi": d90 or 1000, "probes": [], "seeds": list(seeds)}  # fmt: skip


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
        ("ck1", "t", "did"): result("ck1", "t", "did", 9000),
    }
    specs = {"traj": {"tasks": ["t"], "method": "said"},
             "by_did": {"tasks": ["t"], "method": "did"}}  # fmt: skip
    # steps as a YAML map may arrive as strings: 9 comes before 10
    table = section5.trajectory_table({"traj": {"10": "ck1", "9": "ck0"}, "by_did": {5: "ck1"}},
                                      specs, results, baselines)  # fmt: skip
    assert str(table["d90"].dtype) == str(table["d90_lo"].dtype) == "Int64"
    at_ck1 = {"model": "ck1", "task": "t", "d90_lo": 10, "search_status": "reached",
              "failed_above": 0, "d90_majority_p": None, "beats_majority": True,
              "eval_accuracy": 0.75, "train_accuracy": 0.95,
              "train_accuracy_at_eval_balance": 0.90,
              "relative_gap": (0.90 - 0.75) / (1 - 0.75), "eval_majority_accuracy": 0.6,
              "majority_p_value": 0.01, "seeds": 2}  # fmt: skip
    expected = [
        # 1e-3's survivor (0.9) does not count: the mean over both seeds at the baseline's rate
        {"trajectory": "traj", "step": 9, "model": "ck0", "task": "t", "method": "said",
         "d90": None, "d90_lo": 10, "d90_hi": 1000, "search_status": "skipped",
         "failed_above": 0, "d90_majority_p": None, "beats_majority": False,
         "eval_accuracy": 0.51, "train_accuracy": 0.67,
         "train_accuracy_at_eval_balance": 0.62,
         "relative_gap": (0.62 - 0.51) / (1 - 0.51), "eval_majority_accuracy": 0.6,
         "majority_p_value": 0.3, "seeds": 2},
        # 3e-3's single best run (0.85) does not count either
        {"trajectory": "traj", "step": 10, "method": "said", "d90": 300, "d90_hi": 300, **at_ck1},
        {"trajectory": "by_did", "step": 5, "method": "did", "d90": 9000, "d90_hi": 9000,
         **at_ck1},
    ]  # fmt: skip
    assert records(table) == [pytest.approx(row) for row in expected]
    assert [list(row) for row in records(table)] == [TRAJECTORY_COLUMNS] * 3
    assert records(section5.trajectory_table({}, {}, {}, {})) == []


def test_a_full_fine_tune_measured_before_the_balanced_train_accuracy_is_named():
    runs = [full_run(1e-3, 0, 0.8, 0.9), {**full_run(1e-3, 1, 0.8, 0.9), "seed": 1,
                                          "train_accuracy_at_eval_balance": None}]  # fmt: skip
    with pytest.raises(ValueError, match=r"m on t at lr 0.001 \(seed 1\) has no train_accuracy_"):
        section5.full_fine_tune(baseline(runs, best_lr=1e-3))
    # a run at another rate does not count
    assert section5.full_fine_tune(baseline(runs[:1] + [{**runs[1], "lr": 3e-3}], best_lr=1e-3))


def test_relative_gap_at_perfect_eval_accuracy_is_undefined():
    assert math.isnan(section5.relative_gap(1.0, 1.0))
    assert section5.relative_gap(0.9, 0.8) == pytest.approx(0.5)


def test_survey_rows_name_each_model_its_size_and_its_searchs_bracket():
    metas = {"a": {"base_parameters": 10, "reference": "x"},
             "b": {"base_parameters": 99, "reference": "y"}}  # fmt: skip
    results = {("a", "t", "did"): {**result("a", "t", "did", 50), "lo_verified": True},
               ("b", "t", "did"): result("b", "t", "did", None, "not reached", seeds=[3])}  # fmt: skip
    table = section5.survey_table(["a", "b"], ["t"], "did", results, metas)
    assert str(table["d90"].dtype) == str(table["d90_lo"].dtype) == "Int64"
    assert records(table) == [
        {"model": "a", "task": "t", "method": "did", "parameters": 10, "reference": "x",
         "d90": 50, "d90_lo": 10, "d90_hi": 50, "searched_up_to": 50,
         "search_status": "reached", "failed_above": 0, "d90_majority_p": None, "seeds": 2},
        {"model": "b", "task": "t", "method": "did", "parameters": 99, "reference": "y",
         "d90": None, "d90_lo": 10, "d90_hi": 1000, "searched_up_to": 1000,
         "search_status": "not reached", "failed_above": 0, "d90_majority_p": None, "seeds": 1},
    ]  # fmt: skip
    assert records(section5.survey_table([], ["t"], "said", {}, {})) == []


def test_figure3_draws_found_and_unreached_d90s_and_names_the_unsearched():
    metas = {m: {"base_parameters": 10, "reference": m} for m in "abcd"}
    results = {("a", "t", "said"): result("a", "t", "said", 50),
               ("b", "t", "said"): result("b", "t", "said", 4, "at d_min"),
               ("c", "t", "said"): result("c", "t", "said", None, "not reached"),
               ("d", "t", "said"): result("d", "t", "said", None, "skipped")}  # fmt: skip
    table = section5.survey_table(list("abcd"), ["t"], "said", results, metas)
    found, beyond, unsearched = section5.survey_parts(table)
    assert (list(found["model"]), list(beyond["model"])) == (["a", "b"], ["c"])
    assert list(unsearched["model"]) == ["d"]


def search_scoring(scores, status="not reached", metric="accuracy"):
    """A finished search whose probes scored ``scores``, the majority class's share 0.6."""
    return {**result("c", "t", "said", None, status), "metric": metric,
            "eval_majority_accuracy": 0.6,
            "probes": [{"d": 100 * 3**i, "score": s} for i, s in enumerate(scores)]}  # fmt: skip


@pytest.mark.parametrize("scores, status, metric, expected", [
    # every probe at or below the majority class's share: no d trained
    ([0.6, 0.55, 0.6], "not reached", "accuracy", "nothing learned"),
    # one probe one example in 1,500 above it: something trained
    ([0.6, 0.6 + 1 / 1500, 0.5], "not reached", "accuracy", "not reached"),
    # within float rounding of the share is at it; a probe with no finished run has no say
    ([0.6 + 1e-12, None], "not reached", "accuracy", "nothing learned"),
    # no probe scored: nothing to judge by
    ([None], "not reached", "accuracy", "not reached"),
    # the majority class's share bounds accuracy alone
    ([0.5], "not reached", "f1", "not reached"),
    # a search with a d90 keeps its status whatever its other probes scored
    ([0.5], "reached", "accuracy", "reached"),
])  # fmt: skip
def test_a_search_none_of_whose_probes_beat_the_majority_class_learned_nothing(
    scores, status, metric, expected
):
    search = search_scoring(scores, status, metric)
    assert section5.search_status(search) == expected


def test_every_table_gives_a_search_that_learned_nothing_that_status():
    untrained, trained = search_scoring([0.6, 0.6]), search_scoring([0.6, 0.61])
    assert list(section5.search_table([untrained, trained])["status"]) == [
        "nothing learned", "not reached"
    ]  # fmt: skip
    metas = {"c": {"base_parameters": 10, "reference": "c"}}
    survey = section5.survey_table(["c"], ["t"], "said", {("c", "t", "said"): untrained}, metas)
    assert list(survey["search_status"]) == ["nothing learned"]
    # Figure 3 has no d to draw for it: with the unsearched, not among the unreached.
    found, beyond, rest = section5.survey_parts(survey)
    assert (len(found), len(beyond), list(rest["model"])) == (0, 0, ["c"])
    runs = [full_run(1e-3, 0, 0.7, 0.7)]
    trajectory = section5.trajectory_table(
        {"scratch": {"125": "c"}}, {"scratch": {"tasks": ["t"], "method": "said"}},
        {("c", "t", "said"): untrained}, {("c", "t"): baseline(runs, 1e-3)},
    )  # fmt: skip
    assert list(trajectory["search_status"]) == ["nothing learned"]
    assert list(section5.learned_nothing(trajectory)) == [True]
    assert list(section5.reached_nothing(trajectory)) == [False]


def test_the_bound_table_keeps_solutions_and_its_columns_in_order():
    bounds = section5.bound_table([{"model": "a", "task": "t", "method": "said", "d90": 50,
                                    "d": 50, "bound": 0.4, "extra": 1},
                                   {"model": "b", "d90": None}])  # fmt: skip
    assert list(bounds.columns) == [
        "model", "task", "method", "d", "D", "m", "bits_per_number", "description_bits",
        "configurations", "confidence", "train_error_quantised", "eval_error_quantised",
        "eval_accuracy_quantised", "eval_accuracy", "bound",
    ]  # fmt: skip
    assert records(bounds) == [
        {"model": "a", "task": "t", "method": "said", "d": 50, "bound": 0.4,
         **dict.fromkeys(["D", "m", "bits_per_number", "description_bits", "configurations",
                          "confidence", "train_error_quantised", "eval_error_quantised",
                          "eval_accuracy_quantised", "eval_accuracy"])},
    ]  # fmt: skip


def test_the_search_table_has_a_row_per_search_and_its_final_state():
    # the best score, 0.8, came at d = 100 and d = 50: the smaller d counts; a probe that
    # finished no run has no score
    probes = [{"d": 100, "score": 0.8}, {"d": 30, "score": 0.6}, {"d": 50, "score": 0.8},
              {"d": 20, "score": None}]  # fmt: skip
    finished = {**result("a", "t", "said", 50), "d_max": 1000, "D": 123, "rounds": 2,
                "probes_run": 4, "training_runs": 8, "non_monotone": False, "target": 0.7,
                "full_score": 0.8, "eval_majority_accuracy": 0.6, "reason": "reached",
                "probes": probes}  # fmt: skip
    skipped = {"model": "b", "task": "t", "method": "did", "d90": None, "status": "skipped"}
    table = section5.search_table([finished, skipped])
    assert list(table.columns) == section5.SEARCH_COLUMNS == [
        "model", "task", "method", "d90", "lo", "hi", "d_max", "D", "status", "reason", "rounds",
        "probes_run", "training_runs", "non_monotone", "target", "full_score",
        "eval_majority_accuracy", "best_score", "best_score_d",
    ]  # fmt: skip
    assert str(table["d90"].dtype) == str(table["best_score_d"].dtype) == "Int64"
    assert list(section5.search_table([]).columns) == section5.SEARCH_COLUMNS  # headers, no rows
    state = section5.SEARCH_COLUMNS[:-2]
    assert records(table) == [
        {**{key: finished[key] for key in state}, "best_score": 0.8, "best_score_d": 50},
        {**{key: skipped.get(key) for key in state}, "best_score": None, "best_score_d": None},
    ]


def test_the_best_probe_is_the_highest_score_at_the_smallest_d_that_reached_it():
    # the default's seed 0 after 125 updates: every probe failed, the smallest d came closest
    probes = [{"d": d, "score": s} for d, s in ((646, 0.6847), (13925, 0.682),
                                                  (38747, 0.6713), (300000, 0.5787))]  # fmt: skip
    assert section5.best_probe({"probes": probes}) == (0.6847, 646)
    assert section5.best_probe({"probes": [*probes, {"d": 1000, "score": 0.6848}]}) == (
        0.6848, 1000
    )  # fmt: skip
    assert section5.best_probe({"probes": []}) == (None, None)
    assert section5.best_probe({"status": "skipped"}) == (None, None)


def test_the_probe_table_has_a_row_per_probe_with_its_best_rate():
    probes = [{"round": 1, "d": 100, "success": False, "score": 0.6, "reason": "below",
               "best_run": {"lr": "0.1", "seed": 0}},
              {"round": 2, "d": 300, "success": False, "reason": "no run finished",
               "best_run": None},
              {"round": 2, "d": 600, "success": True, "score": 0.8, "reason": "reaches"}]  # fmt: skip
    table = section5.probe_table([{**result("a", "t", "said", 600), "probes": probes},
                                  result("b", "t", "did", None)])  # fmt: skip
    assert list(table.columns) == ["model", "task", "method", "round", "d", "success", "score",
                                   "reason", "best_lr"]  # fmt: skip
    assert records(table) == [
        {"model": "a", "task": "t", "method": "said", "round": 1, "d": 100, "success": False,
         "score": 0.6, "reason": "below", "best_lr": "0.1"},
        {"model": "a", "task": "t", "method": "said", "round": 2, "d": 300, "success": False,
         "score": None, "reason": "no run finished", "best_lr": None},
        {"model": "a", "task": "t", "method": "said", "round": 2, "d": 600, "success": True,
         "score": 0.8, "reason": "reaches", "best_lr": None},
    ]  # fmt: skip
    assert list(section5.probe_table([result("b", "t", "did", None)]).columns) == list(
        table.columns
    )


def test_a_search_that_reached_at_d_min_or_never_ran_has_no_lower_end():
    # lo starts at d_min and is a d that failed only once a probe failed there (lo_verified)
    reached = {**result("a", "t", "said", 50), "lo": 30, "lo_verified": True}
    at_min = {**result("b", "t", "said", 30, "at d_min"), "lo": 30, "lo_verified": False}
    never = {**result("c", "t", "said", None, "skipped"), "lo": 30, "lo_verified": False}
    assert [section5.lower_end(r) for r in (reached, at_min, never)] == [30, None, None]
    assert section5.lower_end(result("d", "t", "said", 50)) == 10  # no flag: lo stands
    metas = {m: {"base_parameters": 10, "reference": m} for m in "abc"}
    results = {(r["model"], "t", "said"): r for r in (reached, at_min, never)}
    table = section5.survey_table(["a", "b", "c"], ["t"], "said", results, metas)
    assert table["d90_lo"].tolist()[0] == 30 and table["d90_lo"].isna().tolist() == [
        False,
        True,
        True,
    ]


def probe(d, success):
    return {"round": 0, "d": d, "success": success, "reason": ""}


def test_failed_above_counts_the_probes_that_failed_above_the_d90_found():
    # d90 = 439: the failures at 440 and 6,438 lie above it, the one at 438 below
    found = {**result("a", "t", "said", 439),
             "probes": [probe(438, False), probe(439, True), probe(440, False),
                        probe(6438, False), probe(20000, True)]}  # fmt: skip
    assert section5.failed_above(found) == 2
    # every probe failed, up to d_max: no d90 for a failure to lie above
    missed = {**result("b", "t", "said", None, "not reached"),
              "probes": [probe(100, False), probe(1000, False)]}  # fmt: skip
    assert section5.failed_above(missed) == 0
    metas = {m: {"base_parameters": 10, "reference": m} for m in "ab"}
    survey = section5.survey_table(["a", "b"], ["t"], "said",
                                   {("a", "t", "said"): found, ("b", "t", "said"): missed},
                                   metas)  # fmt: skip
    assert survey["failed_above"].tolist() == [2, 0]
    baselines = {("a", "t"): baseline([full_run(1e-3, 0, 0.8, 0.9)], best_lr=1e-3)}
    trajectory = section5.trajectory_table({"traj": {0: "a"}}, {"traj": {"tasks": ["t"],
                                           "method": "said"}}, {("a", "t", "said"): found},
                                           baselines)  # fmt: skip
    assert trajectory["failed_above"].tolist() == [2]


def test_the_p_value_of_the_probe_that_set_d90_is_against_the_majority_class():
    # 1,500 eval tweets, majority share 0.686: the default's m@125, whose d90 probe scored 0.704.
    # In the search's order: the first round's success at 13,925 comes before d90's probe.
    probes = [{**probe(232, False), "score": 0.686}, {**probe(13925, True), "score": 0.7373},
              {**probe(646, True), "score": 0.704}]  # fmt: skip
    found = {**result("a", "t", "said", 646), "probes": probes, "metric": "accuracy",
             "eval_size": 1500, "eval_majority_accuracy": 0.686}  # fmt: skip
    assert section5.d90_majority_p(found) == pytest.approx(majority_p_value(0.704, 0.686, 1500))
    assert 0.05 < section5.d90_majority_p(found) < 0.1
    # no d90, another metric, or a state from before it kept its eval size: none
    assert section5.d90_majority_p({**found, "d90": None}) is None
    assert section5.d90_majority_p({**found, "metric": "f1"}) is None
    assert section5.d90_majority_p({k: v for k, v in found.items() if k != "eval_size"}) is None
    # nor where d90's probe kept no score (a state from before probes kept theirs)
    unscored = [{k: v for k, v in p.items() if k != "score"} for p in probes]
    assert section5.d90_majority_p({**found, "probes": unscored}) is None
    metas = {"a": {"base_parameters": 10, "reference": "x"}}
    survey = section5.survey_table(["a"], ["t"], "said", {("a", "t", "said"): found}, metas)
    assert survey["d90_majority_p"].tolist() == [section5.d90_majority_p(found)]
    baselines = {("a", "t"): baseline([full_run(1e-3, 0, 0.8, 0.9)], best_lr=1e-3)}
    trajectory = section5.trajectory_table({"traj": {0: "a"}}, {"traj": {"tasks": ["t"],
                                           "method": "said"}}, {("a", "t", "said"): found},
                                           baselines)  # fmt: skip
    assert trajectory["d90_majority_p"].tolist() == [section5.d90_majority_p(found)]


def test_a_config_without_a_survey_or_a_trajectory_writes_tables_that_read_back_empty(tmp_path):
    # section5_tables writes both files whatever the config has; a file without a header
    # stopped pandas, and with it `make run`'s closing summary, where the default has no survey
    tables = {
        "survey": (section5.survey_table([], [], None, {}, {}), SURVEY_COLUMNS),
        "trajectory": (section5.trajectory_table({}, {}, {}, {}), TRAJECTORY_COLUMNS),
    }
    for name, (table, columns) in tables.items():
        table.to_csv(tmp_path / f"{name}.csv", index=False)
        back = pd.read_csv(tmp_path / f"{name}.csv")
        assert back.empty and list(back.columns) == columns, name
