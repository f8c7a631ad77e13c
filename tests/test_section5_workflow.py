"""Section 5 of the integration run: searches, trajectory, survey and bounds against the runs.

Uses the session's integration run (conftest.py), the same one test_workflow.py checks.
"""

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from config_checks import check
from intdim.analysis import search
from intdim.analysis.d90 import probe_outcome

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def section5_plan(section5_config):
    return check(copy.deepcopy(section5_config))


def rounds(run: Path, model, task, method):
    folder = run / f"results/search/{model}/{task}/{method}"
    files = sorted(folder.glob("round*.json"), key=lambda p: int(p.stem[5:]))
    return [json.loads(p.read_text()) for p in files]


def test_every_search_is_in_the_table_with_its_final_state(run, section5_plan):
    table = pd.read_csv(run / "results/tables/search.csv")
    expected = section5_plan.searches
    assert sorted(zip(table.model, table.task, table.method, strict=True)) == sorted(expected)
    for row in table.itertuples():
        states = rounds(run, row.model, row.task, row.method)
        final = states[-1]
        assert final["done"] and not any(s["done"] for s in states[:-1])
        assert len(states) == final["round"] + 1 == row.rounds + 1
        assert (None if pd.isna(row.d90) else int(row.d90)) == final["d90"]
        # A search that reached nothing, none of whose probes beat the majority class, learned
        # nothing: the table says so rather than "not reached".
        learned = any(p["score"] is not None and p["score"] > final["eval_majority_accuracy"]
                      for p in final["probes"])  # fmt: skip
        untrained = final["status"] == "not reached" and not learned
        assert row.status == ("nothing learned" if untrained else final["status"])
        assert row.lo == final["lo"] and row.hi == final["hi"]
        if row.status == "skipped":
            assert "does not beat the majority class" in row.reason and row.probes_run == 0
    # At least one search probed, so the tests of probes and bounds below check something.
    assert (table["probes_run"] > 0).any()


def test_every_probe_is_judged_from_its_real_runs(run, section5_config):
    probes = pd.read_csv(run / "results/tables/probes.csv")
    search_table = pd.read_csv(run / "results/tables/search.csv").set_index(
        ["model", "task", "method"]
    )
    lr = section5_config["pretraining"]["subspace"]["learning_rates"][0]
    for row in probes.itertuples():
        target = search_table.loc[(row.model, row.task, row.method), "target"]
        majority = search_table.loc[(row.model, row.task, row.method), "eval_majority_accuracy"]
        lr_used = (
            lr if row.model.startswith("pt-") else section5_config["subspace"]["learning_rates"][0]
        )
        path = (run / f"results/subspace/{row.model}/{row.task}/{row.method}/d{row.d}/"
                f"lr{lr_used:g}/seed0/metrics.json")  # fmt: skip
        metrics = json.loads(path.read_text())
        assert metrics["d"] == row.d
        if metrics["status"] != "infeasible":  # an infeasible d trained nothing
            assert metrics["num_trainable"] == row.d
        # the pre-trained models' rate falls as 1 / d (lr_exponent 1); MiniLM's is as given;
        # an infeasible d records the rate it would have trained at
        reference = section5_config["pretraining"]["subspace"]["lr_reference_d"]
        expected = lr * reference / row.d if row.model.startswith("pt-") else lr_used
        assert metrics["effective_lr"] == pytest.approx(expected, rel=1e-12)
        again = probe_outcome([metrics], "accuracy", target, majority)
        assert again["success"] == row.success and again["reason"] == row.reason
    # the bracket logic of the pure search reproduces each recorded search from its probes
    for (model, task, method), group in probes.groupby(["model", "task", "method"]):
        states = rounds(run, model, task, method)
        replay = states[0]
        for r in sorted(group["round"].unique()):
            at = group[group["round"] == r]
            replay = search.advance(replay, {int(p.d): {"success": bool(p.success),
                                                        "reason": p.reason} for p in at.itertuples()})  # fmt: skip
        assert (replay["lo"], replay["hi"], replay["d90"]) == (
            states[-1]["lo"],
            states[-1]["hi"],
            states[-1]["d90"],
        )


def test_a_balanced_task_has_every_label_equally_often(run, section5_config):
    task = section5_config["tasks"]["tweets3"]
    assert task["balance"]
    info = json.loads((run / "results/data/tweets3/info.json").read_text())
    assert info["eval_balance"] == {"negative": 133, "neutral": 133, "positive": 133}
    assert info["eval_majority_accuracy"] == 133 / 399
    train = pd.read_parquet(run / "results/data/tweets3/train.parquet")
    assert train["label"].value_counts().to_dict() == {0: 170, 1: 170, 2: 170}


def test_trajectory_rows_come_from_the_full_fine_tuning_runs(run, section5_config):
    table = pd.read_csv(run / "results/tables/trajectory.csv")
    steps = sorted(table["step"].unique())
    assert steps == [0, 10, 20] and set(table["task"]) == {"tweets", "tweets3"}
    for row in table.itertuples():
        base = json.loads((run / f"results/full/{row.model}/{row.task}/baseline.json").read_text())
        full = [json.loads(p.read_text())
                for p in (run / f"results/full/{row.model}/{row.task}").glob("lr*/seed*/metrics.json")]  # fmt: skip
        # the mean over every seed at the baseline's rate
        at_rate = [m for m in full if m["lr"] == base["best_lr"]]
        assert at_rate and len(at_rate) == len(full) / len({m["lr"] for m in full})
        assert row.eval_accuracy == pytest.approx(np.mean([m["eval_accuracy"] for m in at_rate]))
        for key in ("train_accuracy", "train_accuracy_at_eval_balance"):
            assert getattr(row, key) == pytest.approx(np.mean([m[key] for m in at_rate]))
        assert row.beats_majority == base["beats_majority"]
        if row.eval_accuracy < 1:
            at_balance = row.train_accuracy_at_eval_balance
            gap = (at_balance - row.eval_accuracy) / (1 - row.eval_accuracy)
            assert row.relative_gap == pytest.approx(gap)


def test_survey_counts_parameters_of_each_model(run, section5_plan):
    table = pd.read_csv(run / "results/tables/survey.csv")
    assert tuple(table["model"]) == section5_plan.survey_models
    for row in table.itertuples():
        meta = json.loads((run / f"results/models/{row.model}/meta.json").read_text())
        assert row.parameters == meta["base_parameters"]
    sizes = table.set_index("model")["parameters"]
    assert sizes["pt-xs-step20"] < sizes["pt-s-step20"] < sizes["minilm"]


def test_bounds_exist_exactly_for_the_searches_that_found_d90(run):
    table = pd.read_csv(run / "results/tables/search.csv")
    bounds = pd.read_csv(run / "results/tables/bounds.csv")
    reached = table[table["d90"].notna()]
    assert sorted(zip(bounds.model, bounds.task, strict=True)) == sorted(
        zip(reached.model, reached.task, strict=True)
    )
    for row in bounds.itertuples():
        assert row.bound >= row.train_error_quantised and row.d < row.D
    for figure in ("figure2", "figure3", "figure4_5"):
        png = (run / f"results/figures/{figure}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_pretraining_wrote_a_checkpoint_per_save_step(run):
    info = json.loads((run / "results/pretrain/corpus/info.json").read_text())
    assert info["train_paragraphs"] > 200 and info["corpus"] == "gensim_lee"
    for size in ("xs", "s"):
        history = json.loads((run / f"results/pretrain/{size}/history.json").read_text())
        assert [c["global_step"] for c in history["checkpoints"]] == [0, 10, 20]
        meta = json.loads((run / f"results/models/pt-{size}-step20/meta.json").read_text())
        assert meta["revision"] == "step-20" and meta["model_type"] == "roberta"
        assert history["environment"]["numerics"] == "portable"
        assert (
            history["resumed_at"] == [] and not (run / f"results/pretrain/{size}/resume").exists()
        )


def test_runs_on_the_workflows_own_models_and_only_those_chose_portable_numerics(run):
    # portable_cpu_numerics' default, "pretrained": the integration config does not set it
    chosen = {}
    for path in (run / "results").rglob("metrics.json"):
        metrics = json.loads(path.read_text())
        if "environment" in metrics:
            own = metrics["model"].startswith("pt-")
            chosen.setdefault(own, set()).add(metrics["environment"]["numerics"])
            assert metrics["environment"]["cpu_capability"] == ("DEFAULT" if own else
                                                                 torch_capability())  # fmt: skip
    assert chosen == {True: {"portable"}, False: {"native"}}


def torch_capability() -> str:
    import torch

    return torch.backends.cpu.get_cpu_capability()
