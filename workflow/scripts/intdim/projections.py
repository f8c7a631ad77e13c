"""Random linear maps P: R^d -> R^D used to fine-tune in a d-dimensional subspace.

Every projection implements the same small interface, so a fused GPU kernel can replace the
pure-PyTorch path without touching the subspace model:

    proj.forward(x)   -> P x     (x: (d,), result: (D,))
    proj.transpose(y) -> P^T y   (y: (D,), result: (d,))
    proj.state_bytes()           memory held by the projection's random state

and, for training, the fused forms a GPU kernel implements in one pass (the defaults here
compose the two products with elementwise PyTorch):

    proj.shifted_forward(x, base, segments, seg_scale) -> base + s * P x
    proj.scaled_transpose(g, segments, seg_scale)      -> P^T (s * g)

where s is one scale per contiguous segment of the D coordinates (the SAID lambdas).
``project(proj, x)`` and ``shift(proj, x, base, lambdas, segments)`` wrap them in autograd
functions: the gradient of P x is P^T g.

All three are normalised so that E ||P x||^2 = ||x||^2 for every x (the expectation is over the
random draw), which makes P approximately an isometry on the subspace (Li et al. 2018).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from typing import NamedTuple

import torch

from .arguments import check_dimension, check_seed

PROJECTIONS = ("fastfood", "dense", "sparse", "fastfood_per_tensor")
# Where the Fastfood products run: the PyTorch reference, the Triton kernels (GPU), the fused
# Numba kernels (CPU), or "auto": Triton on a GPU, Numba on the CPU, wherever installed.
BACKENDS = ("auto", "torch", "triton", "numba")


class Segments(NamedTuple):
    """Contiguous runs of the D coordinates that share one scale (a SAID group).

    starts: (S + 1,) int64 offsets ending with D; lengths: (S,) int64; groups: (S,) int64,
    the scale (group) index of each run. chunk_starts / chunk_lengths cut every run into
    pieces of at most CHUNK coordinates and chunks_per_segment counts them, so that per-run
    sums can be taken in parallel in a fixed order. All on the projection's device.
    """

    starts: torch.Tensor
    lengths: torch.Tensor
    groups: torch.Tensor
    chunk_starts: torch.Tensor
    chunk_lengths: torch.Tensor
    chunks_per_segment: torch.Tensor

    CHUNK = 1 << 16

    @classmethod
    def from_sizes(cls, sizes: list[int], groups: list[int], device) -> Segments:
        """Merge consecutive tensors of one group into a run."""
        lengths, run_groups = [], []
        for size, group in zip(sizes, groups, strict=True):
            if run_groups and run_groups[-1] == group:
                lengths[-1] += size
            else:
                lengths.append(size)
                run_groups.append(group)
        starts = [0]
        for length in lengths:
            starts.append(starts[-1] + length)
        chunk_starts, chunk_lengths, per_segment = [], [], []
        for start, length in zip(starts, lengths, strict=False):
            pieces = range(start, start + length, cls.CHUNK)
            chunk_starts += pieces
            chunk_lengths += [min(cls.CHUNK, start + length - p) for p in pieces]
            per_segment.append(len(pieces))
        as_tensor = lambda v: torch.tensor(v, dtype=torch.int64, device=device)  # noqa: E731
        return cls(
            *map(as_tensor, (starts, lengths, run_groups, chunk_starts, chunk_lengths)),
            as_tensor(per_segment),
        )

    def expand(self, seg_scale: torch.Tensor, total: int) -> torch.Tensor:
        """The per-coordinate scale (D,), for the elementwise reference path."""
        return torch.repeat_interleave(seg_scale, self.lengths, output_size=total)


def _generator(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same numbers on every machine and device."""
    return torch.Generator(device="cpu").manual_seed(seed)


class Projection(ABC):
    """A seeded random map from R^d to R^D."""

    name: str

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        check_dimension(d)
        check_dimension(D, "D", "parameter count")
        check_seed(seed)
        self.d, self.D, self.seed = d, D, seed
        self.device = torch.device(device)

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def transpose(self, y: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def state_bytes(self) -> int: ...

    def shifted_forward(
        self,
        x: torch.Tensor,
        base: torch.Tensor,
        segments: Segments | None = None,
        seg_scale: torch.Tensor | None = None,
        keep_px: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(base + s * P x, P x if keep_px), s the segment scales (1 when None)."""
        px = self.forward(x)
        if seg_scale is None:
            out = base + px
        else:
            out = torch.addcmul(base, segments.expand(seg_scale, self.D), px)
        return out, (px if keep_px else None)

    def scaled_transpose(
        self,
        g: torch.Tensor,
        segments: Segments | None = None,
        seg_scale: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """P^T (s * g), as the backward pass uses it (through ``gradient``)."""
        if seg_scale is not None:
            g = g * segments.expand(seg_scale, self.D)
        return self.gradient(g)

    def gradient(self, y: torch.Tensor) -> torch.Tensor:
        """What the backward pass of P x returns for an upstream g: P^T g (only the released
        scheme's legacy gradient differs, see ``fastfood.per_tensor``)."""
        return self.transpose(y)

    def segment_dots(self, a: torch.Tensor, b: torch.Tensor, segments: Segments) -> torch.Tensor:
        """(S,) sums of a * b over each segment (the SAID scales' gradient, a = g, b = P x)."""
        return torch.segment_reduce(a * b, "sum", lengths=segments.lengths)

    def materialise(self) -> torch.Tensor:
        """The dense D x d matrix (for tests and tiny models only)."""
        eye = torch.eye(self.d, dtype=torch.float32, device=self.device)
        return torch.stack([self.forward(eye[i]) for i in range(self.d)], dim=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d={self.d}, D={self.D}, seed={self.seed})"


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


def triton_available() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _classes() -> dict[str, type[Projection]]:
    # The Fastfood classes subclass Projection, so they are imported when first asked for.
    from .fastfood.per_tensor import PerTensorFastfood
    from .fastfood.reference import FastfoodProjection

    kinds = (FastfoodProjection, DenseProjection, SparseProjection, PerTensorFastfood)
    return {cls.name: cls for cls in kinds}


def make_projection(
    kind: str,
    d: int,
    D: int,
    seed: int,
    device: torch.device | str = "cpu",
    backend: str = "auto",
    sizes: list[int] | None = None,
    legacy_gradient: bool = False,
) -> Projection:
    """Build a projection by name: one of ``PROJECTIONS``.

    ``backend`` picks where Fastfood runs (``BACKENDS``): ``auto`` uses the Triton kernels on
    a CUDA device when Triton is installed, the Numba kernels on the CPU when Numba is, and
    the PyTorch reference otherwise. All compute the same products.
    """
    classes = _classes()
    if kind not in classes:
        raise ValueError(f"unknown projection {kind!r}; choose one of {', '.join(PROJECTIONS)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown projection backend {backend!r}; choose one of {BACKENDS}")
    if legacy_gradient and kind != "fastfood_per_tensor":
        raise ValueError(f"legacy_gradient is a setting of fastfood_per_tensor, not of {kind!r}")
    if kind == "fastfood":
        gpu = torch.device(device).type == "cuda"
        if backend == "triton" or (backend == "auto" and gpu and triton_available()):
            from .fastfood.kernels import TritonFastfoodProjection

            return TritonFastfoodProjection(d, D, seed, device)
        if backend == "numba" or (backend == "auto" and not gpu and numba_available()):
            from .fastfood.cpu import CpuFastfoodProjection

            return CpuFastfoodProjection(d, D, seed, device)
    if kind == "fastfood_per_tensor":  # one block per parameter tensor: it needs their sizes
        return classes[kind](d, D, seed, device, sizes=sizes, legacy_gradient=legacy_gradient)
    return classes[kind](d, D, seed, device)


class _Project(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, proj: Projection) -> torch.Tensor:
        ctx.proj = proj
        return proj.forward(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.proj.gradient(grad.contiguous()), None


def project(proj: Projection, x: torch.Tensor) -> torch.Tensor:
    """P x, differentiable in x (the backward pass is P^T g)."""
    if x.shape != (proj.d,):
        raise ValueError(f"expected a vector of shape ({proj.d},), got {tuple(x.shape)}")
    return _Project.apply(x, proj)


class _Shift(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambdas, proj, base, segments):
        ctx.proj, ctx.segments = proj, segments
        if lambdas is None:
            return proj.shifted_forward(x, base)[0]
        seg_scale = lambdas[segments.groups]
        out, px = proj.shifted_forward(x, base, segments, seg_scale, keep_px=True)
        ctx.save_for_backward(px, seg_scale)
        ctx.groups = len(lambdas)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad = grad.contiguous()
        proj, segments = ctx.proj, ctx.segments
        if segments is None:
            return proj.gradient(grad), None, None, None, None
        px, seg_scale = ctx.saved_tensors
        grad_x = grad_lambdas = None
        if ctx.needs_input_grad[0]:
            grad_x = proj.scaled_transpose(grad, segments, seg_scale)
        if ctx.needs_input_grad[1]:
            # d theta_i / d lambda_k = (P x)_i for every coordinate i of group k.
            per_segment = proj.segment_dots(grad, px, segments)
            grad_lambdas = torch.zeros(ctx.groups, dtype=grad.dtype, device=grad.device)
            grad_lambdas.index_add_(0, segments.groups, per_segment)
        return grad_x, grad_lambdas, None, None, None


def shift(
    proj: Projection,
    x: torch.Tensor,
    base: torch.Tensor,
    lambdas: torch.Tensor | None = None,
    segments: Segments | None = None,
) -> torch.Tensor:
    """theta = base + P x, or base + lambda_k (P x) on segments of group k (SAID).

    Differentiable in x and lambdas; base is a constant. One fused pass on the Triton backend.
    """
    if x.shape != (proj.d,):
        raise ValueError(f"expected a vector of shape ({proj.d},), got {tuple(x.shape)}")
    if base.shape != (proj.D,):
        raise ValueError(f"expected a base of shape ({proj.D},), got {tuple(base.shape)}")
    if (lambdas is None) != (segments is None):
        raise ValueError("lambdas and segments go together: give both or neither")
    return _Shift.apply(x, lambdas, proj, base, segments)
