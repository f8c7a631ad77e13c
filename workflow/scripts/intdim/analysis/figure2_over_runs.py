"""Figure 2 over several runs: each run's d90 at each checkpoint, its verdict on whether d90
falls as pre-training goes on, and how often each verdict came up.

A run pre-trains once, so its Figure 2 verdict rests on one pre-training run, and its intervals
do not measure that draw. The only measure is to repeat the run with other seeds
(``pretraining.seed`` and ``seeds``) and count the verdicts. Each run is judged from its own
``results/tables/trajectory.csv`` by the landing page's own test
(``findings.figure2_lines``), so the count reads exactly what each run's report says.
Figures 4 and 5, which no run of three checkpoints resolves alone, are judged on the runs'
checkpoints pooled (``pooled_generalisation``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .bracket_text import above, bracket
from .findings import Finding, d90_predicts_generalisation, figure2_lines
from .section5 import has_counted_d90
from .trajectory_plot import (
    NOT_REACHED,
    foot_rows,
    interval_limits,
    mark_foot,
    not_reached,
    reach_below,
    title_line,
)
from .trend import counted

TRAJECTORY = Path("results/tables/trajectory.csv")
VERDICTS = ("agrees", "disagrees", "not resolved")
NOTHING_TO_JUDGE = "no checkpoint after step 0 with a d90 or a search that reached nothing"


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
        judged = {(task, name): (finding, reason)
                  for task, name, finding, reason in figure2_lines(table)}  # fmt: skip
        for (task, name), line in table.groupby(["task", "trajectory"], sort=True):
            # A line with no checkpoint to judge has no finding; it still counts, unresolved.
            finding, reason = judged.get((task, name), (None, NOTHING_TO_JUDGE))
            cells = {f"step {int(r.step):,}": checkpoint_text(r) for r in line.itertuples()}
            rows.append({"run": run, "task": task, "trajectory": name, **cells,
                         "verdict": finding.verdict if finding else "not resolved",
                         "basis": finding.basis if finding else "",
                         "reason": reason})  # fmt: skip
    if not rows:
        raise ValueError("no run has a Section 5 checkpoint in its trajectory.csv")
    frame = pd.DataFrame(rows)
    steps = sorted((c for c in frame.columns if c.startswith("step ")),
                   key=lambda c: int(c.split()[1].replace(",", "")))  # fmt: skip
    fixed = ["run", "task", "trajectory", *steps, "verdict", "basis", "reason"]
    return frame[[c for c in fixed if c in frame.columns]].fillna("-")


def tally(verdicts: pd.DataFrame) -> dict[str, Counter]:
    """Per Figure 2 line, "task (trajectory)", how many runs gave each verdict."""
    lines = verdicts.groupby(["task", "trajectory"], sort=True)
    return {f"{task} ({name})": Counter(rows["verdict"]) for (task, name), rows in lines}


def tally_text(verdicts: pd.DataFrame) -> list[str]:
    """'tweets_balanced (scratch): agrees 3, disagrees 1, not resolved 1 of 5 runs', one per
    line, every verdict named (0 where none)."""
    return [
        f"{line}: " + ", ".join(f"{v} {counts[v]}" for v in VERDICTS)
        + f" of {sum(counts.values())} run{'' if sum(counts.values()) == 1 else 's'}"
        for line, counts in tally(verdicts).items()
    ]  # fmt: skip


def pooled_generalisation(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Figures 4 and 5 over every run's checkpoints together: the landing page's test
    (``findings.d90_predicts_generalisation``) on the runs' trajectory tables joined, per task
    (and trajectory, where a run has several).

    One run of the default has three checkpoints, and a correlation needs four with a d90, so
    no run resolves Figures 4 and 5 alone; several runs together can. The checkpoints of one
    run share its pre-training and tweet sample, so they are not the independent draws the
    Pearson interval assumes: a pooled verdict points, it does not settle.
    """
    pooled = pd.concat(tables.values(), ignore_index=True)
    runs = len(tables)
    return [
        replace(
            finding,
            measured=f"{finding.measured}, from {counted(runs, 'run')}",
            pretraining_runs=runs,
        )
        for finding in d90_predicts_generalisation(pooled)
    ]


def runs_as_series(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The runs' trajectory tables joined, each run's rows named after it in ``trajectory``
    ("seed1", or "seed1, scratch" where a run has several), so that a figure drawing one
    series per task and trajectory draws one per run."""
    named = []
    for run, table in tables.items():
        several = table["trajectory"].nunique() > 1
        name = run + ", " + table["trajectory"].astype(str) if several else run
        named.append(table.assign(trajectory=name))
    return pd.concat(named, ignore_index=True)


def draw(ax, tables: dict[str, pd.DataFrame], verdicts: pd.DataFrame, palette) -> None:
    """Every run's Figure 2 lines on one axis: each counted d90 as its interval (a bar down to
    the interval's lower end, the mark at d90), a search that reached nothing as a triangle at
    its d_max, a checkpoint left out (x) or a search that learned nothing (+) along the bottom,
    as each run's Figure 2 draws them, each run's steps moved a little apart so that equal
    brackets stay visible, and each line named with its run and verdict. palette(n) gives n
    colours."""
    named = list(verdicts.itertuples())
    colours = dict(zip(range(len(named)), palette(max(len(named), 1)), strict=False))
    shown_all, beyond_all, methods = [], [], set()
    footed = Counter()  # (marker, legend text): how many marks along the bottom, over the runs
    for i, row in enumerate(named):
        table = tables[row.run]
        line = table[(table["task"] == row.task) & (table["trajectory"] == row.trajectory)]
        line = line.sort_values("step")
        shift = 1 + 0.02 * (i - (len(named) - 1) / 2)  # the runs side by side at each step
        shown, beyond = line[has_counted_d90(line)], not_reached(line)
        d90 = shown["d90"].astype(float)
        # The line's one legend entry, even where it has no d90 (its triangles then name it).
        ax.errorbar(shown["step"] * shift, d90, yerr=[reach_below(shown), 0 * d90], marker="o",
                    capsize=3, color=colours[i],
                    label=f"{row.run}, {row.task} ({row.trajectory}): {row.verdict}")  # fmt: skip
        ax.plot(beyond["step"] * shift, beyond["d90_hi"], "^", color=colours[i], label="_nolegend_")
        for marker, label, rows in foot_rows(line):
            mark_foot(ax, rows["step"] * shift, marker, colours[i], "_nolegend_")
            footed[marker, label] += len(rows)
        shown_all.append(shown)
        beyond_all.append(beyond)
        methods.update(line["method"].str.upper())
    shown, beyond = pd.concat(shown_all), pd.concat(beyond_all)
    # One legend entry for every run's marks of a kind.
    for (marker, label), count in [(("^", NOT_REACHED), len(beyond)), *footed.items()]:
        if count:
            ax.plot([], [], marker, color="grey", label=label)
    if len(shown) or len(beyond):
        ax.set_yscale("log")
        ax.set_ylim(interval_limits(shown, beyond=beyond, foot=bool(sum(footed.values()))))
    ax.set_xlabel("pre-training updates")
    ax.set_ylabel("d90 (" + ", ".join(sorted(methods)) + ")")
    width = ax.figure.get_figwidth()
    lines = ["d90 along pre-training, run by run",
             *(title_line(text, width) for text in tally_text(verdicts))]  # fmt: skip
    ax.set_title("\n".join(lines), fontsize=9)
