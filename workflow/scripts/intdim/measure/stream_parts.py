"""The fused Fastfood kernels with parts of their counter-based stream replaced by constants:
what each part costs, in compiled instructions (``compiled.stream_breakdown``) and in time on a
GPU (``tools/tune_fastfood_kernels.py --stream-breakdown``).

A kernel without a part is a copy of the kernel whose globals hold a stand-in under the part's
name (``kernel_without``): the real kernel, its module and Triton's cache of it stay as they
are, and the copy's cache key differs, because Triton hashes the functions a kernel calls.
Without any stream a block is -1.5 s H H x = -1.5 s LL x (B = -1, G = 1.5, Pi the identity),
which is how the tests know the stand-ins are in place. These products are for timing only.
"""

from __future__ import annotations

import contextlib
import types

import triton
import triton.language as tl

from ..fastfood import kernels as fastfood_kernels
from ..fastfood.triton_parts import _UNIFORM_SCALE, _UNIFORM_SHIFT, _block_key, _hashed

# The fused DID kernels the breakdown rebuilds, by their names in ``fastfood.kernels``.
FUSED_KERNELS = ("_forward_fused", "_transpose_fused")
STANDIN_G, STANDIN_B = 1.5, -1.0
_STANDIN_G, _STANDIN_B = tl.constexpr(STANDIN_G), tl.constexpr(STANDIN_B)  # as a kernel reads them


@triton.jit
def _uniform_product(key1, key2, blocks, index):
    """G's two hashes and uniforms as in ``_gaussians``, without Box-Muller's log, sqrt, cos."""
    h1 = _hashed(_block_key(key1, blocks)[:, None], index[None, :])
    h2 = _hashed(_block_key(key2, blocks)[:, None], index[None, :])
    u1 = ((h1 >> _UNIFORM_SHIFT) + 1).to(tl.float32) * _UNIFORM_SCALE
    return u1 * (h2 >> _UNIFORM_SHIFT).to(tl.float32)


@triton.jit
def _constant_g(key1, key2, blocks, index):
    return tl.zeros((blocks.shape[0], index.shape[0]), tl.float32) + _STANDIN_G


@triton.jit
def _constant_b(key, blocks, index):
    return tl.zeros((blocks.shape[0], index.shape[0]), tl.float32) + _STANDIN_B


@triton.jit
def _identity_pi(key, blocks, index, BITS: tl.constexpr, INVERSE: tl.constexpr):
    return tl.zeros((blocks.shape[0], index.shape[0]), tl.int32) + index[None, :].to(tl.int32)


# Removed one after another, each with those before it: (part, {kernel global: stand-in}).
STREAM_PARTS = [
    ("Box-Muller's log, sqrt and cos", {"_gaussians": _uniform_product}),
    ("G's two hashes", {"_gaussians": _constant_g}),
    ("B's hash", {"_signs": _constant_b}),
    ("Pi's Feistel rounds", {"_permutation": _identity_pi}),
]
NO_STREAM = {name: standin for _, parts in STREAM_PARTS for name, standin in parts.items()}


def removal_steps() -> list[tuple[str | None, dict]]:
    """(the part removed at this step, every stand-in so far): the whole stream first (None)."""
    steps, standins = [(None, {})], {}
    for part, parts in STREAM_PARTS:
        standins = {**standins, **parts}
        steps.append((part, standins))
    return steps


def kernel_without(kernel, standins: dict):
    """A copy of the jitted ``kernel`` that calls ``standins`` (name -> jitted function) in
    place of the functions of those names."""
    fn = kernel.fn
    names = dict(fn.__globals__, **standins)
    copy = types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__module__, copy.__qualname__, copy.__doc__ = fn.__module__, fn.__qualname__, fn.__doc__
    # Triton reads which parameters are tl.constexpr from the annotations.
    copy.__annotations__, copy.__kwdefaults__ = dict(fn.__annotations__), fn.__kwdefaults__
    return triton.jit(copy)


@contextlib.contextmanager
def fused_kernels_without(standins: dict):
    """Within the block, ``FastfoodKernels`` launches copies of the fused DID kernels that
    call ``standins``; the real kernels are back afterwards, whatever happens."""
    saved = {name: getattr(fastfood_kernels, name) for name in FUSED_KERNELS}
    try:
        for name, kernel in saved.items():
            setattr(fastfood_kernels, name, kernel_without(kernel, standins))
        yield
    finally:
        for name, kernel in saved.items():
            setattr(fastfood_kernels, name, kernel)
