"""Snakemake script: the best full fine-tuning run and the d90 threshold it sets."""

import json
from pathlib import Path

from intdim.analysis.d90 import select_baseline
from intdim.pipeline.integrity import load_json
from script_log import logged


def main(snakemake):
    # A projection variant's baseline is its base model's runs, under the variant's name.
    runs = [{**load_json(p), "model": snakemake.params.model} for p in snakemake.input.runs]
    # Every run scored the same eval examples; their number sizes the test against the majority.
    eval_size = load_json(snakemake.input.data)["eval_size"]
    base = select_baseline(runs, snakemake.params.metric, snakemake.params.threshold, eval_size)
    Path(snakemake.output[0]).write_text(json.dumps(base, indent=2))
    print({k: v for k, v in base.items() if k != "runs"})


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
