"""The developer tools that report on a finished run: time by stage, the README section."""

import json
import os
from datetime import datetime

import pandas as pd
import pytest
from intdim.analysis import run_report as readme_section
from intdim.analysis import run_time as time_breakdown
from intdim.analysis.findings import ONE_DRAW_NOTE, POOLING_NOTE


def write_job(root, bench: str, seconds: float, metrics: str | None = None, **split):
    tsv = root / "benchmarks" / bench
    tsv.parent.mkdir(parents=True, exist_ok=True)
    tsv.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:00\t1.0\n")
    if metrics:
        path = root / "results" / metrics
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(split))


def test_time_breakdown_sums_jobs_by_stage_with_the_training_split(tmp_path):
    write_job(tmp_path, "subspace/minilm/t/did/d300_lr0.5_seed0.tsv", 100.0,
              "subspace/minilm/t/did/d300/lr0.5/seed0/metrics.json", setup_seconds=20.0,
              encode_seconds=1.0, train_seconds=60.0, eval_seconds=10.0)  # fmt: skip
    write_job(tmp_path, "subspace/pt-m-step500/t/said/d30_lr0.02_seed0.tsv", 40.0,
              "subspace/pt-m-step500/t/said/d30/lr0.02/seed0/metrics.json", setup_seconds=8.0,
              encode_seconds=0.0, train_seconds=25.0, eval_seconds=2.0)  # fmt: skip
    write_job(tmp_path, "full/minilm/t/lr5e-05_seed0.tsv", 50.0,
              "full/minilm/t/lr5e-05/seed0/metrics.json", setup_seconds=15.0,
              encode_seconds=1.0, train_seconds=30.0, eval_seconds=3.0)  # fmt: skip
    write_job(tmp_path, "analysis_notebook.tsv", 5.0)
    stages = time_breakdown.breakdown(tmp_path)
    assert set(stages) == {"subspace (minilm)", "subspace (own pre-trained)", "full (minilm)",
                           "analysis_notebook"}  # fmt: skip
    assert stages["subspace (minilm)"]["job_seconds"] == 100.0
    assert stages["subspace (minilm)"]["train_seconds"] == 60.0
    table = time_breakdown.format_table(stages)
    # the rest is what no part of the job accounts for: 100 - (20 + 1 + 60 + 10)
    assert "| subspace (minilm) | 1 | 100 | 20 | 1 | 60 | 10 | 9 |" in table
    assert "| analysis_notebook | 1 | 5 | - | - | - | - | - |" in table
    assert table.splitlines()[-1].startswith("| all | 4 | 195 |")


def write_log(root, started: str, text: str, last_write: float | None = None):
    log = root / ".snakemake/log" / f"{started}.snakemake.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text)
    if last_write is not None:
        os.utime(log, (last_write, last_write))
    return log


def test_wall_time_adds_the_invocations_that_ran_jobs_and_a_stopped_one_ends_at_its_last_write(
    tmp_path,
):
    write_log(tmp_path, "2026-12-03T094945.931638",
              "Finished jobid: 8 (Rule: x)\nElapsed time: 0:08:38.251217\n")  # fmt: skip
    write_log(tmp_path, "2026-12-03T095000.000000", "Building DAG of jobs...\nCreating report...\n")
    stopped_start = datetime(2026, 12, 3, 11, 0, 0).timestamp()
    write_log(tmp_path, "2026-12-03T110000.000000",
              "Finished jobid: 3 (Rule: y)\nWill exit after finishing currently running jobs\n",
              last_write=stopped_start + 125.5)  # fmt: skip
    write_log(tmp_path, "2026-12-04T000000.000000",
              "Finished jobid: 1 (Rule: z)\nElapsed time: 1 day, 2:03:04\n")  # fmt: skip
    parts = time_breakdown.wall_parts(tmp_path)
    assert [p["log"][:17] for p in parts] == ["2026-12-03T094945", "2026-12-03T110000",
                                               "2026-12-04T000000"]  # fmt: skip
    assert parts[0] == {"log": "2026-12-03T094945.931638.snakemake.log",
                        "seconds": 518.251217, "ended": True}  # fmt: skip
    assert parts[1]["seconds"] == pytest.approx(125.5, abs=1e-3)
    assert parts[1]["ended"] is False
    assert parts[2]["seconds"] == 26 * 3600 + 3 * 60 + 4
    assert time_breakdown.wall_parts(tmp_path / "elsewhere") == []


def test_readme_markers_are_replaced_and_missing_markers_are_named():
    text = "intro\n<!-- x:begin -->\nold\n<!-- x:end -->\noutro\n"
    assert readme_section.replace_between_markers(text, "x", "new\n") == (
        "intro\n<!-- x:begin -->\nnew\n<!-- x:end -->\noutro\n"
    )
    with pytest.raises(SystemExit, match="no <!-- y:begin --> ... <!-- y:end --> markers"):
        readme_section.replace_between_markers(text, "y", "new\n")


def test_intervals_and_tables_as_the_readme_shows_them():
    frame = pd.DataFrame({"lo": [None, 300.0, 10.0], "hi": [100.0, 1000.0, None]})
    assert list(readme_section.interval(frame, "lo", "hi")) == [
        "(0, 100]", "(300, 1,000]", "not reached"]  # fmt: skip
    # with a noun, the failures above each d90 follow it; a table without the count has none
    assert list(readme_section.interval(frame, "lo", "hi", "probe")) == [
        "(0, 100]", "(300, 1,000]", "not reached"]  # fmt: skip
    counted = frame.assign(failed_above=[2, 0, 0], d90_majority_p=[0.01, 0.07, None])
    assert list(readme_section.interval(counted, "lo", "hi", "probe")) == [
        "(0, 100] (2 probes above it failed)",
        "(300, 1,000] (its probe within chance of the majority class, p = 0.07)",
        "not reached"]  # fmt: skip
    # a sweep's grid has no deciding probe: its bracket takes no such note
    assert list(readme_section.interval(counted, "lo", "hi", "grid point"))[1] == "(300, 1,000]"
    table = readme_section.markdown_table(
        pd.DataFrame({"a": [1_000, None], "b": [0.123456, 2.0], "c": ["x", "y"]}), ["a", "b", "c"]
    )
    assert table.splitlines() == ["| a | b | c |", "|---|---|---|", "| 1000 | 0.1235 | x |",
                                  "| - | 2 | y |"]  # fmt: skip


def test_the_commit_is_the_one_the_jobs_recorded(tmp_path):
    assert readme_section.commit(tmp_path) == "unknown (the run recorded no commit)"
    for name, clean in (("a", True), ("b", True)):
        path = tmp_path / "results" / name / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"environment": {"commit": "0123456789abc", "clean": clean}}))
    assert readme_section.commit(tmp_path) == "0123456"
    path.write_text(json.dumps({"environment": {"commit": "0123456789abc", "clean": False}}))
    assert readme_section.commit(tmp_path) == "0123456 (modified)"


def test_the_runs_kept_inside_a_run_are_not_its_own(tmp_path):
    # make offline-full and make section5-seeds keep their runs in results/<name>/results/.
    for job, commit, seed in (("full/m/t/lr1/seed0", "aaaaaaa1", 0),
                              ("offline_full/results/full/m/t/lr1/seed1", "bbbbbbb2", 1),
                              ("section5_seed3/results/subspace/m/seed3", "ccccccc3", 3)):  # fmt: skip
        path = tmp_path / "results" / job / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"seed": seed, "environment": {"commit": commit}}))
    assert readme_section.commit(tmp_path) == "aaaaaaa"
    assert readme_section.recorded_seeds(tmp_path) == [0]
    assert readme_section.recorded_seeds(tmp_path / "results/offline_full") == [1]


def test_the_machine_line_names_the_recorded_cpu_and_the_numerics_the_jobs_chose(tmp_path):
    import os

    def job(name, numerics):
        path = tmp_path / "results" / name / "metrics.json"
        path.parent.mkdir(parents=True)
        env = {"cpu": "AMD EPYC (family 25, model 1; avx2)", "torch": "2.13.0+cpu", "threads": 1}
        path.write_text(
            json.dumps({"environment": env | ({"numerics": numerics} if numerics else {})})
        )

    start = f"AMD EPYC (family 25, model 1; avx2), {os.cpu_count()} cores, torch 2.13.0+cpu, 1 thread(s) a job"
    job("a", None)  # a run from before numerics were recorded says nothing about them
    assert readme_section.machine(tmp_path) == start
    job("b", "native")
    assert readme_section.machine(tmp_path) == start + ", native numerics"
    job("c", "portable")
    assert (
        readme_section.machine(tmp_path) == start + ", portable numerics for its pre-trained models"
    )


def test_the_rate_table_marks_collapsed_and_unfinished_runs_and_needs_two_rates():
    nan = float("nan")
    runs = pd.DataFrame({
        "model": ["m"] * 9, "method": ["did"] * 8 + ["full"],
        "d": [100, 100, 100, 1000, 1000, 1000, 10, 10, 5],
        "lr": [0.2, 0.2, 0.8, 0.2, 0.8, 0.8, 0.2, 0.8, 1e-4],
        "status": ["ok"] * 5 + ["diverged", "ok", "diverged", "ok"],
        "eval_accuracy": [0.8, 0.7, 0.6, 0.9, 0.55, nan, 0.5, nan, 0.95],
        "collapsed": [False, False, True, False, True, False, False, False, False],
    })  # fmt: skip
    table = readme_section.rate_table(runs).splitlines()
    assert table[0] == "| model | method | d | lr 0.2 | lr 0.8 |"
    assert table[2] == "| m | did | 10 | 0.5000 | diverged |"
    assert table[3] == "| m | did | 100 | 0.7500 | 0.6000 (collapsed 1/1) |"
    assert table[4] == "| m | did | 1,000 | 0.9000 | 0.5500 (collapsed 1/2, not finished 1/2) |"
    assert readme_section.rate_table(runs[runs["lr"] != 0.8]) is None


def write_section5_run(root, seeds):
    """A run whose targets were Section 5's figures: trajectory.csv, no runs.csv or d90.csv."""
    tables = root / "results/tables"
    tables.mkdir(parents=True)
    pd.DataFrame({
        "trajectory": ["scratch"] * 5, "step": [0, 60, 125, 500, 2000],
        "model": [f"pt-m-step{s}" for s in (0, 60, 125, 500, 2000)], "task": ["t"] * 5,
        "method": ["said"] * 5, "d90": [None, None, 2876, 228, 137],
        "d90_lo": [60231, None, 1732, 137, 83], "d90_hi": [100000, 100000, 2876, 228, 137],
        "search_status": ["not reached", "skipped"] + ["reached"] * 3,
        "beats_majority": [True, False, True, True, True],
        "majority_p_value": [0.009, 0.53, 0.00017, 0.003, 0.015],
        "eval_accuracy": [0.73, 0.7475, 0.77, 0.78, 0.8],
        "relative_gap": [0.05, 0.0, 0.1, 0.15, 0.2], "seeds": [2] * 5,
    }).to_csv(tables / "trajectory.csv", index=False)  # fmt: skip
    for seed in seeds:
        path = root / f"results/full/pt-m-step60/t/lr0.003/seed{seed}/metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"seed": seed, "environment": {"commit": "0123456789"}}))


def test_a_section5_only_run_gets_its_trajectory_and_findings_and_no_sweep(tmp_path):
    write_section5_run(tmp_path, seeds=[3, 2])
    body = readme_section.section(tmp_path, "config/x.yaml", 600.0, "snakemake")
    assert "at commit 0123456" in body
    assert (
        "no sweep (only Section 5's tables), full fine-tunes and probes with seeds [2, 3]" in body
    )
    assert "d90 from the sweep" not in body and "orders of magnitude" not in body
    assert "| 60 | t | not searched | skipped | 0.53 | 0.7475 | 0 |" in body
    # every probe failed, the one at d_max = 100,000 too: d90 lies above it, not in (60,231, ...]
    assert "| 0 | t | > 100,000 | not reached | 0.009 | 0.73 | 0.05 |" in body
    assert "| 125 | t | (1,732, 2,876] | reached | 0.00017 | 0.77 | 0.1 |" in body
    assert (
        "d90 falls as pre-training goes on (t; Figure 2): **agrees** (one pre-training run, the "
        "mean of 2 seeds)" in body
    )
    assert f"\n\n{ONE_DRAW_NOTE}\n" in body
    with pytest.raises(SystemExit, match="d90.csv"):
        readme_section.headline(tmp_path, "config/x.yaml", 600.0, "snakemake")


def test_a_search_that_learned_nothing_shows_no_bracket_and_counts_for_no_finding(tmp_path):
    write_section5_run(tmp_path, seeds=[0])
    path = tmp_path / "results/tables/trajectory.csv"
    table = pd.read_csv(path)
    # After 2,000 updates no probe beat the majority class, at the rate tried.
    last = table["step"] == 2000
    table.loc[last, ["d90", "d90_lo", "d90_hi", "search_status"]] = [
        None, 60231, 100000, "nothing learned"
    ]  # fmt: skip
    table.to_csv(path, index=False)
    body = readme_section.section(tmp_path, "config/x.yaml", None, "snakemake")
    assert "| 2,000 | t | nothing learned | nothing learned | 0.015 | 0.8 | 0.2 |" in body
    # Counted as d90 above 100,000 it would end the line above 125's (1,732, 2,876]: disagrees.
    assert (
        "d90 falls as pre-training goes on (t; Figure 2): **not resolved**. 2 checkpoints with a "
        "d90 or d90 > d_max: a trend needs at least 3" in body
    )


def test_a_directory_with_neither_d90_nor_trajectory_is_not_a_finished_run(tmp_path):
    (tmp_path / "results/tables").mkdir(parents=True)
    with pytest.raises(SystemExit, match="neither d90.csv nor trajectory.csv"):
        readme_section.read_tables(tmp_path)


def test_a_trajectory_table_from_before_the_majority_test_still_renders(tmp_path):
    write_section5_run(tmp_path, seeds=[0])
    path = tmp_path / "results/tables/trajectory.csv"
    pd.read_csv(path).drop(columns=["search_status", "majority_p_value"]).to_csv(path, index=False)
    body = readme_section.section(tmp_path, "config/x.yaml", None, "snakemake")
    assert "| step | task | d90 interval | eval_accuracy | relative_gap |" in body
    assert "| 60 | t | not reached | 0.7475 | 0 |" in body


def test_the_headline_gives_each_verdict_its_seeds_and_cautions_a_verdict_of_one(tmp_path):
    write_section5_run(tmp_path, seeds=[0])
    tables = tmp_path / "results/tables"
    pd.DataFrame({"model": "m", "task": "t", "method": ["did", "said"], "D": 1_000_000,
                  "full_score": 0.8, "d90_lo": [1000, 100], "d90": [3000, 300], "seeds": 1,
                  "d90_by_seed": ["0: 3000", "0: 300"]}).to_csv(tables / "d90.csv", index=False)  # fmt: skip
    pd.DataFrame({"method": ["full", "did", "said"], "status": "ok", "seed": 0,
                  "collapsed": [False, False, True]}).to_csv(tables / "runs.csv", index=False)  # fmt: skip
    lines = readme_section.headline(tmp_path, "config/x.yaml", 600.0, "make run").splitlines()
    assert "- d90 is orders of magnitude smaller than D (Section 4): **agrees** (one seed)" in lines
    assert "- SAID needs fewer dimensions than DID (m, t; Table 1): **agrees** (one seed)" in lines
    assert (
        "- d90 falls as pre-training goes on (t; Figure 2): **agrees** (one pre-training run, the "
        "mean of 2 seeds)" in lines
    )
    # Three checkpoints with a d90, short of Figures 4 and 5's four: the way on comes last.
    assert lines[-4:] == ["", ONE_DRAW_NOTE, "", POOLING_NOTE]
