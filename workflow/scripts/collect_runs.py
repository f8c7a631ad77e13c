"""Snakemake script: every run's metrics in one tidy CSV."""

from intdim.analysis.d90 import collect_runs
from script_log import logged


def main(snakemake):
    frame = collect_runs(list(snakemake.input.subspace), list(snakemake.input.baselines))
    frame.to_csv(snakemake.output[0], index=False)
    print(frame.groupby(["model", "task", "method", "status"]).size())


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
