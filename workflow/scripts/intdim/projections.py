"""Random linear maps P: R^d -> R^D used to fine-tune in a d-dimensional subspace.

Every projection implements the same small interface, so a fused GPU kernel can replace the
pure-PyTorch path without touching the subspace model:

    proj.forward(x)   -> P x     (x: (d,), result: (D,))
    proj.transpose(y) -> P^T y   (y: (D,), result: (d,))
    proj.state_bytes()           memory held by the projection's random state

``project(proj, x)`` wraps both in an autograd function: the gradient of P x is P^T g.

All three are normalised so that E ||P x||^2 = ||x||^2 for every x (the expectation is over the
random draw), which makes P approximately an isometry on the subspace (Li et al. 2018).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod

import torch

from .hadamard import fwht, next_power_of_two

PROJECTIONS = ("fastfood", "dense", "sparse")


def _generator(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same numbers on every machine and device."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return torch.Generator(device="cpu").manual_seed(seed)


def _check_dims(d: int, D: int) -> None:
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        raise ValueError(f"subspace dimension d must be an integer >= 1, got d={d!r}")
    if not isinstance(D, int) or isinstance(D, bool) or D < 1:
        raise ValueError(f"parameter count D must be an integer >= 1, got D={D!r}")


class Projection(ABC):
    """A seeded random map from R^d to R^D."""

    name: str

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        _check_dims(d, D)
        self.d, self.D, self.seed = d, D, seed
        self.device = torch.device(device)

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def transpose(self, y: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def state_bytes(self) -> int: ...

    def materialise(self) -> torch.Tensor:
        """The dense D x d matrix (for tests and tiny models only)."""
        eye = torch.eye(self.d, dtype=torch.float32, device=self.device)
        return torch.stack([self.forward(eye[i]) for i in range(self.d)], dim=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d={self.d}, D={self.D}, seed={self.seed})"


class FastfoodProjection(Projection):
    """Stacked Fastfood blocks P = s [V_1; V_2; ...; V_k] truncated to D rows.

    Each block is V_j = H G_j Pi_j H B_j acting on x zero-padded to LL = 2**ceil(log2 d):
    H the unnormalised LL x LL Walsh-Hadamard matrix, G_j a diagonal of N(0, 1) draws, Pi_j a
    uniformly random permutation, B_j a diagonal of random signs; k = ceil(D / LL) independent
    blocks. Normalisation: s = 1 / sqrt(D * LL). Every output coordinate of H G Pi H B x has
    expectation LL ||x||^2 over G, so E ||P x||^2 = s^2 * D * LL * ||x||^2 = ||x||^2 exactly.

    The per-block diagonals and permutations are stored, O(LL) per block: signs and Gaussians
    in float32, the permutation and its inverse in int64, 24 bytes per output coordinate. No
    D x d matrix is ever formed. Cost per product: O(D log LL).
    """

    name = "fastfood"

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        super().__init__(d, D, seed, device)
        self.LL = next_power_of_two(d)
        self.blocks = math.ceil(D / self.LL)
        gen = _generator(seed)
        shape = (self.blocks, self.LL)
        signs = torch.randint(0, 2, shape, generator=gen, dtype=torch.int8) * 2 - 1
        gauss = torch.randn(shape, generator=gen)
        perm = torch.argsort(torch.rand(shape, generator=gen), dim=1)
        scale = 1.0 / math.sqrt(D * self.LL)
        self.B = signs.to(torch.float32).to(self.device)
        # The global scale is folded into G: one multiply fewer per product.
        self.G = (gauss * scale).to(self.device)
        self.Pi = perm.to(self.device)
        # The inverse permutation, so that the transpose is a gather too (scatter is ~6x slower).
        self.Pi_inv = torch.argsort(perm, dim=1).to(self.device)

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
        z = torch.gather(z, 1, self.Pi_inv)  # Pi^T
        z = fwht(z).mul_(self.B)
        return z.sum(0)[: self.d]

    def state_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.B, self.G, self.Pi, self.Pi_inv))


class DenseProjection(Projection):
    """A dense D x d matrix with i.i.d. N(0, 1/D) entries: E ||P x||^2 = ||x||^2."""

    name = "dense"

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        super().__init__(d, D, seed, device)
        if d > D:
            raise ValueError(f"dense projection needs d <= D, got d={d} > D={D}")
        gen = _generator(seed)
        self.matrix = (torch.randn(D, d, generator=gen) / math.sqrt(D)).to(self.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.matrix @ x

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        return self.matrix.T @ y

    def state_bytes(self) -> int:
        return self.matrix.numel() * self.matrix.element_size()

    def materialise(self) -> torch.Tensor:
        return self.matrix.clone()


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


_CLASSES = {cls.name: cls for cls in (FastfoodProjection, DenseProjection, SparseProjection)}


def make_projection(
    kind: str, d: int, D: int, seed: int, device: torch.device | str = "cpu"
) -> Projection:
    """Build a projection by name: one of ``PROJECTIONS``."""
    if kind not in _CLASSES:
        raise ValueError(f"unknown projection {kind!r}; choose one of {', '.join(PROJECTIONS)}")
    return _CLASSES[kind](d, D, seed, device)


class _Project(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, proj: Projection) -> torch.Tensor:
        ctx.proj = proj
        return proj.forward(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.proj.transpose(grad.contiguous()), None


def project(proj: Projection, x: torch.Tensor) -> torch.Tensor:
    """P x, differentiable in x (the backward pass is P^T g)."""
    if x.shape != (proj.d,):
        raise ValueError(f"expected a vector of shape ({proj.d},), got {tuple(x.shape)}")
    return _Project.apply(x, proj)
