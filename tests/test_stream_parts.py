"""The fused kernels with parts of their stream replaced (intdim.measure.stream_parts), under
Triton's CPU interpreter: the stand-ins are really in place, and only inside the block."""

import inspect
import itertools

import pytest
import torch

triton = pytest.importorskip("triton")

from intdim.fastfood import FastfoodProjection, kernels  # noqa: E402
from intdim.measure.stream_parts import (  # noqa: E402
    NO_STREAM,
    STANDIN_B,
    STANDIN_G,
    STREAM_PARTS,
    fused_kernels_without,
    kernel_without,
    removal_steps,
)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def test_without_any_stream_each_block_is_x_times_a_constant():
    # B = -1, G = 1.5, Pi the identity: a block is 1.5 * -1 * s * H H x = -1.5 s LL x, and the
    # transpose sums the blocks of g the same way. D = 300 ends inside the fifth block.
    d, D = 40, 300
    fastfood = kernels.FastfoodKernels(d, D, seed=3)
    LL, blocks, s = fastfood.LL, fastfood.blocks, fastfood.scale
    gen = torch.Generator().manual_seed(0)
    x, base, g = (torch.randn(n, generator=gen).to(DEVICE) for n in (d, D, D))
    with fused_kernels_without(NO_STREAM):
        theta, _ = fastfood.forward(x, base)
        back = fastfood.transpose(g)
    factor = STANDIN_G * STANDIN_B * s * LL
    padded = torch.zeros(LL, device=DEVICE)
    padded[:d] = x
    torch.testing.assert_close(theta, base + factor * padded.repeat(blocks)[:D])
    tiled = torch.zeros(blocks * LL, device=DEVICE)
    tiled[:D] = g
    torch.testing.assert_close(back, factor * tiled.view(blocks, LL).sum(0)[:d])


def test_the_copies_declare_the_same_compile_time_parameters_as_the_kernels():
    # Compiled (not interpreted), Triton reads tl.constexpr from the annotations: a copy
    # without them failed on the GPU at tl.arange(0, NB).
    for kernel in (kernels._forward_fused, kernels._transpose_fused):
        copy = kernel_without(kernel, NO_STREAM)
        assert "NB" in compile_time_parameters(kernel)
        assert compile_time_parameters(copy) == compile_time_parameters(kernel)


def compile_time_parameters(kernel) -> list[str]:
    """The parameters Triton compiles as constants, read as it reads them (the signature)."""
    parameters = inspect.signature(kernel.fn).parameters.items()
    return [name for name, p in parameters if "constexpr" in str(p.annotation)]


def test_the_real_kernels_are_back_after_the_block_even_after_an_error():
    d, D = 40, 300
    originals = (kernels._forward_fused, kernels._transpose_fused)
    with pytest.raises(RuntimeError, match="inside"):
        with fused_kernels_without(NO_STREAM):
            assert kernels._forward_fused is not originals[0]
            raise RuntimeError("inside")
    assert (kernels._forward_fused, kernels._transpose_fused) == originals
    x = torch.randn(d, device=DEVICE)
    theta, _ = kernels.FastfoodKernels(d, D, seed=3).forward(x)
    reference = FastfoodProjection(d, D, 3, device=DEVICE).forward(x)
    torch.testing.assert_close(theta, reference, rtol=1e-5, atol=1e-6)


def test_the_parts_come_off_one_after_another():
    steps = removal_steps()
    assert [part for part, _ in steps] == [None] + [part for part, _ in STREAM_PARTS]
    assert steps[0][1] == {} and steps[-1][1] == NO_STREAM
    for (_, before), (_, after) in itertools.pairwise(steps):
        assert set(before) <= set(after)
    # G is replaced twice (its transcendentals, then its hashes): the later stand-in counts.
    assert steps[2][1]["_gaussians"] is STREAM_PARTS[1][1]["_gaussians"]
