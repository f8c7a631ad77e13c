"""Section 5 of the integration run: searches, trajectory, survey and bounds against the runs.

Uses the session's integration run (conftest.py), the same one test_workflow.py checks.
"""

import copy
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from config_checks import check
from intdim.analysis import search
from intdim.analysis.d90 import probe_outcome
from snakemake_runs import (
    ROOT,
    STOPPED,
    start_as_from_a_terminal,
    stop_and_resume,
    wait_for,
    wait_while_running,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def section5_config(repo_root):
    merged = yaml.safe_load((repo_root / "config/integration.yaml").read_text())
    extra = yaml.safe_load((repo_root / "config/integration_section5.yaml").read_text())
    merged["tasks"].update(extra.pop("tasks"))
    return {**merged, **extra}


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
        assert row.status == final["status"] and row.lo == final["lo"] and row.hi == final["hi"]
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


PRETRAINING = "results/pretrain/xs/history.json"


@pytest.fixture(scope="module")
def long_pretraining(section5_config, tmp_path_factory):
    """A pre-training long enough to stop mid-way (1,000 updates, its state saved at update
    100 and when asked to stop), its command line, and one run of it never stopped."""
    folder = tmp_path_factory.mktemp("long_pretraining")
    config = copy.deepcopy(section5_config)
    del config["pretraining"]["save_every"]
    config["pretraining"].update(steps=1000, save_at=[100])
    configfile = folder / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))

    def command(workdir: Path):
        return [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
                "--directory", str(workdir), "--configfile", str(configfile), "--cores", "1",
                PRETRAINING]  # fmt: skip

    once = subprocess.run(command(folder / "unstopped"), capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert once.returncode == 0, once.stderr[-3000:]
    return command, folder / "unstopped"


@pytest.mark.parametrize("stop", ["SIGKILL to the job", "Ctrl-C"])
def test_a_stopped_pretraining_job_resumes_and_ends_with_the_bits_of_one_never_stopped(
    long_pretraining, tmp_path, stop
):
    command, unstopped = long_pretraining
    stopped = tmp_path / "stopped"
    job = start_as_from_a_terminal(command(stopped))
    state = stopped / "results/pretrain/xs/resume/state.pt"
    wait_for(state.exists, job)
    script = f"{stopped}/.snakemake/scripts/.*pretrain.py"
    if stop == "Ctrl-C":  # the terminal's SIGINT reaches Snakemake and its job alike
        assert job.poll() is None, "the pre-training ended before its state appeared"
        os.killpg(job.pid, signal.SIGINT)
    else:  # as a lost node or an out-of-memory kill: the job gets no chance to save
        kill = subprocess.run(["pkill", "-9", "-f", script])
        assert kill.returncode == 0, "the pre-training job was not running when its state appeared"
    stderr = job.communicate(timeout=600)[1]
    wait_while_running(script)
    assert job.returncode != 0 and not (stopped / PRETRAINING).exists(), stderr[-3000:]
    log = (stopped / "logs/pretrain/xs.log").read_text()
    if stop == "Ctrl-C":  # the job saved the update under way, after the checkpoint's state
        stopped_by = STOPPED.search(log)
        assert stopped_by and stopped_by.group(1) == "SIGINT", log[-3000:]
        saved = int(stopped_by.group(2))
        assert 100 < saved < 1000
    else:
        saved = 100

    again = subprocess.run(command(stopped), capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    log = (stopped / "logs/pretrain/xs.log").read_text()
    assert f"resumed from the state saved after update {saved} in" in log
    # A stopped attempt's lines stay above the resumed one's; a killed one could keep none.
    expected = ("SIGINT", saved, saved) if stop == "Ctrl-C" else None
    assert stop_and_resume(log) == expected, log[-3000:]
    assert json.loads((stopped / PRETRAINING).read_text())["resumed_at"] == [saved]
    assert not state.parent.exists()
    compare = subprocess.run([sys.executable, str(ROOT / "tools/compare_runs.py"), str(stopped),
                              str(unstopped)], capture_output=True, text=True)  # fmt: skip
    assert compare.returncode == 0 and "pretrain/xs/history.json" in compare.stdout, compare.stdout
    for step in (0, 100, 1000):  # every checkpoint's files, to the sha256
        manifests = [(run / f"results/pretrain/xs/step{step}/manifest.json").read_text()
                     for run in (stopped, unstopped)]  # fmt: skip
        assert manifests[0] == manifests[1]


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
