"""Snakemake script: the report's landing page (what ran, the headline tables)."""

from pathlib import Path

import pandas as pd
from intdim.analysis.findings import all_findings, findings_note
from intdim.analysis.summary import landing_page
from script_log import logged


def optional_table(snakemake, name: str) -> pd.DataFrame | None:
    path = snakemake.input.get(name)
    return pd.read_csv(path) if path else None


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
    finished = runs[(runs["status"] == "ok") & (runs["method"] != "full")]
    run.update(subspace_runs=len(finished), collapsed=int(finished["collapsed"].eq(True).sum()))
    findings = all_findings(
        d90, optional_table(snakemake, "trajectory"), optional_table(snakemake, "survey")
    )
    page = landing_page(run, d90, search, [f.line() for f in findings], findings_note(findings))
    Path(snakemake.output[0]).write_text(page, encoding="utf-8")
    print(page)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
