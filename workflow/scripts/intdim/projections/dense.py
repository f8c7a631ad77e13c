"""A dense Gaussian projection (for small D: it stores the D x d matrix)."""

from __future__ import annotations

import math

import torch

from .base import Projection, check_fits_in_memory


def _generator(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same numbers on every machine and device."""
    return torch.Generator(device="cpu").manual_seed(seed)


class DenseProjection(Projection):
    """A dense D x d matrix with i.i.d. N(0, 1/D) entries: E ||P x||^2 = ||x||^2."""

    name = "dense"

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        super().__init__(d, D, seed, device)
        if d > D:
            raise ValueError(f"dense projection needs d <= D, got d={d} > D={D}")
        check_fits_in_memory(f"dense projection of D={D:,} x d={d:,} needs", 4 * D * d)
        gen = _generator(seed)
        self.matrix = torch.randn(D, d, generator=gen).div_(math.sqrt(D)).to(self.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.matrix @ x

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        return self.matrix.T @ y

    def state_bytes(self) -> int:
        return self.matrix.numel() * self.matrix.element_size()

    def materialise(self) -> torch.Tensor:
        return self.matrix.clone()
