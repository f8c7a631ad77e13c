"""Snakemake script: the paper's Figure 1, eval metric against d with the 90% lines."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from intdim.analysis.d90 import best_per_d  # noqa: E402
from script_log import logged  # noqa: E402


def d90_against_D(rows: pd.DataFrame) -> str:
    """One line per method: its d90 on the grid as a share of the model's D."""
    lines = [f"D = {rows['D'].iloc[0]:,.0f}"]
    for _, row in rows.iterrows():
        lines.append(
            f"{row['method'].upper()}: d90 ≤ {row['d90']:,.0f} = {row['d90'] / row['D']:.1e} D"
        )
    return "\n".join(lines)


def main(snakemake):
    metric = snakemake.params.metric
    runs = pd.read_csv(snakemake.input.runs)
    d90 = pd.read_csv(snakemake.input.d90)
    subspace = runs[runs["method"].isin(["did", "said"])]
    curves = [
        best_per_d(group, metric)
        .rename("score")
        .reset_index()
        .assign(model=m, task=t, method=k.upper())
        for (m, t, k), group in subspace.groupby(["model", "task", "method"])
    ]
    data = pd.concat(curves, ignore_index=True)
    sns.set_theme(style="whitegrid")
    # One model: a colour per method; several: a colour per model (its threshold in it too).
    one_model = data["model"].nunique() == 1
    hue = "method" if one_model else "model"
    levels = list(dict.fromkeys(data[hue]))
    palette = dict(zip(levels, sns.color_palette(n_colors=len(levels)), strict=True))
    grid = sns.relplot(
        data=data, x="d", y="score", hue=hue, hue_order=levels, palette=palette, style="method",
        col="task", kind="line", markers=True, dashes=False, height=3.6, aspect=1.5,
        facet_kws={"sharey": False},
    )  # fmt: skip
    for task, ax in grid.axes_dict.items():
        ax.set_xscale("log")
        rows = d90[d90["task"] == task]
        for _, row in rows.drop_duplicates("model").iterrows():
            colour = "black" if one_model else palette[row["model"]]
            ax.axhline(row["threshold_score"], ls="--", lw=1, color=colour)
        # Each d90 on its dashed line, side by side where several share a d (a small shift
        # along the log axis); with one model, d90 against D in a box: the headline.
        reached = rows[rows["d90"].notna()]
        for _, row in reached.iterrows():
            level = row["method"].upper() if one_model else row["model"]
            shift = 10 ** (0.05 * (levels.index(level) - (len(levels) - 1) / 2))
            ax.plot(row["d90"] * shift, row["threshold_score"], marker="v", ms=10, ls="none",
                    color=palette[level], mec="black", zorder=5)  # fmt: skip
        if one_model and len(reached):
            box = dict(fc="white", ec="grey", alpha=0.9)
            ax.text(0.97, 0.04, d90_against_D(reached), transform=ax.transAxes, ha="right",
                    va="bottom", multialignment="left", fontsize=9, bbox=box)  # fmt: skip
        if metric == "accuracy":  # what predicting the majority class scores
            majority = subspace.loc[subspace["task"] == task, "eval_majority_accuracy"].iloc[0]
            ax.axhline(majority, ls=":", lw=1, color="grey")
        ax.set_xlabel("subspace dimension d")
        ax.set_ylabel(f"eval {metric}")
    if len(grid.axes_dict) == 1:  # one panel: its legend inside, where it covers the least
        ((_, panel),) = grid.axes_dict.items()
        legend = grid.legend
        panel.legend(legend.legend_handles, [t.get_text() for t in legend.texts], loc="best",
                  title=legend.get_title().get_text(), fontsize=9, title_fontsize=9)  # fmt: skip
        legend.remove()
    grid.figure.suptitle(
        "Eval metric against d\ndashed: 90% of full fine-tuning; dotted: majority class;\n"
        "triangles: d90, the smallest d on the grid that reaches the dashed line",
        y=1.13, fontsize="medium",
    )  # fmt: skip
    grid.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close("all")


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
