"""A very sparse random projection (Li, Hastie and Church 2006), as in Li et al. 2018."""

from __future__ import annotations

import math
import warnings

import torch

from .base import Projection, check_fits_in_memory
from .dense import _generator


class SparseProjection(Projection):
    """Very sparse random projection (Li, Hastie and Church 2006), as in Li et al. 2018.

    Entries are sqrt(s / D) * (+1 w.p. 1/(2s), 0 w.p. 1 - 1/s, -1 w.p. 1/(2s)) with s = sqrt(D),
    so each entry has variance 1/D and E ||P x||^2 = ||x||^2. About d * sqrt(D) non-zeros are
    stored in CSR form, with the transpose kept too so that both products are fast.
    """

    name = "sparse"

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        super().__init__(d, D, seed, device)
        gen = _generator(seed)
        s = math.sqrt(D)
        total = D * d
        # The two CSR copies alone take 24 bytes a non-zero (8 of index, 4 of value, twice), and
        # the draw's positions and COO copy sit beside them at its peak: refused at less than
        # half of what the expected count needs, so a refusal is never a matrix that would fit.
        check_fits_in_memory(
            f"sparse projection of D={D:,} x d={d:,} stores about {total / s:,.0f} non-zeros,",
            24 * total / s,
        )
        nnz = int(torch.binomial(torch.tensor(float(total)), torch.tensor(1.0 / s), generator=gen))
        # Positions sampled without replacement from the D*d grid (exact for this law).
        flat = _sample_without_replacement(total, nnz, gen)
        rows, cols = flat // d, flat % d
        values = (torch.randint(0, 2, (nnz,), generator=gen) * 2 - 1).float() * math.sqrt(s / D)
        coo = torch.sparse_coo_tensor(
            torch.stack([rows, cols]), values, (D, d), check_invariants=True
        ).coalesce()
        with warnings.catch_warnings():  # CSR is flagged "beta"; its products are what we need
            warnings.simplefilter("ignore", UserWarning)
            self.matrix = coo.to_sparse_csr().to(self.device)
            self.matrix_t = coo.t().coalesce().to_sparse_csr().to(self.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.matrix @ x.unsqueeze(1)).squeeze(1)

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        return (self.matrix_t @ y.unsqueeze(1)).squeeze(1)

    def state_bytes(self) -> int:
        total = 0
        for m in (self.matrix, self.matrix_t):
            for t in (m.crow_indices(), m.col_indices(), m.values()):
                total += t.numel() * t.element_size()
        return total


def _sample_without_replacement(population: int, k: int, gen: torch.Generator) -> torch.Tensor:
    """k distinct integers from range(population), in O(k) memory for sparse draws."""
    if k == 0:
        return torch.zeros(0, dtype=torch.long)
    if population <= 4 * k:
        return torch.randperm(population, generator=gen)[:k]
    chosen = torch.unique(torch.randint(0, population, (k,), generator=gen))
    while chosen.numel() < k:
        extra = torch.randint(0, population, (k - chosen.numel(),), generator=gen)
        chosen = torch.unique(torch.cat([chosen, extra]))
    return chosen
