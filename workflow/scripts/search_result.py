"""Snakemake script: a finished d90 search: its answer, bracket, every probe, and its cost."""

import json
from pathlib import Path

from intdim.analysis import search
from intdim.pipeline.integrity import load_json
from script_log import logged


def main(snakemake):
    state = load_json(snakemake.input[0])
    w = snakemake.wildcards
    result = {
        "model": w.model, "task": w.task, "method": w.method,
        "rounds": state["round"], "probes_run": search.training_runs(state),
        "training_runs": sum(p.get("runs", 0) for p in state["probes"]),
        "learning_rates": list(snakemake.params.lrs), "seeds": list(snakemake.params.seeds),
        **state,
    }  # fmt: skip
    Path(snakemake.output[0]).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "probes"}, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
