"""The real workflow, end to end, on config/integration.yaml with the Section 5 miniature of
config/integration_section5.yaml merged on top (a few minutes on 2 cores)."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from snakemake_runs import (
    STOPPED,
    planned_jobs,
    snakemake_cmd,
    start_as_from_a_terminal,
    stop_and_resume,
    wait_for,
    wait_while_running,
)
from snakemake_runs import snakemake as run_snakemake

pytestmark = pytest.mark.slow


def test_runs_table_holds_every_run_with_its_real_metrics(run):
    runs = pd.read_csv(run / "results/tables/runs.csv")
    sub = runs[runs["method"] != "full"]
    assert sorted(zip(sub["method"], sub["d"], strict=True)) == [
        ("did", 10),
        ("did", 200),
        ("said", 10),
        ("said", 200),
    ]
    for row in sub.itertuples():
        metrics = json.loads(
            (
                run
                / f"results/subspace/minilm/tweets/{row.method}/d{row.d}/lr{row.lr:g}/seed0/metrics.json"
            ).read_text()
        )
        assert metrics["eval_accuracy"] == pytest.approx(row.eval_accuracy)
        assert metrics["num_trainable"] == row.d
        assert metrics["steps_done"] == 3 and len(metrics["loss_curve"]) == 3
        assert metrics["resumed_at"] == []
        assert 0.0 <= row.eval_accuracy <= 1.0 and row.status == "ok"
    full = runs[runs["method"] == "full"]
    assert len(full) == 1 and full["d"].iloc[0] == full["D"].iloc[0] > 22_000_000
    assert not list((run / "results").rglob("resume"))  # every finished run removed its state


def test_d90_and_table1_follow_from_the_runs(run):
    runs = pd.read_csv(run / "results/tables/runs.csv")
    d90 = pd.read_csv(run / "results/tables/d90.csv")
    baseline = json.loads((run / "results/full/minilm/tweets/baseline.json").read_text())
    assert set(d90["method"]) == {"did", "said"}
    for row in d90.itertuples():
        assert row.threshold_score == pytest.approx(0.9 * baseline["full_score"])
        scores = runs[(runs["method"] == row.method)].set_index("d")["eval_accuracy"]
        reaching = sorted(d for d, s in scores.items() if s >= row.threshold_score)
        assert (reaching[0] if reaching else None) == (None if pd.isna(row.d90) else int(row.d90))
    table = pd.read_csv(run / "results/tables/table1.csv")
    assert list(table.columns) == ["model", "D", "tweets DID", "tweets SAID"]


def test_figure_notebook_and_report_are_produced(run):
    png = (run / "results/figures/figure1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    html = (run / "results/notebooks/analysis.html").read_text()
    assert "Relative generalization gap" in html and "d90_interpolated" in html
    report = (run / "report.html").read_text(errors="replace")
    assert len(report) > 100_000
    for name in (
        "figure1.png",
        "runs.csv",
        "d90.csv",
        "table1.csv",
        "analysis.html",
        "figure2.png",
        "figure3.png",
        "figure4_5.png",
        "search.csv",
        "bounds.csv",
    ):
        assert name in report  # fmt: skip
    # The landing page is the run's own summary: what ran and the headline tables.
    summary = (run / "results/report/summary.rst").read_text()
    assert "d90 from the sweep" in summary and "d90 from the searches" in summary
    assert "minilm" in summary and "10, 200" in summary
    assert "d90 from the sweep" in report


def test_editing_one_pretraining_size_reruns_only_that_size(run, repo_root, tmp_path):
    """params carry exactly what each pre-training job reads: a new shape for one size plans
    that size's pre-training and what uses its checkpoints, never the corpus or tokenizer."""
    import yaml

    edited = tmp_path / "edited.yaml"
    section5 = yaml.safe_load((repo_root / "config/integration_section5.yaml").read_text())
    section5["pretraining"]["sizes"]["xs"]["hidden_size"] = 24
    edited.write_text(yaml.safe_dump(section5, sort_keys=False))  # key order is part of params
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(repo_root / "Snakefile"),
        "--directory", str(run), "--cores", "1", "-n", "--configfile",
        str(repo_root / "config/integration.yaml"), str(edited),
    ]  # fmt: skip
    jobs = planned_jobs(subprocess.run(cmd, capture_output=True, text=True).stdout)
    assert jobs.get("pretrain") == 1
    assert "build_corpus" not in jobs and "train_tokenizer" not in jobs


def test_the_workflow_runs_as_a_module_of_another_workflow(repo_root, tmp_path):
    """`module` + `use rule * from` in a workflow elsewhere: paths resolve to this checkout."""
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "Snakefile").write_text(
        f'configfile: "{repo_root}/config/integration.yaml"\n\n\n'
        f"module intdim:\n"
        f'    snakefile:\n        "{repo_root}/Snakefile"\n'
        f"    config:\n        config\n\n\n"
        f"use rule * from intdim as intdim_*\n"
    )
    base = [sys.executable, "-m", "snakemake", "--cores", "2"]
    dry = subprocess.run([*base, "-n"], cwd=outer, capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    jobs = planned_jobs(dry.stdout)
    assert jobs["intdim_subspace_run"] == 4 and jobs["intdim_analysis_notebook"] == 1
    # One training run through the module: the script, conda and notebook paths all resolve.
    target = "results/subspace/minilm/tweets/did/d10/lr0.5/seed0/metrics.json"
    proc = subprocess.run([*base, target], cwd=outer, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((outer / target).read_text())["num_trainable"] == 10


def test_rerun_resumes_only_what_is_missing(run, repo_root):
    assert "Nothing to be done" in run_snakemake(run, "-n").stdout
    # What an interruption leaves: one run lost (a killed job's outputs are removed) and
    # nothing downstream written yet. Re-running redoes that run and what follows, nothing else.
    shutil.rmtree(run / "results/subspace/minilm/tweets/did/d10")
    for folder in ("results/tables", "results/figures", "results/notebooks"):
        shutil.rmtree(run / folder)
    jobs = planned_jobs(run_snakemake(run, "-n").stdout)
    assert jobs == {
        "subspace_run": 1, "collect_runs": 1, "compute_d90": 1, "plot_figure1": 1,
        "analysis_notebook": 1, "section5_tables": 1, "plot_figure2": 1, "plot_figure3": 1,
        "plot_figures4_5": 1, "report_summary": 1, "all": 1,
    }  # fmt: skip
    assert run_snakemake(run).returncode == 0
    assert (run / "results/tables/d90.csv").is_file()


def test_a_subspace_job_stopped_with_ctrl_c_resumes_from_its_saved_state(tmp_path):
    """Ctrl-C (SIGINT to Snakemake and its job) as a DID run trains: the job saves its state
    after the update under way and stops; the same command resumes it and finishes it."""
    override = tmp_path / "long.yaml"
    override.write_text("subspace: {steps: 40}\n")
    target = "results/subspace/minilm/tweets/did/d200/lr0.5/seed0/metrics.json"
    cmd = snakemake_cmd(tmp_path / "run", "--cores", "1", target,
                        configs=("integration.yaml", override))  # fmt: skip
    job = start_as_from_a_terminal(cmd)
    log = tmp_path / "run/logs/subspace/minilm/tweets/did/d200_lr0.5_seed0.log"
    # The progress bar appears once the loop, and its stop handling, has started.
    wait_for(lambda: log.exists() and "training:" in log.read_text(), job)
    assert job.poll() is None, "the run ended before its training started"
    os.killpg(job.pid, signal.SIGINT)
    stderr = job.communicate(timeout=600)[1]
    wait_while_running(f"{tmp_path}/run/.snakemake/scripts/.*train.py")
    assert job.returncode != 0 and not (tmp_path / "run" / target).exists(), stderr[-3000:]
    stopped = STOPPED.search(log.read_text())
    assert stopped and stopped.group(1) == "SIGINT", log.read_text()[-3000:]
    saved = int(stopped.group(2))
    assert 1 <= saved < 40

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    # The log keeps the stopped attempt's lines above the resumed one's.
    assert stop_and_resume(log.read_text()) == ("SIGINT", saved, saved), log.read_text()[-3000:]
    metrics = json.loads((tmp_path / "run" / target).read_text())
    assert metrics["resumed_at"] == [saved] and metrics["steps_done"] == 40
    assert len(metrics["loss_curve"]) == 40 and metrics["status"] == "ok"
    assert not (tmp_path / "run" / target).with_name("resume").exists()


def _integration_variant(repo_root, tmp_path, **changes) -> Path:
    import yaml

    config = yaml.safe_load((repo_root / "config/integration.yaml").read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            config[key].update(value)
        else:
            config[key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without a GPU")
def test_a_gpu_job_on_a_machine_without_one_fails_with_the_named_error(repo_root, tmp_path):
    configfile = _integration_variant(repo_root, tmp_path, resources={"gpu": 1})
    workdir = tmp_path / "nogpu"
    target = "results/full/minilm/tweets/lr0.0001/seed0/metrics.json"
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(repo_root / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(configfile), "--cores", "1", target,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0
    log = (workdir / "logs/full/minilm/tweets/lr0.0001_seed0.log").read_text()
    assert "rule full_finetune asks for 1 GPU(s) (config resources.gpu: 1)" in log
    assert not (workdir / target).exists()


def test_one_training_job_run_twice_gives_identical_metrics(tmp_path):
    """Same config, seed and thread count on the same machine: the same numbers, to the bit."""
    from snakemake_runs import snakemake_cmd

    workdir = tmp_path / "twice"
    target = "results/subspace/minilm/tweets/said/d200/lr0.5/seed0/metrics.json"

    def run(*extra):
        proc = subprocess.run(snakemake_cmd(workdir, "--cores", "1", *extra, target),
                              capture_output=True, text=True, timeout=900)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        metrics = json.loads((workdir / target).read_text())
        return {k: v for k, v in metrics.items() if not k.endswith("_seconds")}

    first = run()
    written = (workdir / target).stat().st_mtime_ns
    # "--forcerun=RULE": the spaced form would also read the target as a rule to force.
    second = run("--forcerun=subspace_run")
    assert (workdir / target).stat().st_mtime_ns != written  # the job did run again
    assert first == second
    assert first["environment"]["threads"] == 1 and first["environment"]["torch"]
    assert first["loss_curve"] and first["settings"]["seed"] == 0


def test_a_task_file_of_the_run_exports_to_a_hugging_face_directory(run, tmp_path):
    """The real MiniLM task file, as the README's export command makes it: the directory loads
    with transformers alone and predicts what the subspace model predicts."""
    from intdim.method.export import export_pretrained, load_task
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    task = next((run / "results/subspace/minilm/tweets/said").rglob("task.safetensors"))
    export_pretrained(task, tmp_path / "hf")
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "hf").eval()
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "hf")
    texts = ["what a lovely morning", "this is the worst service ever", "meh", "ok then"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    sub = load_task(task).eval()
    with torch.no_grad():
        expected, got = sub(**batch).logits, loaded(**batch).logits
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert torch.equal(got.argmax(-1), expected.argmax(-1))
