"""The fused CPU Fastfood (Numba) against the PyTorch reference: the same stream, the same
products to float32 rounding, the same training."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from intdim.fastfood import FastfoodProjection, cpu, fwht, stream
from intdim.fastfood.cpu import CpuFastfoodProjection
from intdim.fastfood.simd import fwht_inplace, scaled_fwht, signed_fwht
from intdim.method.subspace import SubspaceModel, SubspaceSettings
from intdim.projections.base import Segments
from intdim.projections.registry import make_projection
from package_copy import copy_package, run_against_copy
from test_fastfood_reference import sylvester
from tiny_models import tiny_batch, tiny_classifier


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32, 64, 128, 2048, 4096])
def test_butterfly_equals_the_hadamard_matrix(n):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    out = x.copy()
    fwht_inplace(out)
    np.testing.assert_allclose(out, sylvester(n) @ x.astype(np.float64), rtol=0, atol=1e-4 * n)


@pytest.mark.parametrize("n", [8192, 2**15, 2**17])
def test_butterfly_beyond_one_chunk_equals_the_reference(n):
    # Beyond 4,096 numbers the strides inside a chunk are done chunk by chunk, then across.
    x = torch.from_numpy(np.random.default_rng(n).standard_normal(n).astype(np.float32))
    out = x.numpy().copy()
    fwht_inplace(out)
    expected = fwht(x.double()).numpy()  # the reference, checked against the dense matrix
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("d", [1, 5, 9, 16, 17, 700, 4096])
def test_a_block_starts_with_the_same_bits_fused_or_not(d):
    # H B x and H (s g) made on the way into the butterfly, against the product written out
    # first and transformed after (what the kernels did before): equal to the bit.
    rng = np.random.default_rng(d)
    n = 1 << (d - 1).bit_length()
    x = rng.standard_normal(d).astype(np.float32)
    signs = rng.choice(np.array([-1, 1], np.int8), d)
    expected = np.zeros(n, np.float32)
    expected[:d] = signs * x
    fwht_inplace(expected)
    out = np.full(n, np.nan, np.float32)
    signed_fwht(x, signs, out)
    assert np.array_equal(out, expected)
    g, s = rng.standard_normal(n + 5).astype(np.float32), np.float32(0.37)
    expected = s * g[5:]
    fwht_inplace(expected)
    scaled_fwht(g, 5, s, out)
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("d,D", [(1, 9), (5, 100), (64, 64), (700, 3001), (1000, 100_000)])
def test_stream_is_the_reference_stream(d, D):
    cpu, ref = CpuFastfoodProjection(d, D, seed=3), FastfoodProjection(d, D, seed=3)
    assert np.array_equal(cpu.Pi, ref.Pi.numpy())  # bit for bit
    assert np.array_equal(cpu.B, ref.B[:, :d].numpy())
    # libm's log and cos against PyTorch's: a few float32 ulps at most.
    np.testing.assert_allclose(cpu.G, ref.G.numpy(), rtol=1e-6, atol=1e-6 * ref.scale)


@pytest.mark.parametrize("d,D", [(3, 7), (40, 5_000), (3000, 200_000)])
def test_products_equal_the_reference_to_float32_rounding(d, D):
    cpu, ref = CpuFastfoodProjection(d, D, seed=5), FastfoodProjection(d, D, seed=5)
    x, y, base = torch.randn(d), torch.randn(D), torch.randn(D)
    for a, b in [
        (cpu.forward(x), ref.forward(x)),
        (cpu.transpose(y), ref.transpose(y)),
        (cpu.shifted_forward(x, base)[0], ref.shifted_forward(x, base)[0]),
    ]:
        assert ((a - b).norm() / b.norm()).item() < 1e-6


def test_scaled_shifted_forward_is_base_plus_scale_times_px_exactly():
    # Segments of odd lengths put every run's ends off the 16-float vectors, so the streamed
    # body and the scalar head and tail all write; each must compute base + s * (P x).
    sizes = [5, 37, 1000, 3, 2955]
    D = sum(sizes)
    segments = Segments.from_sizes(sizes, [0, 1, 2, 3, 4], "cpu")
    scale = torch.tensor([0.5, -2.0, 3.0, 0.25, 1.5])
    cpu, ref = CpuFastfoodProjection(50, D, seed=2), FastfoodProjection(50, D, seed=2)
    x, base = torch.randn(50), torch.randn(D)
    out, px = cpu.shifted_forward(x, base, segments, scale, keep_px=True)
    per_coordinate = torch.repeat_interleave(scale, torch.tensor(sizes))
    assert torch.equal(out, base + per_coordinate * px)
    expected = ref.shifted_forward(x, base, segments, scale)[0]
    assert ((out - expected).norm() / expected.norm()).item() < 1e-6


def test_blocks_of_up_to_16_numbers_go_in_batches():
    for d, path in ((16, cpu._forward_small), (17, cpu._forward), (32, cpu._forward)):
        proj = CpuFastfoodProjection(d, 5_001, seed=0)
        small = path is cpu._forward_small
        assert proj._forward is path, d
        assert proj._transpose is (cpu._transpose_small if small else cpu._transpose), d


@pytest.mark.parametrize("d", [1, 2, 3, 16, 17, 31, 32, 33, 64])
def test_small_blocks_give_the_vector_paths_bits(d):
    # Either path may take blocks of up to 64 numbers (SMALL_BLOCK is a speed choice that
    # differs by CPU); every product must equal the vector path's to the bit, SAID's
    # segments (ends inside blocks) and P x included.
    proj = CpuFastfoodProjection(d, 5_001, seed=d)
    segments = Segments.from_sizes([7, 2000, 2994], [0, 1, 2], "cpu")
    starts, values = segments.starts.numpy(), np.array([0.5, -2.0, 3.0], np.float32)
    rng = np.random.default_rng(d)
    x = rng.standard_normal(d).astype(np.float32)
    y, base = rng.standard_normal((2, 5_001)).astype(np.float32)
    for kernel in (cpu._forward_small, cpu._forward):
        out, px = aligned(5_001), np.empty(5_001, np.float32)  # streaming stores need 64 B
        kernel(x, proj.B, proj.G, proj.Pi, base, starts, values, px, out)
        plain = np.empty(5_001, np.float32)
        kernel(x, proj.B, proj.G, proj.Pi, cpu._NO_VALUES, cpu._NO_STARTS, cpu._NO_VALUES,
               cpu._NO_VALUES, plain)  # fmt: skip
        acc, plain_acc = np.empty((2, d), np.float32)
        transpose = cpu._transpose_small if kernel is cpu._forward_small else cpu._transpose
        transpose(y, proj.B, proj.G_inverse, proj.Pi_inverse, starts, values, acc)
        transpose(y, proj.B, proj.G_inverse, proj.Pi_inverse, cpu._NO_STARTS, cpu._NO_VALUES,
                  plain_acc)  # fmt: skip
        if kernel is cpu._forward_small:
            small = (out, px, plain, acc, plain_acc)
    for a, b in zip(small, (out, px, plain, acc, plain_acc), strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(out, base)


def aligned(n: int) -> np.ndarray:
    raw = np.empty(n + 16, np.float32)
    skip = (-raw.ctypes.data % 64) // 4
    return raw[skip : skip + n]


def test_state_is_thirteen_bytes_an_output_coordinate():
    proj = CpuFastfoodProjection(d=1000, D=100_000, seed=0)
    assert proj.blocks == 98 and proj.LL == 1024
    assert proj.state_bytes() == proj.blocks * (1000 * 1 + 2 * (1024 * 4 + 1024 * 2))


def test_the_transpose_reads_the_inverse_of_pi_and_g_in_its_order():
    proj = CpuFastfoodProjection(d=100, D=1000, seed=4)
    for j in range(proj.blocks):
        assert np.array_equal(proj.Pi_inverse[j][proj.Pi[j]], np.arange(proj.LL))
        assert np.array_equal(proj.G_inverse[j][proj.Pi[j]], proj.G[j])


def test_pi_needs_32_bits_only_beyond_65536():
    small, large = CpuFastfoodProjection(2**16, 2**16, 0), CpuFastfoodProjection(2**16 + 1, 10, 0)
    assert small.Pi.dtype == np.uint16 and small.Pi.max() == 2**16 - 1
    assert large.Pi.dtype == np.int32 and sorted(large.Pi[0]) == list(range(2**17))


def test_auto_picks_it_on_the_cpu_and_the_reference_when_asked():
    assert isinstance(make_projection("fastfood", 10, 100, 0), CpuFastfoodProjection)
    assert type(make_projection("fastfood", 10, 100, 0, backend="torch")) is FastfoodProjection


def test_rejects_other_dtypes_by_name():
    with pytest.raises(TypeError, match="float32, got torch.float64"):
        CpuFastfoodProjection(4, 20, 0).forward(torch.zeros(4, dtype=torch.float64))


@pytest.mark.parametrize("method", ["did", "said"])
def test_training_follows_the_reference(method):
    """Five AdamW steps of a tiny BERT with each backend end at the same theta_d."""
    finals = []
    for backend in ("torch", "numba"):
        model = tiny_classifier("bert", seed=0)
        net = SubspaceModel(model, SubspaceSettings(60, method=method, seed=1, backend=backend))
        opt = torch.optim.AdamW(net.trainable_parameters(), lr=1e-2)
        batch = {**tiny_batch(seed=0), "labels": torch.tensor([0, 2, 1])}
        for _ in range(5):
            loss = net(**batch).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        finals.append(torch.cat([p.detach().reshape(-1) for p in net.trainable_parameters()]))
    torch.testing.assert_close(finals[0], finals[1], rtol=1e-4, atol=1e-5)


def test_theta_reuses_its_buffer_only_once_nothing_holds_it():
    proj = CpuFastfoodProjection(d=50, D=5000, seed=3)
    x, base = torch.randn(50), torch.randn(5000)
    first = proj.shifted_forward(x, base)[0]
    kept = first.clone()
    second = proj.shifted_forward(2 * x, base)[0]
    assert second.data_ptr() != first.data_ptr() and torch.equal(first, kept)
    where = second.data_ptr()
    del second
    third = proj.shifted_forward(x, base)[0]
    assert third.data_ptr() == where and torch.equal(third, kept)
    view = third[10:20]  # a view holds the buffer as well
    del third
    fourth = proj.shifted_forward(2 * x, base)[0]
    assert fourth.data_ptr() != where and torch.equal(view, kept[10:20])
    assert fourth.data_ptr() % 64 == 0  # the streaming stores' alignment


def test_training_writes_every_theta_into_one_buffer():
    # The step's backward releases theta, so the next forward reuses its memory instead of
    # page-faulting in a fresh D floats.
    net = SubspaceModel(tiny_classifier("bert", seed=0), SubspaceSettings(60, seed=1))
    opt = torch.optim.AdamW(net.trainable_parameters(), lr=1e-2)
    batch = {**tiny_batch(seed=0), "labels": torch.tensor([0, 2, 1])}
    buffers = set()
    for _ in range(4):
        loss = net(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        buffers.add(net.projection._theta.ctypes.data)
    assert len(buffers) == 1


def test_the_stream_keys_match_the_hashed_reference():
    """The block keys the kernel is handed are the reference's (a wrong stream name or a
    swapped key would change every number)."""
    ids = torch.arange(1000)
    ref = stream.block_keys(stream.stream_key(2, "PI"), ids)
    from intdim.fastfood.cpu import _block_keys

    assert _block_keys(2, "PI", 1000).tolist() == ref.tolist()


def test_the_warm_up_compiles_both_block_paths():
    # make setup's warm_up is what keeps jobs from compiling: in a fresh process it must leave
    # every product compiled, the small-block and the vector path alike.
    products = "_forward _forward_small _transpose _transpose_small _segment_dots"
    code = (f"from intdim.fastfood import cpu; cpu.warm_up(); "
            f"print([n for n in {products.split()!r} if not getattr(cpu, n).signatures])")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_checkout_changed_in_simd_alone_does_not_run_the_cached_old_code(tmp_path):
    # Numba checks a cached function against its own file only, and cpu.py's products have
    # simd.py's code compiled in: a change there alone must reach them.
    package = copy_package(tmp_path)
    code = ("import torch; from intdim.fastfood.cpu import CpuFastfoodProjection; "
            "p = CpuFastfoodProjection(5, 192, seed=0); "
            "print(float(p.shifted_forward(torch.ones(5), torch.zeros(192))[0].sum()))")  # fmt: skip

    def theta_sum() -> float:
        return float(run_against_copy(package, code))

    before = theta_sum()
    assert list((package / "fastfood" / "__pycache__").glob("cpu._forward_small*.nbc"))
    # theta_0 - s P x for theta_0 + s P x in the streaming store, which writes all 192 numbers
    simd = package / "fastfood" / "simd.py"
    text = simd.read_text()
    assert text.count("builder.fadd(b, builder.fmul(") == 1
    simd.write_text(text.replace("builder.fadd(b, builder.fmul(", "builder.fsub(b, builder.fmul("))
    assert theta_sum() == -before != 0


def test_the_module_imports_with_numba_switched_off():
    # NUMBA_DISABLE_JIT, for debugging: no compiled functions, so no cache to check.
    done = subprocess.run([sys.executable, "-c", "import intdim.fastfood.cpu"],
                          capture_output=True, text=True,
                          env={**os.environ, "NUMBA_DISABLE_JIT": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
