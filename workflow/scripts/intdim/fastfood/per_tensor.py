"""The released code's projection (``fastfood_per_tensor``): one Fastfood per parameter tensor.

The paper's numbers come from its authors' released code, whose projection differs from the
paper's text and from ``FastfoodProjection`` (one stacked transform over all D coordinates):

* every parameter tensor t of n_t numbers has its own block V_t = H G_t Pi_t H B_t of size
  LL_t = 2**ceil(log2 n_t), and all blocks read the same theta_d: zero-padded to LL_t when
  d < LL_t, *cropped* to its first LL_t coordinates when d > LL_t (a bias of 768 numbers only
  ever sees theta_d[:1024]);
* each block is divided by sqrt(LL_t * sum(G_t^2)) * sqrt(n_t / LL_t) and cut to its first n_t
  rows, so every tensor moves by about ||theta_d|| and the whole model by about
  sqrt(#tensors) ||theta_d||: not an isometry;
* its gradient is not the transpose: the released Walsh-Hadamard autograd returns H g / sqrt(LL)
  while the forward is unnormalised, so each tensor's share of the gradient of theta_d is
  P_t^T g_t / LL_t (``legacy_gradient=True``); ``False`` gives the true transpose.

B, G and Pi come from the counter-based stream (``stream``), block index = tensor index, so a
seed gives the same projection everywhere; the released code drew them from torch's RNG, which
changes the draw but not the law. Cost O(sum_t LL_t log LL_t); the state is kept (24 bytes per
padded coordinate, as ``FastfoodProjection`` keeps its own).
"""

from __future__ import annotations

import math

import torch

from ..projections.base import Projection
from . import stream
from .transform import fwht, next_power_of_two


class PerTensorFastfood(Projection):
    name = "fastfood_per_tensor"

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu",
                 sizes: list[int] | None = None, legacy_gradient: bool = False):  # fmt: skip
        super().__init__(d, D, seed, device)
        self.sizes = list(sizes) if sizes is not None else [D]
        if sum(self.sizes) != D or min(self.sizes) < 1:
            raise ValueError(
                f"tensor sizes must be positive and add up to D={D}, "
                f"got {len(self.sizes)} sizes adding up to {sum(self.sizes)}"
            )
        self.legacy_gradient = legacy_gradient
        self.blocks = []
        for t, n in enumerate(self.sizes):
            LL = next_power_of_two(n)
            bits = LL.bit_length() - 1
            index = torch.arange(LL, dtype=torch.int64, device=self.device)
            block = torch.tensor([t], dtype=torch.int64, device=self.device)
            G = stream.gaussians(seed, block, index)[0]
            divisor = math.sqrt(LL * float((G.double() ** 2).sum())) * math.sqrt(n / LL)
            self.blocks.append({
                "n": n, "LL": LL, "B": stream.signs(seed, block, index)[0], "G": G,
                "Pi": stream.permutation(seed, block, index, bits)[0],
                "Pi_inv": stream.permutation(seed, block, index, bits, inverse=True)[0],
                "scale": 1.0 / divisor,
            })  # fmt: skip

    def _fit(self, x: torch.Tensor, LL: int) -> torch.Tensor:
        """theta_d as a block sees it: zero-padded or cropped to LL."""
        if self.d >= LL:
            return x[:LL]
        return torch.cat([x, x.new_zeros(LL - self.d)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = []
        for b in self.blocks:
            z = fwht(b["B"] * self._fit(x, b["LL"]))
            z = fwht(z[b["Pi"]] * b["G"])
            parts.append(z[: b["n"]] * b["scale"])
        return torch.cat(parts)

    def _block_transpose(self, b: dict, y: torch.Tensor) -> torch.Tensor:
        """P_t^T y_t, in theta_d's coordinates (the first min(d, LL_t) of them)."""
        z = y.new_zeros(b["LL"])
        z[: b["n"]] = y * b["scale"]
        z = fwht(z) * b["G"]
        z = fwht(z[b["Pi_inv"]]) * b["B"]
        return z[: min(self.d, b["LL"])]

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        return self._accumulate(y, legacy=False)

    def gradient(self, y: torch.Tensor) -> torch.Tensor:
        """What training uses for the gradient of theta_d: the transpose, or the released code's
        1/LL_t-scaled one."""
        return self._accumulate(y, legacy=self.legacy_gradient)

    def _accumulate(self, y: torch.Tensor, legacy: bool) -> torch.Tensor:
        out = y.new_zeros(self.d)
        for b, y_t in zip(self.blocks, y.split(self.sizes), strict=True):
            part = self._block_transpose(b, y_t)
            out[: part.numel()] += part / b["LL"] if legacy else part
        return out

    def state_bytes(self) -> int:
        return sum(24 * b["LL"] for b in self.blocks)
