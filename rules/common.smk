# Config validation (before the DAG is built), wildcard constraints and input functions.
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from snakemake.utils import min_version, validate

min_version("9.0")

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from intdim.workflow_config import (
    SCHEMA,
    check_config,
    d_values,
    lr_label,
    scaled_learning_rate,
)

validate(config, str(SCHEMA))
try:
    check_config(config)
except ValueError as err:
    raise WorkflowError(str(err)) from None

MODELS = list(config["models"])
TASKS = list(config["tasks"])
METHODS = config["methods"]
SEEDS = config["seeds"]
D_VALUES = d_values(config)
FULL_LRS = [lr_label(lr) for lr in config["full_finetune"]["learning_rates"]]
SUB_LRS = [lr_label(lr) for lr in config["subspace"]["learning_rates"]]
RES = config["resources"]
# The notebook ships with the workflow, wherever the working directory (--directory) is.
NOTEBOOK = str(Path(workflow.basedir) / "notebooks" / "analysis.ipynb")


wildcard_constraints:
    model="|".join(map(re.escape, MODELS)),
    task="|".join(map(re.escape, TASKS)),
    method="did|said",
    d=r"\d+",
    lr=r"[0-9.e+-]+",
    seed=r"\d+",


def full_runs(wildcards):
    return expand(
        "results/full/{{model}}/{{task}}/lr{lr}/seed{seed}/metrics.json",
        lr=FULL_LRS,
        seed=SEEDS,
    )


def subspace_runs(wildcards=None):
    return expand(
        "results/subspace/{model}/{task}/{method}/d{d}/lr{lr}/seed{seed}/metrics.json",
        model=MODELS,
        task=TASKS,
        method=METHODS,
        d=D_VALUES,
        lr=SUB_LRS,
        seed=SEEDS,
    )


def baselines(wildcards=None):
    return expand("results/full/{model}/{task}/baseline.json", model=MODELS, task=TASKS)


def grows_with_attempt(value):
    """A resource that grows on each retry, so a job killed for memory or time can finish."""
    return lambda wildcards, attempt: value * attempt


def training_settings(kind):
    """Settings of one training run from its wildcards: kind is full_finetune or subspace."""

    def settings(wildcards):
        section = config[kind]
        lr = float(wildcards.lr)
        if "lr_reference_d" in section and hasattr(wildcards, "d"):
            lr = scaled_learning_rate(lr, int(wildcards.d), section["lr_reference_d"])
        return {
            "learning_rate": lr,
            "steps": section["steps"],
            "batch_size": section["batch_size"],
            "weight_decay": section["weight_decay"],
            "max_length": config["max_length"],
            "seed": int(wildcards.seed),
        }

    return settings


def all_outputs():
    return [
        "results/tables/runs.csv",
        "results/tables/d90.csv",
        "results/tables/table1.csv",
        "results/figures/figure1.png",
        "results/notebooks/analysis.html",
    ]
