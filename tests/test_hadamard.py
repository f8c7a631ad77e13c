import pytest
import torch
from intdim.hadamard import fwht, hadamard_matrix, next_power_of_two, radix_plan


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
