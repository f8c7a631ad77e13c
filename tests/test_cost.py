"""The cost estimate's parts: the dry-run parser, the step model's fit, the parameter counts
and the searches' probe count."""

import math

import pytest
from config_checks import check
from intdim.analysis import search
from intdim.measure.cost import StepModel, estimate, parse_dry_run, search_probes, shape_parameters

DRY = """
rule full_finetune:
    output: results/full/m/t/lr1e-05/seed0/metrics.json
    jobid: 7
    wildcards: model=m, task=t, lr=1e-05, seed=0
    resources: tmpdir=<TBD>

rule subspace_run:
    wildcards: model=m, task=t, method=said, d=100, lr=0.1, seed=0

checkpoint search_round:
    wildcards: model=m, task=t, method=did, round=0

localrule collect_runs:
    jobid: 9
"""


def test_the_dry_run_lists_each_job_with_its_wildcards():
    jobs = parse_dry_run(DRY)
    assert [rule for rule, _ in jobs] == ["full_finetune", "subspace_run", "search_round",
                                          "collect_runs"]  # fmt: skip
    assert jobs[1][1] == {"model": "m", "task": "t", "method": "said", "d": "100", "lr": "0.1",
                          "seed": "0"}  # fmt: skip
    assert jobs[3][1] == {}


def _row(model, method, D, seq, step_s, backend="triton"):
    return {"model": model, "method": method, "D": D, "batch": 32, "seq": seq, "step_s": step_s,
            "status": "ok", "backend": None if method == "full" else backend, "_file": "f"}  # fmt: skip


def test_the_step_model_recovers_a_linear_law_and_the_median_ratios():
    c0, c1 = 0.01, 2e-14
    rows = [_row(m, "full", D, seq, c0 + c1 * D * 32 * seq)
            for m, D in (("a", 1e8), ("b", 3e8)) for seq in (128, 512)]  # fmt: skip
    rows += [_row("a", "did", 1e8, 128, 1.1 * rows[0]["step_s"]),
             _row("a", "did", 1e8, 512, 1.3 * rows[1]["step_s"]),
             _row("b", "did", 3e8, 128, 1.2 * rows[2]["step_s"]),
             _row("a", "said", 1e8, 128, 1.5 * rows[0]["step_s"]),
             _row("a", "said", 1e8, 512, 9.0 * rows[1]["step_s"], backend="torch")]  # fmt: skip
    model = StepModel.fit(rows)
    assert model.c0 == pytest.approx(c0) and model.c1 == pytest.approx(c1)
    # DID: the median of 1.1, 1.3, 1.2; SAID: the reference backend's row is left out
    assert model.ratios == pytest.approx({"did": 1.2, "said": 1.5})
    assert model.step_seconds(2e8, 1000, "said") == pytest.approx(1.5 * (c0 + c1 * 2e8 * 1000))


def test_own_sizes_are_counted_from_the_model_pre_training_builds():
    import torch
    from intdim.method.pretraining import roberta_config
    from transformers import AutoModelForSequenceClassification

    shape = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = roberta_config(shape, 500, 64)
    config.num_labels = 2
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(config)
    assert shape_parameters(shape, 500, 64) == sum(p.numel() for p in model.parameters())


def test_a_search_is_counted_by_the_search_itself_and_costed_per_rate_and_seed(config):
    config["search"].update(d_min=10, d_max=100_000, probes_per_round=3, precision=1.0)
    config["subspace"].update(learning_rates=[0.1, 1.0], steps=100, batch_size=8)
    config["full_finetune"].update(learning_rates=[1e-4], steps=50, batch_size=8)
    config.update(seeds=[0, 1], max_length=16)
    plan = check(config)
    probes = search_probes(config["search"])
    state = search.start(10, 100_000, 3, 1.0)
    state = search.run(state, lambda d: {"success": d >= 1000, "reason": ""})
    assert probes == search.training_runs(state) and probes >= 3
    step = StepModel(0.0, 1e-10, {"did": 2.0, "said": 3.0})
    jobs = [
        ("search_round", {"model": "minilm", "task": "t", "method": "did", "round": "0"}),
        ("search_round", {"model": "minilm", "task": "t", "method": "did", "round": "1"}),
        ("full_finetune", {"model": "minilm", "task": "t", "lr": "1e-4", "seed": "0"}),
    ]
    rows = {r["stage"]: r for r in estimate(plan, jobs, step, {"minilm": 1000})}
    # one search: probes x 2 rates x 2 seeds runs of 100 steps of 2 x 1e-10 x 1000 x 128 s
    runs = probes * 4
    per_run = 100 * 2.0 * 1e-10 * 1000 * 8 * 16 + 60.0
    assert rows["d90 searches (all rounds)"]["jobs"] == runs
    assert rows["d90 searches (all rounds)"]["gpu_hours"] == pytest.approx(runs * per_run / 3600)
    assert rows["all"]["jobs"] == runs + 1
    assert math.isclose(rows["full fine-tuning"]["gpu_hours"],
                        (50 * 1e-10 * 1000 * 128 + 60.0) / 3600)  # fmt: skip


def test_the_step_rows_are_read_from_either_benchmark_json_and_a_file_without_any_is_named(
    tmp_path,
):
    import json

    import estimate_cost

    rows = [_row("a", "full", 1e8, 128, 0.1)]
    (tmp_path / "step.json").write_text(json.dumps({"rows": rows}))
    (tmp_path / "check.json").write_text(json.dumps({"benchmark": rows, "tests": {}}))
    (tmp_path / "other.json").write_text(json.dumps({"tests": {}}))
    read = estimate_cost.load_rows([tmp_path / "step.json", tmp_path / "check.json"])
    assert [r["_file"] for r in read] == ["step.json", "check.json"]
    assert [r["step_s"] for r in read] == [0.1, 0.1]
    with pytest.raises(SystemExit, match="other.json: no step rows"):
        estimate_cost.load_rows([tmp_path / "other.json"])
    # The default is the measured H200 step table, with a full row for each model and length.
    measured = estimate_cost.load_rows(estimate_cost.MEASURED)
    full = {
        (r["model"], r["seq"]) for r in measured if r["method"] == "full" and r["status"] == "ok"
    }
    assert len(full) == 4


def test_the_table_shows_small_stages_with_a_decimal_and_large_ones_whole():
    from intdim.measure.cost import markdown

    rows = [{"stage": "a", "jobs": 4.0, "gpu_hours": 0.26}, {"stage": "b", "jobs": 1234.0,
            "gpu_hours": 9.96}, {"stage": "c", "jobs": 5.0, "gpu_hours": 10.4}]  # fmt: skip
    assert markdown(rows).splitlines()[2:] == ["| a | 4 | 0.3 |", "| b | 1,234 | 10.0 |",
                                               "| c | 5 | 10 |"]  # fmt: skip
