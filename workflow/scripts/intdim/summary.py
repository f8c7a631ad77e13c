"""The report's landing page: what ran and the headline results, as reStructuredText.

Snakemake renders the page through Jinja before docutils, so nothing here may contain Jinja's
delimiters; ``rst_table`` escapes them in cell values.
"""

from __future__ import annotations

import math

import pandas as pd

# Columns of each headline table, in the order shown.
D90_COLUMNS = [
    "model",
    "task",
    "method",
    "D",
    "full_score",
    "d90_lo",
    "d90",
    "d90_by_seed",
    "best_score_at_d90",
]
SEARCH_COLUMNS = ["model", "task", "method", "D", "d90", "lo", "hi", "status", "reason"]


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


def landing_page(
    run: dict, d90: pd.DataFrame, search: pd.DataFrame | None, findings: list[str] = ()
) -> str:
    """The page: the method in two sentences, what ran (``run``), the d90 table, the searches."""
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
        )
    )  # fmt: skip
    reached = d90["d90"].notna().sum()
    sweep = (
        f"{reached} of {len(d90)} (model, task, method) sweeps reach the threshold within the "
        "d grid; '-' means not reached. On the grid d90 lies in (d90_lo, d90]; d90_by_seed is "
        "each seed's own. Figure 1 shows every curve.\n\n" + rst_table(d90, D90_COLUMNS)
    )
    page = intro + "\n" + _section("What ran", ran) + "\n" + _section("d90 from the sweep", sweep)
    if search is not None and len(search):
        found = search["d90"].notna().sum()
        body = (
            f"{found} of {len(search)} searches found d90; each lies in the bracket (lo, hi] "
            "that the search narrowed it to (Figures 2 and 3 and the bounds use them).\n\n"
            + rst_table(search, SEARCH_COLUMNS)
        )
        page += "\n" + _section("d90 from the searches (Section 5)", body)
    if findings:
        page += "\n" + _section("Findings", "\n".join(f"- {_cell(f)}" for f in findings))
    return page
