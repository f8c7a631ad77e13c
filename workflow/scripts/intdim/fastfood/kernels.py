"""Triton kernels for the Fastfood projection: P x (plus theta_0) and P^T g.

Same numbers as ``FastfoodProjection`` (the PyTorch reference) without its O(D) state: B, G and
Pi are regenerated inside the kernels from (seed, block, index) by the counter-based stream
of ``stream`` (whose constants they import), and the transpose regenerates the same stream.

Schemes, chosen by the Fastfood block size LL = 2**ceil(log2 d):

* fused (LL <= ``fused_max``, 2**13 by default): one program loads x once, applies B, the
  Walsh-Hadamard transform, Pi (an on-chip gather), G and the second transform in registers,
  and writes theta = theta_0 + scale * P x straight out: one read of theta_0, one write of
  theta. The transpose reads g once and keeps a per-program partial sum of its blocks; the
  partials (a grid fixed by the problem, never by the GPU, so a fixed summation order) are
  added afterwards.
* multi-pass (larger LL, d up to 2**26 and beyond), on a group of blocks at a time
  (``work_elements``), so the two work buffers are bounded by the group, not by D:
  - "gather" (the default, below): each block as an R_out x R_in matrix (R_in =
    ``fused_max``), H_LL = H_Rout (x) H_Rin as one pass over rows and one over columns, Pi a
    gather from global memory between them: four passes a direction.
  - "factored" (``factored.py``, blocks up to 2**26): the block as a grid split where Pi's
    Feistel network splits its index; Pi's rounds become sign flips and moves inside a
    program's tile, five streaming passes a direction with no gather from memory. Slower than
    "gather" in every case measured on an H200 (docs/performance.md), so kept as a knob.

Within a tile, the Walsh-Hadamard transform is float32 butterflies by default or tensor-core
dots (``hadamard``, ``HADAMARDS``; ``triton_parts`` says why).

Under ``TRITON_INTERPRET=1`` the kernels run on the CPU (numpy), which is how the tests check
them without a GPU. Their building blocks are in ``triton_parts``.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from ..projections.base import Projection
from . import stream
from .factored import FACTORED_WORK_ELEMENTS, FactoredPasses, fits
from .triton_parts import (
    _block_index,
    _gaussians,
    _hadamard,
    _load_gradient,
    _num_warps,
    _permutation,
    _signs,
    _store_theta,
    radix_factors,
)

# Largest block kept whole in one program. 2**14 would need over 227 KB of shared memory for
# the SAID transpose on sm_90 (compile_fastfood_kernels.py reports it); 2**13 fits.
FUSED_MAX = 1 << 13
# Elements per program tile in the fused scheme when blocks are small (several blocks a tile).
TILE_ELEMENTS = 2048
# Elements a program of the segment-dot kernel loads per step.
DOT_BLOCK = 1024
# Columns a program of the gather scheme's column kernels holds: at least COLUMN_CHUNK, and
# enough for COLUMN_TILE elements when columns are short (R_out = LL / 2**13 is 2 to 16 for d
# up to 131,072: 16 columns alone would be tiles of 32 to 256 elements, under one element a
# thread, at 130 to 1,000 SASS instructions an element compiled for sm_90).
COLUMN_CHUNK = 16
COLUMN_TILE = 2048
# Programs along a launch grid's second axis, at most (CUDA's limit).
MAX_GRID_Y = 65_535
# Elements of each of the gather scheme's two work buffers (64 MB each): the passes run on
# as many whole blocks at a time as fit (at least one). D-sized buffers would cost 8 D bytes,
# more than AdamW's state; L2-sized groups (16 MB each) were slower on an H200.
WORK_ELEMENTS = 1 << 24
# The transpose's partial sums come from a fixed number of programs: the order in which the
# blocks are added depends only on the problem, never on the GPU, so results are reproducible.
TRANSPOSE_PROGRAMS = 1024
# ... and at most this many partial-sum elements (programs x LL), 16 MB.
TRANSPOSE_PARTIAL_ELEMENTS = 1 << 22
# The multi-pass schemes (see above), the default first (tools and tests read it there).
MULTI_PASS_SCHEMES = ("gather", "factored")
# How a tile's Walsh-Hadamard transform is computed (``triton_parts``), the default first:
# radix-2 butterflies, or tensor-core dots (TF32 split in two on a GPU, float32 interpreted).
HADAMARDS = ("butterfly", "dot")


# -- fused kernels (LL <= FUSED_MAX) --------------------------------------------------------------


@triton.jit
def _forward_fused(
    x_ptr, base_ptr, out_ptr, px_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
    d, D, key_b, key_g1, key_g2, key_pi, scale,
    LL: tl.constexpr, BITS: tl.constexpr, NB: tl.constexpr,
    F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
    HAS_BASE: tl.constexpr, HAS_SCALE: tl.constexpr, WRITE_PX: tl.constexpr,
    SEG_STEPS: tl.constexpr, WHT: tl.constexpr,
):  # fmt: skip
    T: tl.constexpr = NB * LL
    local = tl.arange(0, NB)
    blocks = _block_index(0, tl.program_id(0)) * NB + local
    cols = tl.arange(0, LL)
    x = tl.load(x_ptr + cols, mask=cols < d, other=0.0)
    y = _signs(key_b, blocks, cols.to(tl.uint32)) * x[None, :]
    y = _hadamard(tl.reshape(y, (T,)), T, F0, F1, F2, F3, WHT)
    pi = _permutation(key_pi, blocks, cols.to(tl.uint32), BITS, False)
    y = tl.gather(y, tl.reshape(local[:, None] * LL + pi, (T,)), 0)
    g = _gaussians(key_g1, key_g2, blocks, cols.to(tl.uint32)) * scale
    y = _hadamard(y * tl.reshape(g, (T,)), T, F0, F1, F2, F3, WHT)
    offs = tl.reshape(blocks.to(tl.int64)[:, None] * LL + cols[None, :], (T,))
    _store_theta(
        y, offs, D, base_ptr, out_ptr, px_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
        HAS_BASE, HAS_SCALE, WRITE_PX, SEG_STEPS,
    )  # fmt: skip


@triton.jit
def _transpose_fused(
    g_ptr, partial_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
    d, D, tiles_per_program, key_b, key_g1, key_g2, key_pi, scale,
    LL: tl.constexpr, BITS: tl.constexpr, NB: tl.constexpr,
    F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
    HAS_SCALE: tl.constexpr, SEG_STEPS: tl.constexpr, WHT: tl.constexpr,
):  # fmt: skip
    T: tl.constexpr = NB * LL
    pid = tl.program_id(0)
    local = tl.arange(0, NB)
    cols = tl.arange(0, LL)
    acc = tl.zeros((LL,), tl.float32)
    for t in range(tiles_per_program):
        tile = _block_index(0, pid) * tiles_per_program + t
        blocks = tile * NB + local
        offs = tl.reshape(blocks.to(tl.int64)[:, None] * LL + cols[None, :], (T,))
        # Tiles past the last block lie past D, so they load zeros.
        y = _load_gradient(
            g_ptr, offs, D, seg_start_ptr, seg_scale_ptr, n_seg, HAS_SCALE, SEG_STEPS
        )
        y = _hadamard(y, T, F0, F1, F2, F3, WHT)
        g = _gaussians(key_g1, key_g2, blocks, cols.to(tl.uint32)) * scale
        y = y * tl.reshape(g, (T,))
        pi_inv = _permutation(key_pi, blocks, cols.to(tl.uint32), BITS, True)
        y = tl.gather(y, tl.reshape(local[:, None] * LL + pi_inv, (T,)), 0)
        y = _hadamard(y, T, F0, F1, F2, F3, WHT)
        y = tl.reshape(y, (NB, LL)) * _signs(key_b, blocks, cols.to(tl.uint32))
        acc += tl.sum(y, axis=0)
    tl.store(partial_ptr + pid.to(tl.int64) * LL + cols, acc, mask=cols < d)


# -- the gather scheme (LL > FUSED_MAX): rows of R_IN in registers, columns of R_OUT ----------


@triton.jit
def _rows_pass(
    src_ptr, dst_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
    d, D, block0, key_b, key_g1, key_g2, key_pi, scale,
    STAGE: tl.constexpr, LL: tl.constexpr, BITS: tl.constexpr, R_IN: tl.constexpr,
    F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
    HAS_SCALE: tl.constexpr, SEG_STEPS: tl.constexpr, WHT: tl.constexpr,
):  # fmt: skip
    """One row (block block0 + j, row r) of R_IN elements; the work buffers hold the group's
    blocks only (block j at j * LL). Stages:
    0: H_in(B x) (forward); 1: H_in(G Pi u) (forward, u from src);
    2: H_in(scale g) (transpose); 3: H_in(Pi^T w) (transpose, w from src).
    Rows are the grid's first axis, which the GPU launches first: the programs running at
    once share one or two blocks, so the gathers of stages 1 and 3 read within those blocks
    (4 MiB at d = 1e6), which stay in L2, not across the whole group."""
    row = tl.program_id(0)
    local = tl.program_id(1)
    block = _block_index(block0, local)
    blocks = tl.zeros((1,), tl.int64) + block
    i = row * R_IN + tl.arange(0, R_IN)
    work_offs = local.to(tl.int64) * LL
    if STAGE == 0:
        y = tl.load(src_ptr + i, mask=i < d, other=0.0)
        y = tl.reshape(_signs(key_b, blocks, i.to(tl.uint32)), (R_IN,)) * y
    elif STAGE == 1:
        pi = tl.reshape(_permutation(key_pi, blocks, i.to(tl.uint32), BITS, False), (R_IN,))
        y = tl.load(src_ptr + work_offs + pi)
        y = y * tl.reshape(_gaussians(key_g1, key_g2, blocks, i.to(tl.uint32)), (R_IN,)) * scale
    elif STAGE == 2:
        offs = block.to(tl.int64) * LL + i  # g is D-sized: the block's own place
        y = _load_gradient(
            src_ptr, offs, D, seg_start_ptr, seg_scale_ptr, n_seg, HAS_SCALE, SEG_STEPS
        )
    else:
        pi_inv = tl.reshape(_permutation(key_pi, blocks, i.to(tl.uint32), BITS, True), (R_IN,))
        y = tl.load(src_ptr + work_offs + pi_inv)
    y = _hadamard(y, R_IN, F0, F1, F2, F3, WHT)
    tl.store(dst_ptr + work_offs + i, y)


@triton.jit
def _columns_pass(
    buf_ptr, base_ptr, out_ptr, px_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
    d, D, block0, n_blocks, key_b, key_g1, key_g2, key_pi, scale,
    STAGE: tl.constexpr, LL: tl.constexpr, R_IN: tl.constexpr, R_OUT: tl.constexpr,
    C: tl.constexpr, F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
    HAS_BASE: tl.constexpr, HAS_SCALE: tl.constexpr, WRITE_PX: tl.constexpr,
    ACCUMULATE: tl.constexpr, SEG_STEPS: tl.constexpr, WHT: tl.constexpr,
):  # fmt: skip
    """H_out over the columns c0..c0+C of one block of the group (block0 + j, at j * LL in
    buf), held as a (C, R_OUT) tile. Stages:
    0: in place (forward, first transform); 1: theta_0 + scale * v into out (forward);
    2: times G, in place (transpose); 3: times B, summed over the group's n_blocks blocks into
    out[:d], added to what earlier groups left there if ACCUMULATE (the same order of
    additions as one group of all blocks, so the same bits)."""
    T: tl.constexpr = C * R_OUT
    c = tl.program_id(1) * C + tl.arange(0, C)
    r = tl.arange(0, R_OUT)
    i = tl.reshape(r[None, :] * R_IN + c[:, None], (T,))  # index inside the block
    if STAGE == 3:
        if ACCUMULATE:
            acc = tl.load(out_ptr + i, mask=i < d, other=0.0)
        else:
            acc = tl.zeros((T,), tl.float32)
        for j in range(n_blocks):
            local = tl.zeros((1,), tl.int64) + j  # int64 addressing, a tensor here too
            blocks = local + block0
            y = tl.load(buf_ptr + local * LL + i)
            y = _hadamard(y, T, F0, F1, F2, F3, WHT)
            acc += y * tl.reshape(_signs(key_b, blocks, i.to(tl.uint32)), (T,))
        tl.store(out_ptr + i, acc, mask=i < d)
    else:
        local = tl.program_id(0)
        block = _block_index(block0, local)
        work_offs = local.to(tl.int64) * LL + i
        y = _hadamard(tl.load(buf_ptr + work_offs), T, F0, F1, F2, F3, WHT)
        if STAGE == 0:
            tl.store(buf_ptr + work_offs, y)
        elif STAGE == 2:
            blocks = tl.zeros((1,), tl.int64) + block
            g = tl.reshape(_gaussians(key_g1, key_g2, blocks, i.to(tl.uint32)), (T,))
            tl.store(buf_ptr + work_offs, y * g * scale)
        else:
            _store_theta(
                y, block.to(tl.int64) * LL + i, D, base_ptr, out_ptr, px_ptr, seg_start_ptr,
                seg_scale_ptr, n_seg, HAS_BASE, HAS_SCALE, WRITE_PX, SEG_STEPS,
            )  # fmt: skip


@triton.jit
def _chunk_dots(a_ptr, b_ptr, chunk_start_ptr, chunk_length_ptr, out_ptr, BLOCK: tl.constexpr):
    """One program per chunk: the sum of a * b over it (a fixed order, so reproducible)."""
    chunk = tl.program_id(0)
    start = tl.load(chunk_start_ptr + chunk)
    length = tl.load(chunk_length_ptr + chunk)
    acc = tl.zeros((BLOCK,), tl.float32)
    for offset in range(0, length, BLOCK):
        i = offset + tl.arange(0, BLOCK)
        mask = i < length
        a = tl.load(a_ptr + start + i, mask=mask, other=0.0).to(tl.float32)
        acc += a * tl.load(b_ptr + start + i, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + chunk, tl.sum(acc, axis=0))


# -- host side ------------------------------------------------------------------------------------

# Gradient dtypes the transpose kernels load as they are (converting to float32 in registers).
LOW_PRECISION_READS = (torch.float32, torch.bfloat16, torch.float16)


def interpreting() -> bool:
    import os

    return os.environ.get("TRITON_INTERPRET", "0") == "1"


class FastfoodKernels:
    """Launches the kernels for one (d, D, seed); holds no random state, only the keys."""

    def __init__(
        self,
        d: int,
        D: int,
        seed: int,
        fused_max: int = FUSED_MAX,
        tile_elements: int = TILE_ELEMENTS,
        work_elements: int | None = None,
        multi_pass: str = MULTI_PASS_SCHEMES[0],
        hadamard: str = HADAMARDS[0],
    ):
        if multi_pass not in MULTI_PASS_SCHEMES:
            raise ValueError(f"multi_pass must be one of {MULTI_PASS_SCHEMES}, got {multi_pass!r}")
        if hadamard not in HADAMARDS:
            raise ValueError(f"hadamard must be one of {HADAMARDS}, got {hadamard!r}")
        if fused_max < 16 or fused_max & (fused_max - 1):
            raise ValueError(f"fused_max must be a power of two >= 16, got {fused_max}")
        if tile_elements < 1 or tile_elements & (tile_elements - 1):
            raise ValueError(f"tile_elements must be a power of two, got {tile_elements}")
        if work_elements is not None and work_elements < 1:
            raise ValueError(f"work_elements must be >= 1, got {work_elements}")
        self.d, self.D, self.seed = d, D, seed
        self.LL, self.bits, self.blocks, self.scale = stream.layout(d, D)
        self.keys = dict(
            key_b=stream.stream_key(seed, "B"),
            key_g1=stream.stream_key(seed, "G1"),
            key_g2=stream.stream_key(seed, "G2"),
            key_pi=stream.stream_key(seed, "PI"),
        )
        self.fused = self.LL <= fused_max
        self.hadamard = hadamard
        # The kernels' WHT mode as compiled for a GPU, and as launched here.
        self.gpu_wht = "butterfly" if hadamard == "butterfly" else "dot_tf32x2"
        self.wht = "dot_ieee" if self.gpu_wht == "dot_tf32x2" and interpreting() else self.gpu_wht
        # Compile-time parameters of each kernel (shapes, factor plans, warps).
        if self.fused:
            self.nb = max(1, tile_elements // self.LL)
            self.tiles = math.ceil(self.blocks / self.nb)
            F0, F1, F2, F3 = radix_factors(self.LL)
            self.fused_meta = dict(
                LL=self.LL, BITS=self.bits, NB=self.nb, F0=F0, F1=F1, F2=F2, F3=F3,
                num_warps=_num_warps(self.nb * self.LL),
            )  # fmt: skip
        else:
            self.r_in, self.r_out = fused_max, self.LL // fused_max
            factored = multi_pass == "factored" and fits(self.bits)
            if work_elements is None:
                work_elements = FACTORED_WORK_ELEMENTS if factored else WORK_ELEMENTS
            # Blocks per group of the passes: as many as the work buffers hold, at least one,
            # at most a grid's second axis.
            self.group = min(self.blocks, max(1, work_elements // self.LL), MAX_GRID_Y)
            self.factored = None
            if factored:
                self.factored = FactoredPasses(d, self.LL, self.bits, self.blocks, self.group)
            self.chunk = min(self.r_in, max(COLUMN_CHUNK, COLUMN_TILE // self.r_out))
            F0, F1, F2, F3 = radix_factors(self.r_in)
            self.rows_meta = dict(
                LL=self.LL, BITS=self.bits, R_IN=self.r_in, F0=F0, F1=F1, F2=F2, F3=F3,
                num_warps=_num_warps(self.r_in),
            )  # fmt: skip
            F0, F1, F2, F3 = radix_factors(self.r_out)
            self.columns_meta = dict(
                LL=self.LL, R_IN=self.r_in, R_OUT=self.r_out, C=self.chunk,
                F0=F0, F1=F1, F2=F2, F3=F3, num_warps=_num_warps(self.chunk * self.r_out),
            )  # fmt: skip

    def segment_dots(self, a, b, segments):
        """Per-segment sums of a * b: one read of each, in chunks of at most Segments.CHUNK."""
        partial = torch.empty(len(segments.chunk_starts), dtype=torch.float32, device=a.device)
        _chunk_dots[(len(partial),)](
            a.contiguous(), b.contiguous(), segments.chunk_starts, segments.chunk_lengths,
            partial, BLOCK=DOT_BLOCK, num_warps=4,
        )  # fmt: skip
        # unsafe: the lengths are the Segments' own; the check would copy them to the host,
        # which a step recorded as a CUDA graph cannot do.
        return torch.segment_reduce(
            partial, "sum", lengths=segments.chunks_per_segment, unsafe=True
        )

    def variants(self):
        """(name, kernel, constexprs with num_warps) of every kernel this instance launches,
        for compiling them ahead of time (``tools/compile_fastfood_kernels.py``)."""
        flags = [dict(HAS_SCALE=False, SEG_STEPS=0), dict(HAS_SCALE=True, SEG_STEPS=8)]
        wht = dict(WHT=self.gpu_wht)
        yield "chunk_dots", _chunk_dots, {"BLOCK": DOT_BLOCK, "num_warps": 4}
        if self.fused:
            for f in flags:
                scaled = f["HAS_SCALE"]
                yield (
                    f"forward_fused{'_said' if scaled else ''}", _forward_fused,
                    {**self.fused_meta, **f, **wht, "HAS_BASE": True, "WRITE_PX": scaled},
                )  # fmt: skip
                yield (
                    f"transpose_fused{'_said' if scaled else ''}", _transpose_fused,
                    {**self.fused_meta, **f, **wht},
                )  # fmt: skip
            return
        if self.factored is not None:
            yield from self.factored.variants(wht)
            return
        for stage in range(4):
            for f in flags[:1] if stage != 2 else flags:
                yield (
                    f"rows_stage{stage}{'_said' if f['HAS_SCALE'] else ''}", _rows_pass,
                    {**self.rows_meta, **f, **wht, "STAGE": stage},
                )  # fmt: skip
            for f in flags[:1] if stage != 1 else flags:
                scaled = f["HAS_SCALE"]
                for accumulate in (False, True) if stage == 3 else (False,):
                    yield (
                        f"columns_stage{stage}{'_said' if scaled else ''}"
                        f"{'_accumulate' if accumulate else ''}", _columns_pass,
                        {**self.columns_meta, **f, **wht, "STAGE": stage,
                         "HAS_BASE": stage == 1, "WRITE_PX": scaled, "ACCUMULATE": accumulate},
                    )  # fmt: skip

    # -- segments: the SAID scale of each contiguous run of parameters ----------------------------

    @staticmethod
    def _segments(x: torch.Tensor, segments, seg_scale):
        if seg_scale is None:
            dummy = torch.zeros(1, dtype=torch.int64, device=x.device)
            return dict(seg_start_ptr=dummy, seg_scale_ptr=x, n_seg=1), False, 0
        n_seg = len(seg_scale)
        steps = max(1, math.ceil(math.log2(n_seg + 1)))
        return (
            dict(seg_start_ptr=segments.starts, seg_scale_ptr=seg_scale, n_seg=n_seg),
            True,
            steps,
        )

    # -- P x, optionally theta_0 + scale * P x ----------------------------------------------------

    def forward(self, x, base=None, segments=None, seg_scale=None, keep_px=False):
        """theta = base + s * P x (base and s optional); returns (theta, P x or None)."""
        x = x.contiguous().float()
        # theta in the base's dtype: a bf16 theta_0 gives a bf16 theta, with no float32 copy.
        dtype = base.dtype if base is not None else torch.float32
        out = torch.empty(self.D, dtype=dtype, device=x.device)
        px = torch.empty(self.D, dtype=torch.float32, device=x.device) if keep_px else out
        seg, has_scale, steps = self._segments(x, segments, seg_scale)
        common = dict(d=self.d, D=self.D, scale=self.scale, **self.keys, **seg)
        flags = dict(HAS_SCALE=has_scale, SEG_STEPS=steps, WHT=self.wht)
        base_ptr = base if base is not None else out
        if self.fused:
            _forward_fused[(self.tiles,)](
                x, base_ptr, out, px, HAS_BASE=base is not None, WRITE_PX=keep_px,
                **self.fused_meta, **common, **flags,
            )  # fmt: skip
            return out, (px if keep_px else None)
        work = self._work(x.device)
        if self.factored is not None:
            store = dict(base_ptr=base_ptr, out_ptr=out, px_ptr=px, **seg,
                         HAS_BASE=base is not None, HAS_SCALE=has_scale, WRITE_PX=keep_px,
                         SEG_STEPS=steps)  # fmt: skip
            self.factored.forward(x, work, self._groups(), self.keys, self.scale,
                                  self.wht, self.D, store)  # fmt: skip
            return out, (px if keep_px else None)
        for group in self._groups():
            self._rows(x, work[0], 0, group, common, flags)
            self._columns(work[0], None, None, None, 0, group, common, flags)
            self._rows(work[0], work[1], 1, group, common, flags)
            self._columns(
                work[1], base_ptr, out, px, 1, group, common, flags, keep_px, base is not None
            )
        return out, (px if keep_px else None)

    # -- P^T (s * g) ------------------------------------------------------------------------------

    def transpose(self, g, segments=None, seg_scale=None):
        g = g.contiguous()
        if g.dtype not in LOW_PRECISION_READS:
            g = g.float()
        seg, has_scale, steps = self._segments(g, segments, seg_scale)
        common = dict(d=self.d, D=self.D, scale=self.scale, **self.keys, **seg)
        flags = dict(HAS_SCALE=has_scale, SEG_STEPS=steps, WHT=self.wht)
        if self.fused:
            cap = max(1, TRANSPOSE_PARTIAL_ELEMENTS // self.LL)
            programs = min(self.tiles, TRANSPOSE_PROGRAMS, cap)
            per_program = math.ceil(self.tiles / programs)
            # Every program writes its whole row (the first d columns, all that is summed).
            partial = torch.empty(programs, self.LL, dtype=torch.float32, device=g.device)
            _transpose_fused[(programs,)](
                g, partial, tiles_per_program=per_program, **self.fused_meta, **common, **flags
            )
            return partial[:, : self.d].sum(0)
        work = self._work(g.device)
        if self.factored is not None:
            store = dict(base_ptr=g, out_ptr=g, px_ptr=g, **seg, HAS_BASE=False,
                         HAS_SCALE=has_scale, WRITE_PX=False, SEG_STEPS=steps)  # fmt: skip
            return self.factored.transpose(g, work, self._groups(), self.keys, self.scale,
                                           self.wht, self.D, store)  # fmt: skip
        out = torch.empty(self.d, dtype=torch.float32, device=g.device)
        for group in self._groups():
            self._rows(g, work[0], 2, group, common, flags)
            self._columns(work[0], None, None, None, 2, group, common, flags)
            self._rows(work[0], work[1], 3, group, common, flags)
            self._columns(work[1], None, out, None, 3, group, common, flags)
        return out

    # -- the multi-pass scheme, one group of blocks at a time -----------------------------------

    def plan(self) -> tuple:
        """What the knobs decide for this (d, D): ("fused", blocks a tile), ("factored", rows,
        columns, blocks a group) or ("gather", R_in, blocks a group), then the Hadamard. Two
        instances with one plan launch the same kernels."""
        if self.fused:
            scheme = ("fused", self.nb)
        elif self.factored is not None:
            scheme = self.factored.plan()
        else:
            scheme = ("gather", self.r_in, self.group)
        return (*scheme, self.hadamard)

    def work_bytes(self) -> int:
        """Bytes of the multi-pass scheme's two work buffers (0 for the fused scheme)."""
        return 0 if self.fused else 2 * self.group * self.LL * 4

    def _work(self, device):
        return torch.empty(2, self.group * self.LL, dtype=torch.float32, device=device)

    def _groups(self):
        """(first block, number of blocks) of each group, in order."""
        for block0 in range(0, self.blocks, self.group):
            yield block0, min(self.group, self.blocks - block0)

    def _rows(self, src, dst, stage, group, common, flags):
        block0, n_blocks = group
        _rows_pass[(self.r_out, n_blocks)](
            src, dst, block0=block0, STAGE=stage, **self.rows_meta, **common, **flags
        )

    def _columns(self, buf, base, out, px, stage, group, common, flags, keep_px=False,
                 has_base=False):  # fmt: skip
        block0, n_blocks = group
        grid = (1 if stage == 3 else n_blocks, self.r_in // self.chunk)
        _columns_pass[grid](
            buf, base if base is not None else buf, out if out is not None else buf,
            px if px is not None else buf, block0=block0, n_blocks=n_blocks, STAGE=stage,
            HAS_BASE=has_base, WRITE_PX=keep_px, ACCUMULATE=stage == 3 and block0 > 0,
            **self.columns_meta, **common, **flags,
        )  # fmt: skip


class TritonFastfoodProjection(Projection):
    """The same Fastfood transform as ``FastfoodProjection``, computed by fused Triton kernels
    that regenerate B, G and Pi on the fly: no O(D) state (the kernels above)."""

    name = "fastfood"
    reads_low_precision = True

    def __init__(
        self, d: int, D: int, seed: int, device: torch.device | str = "cuda", **knobs: int
    ):
        """``knobs``: ``fused_max``, ``tile_elements``, ``work_elements``, ``multi_pass``,
        ``hadamard`` of ``FastfoodKernels`` (speed only: every setting gives the same products
        up to float32 rounding)."""
        super().__init__(d, D, seed, device)
        self.kernels = FastfoodKernels(d, D, seed, **knobs)
        self.LL, self.blocks = self.kernels.LL, self.kernels.blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.kernels.forward(x)[0]

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        return self.kernels.transpose(y)

    def shifted_forward(self, x, base, segments=None, seg_scale=None, keep_px=False):
        return self.kernels.forward(x, base, segments, seg_scale, keep_px)

    def scaled_transpose(self, g, segments=None, seg_scale=None):
        return self.kernels.transpose(g, segments, seg_scale)

    def segment_dots(self, a, b, segments):
        return self.kernels.segment_dots(a, b, segments)

    def state_bytes(self) -> int:
        return 0
