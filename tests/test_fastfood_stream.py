"""The counter-based stream behind Fastfood's B, G and Pi: its laws, not its particular values."""

import math

import pytest
import torch
from intdim.fastfood import stream
from intdim.fastfood.transform import next_power_of_two


def test_tensor_mixer_agrees_with_the_integer_mixer_and_is_injective():
    x = torch.randint(0, 2**32, (200_000,), generator=torch.Generator().manual_seed(0))
    x = torch.cat([x, torch.tensor([0, 1, 2**31, 2**32 - 1])])
    mixed = stream.mix32(x)
    assert [stream.mix32_int(int(v)) for v in x[:500]] == mixed[:500].tolist()
    assert mixed.min() >= 0 and mixed.max() < 2**32
    assert len(torch.unique(mixed)) == len(torch.unique(x))  # a bijection: no collisions


def test_signs_are_balanced_and_independent_across_blocks():
    index = torch.arange(1 << 16)
    b = stream.signs(7, torch.arange(8), index)
    assert set(b.unique().tolist()) == {-1.0, 1.0}
    n = b.numel()
    assert abs(b.mean().item()) < 4 / math.sqrt(n)
    corr = (b[0] * b[1]).mean().item()
    assert abs(corr) < 4 / math.sqrt(len(index))


def test_gaussians_have_the_normal_law():
    g = stream.gaussians(3, torch.arange(16), torch.arange(1 << 14)).double().reshape(-1)
    n = g.numel()
    assert abs(g.mean().item()) < 4 / math.sqrt(n)
    assert abs(g.var().item() - 1) < 4 * math.sqrt(2 / n)
    # Kolmogorov-Smirnov distance to N(0, 1); the 0.1% critical value is 1.95 / sqrt(n).
    x, _ = torch.sort(g)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    ranks = torch.arange(1, n + 1, dtype=torch.float64) / n
    ks = torch.maximum(ranks - cdf, cdf - (ranks - 1 / n)).max().item()
    assert ks < 1.95 / math.sqrt(n)
    other = stream.gaussians(3, torch.tensor([16]), torch.arange(1 << 14))[0].double()
    assert abs(torch.corrcoef(torch.stack([g[: 1 << 14], other]))[0, 1]) < 4 / 2**7


@pytest.mark.parametrize("bits", [0, 1, 2, 5, 10, 13])
def test_permutation_is_a_bijection_and_the_inverse_undoes_it(bits):
    index = torch.arange(1 << bits)
    blocks = torch.arange(5)
    pi = stream.permutation(9, blocks, index, bits)
    inv = stream.permutation(9, blocks, index, bits, inverse=True)
    for j in range(len(blocks)):
        assert torch.equal(torch.sort(pi[j]).values, index)
        assert torch.equal(pi[j][inv[j]], index)
        assert torch.equal(inv[j][pi[j]], index)
    if bits >= 5:
        assert not torch.equal(pi[0], pi[1])  # every block draws its own permutation


def test_permutation_spreads_every_position_uniformly():
    """Over many blocks, Pi_j(i) = k has probability 1/16 for every (i, k): a chi-square test."""
    blocks, bits = 4000, 4
    pi = stream.permutation(1, torch.arange(blocks), torch.arange(16), bits)
    counts = torch.zeros(16, 16)
    for i in range(16):
        counts[i] = torch.bincount(pi[:, i], minlength=16).float()
    expected = blocks / 16
    chi2 = ((counts - expected) ** 2 / expected).sum().item()
    # 225 degrees of freedom (a doubly stochastic table): mean 225, sd about 21.
    assert chi2 < 225 + 5 * math.sqrt(2 * 225)


def test_same_seed_same_stream_and_seeds_are_checked():
    index, blocks = torch.arange(64), torch.arange(3)
    assert torch.equal(stream.gaussians(5, blocks, index), stream.gaussians(5, blocks, index))
    assert not torch.equal(stream.gaussians(5, blocks, index), stream.gaussians(6, blocks, index))
    # Seeds that differ only in their high 32 bits still give different streams.
    assert not torch.equal(stream.signs(1, blocks, index), stream.signs(1 + 2**32, blocks, index))
    with pytest.raises(ValueError, match="got 18446744073709551616"):
        stream.seed_key(2**64)


@pytest.mark.parametrize(
    ("D", "d_min"),
    [(2**32 - 1, 1), (2**32, 2), (2 * (2**32 - 1), 2), (2 * (2**32 - 1) + 1, 3), (2**33, 3),
     (5 * 2**32, 5), (7_000_000_000, 2)],
)  # fmt: skip
def test_layout_refuses_too_many_blocks_and_names_the_smallest_d_that_fits(D, d_min):
    # layout is the host-side plan only: nothing D-sized is allocated
    assert stream.layout(d_min, D)[2] <= stream.MAX_BLOCKS == 2**32 - 1
    if d_min > 1:
        d = d_min - 1
        blocks = math.ceil(D / next_power_of_two(d))
        expected = (f"d={d}, D={D:,} needs {blocks:,} Fastfood blocks, at most 2**32 - 1 are "
                    f"supported: use d >= {d_min}")  # fmt: skip
        with pytest.raises(ValueError) as error:
            stream.layout(d, D)
        assert str(error.value) == expected
