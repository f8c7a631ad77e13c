"""The fused CPU Fastfood (Numba) against the PyTorch reference: the same stream, the same
products to float32 rounding, the same training."""

import numpy as np
import pytest
import torch
from intdim.fastfood import FastfoodProjection, stream
from intdim.fastfood.cpu import CpuFastfoodProjection, fwht_inplace
from intdim.projections.registry import make_projection
from intdim.subspace import SubspaceModel, SubspaceSettings
from test_fastfood_reference import sylvester
from tiny_models import tiny_batch, tiny_classifier


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32, 64, 128, 2048])
def test_butterfly_equals_the_hadamard_matrix(n):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    out = x.copy()
    fwht_inplace(out)
    np.testing.assert_allclose(out, sylvester(n) @ x.astype(np.float64), rtol=0, atol=1e-4 * n)


@pytest.mark.parametrize("d,D", [(1, 9), (5, 100), (64, 64), (700, 3001), (1000, 100_000)])
def test_stream_is_the_reference_stream(d, D):
    cpu, ref = CpuFastfoodProjection(d, D, seed=3), FastfoodProjection(d, D, seed=3)
    assert np.array_equal(cpu.Pi, ref.Pi.numpy())  # bit for bit
    assert np.array_equal(cpu.B, ref.B[:, :d].numpy())
    # libm's log and cos against PyTorch's: a few float32 ulps at most.
    np.testing.assert_allclose(cpu.G, ref.G.numpy(), rtol=1e-6, atol=1e-6 * ref.scale)


@pytest.mark.parametrize("d,D", [(3, 7), (40, 5_000), (3000, 200_000)])
def test_products_equal_the_reference_to_float32_rounding(d, D):
    cpu, ref = CpuFastfoodProjection(d, D, seed=5), FastfoodProjection(d, D, seed=5)
    x, y, base = torch.randn(d), torch.randn(D), torch.randn(D)
    for a, b in [
        (cpu.forward(x), ref.forward(x)),
        (cpu.transpose(y), ref.transpose(y)),
        (cpu.shifted_forward(x, base)[0], ref.shifted_forward(x, base)[0]),
    ]:
        assert ((a - b).norm() / b.norm()).item() < 1e-6


def test_state_is_nine_bytes_an_output_coordinate():
    proj = CpuFastfoodProjection(d=1000, D=100_000, seed=0)
    assert proj.blocks == 98 and proj.LL == 1024
    assert proj.state_bytes() == proj.blocks * (1000 * 1 + 1024 * 4 + 1024 * 4)


def test_auto_picks_it_on_the_cpu_and_the_reference_when_asked():
    assert isinstance(make_projection("fastfood", 10, 100, 0), CpuFastfoodProjection)
    assert type(make_projection("fastfood", 10, 100, 0, backend="torch")) is FastfoodProjection


def test_rejects_other_dtypes_by_name():
    with pytest.raises(TypeError, match="float32, got torch.float64"):
        CpuFastfoodProjection(4, 20, 0).forward(torch.zeros(4, dtype=torch.float64))


@pytest.mark.parametrize("method", ["did", "said"])
def test_training_follows_the_reference(method):
    """Five AdamW steps of a tiny BERT with each backend end at the same theta_d."""
    finals = []
    for backend in ("torch", "numba"):
        model = tiny_classifier("bert", seed=0)
        net = SubspaceModel(model, SubspaceSettings(60, method=method, seed=1, backend=backend))
        opt = torch.optim.AdamW(net.trainable_parameters(), lr=1e-2)
        batch = {**tiny_batch(seed=0), "labels": torch.tensor([0, 2, 1])}
        for _ in range(5):
            loss = net(**batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        finals.append(torch.cat([p.detach().reshape(-1) for p in net.trainable_parameters()]))
    torch.testing.assert_close(finals[0], finals[1], rtol=1e-4, atol=1e-5)


def test_the_stream_keys_match_the_hashed_reference():
    """The block keys the kernel is handed are the reference's (a wrong stream name or a
    swapped key would change every number)."""
    ids = torch.arange(3)
    ref = stream.block_keys(stream.stream_key(2, "PI"), ids)
    from intdim.fastfood.cpu import _block_keys

    assert _block_keys(2, "PI", 3).tolist() == ref.tolist()
