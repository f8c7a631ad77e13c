"""The fast Walsh-Hadamard transform H of Fastfood, in pure PyTorch (CPU and GPU).

The transform is unnormalised: ``fwht(fwht(x)) == n * x`` for a last dimension of size ``n``.

Instead of log2(n) elementwise butterfly passes, the n-point transform is applied as a Kronecker
product of small dense Hadamard matrices (H_n = H_a (x) H_b (x) ...), each applied with one batched
matrix product. That needs about log_128(n) passes over memory instead of log_2(n), which is what
makes it fast on CPUs and GPUs alike, and it is exact in integer-valued inputs up to float rounding.
"""

from __future__ import annotations

import functools
import math

import torch

# Largest dense factor applied by one matrix product. 128 keeps the small matrix in cache while
# cutting the number of passes over the data to at most four for n <= 2**28.
MAX_RADIX = 128


def is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def next_power_of_two(n: int) -> int:
    if n < 1:
        raise ValueError(f"next_power_of_two needs n >= 1, got {n}")
    return 1 << (n - 1).bit_length()


@functools.lru_cache(maxsize=64)
def _hadamard_cpu(n: int, dtype: torch.dtype) -> torch.Tensor:
    """Dense Sylvester Hadamard matrix of size n (a power of two), entries +-1."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h.to(dtype)


def hadamard_matrix(
    n: int, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """The n x n Sylvester Hadamard matrix (symmetric, H @ H == n * I)."""
    if not is_power_of_two(n):
        raise ValueError(f"Hadamard size must be a power of two, got {n}")
    return _hadamard_cpu(n, dtype).to(device)


def radix_plan(n: int, max_radix: int = MAX_RADIX, count: int | None = None) -> tuple[int, ...]:
    """Split n = 2**k into the fewest factors no larger than max_radix, as even as possible
    (larger first); with ``count``, padded with 1 (no factor) to exactly that many.

    The one planner of the transform: ``fwht`` uses it with radix 128, the Triton kernels with
    radix 16 and four factors (a kernel's compile-time shape).
    """
    if not is_power_of_two(n) or not is_power_of_two(max_radix) or max_radix < 2:
        raise ValueError(
            f"radix_plan needs powers of two n and max_radix >= 2, got {n}, {max_radix}"
        )
    k = n.bit_length() - 1
    step = max_radix.bit_length() - 1
    passes = max(1, math.ceil(k / step))
    sizes = [k // passes + (1 if i < k % passes else 0) for i in range(passes)]
    plan = [1 << s for s in sizes if s > 0] or [1]
    if count is not None:
        if len(plan) > count:
            raise ValueError(f"{n} needs more than {count} factors of at most {max_radix}")
        plan += [1] * (count - len(plan))
    return tuple(plan)


def fwht(x: torch.Tensor, max_radix: int = MAX_RADIX) -> torch.Tensor:
    """Unnormalised Walsh-Hadamard transform along the last dimension (size a power of two).

    Works on any leading batch shape; returns a new tensor of the same shape and dtype.
    """
    n = x.shape[-1]
    if not is_power_of_two(n):
        raise ValueError(f"fwht needs the last dimension to be a power of two, got {n}")
    if n == 1:
        return x.clone()
    lead = x.shape[:-1]
    y = x.reshape(-1, n)
    # View the index as (a, r, b) for each factor r of the plan and left-multiply the middle axis
    # by H_r: a batched matrix product on contiguous memory, so no pass needs a transpose copy.
    a = y.shape[0]
    b = n
    for r in radix_plan(n, max_radix):
        b //= r
        h = hadamard_matrix(r, x.dtype, x.device)
        if b == 1:
            y = torch.matmul(y.reshape(-1, r), h)
        else:
            y = torch.matmul(h, y.reshape(a, r, b))
        a *= r
    return y.reshape(*lead, n)
