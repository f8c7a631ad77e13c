"""The CPU Fastfood's inner loops in explicit 16-float vectors (Numba intrinsics, LLVM IR).

LLVM's loop vectoriser left a Numba butterfly at about 0.45 ns a number (n = 4,096, one
core): the strides 1-8 need shuffles it builds from interleaved loads, and the loops over
strides of 16-64 are too short for its vector width times its unrolling, so they ran scalar.
Here the loops are written as LLVM vector code, which LLVM lowers to whatever the host has
(AVX-512: one register a vector; AVX2, NEON: two or four):

* strides 1, 2, 4, 8 inside one vector: four rounds of (shuffle lane i with lane i ^ h,
  multiply by +-1 and add), exact, so the sums are those of the scalar butterfly;
* strides of 16 and up: radix-16 passes (16 vectors h apart, four stages in registers),
  chunk by chunk while the strides stay inside 4,096 numbers (L1), then across chunks;
* Fastfood's G Pi (a gather) fused with the first four stages of the H after it;
* theta = theta_0 + s P x written with streaming stores;
* the per-block functions inlined into the products' loops (``inline="always"``): as calls
  (each passed array views of its own), a block of 128 numbers paid about 0.16 us of fixed
  cost a direction, and a forward and transpose on MiniLM's D took 0.116 s at d = 100
  against 0.059 s at d = 1,000 (one thread of the Xeon of docs/performance.md); inlined,
  0.059 s against 0.051 s.

About 0.13 ns a number at n = 4,096 and 0.16 ns at 32,768 (L2), against 0.45: the butterfly
is no longer the cost; the gather (one number a cycle) is. The additions are those of a
radix-2 butterfly in the same order, so the results are bit-identical to it.
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_JIT = dict(cache=True, nogil=True, boundscheck=False, error_model="numpy")
WIDTH = 16  # floats in one vector
CHUNK = 4096  # floats done together while they sit in L1 (16 KiB)
# How far ahead the gather asks for Fastfood's state (G, Pi), which it reads once a step
# from memory: the hardware's own prefetch leaves a gather from a 32,768-number block at
# 0.70 ns a number, this 0.45 (0.28 and 0.23 at 4,096).
AHEAD = 2048
_VECTOR = ir.VectorType(ir.FloatType(), WIDTH)
_LANES = ir.VectorType(ir.IntType(32), WIDTH)


def _fma(builder):
    """llvm.fma on vectors. Every product fed to it is by +-1, exact, so fma(-1, b, a) is a - b
    to the bit; the point is the port: Zen 4/5 and recent Intel cores add on separate pipes
    from the ones that fuse multiply-add, and a butterfly that sends its sums to one and its
    differences to the other runs about 10% faster."""
    return builder.module.declare_intrinsic(
        f"llvm.fma.v{WIDTH}f32", (), ir.FunctionType(_VECTOR, [_VECTOR] * 3)
    )


def _data(context, builder, array_type, array):
    return context.make_array(array_type)(context, builder, array).data


def _vector_pointer(context, builder, array_type, array, offset):
    data = _data(context, builder, array_type, array)
    return builder.bitcast(builder.gep(data, [offset]), _VECTOR.as_pointer())


def _splat(builder, x):
    v = builder.insert_element(ir.Constant(_VECTOR, None), x, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(v, v, ir.Constant(_LANES, [0] * WIDTH))


def _butterfly_within(builder, v):
    """Stages h = 1, 2, 4, 8 inside vector v: lane i becomes its partner (lane i ^ h) plus or
    minus itself, v_i + v_p where bit h of i is clear, v_p - v_i where it is set."""
    for h in (1, 2, 4, 8):
        partner = builder.shuffle_vector(v, v, ir.Constant(_LANES, [i ^ h for i in range(WIDTH)]))
        sign = ir.Constant(_VECTOR, [-1.0 if i & h else 1.0 for i in range(WIDTH)])
        v = builder.call(_fma(builder), [sign, v, partner])
    return v


@intrinsic
def _within_vector(typingctx, array, offset):
    """The stages h = 1, 2, 4, 8 on array[offset : offset + 16]."""

    def codegen(context, builder, signature, args):
        pointer = _vector_pointer(context, builder, signature.args[0], *args)
        builder.store(_butterfly_within(builder, builder.load(pointer, align=4)), pointer, align=4)
        return context.get_dummy_value()

    return types.void(array, offset), codegen


@intrinsic
def _scaled_within(typingctx, src, src_offset, factor, out, offset):
    """out[o : o + 16] = the stages h = 1-8 of factor * src[so : so + 16] (so = src_offset,
    o = offset; factor a float32 vector's worth of int8 signs or a float32 scalar): the
    product that starts a block (B x, or s g in the transpose) and the first stages of its H
    in one pass, instead of writing the product and reading it back."""

    def codegen(context, builder, signature, args):
        src, src_offset, factor, out, offset = args
        kinds = signature.args
        x = builder.load(_vector_pointer(context, builder, kinds[0], src, src_offset), align=4)
        if isinstance(kinds[2], types.Array):  # int8 signs beside src
            data = _data(context, builder, kinds[2], factor)
            lanes = ir.VectorType(ir.IntType(8), WIDTH)
            signs = builder.load(
                builder.bitcast(builder.gep(data, [src_offset]), lanes.as_pointer()), align=1
            )
            f = builder.sitofp(signs, _VECTOR)
        else:
            f = _splat(builder, factor)
        v = _butterfly_within(builder, builder.fmul(f, x))
        builder.store(v, _vector_pointer(context, builder, kinds[3], out, offset), align=4)
        return context.get_dummy_value()

    return types.void(src, src_offset, factor, out, offset), codegen


@intrinsic
def _prefetch(typingctx, array, offset):
    """Ask for the cache line holding array[offset] (read, into L1). A prefetch never faults,
    so offset may run past the end, into the next block's row or beyond."""

    def codegen(context, builder, signature, args):
        data = _data(context, builder, signature.args[0], args[0])
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = builder.module.declare_intrinsic(
            "llvm.prefetch.p0", (), ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32])
        )
        pointer = builder.bitcast(builder.gep(data, [args[1]]), byte)
        builder.call(
            prefetch, [pointer, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        )
        return context.get_dummy_value()

    return types.void(array, offset), codegen


@intrinsic
def _gather_within(typingctx, table, index, scale, offset, out, out_offset):
    """out[p : p + 16] = the stages h = 1-8 of (table[index[o + k]] * scale[o + k])_k, o =
    offset, p = out_offset: the gather of Fastfood's Pi and G fused with the first stages of
    the H after it."""

    def codegen(context, builder, signature, args):
        table, index, scale, offset, out, out_offset = args
        kinds = signature.args
        table_data = _data(context, builder, kinds[0], table)
        index_data = _data(context, builder, kinds[1], index)
        # The indices come four (uint16) or two (int32) to a 64-bit load (little-endian),
        # split by shifts: load ports are what the gather runs short of (8-11% faster).
        bits = kinds[1].dtype.bitwidth
        word_type = ir.IntType(64)
        words = builder.bitcast(builder.gep(index_data, [offset]), word_type.as_pointer())
        mask = ir.Constant(word_type, (1 << bits) - 1)
        v = ir.Constant(_VECTOR, None)
        for k in range(WIDTH):
            if k * bits % 64 == 0:
                at = ir.Constant(word_type, k * bits // 64)
                word = builder.load(builder.gep(words, [at]), align=bits // 8)
            i = builder.and_(builder.lshr(word, ir.Constant(word_type, k * bits % 64)), mask)
            x = builder.load(builder.gep(table_data, [i]))
            v = builder.insert_element(v, x, ir.Constant(ir.IntType(32), k))
        g = builder.load(_vector_pointer(context, builder, kinds[2], scale, offset), align=4)
        v = _butterfly_within(builder, builder.fmul(v, g))
        builder.store(v, _vector_pointer(context, builder, kinds[4], out, out_offset), align=4)
        return context.get_dummy_value()

    return types.void(table, index, scale, offset, out, out_offset), codegen


def _across_vectors(levels: int):
    """An intrinsic doing ``levels`` stages on the 2**levels vectors at offset + k * stride."""

    @intrinsic
    def butterfly(typingctx, array, offset, stride):
        def codegen(context, builder, signature, args):
            array, offset, stride = args
            pointers = []
            for k in range(1 << levels):
                at = builder.add(offset, builder.mul(stride, ir.Constant(stride.type, k)))
                pointers.append(_vector_pointer(context, builder, signature.args[0], array, at))
            v = [builder.load(p, align=4) for p in pointers]
            fma, minus = _fma(builder), ir.Constant(_VECTOR, [-1.0] * WIDTH)
            h = 1
            while h < len(v):
                for k in range(len(v)):
                    if not k & h:
                        a, b = v[k], v[k + h]
                        v[k], v[k + h] = builder.fadd(a, b), builder.call(fma, [minus, b, a])
                h *= 2
            for p, x in zip(pointers, v, strict=True):
                builder.store(x, p, align=4)
            return context.get_dummy_value()

        return types.void(array, offset, stride), codegen

    return butterfly


@intrinsic
def _stream_shifted(typingctx, out, base, src, scale, offset, src_offset):
    """out[o : o + 16] = base[o : o + 16] + scale * src[so : so + 16] (multiply, then add, as
    the scalar loop does), stored past the cache: out is written once and read by the next
    layer, and a store that bypasses the cache does not first read the line it overwrites.
    o must be a multiple of 16 in an array aligned to 64 bytes."""

    def codegen(context, builder, signature, args):
        out, base, src, scale, offset, src_offset = args
        kinds = signature.args
        b = builder.load(_vector_pointer(context, builder, kinds[1], base, offset), align=4)
        x = builder.load(_vector_pointer(context, builder, kinds[2], src, src_offset), align=4)
        pointer = _vector_pointer(context, builder, kinds[0], out, offset)
        store = builder.store(builder.fadd(b, builder.fmul(_splat(builder, scale), x)), pointer,
                              align=64)  # fmt: skip
        one = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
        store.set_metadata("nontemporal", one)
        return context.get_dummy_value()

    return types.void(out, base, src, scale, offset, src_offset), codegen


@intrinsic
def store_fence(typingctx):
    """Order the streaming stores before whatever follows (another thread reads theta)."""

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@numba.njit(**_JIT)
def shifted_store(out, base, src, scale, lo, hi, src_lo):
    """out[lo:hi] = base[lo:hi] + scale * src[src_lo : src_lo + hi - lo], whole vectors
    streamed (out aligned to 64 bytes); call ``store_fence`` after the last."""
    i = lo
    head = min(hi, (lo + WIDTH - 1) // WIDTH * WIDTH)
    while i < head:
        out[i] = base[i] + scale * src[src_lo + i - lo]
        i += 1
    while i + WIDTH <= hi:
        _stream_shifted(out, base, src, scale, i, src_lo + i - lo)
        i += WIDTH
    while i < hi:
        out[i] = base[i] + scale * src[src_lo + i - lo]
        i += 1


_radix2, _radix4, _radix8, _radix16 = (_across_vectors(k) for k in (1, 2, 3, 4))


@numba.njit(inline="always", **_JIT)
def _pass(a, lo, hi, h, levels):
    """``levels`` stages from stride h (a multiple of 16) over a[lo:hi]."""
    for i in range(lo, hi, h << levels):
        for j in range(i, i + h, WIDTH):
            if levels == 4:
                _radix16(a, j, h)
            elif levels == 3:
                _radix8(a, j, h)
            elif levels == 2:
                _radix4(a, j, h)
            else:
                _radix2(a, j, h)


@numba.njit(**_JIT)
def _scalar(a):
    h = 1
    while h < a.shape[0]:
        for i in range(0, a.shape[0], 2 * h):
            for j in range(i, i + h):
                u, v = a[j], a[j + h]
                a[j], a[j + h] = u + v, u - v
        h *= 2


@numba.njit(inline="always", **_JIT)
def _across(a, lo, hi, h, stop):
    """The stages of strides h (16 or more), 2h, ... below ``stop`` on a[lo:hi], in passes of
    up to four."""
    while h < stop:
        levels = 0
        while levels < 4 and (h << levels) < stop:
            levels += 1
        _pass(a, lo, hi, h, levels)
        h <<= levels


@numba.njit(inline="always", **_JIT)
def _finish(a, lo, n):
    """The stages of stride 16 and up on a[lo : lo + n] whose groups of 16 are done: chunk by
    chunk while strides stay inside an L1-sized chunk, then across chunks (a 32,768-number
    block sits in L2, and one trip through it beats four). Ranges of a, not slices: before the
    inlining, a slice passed on made a block of 128 numbers 30 ns (40%) slower."""
    chunk = min(n, CHUNK)
    for c in range(lo, lo + n, chunk):
        _across(a, c, c + chunk, WIDTH, chunk)
    _across(a, lo, lo + n, chunk, n)


@numba.njit(**_JIT)
def fwht_inplace(a):
    """Unnormalised Walsh-Hadamard transform of a (contiguous float32, length a power of
    two), in place."""
    n = a.shape[0]
    if n < WIDTH:
        _scalar(a)
        return
    for q in range(0, n, WIDTH):
        _within_vector(a, q)
    _finish(a, 0, n)


@numba.njit(inline="always", **_JIT)
def signed_fwht(x, signs, out):
    """out = H (signs * x padded with zeros to out's length n), H unnormalised, n a power of
    two: Fastfood's H B x with the product made on the way into the first stages. The same
    operations as fwht_inplace on the product, so the same bits."""
    d, n = x.shape[0], out.shape[0]
    if n < WIDTH:
        for i in range(d):
            out[i] = signs[i] * x[i]
        out[d:] = 0.0
        _scalar(out)
        return
    whole = d // WIDTH * WIDTH
    for q in range(0, whole, WIDTH):
        _scaled_within(x, q, signs, out, q)
    for i in range(whole, d):
        out[i] = signs[i] * x[i]
    out[d:] = 0.0
    if whole < n:  # the vector d falls in; the ones after it are zeros and stay so
        _within_vector(out, whole)
    _finish(out, 0, n)


@numba.njit(inline="always", **_JIT)
def scaled_fwht(src, start, scale, out):
    """out = H (scale * src[start : start + n]), n = len(out) a power of two."""
    n = out.shape[0]
    if n < WIDTH:
        for i in range(n):
            out[i] = scale * src[start + i]
        _scalar(out)
        return
    for q in range(0, n, WIDTH):
        _scaled_within(src, start + q, scale, out, q)
    _finish(out, 0, n)


@numba.njit(inline="always", **_JIT)
def gather_fwht(table, index, scale, out, at, upcoming, upcoming_start):
    """out[at : at + n] = H (table[index] * scale), H unnormalised, index and scale of length
    n a power of two: the middle of Fastfood's products (H G Pi applied to H B x) in one pass
    over it. Asks for upcoming[upcoming_start : upcoming_start + n] on the way, a line for
    every 16 numbers: the D-sized input the next block starts with, which the hardware would
    otherwise fetch only when it is read."""
    n = index.shape[0]
    if n < WIDTH:
        for i in range(n):
            out[at + i] = table[index[i]] * scale[i]
        _scalar(out[at : at + n])
        return
    for q in range(0, n, WIDTH):
        _prefetch(index, q + AHEAD)
        _prefetch(scale, q + AHEAD)
        _prefetch(upcoming, upcoming_start + q)
        _gather_within(table, index, scale, q, out, at + q)
    _finish(out, at, n)
