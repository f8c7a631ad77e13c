"""The Fastfood products for blocks too large for one program, in five streaming passes a
direction and no gather from global memory: Pi's rounds become sign flips and in-tile moves.

A block of LL = 2**(LB + RB) numbers is viewed as a grid of 2**LB rows of 2**RB columns,
index i = l * 2**RB + r, split where Pi's Feistel network splits its index
(``stream.feistel_split``: l the left half, r the right half). Three facts make it cheap:

* H_LL = H_high (x) H_low: H_low runs along each row (over r), H_high down each column (over l).
* Pi's rounds are XOR shifts. Round 0 and 2 move the rows of each column r by a(r) (l ^ a(r));
  rounds 1 and 3 move the columns of each row l by b(l) (r ^ b(l)). a and b hash one column or
  row index, so a program makes them for its own rows and columns only.
* An XOR shift of a transform's output is a sign flip of its input, (H u)[i ^ k] =
  H(s_k u)[i] with s_k[j] = (-1)^popcount(j & k), and an XOR shift of its input a sign flip of
  its output. Rounds 3 and 0 of the forward (0 and 3 of the transpose) become sign flips.

The gather y[i] = u[Pi(i)] applies the rounds to the data in the order 3, 2, 1, 0 (the
transpose's Pi^T in the order 0, 1, 2, 3). A column pass holds whole columns of C adjacent
columns, so it moves rows inside its own columns (rounds 0, 2), and it moves a row's columns
(rounds 1, 3) as it loads or stores whole aligned segments of C columns. A row pass holds whole
rows. The passes, for P x = H G Pi H B x and P^T g = B H Pi^T G H g:

    pass  forward                                       transpose
    1     columns: B x, H_high, round 3's signs         rows: s g (SAID), H_low
    2     rows: H_low                                   columns: round 0's signs, H_high, G,
                                                          stored by round 1's move
    3     columns: loaded by round 2's move, stored     columns: loaded by round 2's move
            by round 1's move
    4     columns: G (read where round 0 moves it),     rows: H_low, round 3's signs
            H_high, round 0's signs
    5     rows: H_low, theta = theta_0 + s * (P x)      columns: H_high, B; then the sum over
                                                          blocks, in block order

Each pass reads and writes its group's work buffer once, in whole segments, and only the first
and last touch D-sized arrays, so a direction moves about 36-40 bytes a coordinate with no
random access. The same numbers as the reference up to float32 rounding (the transforms and
the sums run in another order).
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from . import stream
from .triton_parts import (
    _GOLDEN,
    _block_index,
    _block_key,
    _gaussians,
    _hadamard,
    _load_gradient,
    _mix,
    _num_warps,
    _parity_sign,
    _signs,
    _store_theta,
    radix_factors,
)

# Largest side of the grid (rows or columns) a program holds whole: blocks up to 2**26.
FACTORED_MAX_SIDE = 1 << 13
# Elements a program of a pass holds (C columns x 2**LB rows, or rows x 2**RB columns).
FACTORED_TILE = 4096
# Elements of each of the two work buffers by default (16 MiB each): a group's intermediates,
# written and read back by the next pass, stay in the 50 MB L2 of an H100 or H200.
FACTORED_WORK_ELEMENTS = 1 << 22
# Blocks whose transposes one program of the block sum adds, in order, into one partial sum.
SUM_BLOCKS = 64
# Elements of d a program of the block sum adds.
SUM_COLUMNS = 1024


@triton.jit
def _round_shift(keys, other, R: tl.constexpr, mask):
    """Round R's XOR shift, hashed from the other half's index: a(r) for R even, b(l) odd."""
    round_key = _mix(keys + tl.cast(R * _GOLDEN % (1 << 32), tl.uint32))
    return (_mix(other.to(tl.uint32) + round_key) & mask).to(tl.int32)


@triton.jit
def _columns(
    src_ptr, dst_ptr, x_ptr, d, block0, key_b, key_g1, key_g2, key_pi, scale,
    STAGE: tl.constexpr, LB: tl.constexpr, RB: tl.constexpr, C: tl.constexpr,
    F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
    WHT: tl.constexpr,
):  # fmt: skip
    """C whole columns of one block of the group, as a (C, 2**LB) tile (a column's rows
    adjacent, for H_high). Stages: 1 forward pass 1, 3 forward pass 3, 4 forward pass 4;
    12 transpose pass 2, 13 transpose pass 3, 15 transpose pass 5 (see the module's table)."""
    NR: tl.constexpr = 1 << LB
    NC: tl.constexpr = 1 << RB
    T: tl.constexpr = C * NR
    local = tl.program_id(0)
    block = _block_index(block0, local)
    blocks = tl.zeros((1,), tl.int64) + block
    keys = _block_key(key_pi, blocks)
    c = tl.program_id(1) * C + tl.arange(0, C)[:, None]  # (C, 1)
    row = tl.arange(0, NR)[None, :]  # (1, NR)
    work = src_ptr + local.to(tl.int64) * (NR * NC)
    out = dst_ptr + local.to(tl.int64) * (NR * NC)
    i = tl.reshape(row * NC + c, (T,))  # index inside the block, tile order
    left_mask = tl.cast(NR - 1, tl.uint32)
    right_mask = tl.cast(NC - 1, tl.uint32)
    if STAGE == 1:
        y = tl.load(x_ptr + i, mask=i < d, other=0.0)
        y = y * tl.reshape(_signs(key_b, blocks, i.to(tl.uint32)), (T,))
        y = _hadamard(y, T, F0, F1, F2, F3, WHT)
        b3 = _round_shift(keys, row, 3, right_mask)  # (1, NR)
        y = y * tl.reshape(_parity_sign(c & b3), (T,))
        tl.store(out + i, y)
    elif STAGE == 3 or STAGE == 13:
        a2 = _round_shift(keys, c, 2, left_mask)  # (C, 1)
        y = tl.load(work + tl.reshape((row ^ a2) * NC + c, (T,)))
        if STAGE == 3:
            b1 = _round_shift(keys, row, 1, right_mask)
            tl.store(out + tl.reshape(row * NC + (c ^ b1), (T,)), y)
        else:
            tl.store(out + i, y)
    elif STAGE == 4:
        a0 = _round_shift(keys, c, 0, left_mask)
        moved = tl.reshape((row ^ a0) * NC + c, (T,))
        g = tl.reshape(_gaussians(key_g1, key_g2, blocks, moved.to(tl.uint32)), (T,))
        y = _hadamard(tl.load(work + i) * g * scale, T, F0, F1, F2, F3, WHT)
        y = y * tl.reshape(_parity_sign(row & a0), (T,))
        tl.store(out + i, y)
    elif STAGE == 12:
        a0 = _round_shift(keys, c, 0, left_mask)
        y = tl.load(work + i) * tl.reshape(_parity_sign(row & a0), (T,))
        y = _hadamard(y, T, F0, F1, F2, F3, WHT)
        moved = tl.reshape((row ^ a0) * NC + c, (T,))
        y = y * tl.reshape(_gaussians(key_g1, key_g2, blocks, moved.to(tl.uint32)), (T,)) * scale
        b1 = _round_shift(keys, row, 1, right_mask)
        tl.store(out + tl.reshape(row * NC + (c ^ b1), (T,)), y)
    else:  # 15
        y = _hadamard(tl.load(work + i), T, F0, F1, F2, F3, WHT)
        y = y * tl.reshape(_signs(key_b, blocks, i.to(tl.uint32)), (T,))
        tl.store(out + i, y)


@triton.jit
def _rows(
    src_ptr, dst_ptr, base_ptr, out_ptr, px_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
    D, block0, key_pi,
    STAGE: tl.constexpr, LB: tl.constexpr, RB: tl.constexpr, RR: tl.constexpr,
    F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
    HAS_BASE: tl.constexpr, HAS_SCALE: tl.constexpr, WRITE_PX: tl.constexpr,
    SEG_STEPS: tl.constexpr, WHT: tl.constexpr,
):  # fmt: skip
    """RR whole rows of one block of the group, as an (RR, 2**RB) tile. Stages: 2 forward pass
    2, 5 forward pass 5 (into out, D-sized); 11 transpose pass 1 (from src, D-sized), 14
    transpose pass 4 (see the module's table)."""
    NR: tl.constexpr = 1 << LB
    NC: tl.constexpr = 1 << RB
    T: tl.constexpr = RR * NC
    local = tl.program_id(0)
    block = _block_index(block0, local)
    row = tl.program_id(1) * RR + tl.arange(0, RR)[:, None]  # (RR, 1)
    c = tl.arange(0, NC)[None, :]  # (1, NC)
    i = tl.reshape(row * NC + c, (T,))
    work = local.to(tl.int64) * (NR * NC)
    if STAGE == 11:
        y = _load_gradient(
            src_ptr, block * (NR * NC) + i, D, seg_start_ptr, seg_scale_ptr, n_seg,
            HAS_SCALE, SEG_STEPS,
        )  # fmt: skip
    else:
        y = tl.load(src_ptr + work + i)
    y = _hadamard(y, T, F0, F1, F2, F3, WHT)
    if STAGE == 5:
        _store_theta(
            y, block * (NR * NC) + i, D, base_ptr, out_ptr, px_ptr, seg_start_ptr,
            seg_scale_ptr, n_seg, HAS_BASE, HAS_SCALE, WRITE_PX, SEG_STEPS,
        )  # fmt: skip
    else:
        if STAGE == 14:
            keys = _block_key(key_pi, tl.zeros((1,), tl.int64) + block)
            b3 = _round_shift(keys, row, 3, tl.cast(NC - 1, tl.uint32))  # (RR, 1)
            y = y * tl.reshape(_parity_sign(c & b3), (T,))
        tl.store(dst_ptr + work + i, y)


@triton.jit
def _block_sums(
    buf_ptr,
    partial_ptr,
    d,
    block_elements,
    block0,
    n_blocks,
    SUM: tl.constexpr,
    COLUMNS: tl.constexpr,
):
    """Partial sums over runs of SUM blocks (by global block index), added in block order; a
    run that an earlier group began is continued from its partial, so any grouping gives the
    bits of one group."""
    first_run = block0 // SUM
    run = first_run + tl.program_id(0)
    lo = tl.maximum(run * SUM, block0)
    hi = tl.minimum((run + 1) * SUM, block0 + n_blocks)
    cols = tl.program_id(1) * COLUMNS + tl.arange(0, COLUMNS)
    mask = cols < d
    partial = partial_ptr + run.to(tl.int64) * d + cols
    if lo > run * SUM:  # continued from the group before
        acc = tl.load(partial, mask=mask, other=0.0)
    else:
        acc = tl.zeros((COLUMNS,), tl.float32)
    for block in range(lo, hi):
        offsets = (block - block0).to(tl.int64) * block_elements + cols
        acc += tl.load(buf_ptr + offsets, mask=mask, other=0.0)
    tl.store(partial, acc, mask=mask)


def fits(bits: int) -> bool:
    """Whether a block of 2**bits numbers fits this scheme (each side at most 2**13)."""
    left, right = stream.feistel_split(bits)
    return max(left, right) <= FACTORED_MAX_SIDE.bit_length() - 1


class FactoredPasses:
    """Host side: tiles, the group's launches and the block sum, for one (d, D) layout."""

    def __init__(self, d: int, LL: int, bits: int, blocks: int, group: int):
        if not fits(bits):
            raise ValueError(f"blocks of 2**{bits} do not fit the factored passes (at most 2**26)")
        self.d, self.LL, self.blocks, self.group = d, LL, blocks, group
        self.lb, self.rb = stream.feistel_split(bits)
        rows, cols = 1 << self.lb, 1 << self.rb
        self.c = min(cols, max(1, FACTORED_TILE // rows))  # columns a column program holds
        self.rr = min(rows, max(1, FACTORED_TILE // cols))  # rows a row program holds
        F = radix_factors(rows)
        self.columns_meta = dict(
            LB=self.lb, RB=self.rb, C=self.c, F0=F[0], F1=F[1], F2=F[2], F3=F[3],
            num_warps=_num_warps(self.c * rows),
        )  # fmt: skip
        F = radix_factors(cols)
        self.rows_meta = dict(
            LB=self.lb, RB=self.rb, RR=self.rr, F0=F[0], F1=F[1], F2=F[2], F3=F[3],
            num_warps=_num_warps(self.rr * cols),
        )  # fmt: skip
        self.runs = math.ceil(blocks / SUM_BLOCKS)

    def plan(self) -> tuple:
        return ("factored", 1 << self.lb, 1 << self.rb, self.group)

    def _grid_columns(self, n_blocks):
        return (n_blocks, (1 << self.rb) // self.c)

    def _grid_rows(self, n_blocks):
        return (n_blocks, (1 << self.lb) // self.rr)

    def _column_pass(self, stage, src, dst, x, block0, n_blocks, keys, scale, wht):
        _columns[self._grid_columns(n_blocks)](
            src, dst, x, self.d, block0, scale=scale, STAGE=stage, WHT=wht,
            **keys, **self.columns_meta,
        )  # fmt: skip

    def _row_pass(self, stage, src, dst, block0, n_blocks, key_pi, wht, D, store):
        """``store``: the pointers and flags of pass 5's theta (forward) or pass 1's s g
        (transpose); ``_work_only(store)`` for the row passes that only read and write the
        work buffer."""
        _rows[self._grid_rows(n_blocks)](
            src, dst, D=D, block0=block0, key_pi=key_pi, STAGE=stage, WHT=wht,
            **store, **self.rows_meta,
        )  # fmt: skip

    def forward(self, x, work, groups, keys, scale, wht, D, store):
        """Passes 1-5 of the forward for every group; ``store`` as ``_row_pass``'s."""
        plain = _work_only(store, work[0])
        for block0, n in groups:
            self._column_pass(1, work[0], work[0], x, block0, n, keys, scale, wht)
            self._row_pass(2, work[0], work[0], block0, n, keys["key_pi"], wht, D, plain)
            self._column_pass(3, work[0], work[1], x, block0, n, keys, scale, wht)
            self._column_pass(4, work[1], work[1], x, block0, n, keys, scale, wht)
            self._row_pass(5, work[1], work[1], block0, n, keys["key_pi"], wht, D, store)

    def transpose(self, g, work, groups, keys, scale, wht, D, store):
        """Passes 1-5 of the transpose for every group, then the sums over blocks."""
        partial = torch.empty(self.runs, self.d, dtype=torch.float32, device=g.device)
        plain = _work_only(store, work[0])
        for block0, n in groups:
            self._row_pass(11, g, work[0], block0, n, keys["key_pi"], wht, D, store)
            self._column_pass(12, work[0], work[1], g, block0, n, keys, scale, wht)
            self._column_pass(13, work[1], work[0], g, block0, n, keys, scale, wht)
            self._row_pass(14, work[0], work[0], block0, n, keys["key_pi"], wht, D, plain)
            self._column_pass(15, work[0], work[0], g, block0, n, keys, scale, wht)
            runs = (block0 + n - 1) // SUM_BLOCKS - block0 // SUM_BLOCKS + 1
            _block_sums[(runs, math.ceil(self.d / SUM_COLUMNS))](
                work[0], partial, self.d, self.LL, block0, n, SUM=SUM_BLOCKS,
                COLUMNS=SUM_COLUMNS, num_warps=4,
            )  # fmt: skip
        return partial.sum(0)

    def variants(self, wht_flags):
        """(name, kernel, constexprs) of every kernel launched, for compiling ahead of time."""
        for stage in (1, 3, 4, 12, 13, 15):
            yield (
                f"factored_columns_stage{stage}",
                _columns,
                {**self.columns_meta, "STAGE": stage, **wht_flags},
            )
        for stage in (2, 5, 11, 14):
            for scaled in (False, True) if stage in (5, 11) else (False,):
                yield (
                    f"factored_rows_stage{stage}{'_said' if scaled else ''}", _rows,
                    {**self.rows_meta, "STAGE": stage, **wht_flags, "HAS_BASE": stage == 5,
                     "HAS_SCALE": scaled, "WRITE_PX": scaled and stage == 5,
                     "SEG_STEPS": 8 if scaled else 0},
                )  # fmt: skip
        yield (
            "factored_block_sums",
            _block_sums,
            {"SUM": SUM_BLOCKS, "COLUMNS": SUM_COLUMNS, "num_warps": 4},
        )


def _work_only(store: dict, work) -> dict:
    """A row pass's store arguments when it touches the work buffer only: no theta_0, no
    scale, no P x. Every unread float pointer is the work buffer, so these passes compile to
    one variant whatever the dtypes of theta_0 and g; the segment starts are never read."""
    return dict(store, base_ptr=work, out_ptr=work, px_ptr=work, seg_scale_ptr=work,
                HAS_BASE=False, HAS_SCALE=False, WRITE_PX=False, SEG_STEPS=0)  # fmt: skip
