"""GELU and its gradient with bits that no CPU or C library can change, at 5x ATen's baseline
speed: portable numerics' activation (``replace_torch_gelu``, from ``use_numerics``).

Portable numerics keep oneDNN off (its kernels are compiled for the CPU at hand), so ATen's
baseline GELU ran instead: x * 0.5 * (1 + erff(x / sqrt 2)) in float32, one call of the C
library's erff per element, and expf too in the gradient. That was 7 ms forward and 10 ms
backward for one layer of m's 1,024 x 512 activations, 27% of a step, and its bits were the C
library's: glibc's erff is not correctly rounded and changes between versions.

Here every element is computed in float64 from +, -, x and / alone (IEEE 754 rounds each
correctly; no fused multiply-add, no library call) and rounded once to float32:

    GELU(x) = x Phi(x),    GELU'(x) = Phi(x) + x phi(x),    z = |x| / sqrt 2,
    Phi(x) = erfc(z) / 2 for x < 0 and 1 - erfc(z) / 2 otherwise,
    erfc(z) = exp(-z^2) g(t),    t = 1 / (1 + z / 2),    phi(x) = exp(-z^2) / sqrt(2 pi),

g a polynomial of degree 16 in t fitted by ``tools/fit_gelu_erfc.py`` (relative error 3e-12
where z <= 10.5; beyond, Phi is 0 or 1 and phi 0 in float32 anyway), exp(-z^2) a Taylor series
of degree 8 at -z^2 / 1024 squared ten times. Both are within 1e-11 of the true values, so
the float32 results are the correctly rounded GELU and gradient but in rare ties (within 1 ulp
always; tests/test_portable_gelu.py). Vectorised by LLVM, 8 float64 lanes on AVX-512.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..fastfood.simd import _JIT
from .cpu_kernels import replace_cpu_kernels

# erfc(z) exp(z^2) for z in [0, Z_MAX] as a polynomial in s = (t - T_LO) / (1 - T_LO) * 2 - 1,
# t = 1 / (1 + z / 2), lowest power first: tools/fit_gelu_erfc.py printed them.
ERFC_SCALED = np.array([
    0.3302570590188494, 0.42892066362490316, 0.19746110736811714, 0.04713741066134183,
    -0.0010205322313446325, -0.0030472208094225214, 8.037974222614067e-05,
    0.0002642202727011019, -4.009198536542656e-05, -2.1688370661415453e-05,
    9.264858885105782e-06, 4.0153012454720747e-07, -1.3291500590714825e-06,
    3.13739846585886e-07, 8.930584677603511e-08, -5.052222760135367e-08,
    2.9461661111353486e-09,
])  # fmt: skip
Z_MAX = 10.5  # erfc(10.5) / 2 is 1e-50: 0 in float32, and x phi(x) too
T_LO = 1.0 / (1.0 + 0.5 * Z_MAX)
EXP_SQUARINGS = 10  # exp(v) = exp(v / 1024) ^ 1024; |v / 1024| <= 0.11 where v >= -Z_MAX^2
EXP_SERIES = np.array([1.0 / math.factorial(n) for n in range(9)])  # CPython's, exact ratios
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@numba.njit(**_JIT, inline="always")
def _exp(v):
    """exp(v) for v in [-Z_MAX^2, 0], relative error below 1e-11."""
    r = v * (1.0 / 2.0**EXP_SQUARINGS)
    p = EXP_SERIES[8]
    for k in range(7, -1, -1):
        p = p * r + EXP_SERIES[k]
    for _ in range(EXP_SQUARINGS):
        p = p * p
    return p


@numba.njit(**_JIT, inline="always")
def _cdf_and_density(x):
    """Phi(x) and phi(x) in float64 for a float32 x; NaN gives NaN."""
    z = abs(x * INV_SQRT2)
    zc = z if z < Z_MAX else Z_MAX
    e = _exp(-(zc * zc))
    t = 1.0 / (1.0 + 0.5 * zc)
    s = (t - T_LO) * (2.0 / (1.0 - T_LO)) - 1.0
    g = ERFC_SCALED[16]
    for k in range(15, -1, -1):
        g = g * s + ERFC_SCALED[k]
    lower = 0.5 * e * g  # Phi(-|x|)
    if z > Z_MAX:
        lower = 0.0
        e = 0.0
    cdf = lower if x < 0.0 else 1.0 - lower
    if x != x:
        cdf = x
    return cdf, e * INV_SQRT_2PI


@numba.njit(**_JIT)
def _gelu(x, out):
    for i in range(x.size):
        xi = np.float64(x[i])
        cdf, _ = _cdf_and_density(xi)
        out[i] = np.float32(xi * cdf)


@numba.njit(**_JIT)
def _gelu_backward(grad, x, out):
    for i in range(x.size):
        xi = np.float64(x[i])
        cdf, density = _cdf_and_density(xi)
        out[i] = np.float32(np.float64(grad[i]) * (cdf + xi * density))


def _flat(a: np.ndarray) -> np.ndarray:
    if a.dtype != np.float32:
        raise TypeError(f"portable GELU takes float32, not {a.dtype}")
    return np.ascontiguousarray(a).reshape(-1)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU(x) of a float32 array, exact GELU's float32 rounding but in rare ties."""
    flat = _flat(x)
    out = np.empty_like(flat)
    _gelu(flat, out)
    return out.reshape(np.shape(x))


def gelu_backward(grad: np.ndarray, x: np.ndarray) -> np.ndarray:
    """grad * GELU'(x), rounded once to float32."""
    if np.shape(grad) != np.shape(x):
        raise ValueError(f"grad's shape {np.shape(grad)} is not x's {np.shape(x)}")
    flat_x, flat_grad = _flat(x), _flat(grad)
    out = np.empty_like(flat_x)
    _gelu_backward(flat_grad, flat_x, out)
    return out.reshape(np.shape(x))


def warm_up() -> None:
    """Compile (or load from the cache) both kernels: ``make setup`` runs it."""
    gelu_backward(np.ones(3, np.float32), gelu(np.ones(3, np.float32)))


def replace_torch_gelu() -> None:
    """From now on in this process, torch's CPU float32 ``gelu`` with approximate="none" and its
    gradient compute with ``gelu`` and ``gelu_backward``; the tanh form and other dtypes keep
    ATen's kernels (through their ``out=`` forms, which this does not replace).
    ``use_numerics("portable")`` calls it."""
    import torch

    def forward(x, *, approximate="none"):
        if x.dtype != torch.float32 or approximate != "none":
            return torch.ops.aten.gelu.out(x, approximate=approximate, out=torch.empty_like(x))
        return torch.from_numpy(gelu(x.detach().numpy()))

    def backward(grad, x, *, approximate="none"):
        if x.dtype != torch.float32 or grad.dtype != torch.float32 or approximate != "none":
            out = torch.empty_like(x)
            return torch.ops.aten.gelu_backward.grad_input(
                grad, x, approximate=approximate, grad_input=out
            )
        return torch.from_numpy(gelu_backward(grad.detach().numpy(), x.detach().numpy()))

    replace_cpu_kernels(__name__, {"gelu": forward, "gelu_backward": backward})
