"""The workflow through profiles/slurm on a real single-node SLURM started by the test."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from intdim.pipeline import slurm_cluster
from snakemake_runs import RESUMED, ROOT, SWEEP, WITH_SECTION5, stop_and_resume
from snakemake_runs import snakemake_cmd as shared_snakemake_cmd

pytestmark = pytest.mark.slow

# Wall-clock columns differ between any two runs; everything else must be equal.
TIMING = ["wall_seconds", "train_seconds"]


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("starting SLURM daemons needs root")
    try:
        slurm_cluster.install()
    except (subprocess.SubprocessError, OSError, RuntimeError) as err:
        pytest.skip(f"the SLURM packages cannot be installed here: {err}")
    # Held for the module: another test session on this machine waits rather than restarting
    # the daemons under this one's jobs.
    with slurm_cluster.held():
        slurm_cluster.start()
        yield
        slurm_cluster.stop()


def slurm_snakemake_cmd(workdir: Path, *extra: str, configs=SWEEP) -> list[str]:
    """The workflow through profiles/slurm, its status checks 5 s apart instead of a real
    cluster's up to 180 (snakemake_quick_status.py), to keep the tests quick."""
    return shared_snakemake_cmd(
        workdir, "--profile", str(ROOT / "profiles" / "slurm"),
        "--slurm-init-seconds-before-status-checks", "5", *extra,
        configs=configs, entry=(str(Path(__file__).with_name("snakemake_quick_status.py")),),
    )  # fmt: skip


def finished_results(workdir: Path) -> dict[str, float]:
    return {
        str(p.relative_to(workdir)): p.stat().st_mtime
        for p in (workdir / "results").rglob("*")
        if p.is_file() and ("/full/" in str(p) or "/subspace/" in str(p))
    }


# The full fine-tuning job fails on its first attempt (the test-only fault switch of
# script_log.py): the profile's retries must resubmit it and the run must still finish.
FAULTY_RULE = "full_finetune"


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm")
    marker = workdir / "fault-injected"
    env = {**os.environ, "INTDIM_TEST_FAULT_ONCE": f"{FAULTY_RULE}:{marker}"}
    proc = subprocess.run(slurm_snakemake_cmd(workdir),
                          capture_output=True, text=True, timeout=1500, env=env)  # fmt: skip
    log = proc.stdout + proc.stderr
    (workdir / "snakemake-slurm.log").write_text(log)
    assert proc.returncode == 0, log[-4000:]
    return workdir, log


def test_a_job_that_fails_is_resubmitted_and_the_run_finishes(slurm_run):
    workdir, log = slurm_run
    assert (workdir / "fault-injected").is_file()  # the first attempt did fail
    failed = re.findall(rf"Error in rule {FAULTY_RULE}", log)
    assert len(failed) == 1, log[-4000:]
    metrics = list((workdir / "results/full").rglob("metrics.json"))
    assert metrics and all(json.loads(m.read_text())["status"] == "ok" for m in metrics)


def test_jobs_go_through_sbatch_and_show_in_sacct(slurm_run):
    workdir, log = slurm_run
    # "submitted with SLURM jobid N" for single jobs, "SLURM job ID N" for arrays
    ids = set(re.findall(r"SLURM job ?id (\d+)", log, flags=re.IGNORECASE))
    assert "Submitted array job" in log
    assert len(ids) >= 5, log[-3000:]  # ingestion, training, aggregation
    print("SLURM job ids:", sorted(ids, key=int))
    sacct = subprocess.run(["sacct", "-X", "-n", "-P", "-S", "now-1hours", "-o", "JobID,State"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    # one "JobID|State" per line; a state may contain spaces ("CANCELLED by 0")
    states = dict(line.split("|")[:2] for line in sacct.splitlines() if line)
    base_ids = {re.sub(r"_.*", "", j) for j in states}
    assert ids <= base_ids, (ids, sacct)
    assert any(state == "COMPLETED" for state in states.values())


def _sacct_state(jobid: str) -> str:
    return subprocess.run(["sacct", "-X", "-n", "-P", "-j", jobid, "-o", "State"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip


def test_a_scancelled_run_is_resumed_by_the_same_command(slurm_run):
    """scancel a running job, stop Snakemake, rerun: only the lost work is redone.

    snakemake-executor-plugin-slurm 2.8.0 does not recognise sacct's "CANCELLED by <uid>" as a
    failure and keeps waiting for the job, so, as a user would, the test interrupts Snakemake
    (SIGINT) once SLURM reports the job cancelled. (A version that noticed would resubmit the
    job and go on with the run, which the interrupt stops just the same.) The rerun must end
    with every result present and nothing finished recomputed.
    """
    workdir, _ = slurm_run
    shutil.rmtree(workdir / "results/subspace/minilm/tweets/said/d200")
    for folder in ("results/tables", "results/figures", "results/notebooks"):
        shutil.rmtree(workdir / folder)
    before = finished_results(workdir)
    cmd = slurm_snakemake_cmd(workdir)

    # A shell that starts the test suite in the background leaves SIGINT ignored in its children,
    # and Python then installs no KeyboardInterrupt handler: restore what a terminal gives.
    first = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    running = slurm_cluster.poll(lambda: subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%i"], capture_output=True, text=True
    ).stdout.split(), 300)  # fmt: skip
    assert running, "no job was ever seen running"
    cancelled = running[0]
    subprocess.run(["scancel", cancelled], check=True)
    was_cancelled = slurm_cluster.poll(lambda: "CANCELLED" in _sacct_state(cancelled), 120)
    assert was_cancelled, _sacct_state(cancelled)
    first.send_signal(signal.SIGINT)
    first_log, _ = first.communicate(timeout=300)
    print(f"cancelled SLURM job {cancelled}; first run exited with {first.returncode}")

    second = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
    assert second.returncode == 0, (first_log + second.stdout + second.stderr)[-4000:]
    assert (workdir / "results/subspace/minilm/tweets/said/d200/lr0.5/seed0/metrics.json").is_file()
    assert (workdir / "results/tables/d90.csv").is_file()
    after = finished_results(workdir)
    assert {k: after[k] for k in before} == before  # nothing that had finished was recomputed
    assert (
        "Nothing to be done" in subprocess.run([*cmd, "-n"], capture_output=True, text=True).stdout
    )


def test_a_pretraining_warned_before_its_time_limit_saves_and_its_retry_resumes(cluster,
                                                                              tmp_path):  # fmt: skip
    """The profile asks SLURM for SIGTERM five minutes before a pre-training's time limit
    (``--signal=TERM@300``; KillWait alone is too short for a large model's save): the job saves
    its state after the update under way and stops, and the profile's retry resumes from it.

    The pre-training is too long to end (10^6 updates) and its time limit 7 minutes, so the
    warning comes 60 to 120 s in (SLURM may send it up to a minute early); the test stops once
    the retry's log says it resumed.
    """
    override = tmp_path / "time_limit.yaml"
    # Checkpoints at 0, 100 and the end only: a resume from any other update is SIGTERM's save.
    override.write_text(
        "resources: {runtime: 7}\n"
        "pretraining: {steps: 1000000, save_every: 1000000, save_at: [100]}\n"
    )
    workdir = tmp_path / "run"
    started = time.strftime("%Y-%m-%dT%H:%M:%S")  # sacct reads only this test's jobs
    log = workdir / "logs/pretrain/xs.log"
    (text,), output = run_until_resumed(
        workdir, ["results/pretrain/xs/history.json"], [log], (*WITH_SECTION5, override)
    )
    # The retry's log keeps the stopped attempt's lines: it stopped on SIGTERM after the update
    # the retry resumed from, not at a checkpoint.
    by, saved, resumed = stop_and_resume(text) or (None, None, None)
    assert by == "SIGTERM" and saved == resumed, failure_text([text], output)
    print(f"the retry resumed from the state saved after update {resumed}")
    assert resumed not in (0, 100)
    # The first attempt ended itself after saving (FAILED), not at its time limit (TIMEOUT).
    states = subprocess.run(["sacct", "-n", "-P", "-X", "-S", started, "-o", "JobID,State"],
                            capture_output=True, text=True).stdout  # fmt: skip
    assert "FAILED" in states and "TIMEOUT" not in states, states


def test_subspace_runs_sent_as_an_array_save_at_their_time_limit_and_their_retries_resume(
    cluster, tmp_path
):
    """The profile sends subspace runs as a job array and gives them no early warning: the
    SIGTERM that SLURM sends at the time limit, KillWait (10 s here) before SIGKILL, is time
    enough to save a subspace run's state (theta_d and its optimiser), and each retry resumes.

    Two DID runs too long to end (10^5 updates) with a time limit of 1 minute, as one array;
    the test stops once both retries' logs say they resumed.
    """
    override = tmp_path / "time_limit.yaml"
    override.write_text("resources: {runtime: 1}\nsubspace: {steps: 100000}\n")
    workdir = tmp_path / "run"
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    runs = [f"minilm/tweets/did/d{d}/lr0.5/seed0" for d in (10, 200)]
    logs = [workdir / f"logs/subspace/minilm/tweets/did/d{d}_lr0.5_seed0.log" for d in (10, 200)]
    texts, output = run_until_resumed(
        workdir, [f"results/subspace/{run}/metrics.json" for run in runs], logs,
        ("integration.yaml", override),
    )  # fmt: skip
    # Each retry's log keeps the stopped attempt's lines: SIGTERM, saved after an update, and
    # the retry resumed from that update.
    stops = [stop_and_resume(text) for text in texts]
    assert all(stop and stop[0] == "SIGTERM" and stop[1] == stop[2] for stop in stops), (
        failure_text(texts, output)
    )
    print("the retries resumed after updates", [stop[2] for stop in stops])
    assert all(stop[2] >= 1 for stop in stops)
    states = subprocess.run(["sacct", "-n", "-P", "-X", "-S", started, "-o", "JobID,State"],
                            capture_output=True, text=True).stdout  # fmt: skip
    tasks = re.findall(r"^(\d+)_(\d+)\|(\w+)", states, flags=re.MULTILINE)
    first = min((int(job) for job, _, _ in tasks), default=None)
    # The first attempts: both tasks of one array, timed out.
    assert [(t, state) for job, t, state in tasks if int(job) == first] == [
        ("1", "TIMEOUT"), ("2", "TIMEOUT")
    ], states  # fmt: skip


def run_until_resumed(workdir, targets, logs, configs):
    """Run the targets through profiles/slurm until every log says its job resumed (10 minutes
    at most), then stop as a user would (Ctrl-C, then scancel what still runs). Returns each
    log's text and Snakemake's output."""
    cmd = slurm_snakemake_cmd(workdir, *targets, configs=configs)
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip

    def texts():
        return [log.read_text() if log.exists() else "" for log in logs]

    slurm_cluster.poll(lambda: all(RESUMED.search(text) for text in texts()), 600)
    run.send_signal(signal.SIGINT)
    output, _ = run.communicate(timeout=300)
    subprocess.run(["scancel", "--user", "root"])  # the retries, still running
    gone = slurm_cluster.poll(lambda: not subprocess.run(
        ["squeue", "-h", "-o", "%i"], capture_output=True, text=True
    ).stdout.split(), 120)  # fmt: skip
    assert gone, "the cancelled retries still hold the node"
    return texts(), output


def failure_text(logs: list[str], output: str) -> str:
    """The jobs' logs, then the end of Snakemake's output: the logs say which update saved."""
    return "\n".join(log[-3000:] for log in logs) + "\n---- Snakemake ----\n" + output[-1500:]


def test_a_cluster_stopped_mid_job_starts_again_idle(cluster):
    """Jobs that a cluster stopped mid-run saved must not hold the next one's node."""
    job = subprocess.run(
        ["sbatch", "--parsable", "-o", "/dev/null", "-A", slurm_cluster.ACCOUNT, "--wrap", "sleep 297"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    running = slurm_cluster.poll(lambda: job in subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%i"], capture_output=True, text=True
    ).stdout.split(), 60)  # fmt: skip
    assert running, f"job {job} never ran"
    # slurmctld saves its state, the running job included, and stop() ends the job's sleep.
    slurm_cluster.stop()
    # Its step daemon dies too, as when the machine goes: nothing reports the job's end.
    subprocess.run(["pkill", "-9", "-f", "slurmstepd"])
    slurm_cluster.start()  # raises unless the node comes back idle
    queue = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True)
    assert queue.stdout.split() == []


def test_stopping_the_cluster_ends_what_its_jobs_left_running(cluster):
    """proctrack/linuxproc follows a job's processes through their parents, so one whose parent
    died outlives its job (a job step's Snakemake did after a scancel); stopping the cluster
    ends it, and nothing else."""

    def leftover():
        found = subprocess.run(["pgrep", "-f", "^sleep 293$"], capture_output=True, text=True)
        return found.stdout.split()

    bystander = subprocess.Popen(["sleep", "293"])  # not a job's: stays
    try:
        job = subprocess.run(
            ["sbatch", "--parsable", "-o", "/dev/null", "-A", slurm_cluster.ACCOUNT,
             "--wrap", "(setsid sleep 293 &); sleep 1"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        ended = slurm_cluster.poll(lambda: job not in subprocess.run(
            ["squeue", "-h", "-o", "%i"], capture_output=True, text=True
        ).stdout.split() and len(leftover()) == 2, 60)  # fmt: skip
        assert ended, f"job {job} did not end leaving its process: {leftover()}"
        slurm_cluster.stop()
        slurm_cluster.start()
        assert leftover() == [str(bystander.pid)]
    finally:
        bystander.kill()
        bystander.wait()


def test_outputs_equal_a_local_run(slurm_run, integration_tables):
    """The session's local run (conftest.py) adds Section 5's miniature to the same sweep;
    the sweep's tables are compared. Last in this file, after the scancelled run's resume
    has rewritten part of them: it runs while the local run (another worker's) finishes."""
    workdir, _ = slurm_run
    cluster = pd.read_csv(workdir / "results/tables/runs.csv").drop(columns=TIMING)
    local = pd.read_csv(integration_tables / "runs.csv").drop(columns=TIMING)
    pd.testing.assert_frame_equal(cluster, local)
    for name in ("d90.csv", "table1.csv"):
        assert (workdir / "results/tables" / name).read_text() == (
            integration_tables / name
        ).read_text()
