"""Command lines of the workflow on the integration configs, shared by the workflow tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The sweep miniature; Section 5's miniature is merged on top of it where a test wants it.
SWEEP = ("integration.yaml",)
WITH_SECTION5 = ("integration.yaml", "integration_section5.yaml")


def snakemake_cmd(workdir: Path, *extra: str, configs=SWEEP) -> list[str]:
    return [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
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
