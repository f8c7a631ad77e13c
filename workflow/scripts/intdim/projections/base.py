"""The interface of a random linear map P: R^d -> R^D (no implementation lives here).

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

Every projection is normalised so that E ||P x||^2 = ||x||^2 for every x (the expectation is
over the random draw), which makes P approximately an isometry on the subspace (Li et al. 2018).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import NamedTuple

import torch

from ..arguments import check_dimension, check_seed


def physical_memory_bytes() -> int:
    """The machine's memory (a stored projection is drawn on the CPU whatever the device)."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_fits_in_memory(what: str, needed: float) -> None:
    """Refuse, before drawing it, a projection that needs more than the machine's memory: with
    memory overcommit the job would only be killed, without a word, as the draw fills it.
    ``what`` names it and ends in the verb for ``needed`` bytes ("... needs")."""
    memory = physical_memory_bytes()
    if needed > memory:
        raise ValueError(
            f"{what} {needed / 2**30:.1f} GiB, more than this machine's "
            f"{memory / 2**30:.1f} GiB: use projection: fastfood"
        )


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


class Projection(ABC):
    """A seeded random map from R^d to R^D."""

    name: str
    # Whether the transpose reads a bf16 / fp16 gradient itself (converting as it loads), so the
    # caller need not make a float32 copy of a D-sized gradient first.
    reads_low_precision: bool = False

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
        # unsafe: no host copy of the lengths (they are ours), so a CUDA graph can record it.
        return torch.segment_reduce(a * b, "sum", lengths=segments.lengths, unsafe=True)

    def materialise(self) -> torch.Tensor:
        """The dense D x d matrix (for tests and tiny models only)."""
        eye = torch.eye(self.d, dtype=torch.float32, device=self.device)
        return torch.stack([self.forward(eye[i]) for i in range(self.d)], dim=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d={self.d}, D={self.D}, seed={self.seed})"


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
        if ctx.segments is None:
            return shift_gradients(ctx.proj, grad)[0], None, None, None, None
        px, seg_scale = ctx.saved_tensors
        grad_x, grad_lambdas = shift_gradients(
            ctx.proj, grad, ctx.segments, seg_scale, px, ctx.groups, *ctx.needs_input_grad[:2]
        )
        return grad_x, grad_lambdas, None, None, None


def shift_gradients(
    proj: Projection,
    grad: torch.Tensor,
    segments: Segments | None = None,
    seg_scale: torch.Tensor | None = None,
    px: torch.Tensor | None = None,
    groups: int = 0,
    need_x: bool = True,
    need_lambdas: bool = True,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(dL/dx, dL/dlambdas) of theta = base + s * P x, given grad = dL/dtheta (D,).

    DID (segments None): P^T g. SAID: P^T (s * g), and for each scale the dot product of g
    with P x over its group's coordinates (d theta_i / d lambda_k = (P x)_i)."""
    grad = grad.contiguous()
    if segments is None:
        return proj.gradient(grad), None
    grad_x = grad_lambdas = None
    if need_x:
        grad_x = proj.scaled_transpose(grad, segments, seg_scale)
    if need_lambdas:
        per_segment = proj.segment_dots(grad, px, segments)
        # Each scale's runs summed in one fixed order (index_add_ is atomic on CUDA, so its
        # bits would change from run to run); a scale with one run gets its dot exactly.
        owner = segments.groups[:, None] == torch.arange(groups, device=grad.device)
        grad_lambdas = torch.where(owner, per_segment[:, None], 0).sum(0)
    return grad_x, grad_lambdas


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
