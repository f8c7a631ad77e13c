"""Two runs of the workflow compared job by job: which training runs and pre-trainings gave the
same numbers to the bit, which differ and in what, and the CPU and numerics each recorded. A
difference can then be traced (another CPU with native numerics, another thread count, another
commit) instead of guessed at."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from .run_files import own_files

# What two runs of the same job differ in without their numbers differing (a pre-training
# resumed after a kill ends with the same bits as one never stopped).
NOT_OUTCOMES = ("environment", "resumed_at")
TIMING_SUFFIX = "_seconds"


RECORD_KIND = "intdim run record"

# A list of more numbers than this (a loss curve) is kept as its digest: the curves are nine
# tenths of a run's records, and a digest tells "same to the bit" from "differs" as well.
CURVE_POINTS = 8


def curve_digest(values: list) -> str:
    """One string that equals another list's exactly when the two lists do, number for number
    as json writes them (NaN equals NaN), with its length and last value to read."""
    text = json.dumps(values)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"sha256 {digest} of {len(values)} numbers, the last {json.dumps(values[-1])}"


def compact(record):
    """The record with each list of more than ``CURVE_POINTS`` numbers replaced by its digest;
    a record already compact stays as it is."""
    if isinstance(record, dict):
        return {key: compact(value) for key, value in record.items()}
    is_curve = isinstance(record, list) and len(record) > CURVE_POINTS
    if is_curve and all(isinstance(v, (int, float)) for v in record):
        return curve_digest(record)
    if isinstance(record, list):
        return [compact(value) for value in record]
    return record


def job_records(run: Path) -> dict[str, dict]:
    """{path under results/: compact record} for every training run's metrics.json and every
    pre-training's history.json of a run directory, or those a run record holds."""
    if run.is_file():
        return {job: compact(record) for job, record in read_record(run).items()}
    results = run / "results"
    paths = [*own_files(results, "metrics.json"), *results.glob("pretrain/*/history.json")]
    return {str(p.relative_to(results)): compact(json.loads(p.read_text())) for p in sorted(paths)}


def write_record(run: Path, out: Path) -> int:
    """Write the compact job records of the run directory ``run`` to ``out``, one job a line, so
    that another run (on another machine, say) can be compared with it without its folder;
    returns the number of jobs."""
    jobs = job_records(run)
    if not jobs:
        raise ValueError(f"{run} holds no metrics.json or pre-training history.json to record")
    lines = [f"{json.dumps(job)}: {json.dumps(jobs[job], sort_keys=True)}" for job in sorted(jobs)]
    out.write_text(
        f'{{"kind": {json.dumps(RECORD_KIND)}, "jobs": {{\n' + ",\n".join(lines) + "\n}}\n"
    )
    return len(jobs)


def read_record(path: Path) -> dict[str, dict]:
    """The job records of a file ``write_record`` wrote."""
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a run record: {error}") from None
    if not isinstance(data, dict) or data.get("kind") != RECORD_KIND:
        raise ValueError(f"{path} is not a run record (tools/record_run.py writes them)")
    return data["jobs"]


def _outcome_keys(a: dict, b: dict) -> list[str]:
    """The keys of either record that are outcomes: timings, the environment and where a job
    resumed left out."""
    keys = sorted(set(a) | set(b))
    return [k for k in keys if k not in NOT_OUTCOMES and not k.endswith(TIMING_SUFFIX)]


def differing_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    """The keys (dotted below the top) that both records have and whose values differ; a list
    is compared whole, a float to the bit (as json wrote it: NaN, a pre-training's first train
    loss, equals NaN). ``one_sided_keys`` lists the keys only one has."""
    keys = []
    for key in _outcome_keys(a, b):
        if (key in a) != (key in b):
            continue
        x, y = a[key], b[key]
        if isinstance(x, dict) and isinstance(y, dict):
            keys += differing_keys(x, y, f"{prefix}{key}.")
        elif json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True):
            keys.append(prefix + key)
    return keys


def one_sided_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    """The keys (dotted below the top) that only one of the two records has: what a newer
    version of the workflow records and an older one did not."""
    keys = []
    for key in _outcome_keys(a, b):
        if (key in a) != (key in b):
            keys.append(prefix + key)
        elif isinstance(a[key], dict) and isinstance(b[key], dict):
            keys += one_sided_keys(a[key], b[key], f"{prefix}{key}.")
    return keys


def _both(a: dict | None, b: dict | None, field: str) -> str:
    values = [(r or {}).get("environment", {}).get(field) or "?" for r in (a, b) if r]
    return values[0] if len(set(values)) == 1 else " / ".join(values)


def compare(first: Path, second: Path) -> pd.DataFrame:
    """One row a job: its path, the verdict, the keys that both record and that differ, the
    keys only one records, and each run's numerics and CPU ("a / b" where they differ).

    The verdict is same, differs (in a key both record), same where both record (the keys
    both have are the same; a run of another version records more or less), only in first or
    only in second."""
    a, b = job_records(first), job_records(second)
    rows = []
    for job in sorted(set(a) | set(b)):
        one_sided = []
        if job not in b:
            verdict, keys = "only in first", []
        elif job not in a:
            verdict, keys = "only in second", []
        else:
            one_sided = one_sided_keys(a[job], b[job])
            keys = differing_keys(a[job], b[job])
            verdict = "differs" if keys else "same where both record" if one_sided else "same"
        rows.append({"job": job, "verdict": verdict, "differs_in": ", ".join(keys),
                     "recorded_by_one": ", ".join(one_sided),
                     "numerics": _both(a.get(job), b.get(job), "numerics"),
                     "cpu": _both(a.get(job), b.get(job), "cpu")})  # fmt: skip
    columns = ["job", "verdict", "differs_in", "recorded_by_one", "numerics", "cpu"]
    return pd.DataFrame(rows, columns=columns)
