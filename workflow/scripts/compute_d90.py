"""Snakemake script: d90 per (model, task, method) and the paper's Table 1 layout."""

import pandas as pd
from intdim.analysis.d90 import d90_table, table1
from script_log import logged


def main(snakemake):
    runs = pd.read_csv(snakemake.input.runs)
    d90 = d90_table(runs, snakemake.params.metric)
    d90.to_csv(snakemake.output.d90, index=False)
    table1(d90).to_csv(snakemake.output.table1, index=False)
    print(d90.to_string())


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
