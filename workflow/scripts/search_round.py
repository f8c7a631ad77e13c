"""Snakemake script: one round of the d90 search: fold in the probes' outcomes, plan the next."""

import json
from collections import defaultdict
from pathlib import Path

from intdim.analysis import search
from intdim.analysis.d90 import majority_reason, probe_outcome
from intdim.pipeline.integrity import load_json
from script_log import logged


def main(snakemake):
    baseline = load_json(snakemake.input.baseline)
    if "previous" not in snakemake.input.keys():  # round 0
        s = snakemake.params.search
        D = baseline["runs"][0]["D"]  # the full fine-tune's parameter count, head included
        state = search.start(s["d_min"], s["d_max"], s["probes_per_round"], s["precision"],
                             s["max_rounds"], D=D)  # fmt: skip
        # eval_size and metric: the majority test of the probe that sets d90 (section5 tables)
        state.update(target=baseline["threshold_score"], full_score=baseline["full_score"],
                     eval_majority_accuracy=baseline["eval_majority_accuracy"],
                     eval_size=baseline["eval_size"], metric=baseline["metric"])  # fmt: skip
        if not baseline["beats_majority"] and not state["done"]:
            state = search.stop_early(state, majority_reason(baseline))
    else:
        state = load_json(snakemake.input.previous)
        runs = defaultdict(list)
        for path in snakemake.input.probes:
            run = load_json(path)
            runs[int(run["d"])].append(run)
        outcomes = {
            d: probe_outcome(runs[d], snakemake.params.metric, state["target"],
                             state["eval_majority_accuracy"])
            for d in state["next"]
        }  # fmt: skip
        state = search.advance(state, outcomes)
    print(json.dumps({k: v for k, v in state.items() if k != "probes"}, indent=2))
    Path(snakemake.output[0]).write_text(json.dumps(state, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
