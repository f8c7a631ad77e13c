"""The released code's projection (fastfood_per_tensor) against an independent dense build."""

import math

import pytest
import torch
from intdim.fastfood import stream
from intdim.fastfood.per_tensor import PerTensorFastfood
from intdim.fastfood.transform import hadamard_matrix
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from intdim.projections.base import project, shift
from tiny_models import tiny_batch, tiny_classifier

SIZES = [5, 16, 3, 40]  # LL = 8, 16, 4, 64


def dense_blocks(d: int, sizes: list[int], seed: int) -> list[torch.Tensor]:
    """Each tensor's n_t x d matrix, built from the description: crop or pad theta_d to LL_t,
    then H G Pi H B (dense), first n_t rows, divided by sqrt(LL sum G^2) sqrt(n_t / LL)."""
    blocks = []
    for t, n in enumerate(sizes):
        LL = 1 << (n - 1).bit_length()
        index, block = torch.arange(LL), torch.tensor([t])
        B = torch.diag(stream.signs(seed, block, index)[0].double())
        g = stream.gaussians(seed, block, index)[0].double()
        pi = stream.permutation(seed, block, index, LL.bit_length() - 1)[0]
        Pi = torch.zeros(LL, LL, dtype=torch.float64)
        Pi[torch.arange(LL), pi] = 1.0  # (Pi z)_i = z_pi(i)
        H = hadamard_matrix(LL, torch.float64)
        fit = torch.zeros(LL, d, dtype=torch.float64)  # theta_d -> its first LL, zero-padded
        k = min(d, LL)
        fit[torch.arange(k), torch.arange(k)] = 1.0
        V = H @ torch.diag(g) @ Pi @ H @ B @ fit
        divisor = math.sqrt(LL * float((g**2).sum())) * math.sqrt(n / LL)
        blocks.append(V[:n] / divisor)
    return blocks


@pytest.mark.parametrize("d", [3, 10, 64])  # d below every LL, between them, above them
def test_forward_and_transpose_match_the_dense_per_tensor_projection(d):
    proj = PerTensorFastfood(d, sum(SIZES), seed=7, sizes=SIZES)
    P = torch.cat(dense_blocks(d, SIZES, seed=7))
    x = torch.randn(d, dtype=torch.float64)
    torch.testing.assert_close(proj.forward(x.float()).double(), P @ x, rtol=1e-5, atol=1e-6)
    y = torch.randn(sum(SIZES), dtype=torch.float64)
    torch.testing.assert_close(proj.transpose(y.float()).double(), P.T @ y, rtol=1e-5, atol=1e-6)


def test_every_tensor_moves_by_about_the_norm_of_theta_d():
    """The per-tensor normalisation: E ||P_t x||^2 ~ ||x||^2 for each t, not 1/#tensors of it."""
    sizes = [300, 1000, 2000]
    x = torch.randn(256)
    norms = torch.zeros(3)
    for seed in range(40):
        out = PerTensorFastfood(256, sum(sizes), seed=seed, sizes=sizes).forward(x)
        norms += torch.stack([p.norm() ** 2 for p in out.split(sizes)]) / 40
    ratio = norms / x.norm() ** 2
    assert torch.all((ratio > 0.5) & (ratio < 1.5)), ratio


@pytest.mark.parametrize("legacy", [False, True])
def test_the_gradient_is_the_transpose_or_each_tensors_share_over_ll(legacy):
    d = 10
    proj = PerTensorFastfood(d, sum(SIZES), seed=3, sizes=SIZES, legacy_gradient=legacy)
    blocks = dense_blocks(d, SIZES, seed=3)
    x = torch.randn(d, requires_grad=True)
    g = torch.randn(sum(SIZES))
    (project(proj, x) * g).sum().backward()
    lls = [1 << (n - 1).bit_length() for n in SIZES]
    shares = [P.T @ g_t.double() for P, g_t in zip(blocks, g.split(SIZES), strict=True)]
    expected = sum(s / ll if legacy else s for s, ll in zip(shares, lls, strict=True))
    torch.testing.assert_close(x.grad.double(), expected, rtol=1e-5, atol=1e-6)


def test_identity_at_zero_and_said_with_one_scale_per_tensor_trains_exactly_d():
    batch = tiny_batch()
    model = tiny_classifier("bert")
    with torch.no_grad():
        reference = model(**batch).logits
    tensors = len(list(model.parameters()))
    settings = SubspaceSettings(300, method="said", projection="fastfood_per_tensor",
                                grouping="tensor", seed=2, legacy_gradient=True)  # fmt: skip
    sub = SubspaceModel(model, settings).eval()
    assert sub.m == tensors and sub.num_trainable() == 300  # m + 1 = #tensors scales, as released
    assert sub.theta_d.numel() == 300 - tensors
    with torch.no_grad():
        assert torch.equal(sub(**batch).logits, reference)
    assert SubspaceSettings.from_header(settings.header()) == settings


def test_legacy_gradient_belongs_to_the_per_tensor_projection_only():
    with pytest.raises(ValueError, match="legacy_gradient is a setting of fastfood_per_tensor"):
        SubspaceModel(tiny_classifier("bert"), SubspaceSettings(50, legacy_gradient=True))
    with pytest.raises(ValueError, match="add up to D=10"):
        PerTensorFastfood(4, 10, seed=0, sizes=[3, 3])
    proj = PerTensorFastfood(4, 10, seed=0, sizes=[4, 6])
    base = torch.zeros(10)
    assert torch.equal(shift(proj, torch.zeros(4), base), base)


def test_a_subspace_model_gives_the_projection_its_tensors_and_the_legacy_gradient():
    # Each of the model's tensors is its own block, and training takes the released 1/LL_t
    # gradient: both only if the model hands over its tensor sizes and the setting.
    d, labels = 50, torch.tensor([0, 2, 1])
    settings = SubspaceSettings(d, projection="fastfood_per_tensor", seed=2, legacy_gradient=True)
    sub = SubspaceModel(tiny_classifier("bert"), settings).eval()
    with torch.no_grad():
        sub.theta_d.normal_(generator=torch.Generator().manual_seed(0))
    blocks = dense_blocks(d, sub.sizes, seed=2)
    x = sub.theta_d.detach().double()
    params = sub.current_parameters()
    theta = torch.cat([t.reshape(-1) for t in params.values()])
    moved = torch.cat([P @ x for P in blocks])
    torch.testing.assert_close((theta - sub.theta0).double(), moved, rtol=1e-4, atol=1e-5)
    leaves = {n: t.detach().requires_grad_(True) for n, t in params.items()}
    kwargs = {**tiny_batch(), "labels": labels}
    torch.func.functional_call(sub.model, leaves, (), kwargs).loss.backward()
    sub(**tiny_batch(), labels=labels).loss.backward()
    shares = [P.T @ leaves[n].grad.reshape(-1).double() / (1 << (P.shape[0] - 1).bit_length())
              for P, n in zip(blocks, sub.names, strict=True)]  # fmt: skip
    torch.testing.assert_close(sub.theta_d.grad.double(), sum(shares), rtol=1e-4, atol=1e-6)
