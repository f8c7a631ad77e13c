"""The building blocks the Fastfood kernels share (``kernels``, ``factored``): the
counter-based stream of ``stream`` regenerated in registers, the Walsh-Hadamard transform of a
tile, and the SAID scale's segment lookup, theta's store and the gradient's load.

The Walsh-Hadamard transform of a tile is computed one of two ways (``WHT``, a compile-time
string every kernel takes):

* "butterfly" (the default): log2(N) radix-2 stages of float32 adds and subtracts, each a
  reshape, ``tl.split`` and ``tl.join``; Triton moves the pairs between threads with warp
  shuffles, and through shared memory only across warps.
* "dot_tf32x2" / "dot_ieee": a Kronecker product of small Hadamard matrices (radix <= 16),
  each applied with ``tl.dot``. On a GPU the dot runs on tensor cores in TF32 with the input
  split into a high and a low TF32 part: H is exact in TF32, so the two products give the
  float32 result up to float32 rounding ("dot_ieee": one float32 dot, as the interpreter runs
  it). On sm_90 each dot is an asynchronous wgmma whose operands go through shared memory
  behind a fence and a wait; compiled for sm_90 the dots need up to 98 KiB of shared memory
  and 174 registers a thread where the butterflies need 32 KiB and 128, and more instructions
  in every kernel but a few of the factored scheme's at d = 20,000
  (``tools/compile_fastfood_kernels.py``).
"""

from __future__ import annotations

import triton
import triton.language as tl

from . import stream
from .transform import radix_plan

# Largest Hadamard factor of a tile (one tl.dot), and how many factors a kernel takes.
MAX_RADIX = 16
RADIX_FACTORS = 4
# Radix-2 stages of the largest row those factors allow (log2 of MAX_RADIX ** RADIX_FACTORS).
_MAX_STAGES = tl.constexpr((MAX_RADIX**RADIX_FACTORS).bit_length() - 1)

# -- the counter-based stream, as in stream.py --------------------------------------------------

# The stream's constants as compile-time constants (a kernel reads a global only as constexpr).
_MIX_MUL1 = tl.constexpr(stream.MIX_MUL1)
_MIX_MUL2 = tl.constexpr(stream.MIX_MUL2)
_MIX_SHIFT1 = tl.constexpr(stream.MIX_SHIFTS[0])
_MIX_SHIFT2 = tl.constexpr(stream.MIX_SHIFTS[1])
_MIX_SHIFT3 = tl.constexpr(stream.MIX_SHIFTS[2])
_GOLDEN = tl.constexpr(stream.GOLDEN)
_FEISTEL_ROUNDS = tl.constexpr(stream.FEISTEL_ROUNDS)
_UNIFORM_SHIFT = tl.constexpr(stream.UNIFORM_SHIFT)
_UNIFORM_SCALE = tl.constexpr(stream.UNIFORM_SCALE)
_TWO_PI = tl.constexpr(stream.TWO_PI)


@triton.jit
def _mix(x):
    x = x ^ (x >> _MIX_SHIFT1)
    x = x * tl.cast(_MIX_MUL1, tl.uint32)
    x = x ^ (x >> _MIX_SHIFT2)
    x = x * tl.cast(_MIX_MUL2, tl.uint32)
    return x ^ (x >> _MIX_SHIFT3)


@triton.jit
def _block_key(key, blocks):
    return _mix(tl.cast(key, tl.uint32) + _mix(blocks.to(tl.uint32)))


@triton.jit
def _hashed(keys, index):
    return _mix(_mix(index ^ keys) + keys)


@triton.jit
def _signs(key, blocks, index):
    h = _hashed(_block_key(key, blocks)[:, None], index[None, :])
    return 1.0 - 2.0 * (h >> 31).to(tl.float32)


@triton.jit
def _gaussians(key1, key2, blocks, index):
    h1 = _hashed(_block_key(key1, blocks)[:, None], index[None, :])
    h2 = _hashed(_block_key(key2, blocks)[:, None], index[None, :])
    u1 = ((h1 >> _UNIFORM_SHIFT) + 1).to(tl.float32) * _UNIFORM_SCALE
    u2 = (h2 >> _UNIFORM_SHIFT).to(tl.float32) * _UNIFORM_SCALE
    return tl.sqrt(-2.0 * tl.log(u1)) * tl.cos(u2 * _TWO_PI)  # constexpr on the right: a tensor op


@triton.jit
def _feistel_round(left, right, keys, left_mask, right_mask, R: tl.constexpr):
    round_key = _mix(keys + tl.cast(R * _GOLDEN % (1 << 32), tl.uint32))
    if R % 2 == 0:
        left = left ^ (_mix(right + round_key) & left_mask)
    else:
        right = right ^ (_mix(left + round_key) & right_mask)
    return left, right


@triton.jit
def _permutation(key, blocks, index, BITS: tl.constexpr, INVERSE: tl.constexpr):
    LEFT_BITS: tl.constexpr = BITS // 2
    RIGHT_BITS: tl.constexpr = BITS - BITS // 2
    left_mask = tl.cast((1 << LEFT_BITS) - 1, tl.uint32)
    right_mask = tl.cast((1 << RIGHT_BITS) - 1, tl.uint32)
    keys = _block_key(key, blocks)[:, None]
    left = (index[None, :] >> RIGHT_BITS) & left_mask
    right = index[None, :] & right_mask
    left = left + tl.zeros_like(keys)
    right = right + tl.zeros_like(keys)
    # The inverse runs the rounds backwards (each round is its own inverse).
    if INVERSE:
        for step in tl.static_range(_FEISTEL_ROUNDS):
            left, right = _feistel_round(
                left, right, keys, left_mask, right_mask, _FEISTEL_ROUNDS - 1 - step
            )
    else:
        for step in tl.static_range(_FEISTEL_ROUNDS):
            left, right = _feistel_round(left, right, keys, left_mask, right_mask, step)
    return ((left << RIGHT_BITS) | right).to(tl.int32)


@triton.jit
def _block_index(block0, local):
    """block0 + local in 64 bits: with billions of parameters, groups start past 2**31 blocks
    and offsets past 2**31 elements (block * LL), which 32-bit program ids would wrap."""
    return block0 + local.to(tl.int64)


# -- the Walsh-Hadamard transform of a tile -------------------------------------------------------


@triton.jit
def _parity_sign(v):
    """(-1)^popcount(v) for v below 2**16: H's entry at (i, j) is that of i & j."""
    v = v ^ (v >> 8)
    v = v ^ (v >> 4)
    v = v ^ (v >> 2)
    v = v ^ (v >> 1)
    return 1.0 - 2.0 * (v & 1).to(tl.float32)


@triton.jit
def _hadamard_matrix(R: tl.constexpr):
    i = tl.arange(0, R)
    return _parity_sign(i[:, None] & i[None, :])


@triton.jit
def _dot_exact(a, h, SPLIT_TF32: tl.constexpr):
    """a @ h for a +-1 matrix h, to float32 accuracy."""
    if SPLIT_TF32:
        hi = (a.to(tl.uint32, bitcast=True) & tl.cast(0xFFFFE000, tl.uint32)).to(
            tl.float32, bitcast=True
        )
        out = tl.dot(hi, h, input_precision="tf32")
        out = tl.dot(a - hi, h, acc=out, input_precision="tf32")
    else:
        out = tl.dot(a, h, input_precision="ieee")
    return out


@triton.jit
def _block_hadamard(R: tl.constexpr):
    """The 16 x 16 block-diagonal I_(16/R) (x) H_R, for radices below the smallest dot."""
    i = tl.arange(0, 16)
    v = (i[:, None] % R) & (i[None, :] % R)
    v = v ^ (v >> 2)
    v = v ^ (v >> 1)
    h = 1.0 - 2.0 * (v & 1).to(tl.float32)
    return tl.where((i[:, None] // R) == (i[None, :] // R), h, 0.0)


@triton.jit
def _hadamard_digit(y, T: tl.constexpr, R: tl.constexpr, S: tl.constexpr, SPLIT_TF32: tl.constexpr):
    """H_R applied to one digit of a flat tile of T elements viewed as (T / (R S), R, S).

    The digit is brought last (a permute when S > 1), so that rows of R consecutive elements
    meet H_R in one ``tl.dot``. Below radix 16 (the smallest dot), rows of 16 meet the
    block-diagonal I (x) H_R instead: twice the multiply-adds of radix 8, on tensor cores.
    """
    M: tl.constexpr = T // (R * S)
    K: tl.constexpr = R if R >= 16 else 16
    h = _hadamard_matrix(R) if R >= 16 else _block_hadamard(R)
    if S == 1:
        y = _dot_exact(tl.reshape(y, (T // K, K)), h, SPLIT_TF32)
    else:
        y = tl.permute(tl.reshape(y, (M, R, S)), (0, 2, 1))
        y = _dot_exact(tl.reshape(y, (T // K, K)), h, SPLIT_TF32)
        y = tl.permute(tl.reshape(y, (M, S, R)), (0, 2, 1))
    return tl.reshape(y, (T,))


@triton.jit
def _butterfly(y, T: tl.constexpr, S: tl.constexpr):
    """One radix-2 stage on bit log2(S) of a flat tile's index: (y_i, y_i+S) becomes
    (y_i + y_i+S, y_i - y_i+S) for every i whose bit is clear."""
    y = tl.permute(tl.reshape(y, (T // (2 * S), 2, S)), (0, 2, 1))
    a, b = tl.split(y)
    y = tl.permute(tl.join(a + b, a - b), (0, 2, 1))
    return tl.reshape(y, (T,))


@triton.jit
def _hadamard(
    y,
    T: tl.constexpr,
    F0: tl.constexpr,
    F1: tl.constexpr,
    F2: tl.constexpr,
    F3: tl.constexpr,
    WHT: tl.constexpr,
):
    """Unnormalised WHT of every row of a flat tile (rows of N = F0 F1 F2 F3, factors 1 = none)."""
    if WHT == "butterfly":
        N: tl.constexpr = F0 * F1 * F2 * F3
        for k in tl.static_range(_MAX_STAGES):
            if (1 << k) < N:
                y = _butterfly(y, T, 1 << k)
    else:
        SPLIT_TF32: tl.constexpr = WHT == "dot_tf32x2"
        if F0 > 1:
            y = _hadamard_digit(y, T, F0, F1 * F2 * F3, SPLIT_TF32)
        if F1 > 1:
            y = _hadamard_digit(y, T, F1, F2 * F3, SPLIT_TF32)
        if F2 > 1:
            y = _hadamard_digit(y, T, F2, F3, SPLIT_TF32)
        if F3 > 1:
            y = _hadamard_digit(y, T, F3, 1, SPLIT_TF32)
    return y


@triton.jit
def _segment_of(seg_start_ptr, n_seg, offs, SEG_STEPS: tl.constexpr):
    """Binary search of the segment holding each offset (scalar or tensor)."""
    lo = (offs * 0).to(tl.int32)
    hi = lo + n_seg
    for _ in tl.static_range(SEG_STEPS):
        mid = (lo + hi) // 2
        right = tl.load(seg_start_ptr + mid) <= offs
        lo = tl.where(right, mid, lo)
        hi = tl.where(right, hi, mid)
    return lo


@triton.jit
def _segment_scale(seg_start_ptr, seg_scale_ptr, n_seg, offs, SEG_STEPS: tl.constexpr):
    """Per-element SAID scale. Segments are long runs of parameters, so a tile nearly always
    lies inside one: two scalar searches settle it, and only a tile that crosses a boundary
    pays for a search per element."""
    first = _segment_of(seg_start_ptr, n_seg, tl.min(offs, axis=0), SEG_STEPS)
    last = _segment_of(seg_start_ptr, n_seg, tl.max(offs, axis=0), SEG_STEPS)
    if first == last:
        scale = tl.zeros(offs.shape, tl.float32) + tl.load(seg_scale_ptr + first)
    else:
        scale = tl.load(seg_scale_ptr + _segment_of(seg_start_ptr, n_seg, offs, SEG_STEPS))
    return scale


@triton.jit
def _load_gradient(
    g_ptr, offs, D, seg_start_ptr, seg_scale_ptr, n_seg,
    HAS_SCALE: tl.constexpr, SEG_STEPS: tl.constexpr,
):  # fmt: skip
    """The transpose's input s * g at flat offsets (zero past D), in float32 whatever g's dtype
    (a bf16 gradient is read as it is, without a float32 copy of it first)."""
    y = tl.load(g_ptr + offs, mask=offs < D, other=0.0).to(tl.float32)
    if HAS_SCALE:
        y = y * _segment_scale(seg_start_ptr, seg_scale_ptr, n_seg, offs, SEG_STEPS)
    return y


@triton.jit
def _store_theta(
    y, offs, D, base_ptr, out_ptr, px_ptr, seg_start_ptr, seg_scale_ptr, n_seg,
    HAS_BASE: tl.constexpr, HAS_SCALE: tl.constexpr, WRITE_PX: tl.constexpr,
    SEG_STEPS: tl.constexpr,
):  # fmt: skip
    """The forward's last step: theta = base + s * (P x) at flat offsets below D (and P x),
    added in float32 and stored in out's dtype (the model's: bf16 for a bf16 theta_0)."""
    mask = offs < D
    if WRITE_PX:
        tl.store(px_ptr + offs, y, mask=mask)
    if HAS_SCALE:
        y = y * _segment_scale(seg_start_ptr, seg_scale_ptr, n_seg, offs, SEG_STEPS)
    if HAS_BASE:
        y = y + tl.load(base_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + offs, y, mask=mask)


def radix_factors(n: int) -> tuple[int, ...]:
    """A tile's Hadamard plan: n as RADIX_FACTORS factors <= MAX_RADIX (1 = unused)."""
    return radix_plan(n, MAX_RADIX, RADIX_FACTORS)


def _num_warps(elements: int) -> int:
    """Warps for a program holding this many float32 elements in registers."""
    return 4 if elements <= 1024 else 8 if elements <= 4096 else 16
