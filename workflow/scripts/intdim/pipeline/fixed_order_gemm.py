"""A float32 matrix product whose every bit is the same on any CPU, at about half the speed of
MKL's own branch: portable numerics' products (``replace_torch_products``, from ``use_numerics``).

Portable numerics pinned every product to MKL's COMPATIBLE branch (attention's batched ones
still), which MKL documents as reproducible across CPUs and which runs the small models'
products at a quarter to a seventh of MKL's speed on an Intel Xeon of model 207
(docs/performance.md). Here every element of C = A @ B is one chain of
fused multiply-adds in the order of k,

    c_ij = fma(a_i,K-1, b_K-1,j, ... fma(a_i1, b_1j, fma(a_i0, b_0j, 0)) ...),

each correctly rounded by IEEE 754's definition of fma. The order does not depend on the CPU,
its vector width or the matrix's size: a tile keeps rows x 32 columns of C in vector
registers across a block of k (LLVM IR), 12 rows where the machine code is for AVX-512
(24 of its 32 registers) and 4 elsewhere (16 of AVX2's 16), reading its rows of A from a
k-major copy, or from A's transpose where torch passes that (a weight gradient); smaller tiles
take the last rows, and a zero-padded vector of B the last columns, with the same chains. The
next block of k goes on from the float32 numbers the last one left in C. Where the CPU has no
fused multiply-add, LLVM calls libm's fmaf, which is exact too, only slow.

``tools/benchmark_gemm.py`` times it against torch.mm in both branches.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..fastfood import simd
from ..fastfood.machine_code import drop_stale_machine_code
from ..fastfood.simd import _JIT, _VECTOR, WIDTH, _data, _fma, _splat
from .cpu_kernels import replace_cpu_kernels

VECTORS = 2  # vectors of WIDTH floats a tile row holds
_I64 = ir.IntType(64)


def _compiles_for_avx512() -> bool:
    """Whether Numba's machine code is for a CPU with AVX-512: the host's features, unless
    NUMBA_CPU_NAME / NUMBA_CPU_FEATURES name another target (generic: none)."""
    from numba.core import config
    from numba.core.codegen import get_host_cpu_features

    features = config.CPU_FEATURES
    if features is None:
        features = get_host_cpu_features()
    return "+avx512f" in features.split(",")


# With 4 rows the 8 accumulators of AVX-512 are exactly the fma's latency times its throughput,
# so every stall on a load costs speed; 12 rows keep 24 (and B's two vectors and A's number:
# 27 of 32 registers; tools/benchmark_gemm.py, docs/performance.md). On AVX2 a vector of 16
# floats takes two of its 16 registers, and more than 4 rows would spill.
ROWS = 12 if _compiles_for_avx512() else 4  # rows of C a whole tile holds
# Where K is over 2 * K_BLOCK, k goes in blocks of K_BLOCK: every tile of a block before the
# next block, so that the block's rows of B stay in L2 while the tiles sweep them. A weight
# gradient sums over the batch's tokens (K = 1,024 in Section 5's jobs, 2,048 in pre-training),
# and its B, up to 2 MiB at N = 512, did not stay; at K = 512 blocks gained nothing
# (tools/benchmark_gemm.py, docs/performance.md).
K_BLOCK = 256


def _tile(rows: int, vectors: int):
    """An intrinsic going on with C[i : i + rows, j : j + WIDTH * vectors] of A @ B over k in
    [k0, k1) (k1 > k0): its accumulators start from +0 (k0 = 0) or C's numbers, stay in
    registers for the whole k range and go back to C. It reads A[i + r, k] from
    ``panel[k * stride + start + r]``, k-major: a packed copy of the rows, or A's transpose."""

    @intrinsic
    def tile(typingctx, panel, stride, start, b, c, i, j, k0, k1):
        def codegen(context, builder, signature, args):
            panel_arr, a_stride, a_start, b_arr, c_arr, i0, j0, k_first, k_end = args
            panel_type, _, _, b_type, c_type = signature.args[:5]
            a_data = _data(context, builder, panel_type, panel_arr)
            b_data = _data(context, builder, b_type, b_arr)
            c_data = _data(context, builder, c_type, c_arr)
            shape = lambda t, x: context.make_array(t)(context, builder, x).shape  # noqa: E731
            n_b = builder.extract_value(shape(b_type, b_arr), 1)
            n_c = builder.extract_value(shape(c_type, c_arr), 1)
            fma = _fma(builder)

            def c_pointer(r, v):
                c_row = builder.mul(builder.add(i0, ir.Constant(_I64, r)), n_c)
                index = builder.add(c_row, builder.add(j0, ir.Constant(_I64, v * WIDTH)))
                return builder.bitcast(builder.gep(c_data, [index]), _VECTOR.as_pointer())

            # The first block starts from +0 (C need not be zeroed), a later one from C.
            entry = builder.block
            later, loop = builder.append_basic_block("c_load"), builder.append_basic_block("k")
            done = builder.append_basic_block("k_done")
            first = builder.icmp_signed("==", k_first, ir.Constant(_I64, 0))
            builder.cbranch(first, loop, later)
            builder.position_at_end(later)
            held = [[builder.load(c_pointer(r, v), align=4) for v in range(vectors)]
                    for r in range(rows)]  # fmt: skip
            builder.branch(loop)
            builder.position_at_end(loop)
            k = builder.phi(_I64)
            k.add_incoming(k_first, entry)
            k.add_incoming(k_first, later)
            zero = ir.Constant(_VECTOR, [0.0] * WIDTH)
            acc = [[builder.phi(_VECTOR) for _ in range(vectors)] for _ in range(rows)]
            for r in range(rows):
                for v in range(vectors):
                    acc[r][v].add_incoming(zero, entry)
                    acc[r][v].add_incoming(held[r][v], later)
            b_row = builder.add(builder.mul(k, n_b), j0)
            b_vectors = [
                builder.load(
                    builder.bitcast(
                        builder.gep(b_data, [builder.add(b_row, ir.Constant(_I64, v * WIDTH))]),
                        _VECTOR.as_pointer(),
                    ),
                    align=4,
                )
                for v in range(vectors)
            ]
            a_k = builder.add(builder.mul(k, a_stride), a_start)
            new = []
            for r in range(rows):
                a_index = builder.add(a_k, ir.Constant(_I64, r))
                a_ik = _splat(builder, builder.load(builder.gep(a_data, [a_index])))
                new.append(
                    [builder.call(fma, [a_ik, b_vectors[v], acc[r][v]]) for v in range(vectors)]
                )
            k_next = builder.add(k, ir.Constant(_I64, 1))
            k.add_incoming(k_next, builder.block)
            for r in range(rows):
                for v in range(vectors):
                    acc[r][v].add_incoming(new[r][v], builder.block)
            builder.cbranch(builder.icmp_signed("<", k_next, k_end), loop, done)
            builder.position_at_end(done)
            for r in range(rows):
                for v in range(vectors):
                    builder.store(new[r][v], c_pointer(r, v), align=4)
            return context.get_dummy_value()

        signature = types.void(panel, types.intp, types.intp, b, c, *[types.intp] * 4)
        return signature, codegen

    return tile


_TILE = _tile(ROWS, VECTORS)
_TILE_HALF = _tile(ROWS, 1)
_FOUR = _tile(4, VECTORS)  # what is left of the rows, 4 at a time, where ROWS is 12
_FOUR_HALF = _tile(4, 1)
_ROW = _tile(1, VECTORS)
_ROW_HALF = _tile(1, 1)


@numba.njit(**_JIT, inline="always")
def _pack(a, i, rows, k0, k1, panel):
    """panel[(k - k0) * rows + r] = A[i + r, k]: the tile reads its rows' k-th numbers side by
    side, not from `rows` rows a row apart (at k = 1,024 all 4 KiB apart, in one set of L1)."""
    for r in range(rows):
        row = a[i + r, k0:k1]
        for kk in range(k1 - k0):
            panel[kk * rows + r] = row[kk]


@numba.njit(**_JIT, inline="always")
def _band(a, transposed, b, c, i, rows, tile, half_tile, wide, half, k0, k1, panel):
    """Rows i to i + rows of C += A[:, k0:k1] @ B[k0:k1], columns [0, half): whole tiles to
    `wide`, then a half tile. Where ``transposed``, ``a`` holds A's transpose, whose rows are
    the k-major order the tile reads: no copy. Otherwise the rows are packed first."""
    if transposed:
        source, stride, start = a.reshape(a.size), a.shape[1], i
    else:
        _pack(a, i, rows, k0, k1, panel)
        source, stride, start = panel, rows, -k0 * rows
    for j in range(0, wide, WIDTH * VECTORS):
        tile(source, stride, start, b, c, i, j, k0, k1)
    if half > wide:
        half_tile(source, stride, start, b, c, i, wide, k0, k1)


@numba.njit(**_JIT, inline="always")
def _all_rows(a, transposed, b, c, wide, half, k0, k1, panel):
    """C += A[:, k0:k1] @ B[k0:k1] over columns [0, half), every element's chain going on from
    where the last k block left it: bands of ROWS rows, then 4, then 1."""
    m = a.shape[1] if transposed else a.shape[0]
    whole = m - m % ROWS
    fours = whole + (m - whole) // 4 * 4  # = whole where ROWS is 4
    for i in range(0, whole, ROWS):
        _band(a, transposed, b, c, i, ROWS, _TILE, _TILE_HALF, wide, half, k0, k1, panel)
    for i in range(whole, fours, 4):
        _band(a, transposed, b, c, i, 4, _FOUR, _FOUR_HALF, wide, half, k0, k1, panel)
    for i in range(fours, m):
        _band(a, transposed, b, c, i, 1, _ROW, _ROW_HALF, wide, half, k0, k1, panel)


@numba.njit(**_JIT)
def _product(a, transposed, b, c):
    """C = A @ B (A is a.T where transposed), k block by k block (K_BLOCK), into C.
    C's numbers carry each chain from one block to the next exactly (they are the float32
    accumulators), so the blocks change no bit."""
    k, n = b.shape
    m = a.shape[1] if transposed else a.shape[0]
    wide = n - n % (WIDTH * VECTORS)
    half = n - n % WIDTH
    block = k if k <= 2 * K_BLOCK else K_BLOCK
    panel = np.empty(block * ROWS, dtype=np.float32)
    padded = half < n
    b_rest = np.zeros((k if padded else 0, WIDTH), dtype=np.float32)
    c_rest = np.empty((m if padded else 0, WIDTH), dtype=np.float32)
    if padded:
        # The last n - half columns, through one more vector of B padded with zeros: its lanes
        # compute the same chains, and the padding's are dropped.
        b_rest[:, : n - half] = b[:, half:]
    for k0 in range(0, k, block):
        k1 = min(k, k0 + block)
        _all_rows(a, transposed, b, c, wide, half, k0, k1, panel)
        if padded:
            _all_rows(a, transposed, b_rest, c_rest, 0, WIDTH, k0, k1, panel)
    if padded:
        c[:, half:] = c_rest[:, : n - half]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A @ B for float32 matrices, each element one chain of fused multiply-adds in k order
    (the module's docstring); a new C-contiguous float32 array."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"cannot multiply shapes {a.shape} and {b.shape}")
    if a.dtype != np.float32 or b.dtype != np.float32:
        raise ValueError(f"float32 matrices only, not {a.dtype} and {b.dtype}")
    if a.shape[1] == 0:  # the empty sum
        return np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    c = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)  # every element is written
    if c.size:
        transposed = not a.flags.c_contiguous and a.T.flags.c_contiguous
        a = a.T if transposed else np.ascontiguousarray(a)  # no copy of a transpose
        _product(a, transposed, np.ascontiguousarray(b), c)
    return c


# simd's vector helpers are compiled into _product: a change there alone empties its cache.
drop_stale_machine_code(globals(), (Path(simd.__file__),))


def warm_up() -> None:
    """Compile (or load from the cache) the product, every kind of tile included: ``make
    setup`` runs it so that no portable job compiles (about 4 s)."""
    columns = WIDTH * VECTORS + WIDTH + 1  # a wide tile, a half tile and a padded vector
    rows = ROWS + 4 + 1  # a whole tile, 4 rows and 1
    matmul(np.ones((rows, 3), np.float32), np.ones((3, columns), np.float32))


def replace_torch_products() -> None:
    """From now on in this process, torch's CPU float32 ``mm`` and ``addmm`` (what ``Linear``
    layers and their gradients call) compute with ``matmul``; other dtypes keep ATen's kernels
    (through their ``out=`` forms, which this does not replace). ``use_numerics("portable")``
    calls it."""
    import torch

    def mm(a, b):
        if a.dtype != torch.float32 or b.dtype != torch.float32:
            return torch.mm(a, b, out=a.new_empty((a.shape[0], b.shape[1])))
        return torch.from_numpy(matmul(a.detach().numpy(), b.detach().numpy()))

    def addmm(bias, a, b, *, beta=1, alpha=1):
        if a.dtype != torch.float32 or b.dtype != torch.float32:
            out = a.new_empty((a.shape[0], b.shape[1]))
            return torch.addmm(bias, a, b, beta=beta, alpha=alpha, out=out)
        product = mm(a, b)
        if alpha != 1:
            product.mul_(alpha)
        if beta == 0:  # torch's rule: the bias is not read, so its NaNs do not spread
            return product
        return product.add_(bias if beta == 1 else bias * beta)

    replace_cpu_kernels(__name__, {"mm": mm, "addmm": addmm})
