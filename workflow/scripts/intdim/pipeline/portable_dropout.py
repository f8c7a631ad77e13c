"""Dropout's random mask from a counter-based generator, at 6x ATen's speed on a CPU: portable
numerics' ``bernoulli_`` with a probability (``replace_torch_bernoulli``, from
``use_numerics``).

ATen's dropout fills a tensor the input's size by ``bernoulli_(1 - p)`` and scales the input
by it. On a CPU that ``bernoulli_`` runs MKL's random-number library, one stream per call
seeded from torch's generator: 1.2-1.5 ms for m's 1,024 x 128 activations, nine masks a step,
10% of a portable step. Here element i of a mask is 1 where

    splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15) < floor(p * 2^64),

splitmix64's output function (Steele, Lea and Flood 2014: every 64-bit output once per period,
passes TestU01's BigCrush) on the i-th state after the seed, so each element is 1 with
probability p to within 2^-64. The seed is one 63-bit number drawn from the call's generator
(torch's default unless one is given), so ``torch.manual_seed`` decides every mask, a run's
saved generator state resumes them, and integer arithmetic makes the bits every CPU's.
"""

from __future__ import annotations

import numba
import numpy as np

from ..fastfood.simd import _JIT
from .cpu_kernels import replace_cpu_kernels

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # splitmix64's increment: 2^64 / the golden ratio
MIX_1, MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
SHIFTS = np.uint64(30), np.uint64(27), np.uint64(31)


@numba.njit(**_JIT)
def _fill(seed, below, out):
    """out[i] = 1.0 where splitmix64's (i + 1)-th output after ``seed`` is below ``below``."""
    for i in range(out.size):
        z = seed + np.uint64(i + 1) * GOLDEN
        z = (z ^ (z >> SHIFTS[0])) * MIX_1
        z = (z ^ (z >> SHIFTS[1])) * MIX_2
        z = z ^ (z >> SHIFTS[2])
        out[i] = np.float32(1.0) if z < below else np.float32(0.0)


def bernoulli_mask(seed: int, p: float, size: int) -> np.ndarray:
    """``size`` float32 zeros and ones, each one with probability ``p``, from ``seed``."""
    if not 0.0 <= p <= 1.0:  # also NaN
        raise ValueError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    out = np.empty(size, np.float32)
    if p == 1.0:  # floor(p * 2^64) would not fit in 64 bits
        out.fill(1.0)
    else:
        _fill(np.uint64(seed % 2**64), np.uint64(int(p * 2.0**64)), out)
    return out


def warm_up() -> None:
    """Compile (or load from the cache) the mask: ``make setup`` runs it."""
    bernoulli_mask(1, 0.5, 3)


def replace_torch_bernoulli() -> None:
    """From now on in this process, torch's CPU ``bernoulli_`` with a probability (what dropout
    calls) fills with ``bernoulli_mask``, its seed drawn from the call's generator; the form
    with a tensor of probabilities keeps ATen's kernel. ``use_numerics("portable")`` calls it."""
    import torch

    def bernoulli_(self, p=0.5, *, generator=None):
        # random_ on int64 draws from [0, 2^63 - 1] and advances the generator as any draw.
        seed = int(torch.empty((), dtype=torch.int64).random_(generator=generator))
        mask = torch.from_numpy(bernoulli_mask(seed, p, self.numel())).view(self.shape)
        return self.copy_(mask)

    replace_cpu_kernels(__name__, {"bernoulli_.float": bernoulli_})
