"""Fit the polynomial that portable GELU (intdim.pipeline.portable_gelu) takes erfc from and
print its coefficients, lowest power first, with the largest relative error on a fine grid.

erfc(z) exp(z^2) is smooth in t = 1 / (1 + z / 2), which maps z in [0, Z_MAX] to
[T_LO, 1]; Chebyshev interpolation there, turned into powers of s in [-1, 1] (their absolute
sum is 19 times the function's least value, so Horner's rule loses no more than that in
float64). The reference is the C library's float64 erfc and exp: the fit is made once and its
coefficients written into the module, so no job depends on the library's last bits.

    python tools/fit_gelu_erfc.py [--degree 16]
"""

import argparse
import math

import numpy as np
from intdim.pipeline.portable_gelu import T_LO, Z_MAX
from numpy.polynomial import chebyshev


def scaled_erfc(s: np.ndarray) -> np.ndarray:
    t = T_LO + (np.asarray(s) + 1.0) * (1.0 - T_LO) / 2.0
    z = (1.0 / t - 1.0) * 2.0
    return np.array([math.exp(v * v) * math.erfc(v) for v in np.atleast_1d(z)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--degree", type=int, default=16)
    args = parser.parse_args()
    powers = chebyshev.cheb2poly(chebyshev.chebinterpolate(scaled_erfc, args.degree))
    grid = np.linspace(-1.0, 1.0, 20001)
    fitted = np.polynomial.polynomial.polyval(grid, powers)
    print("coefficients:", [float(c) for c in powers])
    print(f"largest relative error on {grid.size} points of [0, {Z_MAX}]:",
          f"{np.max(np.abs(fitted / scaled_erfc(grid) - 1)):.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
