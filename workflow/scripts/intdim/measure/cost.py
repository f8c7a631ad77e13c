"""What a run costs in GPU-hours before it is submitted, from its DAG and the step benchmark.

* The jobs: a dry run's job list (``parse_dry_run``), each training job with its wildcards.
  A d90 search adds rounds only as earlier rounds finish, so the dry run shows round 0; the
  probes a whole search needs are counted by running the search's own code (``search.run``)
  on a d90 in the geometric middle of its range.
* The step time: fitted to the benchmark's full fine-tuning rows as t = c0 + c1 D T (D the
  parameter count, T = batch x tokens), and a subspace step as that times the median measured
  ratio of its method (DID, SAID) to full fine-tuning (``StepModel``).
* The parameter count of each model: the workflow's own pre-trained sizes from their shape,
  hub models from ``KNOWN_PARAMETERS`` (the published counts) or given by the caller.

Every number is a model of the cost, not a measurement: the fit is to one GPU's benchmark and
ignores data loading and evaluation, which ``OVERHEAD_S`` a job stands for.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass

from ..analysis import search as search_lib
from ..pipeline.plan import Plan

# Loading the model, tokenising, the two evaluations: per training job, on the GPU.
OVERHEAD_S = 60.0

# Published parameter counts of the hub models the shipped configs name (with a 2-label head).
KNOWN_PARAMETERS = {
    "google-bert/bert-base-cased": 108_311_810,
    "google-bert/bert-large-cased": 333_581_314,
    "FacebookAI/roberta-base": 124_647_170,
    "FacebookAI/roberta-large": 355_361_794,
    "facebook/bart-base": 140_601_602,
    "facebook/bart-large": 407_343_106,
    "google/electra-base-discriminator": 109_483_778,
    "albert/albert-base-v2": 11_685_122,
    "albert/albert-large-v2": 17_685_250,
    "albert/albert-xlarge-v2": 58_726_914,
    "albert/albert-xxlarge-v2": 222_626_818,
    "xlnet/xlnet-base-cased": 117_310_466,
    "xlnet/xlnet-large-cased": 361_320_450,
    "google-t5/t5-small": 60_770_562,
    "google-t5/t5-large": 737_674_754,
    "google-t5/t5-3b": 2_851_634_178,
    "FacebookAI/xlm-roberta-base": 278_045_186,
    "FacebookAI/xlm-roberta-large": 559_892_482,
    "openai-community/gpt2": 124_441_344,
    "openai-community/gpt2-medium": 354_825_216,
    "HuggingFaceTB/SmolLM2-360M": 361_823_168,
    "Qwen/Qwen2.5-0.5B": 494_034_560,
    "Qwen/Qwen2.5-1.5B": 1_543_717_376,
}
# MultiBERTs checkpoints are BERT-base.
MULTIBERTS = re.compile(r"^google/multiberts-")


@dataclass(frozen=True)
class StepModel:
    """Seconds per training step: c0 + c1 * D * tokens for full fine-tuning, times
    ``ratios[method]`` for a subspace method."""

    c0: float
    c1: float
    ratios: dict

    @classmethod
    def fit(cls, rows: list[dict]) -> StepModel:
        full = [r for r in rows if r.get("status") == "ok" and r["method"] == "full"]
        if len(full) < 2:
            raise ValueError("the benchmark needs at least two full fine-tuning rows to fit")
        xs = [r["D"] * r["batch"] * r["seq"] for r in full]
        ys = [r["step_s"] for r in full]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        c1 = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0
        c0 = max(0.0, my - c1 * mx)
        base = {(r["model"], r["seq"], r["_file"]): r["step_s"] for r in full}
        ratios = {}
        for method in ("did", "said"):
            found = [r["step_s"] / base[(r["model"], r["seq"], r["_file"])] for r in rows
                     if r.get("status") == "ok" and r["method"] == method
                     and r.get("backend") in (None, "auto", "triton")
                     and (r["model"], r["seq"], r["_file"]) in base]  # fmt: skip
            ratios[method] = statistics.median(found) if found else 1.0
        return cls(c0, c1, ratios)

    def step_seconds(self, D: int, tokens: int, method: str) -> float:
        full = self.c0 + self.c1 * D * tokens
        return full if method == "full" else full * self.ratios[method]


def parse_dry_run(text: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job a ``snakemake -n`` listing names."""
    jobs, rule, wildcards = [], None, {}
    for line in text.splitlines():
        match = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):", line)
        if match:
            if rule is not None:
                jobs.append((rule, wildcards))
            rule, wildcards = match.group(1), {}
            continue
        match = re.match(r"^\s+wildcards: (.*)$", line)
        if match and rule is not None:
            wildcards = dict(p.split("=", 1) for p in match.group(1).split(", "))
    if rule is not None:
        jobs.append((rule, wildcards))
    return jobs


def shape_parameters(shape: dict, vocab_size: int, max_length: int) -> int:
    """The parameter count of the workflow's own pre-trained size with a 2-label head, from the
    same config its pre-training builds, on the meta device (no memory, no weights)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from ..method.pretraining import roberta_config

    config = roberta_config(shape, vocab_size, max_length)
    config.num_labels = 2
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    return sum(p.numel() for p in model.parameters())


def parameters(plan: Plan, model: str, given: dict | None = None) -> int:
    """The parameter count of a model name of the plan (``given`` first)."""
    given = given or {}
    if model in given:
        return int(given[model])
    size = plan.pretrained_size(model)
    if size is not None:
        spec = plan.section("pretraining")
        return shape_parameters(spec["sizes"][size], spec["vocab_size"], spec["max_length"])
    ref = plan.model_refs.get(model, model).split("@")[0]
    if ref in KNOWN_PARAMETERS:
        return KNOWN_PARAMETERS[ref]
    if MULTIBERTS.match(ref):
        return KNOWN_PARAMETERS["google-bert/bert-base-cased"]
    raise ValueError(f"no parameter count for model {model!r} ({ref}); give it with "
                     f"--parameters {model}=N")  # fmt: skip


def search_probes(spec: dict) -> int:
    """Training-run probes of one whole search (before seeds and rates) of the config's
    ``search`` block, from the search's own code with d90 in the geometric middle of
    [d_min, d_max]."""
    middle = math.sqrt(spec["d_min"] * spec["d_max"])
    state = search_lib.start(spec["d_min"], spec["d_max"], spec["probes_per_round"],
                             spec["precision"])  # fmt: skip
    state = search_lib.run(state, lambda d: {"success": d >= middle, "reason": ""})
    return search_lib.training_runs(state)


def estimate(plan: Plan, jobs: list[tuple[str, dict]], step: StepModel,
             given: dict | None = None) -> list[dict]:  # fmt: skip
    """GPU-hours per stage: the sweep's subspace runs, the searches (all rounds), full
    fine-tuning and pre-training; one row per stage with its jobs and hours."""
    stages: dict[str, dict] = {}

    def add(stage: str, count: float, seconds: float) -> None:
        row = stages.setdefault(stage, {"stage": stage, "jobs": 0.0, "gpu_hours": 0.0})
        row["jobs"] += count
        row["gpu_hours"] += count * seconds / 3600

    config = plan.config
    per_search = search_probes(plan.section("search")) if "search" in config else 0
    counts: dict[str, int] = {}  # one count per model, not per job (thousands of jobs)

    def run_seconds(model: str, kind: str, method: str) -> float:
        section = plan.training_section(model, kind)
        tokens = section["batch_size"] * config["max_length"]
        if model not in counts:
            counts[model] = parameters(plan, model, given)
        D = counts[model]
        return section["steps"] * step.step_seconds(D, tokens, method) + OVERHEAD_S

    for rule, wc in jobs:
        if rule == "pretrain":
            spec = config["pretraining"]
            D = shape_parameters(spec["sizes"][wc["size"]], spec["vocab_size"],
                                 spec["max_length"])  # fmt: skip
            tokens = spec["batch_size"] * spec["max_length"]
            add("pre-training", 1, spec["steps"] * step.step_seconds(D, tokens, "full"))
        elif rule == "full_finetune":
            add("full fine-tuning", 1, run_seconds(wc["model"], "full_finetune", "full"))
        elif rule == "subspace_run":
            add("sweep (Figure 1, Table 1)", 1,
                run_seconds(wc["model"], "subspace", wc["method"]))  # fmt: skip
        elif rule == "search_round" and wc.get("round") == "0":
            # The DAG holds round 0's planning job; its probes, and every later round, appear
            # as rounds finish: count the whole search (probes x rates x seeds).
            rates = plan.training_section(wc["model"], "subspace")["learning_rates"]
            runs = per_search * len(rates) * len(config["seeds"])
            add("d90 searches (all rounds)", runs,
                run_seconds(wc["model"], "subspace", wc["method"]))  # fmt: skip
    rows = sorted(stages.values(), key=lambda r: -r["gpu_hours"])
    rows.append({"stage": "all", "jobs": sum(r["jobs"] for r in rows),
                 "gpu_hours": sum(r["gpu_hours"] for r in rows)})  # fmt: skip
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| stage | training jobs | GPU-hours |", "|---|---:|---:|"]
    for r in rows:
        hours = r["gpu_hours"]  # under 10 with a decimal, so a small stage does not read 0
        shown = f"{hours:,.1f}" if hours < 10 else f"{hours:,.0f}"
        lines.append(f"| {r['stage']} | {r['jobs']:,.0f} | {shown} |")
    return "\n".join(lines)
