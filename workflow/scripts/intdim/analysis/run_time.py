"""Where a finished run's time went: every job's benchmark file (``benchmark:`` of each heavy
rule) summed by stage, and, for the training jobs, their own split of it from metrics.json
(set-up: imports, loading, the projection's state; tokenising; the training loop; the two
evaluations; the rest is process start and writing).

    python tools/time_breakdown.py --directory .        # after `make run`

The tool prints a table and writes JSON (--out). Job-seconds add over jobs that ran side by side, so
their total exceeds the run's wall time by up to the number of cores. The wall time itself is
each Snakemake invocation's, from its log (``wall_parts``).
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

# Snakemake's last line, a str(timedelta): "Elapsed time: 0:08:38.251217" or "1 day, 2:03:04".
ELAPSED = re.compile(r"^Elapsed time: (?:(\d+) days?, )?(\d+):(\d+):(\d+(?:\.\d+)?)$", re.M)

SPLIT = ["setup_seconds", "encode_seconds", "train_seconds", "eval_seconds"]


def job_seconds(tsv: Path) -> float:
    with tsv.open() as handle:
        return float(next(csv.DictReader(handle, delimiter="\t"))["s"])


def stage_of(tsv: Path, benchmarks: Path, pretrained_prefix: str = "pt-") -> str:
    """The benchmark folder's first part, training jobs split into the workflow's own small
    models and the others."""
    parts = tsv.relative_to(benchmarks).parts
    if parts[0] in ("subspace", "full") and len(parts) > 2:
        kind = "own pre-trained" if parts[1].startswith(pretrained_prefix) else parts[1]
        return f"{parts[0]} ({kind})"
    return Path(parts[0]).stem  # a rule with one job writes benchmarks/<rule>.tsv


def metrics_for(tsv: Path, benchmarks: Path, results: Path) -> Path:
    """benchmarks/subspace/m/t/did/d300_lr0.5_seed0.tsv -> results/subspace/m/t/did/d300/lr0.5/
    seed0/metrics.json (and the same for full fine-tuning)."""
    rel = tsv.relative_to(benchmarks)
    return results.joinpath(*rel.parts[:-1], *rel.stem.split("_"), "metrics.json")


def breakdown(directory: Path) -> dict[str, dict]:
    benchmarks, results = directory / "benchmarks", directory / "results"
    stages: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    for tsv in sorted(benchmarks.rglob("*.tsv")):
        row = stages[stage_of(tsv, benchmarks)]
        row["jobs"] += 1
        row["job_seconds"] += job_seconds(tsv)
        metrics = metrics_for(tsv, benchmarks, results)
        if metrics.exists():
            found = json.loads(metrics.read_text())
            for key in SPLIT:
                row[key] += found.get(key, 0.0)
    return {name: dict(values) for name, values in sorted(stages.items())}


def format_table(stages: dict[str, dict]) -> str:
    lines = ["| stage | jobs | job-seconds | set-up | tokenise | train | evaluate | rest |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, row in stages.items():
        split = [row.get(k, 0.0) for k in SPLIT]
        if any(split):
            rest = row["job_seconds"] - sum(split)
            cells = [f"{v:.0f}" for v in split] + [f"{rest:.0f}"]
        else:
            cells = ["-"] * 5
        lines.append(
            f"| {name} | {row['jobs']:.0f} | {row['job_seconds']:.0f} | " + " | ".join(cells) + " |"
        )
    total = sum(r["job_seconds"] for r in stages.values())
    lines.append(f"| all | {sum(r['jobs'] for r in stages.values()):.0f} | {total:.0f} | | | | | |")
    return "\n".join(lines)


def wall_parts(directory: Path) -> list[dict]:
    """Every Snakemake invocation in ``directory`` that ran jobs, oldest first: its log, its
    wall seconds and whether it ended on its own. Snakemake names each log by its start
    (``2026-12-03T094945.931638.snakemake.log``, local time) and ends one that finishes with
    "Elapsed time"; a run that was stopped has no such line, so its log's last write stands
    for its end. Dry runs and ``--report`` run no job and are left out."""
    parts = []
    for log in sorted((directory / ".snakemake/log").glob("*.snakemake.log")):
        text = log.read_text(errors="replace")
        if "Finished jobid" not in text:
            continue
        found = ELAPSED.search(text)
        if found:
            days, hours, minutes, seconds = found.groups()
            wall = ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + float(seconds)
        else:
            start = datetime.strptime(log.name.split(".snakemake")[0], "%Y-%m-%dT%H%M%S.%f")
            wall = log.stat().st_mtime - start.timestamp()
        parts.append({"log": log.name, "seconds": wall, "ended": found is not None})
    return parts
