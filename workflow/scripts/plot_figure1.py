"""Snakemake script: the paper's Figure 1, eval metric against d with the 90% lines."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from intdim.analysis.d90 import best_per_d  # noqa: E402
from script_log import logged  # noqa: E402


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
    grid = sns.relplot(
        data=data, x="d", y="score", hue="method" if one_model else "model", style="method",
        col="task", kind="line", markers=True, dashes=False, height=3.6, aspect=1.3,
        facet_kws={"sharey": False},
    )  # fmt: skip
    palette = dict(zip(data["model"].unique(), sns.color_palette(), strict=False))
    for task, ax in grid.axes_dict.items():
        ax.set_xscale("log")
        for _, row in d90[d90["task"] == task].drop_duplicates("model").iterrows():
            colour = "black" if one_model else palette[row["model"]]
            ax.axhline(row["threshold_score"], ls="--", lw=1, color=colour)
        if metric == "accuracy":  # what predicting the majority class scores
            majority = subspace.loc[subspace["task"] == task, "eval_majority_accuracy"].iloc[0]
            ax.axhline(majority, ls=":", lw=1, color="grey")
        ax.set_xlabel("subspace dimension d")
        ax.set_ylabel(f"eval {metric}")
    grid.figure.suptitle(
        "Eval metric against d (dashed: 90% of full fine-tuning; dotted: majority class)", y=1.03
    )
    grid.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close("all")


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
