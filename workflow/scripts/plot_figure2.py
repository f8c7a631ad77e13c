"""Snakemake script: Figure 2, d90 against pre-training updates, one line per task, each d90
drawn as the interval its search narrowed it to (a search that reached nothing up to d_max as
a triangle at d_max pointing up, one that learned nothing at any d as a cross along the
bottom), and under the title each line's verdict, what it rests on
(one pre-training run, the seeds) and whether the last checkpoint's interval lies apart from
the first's (the Figure 2 finding's test)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from intdim.analysis.bracket_text import above  # noqa: E402
from intdim.analysis.findings import figure2_lines  # noqa: E402
from intdim.analysis.section5 import has_counted_d90  # noqa: E402
from intdim.analysis.trajectory_plot import (  # noqa: E402
    NOT_REACHED,
    foot_rows,
    interval_limits,
    mark_flags,
    mark_foot,
    not_reached,
    reach_below,
    series_colours,
    title_line,
)
from intdim.analysis.trend import counted  # noqa: E402
from script_log import logged  # noqa: E402


def main(snakemake):
    table = pd.read_csv(snakemake.input[0])
    # A checkpoint whose full fine-tune does not beat the majority class beyond chance is left out.
    shown = table[has_counted_d90(table)]
    feet = foot_rows(table)
    (_, _, left_out), (_, _, untrained) = feet
    beyond = not_reached(table)
    print(f"left out (full fine-tune not above the majority beyond chance): {len(left_out)} rows")
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(6, 4))
    colours = series_colours(shown, lambda n: sns.color_palette(n_colors=n))
    verdicts = [title_line(f"{task} ({name}): {finding.verdict_text(markdown=False)}; {reason}")
                for task, name, finding, reason in figure2_lines(table)]  # fmt: skip
    taken = set()  # the flags' legend names already used
    for (task, name), line in shown.groupby(["task", "trajectory"]):
        line = line.sort_values("step")
        d90 = line["d90"].astype(float)
        below = reach_below(line)
        ax.errorbar(line["step"], d90, yerr=[below, 0 * d90], marker="o",
                    capsize=3, color=colours[task, name], label=f"{task} ({name})")  # fmt: skip
        mark_flags(ax, line, line["step"], d90, colours[task, name], taken)
    for i, ((task, name), points) in enumerate(beyond.groupby(["task", "trajectory"])):
        ax.plot(points["step"], points["d90_hi"], "^", color=colours.get((task, name), "grey"),
                label=NOT_REACHED if i == 0 else "_nolegend_")  # fmt: skip
        for step, d_max in zip(points["step"], points["d90_hi"], strict=True):
            # In the right half the label goes left of its mark, where it stays in the axes.
            right = step > (table["step"].min() + table["step"].max()) / 2
            ax.annotate(above(d_max), (step, d_max), textcoords="offset points",
                        xytext=(-6 if right else 6, -3), ha="right" if right else "left",
                        fontsize=7)  # fmt: skip
    # Along the bottom, so the axis still spans the whole trajectory.
    for marker, label, rows in feet:
        if len(rows):
            mark_foot(ax, rows["step"], marker, "grey", label)
    if len(shown) or len(left_out) or len(untrained) or len(beyond):  # below the axes
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    if len(shown) or len(beyond):
        ax.set_yscale("log")
        ax.set_ylim(
            interval_limits(shown, beyond=beyond, foot=bool(len(left_out) + len(untrained)))
        )
    if not len(shown):
        ax.text(
            0.5, 0.5, "no checkpoint reached the threshold", ha="center", transform=ax.transAxes
        )
    ax.set_xlabel("pre-training updates")
    ax.set_ylabel("d90 (" + ", ".join(sorted(table["method"].str.upper().unique())) + ")")
    counts = [f"{counted(len(left_out), 'checkpoint-task pair')} left out"] if len(left_out) else []
    counts += [f"{len(untrained)} nothing learned"] if len(untrained) else []
    counts += [f"{len(beyond)} not reached"] if len(beyond) else []
    title = "d90 along pre-training" + (f" ({', '.join(counts)})" if counts else "")
    ax.set_title("\n".join([title, *verdicts]), fontsize=9)
    fig.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close(fig)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
