"""intdim.pipeline.run_copy and tools/copy_run.py: a finished run copied with its files' times
and Snakemake's records, or refused with the reason (tests/test_workflow.py checks what a
changed config then reruns in a real copy)."""

import os

import pytest
from intdim.pipeline.run_copy import copy_run


def finished_run(folder):
    """A run's folder in miniature: an output, a log, a benchmark, a record, each with its own
    modification time, and the lock folder a copy leaves behind."""
    files = {
        "results/tables/d90.csv": "d90\n", "logs/collect_runs.log": "ok\n",
        "benchmarks/train.tsv": "s\n", ".snakemake/metadata/cmVzdWx0cw==": "{}",
        ".snakemake/locks/0.input.lock": "",
    }  # fmt: skip
    for i, (name, text) in enumerate(files.items()):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, ns=(1_600_000_000_000_000_000 + i, 1_600_000_000_123_456_789 + i))
    return files


def test_a_copy_keeps_every_file_and_its_time_and_leaves_the_locks(tmp_path):
    files = finished_run(tmp_path / "run")
    copied = copy_run(tmp_path / "run", tmp_path / "trial")
    assert copied == ["results", "logs", "benchmarks", ".snakemake/metadata"]
    for name, text in files.items():
        if "locks" in name:
            assert not (tmp_path / "trial" / name).exists()
            continue
        original, copy = tmp_path / "run" / name, tmp_path / "trial" / name
        assert copy.read_text() == text
        assert copy.stat().st_mtime_ns == original.stat().st_mtime_ns


def test_an_empty_folder_may_take_the_copy(tmp_path):
    finished_run(tmp_path / "run")
    (tmp_path / "trial").mkdir()
    assert "results" in copy_run(tmp_path / "run", tmp_path / "trial")


@pytest.mark.parametrize(
    "remove, occupy, message",
    [
        ("results", False, "has no results/ folder"),
        (".snakemake/metadata", False, "without Snakemake's records"),
        (None, True, "is not empty"),
    ],
)
def test_what_cannot_be_copied_is_refused_with_its_reason(tmp_path, remove, occupy, message):
    import shutil

    finished_run(tmp_path / "run")
    if remove:
        shutil.rmtree(tmp_path / "run" / remove)
    if occupy:
        (tmp_path / "trial").mkdir()
        (tmp_path / "trial" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=message):
        copy_run(tmp_path / "run", tmp_path / "trial")
    assert not (tmp_path / "trial" / "results").exists()


def test_the_tool_names_the_reason_and_exits_2(tmp_path, capsys):
    import copy_run as tool

    with pytest.raises(SystemExit) as stopped:
        tool.main([str(tmp_path), str(tmp_path / "trial")])
    assert stopped.value.code == 2
    assert "has no results/ folder" in capsys.readouterr().err
    finished_run(tmp_path / "run")
    tool.main([str(tmp_path / "run"), str(tmp_path / "trial")])
    assert "copied results, logs, benchmarks, .snakemake/metadata" in capsys.readouterr().out
