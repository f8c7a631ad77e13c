"""A finished run's report in Markdown, from its own tables: what ran, on which machine and
commit, how long it took and where the time went, d90 with its intervals and seeds, the
searches, the learning-rate and projection studies, and which of the paper's findings the run
resolves (``intdim.analysis.findings``). ``tools/readme_section.py`` writes it into the docs.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pandas as pd

from ..pipeline.variants import variant_model
from . import run_time
from .bracket_text import above, bracket, failed_above_note, probe_note
from .d90 import seed_means
from .findings import all_findings, findings_note
from .run_files import own_files
from .section5 import NOTHING_LEARNED


def markdown_table(frame: pd.DataFrame, columns: list[str]) -> str:
    columns = [c for c in columns if c in frame.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].astype(object).itertuples(index=False):
        cells = []
        for value in row:
            if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                cells.append("-")
            elif isinstance(value, float):
                cells.append(f"{value:.4g}")
            elif isinstance(value, int):
                cells.append(f"{value:,}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def interval(frame: pd.DataFrame, lo: str, hi: str, noun: str | None = None) -> pd.Series:
    """Each row's bracket; with ``noun``, followed by how many of those above it failed and,
    for a search's, whether the probe that set it was within chance of the majority class."""

    def one(row):
        note = ""
        if noun == "probe":
            note = probe_note(row.get("failed_above", 0), row.get("d90_majority_p"))
        elif noun:
            note = failed_above_note(row.get("failed_above", 0), noun)
        return bracket(row[lo], row[hi]) + note

    return frame.apply(one, axis=1) if len(frame) else pd.Series(dtype=str)


def study_scores(runs: pd.DataFrame, study: pd.DataFrame) -> str | None:
    """One row per compared model and method: at each d the best mean score and its rate."""
    rows = []
    for r in study.itertuples():
        model = r.model if r.variant == "base" else variant_model(r.model, r.variant)
        mine = runs[(runs["model"] == model) & (runs["method"] == r.method)
                    & (runs["task"] == r.task)]  # fmt: skip
        if mine.empty:
            continue
        row = {"variant": r.variant, "method": r.method}
        for d, at_d in mine.groupby("d"):
            means = seed_means(at_d, ["lr"], "accuracy")
            if means.notna().any():
                row[f"d={int(d):,}"] = f"{means.max():.4f} ({means.idxmax():g})"
            else:
                row[f"d={int(d):,}"] = "diverged"
        rows.append(row)
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    return markdown_table(frame, list(frame.columns))


def rate_table(runs: pd.DataFrame) -> str | None:
    """Eval accuracy of every subspace run by (model, method, d) and learning rate (the mean
    over the seeds that finished), with the runs that collapsed to one class or did not finish
    marked; None with one rate (nothing to compare)."""
    sub = runs[runs["method"] != "full"].copy()
    if sub["lr"].nunique() < 2:
        return None

    def cell(rows: pd.DataFrame) -> str:
        finished = rows[rows["status"] == "ok"]
        if finished.empty:
            return "diverged"
        collapsed = int(finished["collapsed"].eq(True).sum())
        marks = [f"collapsed {collapsed}/{len(rows)}"] if collapsed else []
        if len(finished) < len(rows):  # such a rate does not count for d90 (seed_means)
            marks.append(f"not finished {len(rows) - len(finished)}/{len(rows)}")
        text = f"{finished['eval_accuracy'].mean():.4f}"
        return text + (f" ({', '.join(marks)})" if marks else "")

    rows = []
    for (model, method, d), at in sub.groupby(["model", "method", "d"]):
        row = {"model": model, "method": method, "d": f"{int(d):,}"}
        row |= {f"lr {lr:g}": cell(r) for lr, r in at.groupby("lr")}
        rows.append(row)
    frame = pd.DataFrame(rows)
    return markdown_table(frame, list(frame.columns))


def recorded_metrics(directory: Path) -> list[dict]:
    """The metrics.json of each training run of a run directory, in path order (not those of
    the runs kept inside it: ``run_files``)."""
    return [json.loads(p.read_text()) for p in own_files(directory / "results", "metrics.json")]


def recorded_environments(directory: Path) -> list[dict]:
    """The ``environment`` each training run of a run directory recorded, in path order."""
    return [metrics.get("environment", {}) for metrics in recorded_metrics(directory)]


def machine(directory: Path) -> str:
    """The CPU, cores, torch and threads of a run, and the numerics its jobs chose
    (intdim.pipeline.numerics): bit-for-bit comparisons need the same CPU or portable numerics."""
    envs = recorded_environments(directory)
    env = envs[0] if envs else {}
    numerics = {e["numerics"] for e in envs if e.get("numerics")}
    chose = {
        frozenset({"portable", "native"}): ", portable numerics for its pre-trained models",
        frozenset({"portable"}): ", portable numerics",
        frozenset({"native"}): ", native numerics",
    }.get(frozenset(numerics), "")
    cpu = env.get("cpu") or platform.machine()
    threads = f"{env.get('threads', '?')} thread(s) a job"
    return f"{cpu}, {os.cpu_count()} cores, torch {env.get('torch', '?')}, {threads}{chose}"


def commit(directory: Path) -> str:
    """The commit the run's jobs recorded (``environment.commit``), not the checkout's HEAD
    now; "(modified)" when a job ran from a tree with uncommitted changes."""
    commits, clean = set(), True
    for env in recorded_environments(directory):
        commits.add(env.get("commit"))
        clean = clean and env.get("clean") is not False
    named = sorted(c[:7] for c in commits if c)
    if not named:
        return "unknown (the run recorded no commit)"
    return ", ".join(named) + ("" if clean else " (modified)")


def read_tables(directory: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None, dict]:
    """A run's runs.csv, its d90.csv (d90 and d90_lo as integers) and, where it has them, the
    trajectory and survey tables. runs and d90 are None for a run that made only Section 5's
    tables (its targets were Figures 2-5); a directory with neither d90.csv nor
    trajectory.csv is not a finished run."""
    tables = directory / "results/tables"
    frames = {name: pd.read_csv(tables / f"{name}.csv") if (tables / f"{name}.csv").exists()
              else None for name in ("runs", "d90", "trajectory", "survey")}  # fmt: skip
    if frames["d90"] is None and frames["trajectory"] is None:
        raise SystemExit(f"{tables} has neither d90.csv nor trajectory.csv: not a finished run")
    d90 = frames["d90"]
    if d90 is not None:
        for column in ("d90", "d90_lo"):
            d90[column] = d90[column].astype("Int64")
    return frames["runs"], d90, {name: frames[name] for name in ("trajectory", "survey")}


def recorded_seeds(directory: Path) -> list[int]:
    """The seeds of the training runs a run directory holds (their metrics.json)."""
    seeds = {metrics.get("seed") for metrics in recorded_metrics(directory)}
    return sorted(seed for seed in seeds if seed is not None)


def section(directory: Path, config: str, wall_seconds: float | None, command: str) -> str:
    tables = directory / "results/tables"
    runs, d90, optional = read_tables(directory)
    timed = (f"`{command}` took **{wall_seconds / 60:.1f} min** after set-up"
             if wall_seconds else f"`{command}`, wall time not recorded")  # fmt: skip
    if runs is None:
        held = (
            f"no sweep (only Section 5's tables), full fine-tunes and probes with seeds "
            f"{recorded_seeds(directory)}"
        )
    else:
        ok = int((runs["status"] == "ok").sum())
        held = (
            f"runs.csv has {len(runs)} training runs ({ok} finished), "
            f"seeds {sorted(runs['seed'].unique().tolist())}"
        )
    parts = [
        f"Generated by `tools/readme_section.py` from the tables of one run of `{config}` at "
        f"commit {commit(directory)}, on {machine(directory)}: {timed}; {held}.",
    ]
    if d90 is not None:
        d90["d90 interval"] = interval(d90, "d90_lo", "d90", "grid point")
        parts += ["", "**d90 from the sweep** (on the grid d90 lies in the interval; each "
                  "seed's own d90 beside it):", "",
                  markdown_table(d90, ["model", "task", "method", "D", "full_score",
                                       "d90 interval", "d90_by_seed"])]  # fmt: skip
    for name, title in (("trajectory", "**d90 along pre-training** (Figure 2; search brackets)"),
                        ("survey", "**d90 against parameter count** (Figure 3)")):  # fmt: skip
        frame = optional[name]
        if frame is None or frame.empty:
            continue
        frame["d90 interval"] = interval(frame, "d90_lo", "d90", "probe")
        if "search_status" in frame:  # tables from before the skip have no such column
            frame.loc[frame["search_status"] == "skipped", "d90 interval"] = "not searched"
            # every probe failed, the last at d_max (d90_hi): d90 lies above it
            beyond = frame["search_status"] == "not reached"
            frame.loc[beyond, "d90 interval"] = frame.loc[beyond, "d90_hi"].map(above)
            # no probe beat the majority class: no bracket at the rates tried
            learned_nothing = frame["search_status"] == NOTHING_LEARNED
            frame.loc[learned_nothing, "d90 interval"] = NOTHING_LEARNED
        columns = (["step", "task", "d90 interval", "search_status", "majority_p_value",
                    "eval_accuracy", "relative_gap"] if name == "trajectory" else
                   ["model", "task", "parameters", "d90 interval", "search_status"])  # fmt: skip
        parts += ["", title + ":", "", markdown_table(frame, columns)]
    study_file = tables / "projection_study.csv"
    if study_file.exists() and runs is not None:
        study = pd.read_csv(study_file)
        study["d90 interval"] = interval(study, "d90_lo", "d90")
        columns = ["variant", "projection", "legacy_gradient", "method", "d90 interval",
                   "best_lr_at_d90", "runs", "diverged", "step_seconds"]  # fmt: skip
        if study["search_status"].notna().any():
            study["searched"] = interval(study, "search_lo", "search_d90")
            columns.insert(5, "searched")
        parts += ["", "**The projection study** (median seconds per training step of each "
                  "variant's runs, measured in this run):", "",
                  markdown_table(study, columns)]  # fmt: skip
        scores = study_scores(runs, study)
        if scores is not None:
            parts += ["", "Eval accuracy (best learning rate; in brackets that rate) by d:", "",
                      scores]  # fmt: skip
    rates = None if runs is None else rate_table(runs)
    if rates is not None:
        parts += ["", "**Eval accuracy by subspace learning rate** (the rate at lr_reference_d; "
                  "a run at d uses it times (lr_reference_d / d) ** lr_exponent, the square "
                  "root by default; collapsed: every eval "
                  "example predicted as one class):", "", rates]  # fmt: skip
    findings = all_findings(d90, optional["trajectory"], optional["survey"])
    parts += ["", "**The paper's findings in this run:**", ""]
    parts += [f"- {finding.line()}" for finding in findings]
    note = findings_note(findings)
    parts += ["", note] if note else []
    stages = run_time.breakdown(directory)
    parts += ["", "**Where the time went** (job-seconds; two jobs run at once):", "",
              run_time.format_table(stages)]  # fmt: skip
    return "\n".join(parts) + "\n"


def headline(directory: Path, config: str, wall_seconds: float | None, command: str) -> str:
    """The README's short summary of a run: the time, a compact d90 table, the collapsed runs
    and each finding's verdict (the whole section goes to docs/results)."""
    runs, d90, optional = read_tables(directory)
    if d90 is None:
        raise SystemExit(f"the headline needs the sweep's d90.csv, which {directory} lacks")
    d90["d90 interval"] = interval(d90, "d90_lo", "d90", "grid point")
    d90["d90 / D"] = [f"{int(v) / D:.1e}" if pd.notna(v) else "-"
                      for v, D in zip(d90["d90"], d90["D"], strict=True)]  # fmt: skip
    sub = runs[(runs["method"] != "full") & (runs["status"] == "ok")]
    timed = f"took {wall_seconds / 60:.1f} min after set-up" if wall_seconds else "ran"
    parts = [
        f"`{command}` {timed} on {machine(directory)}, at commit {commit(directory)} "
        f"(seeds {sorted(runs['seed'].unique().tolist())}). d90 from the sweep, on the grid:",
        "",
        markdown_table(
            d90, ["model", "method", "D", "full_score", "d90 interval", "d90 / D", "d90_by_seed"]
        ),  # fmt: skip
        "",
        f"Collapsed to one class: {int(sub['collapsed'].eq(True).sum())} of {len(sub)} "
        "subspace runs. The paper's findings in this run (resolved only where the intervals "
        "allow it):",
        "",
    ]
    findings = all_findings(d90, optional["trajectory"], optional["survey"])
    parts += [f"- {f.claim}: {f.verdict_text()}" for f in findings]
    note = findings_note(findings)
    parts += ["", note] if note else []
    return "\n".join(parts) + "\n"


def replace_between_markers(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"the README has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"
