"""The report's landing page: what ran and the headline results, as reStructuredText.

Snakemake renders the page through Jinja before docutils, so nothing here may contain Jinja's
delimiters; ``rst_table`` escapes them in cell values.
"""

from __future__ import annotations

import math

import pandas as pd

from .bracket_text import above, bracket
from .section5 import NOTHING_LEARNED

# The landing page's compact d90 table.
COMPACT = ["model", "task", "method", "full score", "d90 in", "d90 / D"]


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    text = str(value)
    for token in ("{{", "}}", "{%", "%}", "{#", "#}"):
        text = text.replace(token, " ".join(token))
    return text


def rst_table(frame: pd.DataFrame, columns: list[str]) -> str:
    """A list-table of the given columns (those the frame has), one row per frame row."""
    columns = [c for c in columns if c in frame.columns]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [columns, *frame[columns].astype(object).itertuples(index=False)]:
        cells = [_cell(v) for v in row]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    return "\n".join(lines)


def _section(title: str, body: str) -> str:
    return f"{title}\n{'-' * len(title)}\n\n{body}\n"


def collapse_line(run: dict) -> str:
    """'k of n subspace runs', k the finished runs that predict one class for every eval
    example (``run['collapsed']``, ``run['subspace_runs']``)."""
    return (
        f"{run['collapsed']} of {run['subspace_runs']} finished subspace runs predict one class "
        "for every eval example (runs.csv: collapsed)"
    )


def compact_d90(d90: pd.DataFrame) -> pd.DataFrame:
    """The landing page's d90 table: the interval and its share of D (d90.csv has the rest)."""
    lo = d90["d90_lo"] if "d90_lo" in d90 else [None] * len(d90)
    return pd.DataFrame({
        "model": d90["model"], "task": d90["task"], "method": d90["method"],
        "full score": d90["full_score"],
        "d90 in": [bracket(a, b) for a, b in zip(lo, d90["d90"], strict=True)],
        "d90 / D": [f"{int(b) / D:.1e}" if not pd.isna(b) else "-"
                    for b, D in zip(d90["d90"], d90["D"], strict=True)],
    })  # fmt: skip


def _search_bracket(lo, hi, status: str) -> str:
    """A skipped search probed nothing: no bracket. One that reached nothing failed its last
    probe at d_max, which it keeps as hi: d90 lies above it, unless it learned nothing at all
    (``section5.search_status``)."""
    if status == "skipped":
        return "-"
    if status == "not reached":
        return above(hi)
    if status == NOTHING_LEARNED:  # every probe at or below the majority class: no bracket
        return NOTHING_LEARNED
    return bracket(lo, hi)


def _best_probe(score, d) -> str:
    """'0.6847 at 646': a search's best probe score and where ('-' where none scored)."""
    return "-" if pd.isna(score) or pd.isna(d) else f"{float(score):.4f} at {int(d):,}"


def compact_search(search: pd.DataFrame) -> pd.DataFrame:
    """The searches' brackets and, from tables that have them, each one's best probe beside
    its target: how far one that reached nothing fell short, and at which d."""
    frame = pd.DataFrame({
        "model": search["model"], "task": search["task"], "method": search["method"],
        "d90 in": [_search_bracket(a, b, status)
                   for a, b, status in zip(search["lo"], search["hi"], search["status"],
                                           strict=True)],
        "status": search["status"],
    })  # fmt: skip
    if {"best_score", "best_score_d", "target"} <= set(search.columns):
        pairs = zip(search["best_score"], search["best_score_d"], strict=True)
        frame["best probe"] = [_best_probe(score, d) for score, d in pairs]
        frame["target"] = [f"{t:.4f}" if pd.notna(t) else "-" for t in search["target"]]
    return frame


def section5_lines(run: dict) -> list[tuple[str, str]]:
    """What ran of Section 5, for "What ran": the d90 searches (their models, tasks and
    methods) and the pre-training seed, where the run has them."""
    lines = []
    searches = run.get("searches") or []
    if searches:
        models, tasks, methods = (
            list(dict.fromkeys(column)) for column in zip(*searches, strict=True)
        )
        lines.append(("d90 searches (Section 5)",
                      f"{len(searches)}: {', '.join(models)} on {', '.join(tasks)} "
                      f"({', '.join(methods)})"))  # fmt: skip
    if run.get("pretraining_seed") is not None:
        lines.append(("pre-training seed", str(run["pretraining_seed"])))
    return lines


def landing_page(
    run: dict,
    d90: pd.DataFrame,
    search: pd.DataFrame | None,
    findings: list[str] = (),
    findings_note: str | None = None,
) -> str:
    """The page, narrow enough to sit beside the rule graph: the method in two sentences, the
    findings (``findings_note`` under them), what ran (``run``), a compact d90 table and the
    searches' brackets. The full tables are in the report's Tables category."""
    intro = (
        "Intrinsic dimension of fine-tuning\n"
        "==================================\n\n"
        "Each model is fine-tuned in full (the baseline, best over a small learning-rate search)"
        " and in random d-dimensional subspaces, theta_D = theta_0 + P(theta_d), with P the "
        "Fastfood transform. DID uses one global projection; SAID adds one learned scale per "
        "parameter group, paid out of d. d90 is the smallest d whose eval metric reaches "
        f"{run['threshold']:.0%} of the full fine-tuning score (Aghajanyan, Gupta and "
        "Zettlemoyer, ACL 2021).\n"
    )
    ran = "\n".join(
        f"- **{key}**: {_cell(value)}"
        for key, value in (
            ("models", ", ".join(run["models"])),
            ("tasks", ", ".join(run["tasks"])),
            ("methods", ", ".join(run["methods"])),
            ("d values", ", ".join(f"{d:,}" for d in run["d_values"])),
            ("seeds", ", ".join(map(str, run["seeds"]))),
            ("metric", run["metric"]),
            ("training runs", f"{run['runs']} ({run['ok_runs']} finished, "
                              f"{run['runs'] - run['ok_runs']} diverged or infeasible)"),
            ("collapsed", collapse_line(run)),
            *section5_lines(run),
        )
    )  # fmt: skip
    reached = d90["d90"].notna().sum()
    sweep = (
        f"{reached} of {len(d90)} (model, task, method) sweeps reach the threshold within the "
        "d grid. On the grid d90 lies in the interval shown; Figure 1 shows every curve and "
        "Tables, d90.csv, each seed's own d90.\n\n" + rst_table(compact_d90(d90), COMPACT)
    )
    page = intro
    if findings:
        body = "\n".join(f"- {_cell(f)}" for f in findings)
        body += f"\n\n{_cell(findings_note)}" if findings_note else ""
        page += "\n" + _section("Findings", body)
    page += "\n" + _section("What ran", ran) + "\n" + _section("d90 from the sweep", sweep)
    if search is not None and len(search):
        found = search["d90"].notna().sum()
        body = (
            f"{found} of {len(search)} searches found d90; each lies in the bracket that the "
            "search narrowed it to (Tables, search.csv, has the probes' reasons). A search's "
            "best probe is the highest score any of its d reached, at the smallest such d. "
            "Where that is the smallest d it probed and larger d scored less, more dimensions "
            "did not help at the rate tried: d90 above d_max then says as much about the rate "
            "as about d.\n\n"
            + rst_table(
                compact_search(search),
                ["model", "task", "method", "d90 in", "status", "best probe", "target"],
            )  # fmt: skip
        )
        page += "\n" + _section("d90 from the searches (Section 5)", body)
    return page
