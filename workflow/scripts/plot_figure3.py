"""Snakemake script: Figure 3, d90 against parameter count (log-log): each d90 as the interval
its search narrowed it to, and a fitted slope only where those intervals support one."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from intdim.analysis.section5 import NOTHING_LEARNED, survey_parts  # noqa: E402
from intdim.analysis.trajectory_plot import mark_flags  # noqa: E402
from intdim.analysis.trend import counted, describe, fit_trend  # noqa: E402
from script_log import logged  # noqa: E402


def main(snakemake):
    table = pd.read_csv(snakemake.input[0])
    tasks = list(table["task"].unique())
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.5), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        points, missed, unsearched = survey_parts(table[table["task"] == task])
        d90 = points["d90"].astype(float)
        # d90 lies in (d90_lo, d90]: the bar runs down to the largest d that failed.
        line = ax.errorbar(points["parameters"], d90, yerr=[d90 - points["d90_lo"], 0 * d90],
                           fmt="o", capsize=3)  # fmt: skip
        taken = set()  # the flags' legend names drawn in this panel
        mark_flags(ax, points, points["parameters"], d90, line[0].get_color(), taken)
        if taken:
            # below the axes, as in Figure 2, where it covers no point
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
        for row in points.itertuples():
            ax.annotate(row.model, (row.parameters, float(row.d90)), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
        # Models whose search never reached the threshold: a triangle at the largest d tried.
        ax.scatter(missed["parameters"], missed["searched_up_to"], marker="^",
                   facecolors="none", edgecolors="grey")  # fmt: skip
        for i, row in enumerate(missed.itertuples()):
            ax.annotate(
                row.model, (row.parameters, row.searched_up_to), fontsize=8, color="grey",
                xytext=(4, -10 - 10 * i), textcoords="offset points",
            )  # fmt: skip
        title = f"{task}: {counted(len(points), 'model')} with a d90"
        if len(missed):
            title += f", {len(missed)} not reached (triangles: largest d searched)"
        for status, words in (("skipped", "not searched"), (NOTHING_LEARNED, NOTHING_LEARNED)):
            named = unsearched[unsearched["search_status"] == status]["model"]
            if len(named):  # no d to draw: named in the title
                title += f"\n{words}: {', '.join(named)}"
        trend = fit_trend(list(points["parameters"]), list(points["d90_lo"]), list(d90))
        print(f"{task}: {describe(trend)}")
        if trend["resolved"]:
            xs = np.logspace(np.log10(points["parameters"].min()),
                             np.log10(points["parameters"].max()), 50)  # fmt: skip
            ax.plot(xs, 10 ** trend["intercept"] * xs ** trend["slope"], "--", color="grey")
        title += f"\n{describe(trend)}"
        if len(points) or len(missed):
            ax.set(xscale="log", yscale="log")
        else:
            ax.text(0.5, 0.5, "no model reached the threshold", ha="center", transform=ax.transAxes)
        ax.set(xlabel="parameters", ylabel="d90", title=title)
    fig.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close(fig)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
