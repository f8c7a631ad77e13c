"""Snakemake script: the report's landing page (what ran, the headline tables)."""

from pathlib import Path

import pandas as pd
from intdim.summary import landing_page
from intdim.trend import describe, fit_trend
from script_log import logged


def main(snakemake):
    runs = pd.read_csv(snakemake.input.runs)
    d90 = pd.read_csv(snakemake.input.d90)
    d90["d90"] = d90["d90"].astype("Int64")
    search = None
    if snakemake.input.get("search"):
        search = pd.read_csv(snakemake.input.search)
        search["d90"] = search["d90"].astype("Int64")
    run = dict(snakemake.params.run)
    run.update(runs=len(runs), ok_runs=int((runs["status"] == "ok").sum()))
    findings = []
    if snakemake.input.get("survey"):  # Figure 3's one-line finding per task
        survey = pd.read_csv(snakemake.input.survey)
        for task, rows in survey[survey["d90"].notna()].groupby("task"):
            trend = fit_trend(list(rows["parameters"]), list(rows["d90_lo"]),
                              list(rows["d90"].astype(float)))  # fmt: skip
            findings.append(f"Figure 3, {task}: d90 against parameter count, {describe(trend)}")
    page = landing_page(run, d90, search, findings)
    Path(snakemake.output[0]).write_text(page, encoding="utf-8")
    print(page)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
