"""Snakemake script: Figures 4 and 5, the eval accuracy and the relative generalization gap of
each checkpoint's full fine-tune against its d90, each d90 drawn as the interval its search
narrowed it to and labelled with its checkpoint's updates (a search that reached nothing up to
d_max as a triangle at d_max pointing right, which no correlation can use), and under each
panel's title the finding's correlation and verdict (``findings.d90_predicts_generalisation``)."""

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from intdim.analysis.findings import d90_predicts_generalisation  # noqa: E402
from intdim.analysis.section5 import has_counted_d90  # noqa: E402
from intdim.analysis.trajectory_plot import (  # noqa: E402
    NOT_REACHED,
    interval_limits,
    mark_flags,
    not_reached,
    reach_below,
    series_colours,
)
from script_log import logged  # noqa: E402

PANELS = [("eval_accuracy", "eval accuracy", "Figure 4"),
          ("relative_gap", "relative generalization gap", "Figure 5")]  # fmt: skip


def main(snakemake):
    table = pd.read_csv(snakemake.input[0])
    # The checkpoints the findings correlate: a d90, and a full fine-tune above the majority class.
    shown = table[has_counted_d90(table)]
    beyond = not_reached(table)
    findings = d90_predicts_generalisation(table)
    several = table["trajectory"].nunique() > 1
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    colours = series_colours(shown, lambda n: sns.color_palette(n_colors=n))
    for ax, (column, label, figure) in zip(axes, PANELS, strict=True):
        taken = set()  # the flags' legend names already used in this panel
        for (task, name), points in shown.groupby(["task", "trajectory"]):
            d90 = points["d90"].astype(float)
            below = reach_below(points)
            legend = f"{task} ({name})" if several else task
            ax.errorbar(d90, points[column], xerr=[below, 0 * d90], fmt="o", capsize=3,
                        color=colours[task, name], label=legend)  # fmt: skip
            mark_flags(ax, points, d90, points[column], colours[task, name], taken)
            for x, y, step in zip(d90, points[column], points["step"], strict=True):
                ax.annotate(f"{int(step):,}", (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=7)  # fmt: skip
        for i, ((task, name), points) in enumerate(beyond.groupby(["task", "trajectory"])):
            ax.plot(points["d90_hi"], points[column], ">", color=colours.get((task, name), "grey"),
                    label=NOT_REACHED if i == 0 else "_nolegend_")  # fmt: skip
            for x, y, step in zip(points["d90_hi"], points[column], points["step"], strict=True):
                ax.annotate(f"{int(step):,}", (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=7)  # fmt: skip
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
    fig.suptitle("Full fine-tuning of each checkpoint (baseline's rate, mean over seeds) "
                 "against the checkpoint's d90")  # fmt: skip
    fig.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close(fig)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
