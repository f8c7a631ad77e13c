"""The Fastfood projection in pure PyTorch: the reference every other backend is checked against."""

from __future__ import annotations

import torch

from ..projections.base import Projection
from . import stream
from .transform import fwht


class FastfoodProjection(Projection):
    """Stacked Fastfood blocks P = s [V_1; V_2; ...; V_k] truncated to D rows (the reference).

    Each block is V_j = H G_j Pi_j H B_j acting on x zero-padded to LL = 2**ceil(log2 d):
    H the unnormalised LL x LL Walsh-Hadamard matrix, G_j a diagonal of N(0, 1) draws, Pi_j a
    random permutation, B_j a diagonal of random signs; k = ceil(D / LL) independent blocks.
    Normalisation: s = 1 / sqrt(D * LL). Every output coordinate of H G Pi H B x has
    expectation LL ||x||^2 over G, so E ||P x||^2 = s^2 * D * LL * ||x||^2 = ||x||^2 exactly.

    B, G and Pi are counter-based (``stream``): pure functions of (seed, block, index)
    that the GPU kernels regenerate on the fly. This pure-PyTorch path computes them once and
    keeps them (signs and Gaussians in float32, Pi and its inverse in int64: 24 bytes per
    output coordinate), which is what makes it fast on a CPU. No D x d matrix is ever formed.
    Cost per product: O(D log LL).
    """

    name = "fastfood"
    # Blocks generated per chunk x LL: bounds the int64 temporaries of the generator.
    GENERATE_CHUNK = 1 << 21

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        super().__init__(d, D, seed, device)
        self.LL, self.bits, self.blocks, self.scale = stream.layout(d, D)
        # Generated where it is used: on a GPU the hashing takes seconds, not minutes, for D in
        # the hundreds of millions (B and Pi are exact everywhere; G agrees to float32 rounding).
        index = torch.arange(self.LL, dtype=torch.int64, device=self.device)
        step = max(1, self.GENERATE_CHUNK // self.LL)
        parts: dict[str, list[torch.Tensor]] = {"B": [], "G": [], "Pi": [], "Pi_inv": []}
        for start in range(0, self.blocks, step):
            stop = min(start + step, self.blocks)
            ids = torch.arange(start, stop, dtype=torch.int64, device=self.device)
            parts["B"].append(stream.signs(seed, ids, index))
            # The global scale is folded into G: one multiply fewer per product.
            parts["G"].append(stream.gaussians(seed, ids, index) * self.scale)
            parts["Pi"].append(stream.permutation(seed, ids, index, self.bits))
            parts["Pi_inv"].append(stream.permutation(seed, ids, index, self.bits, inverse=True))
        self.B, self.G, self.Pi, self.Pi_inv = (
            torch.cat(parts.pop(k)) for k in ("B", "G", "Pi", "Pi_inv")
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = torch.zeros(self.LL, dtype=x.dtype, device=x.device)
        padded[: self.d] = x
        z = fwht(self.B * padded)  # (blocks, LL): H B_j x for every block at once
        z = torch.gather(z, 1, self.Pi)
        z = fwht(z.mul_(self.G))
        return z.reshape(-1)[: self.D]

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        full = torch.zeros(self.blocks * self.LL, dtype=y.dtype, device=y.device)
        full[: self.D] = y
        z = fwht(full.view(self.blocks, self.LL)).mul_(self.G)
        z = torch.gather(z, 1, self.Pi_inv)  # Pi^T: a gather with the inverse permutation
        z = fwht(z).mul_(self.B)
        return z.sum(0)[: self.d]

    def state_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.B, self.G, self.Pi, self.Pi_inv))
