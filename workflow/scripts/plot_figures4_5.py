"""Snakemake script: Figures 4 and 5, eval accuracy and relative generalization gap vs d90."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from script_log import logged  # noqa: E402


def main(snakemake):
    table = pd.read_csv(snakemake.input[0])
    shown = table[table["beats_majority"] & table["d90"].notna()]
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    panels = [("eval_accuracy", "eval accuracy (Figure 4)"),
              ("relative_gap", "relative generalization gap (Figure 5)")]  # fmt: skip
    for ax, (column, label) in zip(axes, panels, strict=True):
        sns.scatterplot(data=shown, x="d90", y=column, hue="task", style="trajectory", ax=ax)
        if len(shown):
            ax.set_xscale("log")
        else:
            ax.text(0.5, 0.5, "no checkpoint reached the threshold", ha="center",
                    transform=ax.transAxes)  # fmt: skip
        ax.set(xlabel="d90", ylabel=label)
    fig.suptitle("Full fine-tuning of each checkpoint against its d90")
    fig.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close(fig)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
