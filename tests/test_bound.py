"""The compression bound: quantisation, the bound's formula, and a quantised saved solution."""

import math

import pandas as pd
import pytest
import torch
from intdim.analysis import bound
from intdim.method import pretraining as pt
from intdim.method.export import save_task
from intdim.method.models import load_classifier
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from intdim.method.training import encode, evaluate


@pytest.mark.parametrize("bits", [2, 4, 8, 12])
def test_quantisation_error_is_at_most_half_a_step(bits):
    values = torch.randn(1000, generator=torch.Generator().manual_seed(bits)) * 0.03
    q, e = bound.quantise(values, bits)
    step = 2.0**e / (2 ** (bits - 1) - 1)
    assert 2.0 ** (e - 1) < values.abs().max() <= 2.0**e  # the smallest power-of-two range
    assert (q - values).abs().max() <= step / 2 + 1e-12
    assert len(torch.unique(q)) <= 2**bits - 1
    assert torch.allclose(q / step, (q / step).round(), atol=1e-4)  # on the grid


def test_the_bound_formula_grows_with_d_and_not_with_anything_else():
    b = bound.occam_bound(0.1, m=4000, description=8 * 100 + 12, configurations=30000,
                          confidence=0.95)  # fmt: skip
    slack = (812 * math.log(2) + math.log(30000) + math.log(1 / 0.05)) / 8000
    assert b == pytest.approx(0.1 + math.sqrt(slack), rel=1e-12)
    bounds = [bound.occam_bound(0.1, 4000, bound.description_bits(d, 8, 2), 30000, 0.95)
              for d in (10, 100, 1000)]  # fmt: skip
    assert bounds == sorted(bounds)
    with pytest.raises(ValueError, match="bits must be in"):
        bound.quantise(torch.ones(3), 1)


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    """A real saved SAID solution on a small pre-trained RoBERTa, and a labelled text set."""
    base = tmp_path_factory.mktemp("base")
    corpus = pt.load_corpus("gensim_lee")
    tokenizer = pt.train_tokenizer(corpus, 400, 32, base / "tokenizer")
    shape = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    pt.pretrain(shape, tokenizer, corpus[:200], corpus[200:], pt.PretrainSettings(
        steps=3, save_every=3, batch_size=8, max_length=32, learning_rate=1e-3, seed=0),
        base, log=lambda _: None)  # fmt: skip
    model_dir = str(base / "step3")
    net = SubspaceModel(
        load_classifier(model_dir, 2, 1),
        SubspaceSettings(120, method="said", seed=2, grouping="layer"),
    )
    with torch.no_grad():
        net.theta_d.normal_(0, 0.5, generator=torch.Generator().manual_seed(0))
    path = save_task(base / "task.safetensors", net, model_dir, init_seed=1)
    frame = pd.DataFrame(
        {"text": corpus[:60], "text_pair": "", "label": [i % 2 for i in range(60)]}
    )
    return path, net.eval(), tokenizer, frame


def test_a_saved_solution_is_scored_after_quantising_all_d_numbers(solution):
    path, net, tokenizer, frame = solution
    scores = bound.quantised_scores(path, frame, frame, bits=16, max_length=32)
    assert scores["d"] == 120 and scores["scales"] == 2 and scores["D"] == net.D
    # 16 bits change nothing visible: the same accuracy as the unquantised solution
    exact = evaluate(net, tokenizer, encode(tokenizer, frame, 32), 128, "cpu")["accuracy"]
    assert scores["train_accuracy"] == scores["eval_accuracy"] == exact
    coarse = bound.quantised_scores(path, frame, frame, bits=2, max_length=32)
    assert 0.0 <= coarse["train_accuracy"] <= 1.0
