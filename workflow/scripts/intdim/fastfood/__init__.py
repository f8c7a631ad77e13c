"""The Fastfood transform P: R^d -> R^D, P = s [V_1; V_2; ...], V_j = H G_j Pi_j H B_j.

One room, four files, read in this order:

* ``transform``: H, the fast Walsh-Hadamard transform, and the one radix planner;
* ``stream``: B, G and Pi as pure functions of (seed, block, index), and every constant of
  that counter-based stream;
* ``reference``: ``FastfoodProjection``, the PyTorch reference (CPU and GPU);
* ``kernels``: the fused Triton kernels and ``TritonFastfoodProjection``, which regenerate the
  stream on the fly; they import their constants and radix plan from the two files above.

The kernels import Triton, so this package does not import them; ``intdim.projections`` picks
a backend.
"""

from .reference import FastfoodProjection
from .stream import layout
from .transform import fwht, hadamard_matrix, next_power_of_two, radix_plan

__all__ = [
    "FastfoodProjection",
    "fwht",
    "hadamard_matrix",
    "layout",
    "next_power_of_two",
    "radix_plan",
]
