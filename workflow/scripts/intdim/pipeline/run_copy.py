"""A copy of a finished run in which a change of config reruns what it affects and nothing else:
the way to try a variant (another rate, more steps) without touching the run it starts from.

Snakemake decides what a changed config reruns from two things: the files' modification times
and the records in ``.snakemake/metadata`` (each output's rule, params, code and inputs, keyed
by the output's path relative to the run's folder, so they hold in a copy). A copy without the
records keeps only the times, and a changed parameter then reruns nothing: Snakemake says
"Nothing to be done" and the variant silently shows the old numbers. So the copy takes the
results, their logs and benchmarks with their times, and the records.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# What a run's folder holds that a rerun reads: outputs, logs, benchmarks, and the records.
COPIED = ("results", "logs", "benchmarks")
RECORDS = Path(".snakemake") / "metadata"


def copy_run(source: Path, target: Path) -> list[str]:
    """Copy the run in ``source`` to ``target`` (new or empty), modification times kept; return
    what was copied. Raises ValueError for a folder that is not a finished run's, or one whose
    records are missing, and for a target that holds anything."""
    source, target = Path(source), Path(target)
    if not (source / "results").is_dir():
        raise ValueError(f"{source} has no results/ folder: not a run's folder")
    if not (source / RECORDS).is_dir():
        raise ValueError(
            f"{source} has no {RECORDS}: without Snakemake's records a changed config would "
            "rerun nothing in the copy"
        )
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty: a copy goes to a new or empty folder")
    copied = []
    for name in (*COPIED, str(RECORDS)):
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, symlinks=True)  # copy2: times kept
            copied.append(name)
    return copied
