"""Figures 4 and 5 on one figure: the eval accuracy and the relative generalization gap of each
checkpoint's full fine-tune against its d90, each d90 drawn as the interval its search narrowed
it to and labelled with its checkpoint's updates (a search that reached nothing up to d_max as
a triangle at d_max pointing right, which no correlation can use), and under each panel's title
the findings' correlations and verdicts. One series per task and trajectory: the rule's figure
draws one run's, ``tools/figure2_over_runs.py --figure45`` several runs' with each run named as
a trajectory (``figure2_over_runs.runs_as_series``)."""

from __future__ import annotations

import textwrap

import pandas as pd

from .findings import Finding
from .section5 import has_counted_d90
from .trajectory_plot import (
    NOT_REACHED,
    interval_limits,
    mark_flags,
    not_reached,
    reach_below,
    series_colours,
)

PANELS = [("eval_accuracy", "eval accuracy", "Figure 4"),
          ("relative_gap", "relative generalization gap", "Figure 5")]  # fmt: skip
TITLE = (
    "Full fine-tuning of each checkpoint (baseline's rate, mean over seeds) against the "
    "checkpoint's d90"
)


# Points at one d90 (or triangles at one d_max) of several runs, closer than this share of the
# panel's height, share one label: their labels would print over each other.
LABEL_GAP = 0.04


def merged_step_labels(x, y, steps, height: float) -> list[tuple[float, float, str]]:
    """(x, y, text) labels for points labelled with their steps, in the points' order: the
    points at one x whose y lie within LABEL_GAP * height of the lowest of them get one label,
    at the highest, listing their distinct steps."""
    points = sorted(enumerate(zip(x, y, steps, strict=True)), key=lambda p: (p[1][0], p[1][1]))
    groups: list[list] = []
    for index, point in points:
        first = groups[-1][0][1] if groups else None
        if first is None or point[0] != first[0] or point[1] - first[1] > LABEL_GAP * height:
            groups.append([])
        groups[-1].append((index, point))
    groups.sort(key=lambda group: min(index for index, _ in group))
    return [(group[-1][1][0], group[-1][1][1],
             "/".join(f"{s:,}" for s in sorted({int(p[2]) for _, p in group})))
            for group in groups]  # fmt: skip


def draw(fig, axes, table: pd.DataFrame, findings: list[Finding], palette,
         title: str = TITLE) -> None:  # fmt: skip
    """Both panels on ``axes`` (two) of ``fig``: the checkpoints the findings correlate (a d90,
    and a full fine-tune above the majority class), the searches that reached nothing, each
    panel's findings (those of its figure) under its title, one legend under both panels.
    palette(n) gives n colours."""
    shown = table[has_counted_d90(table)]
    beyond = not_reached(table)
    several = table["trajectory"].nunique() > 1
    colours = series_colours(shown, palette)
    for ax, (column, label, figure) in zip(axes, PANELS, strict=True):
        taken = set()  # the flags' legend names already used in this panel
        for (task, name), points in shown.groupby(["task", "trajectory"]):
            d90 = points["d90"].astype(float)
            legend = f"{task} ({name})" if several else task
            ax.errorbar(d90, points[column], xerr=[reach_below(points), 0 * d90], fmt="o",
                        capsize=3, color=colours[task, name], label=legend)  # fmt: skip
            mark_flags(ax, points, d90, points[column], colours[task, name], taken)
        for i, ((task, name), points) in enumerate(beyond.groupby(["task", "trajectory"])):
            ax.plot(points["d90_hi"], points[column], ">", color=colours.get((task, name), "grey"),
                    label=NOT_REACHED if i == 0 else "_nolegend_")  # fmt: skip
        values = pd.concat([shown[column], beyond[column]]).astype(float)
        height = float(values.max() - values.min()) if len(values) else 0.0
        for x, points in ((shown["d90"], shown), (beyond["d90_hi"], beyond)):
            for xi, yi, text in merged_step_labels(x.astype(float), points[column],
                                                   points["step"], height):  # fmt: skip
                ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if len(shown) or len(beyond):
            ax.set_xscale("log")
            ax.set_xlim(interval_limits(shown, beyond=beyond))
        if not len(shown):
            ax.text(0.5, 0.5, "no checkpoint reached the threshold", ha="center",
                    transform=ax.transAxes)  # fmt: skip
        verdicts = [
            textwrap.fill(f"{f.subject}: {f.verdict_text(markdown=False)}; {f.measured}", 80)
            for f in findings
            if f.figure == figure
        ]
        ax.set_title("\n".join([f"{label} ({figure})", *verdicts]), fontsize=8)
        ax.set(xlabel="d90 (" + ", ".join(sorted(table["method"].str.upper().unique())) + ")",
               ylabel=label)  # fmt: skip
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:  # one legend under both panels, where it covers no point
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4),
                   fontsize=8, title="labels: pre-training updates", title_fontsize=7)  # fmt: skip
    fig.suptitle(title)
