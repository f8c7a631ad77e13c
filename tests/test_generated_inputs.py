"""The model and task made on the spot for an air-gapped node (intdim.pipeline.generated_inputs)
and the wheelhouse that carries Snakemake there (tools/gpu_wheelhouse.py)."""

import json
import subprocess
import sys

import gpu_wheelhouse
import pytest
import yaml
from config_checks import check
from intdim.pipeline.generated_inputs import NEGATIVE, POSITIVE, generated_config, sentiment_rows

ROOT = gpu_wheelhouse.ROOT


def test_the_sentiment_task_is_seeded_and_flips_the_share_of_labels_it_is_asked_to():
    rows = sentiment_rows(4000, seed=3, flip=0.1)
    assert rows == sentiment_rows(4000, seed=3, flip=0.1) != sentiment_rows(4000, seed=4)
    polarity = [int(sentence.split()[-1] in POSITIVE) for sentence, _ in rows]
    assert all(s.split()[-1] in POSITIVE + NEGATIVE for s, _ in rows)
    flipped = sum(p != label for p, (_, label) in zip(polarity, rows, strict=True)) / len(rows)
    assert 0.085 < flipped < 0.115  # 0.1 +- 3 standard errors
    assert sum(polarity) / len(rows) == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError, match="flip=0.5"):
        sentiment_rows(10, seed=0, flip=0.5)


def test_the_generated_config_is_a_valid_config_of_a_local_model_and_local_files(tmp_path):
    base = yaml.safe_load((ROOT / "config/integration.yaml").read_text())
    config = generated_config(base, tmp_path)
    plan = check(config)
    assert plan.models == ("generated",) and plan.tasks == ("sentiment",)
    model = tmp_path / "model"
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    ids = tokenizer("the film was really superb")["input_ids"]
    assert tokenizer.unk_token_id not in ids  # the vocabulary covers the task's words
    assert len(ids) == 2 + 5 and AutoConfig.from_pretrained(model).vocab_size == len(tokenizer)


@pytest.mark.slow
def test_the_generated_inputs_run_the_integration_dag_in_bf16(tmp_path):
    """What `make gpu-check` runs on an air-gapped GPU node (there with resources.gpu: 1): the
    integration DAG in bf16 on the generated model and task, without the notebook."""
    config = generated_config(yaml.safe_load((ROOT / "config/integration.yaml").read_text()),
                              tmp_path / "inputs")  # fmt: skip
    config["precision"] = "bf16"
    configfile = tmp_path / "generated.yaml"
    configfile.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--cores",
         "2", "--directory", str(run), "--configfile", str(configfile),
         "--omit-from", "analysis_notebook"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = (run / "results/tables/runs.csv").read_text().splitlines()
    assert len(runs) == 1 + 5  # full fine-tuning and DID, SAID at two d
    assert all(",ok," in line for line in runs[1:])
    metrics = list((run / "results").rglob("metrics.json"))
    assert len(metrics) == 5
    for path in metrics:
        recorded = json.loads(path.read_text())
        assert recorded["precision"] == "bf16" and recorded["settings"]["precision"] == "bf16"
    assert (run / "results/figures/figure1.png").is_file()
    assert not (run / "results/notebooks").exists()


def test_the_wheelhouse_leaves_out_what_the_node_has(tmp_path, monkeypatch):
    have = tmp_path / "have.txt"
    have.write_text("# a freeze\nPyYAML==6.0.2\ntyping_extensions==4.1\nnumpy\n")
    assert gpu_wheelhouse.read_names(have) == {"pyyaml", "typing-extensions", "numpy"}
    names = ["snakemake-9.27.1-py3-none-any.whl", "PyYAML-6.0.2-cp312-cp312-manylinux.whl",
             "typing_extensions-4.15.0-py3-none-any.whl", "connection_pool-0.0.3-py3-none-any.whl"]  # fmt: skip
    calls = []

    def fake_pip(cmd, check):
        calls.append(cmd)
        for name in names:
            (tmp_path / "whl" / name).touch()

    monkeypatch.setattr(gpu_wheelhouse.subprocess, "run", fake_pip)
    gpu_wheelhouse.main(["--out", str(tmp_path / "whl"), "--have", str(have)])
    left = sorted(p.name for p in (tmp_path / "whl").iterdir())
    assert left == ["connection_pool-0.0.3-py3-none-any.whl", "snakemake-9.27.1-py3-none-any.whl"]
    download = calls[-1]
    assert "snakemake==9.27.1" in download and "--python-version" in download
