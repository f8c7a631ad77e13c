import pytest
import torch
from intdim.fastfood.transform import fwht, hadamard_matrix, next_power_of_two, radix_plan


@pytest.mark.parametrize("n", [1, 2, 4, 32, 256, 2048])
@pytest.mark.parametrize("max_radix", [2, 8, 128])
def test_fwht_equals_dense_hadamard(n, max_radix):
    x = torch.randn(5, n, dtype=torch.float64)
    expected = x @ hadamard_matrix(n, torch.float64)
    torch.testing.assert_close(fwht(x, max_radix), expected, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("n", [2, 64, 1024, 2**15])
def test_fwht_twice_is_n_times_identity(n):
    # Integer inputs of small magnitude: every intermediate is an exact float32 integer.
    x = torch.randint(-8, 9, (3, n)).float()
    assert torch.equal(fwht(fwht(x)), n * x)


def test_fwht_keeps_leading_shape_and_dtype():
    x = torch.randn(2, 3, 16)
    y = fwht(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    torch.testing.assert_close(y[1, 2], fwht(x[1, 2]))


def test_hadamard_matrix_is_orthogonal_up_to_n():
    h = hadamard_matrix(64, torch.float64)
    assert torch.equal(h @ h.T, 64 * torch.eye(64, dtype=torch.float64))


def test_radix_plan_multiplies_to_n():
    for k in range(0, 23):
        plan = radix_plan(1 << k, 32)
        assert max(plan) <= 32
        assert torch.tensor(plan).prod().item() == 1 << k


def test_non_power_of_two_is_rejected_by_name():
    with pytest.raises(ValueError, match="power of two, got 12"):
        fwht(torch.zeros(12))
    assert next_power_of_two(1000) == 1024 and next_power_of_two(1024) == 1024


@pytest.mark.parametrize(
    "n,max_radix,count,expected",
    [(1, 16, 4, (1, 1, 1, 1)), (8, 16, 4, (8, 1, 1, 1)), (16, 16, 4, (16, 1, 1, 1)),
     (2048, 16, 4, (16, 16, 8, 1)), (16384, 16, 4, (16, 16, 8, 8)), (512, 16, 4, (8, 8, 8, 1)),
     (256, 16, 2, (16, 16)), (2**13, 128, None, (128, 64)), (2**10, 128, None, (32, 32))],
)  # fmt: skip
def test_radix_plan_is_balanced_and_padded(n, max_radix, count, expected):
    assert radix_plan(n, max_radix, count) == expected


def test_radix_plan_rejects_too_few_factors_and_non_powers():
    with pytest.raises(ValueError, match="needs more than 2 factors of at most 16"):
        radix_plan(512, 16, 2)
    with pytest.raises(ValueError, match="powers of two"):
        radix_plan(24, 16)
