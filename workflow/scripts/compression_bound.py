"""Snakemake script: the compression bound of one d90 solution (see intdim.analysis.bound)."""

import json
from pathlib import Path

from intdim.analysis.bound import description_bits, occam_bound, quantised_scores
from intdim.pipeline.integrity import load_json, read_parquet, verified_dir
from intdim.pipeline.numerics import use_numerics
from script_log import logged


def main(snakemake):
    import torch

    use_numerics(snakemake.params.numerics)  # before the job's first tensor operation
    torch.set_num_threads(snakemake.threads)
    w, settings = snakemake.wildcards, snakemake.params
    state = load_json(snakemake.input.search)
    result = {"model": w.model, "task": w.task, "method": w.method, "d90": state["d90"],
              "search_status": state["status"]}  # fmt: skip
    if state["d90"] is None:
        result["reason"] = f"no d90 solution: {state['reason']}"
        Path(snakemake.output[0]).write_text(json.dumps(result, indent=2))
        return
    verified_dir(snakemake.input.data)
    verified_dir(snakemake.input.model)  # the task file's base model is this snapshot
    run = verified_dir(snakemake.input.metrics)  # and the task file is the one it recorded
    train = read_parquet(snakemake.input.train)
    evaluation = read_parquet(snakemake.input.eval)
    scores = quantised_scores(snakemake.input.task_file, train, evaluation, settings.bits,
                              settings.max_length)  # fmt: skip
    if scores["d"] != state["d90"]:
        raise ValueError(
            f"task file trains {scores['d']} numbers, the search's d90 is {state['d90']}"
        )
    # every d the search could have chosen (its range, capped at D), each lr and seed
    d_choices = state["d_max"] - state["d_min"] + 1
    configurations = d_choices * len(settings.lrs) * len(settings.seeds)
    bits = description_bits(scores["d"], settings.bits, scores["scales"])
    train_error = 1.0 - scores["train_accuracy"]
    result.update({
        "d": scores["d"], "D": scores["D"], "m": len(train), "bits_per_number": settings.bits,
        "description_bits": bits, "configurations": configurations,
        "confidence": settings.confidence, "train_error_quantised": train_error,
        "eval_error_quantised": 1.0 - scores["eval_accuracy"],
        "eval_accuracy_quantised": scores["eval_accuracy"], "eval_accuracy": run["eval_accuracy"],
        "bound": occam_bound(train_error, len(train), bits, configurations, settings.confidence),
    })  # fmt: skip
    Path(snakemake.output[0]).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
