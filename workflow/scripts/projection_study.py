"""Snakemake script: the projection study's table and figure (eval metric against d for each
projection, the threshold, and each one's measured time per training step)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from intdim.analysis.d90 import best_per_d  # noqa: E402
from intdim.analysis.projection_study import study_table  # noqa: E402
from intdim.pipeline.variants import variant_name  # noqa: E402
from script_log import logged  # noqa: E402


def main(snakemake):
    metric = snakemake.params.metric
    runs = pd.read_csv(snakemake.input.runs)
    d90 = pd.read_csv(snakemake.input.d90)
    search = pd.read_csv(snakemake.input.search) if snakemake.input.get("search") else None
    models, options = snakemake.params.models, snakemake.params.options
    table = study_table(runs, d90, search, models, options, metric)
    table.to_csv(snakemake.output.table, index=False)
    print(table.to_string())

    panels = sorted(table[["task", "method"]].drop_duplicates().itertuples(index=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False)
    for ax, (task, method) in zip(axes[0], panels, strict=True):
        for model in models:
            group = runs[(runs["model"] == model) & (runs["task"] == task)
                         & (runs["method"] == method)]  # fmt: skip
            if group.empty:
                continue
            row = table[(table["variant"] == variant_name(model)) & (table["task"] == task)
                        & (table["method"] == method)].iloc[0]  # fmt: skip
            label = f"{row['variant']}: {row['projection']}"
            label += ", released gradient" if row["legacy_gradient"] else ""
            if pd.notna(row["step_seconds"]):
                label += f" ({row['step_seconds']:.2f} s/step)"
            scores = best_per_d(group, metric)
            ax.plot(scores.index, scores.values, marker="o", label=label)
        threshold = d90[(d90["task"] == task)]["threshold_score"].iloc[0]
        ax.axhline(threshold, ls="--", lw=1, color="black")
        if metric == "accuracy":
            majority = runs.loc[runs["task"] == task, "eval_majority_accuracy"].iloc[0]
            ax.axhline(majority, ls=":", lw=1, color="grey")
        ax.set_xscale("log")
        ax.set_xlabel("subspace dimension d")
        ax.set_ylabel(f"eval {metric} (best learning rate)")
        ax.set_title(f"{task}, {method.upper()}")
        ax.legend(fontsize=7)
    fig.suptitle("Projection study: dashed 90% of full fine-tuning, dotted majority class")
    fig.tight_layout()
    fig.savefig(snakemake.output.figure, dpi=150, bbox_inches="tight")
    plt.close(fig)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
