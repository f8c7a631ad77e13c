"""Command lines of the workflow on the integration configs, shared by the workflow tests."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The sweep miniature; Section 5's miniature is merged on top of it where a test wants it.
SWEEP = ("integration.yaml",)
WITH_SECTION5 = ("integration.yaml", "integration_section5.yaml")


def snakemake_cmd(
    workdir: Path, *extra: str, configs=SWEEP, entry=("-m", "snakemake")
) -> list[str]:
    """The workflow on ``configs`` in ``workdir``; ``entry`` is what Python runs."""
    return [
        sys.executable, *entry, "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir), "--configfile", *(str(ROOT / "config" / c) for c in configs),
        *extra,
    ]  # fmt: skip


def snakemake(workdir: Path, *extra: str, configs=WITH_SECTION5) -> subprocess.CompletedProcess:
    cmd = snakemake_cmd(workdir, "--cores", "2", *extra, configs=configs)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1500)


def planned_jobs(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    jobs = {}
    for line in stdout.split("Job stats:")[-1].splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
    return jobs


def start_as_from_a_terminal(cmd: list[str]) -> subprocess.Popen:
    """Snakemake in a process group of its own, with SIGINT as a terminal gives it (a shell that
    starts the test suite in the background leaves SIGINT ignored in its children)."""
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def wait_for(check, process: subprocess.Popen, seconds: float = 600) -> None:
    """Until ``check()`` holds, ``process`` ends or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline and not check():
        time.sleep(0.05)


def wait_while_running(pattern: str) -> None:
    """Until no process's command line matches ``pattern`` (a job may outlive Snakemake by its
    last save)."""
    while subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0:
        time.sleep(0.1)


STOPPED = re.compile(r"stopped by (SIG\w+) after update (\d+)")
RESUMED = re.compile(r"resumed from the state saved after update (\d+) in")
AGAIN = re.compile(r"^==== .*: this job again; .* holds a state saved by the attempt logged above",
                   re.MULTILINE)  # fmt: skip


def stop_and_resume(log: str) -> tuple[str | None, int | None, int] | None:
    """What one job's log says of an attempt that saved and the attempt that resumed from it:
    (the signal that stopped the first, None for a kill; the update it saved after, None for a
    kill; the update the next resumed from), or None where the log does not hold both attempts,
    in that order."""
    again = AGAIN.search(log)
    resumed = RESUMED.search(log, again.end()) if again else None
    if resumed is None:
        return None
    stopped = STOPPED.search(log, 0, again.start())
    by, saved = (stopped.group(1), int(stopped.group(2))) if stopped else (None, None)
    return by, saved, int(resumed.group(1))
