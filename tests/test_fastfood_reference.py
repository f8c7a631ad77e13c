"""Both CPU Fastfood backends against an independent dense oracle: H G Pi H B built as matrices
from the stream's B, G and Pi (never through a projection's own products), so a change of the
structure (a dropped permutation, a swapped diagonal, a wrong scale) fails here without Triton.
"""

import math

import numpy as np
import pytest
import torch
from intdim.fastfood import stream
from intdim.fastfood.reference import FastfoodProjection
from intdim.projections.base import Segments, shift
from intdim.projections.registry import make_projection

BACKENDS = ["torch", "numba"]


def sylvester(n: int) -> np.ndarray:
    """H_n from its definition H_n[i, k] = (-1)^popcount(i & k), not from the package."""
    i = np.arange(n)
    bits = np.vectorize(lambda v: bin(v).count("1"))(i[:, None] & i[None, :])
    return np.where(bits % 2 == 0, 1.0, -1.0)


def oracle(d: int, D: int, seed: int) -> np.ndarray:
    """The D x d matrix s [V_1; V_2; ...] with V_j = H G_j Pi_j H B_j, (Pi v)[i] = v[Pi[i]]."""
    LL = 1 << (d - 1).bit_length()
    blocks = math.ceil(D / LL)
    index, ids = torch.arange(LL), torch.arange(blocks)
    B = stream.signs(seed, ids, index).double().numpy()
    G = stream.gaussians(seed, ids, index).double().numpy()
    Pi = stream.permutation(seed, ids, index, LL.bit_length() - 1).numpy()
    H = sylvester(LL)
    rows = []
    for j in range(blocks):
        perm = np.zeros((LL, LL))
        perm[np.arange(LL), Pi[j]] = 1.0
        rows.append(H @ np.diag(G[j]) @ perm @ H @ np.diag(B[j]))
    full = np.vstack(rows)[:D, :d]  # x is zero-padded from d to LL: only d columns act
    return full / math.sqrt(D * LL)


CASES = [(1, 5), (3, 7), (5, 100), (16, 16), (37, 1000), (100, 700)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d,D", CASES)
def test_both_products_equal_the_dense_oracle(backend, d, D):
    proj = make_projection("fastfood", d, D, seed=4, backend=backend)
    P = oracle(d, D, seed=4)
    x, y = torch.randn(d, dtype=torch.float64), torch.randn(D, dtype=torch.float64)
    fx = proj.forward(x.float()).double().numpy()
    ty = proj.transpose(y.float()).double().numpy()
    scale_x = np.abs(P).sum(1).max() * x.abs().max().item()
    scale_y = np.abs(P).sum(0).max() * y.abs().max().item()
    np.testing.assert_allclose(fx, P @ x.numpy(), atol=1e-5 * scale_x, rtol=0)
    np.testing.assert_allclose(ty, P.T @ y.numpy(), atol=1e-5 * scale_y, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_said_shift_and_its_gradients_equal_the_oracle(backend):
    d, D, seed = 12, 300, 9
    proj = make_projection("fastfood", d, D, seed=seed, backend=backend)
    P = torch.from_numpy(oracle(d, D, seed))
    sizes, groups = [50, 70, 30, 100, 50], [0, 1, 1, 2, 0]
    segments = Segments.from_sizes(sizes, groups, "cpu")
    lambdas = torch.tensor([0.5, 2.0, -1.5], requires_grad=True)
    x = torch.randn(d, requires_grad=True)
    base, g = torch.randn(D), torch.randn(D)
    theta = shift(proj, x, base, lambdas, segments)
    (theta * g).sum().backward()

    scale = torch.repeat_interleave(lambdas.detach()[groups], torch.tensor(sizes)).double()
    px = P @ x.detach().double()
    expected = base.double() + scale * px
    torch.testing.assert_close(theta.double(), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x.grad.double(), P.T @ (scale * g.double()), rtol=1e-4, atol=1e-4)
    group_of = torch.repeat_interleave(torch.tensor(groups), torch.tensor(sizes))
    by_hand = torch.zeros(3, dtype=torch.float64).index_add_(0, group_of, g.double() * px)
    torch.testing.assert_close(lambdas.grad.double(), by_hand, rtol=1e-4, atol=1e-4)


def test_oracle_is_not_blind_to_the_permutation():
    """The oracle with Pi left out differs from the products: it guards Pi at all."""
    d, D = 16, 64
    proj = make_projection("fastfood", d, D, seed=4, backend="torch")
    LL, ids, index = 16, torch.arange(4), torch.arange(16)
    B = stream.signs(4, ids, index).double().numpy()
    G = stream.gaussians(4, ids, index).double().numpy()
    H = sylvester(LL)
    no_pi = np.vstack([H @ np.diag(G[j]) @ H @ np.diag(B[j]) for j in range(4)]) / math.sqrt(D * LL)
    x = torch.randn(d)
    assert np.abs(proj.forward(x).double().numpy() - no_pi @ x.double().numpy()).max() > 1e-2


def test_generating_b_g_and_pi_in_chunks_changes_no_number(monkeypatch):
    # The generator makes GENERATE_CHUNK // LL blocks at a time to bound its temporaries:
    # chunks of 3 of the 16 blocks (the last one short) give what one chunk gives.
    whole = FastfoodProjection(37, 1000, seed=4)
    monkeypatch.setattr(FastfoodProjection, "GENERATE_CHUNK", 3 * whole.LL)
    chunked = FastfoodProjection(37, 1000, seed=4)
    assert (whole.LL, whole.blocks) == (64, 16)
    for name in ("B", "G", "Pi", "Pi_inv"):
        assert torch.equal(getattr(chunked, name), getattr(whole, name))


def test_the_reference_computes_in_its_inputs_dtype():
    proj = FastfoodProjection(37, 1000, seed=4)
    P = oracle(37, 1000, seed=4)
    x, y = torch.randn(37, dtype=torch.float64), torch.randn(1000, dtype=torch.float64)
    fx, ty = proj.forward(x), proj.transpose(y)
    assert fx.dtype == ty.dtype == torch.float64
    # G is kept in float32, so the products agree with the oracle to float32 rounding
    np.testing.assert_allclose(fx.numpy(), P @ x.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ty.numpy(), P.T @ y.numpy(), rtol=0, atol=1e-6)
