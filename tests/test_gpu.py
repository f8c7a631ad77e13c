"""The kernels at paper scale on a real GPU (skipped without one; `make gpu-check` runs them)."""

import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

ROBERTA_BASE_D = 124_646_402
# Float32 sums over up to 10^8 coordinates in two different orders (kernels: float32
# butterflies, or tensor cores with a split-TF32 product; reference: cuBLAS float32 matmuls).
TOLERANCE = 1e-4


def _relative_error(a, b):
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize("hadamard", ["butterfly", "dot"])
@pytest.mark.parametrize("d", [1_000, 20_000, 1_000_000, 4_000_000])
def test_kernels_match_the_reference_at_roberta_base_size(d, hadamard):
    from intdim.fastfood import FastfoodProjection
    from intdim.fastfood.kernels import TritonFastfoodProjection

    torch.manual_seed(0)
    ref = FastfoodProjection(d, ROBERTA_BASE_D, seed=3, device="cuda")
    kernels = TritonFastfoodProjection(d, ROBERTA_BASE_D, 3, device="cuda", hadamard=hadamard)
    x = torch.randn(d, device="cuda")
    g = torch.randn(ROBERTA_BASE_D, device="cuda")
    px = kernels.forward(x)
    assert _relative_error(px, ref.forward(x)) < TOLERANCE
    ptg = kernels.transpose(g)
    assert _relative_error(ptg, ref.transpose(g)) < TOLERANCE
    # The transpose is the adjoint: <P x, g> = <x, P^T g>.
    lhs, rhs = torch.dot(px.double(), g.double()), torch.dot(x.double(), ptg.double())
    assert abs(lhs - rhs) <= TOLERANCE * abs(lhs).clamp_min(1.0)
    del ref
    torch.cuda.empty_cache()


def test_a_pretraining_stopped_on_the_gpu_resumes_to_the_same_bits(tmp_path):
    """In bf16, as `make gpu-check` runs the workflow; the corpus is made here (no gensim)."""
    import random

    from intdim.method import pretraining as pt
    from interruptions import Interrupted, stop_at

    device, rng = "cuda", random.Random(0)
    words = [
        "".join(rng.choice("etaoinshrdlu") for _ in range(rng.randint(2, 7))) for _ in range(300)
    ]
    paragraphs = [" ".join(rng.choices(words, k=rng.randint(8, 30))) for _ in range(400)]
    tokenizer = pt.train_tokenizer(paragraphs, 400, 32, tmp_path / "tokenizer")
    settings = pt.PretrainSettings(steps=12, save_every=5, batch_size=8, max_length=32,
                                   learning_rate=3e-3, seed=4, precision="bf16")  # fmt: skip
    shape = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}

    def pretrain(name, **kw):
        kw = {"log": lambda _: None, **kw}
        return pt.pretrain(shape, tokenizer, paragraphs[40:], paragraphs[:40], settings,
                           tmp_path / name, device=device, **kw)  # fmt: skip

    pretrain("once"), pretrain("again")
    with pytest.raises(Interrupted):  # the state is saved after every update: update 9's is last
        pretrain("stopped", log=stop_at(10), save_state_every_s=0)
    assert pretrain("stopped")["resumed_at"] == [9]
    weights = {n: (tmp_path / n / "step12/model.safetensors").read_bytes() for n in
               ("once", "again", "stopped")}  # fmt: skip
    assert weights["once"] == weights["again"], "two unstopped runs differ: nothing can repeat them"
    assert weights["stopped"] == weights["once"]


@pytest.mark.parametrize("method", ["did", "said"])
def test_a_subspace_run_stopped_on_the_gpu_resumes_to_the_same_bits(tmp_path, method):
    """In bf16 with the GPU's Fastfood kernels, as `make gpu-check` runs the workflow."""
    from dataclasses import replace

    from interruptions import Interrupted, TokenizerActingAt, interrupt
    from test_training import SETTINGS, run, same_run

    bf16 = replace(SETTINGS, precision="bf16")
    once, again = (run(method, tmp_path / name, bf16, device="cuda") for name in ("once", "again"))
    with pytest.raises(Interrupted):  # the state is saved after every update: update 6's is last
        run(method, tmp_path / "stopped", bf16, TokenizerActingAt(7, interrupt), device="cuda",
            save_state_every_s=0)  # fmt: skip
    stopped = run(method, tmp_path / "stopped", bf16, device="cuda")
    assert stopped[0]["resumed_at"] == [6]
    assert same_run(once, again), "two unstopped runs differ: nothing can repeat them"
    assert same_run(stopped, once)


def test_said_scale_gradients_are_the_same_bits_every_time():
    """Many runs per scale, as a grouping by tensor name can give: summed in one order."""
    from intdim.projections.base import Segments, shift
    from intdim.projections.registry import make_projection

    d, runs, size = 4_000, 3_000, 700
    proj = make_projection("fastfood", d, runs * size, seed=5, device="cuda", backend="triton")
    segments = Segments.from_sizes([size] * runs, [i % 3 for i in range(runs)], "cuda")
    torch.manual_seed(0)
    x, base = torch.randn(d, device="cuda"), torch.randn(runs * size, device="cuda")
    g = torch.randn(runs * size, device="cuda")

    def gradients():
        xs = x.clone().requires_grad_()
        lambdas = torch.tensor([0.5, 2.0, -1.5], device="cuda", requires_grad=True)
        (shift(proj, xs, base, lambdas, segments) * g).sum().backward()
        return xs.grad, lambdas.grad

    first = gradients()
    for _ in range(5):
        again = gradients()
        assert torch.equal(again[0], first[0]) and torch.equal(again[1], first[1])
