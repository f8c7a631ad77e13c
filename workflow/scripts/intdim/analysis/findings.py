"""The paper's findings, checked against one run's tables: for each, what the paper says, what
this run measured (with the numbers and their intervals), and whether the run resolves it.

A finding is resolved only when the intervals allow it: d90 from a grid lies in (d90_lo, d90],
from a search in (lo, hi]; two d90s are ordered only when their intervals do not overlap, and
d90 against parameter count (Figure 3) only when its slope's 95% interval excludes zero
(``trend.fit_trend``), and d90 along pre-training (Figure 2) only when the last checkpoint's
interval lies apart from the first's (``trend.ends_ordered``). There a search that reached
nothing counts too, as the interval (d_max, infinity): d90 lies above its d_max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from .bracket_text import bracket, failed_above_note, probe_note
from .section5 import has_counted_d90, reached_nothing
from .trend import counted, describe, describe_slope, ends_ordered, fit_trend


@dataclass
class Finding:
    claim: str  # what the paper found
    measured: str  # what this run measured, with its numbers
    verdict: str  # "agrees", "disagrees" or "not resolved"
    subject: str = ""  # what it was judged on, where a run judges several (a task, a trajectory)
    figure: str = ""  # the paper's figure, where a plot shows it ("Figure 4")
    seeds: int | None = None  # the seeds each d90 behind it averages (None: not recorded)
    # The pre-training runs its checkpoints come from: 0 for none (the sweep's findings), 1 for
    # one run's Section 5, more where several runs' checkpoints were pooled.
    pretraining_runs: int = 0
    # Whether it went unresolved for want of checkpoints (Figures 4 and 5: fewer than
    # MIN_CORRELATED with a d90), which more runs' checkpoints, pooled, can supply.
    too_few_checkpoints: bool = False

    @property
    def basis(self) -> str:
        """What a resolved verdict rests on ("one seed", "the mean of 3 seeds", with "one
        pre-training run" first for Section 5's, "5 pre-training runs, one seed each" for runs
        pooled); "" when not resolved or not recorded."""
        if self.verdict == "not resolved" or self.seeds is None:
            return ""
        seeds = "one seed" if self.seeds == 1 else f"the mean of {self.seeds} seeds"
        if self.pretraining_runs == 1:
            return f"one pre-training run, {seeds}"
        if self.pretraining_runs > 1:
            return f"{self.pretraining_runs} pre-training runs, {seeds} each"
        return seeds

    @property
    def one_draw(self) -> bool:
        """Whether one seed, or one pre-training run, decided a resolved verdict: another seed
        can resolve it otherwise (the default's Figure 2 did)."""
        return bool(self.basis) and (self.seeds == 1 or self.pretraining_runs == 1)

    def verdict_text(self, markdown: bool = True) -> str:
        """The verdict and what it rests on: "**agrees** (one seed)", plain for a figure."""
        verdict = f"**{self.verdict}**" if markdown else self.verdict
        return verdict + (f" ({self.basis})" if self.basis else "")

    def line(self) -> str:
        return f"{self.claim}: {self.verdict_text()}. {self.measured}"


ONE_DRAW_NOTE = (
    "A verdict that one seed or one pre-training run decided can change with the seed: "
    "rerun with other seeds (the config keys seeds and pretraining.seed) to test it."
)


def one_draw_note(findings: list[Finding]) -> str | None:
    """The caution under a list of findings, where one seed decided any resolved verdict."""
    return ONE_DRAW_NOTE if any(f.one_draw for f in findings) else None


# Fewer checkpoints with a d90 than this give Figures 4 and 5 no correlation to judge.
MIN_CORRELATED = 4
FEW_CHECKPOINTS = f"a correlation needs at least {MIN_CORRELATED}"
POOLING_NOTE = (
    f"Figures 4 and 5 need at least {MIN_CORRELATED} checkpoints with a d90, more than this run "
    "has: tools/figure2_over_runs.py judges them on several runs' checkpoints together (make "
    "section5-seeds does so for the default with seeds 0 to 4)."
)


def pooling_note(findings: list[Finding]) -> str | None:
    """The way on, under a list of findings, where Figure 4 or 5 lacked checkpoints."""
    return POOLING_NOTE if any(f.too_few_checkpoints for f in findings) else None


def findings_note(findings: list[Finding]) -> str | None:
    """What goes under a list of findings: the one-draw caution and the pooling note, each a
    paragraph, where they apply."""
    notes = [note for note in (one_draw_note(findings), pooling_note(findings)) if note]
    return "\n\n".join(notes) or None


def _seeds(rows: pd.DataFrame) -> int | None:
    """The fewest seeds behind any of the rows' d90s (tables from before the column: None)."""
    if "seeds" not in rows or rows["seeds"].isna().all():
        return None
    return int(rows["seeds"].min())


def _known(value) -> bool:
    return value is not None and not pd.isna(value)


def _short(row) -> str:
    """After a sweep's d90: how many grid points above it fell short, where any did."""
    return failed_above_note(getattr(row, "failed_above", 0), "grid point")


def probe_notes(rows: pd.DataFrame) -> list[str]:
    """After each search's d90: how many probes above it failed, where any did, and whether
    the probe that set it beat the majority class only within chance (tables from before those
    columns have neither)."""
    above = rows["failed_above"] if "failed_above" in rows else [0] * len(rows)
    chance = rows["d90_majority_p"] if "d90_majority_p" in rows else [None] * len(rows)
    return [probe_note(n, p) for n, p in zip(above, chance, strict=True)]


def _points(label: str, x: list, lo: list, hi: list, notes: list[str]) -> str:
    """'step=125: (232, 646], step=250: ...', each bracket followed by its note."""
    return ", ".join(
        f"{label}={xi:g}: {bracket(a, b)}{note}"
        for xi, a, b, note in zip(x, lo, hi, notes, strict=True)
    )


def small_d90(d90: pd.DataFrame) -> Finding:
    """Section 4: d90 is orders of magnitude below D."""
    found = d90[d90["d90"].notna()]
    claim = "d90 is orders of magnitude smaller than D (Section 4)"
    if found.empty:
        return Finding(claim, "no sweep reached the threshold within its grid", "not resolved")
    parts = [
        f"{r.model} {r.task} {r.method.upper()} d90 in {bracket(r.d90_lo, r.d90)}{_short(r)} "
        f"= at most {int(r.d90) / r.D:.2g} of D = {r.D:,}"
        for r in found.itertuples()
    ]
    largest = max(int(r.d90) / r.D for r in found.itertuples())
    verdict = "agrees" if largest < 0.01 else "disagrees"
    return Finding(claim, "; ".join(parts), verdict, seeds=_seeds(found))


def said_below_did(d90: pd.DataFrame) -> list[Finding]:
    """Table 1: SAID reaches the threshold with fewer dimensions than DID."""
    findings = []
    for (model, task), rows in d90.groupby(["model", "task"]):
        by = {r.method: r for r in rows.itertuples()}
        if not {"did", "said"} <= set(by):
            continue
        did, said = by["did"], by["said"]
        claim = f"SAID needs fewer dimensions than DID ({model}, {task}; Table 1)"
        if not _known(did.d90) and not _known(said.d90):
            findings.append(Finding(claim, "neither reached the threshold", "not resolved"))
            continue
        if not _known(said.d90) or not _known(did.d90):
            which = "SAID" if _known(said.d90) else "DID"
            other = by["did" if which == "SAID" else "said"]
            reached = by[which.lower()]
            text = (f"{which} d90 in {bracket(reached.d90_lo, reached.d90)}{_short(reached)}; "
                    f"the other did not reach it up to d = {int(other.d_max):,}")  # fmt: skip
            findings.append(Finding(claim, text, "agrees" if which == "SAID" else "disagrees",
                                    seeds=_seeds(rows)))  # fmt: skip
            continue
        text = (f"DID d90 in {bracket(did.d90_lo, did.d90)}{_short(did)}, SAID in "
                f"{bracket(said.d90_lo, said.d90)}{_short(said)}")  # fmt: skip
        if "d90_by_seed" in rows and rows["seeds"].max() > 1:
            text += f"; by seed DID {did.d90_by_seed}, SAID {said.d90_by_seed}"
        said_lo = 0 if not _known(said.d90_lo) else int(said.d90_lo)
        did_lo = 0 if not _known(did.d90_lo) else int(did.d90_lo)
        if int(said.d90) <= did_lo:
            verdict = "agrees"
        elif int(did.d90) <= said_lo:
            verdict = "disagrees"
        else:
            verdict = "not resolved"
            text += " (the intervals overlap)"
        findings.append(Finding(claim, text, verdict, seeds=_seeds(rows)))
    return findings


def _trend_finding(claim: str, x: list[float], lo: list[float], hi: list[float],
                   expected_sign: int, label: str,
                   notes: list[str]) -> Finding:  # fmt: skip
    trend = fit_trend(x, lo, hi)
    points = _points(label, x, lo, hi, notes)
    measured = f"{describe(trend)}; d90 by {label}: {points}"
    if not trend["resolved"]:
        return Finding(claim, measured, "not resolved")
    agrees = math.copysign(1, trend["slope"]) == expected_sign
    return Finding(claim, measured, "agrees" if agrees else "disagrees")


def brackets(rows: pd.DataFrame, column: str) -> tuple[list, list, list]:
    """(x, lo, hi) of rows with a d90: the column's values and each d90's bracket (lo, hi],
    lo 0 where no d failed below it; a row whose search reached nothing has the bracket
    (d_max, infinity). Which rows count is the caller's choice."""
    beyond = (
        rows["search_status"].eq("not reached") if "search_status" in rows else [False] * len(rows)
    )
    x, lo, hi = [], [], []
    for row, out in zip(rows.itertuples(), beyond, strict=True):
        x.append(float(getattr(row, column)))
        if out:  # its last probe, at d_max, failed
            lo.append(float(row.d90_hi))
            hi.append(math.inf)
        else:
            lo.append(0.0 if pd.isna(row.d90_lo) else float(row.d90_lo))
            hi.append(float(row.d90))
    return x, lo, hi


def _ends_finding(claim: str, x: list[float], lo: list[float], hi: list[float],
                  label: str, notes: list[str]) -> Finding:  # fmt: skip
    ends = ends_ordered(x, lo, hi)
    points = _points(label, x, lo, hi, notes)
    if ends["first"] is None:
        return Finding(claim, f"{ends['reason']}; d90 by {label}: {points}", "not resolved")
    (x0, lo0, hi0), (x1, lo1, hi1) = ends["first"], ends["last"]
    # The slope, which only describes, goes through the points with a bracket.
    bounded = [i for i, b in enumerate(hi) if not math.isinf(b)]
    slope = describe_slope(fit_trend(*([v[i] for i in bounded] for v in (x, lo, hi))))
    measured = (f"first searched {label}={x0:g}: {bracket(lo0, hi0)}, last {label}={x1:g}: "
                f"{bracket(lo1, hi1)}, {ends['reason']} ({slope}); d90 by {label}: "
                f"{points}")  # fmt: skip
    verdict = {"falls": "agrees", "rises": "disagrees", None: "not resolved"}[ends["direction"]]
    return Finding(claim, measured, verdict)


def figure2_rows(trajectory: pd.DataFrame) -> pd.DataFrame:
    """The checkpoints the Figure 2 finding judges (and Figure 2's verdict line): after step 0,
    whose full fine-tune beats the majority class, with a d90 or a search that reached nothing
    (``reached_nothing``: d90 above its d_max)."""
    after = trajectory[trajectory["step"] > 0]
    keep = has_counted_d90(after)
    if "search_status" in after:
        keep |= reached_nothing(after)
    return after[keep]


def _by_task(found: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The rows by task, and by trajectory too where a run has several (the name then joins
    the task's), ordered by ``step``."""
    if "trajectory" not in found or found["trajectory"].nunique() <= 1:
        return [(task, rows.sort_values("step")) for task, rows in found.groupby("task")]
    return [(f"{task}, {name}", rows.sort_values("step"))
            for (task, name), rows in found.groupby(["task", "trajectory"])]  # fmt: skip


def pretraining_lowers_d90(trajectory: pd.DataFrame) -> list[Finding]:
    """Figure 2: d90 at the last checkpoint lies below d90 at the first (checkpoints after
    step 0, whose full fine-tune beats the majority class beyond chance, with a d90 or a search
    that reached nothing: d90 above its d_max)."""
    claim = "d90 falls as pre-training goes on ({}; Figure 2)"
    return [
        replace(
            _ends_finding(claim.format(task), *brackets(rows, "step"), "step", probe_notes(rows)),
            seeds=_seeds(rows),
            pretraining_runs=1,
        )  # fmt: skip
        for task, rows in _by_task(figure2_rows(trajectory))
    ]


def figure2_lines(trajectory: pd.DataFrame) -> list[tuple[str, str, Finding, str]]:
    """Each line of Figure 2, (task, trajectory), with its own finding (``pretraining_lowers_d90``
    on that line's rows alone) and the ends test's reason ("the last interval lies below the
    first"), in the order of the line's names."""
    lines = []
    for (task, name), rows in figure2_rows(trajectory).groupby(["task", "trajectory"]):
        rows = rows.sort_values("step")
        (finding,) = pretraining_lowers_d90(rows)  # one line: one task, one trajectory
        reason = ends_ordered(*brackets(rows, "step"))["reason"]
        lines.append((task, name, finding, reason))
    return lines


def larger_models_lower_d90(survey: pd.DataFrame) -> list[Finding]:
    """Figure 3: larger pre-trained models have lower d90 (log d90 against log parameters),
    for every task surveyed, one whose searches found no d90 included."""
    findings = []
    for task, rows in survey.groupby("task"):
        claim = f"larger models have lower d90 ({task}; Figure 3)"
        found = rows[rows["d90"].notna()]
        if found.empty:
            measured = f"no d90 found among {counted(len(rows), 'model')}"
            if "search_status" in rows:  # why not: each search's status, counted
                statuses = rows["search_status"].value_counts().sort_index()
                measured += f" ({', '.join(f'{k}: {n}' for k, n in statuses.items())})"
            findings.append(Finding(claim, measured, "not resolved"))
        else:
            trend = _trend_finding(claim, *brackets(found, "parameters"), -1, "parameters",
                                   probe_notes(found))  # fmt: skip
            findings.append(replace(trend, seeds=_seeds(found)))
    return findings


def d90_predicts_generalisation(trajectory: pd.DataFrame) -> list[Finding]:
    """Figures 4 and 5: lower d90 goes with higher eval accuracy and a smaller relative gap."""
    from scipy import stats

    findings = []
    # Brackets only: a correlation needs each d90's middle, which a search that reached
    # nothing does not have.
    found = trajectory[has_counted_d90(trajectory)]
    for task, rows in _by_task(found):
        _, lo, hi = brackets(rows, "step")
        middle = [math.log10(math.sqrt(max(a, 1.0) * b)) for a, b in zip(lo, hi, strict=True)]
        pairs = [("eval_accuracy", "eval accuracy", -1),
                 ("relative_gap", "relative generalisation gap", 1)]  # fmt: skip
        for column, label, sign in pairs:
            figure = "Figure 4" if column == "eval_accuracy" else "Figure 5"
            claim = f"lower d90 goes with {'higher' if sign < 0 else 'smaller'} {label} ({task}; "
            claim += f"{figure})"
            about = {"subject": task, "figure": figure, "seeds": _seeds(rows),
                     "pretraining_runs": 1}  # fmt: skip
            values = [float(v) for v in rows[column]]
            checkpoints = counted(len(values), "checkpoint")
            if len(values) < MIN_CORRELATED:
                text = f"{checkpoints} with a d90: {FEW_CHECKPOINTS}"
                findings.append(
                    Finding(claim, text, "not resolved", too_few_checkpoints=True, **about)
                )
                continue
            if len(set(values)) < 2 or len(set(middle)) < 2:
                same = label if len(set(values)) < 2 else "d90 bracket"
                text = f"{checkpoints} with a d90, all with the same {same}: nothing to correlate"
                findings.append(Finding(claim, text, "not resolved", **about))
                continue
            result = stats.pearsonr(middle, values)
            ci = result.confidence_interval(0.95)
            text = (f"Pearson r of log d90 and {label} = {result.statistic:.2f}, 95% interval "
                    f"[{ci.low:.2f}, {ci.high:.2f}], {len(values)} checkpoints")  # fmt: skip
            if ci.low <= 0 <= ci.high:
                findings.append(Finding(claim, text, "not resolved", **about))
            else:
                agrees = math.copysign(1, result.statistic) == sign
                findings.append(Finding(claim, text, "agrees" if agrees else "disagrees", **about))
    return findings


def all_findings(d90: pd.DataFrame | None, trajectory: pd.DataFrame | None = None,
                 survey: pd.DataFrame | None = None) -> list[Finding]:  # fmt: skip
    """Every finding the tables allow: the sweep's (d90), Section 5's (trajectory, survey)."""
    findings = [] if d90 is None else [small_d90(d90), *said_below_did(d90)]
    if trajectory is not None and not trajectory.empty:
        findings += pretraining_lowers_d90(trajectory)
        findings += d90_predicts_generalisation(trajectory)
    if survey is not None and not survey.empty:
        findings += larger_models_lower_d90(survey)
    return findings
