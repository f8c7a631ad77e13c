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
registers across the whole k loop (LLVM IR), 12 rows where the machine code is for AVX-512
(24 of its 32 registers) and 4 elsewhere (16 of AVX2's 16), reading its rows of A from a
k-major copy; smaller tiles take the last rows, and a zero-padded vector of B the last
columns, with the same chains. Where the CPU has no fused multiply-add, LLVM calls libm's
fmaf, which is exact too, only slow.

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


def _tile(rows: int, vectors: int):
    """An intrinsic computing C[i : i + rows, j : j + WIDTH * vectors] of A @ B from A's rows
    i to i + rows packed k-major (``panel[k * rows + r] = A[i + r, k]``), the accumulators in
    registers for the whole k loop (K >= 1)."""

    @intrinsic
    def tile(typingctx, panel, b, c, i, j):
        def codegen(context, builder, signature, args):
            panel_arr, b_arr, c_arr, i0, j0 = args
            panel_type, b_type, c_type = signature.args[:3]
            a_data = _data(context, builder, panel_type, panel_arr)
            b_data = _data(context, builder, b_type, b_arr)
            c_data = _data(context, builder, c_type, c_arr)
            shape = lambda t, x: context.make_array(t)(context, builder, x).shape  # noqa: E731
            k_count = builder.extract_value(shape(b_type, b_arr), 0)
            n_b = builder.extract_value(shape(b_type, b_arr), 1)
            n_c = builder.extract_value(shape(c_type, c_arr), 1)
            fma = _fma(builder)
            entry, loop = builder.block, builder.append_basic_block("k")
            done = builder.append_basic_block("k_done")
            builder.branch(loop)
            builder.position_at_end(loop)
            k = builder.phi(_I64)
            k.add_incoming(ir.Constant(_I64, 0), entry)
            zero = ir.Constant(_VECTOR, [0.0] * WIDTH)
            acc = [[builder.phi(_VECTOR) for _ in range(vectors)] for _ in range(rows)]
            for phi in (p for row in acc for p in row):
                phi.add_incoming(zero, entry)
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
            a_k = builder.mul(k, ir.Constant(_I64, rows))
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
            builder.cbranch(builder.icmp_signed("<", k_next, k_count), loop, done)
            builder.position_at_end(done)
            for r in range(rows):
                c_row = builder.mul(builder.add(i0, ir.Constant(_I64, r)), n_c)
                for v in range(vectors):
                    index = builder.add(c_row, builder.add(j0, ir.Constant(_I64, v * WIDTH)))
                    pointer = builder.bitcast(builder.gep(c_data, [index]), _VECTOR.as_pointer())
                    builder.store(new[r][v], pointer, align=4)
            return context.get_dummy_value()

        return types.void(panel, b, c, types.intp, types.intp), codegen

    return tile


_TILE = _tile(ROWS, VECTORS)
_TILE_HALF = _tile(ROWS, 1)
_FOUR = _tile(4, VECTORS)  # what is left of the rows, 4 at a time, where ROWS is 12
_FOUR_HALF = _tile(4, 1)
_ROW = _tile(1, VECTORS)
_ROW_HALF = _tile(1, 1)


@numba.njit(**_JIT, inline="always")
def _pack(a, i, rows, panel):
    """panel[k * rows + r] = A[i + r, k]: the tile reads its rows' k-th numbers side by side,
    not from `rows` rows a row apart (at k = 1,024 all 4 KiB apart, in one set of L1)."""
    for r in range(rows):
        for kk in range(a.shape[1]):
            panel[kk * rows + r] = a[i + r, kk]


@numba.njit(**_JIT, inline="always")
def _all_rows(a, b, c, wide, half, panel):
    """C = A @ B over columns [0, half) (whole tiles to `wide`, then a half tile)."""
    m = a.shape[0]
    whole = m - m % ROWS
    fours = whole + (m - whole) // 4 * 4  # = whole where ROWS is 4
    for i in range(0, whole, ROWS):
        _pack(a, i, ROWS, panel)
        for j in range(0, wide, WIDTH * VECTORS):
            _TILE(panel, b, c, i, j)
        if half > wide:
            _TILE_HALF(panel, b, c, i, wide)
    for i in range(whole, fours, 4):
        _pack(a, i, 4, panel)
        for j in range(0, wide, WIDTH * VECTORS):
            _FOUR(panel, b, c, i, j)
        if half > wide:
            _FOUR_HALF(panel, b, c, i, wide)
    for i in range(fours, m):
        _pack(a, i, 1, panel)
        for j in range(0, wide, WIDTH * VECTORS):
            _ROW(panel, b, c, i, j)
        if half > wide:
            _ROW_HALF(panel, b, c, i, wide)


@numba.njit(**_JIT)
def _product(a, b, c):
    k, n = a.shape[1], b.shape[1]
    wide = n - n % (WIDTH * VECTORS)
    half = n - n % WIDTH
    panel = np.empty(k * ROWS, dtype=np.float32)
    _all_rows(a, b, c, wide, half, panel)
    if half < n:
        # The last n - half columns, through one more vector of B padded with zeros: its lanes
        # compute the same chains, and the padding's are dropped.
        b_rest = np.zeros((k, WIDTH), dtype=np.float32)
        b_rest[:, : n - half] = b[:, half:]
        c_rest = np.empty((a.shape[0], WIDTH), dtype=np.float32)
        _all_rows(a, b_rest, c_rest, 0, WIDTH, panel)
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
        _product(np.ascontiguousarray(a), np.ascontiguousarray(b), c)
    return c


# simd's vector helpers are compiled into _product: a change there alone empties its cache.
drop_stale_machine_code(globals(), (Path(simd.__file__),))


def warm_up() -> None:
    """Compile (or load from the cache) the product, every kind of tile included: ``make
    setup`` runs it so that no portable job compiles (about 4 s)."""
    columns = WIDTH * VECTORS + WIDTH + 1  # a wide tile, a half tile and a padded vector
    rows = ROWS + 4 + 1  # a whole tile, 4 rows and 1
    matmul(np.ones((rows, 3), np.float32), np.ones((3, columns), np.float32))


_LIBRARY = None  # the registration lives as long as this object does


def replace_torch_products() -> None:
    """From now on in this process, torch's CPU float32 ``mm`` and ``addmm`` (what ``Linear``
    layers and their gradients call) compute with ``matmul``; other dtypes keep ATen's kernels
    (through their ``out=`` forms, which this does not replace). ``use_numerics("portable")``
    calls it."""
    global _LIBRARY
    if _LIBRARY is not None:
        return
    import warnings

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

    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():  # "Overriding a previously registered kernel": meant
        warnings.simplefilter("ignore")
        library.impl("mm", mm, "CPU")
        library.impl("addmm", addmm, "CPU")
    _LIBRARY = library
