"""Snakemake script: execute the analysis notebook with papermill and render it as HTML."""

from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter
from script_log import logged


def main(snakemake):
    papermill.execute_notebook(
        snakemake.input.notebook,
        snakemake.output.executed,
        parameters={
            "runs_csv": snakemake.input.runs,
            "d90_csv": snakemake.input.d90,
            "metric": snakemake.params.metric,
        },
        cwd=".",
        kernel_name="python3",
        progress_bar=False,
    )
    exporter = HTMLExporter(exclude_input=True)
    body, _ = exporter.from_notebook_node(nbformat.read(snakemake.output.executed, as_version=4))
    Path(snakemake.output.html).write_text(body)


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
