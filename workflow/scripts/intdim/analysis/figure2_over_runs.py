"""Figure 2 over several runs: each run's d90 at each checkpoint, its verdict on whether d90
falls as pre-training goes on, and how often each verdict came up.

A run pre-trains once, so its Figure 2 verdict rests on one pre-training run, and its intervals
do not measure that draw. The only measure is to repeat the run with other seeds
(``pretraining.seed`` and ``seeds``) and count the verdicts. Each run is judged from its own
``results/tables/trajectory.csv`` by the landing page's own test
(``findings.figure2_lines``), so the count reads exactly what each run's report says.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from .bracket_text import above, bracket
from .findings import figure2_lines

TRAJECTORY = Path("results/tables/trajectory.csv")
VERDICTS = ("agrees", "disagrees", "not resolved")


def read_trajectories(runs: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Each named run directory's trajectory table, in the order given."""
    if not runs:
        raise ValueError("no runs given")
    tables = {}
    for name, directory in runs.items():
        path = Path(directory) / TRAJECTORY
        if not path.is_file():
            raise FileNotFoundError(f"run {name!r}: {path} does not exist (has Section 5 run?)")
        tables[name] = pd.read_csv(path)
    return tables


def checkpoint_text(row) -> str:
    """One checkpoint's cell: its d90 bracket, "> d_max" where its search reached nothing, "left
    out" where its full fine-tune did not beat the majority class beyond chance, else the search's
    status."""
    if not bool(row.beats_majority):
        return "left out"
    if row.search_status == "not reached":
        return above(row.d90_hi)
    if pd.notna(row.d90):
        return bracket(row.d90_lo, row.d90)
    return str(row.search_status)


def verdict_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per run and Figure 2 line (task, trajectory): the d90 at each checkpoint (a
    column per step, across all runs), the verdict with what it rests on, and the ends test's
    reason."""
    rows = []
    for run, table in tables.items():
        for task, name, finding, reason in figure2_lines(table):
            line = table[(table["task"] == task) & (table["trajectory"] == name)]
            cells = {f"step {int(r.step):,}": checkpoint_text(r) for r in line.itertuples()}
            rows.append({"run": run, "line": f"{task} ({name})", **cells,
                         "verdict": finding.verdict, "basis": finding.basis,
                         "reason": reason})  # fmt: skip
    frame = pd.DataFrame(rows)
    steps = sorted((c for c in frame.columns if c.startswith("step ")),
                   key=lambda c: int(c.split()[1].replace(",", "")))  # fmt: skip
    fixed = ["run", "line", *steps, "verdict", "basis", "reason"]
    return frame[[c for c in fixed if c in frame.columns]].fillna("-")


def tally(verdicts: pd.DataFrame) -> dict[str, Counter]:
    """Per Figure 2 line, how many runs gave each verdict."""
    return {line: Counter(rows["verdict"]) for line, rows in verdicts.groupby("line", sort=True)}


def tally_text(verdicts: pd.DataFrame) -> list[str]:
    """'tweets_balanced (scratch): agrees 3, disagrees 1, not resolved 1 of 5 runs', one per
    line, every verdict named (0 where none)."""
    return [
        f"{line}: " + ", ".join(f"{v} {counts[v]}" for v in VERDICTS)
        + f" of {sum(counts.values())} run{'' if sum(counts.values()) == 1 else 's'}"
        for line, counts in tally(verdicts).items()
    ]  # fmt: skip
