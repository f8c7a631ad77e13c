"""The Fastfood products on the CPU, fused per block (Numba): the backend CPU training uses.

The reference (``reference``) makes a pass over all D coordinates for every step of a block
(B, each factor of H, Pi, G, H again) and applies H as dense H_64 / H_128 matrix products:
about 60x the time of copying D floats. Here one block of LL numbers goes through all of
H G Pi H B while it sits in L1/L2, H is an in-place butterfly in explicit vectors (``simd``),
and D-sized memory is touched once: the forward writes theta = theta_0 + P x
straight into its output, the transpose reads g once.

Same B, G and Pi as the reference, from the same counter-based stream (``stream``): B and Pi
are bit-identical, G agrees to float32 rounding (libm's log and cos against PyTorch's), so
the products equal the reference's to float32 rounding and a task file trained with one
backend evaluates the same with the other. The state: G (scale folded in) as float32, Pi as
uint16 (int32 for d > 65,536), B as int8 signs for the d coordinates it ever multiplies, and
for the transpose Pi's inverse and G in that order, so that both directions gather: 13 bytes
per output coordinate against the reference's 24.

Blocks of up to 16 numbers (d <= 16, or SAID at a d little above its number of scales) go 64
blocks at a time instead, each block a column of one array (``_forward_small``): there the
vector path's fixed cost a block is most of the time. Same arithmetic in the same order, so
the same bits.

Numba compiles these functions the first time they run and caches the machine code next to
this file (``cache=True``); ``make setup`` runs ``warm_up()`` so that no job compiles. Numba
checks a cached function against its own file only, so a change to ``simd.py`` or
``stream.py``, whose code is compiled into these, empties their cache on the next import.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba
import numpy as np
import torch

from ..projections.base import Projection, Segments
from . import stream
from .machine_code import drop_stale_machine_code
from .simd import (
    fwht_inplace,
    gather_fwht,
    scaled_fwht,
    shifted_store,
    signed_fwht,
    store_fence,
)

_JIT = dict(cache=True, nogil=True, boundscheck=False, error_model="numpy")
_MASK = np.uint64(0xFFFFFFFF)
_NO_VALUES = np.empty(0, np.float32)
_NO_STARTS = np.zeros(1, np.int64)
STAGED = 4096  # numbers of theta the forward streams out together (16 KiB, in L1)


# -- the products --------------------------------------------------------------------------------


@numba.njit(**_JIT)
def _segment_run(starts, values, i, stop, k):
    """(scale, segment, end) of the run of coordinates i, ..., end - 1 (end <= stop) that
    share coordinate i's scale, walking forward from segment k; one run of scale 1 up to
    ``stop`` when there are no segments (``values`` empty)."""
    if values.shape[0] == 0:
        return np.float32(1.0), k, stop
    while starts[k + 1] <= i:
        k += 1
    return values[k], k, min(stop, starts[k + 1])


@numba.njit(**_JIT)
def _scaled_copy(y, start, stop, starts, values, k, out):
    """out[: stop - start] = s * y[start:stop], s per coordinate's segment as in ``_forward``,
    walking forward from segment k; returns the segment reached."""
    i = start
    while i < stop:
        s, k, end = _segment_run(starts, values, i, stop, k)
        for t in range(i, end):
            out[t - start] = s * y[t]
        i = end
    return k


@numba.njit(**_JIT)
def _forward(x, B, G, Pi, base, starts, values, px_out, out):
    """out = base + s * P x block by block, s the scale of each coordinate's segment
    (``starts`` (S + 1,) offsets, ``values`` (S,) scales; s = 1 when ``values`` is empty) and
    base 0 when empty; px_out, when not empty, receives P x (SAID's backward needs it). out
    must be aligned to 64 bytes when base is given (``_output`` aligns it)."""
    blocks, LL = G.shape
    D = out.shape[0]
    buf = np.empty(LL, np.float32)
    # P x of the last few blocks, streamed out together once STAGED numbers are in: streamed
    # block by block, blocks of 128 took a d = 100 forward 0.13 s against 0.08 (the Xeon).
    per = max(1, STAGED // LL)
    staged = np.empty(per * LL, np.float32)
    keep = px_out.shape[0] > 0
    has_base = base.shape[0] > 0
    k = 0
    for j in range(blocks):
        signed_fwht(x, B[j], buf)
        # Asks for the next block of base; with no base (forward alone) those prefetches go
        # nowhere useful, and harmlessly: a prefetch never faults.
        at = j % per * LL
        gather_fwht(buf, Pi[j], G[j], staged, at, base, (j + 1) * LL)
        if at + LL < staged.shape[0] and j < blocks - 1:
            continue
        start = j * LL - at
        stop = min(j * LL + LL, D)
        if keep:
            px_out[start:stop] = staged[: stop - start]
        i = start
        while i < stop:  # one segment (one scale) at a time, so the inner loop vectorises
            s, k, end = _segment_run(starts, values, i, stop, k)
            if has_base:
                shifted_store(out, base, staged, s, i, end, i - start)
            else:
                o, src = out[i:end], staged[i - start : end - start]
                for t in range(end - i):
                    o[t] = s * src[t]
            i = end
    store_fence()


@numba.njit(**_JIT)
def _transpose(y, B, G_inverse, Pi_inverse, starts, values, acc):
    """acc = P^T (s * y), s per coordinate's segment as in ``_forward``. Pi^T G as a gather
    with Pi's inverse and G in its order (a scatter with Pi took twice as long)."""
    d = acc.shape[0]
    blocks, LL = G_inverse.shape
    D = y.shape[0]
    buf = np.empty(LL, np.float32)
    tmp = np.empty(LL, np.float32)
    acc[:] = 0.0
    k = 0
    for j in range(blocks):
        start = j * LL
        stop = min(start + LL, D)
        s, k, end = _segment_run(starts, values, start, stop, k)
        if end - start == LL:  # a whole block of one scale: most of them
            scaled_fwht(y, start, s, buf)
        else:
            k = _scaled_copy(y, start, stop, starts, values, k, buf)
            buf[stop - start :] = 0.0
            fwht_inplace(buf)
        gather_fwht(buf, Pi_inverse[j], G_inverse[j], tmp, 0, y, (j + 1) * LL)
        signs = B[j]
        for i in range(d):
            acc[i] += signs[i] * tmp[i]


# Blocks of at most this many numbers (d <= 16) go through ``_forward_small`` and
# ``_transpose_small``. Forward + transpose on MiniLM's D, batched against the vector path
# (docs/performance.md, "Where the batched path stops paying"): at LL = 16 the batched path
# takes 0.11 s against 0.28 on one Xeon, 0.17 against 0.36 on another and ties on a Zen 4
# EPYC; at LL = 32 it wins by 0.03 s on the first Xeon, ties on the second and loses by 0.07
# on the EPYC (0.16 against 0.095). 16 costs least over the three.
SMALL_BLOCK = 16
# Blocks the small path transforms together, one to a vector lane: a block's butterfly alone
# has at most 32 pairs a stage, too few to fill vectors, while the same pair of many blocks is
# one contiguous row. 32 and 128 took the same time.
SMALL_BATCH = 64


@numba.njit(**_JIT)
def _butterfly_columns(a):
    """The radix-2 butterfly down each column of a (LL, SMALL_BATCH): for every block (column)
    the additions of the vector butterfly (``simd``), in its order, so the same bits; across
    blocks, one row of lanes at a time. Every column is transformed, used or not."""
    n, width, h = a.shape[0], a.shape[1], 1
    while h < n:
        for i in range(0, n, 2 * h):
            for j in range(i, i + h):
                top, bottom = a[j], a[j + h]
                for b in range(width):
                    u, v = top[b], bottom[b]
                    top[b], bottom[b] = u + v, u - v
        h *= 2


@numba.njit(**_JIT)
def _gather_columns(buf, Pi, G, j0, nb, tmp):
    """tmp[:, b] = G_j * buf[Pi_j, b] for the nb blocks j = j0 + b: Pi's gather, per block."""
    LL = buf.shape[0]
    for i in range(LL):
        out = tmp[i]
        for b in range(nb):
            out[b] = buf[Pi[j0 + b, i], b] * G[j0 + b, i]


@numba.njit(**_JIT)
def _forward_small(x, B, G, Pi, base, starts, values, px_out, out):
    """``_forward`` for blocks of at most SMALL_BLOCK numbers (SAID at a small d projects to a
    few numbers): SMALL_BATCH blocks at a time, each a column of one (LL, SMALL_BATCH) array,
    with none of the vector path's slices and calls, whose fixed cost (about 0.4 us a block)
    made d = 10 take seven times d = 1,000's time. The same products in the same order, so
    the same bits."""
    blocks, LL = G.shape
    d, D = x.shape[0], out.shape[0]
    buf = np.zeros((LL, SMALL_BATCH), np.float32)
    tmp = np.zeros((LL, SMALL_BATCH), np.float32)
    row = np.empty(LL * SMALL_BATCH, np.float32)  # the batch's blocks back in their order
    keep = px_out.shape[0] > 0
    has_base = base.shape[0] > 0
    k = 0
    for j0 in range(0, blocks, SMALL_BATCH):
        nb = min(SMALL_BATCH, blocks - j0)
        for i in range(d):  # row by row: contiguous stores, and B's strided reads stay in L1
            xi, lanes = x[i], buf[i]
            for b in range(nb):
                lanes[b] = B[j0 + b, i] * xi
        buf[d:] = 0.0  # the butterfly filled these rows for the previous batch
        _butterfly_columns(buf)
        _gather_columns(buf, Pi, G, j0, nb, tmp)
        _butterfly_columns(tmp)
        for i in range(LL):
            lanes = tmp[i]
            for b in range(nb):
                row[b * LL + i] = lanes[b]
        lo = j0 * LL
        hi = min(lo + nb * LL, D)
        if keep:
            px_out[lo:hi] = row[: hi - lo]
        # ``_forward``'s write-out, inline: a helper called once a batch took a d = 2 forward
        # (blocks of two numbers) from 0.06 to 0.13 s.
        i = lo
        while i < hi:  # one scale at a time, base + s * P x streamed out
            s, k, end = _segment_run(starts, values, i, hi, k)
            if has_base:
                shifted_store(out, base, row, s, i, end, i - lo)
            else:
                for t in range(i, end):
                    out[t] = s * row[t - lo]
            i = end
    store_fence()


@numba.njit(**_JIT)
def _transpose_small(y, B, G_inverse, Pi_inverse, starts, values, acc):
    """``_transpose`` for blocks of at most SMALL_BLOCK numbers, batched as ``_forward_small``;
    acc sums the blocks in their order, so the same bits."""
    d = acc.shape[0]
    blocks, LL = G_inverse.shape
    D = y.shape[0]
    buf = np.zeros((LL, SMALL_BATCH), np.float32)
    tmp = np.zeros((LL, SMALL_BATCH), np.float32)
    acc[:] = 0.0
    k = 0
    for j0 in range(0, blocks, SMALL_BATCH):
        nb = min(SMALL_BATCH, blocks - j0)
        lo = j0 * LL
        hi = min(lo + nb * LL, D)
        s, k, end = _segment_run(starts, values, lo, hi, k)
        if end == hi == lo + nb * LL:  # whole blocks of one scale (most batches): row by row
            for i in range(LL):
                lanes = buf[i]
                for b in range(nb):
                    lanes[b] = s * y[lo + b * LL + i]
        else:
            for b in range(nb):  # block by block, into its column
                start = (j0 + b) * LL
                stop = min(start + LL, D)
                k = _scaled_copy(y, start, stop, starts, values, k, buf[:, b])
                buf[stop - start :, b] = 0.0
        _butterfly_columns(buf)
        _gather_columns(buf, Pi_inverse, G_inverse, j0, nb, tmp)
        _butterfly_columns(tmp)
        for b in range(nb):
            signs = B[j0 + b]
            for i in range(d):
                acc[i] += signs[i] * tmp[i, b]


@numba.njit(**_JIT)
def _invert(G, Pi, G_inverse, Pi_inverse):
    """Pi_inverse[j, Pi[j, i]] = i and G_inverse[j, k] = G[j, Pi_inverse[j, k]]."""
    blocks, LL = G.shape
    for j in range(blocks):
        for i in range(LL):
            Pi_inverse[j, Pi[j, i]] = i
            G_inverse[j, Pi[j, i]] = G[j, i]


@numba.njit(**_JIT)
def _segment_dots(a, b, starts, out):
    """out[k] = sum of a * b over segment k, in float64 (one pass, no D-sized temporary)."""
    for k in range(out.shape[0]):
        total = 0.0
        for i in range(starts[k], starts[k + 1]):
            total += np.float64(a[i]) * np.float64(b[i])
        out[k] = total


# -- the stream, generated here (the same arithmetic as ``stream``) -------------------------------


@numba.njit(**_JIT)
def _mix32(x):
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(stream.MIX_MUL1)) & _MASK
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(stream.MIX_MUL2)) & _MASK
    return x ^ (x >> np.uint64(15))


@numba.njit(**_JIT)
def _hashed(key, i):
    return _mix32((_mix32(i ^ key) + key) & _MASK)


@numba.njit(**_JIT)
def _generate(keys_B, keys_G1, keys_G2, keys_Pi, bits, d, scale, B, G, Pi):
    """B (blocks, d) int8, G (blocks, LL) float32 times ``scale``, Pi (blocks, LL) integers."""
    blocks, LL = G.shape
    right_bits = bits - bits // 2
    left_mask = np.uint64((1 << (bits // 2)) - 1)
    right_mask = np.uint64((1 << right_bits) - 1)
    shift = np.uint64(right_bits)
    s = np.float32(scale)
    round_keys = np.empty(stream.FEISTEL_ROUNDS, np.uint64)
    for j in range(blocks):
        kb, k1, k2 = keys_B[j], keys_G1[j], keys_G2[j]
        for i in range(d):
            B[j, i] = 1 - 2 * np.int8(_hashed(kb, np.uint64(i)) >> np.uint64(31))
        for i in range(LL):
            h1 = _hashed(k1, np.uint64(i))
            h2 = _hashed(k2, np.uint64(i))
            u1 = np.float32((h1 >> np.uint64(stream.UNIFORM_SHIFT)) + np.uint64(1)) * np.float32(
                stream.UNIFORM_SCALE
            )
            u2 = np.float32(h2 >> np.uint64(stream.UNIFORM_SHIFT)) * np.float32(
                stream.UNIFORM_SCALE
            )
            radius = np.sqrt(np.float32(-2.0) * np.log(u1))
            G[j, i] = radius * np.cos(np.float32(stream.TWO_PI) * u2) * s
        for r in range(stream.FEISTEL_ROUNDS):
            round_keys[r] = _mix32((keys_Pi[j] + np.uint64(r * stream.GOLDEN)) & _MASK)
        for i in range(LL):
            left = (np.uint64(i) >> shift) & left_mask
            right = np.uint64(i) & right_mask
            for r in range(stream.FEISTEL_ROUNDS):
                if r % 2 == 0:
                    left = left ^ (_mix32((right + round_keys[r]) & _MASK) & left_mask)
                else:
                    right = right ^ (_mix32((left + round_keys[r]) & _MASK) & right_mask)
            Pi[j, i] = (left << shift) | right


@numba.njit(**_JIT)
def _keys(key, blocks):
    """``stream.block_keys`` for blocks 0, ..., blocks - 1 (here, not in PyTorch: SAID at a
    small d has millions of blocks of two numbers, whose keys took PyTorch 7 s)."""
    out = np.empty(blocks, np.uint64)
    for j in range(blocks):
        out[j] = _mix32((key + _mix32(np.uint64(j))) & _MASK)
    return out


def _block_keys(seed: int, name: str, blocks: int) -> np.ndarray:
    return _keys(np.uint64(stream.stream_key(seed, name)), blocks)


# -- the cache of machine code -------------------------------------------------------------------

# The modules whose code Numba compiles into this one's functions (simd's vectors, stream's
# constants): a change to either alone empties this module's cache.
_COMPILED_IN = tuple(Path(__file__).parent / n for n in ("simd.py", "stream.py"))
drop_stale_machine_code(globals(), _COMPILED_IN)


# -- the projection ------------------------------------------------------------------------------


class CpuFastfoodProjection(Projection):
    """``FastfoodProjection``'s products, fused per block on the CPU (see the module docstring).

    Same normalisation, stream and layout as the reference: P = s [V_1; ...], V_j =
    H G_j Pi_j H B_j on blocks of LL = 2**ceil(log2 d), s = 1 / sqrt(D LL) folded into G.
    """

    name = "fastfood"

    def __init__(self, d: int, D: int, seed: int, device: torch.device | str = "cpu"):
        super().__init__(d, D, seed, device)
        if self.device.type != "cpu":
            raise ValueError(f"the Numba Fastfood runs on the CPU, not on {self.device}")
        self.LL, self.bits, self.blocks, self.scale = stream.layout(d, D)
        keys = [_block_keys(seed, s, self.blocks) for s in ("B", "G1", "G2", "PI")]
        self.B = np.empty((self.blocks, d), np.int8)
        self.G = np.empty((self.blocks, self.LL), np.float32)
        # Pi in 16 bits while a block fits them (LL <= 65,536: d <= 65,536): the products read
        # the state once a step, so its size is part of their time.
        index = np.uint16 if self.LL <= 1 << 16 else np.int32
        self.Pi = np.empty((self.blocks, self.LL), index)
        _generate(*keys, self.bits, d, self.scale, self.B, self.G, self.Pi)
        self.Pi_inverse = np.empty_like(self.Pi)
        self.G_inverse = np.empty_like(self.G)
        _invert(self.G, self.Pi, self.G_inverse, self.Pi_inverse)
        self._theta: np.ndarray | None = None
        small = self.LL <= SMALL_BLOCK
        self._forward = _forward_small if small else _forward
        self._transpose = _transpose_small if small else _transpose

    @staticmethod
    def _array(t: torch.Tensor) -> np.ndarray:
        if t.dtype != torch.float32:
            raise TypeError(f"the Numba Fastfood works in float32, got {t.dtype}")
        return t.detach().contiguous().numpy()

    def _segments(self, segments: Segments | None, seg_scale: torch.Tensor | None):
        if seg_scale is None:
            return _NO_STARTS, _NO_VALUES
        return segments.starts.numpy(), self._array(seg_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty(self.D, dtype=torch.float32)
        self._forward(self._array(x), self.B, self.G, self.Pi, _NO_VALUES, _NO_STARTS,
                      _NO_VALUES, _NO_VALUES, out.numpy())  # fmt: skip
        return out

    def shifted_forward(self, x, base, segments=None, seg_scale=None, keep_px=False):
        if base.dtype != torch.float32:  # a bf16 theta_0: the generic path converts
            return super().shifted_forward(x, base, segments, seg_scale, keep_px)
        out = self._output()
        px = torch.empty(self.D if keep_px else 0, dtype=torch.float32)
        self._forward(self._array(x), self.B, self.G, self.Pi, self._array(base),
                 *self._segments(segments, seg_scale), px.numpy(), out.numpy())  # fmt: skip
        return out, (px if keep_px else None)

    def _output(self) -> torch.Tensor:
        """theta's D floats, 64-byte aligned for the streaming stores: the previous call's
        buffer again once nothing else holds it (in training, once the step's backward has
        released theta), else a fresh one. Fresh memory is page-faulted in as it is first
        written, 6 ms for MiniLM's 91 MB (1.3x the copy floor) on every step."""
        if self._theta is None or sys.getrefcount(self._theta) > 2:  # here and the argument
            raw = np.empty(self.D + 16, np.float32)
            skip = (-raw.ctypes.data % 64) // 4
            self._theta = raw[skip : skip + self.D]
        return torch.from_numpy(self._theta)  # the tensor holds the array while it lives

    def transpose(self, y: torch.Tensor) -> torch.Tensor:
        return self.scaled_transpose(y)

    def scaled_transpose(self, g, segments=None, seg_scale=None) -> torch.Tensor:
        acc = torch.empty(self.d, dtype=torch.float32)
        self._transpose(self._array(g), self.B, self.G_inverse, self.Pi_inverse,
                   *self._segments(segments, seg_scale),
                   acc.numpy())  # fmt: skip
        return acc

    def segment_dots(self, a, b, segments: Segments) -> torch.Tensor:
        out = torch.empty(len(segments.lengths), dtype=torch.float64)
        _segment_dots(self._array(a), self._array(b), segments.starts.numpy(), out.numpy())
        return out.to(a.dtype)

    def state_bytes(self) -> int:
        return sum(a.nbytes for a in (self.B, self.G, self.Pi, self.G_inverse, self.Pi_inverse))


def warm_up() -> None:
    """Compile (or load from the cache) every function above on small problems, both block
    paths (d = 5: batched small blocks; SMALL_BLOCK + 1: vectors) and SAID's segment sums
    included."""
    for d in (5, SMALL_BLOCK + 1):
        proj = CpuFastfoodProjection(d, 200, seed=0)
        proj.shifted_forward(torch.ones(d), torch.zeros(200), keep_px=True)
        proj.transpose(torch.ones(200))
    proj.segment_dots(torch.ones(200), torch.ones(200), Segments.from_sizes([200], [0], "cpu"))
