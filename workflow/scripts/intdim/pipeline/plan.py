"""One plan of a run: the config checked once, then everything the rules read, resolved once.

``make_plan(config)`` runs the checks (``workflow_config.check_config``), then works out each
derived value in one place: the sweep's models and their projection-study variants, the tasks,
the d grid, the learning-rate labels, every model's reference and subspace options, the
pre-training checkpoints, the trajectories, the survey's models and the searches. The plan is
frozen (tuples and read-only mappings): no rule can change what another one sees, and no rule
works a value out again from the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .variants import variant_model
from .workflow_config import (
    PRETRAINED_PREFIX,
    check_config,
    d_values,
    lr_label,
    pretrained_name,
    pretrained_reference,
    pretraining_schedule,
    trajectory_references,
)


def frozen(value: Any) -> Any:
    """A read-only copy: mappings become MappingProxyType, lists tuples, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(frozen(v) for v in value)
    return value


def thawed(value: Any) -> Any:
    """A plain dict / list copy of a frozen value: what a job's params carry (pickled)."""
    if isinstance(value, Mapping):
        return {k: thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thawed(v) for v in value]
    return value


@dataclass(frozen=True)
class Plan:
    """What a run does. Built by ``make_plan``; every field is read-only."""

    config: Mapping[str, Any]  # the validated config
    models: tuple[str, ...]  # the sweep's models, then their projection-study variants
    variants: Mapping[str, tuple[str, Mapping[str, Any]]]  # variant -> (base model, settings)
    study_models: tuple[str, ...]  # each sweep model followed by its variants
    tasks: tuple[str, ...]
    sweep_tasks: tuple[str, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    d_values: tuple[int, ...]
    subspace_lrs: tuple[str, ...]  # path labels of the sweep's subspace learning rates
    model_refs: Mapping[str, str]  # every model the run may use -> its reference
    options: Mapping[str, Mapping[str, Any]]  # model -> projection, legacy_gradient, grouping
    pretrain_sizes: tuple[str, ...]
    checkpoint_steps: tuple[int, ...]
    pretrained_sizes: Mapping[str, str]  # the workflow's own checkpoints -> their size
    trajectories: Mapping[str, Mapping[int, str]]  # name -> step -> model
    survey_models: tuple[str, ...]
    searches: tuple[tuple[str, str, str], ...]  # (model, task, method) whose d90 is searched

    def section(self, *keys: str, default: Any = None) -> Any:
        """A plain copy of config[keys[0]][keys[1]]..., or ``default`` where one is missing."""
        value: Any = self.config
        for key in keys:
            if not isinstance(value, Mapping) or key not in value:
                return default
            value = value[key]
        return thawed(value)

    def pretrained_size(self, model: str) -> str | None:
        """The pre-training size one of the workflow's own checkpoints comes from, else None
        (a projection-study variant is of a sweep model, never of such a checkpoint)."""
        return self.pretrained_sizes.get(model)

    def training_section(self, model: str, kind: str) -> dict:
        """full_finetune or subspace settings of a model; the workflow's own pre-trained
        checkpoints take the pretraining block's overrides. A model the plan does not have
        raises: given the plain settings, a checkpoint of a size taken out of the config would
        train at another model's rates."""
        if model not in self.model_refs:
            raise ValueError(
                f"no model {model!r} in this config; it has {', '.join(self.model_refs)}"
            )
        section = self.section(kind)
        if self.pretrained_size(model) is not None:
            section.update(self.section("pretraining", kind, default={}))
        return section

    def learning_rates(self, model: str, kind: str) -> list[str]:
        """The learning-rate labels a model's runs of ``kind`` try."""
        return [lr_label(lr) for lr in self.training_section(model, kind)["learning_rates"]]

    def subspace_options(self, model: str) -> dict:
        return dict(self.options[model])


def make_plan(config: dict) -> Plan:
    """Check ``config`` and resolve its plan; raises ValueError naming the bad value. The
    config must have been validated against the schema, which fills every default (a task
    sweeps, searches use SAID, ...): the plan reads them and assumes none of its own."""
    check_config(config)
    sweep_models = list(config.get("sweep_models", list(config["models"])))
    sweep_tasks = [t for t, spec in config["tasks"].items() if spec["sweep"]]
    variants = _variants(config, sweep_models)
    study_models = _study_models(config, sweep_models, variants)

    sizes = list(config.get("pretraining", {}).get("sizes", {}))
    steps = pretraining_schedule(config) if sizes else []
    own = {pretrained_name(size, step): size for size in sizes for step in steps}

    refs = dict(config["models"])
    refs.update({pretrained_name(size, step): pretrained_reference(size, step)
                 for size in sizes for step in steps})  # fmt: skip
    trajectories = {}
    for name in config.get("trajectories", {}):
        checkpoints = trajectory_references(config, name)
        refs.update(checkpoints.values())
        trajectories[name] = {step: model for step, (model, _) in checkpoints.items()}
    refs.update({variant: refs[base] for variant, (base, _) in variants.items()})

    defaults = {"projection": config["projection"], "legacy_gradient": config["legacy_gradient"],
                "grouping": config["said_grouping"]}  # fmt: skip
    options = {model: dict(defaults) for model in refs}
    for variant, (_, settings) in variants.items():
        options[variant].update(
            projection=settings["projection"],
            legacy_gradient=settings["legacy_gradient"],
            grouping=settings.get("said_grouping", defaults["grouping"]),
        )

    survey = config.get("survey") or {}
    survey_models = [
        pretrained_name(entry[len(PRETRAINED_PREFIX) :], steps[-1])
        if entry.startswith(PRETRAINED_PREFIX) else entry
        for entry in survey.get("models", [])
    ]  # fmt: skip

    searches = []
    for name, spec in config.get("trajectories", {}).items():
        for model in trajectories[name].values():
            searches += [(model, task, spec["method"]) for task in spec["tasks"]]
    if survey:
        method = survey["method"]
        searches += [(m, t, method) for m in survey_models for t in survey["tasks"]]
    study = config.get("projection_study")
    if study and study.get("search"):
        searches += [(m, t, method) for m in study_models for t in sweep_tasks
                     for method in config["methods"]]  # fmt: skip

    return Plan(
        config=frozen(config),
        models=tuple(sweep_models + list(variants)),
        variants=frozen(variants),
        study_models=tuple(study_models),
        tasks=tuple(config["tasks"]),
        sweep_tasks=tuple(sweep_tasks),
        methods=tuple(config["methods"]),
        seeds=tuple(config["seeds"]),
        d_values=tuple(d_values(config)),
        subspace_lrs=tuple(lr_label(lr) for lr in config["subspace"]["learning_rates"]),
        model_refs=MappingProxyType(refs),
        options=frozen(options),
        pretrain_sizes=tuple(sizes),
        checkpoint_steps=tuple(steps),
        pretrained_sizes=MappingProxyType(own),
        trajectories=frozen(trajectories),
        survey_models=tuple(survey_models),
        searches=tuple(dict.fromkeys(searches)),
    )


def _variants(config: dict, sweep_models: list[str]) -> dict[str, tuple[str, dict]]:
    """Model name -> (the model it is, its projection settings) for every projection_study
    variant of every sweep model: ``minilm+released`` is MiniLM under the variant ``released``.
    A variant is a model of its own to the rest of the workflow (its own runs, d90, searches),
    so the comparison uses the same seeds, learning rates and data as the base model."""
    study = config.get("projection_study")
    if not study:
        return {}
    return {
        variant_model(model, name): (model, dict(settings))
        for model in sweep_models
        for name, settings in study["variants"].items()
    }


def _study_models(config: dict, sweep_models: list[str], variants: dict) -> list[str]:
    """The models the projection study compares: each sweep model, then its variants."""
    if not config.get("projection_study"):
        return []
    found = []
    for model in sweep_models:
        found += [model, *(v for v, (base, _) in variants.items() if base == model)]
    return found
