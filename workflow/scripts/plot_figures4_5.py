"""Snakemake script: Figures 4 and 5 of one run (``intdim.analysis.figures4_5_plot``), with
the landing page's findings (``findings.d90_predicts_generalisation``) under the titles."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from intdim.analysis.figures4_5_plot import draw  # noqa: E402
from intdim.analysis.findings import d90_predicts_generalisation  # noqa: E402
from script_log import logged  # noqa: E402


def main(snakemake):
    table = pd.read_csv(snakemake.input[0])
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    draw(fig, axes, table, d90_predicts_generalisation(table),
         lambda n: sns.color_palette(n_colors=n))  # fmt: skip
    fig.savefig(snakemake.output[0], dpi=150, bbox_inches="tight")
    plt.close(fig)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
