"""Counter-based random numbers for the Fastfood transform: B, G and Pi from (seed, block, index).

Every number is a pure function of its coordinates, so a GPU kernel can regenerate the
diagonals and the permutation where it needs them instead of reading O(D) stored state, and
the transpose sees exactly the same numbers as the forward product. The GPU kernels
(``kernels``) implement the same arithmetic and import every constant from here; this module
is the reference.

All arithmetic is on unsigned 32-bit integers (emulated in int64 here, masked after every
operation). The mixer is Wellons' ``lowbias32`` integer hash, a bijection of 32-bit words
with near-ideal avalanche; its multipliers are below 2**31, so x * c never overflows int64.

* stream key:  k_s = mix(seed_key ^ STREAM[s]), with seed_key folding a 64-bit seed (host)
* block key:   k_sj = mix(k_s + mix(j))
* value:       h_sj(i) = mix(mix(i ^ k_sj) + k_sj)
* B_j[i]  = +1 or -1 from the top bit of h_Bj(i)
* G_j[i]  = Box-Muller from two 24-bit uniforms: sqrt(-2 ln u1) cos(2 pi u2),
            u1 = (h_G1j(i) >> 8 + 1) / 2**24 in (0, 1], u2 = (h_G2j(i) >> 8) / 2**24
* Pi_j    = a 4-round Feistel network on the log2(LL) index bits (left half the high bits),
            round r flipping one half by mix(other half + mix(k_Pij + r * GOLDEN)); the inverse
            runs the rounds backwards, so forward and transpose both gather.
"""

from __future__ import annotations

import math

import torch

from ..arguments import check_seed
from .transform import next_power_of_two

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9
MIX_MUL1 = 0x21F0AAAD
MIX_MUL2 = 0x735A2D97
MIX_SHIFTS = (16, 15, 15)
STREAMS = {"B": 0x5BD1E995, "G1": 0x1B873593, "G2": 0x68E31DA4, "PI": 0x3C6EF372}
FEISTEL_ROUNDS = 4
# Box-Muller's uniforms are the top UNIFORM_BITS of a hash, scaled by 2**-UNIFORM_BITS.
UNIFORM_BITS = 24
UNIFORM_SHIFT = 32 - UNIFORM_BITS
UNIFORM_SCALE = 2.0**-UNIFORM_BITS
TWO_PI = 2.0 * math.pi


# At most this many blocks: the stream hashes a block's index as a 32-bit word.
MAX_BLOCKS = 2**32 - 1


def layout(d: int, D: int) -> tuple[int, int, int, float]:
    """(LL, log2 LL, blocks, scale) of the Fastfood transform R^d -> R^D: blocks of
    LL = 2**ceil(log2 d), ceil(D / LL) of them, scaled by 1 / sqrt(D LL)."""
    LL = next_power_of_two(d)
    blocks = math.ceil(D / LL)
    if blocks > MAX_BLOCKS:
        raise ValueError(
            f"d={d}, D={D:,} needs {blocks:,} Fastfood blocks, at most 2**32 - 1 are supported: "
            f"use d >= {smallest_d(D)}"
        )
    return LL, LL.bit_length() - 1, blocks, 1.0 / math.sqrt(D * LL)


def smallest_d(D: int) -> int:
    """The smallest d whose blocks cover D in at most MAX_BLOCKS: its LL is the smallest power
    of two that does, and every d in (LL / 2, LL] has that LL (d = 1 when LL = 1)."""
    return next_power_of_two(math.ceil(D / MAX_BLOCKS)) // 2 + 1


def mix32_int(x: int) -> int:
    """lowbias32 on a Python int (host-side keys)."""
    s1, s2, s3 = MIX_SHIFTS
    x &= MASK32
    x ^= x >> s1
    x = (x * MIX_MUL1) & MASK32
    x ^= x >> s2
    x = (x * MIX_MUL2) & MASK32
    x ^= x >> s3
    return x


def mix32(x: torch.Tensor) -> torch.Tensor:
    """lowbias32 on an int64 tensor holding 32-bit values."""
    s1, s2, s3 = MIX_SHIFTS
    x = x ^ (x >> s1)
    x = (x * MIX_MUL1) & MASK32
    x = x ^ (x >> s2)
    x = (x * MIX_MUL2) & MASK32
    return x ^ (x >> s3)


def seed_key(seed: int) -> int:
    """Fold a seed in [0, 2**64) into the 32-bit key every stream starts from."""
    check_seed(seed)
    return mix32_int(mix32_int(seed & MASK32) ^ (seed >> 32))


def stream_key(seed: int, stream: str) -> int:
    return mix32_int(seed_key(seed) ^ STREAMS[stream])


def block_keys(key: int, blocks: torch.Tensor) -> torch.Tensor:
    """k_sj for block indices ``blocks`` (int64), given a stream key."""
    return mix32((key + mix32(blocks)) & MASK32)


def hashed(keys: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """h(i) = mix(mix(i ^ k) + k), broadcasting keys (blocks, 1) against index (1, n)."""
    return mix32((mix32(index ^ keys) + keys) & MASK32)


def signs(seed: int, blocks: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """B_j[i] in {-1, +1} (float32), shape (len(blocks), len(index))."""
    h = hashed(block_keys(stream_key(seed, "B"), blocks)[:, None], index[None, :])
    return 1.0 - 2.0 * (h >> 31).to(torch.float32)


def gaussians(seed: int, blocks: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """G_j[i] ~ N(0, 1) (float32) by Box-Muller, shape (len(blocks), len(index))."""
    i = index[None, :]
    h1 = hashed(block_keys(stream_key(seed, "G1"), blocks)[:, None], i)
    h2 = hashed(block_keys(stream_key(seed, "G2"), blocks)[:, None], i)
    u1 = ((h1 >> UNIFORM_SHIFT) + 1).to(torch.float32) * UNIFORM_SCALE
    u2 = (h2 >> UNIFORM_SHIFT).to(torch.float32) * UNIFORM_SCALE
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(TWO_PI * u2)


def feistel_split(bits: int) -> tuple[int, int]:
    """Bits of the left (high) and right (low) halves of a log2(LL)-bit index."""
    return bits // 2, bits - bits // 2


def permutation(
    seed: int, blocks: torch.Tensor, index: torch.Tensor, bits: int, inverse: bool = False
) -> torch.Tensor:
    """Pi_j(i) (or its inverse) for indices in [0, 2**bits), shape (len(blocks), len(index))."""
    keys = block_keys(stream_key(seed, "PI"), blocks)[:, None]
    left_bits, right_bits = feistel_split(bits)
    left_mask, right_mask = (1 << left_bits) - 1, (1 << right_bits) - 1
    left = (index[None, :] >> right_bits) & left_mask
    right = index[None, :] & right_mask
    left, right = left.expand(len(blocks), -1), right.expand(len(blocks), -1)
    rounds = range(FEISTEL_ROUNDS - 1, -1, -1) if inverse else range(FEISTEL_ROUNDS)
    for r in rounds:
        round_key = mix32((keys + r * GOLDEN) & MASK32)
        if r % 2 == 0:
            left = left ^ (mix32((right + round_key) & MASK32) & left_mask)
        else:
            right = right ^ (mix32((left + round_key) & MASK32) & right_mask)
    return (left << right_bits) | right
