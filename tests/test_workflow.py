"""The real workflow, end to end, on config/integration.yaml with the Section 5 miniature of
config/integration_section5.yaml merged on top (a few minutes on 2 cores)."""

import json
import shutil

import pandas as pd
import pytest
import torch
from snakemake_runs import (
    planned_jobs,
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
    dry_run = run_snakemake(run, "-n", configs=("integration.yaml", str(edited)))
    jobs = planned_jobs(dry_run.stdout)
    assert jobs.get("pretrain") == 1
    assert "build_corpus" not in jobs and "train_tokenizer" not in jobs


def test_a_copy_of_the_run_reruns_what_a_changed_config_affects(run, repo_root, tmp_path):
    """tools/copy_run.py's copy: a second subspace rate for Section 5 plans its new runs and
    searches there, never pre-training again; a copy of the files alone plans nothing."""
    import yaml
    from intdim.pipeline.run_copy import copy_run

    assert "Nothing to be done" in run_snakemake(run, "-n").stdout  # the run is finished
    section5 = yaml.safe_load((repo_root / "config/integration_section5.yaml").read_text())
    section5["pretraining"]["subspace"]["learning_rates"] = [0.05, 0.1]
    changed = tmp_path / "two_rates.yaml"
    changed.write_text(yaml.safe_dump(section5, sort_keys=False))

    def planned(folder):
        return run_snakemake(folder, "-n", configs=("integration.yaml", str(changed))).stdout

    copy_run(run, tmp_path / "trial")
    jobs = planned_jobs(planned(tmp_path / "trial"))
    assert jobs.get("search_round", 0) >= 1 and jobs.get("subspace_run", 0) >= 1
    assert not {"pretrain", "build_corpus", "full_finetune", "select_baseline"} & set(jobs)
    for name in ("results", "logs", "benchmarks"):
        shutil.copytree(run / name, tmp_path / "files_alone" / name)
    assert "Nothing to be done" in planned(tmp_path / "files_alone")


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
