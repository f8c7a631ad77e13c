"""Single jobs of the workflow, each run in a folder of its own rather than read from the
session's integration run: through a module of another workflow, stopped with Ctrl-C and
resumed, run twice to the same bits, and asking for a GPU the machine does not have."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from snakemake_runs import (
    STOPPED,
    planned_jobs,
    snakemake_cmd,
    start_as_from_a_terminal,
    stop_and_resume,
    wait_for,
    wait_while_running,
)

pytestmark = pytest.mark.slow


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


def test_a_said_run_at_d_no_larger_than_its_scales_records_why_and_trains_nothing(tmp_path):
    """SAID on MiniLM with per-layer scales has m = 9 (6 blocks, embeddings, pooler, head), so
    d = 9 leaves no coordinate for theta_d: the job records the run as infeasible, with the
    reason and the rate it would have used, and an empty task file; d = 10 trains (the
    integration sweep's smallest d)."""
    workdir = tmp_path / "infeasible"
    run_dir = workdir / "results/subspace/minilm/tweets/said/d9/lr0.5/seed0"
    proc = subprocess.run(
        snakemake_cmd(workdir, "--cores", "1", str(run_dir.relative_to(workdir) / "metrics.json")),
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "infeasible" and metrics["steps_done"] == 0
    assert "m=9 scales, so it needs d > 9; got d=9" in metrics["reason"]
    assert (metrics["d"], metrics["lr"], metrics["seed"]) == (9, 0.5, 0)
    # integration.yaml sets no lr_reference_d, so the rate is the one in the path
    assert metrics["effective_lr"] == 0.5
    assert metrics["D"] > 22_000_000 and metrics["loss_curve"] == []
    assert (run_dir / "task.safetensors").read_bytes() == b""
