"""Checks of the workflow configuration, and the small rules that name things.

The JSON schema (``SCHEMA``, applied with ``snakemake.utils.validate``) checks types and names;
the checks here are the ones a schema cannot express (d_min <= d_max, a model reference that
points nowhere), each raising an error that names the bad value before Snakemake builds the
DAG. ``plan.make_plan`` runs them and resolves everything the rules read.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..method.models import resolve_reference
from ..method.pretraining import checkpoint_steps

SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "config.schema.yaml"


def check_config(config: dict) -> None:
    """Everything the schema cannot say; raises ValueError naming the bad value."""
    grid = config["d_grid"]
    if "values" not in grid and grid["min"] > grid["max"]:
        raise ValueError(f"config d_grid: d_min={grid['min']} is larger than d_max={grid['max']}")
    for name, ref in config["models"].items():
        try:
            resolve_reference(ref)
        except ValueError as err:
            raise ValueError(f"config models.{name}: {err}") from err
    for name in config.get("sweep_models", []):
        if name not in config["models"]:
            raise ValueError(f"config sweep_models: {name!r} is not one of models "
                             f"({sorted(config['models'])})")  # fmt: skip
    for name, task in config["tasks"].items():
        if "data_files" in task:
            from ..method.data import check_data_files

            check_data_files(f"tasks.{name}.data_files", task["dataset"], task["data_files"])
    check_learning_rate_labels(config)
    check_projection_options("config", config)
    check_section5(config)
    check_projection_study(config)


def check_projection_options(where: str, settings: dict) -> None:
    """A projection's own options (legacy_gradient, ...) against the registry, naming where."""
    from ..projections.registry import REGISTRY, check_options

    kind = settings["projection"]  # the schema requires it of a variant, defaults it in a config
    options = {k: settings[k] for spec in REGISTRY.values() for k in spec.options if k in settings}
    try:
        check_options(kind, options)
    except ValueError as err:
        raise ValueError(f"{where}: {err} (projection is {kind!r})") from None


def check_projection_study(config: dict) -> None:
    study = config.get("projection_study")
    if not study:
        return
    if study.get("search") and "search" not in config:
        raise ValueError("config projection_study.search: true needs a 'search' block")
    for name, settings in study["variants"].items():
        check_projection_options(f"config projection_study.variants.{name}", settings)


def check_learning_rate_labels(config: dict) -> None:
    """Two learning rates that print to one path label would silently become one run."""
    sections = [(kind, config[kind]) for kind in ("full_finetune", "subspace")]
    for kind in ("full_finetune", "subspace"):
        override = config.get("pretraining", {}).get(kind, {})
        if "learning_rates" in override:
            sections.append((f"pretraining.{kind}", override))
    for where, section in sections:
        seen = {}
        for lr in section["learning_rates"]:
            label = lr_label(lr)
            if label in seen:
                raise ValueError(
                    f"config {where}.learning_rates: {seen[label]!r} and {lr!r} both become the "
                    f"path label lr{label}; give rates that differ in their first 6 digits"
                )
            seen[label] = lr


def d_values(config: dict) -> list[int]:
    """The d grid: explicit values, or ``points`` log-spaced integers from min to max."""
    grid = config["d_grid"]
    if "values" in grid:
        return sorted(grid["values"])
    lo, hi, n = grid["min"], grid["max"], grid["points"]
    if n == 1 or lo == hi:
        return [lo]
    step = (math.log(hi) - math.log(lo)) / (n - 1)
    return sorted({round(math.exp(math.log(lo) + i * step)) for i in range(n)})


def scaled_learning_rate(lr: float, d: int, reference_d: int, exponent: float = 0.5) -> float:
    """lr at ``reference_d``, scaled to d: lr * (reference_d / d) ** exponent.

    Adam moves each of the d coordinates of theta_d by about lr per step, and P is close to an
    isometry, so an update's norm in theta_D grows like lr * sqrt(d); exponent 0.5 keeps it
    fixed. Small models trained from scratch want about 1 (config key lr_exponent).
    """
    ratio = reference_d / d
    # math.sqrt, not ** 0.5: the rates (the jobs' params) stay, to the bit, those of the runs
    # recorded before the exponent was a setting.
    return lr * (math.sqrt(ratio) if exponent == 0.5 else ratio**exponent)


def lr_label(lr: float) -> str:
    """A learning rate as it appears in paths: the shortest exact decimal form."""
    return format(lr, "g")


# --- Section 5: pre-trained checkpoints, trajectories and the parameter-count survey ---------

PRETRAINED_PREFIX = "pretrained:"


def pretrained_name(size: str, step: int) -> str:
    """The model name of the workflow's own pre-training checkpoint of ``size`` at ``step``."""
    return f"pt-{size}-step{step}"


def pretrained_reference(size: str, step: int) -> str:
    """Where that checkpoint is: the directory rule pretrain writes (so it does not exist
    before the rule runs)."""
    return f"results/pretrain/{size}/step{step}"


def pretraining_schedule(config: dict) -> list[int]:
    """The steps at which the workflow's own pre-training saves a checkpoint."""
    spec = config["pretraining"]
    return checkpoint_steps(spec["steps"], spec.get("save_every"), spec.get("save_at", ()))


def _directory_checkpoints(name: str, directory: str) -> dict[int, str]:
    """A local directory of checkpoints: sub-directories step<N> or checkpoint-<N>."""
    import re

    root = Path(directory).expanduser()
    if not root.is_dir():
        raise ValueError(f"config trajectories.{name}.directory: no such directory {directory!r}")
    found = {}
    for sub in sorted(root.iterdir()):
        match = re.fullmatch(r"(?:step|checkpoint-)(\d+)", sub.name)
        if match and (sub / "config.json").is_file():
            found[int(match.group(1))] = str(sub.resolve())
    if not found:
        raise ValueError(
            f"config trajectories.{name}.directory: {directory!r} has no step<N> or "
            "checkpoint-<N> sub-directory with a config.json"
        )
    return found


def trajectory_references(config: dict, name: str) -> dict[int, tuple[str, str]]:
    """step -> (model name, model reference) for one trajectory's checkpoints, by step."""
    spec = config["trajectories"][name]
    if "pretrained" in spec:
        size = spec["pretrained"]
        found = {s: (pretrained_name(size, s), pretrained_reference(size, s))
                 for s in pretraining_schedule(config)}  # fmt: skip
    else:
        refs = (
            _directory_checkpoints(name, spec["directory"])
            if "directory" in spec
            else {int(k): v for k, v in spec["checkpoints"].items()}
        )
        found = {step: (f"{name}-step{step}", refs[step]) for step in sorted(refs)}
    if "steps" not in spec:
        return found
    missing = sorted(set(spec["steps"]) - set(found))
    if missing:
        raise ValueError(f"config trajectories.{name}.steps: {missing} are not among its "
                         f"checkpoints ({sorted(found)})")  # fmt: skip
    return {step: found[step] for step in sorted(spec["steps"])}


def check_section5(config: dict) -> None:
    """Cross-references of the Section 5 blocks, each error naming the bad value."""
    tasks, sizes = set(config["tasks"]), set(config.get("pretraining", {}).get("sizes", {}))
    needs_search = bool(config.get("trajectories") or config.get("survey"))
    if needs_search and "search" not in config:
        raise ValueError("config: trajectories and survey need a 'search' block")
    if "search" in config and config["search"]["d_min"] >= config["search"]["d_max"]:
        s = config["search"]
        raise ValueError(f"config search: d_min={s['d_min']} must be below d_max={s['d_max']}")
    blocks = [(f"trajectories.{n}", s) for n, s in config.get("trajectories", {}).items()]
    blocks += [("survey", config["survey"])] if config.get("survey") else []
    for where, spec in blocks:
        for task in spec["tasks"]:
            if task not in tasks:
                raise ValueError(
                    f"config {where}.tasks: {task!r} is not one of tasks ({sorted(tasks)})"
                )
    for name, spec in config.get("trajectories", {}).items():
        if "pretrained" in spec and spec["pretrained"] not in sizes:
            raise ValueError(
                f"config trajectories.{name}.pretrained: {spec['pretrained']!r} is not a "
                f"pretraining size ({sorted(sizes)})"
            )
        for step, ref in spec.get("checkpoints", {}).items():
            try:
                resolve_reference(ref)
            except ValueError as err:
                raise ValueError(f"config trajectories.{name}.checkpoints.{step}: {err}") from err
    for entry in config.get("survey", {}).get("models", []):
        if entry.startswith(PRETRAINED_PREFIX):
            if entry[len(PRETRAINED_PREFIX) :] not in sizes:
                raise ValueError(f"config survey.models: {entry!r} names no pretraining size "
                                 f"({sorted(sizes)})")  # fmt: skip
        elif entry not in config["models"]:
            raise ValueError(f"config survey.models: {entry!r} is not one of models "
                             f"({sorted(config['models'])})")  # fmt: skip
    pretrain = config.get("pretraining")
    if pretrain:
        if not ("save_every" in pretrain or "save_at" in pretrain):
            raise ValueError(
                "config pretraining: give save_every, save_at or both (the checkpoints)"
            )
        try:
            pretraining_schedule(config)
        except ValueError as err:
            raise ValueError(f"config pretraining.{err}") from err
    if pretrain and pretrain["corpus"] == "text_files" and not pretrain.get("corpus_files"):
        raise ValueError("config pretraining.corpus: 'text_files' needs corpus_files")
    if pretrain and (pretrain["corpus"] == "hub") != ("hub_corpus" in pretrain):
        given = "given" if "hub_corpus" in pretrain else "absent"
        raise ValueError(
            "config pretraining: corpus 'hub' and a hub_corpus block go together (corpus is "
            f"{pretrain['corpus']!r}, hub_corpus {given})"
        )
