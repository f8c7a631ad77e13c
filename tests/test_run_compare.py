"""Two runs compared job by job (intdim.analysis.run_compare and tools/compare_runs.py)."""

import json
import math

import compare_runs
import pytest
from intdim.analysis.run_compare import (
    CURVE_POINTS,
    compact,
    compare,
    differing_keys,
    job_records,
    one_sided_keys,
    read_record,
)


def write(run, job, record):
    path = run / "results" / job
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


RECORD = {
    "eval_accuracy": 0.7575,
    "loss_curve": [0.69, 0.61],
    "files": {"task.safetensors": {"sha256": "ab12"}},
    "train_seconds": 12.5,
    "environment": {"numerics": "native", "cpu": "AMD EPYC (family 25, model 1; avx2)"},
}


def test_only_outcomes_count_and_nan_equals_itself():
    timed = {**RECORD, "train_seconds": 99.0, "environment": {"numerics": "portable"}}
    assert differing_keys(RECORD, timed) == []
    history = {"checkpoints": [{"global_step": 0, "train_loss": math.nan}]}
    assert differing_keys(history, json.loads(json.dumps(history))) == []
    assert differing_keys(history, {**history, "resumed_at": [9]}) == []
    changed = {**RECORD, "eval_accuracy": 0.7576, "files": {"task.safetensors": {"sha256": "cd"}}}
    assert differing_keys(RECORD, changed) == ["eval_accuracy", "files.task.safetensors.sha256"]
    assert differing_keys(RECORD, {**RECORD, "loss_curve": [0.69, 0.6100000000000001]}) == [
        "loss_curve"
    ]


def test_each_job_gets_its_verdict_and_both_environments(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "full/m/t/lr0.1/seed0/metrics.json", RECORD)
    write(second, "full/m/t/lr0.1/seed0/metrics.json", {**RECORD, "train_seconds": 1.0})
    write(first, "pretrain/s/history.json", RECORD)
    other_cpu = {"numerics": "native", "cpu": "Intel Xeon (family 6, model 143; avx2, avx512f)"}
    write(
        second,
        "pretrain/s/history.json",
        {**RECORD, "eval_accuracy": 0.5, "environment": other_cpu},
    )
    write(first, "subspace/x/metrics.json", RECORD)
    write(second, "subspace/y/metrics.json", RECORD)
    write(second, "tables/runs.json", RECORD)  # not a job's record: never compared
    rows = compare(first, second).set_index("job")
    assert rows["verdict"].to_dict() == {
        "full/m/t/lr0.1/seed0/metrics.json": "same",
        "pretrain/s/history.json": "differs",
        "subspace/x/metrics.json": "only in first",
        "subspace/y/metrics.json": "only in second",
    }
    assert rows.loc["pretrain/s/history.json", "differs_in"] == "eval_accuracy"
    assert rows.loc["pretrain/s/history.json", "cpu"] == (
        "AMD EPYC (family 25, model 1; avx2) / Intel Xeon (family 6, model 143; avx2, avx512f)"
    )
    assert rows.loc["pretrain/s/history.json", "numerics"] == "native"
    assert rows.loc["subspace/y/metrics.json", "cpu"] == "AMD EPYC (family 25, model 1; avx2)"


def test_keys_one_version_records_and_the_other_does_not_are_set_apart(tmp_path, capsys):
    newer = {**RECORD, "train_accuracy_at_eval_balance": 0.7, "train_seconds": 3.0,
             "files": {"task.safetensors": {"sha256": "ab12", "bytes": 9}}}  # fmt: skip
    assert one_sided_keys(RECORD, newer) == ["files.task.safetensors.bytes",
                                             "train_accuracy_at_eval_balance"]  # fmt: skip
    assert one_sided_keys(newer, RECORD) == one_sided_keys(RECORD, newer)
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "full/metrics.json", RECORD)
    write(second, "full/metrics.json", newer)
    write(first, "sub/metrics.json", RECORD)  # a shared key differs too: that decides
    write(second, "sub/metrics.json", {**newer, "eval_accuracy": 0.5})
    rows = compare(first, second).set_index("job")
    assert rows["verdict"].to_dict() == {"full/metrics.json": "same where both record",
                                         "sub/metrics.json": "differs"}  # fmt: skip
    assert rows.loc["full/metrics.json", "differs_in"] == ""
    assert rows.loc["sub/metrics.json", "differs_in"] == "eval_accuracy"
    assert set(rows["recorded_by_one"]) == {
        "files.task.safetensors.bytes, train_accuracy_at_eval_balance"
    }
    capsys.readouterr()
    assert compare_runs.main([str(first), str(second)]) == 1
    write(second, "sub/metrics.json", newer)
    assert compare_runs.main([str(first), str(second)]) == 0  # nothing both record differs
    assert capsys.readouterr().out.endswith("same where both record: 2\n")


def test_the_tool_fails_on_a_difference_and_names_a_folder_that_is_not_a_run(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "full/metrics.json", RECORD)
    write(second, "full/metrics.json", RECORD)
    out = tmp_path / "comparison.json"
    assert compare_runs.main([str(first), str(second), "--out", str(out)]) == 0
    assert json.loads(out.read_text())[0]["verdict"] == "same"
    write(second, "full/metrics.json", {**RECORD, "eval_accuracy": 0.5})
    assert compare_runs.main([str(first), str(second)]) == 1
    assert "differs: 1" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        compare_runs.main([str(first), str(tmp_path / "nowhere")])
    assert "nowhere has no results/ folder" in capsys.readouterr().err


def test_a_run_record_compares_as_its_run_and_every_number_survives_it(tmp_path, capsys):
    import record_run

    run, record = tmp_path / "run", tmp_path / "record.json"
    write(run, "full/m/t/lr0.1/seed0/metrics.json", RECORD)
    history = {"checkpoints": [{"global_step": 0, "train_loss": math.nan, "valid_loss": 0.1 + 0.2}]}
    write(run, "pretrain/s/history.json", history)
    record_run.main([str(run), str(record)])
    # Every value as json writes it (NaN included, floats to the last bit: 0.1 + 0.2 is not 0.3).
    saved = read_record(record)
    assert json.dumps(saved, sort_keys=True) == json.dumps(job_records(run), sort_keys=True)
    assert saved["pretrain/s/history.json"]["checkpoints"][0]["valid_loss"] == 0.1 + 0.2
    assert len(record.read_text().splitlines()) == 4  # a header line, one line a job, the end
    for first, second in ((run, record), (record, run), (record, record)):
        assert compare_runs.main([str(first), str(second)]) == 0
        assert "same: 2" in capsys.readouterr().out
    write(run, "full/m/t/lr0.1/seed0/metrics.json", {**RECORD, "loss_curve": [0.69, 0.62]})
    assert compare_runs.main([str(record), str(run)]) == 1
    assert "| differs | loss_curve |" in capsys.readouterr().out


def test_what_is_not_a_run_record_is_refused_by_name(tmp_path, capsys):
    import record_run

    with pytest.raises(SystemExit):
        record_run.main([str(tmp_path), str(tmp_path / "record.json")])
    assert "has no results/ folder" in capsys.readouterr().err
    (tmp_path / "results").mkdir()
    with pytest.raises(SystemExit):
        record_run.main([str(tmp_path), str(tmp_path / "record.json")])
    assert "holds no metrics.json or pre-training history.json" in capsys.readouterr().err
    write(tmp_path / "run", "full/metrics.json", RECORD)
    for text in ('{"jobs": {}}', "not json", "[]"):
        other = tmp_path / "other.json"
        other.write_text(text)
        with pytest.raises(SystemExit):
            compare_runs.main([str(tmp_path / "run"), str(other)])
        assert f"{other} is not a run record" in capsys.readouterr().err


def test_a_long_curve_is_kept_as_a_digest_that_still_tells_a_last_bit_apart(tmp_path, capsys):
    import record_run

    curve = [0.69 - i / 1000 for i in range(300)]
    short = [0.5] * CURVE_POINTS
    record = {**RECORD, "loss_curve": curve, "short": short, "nested": [{"curve": curve}]}
    small = compact(record)
    assert small["short"] == short  # up to CURVE_POINTS numbers stay as they are
    assert small["loss_curve"].endswith(f"of 300 numbers, the last {curve[-1]!r}")
    assert small["nested"][0]["curve"] == small["loss_curve"]
    assert compact(small) == small
    nudged = [*curve[:-1], math.nextafter(curve[-1], 1.0)]
    assert compact({"loss_curve": nudged})["loss_curve"] != small["loss_curve"]
    assert compact({"c": [math.nan] * 9}) == compact({"c": [math.nan] * 9})
    assert compact({"c": [1] * 9}) != compact({"c": [1] * 10})

    run, record_file = tmp_path / "run", tmp_path / "record.json"
    write(run, "full/metrics.json", record)
    record_run.main([str(run), str(record_file)])
    assert len(record_file.read_text()) < len(json.dumps(record)) / 4
    assert compare_runs.main([str(run), str(record_file)]) == 0
    write(run, "full/metrics.json", {**record, "loss_curve": nudged})
    capsys.readouterr()
    assert compare_runs.main([str(record_file), str(run)]) == 1
    assert "| differs | loss_curve |" in capsys.readouterr().out


def test_a_run_kept_inside_another_is_left_out_of_its_jobs(tmp_path):
    write(tmp_path, "full/m/t/lr0.1/seed0/metrics.json", RECORD)
    write(tmp_path, "offline_full/results/full/m/t/lr0.1/seed0/metrics.json", RECORD)
    write(tmp_path, "offline_full/results/pretrain/s/history.json", RECORD)
    assert list(job_records(tmp_path)) == ["full/m/t/lr0.1/seed0/metrics.json"]
    inner = job_records(tmp_path / "results" / "offline_full")
    assert list(inner) == ["full/m/t/lr0.1/seed0/metrics.json", "pretrain/s/history.json"]
