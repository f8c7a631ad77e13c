"""The Triton Fastfood kernels against the PyTorch reference.

On a machine with a CUDA GPU the kernels are compiled and run there; without one they run on
the CPU under Triton's interpreter (TRITON_INTERPRET=1, which conftest.py sets), at sizes small
enough for it. Skipped when Triton is not installed.
"""

import pytest
import torch

GPU = torch.cuda.is_available()
triton = pytest.importorskip("triton")

from allocations import Allocations  # noqa: E402
from intdim.fastfood import FastfoodProjection, factored  # noqa: E402
from intdim.fastfood.kernels import (  # noqa: E402
    FUSED_MAX,
    HADAMARDS,
    MULTI_PASS_SCHEMES,
    WORK_ELEMENTS,
    FastfoodKernels,
    TritonFastfoodProjection,
    _block_index,
)
from intdim.fastfood.transform import radix_plan  # noqa: E402
from intdim.fastfood.triton_parts import MAX_RADIX, RADIX_FACTORS, radix_factors  # noqa: E402
from intdim.method.subspace import SubspaceModel, SubspaceSettings  # noqa: E402
from intdim.projections.base import Projection, Segments, shift  # noqa: E402
from intdim.projections.registry import make_projection  # noqa: E402
from tiny_models import tiny_batch, tiny_classifier  # noqa: E402

DEVICE = "cuda" if GPU else "cpu"
# Multi-pass (LL above fused_max) is exercised on small blocks by lowering fused_max.
SMALL_FUSED_MAX = FUSED_MAX if GPU else 32
# (d, D, fused_max): single blocks, many blocks, d a power of two, D not a multiple of LL,
# d = 1, and the multi-pass scheme.
CASES = [
    (1, 9, FUSED_MAX),
    (3, 7, FUSED_MAX),
    (5, 100, FUSED_MAX),
    (64, 64, FUSED_MAX),
    (40, 5_000, FUSED_MAX),
    (700, 3_001, FUSED_MAX),
    (100, 700, SMALL_FUSED_MAX),
]
if GPU:
    CASES += [(10_000, 2_000_000, FUSED_MAX), (100_000, 3_000_000, FUSED_MAX)]


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


def _pair(d, D, fused_max, seed=3, **knobs):
    ref = FastfoodProjection(d, D, seed, device=DEVICE)
    kern = TritonFastfoodProjection(d, D, seed, device=DEVICE, fused_max=fused_max, **knobs)
    return ref, kern


# Every case with the default transform; the tensor-core one (a knob) on the CPU at one fused
# case (the schemes' test takes it through both multi-pass schemes), on a GPU at every case.
PRODUCT_CASES = [
    (*case, hadamard)
    for case in CASES
    for hadamard in HADAMARDS
    if GPU or hadamard == HADAMARDS[0] or case == CASES[-2]
]


@pytest.mark.parametrize("d,D,fused_max,hadamard", PRODUCT_CASES)
def test_products_match_the_reference(d, D, fused_max, hadamard):
    ref, kern = _pair(d, D, fused_max, hadamard=hadamard)
    assert kern.kernels.fused == (kern.LL <= fused_max)
    gen = torch.Generator(device=DEVICE).manual_seed(0)
    x = torch.randn(d, device=DEVICE, generator=gen)
    y = torch.randn(D, device=DEVICE, generator=gen)
    assert _relative_error(kern.forward(x), ref.forward(x)) < 1e-5
    assert _relative_error(kern.transpose(y), ref.transpose(y)) < 1e-5
    # The adjoint identity <P x, y> = <x, P^T y> holds for the kernels on their own.
    lhs = torch.dot(kern.forward(x).double(), y.double())
    rhs = torch.dot(x.double(), kern.transpose(y).double())
    assert abs(lhs - rhs) <= 1e-5 * (lhs.abs() + 1)


# Both multi-pass schemes: on the CPU grids of 8 x 16 (an odd number of index bits), 16 x 16
# and 32 x 32; on a GPU 128 x 128 and 256 x 512.
SCHEME_CASES = (
    [(10_000, 200_000, FUSED_MAX), (100_000, 1_000_000, FUSED_MAX)]
    if GPU
    else [(100, 700, 32), (200, 1_000, 32), (1_000, 2_500, 64)]
)


# The tensor-core transform on the CPU at the smallest grid only (the interpreter runs its
# dots at a few times the butterflies' cost), on a GPU at both.
@pytest.mark.parametrize(
    "d,D,fused_max,multi_pass,hadamard",
    [
        (*case, multi_pass, hadamard)
        for case in SCHEME_CASES
        for multi_pass in MULTI_PASS_SCHEMES
        for hadamard in HADAMARDS
        if GPU or hadamard == HADAMARDS[0] or case == SCHEME_CASES[0]
    ],
)
def test_both_multi_pass_schemes_match_the_reference(d, D, fused_max, multi_pass, hadamard):
    ref, kern = _pair(d, D, fused_max, seed=4, multi_pass=multi_pass, hadamard=hadamard)
    assert kern.kernels.plan()[0] == multi_pass and kern.kernels.plan()[-1] == hadamard
    gen = torch.Generator(device=DEVICE).manual_seed(2)
    x = torch.randn(d, device=DEVICE, generator=gen)
    y = torch.randn(D, device=DEVICE, generator=gen)
    assert _relative_error(kern.forward(x), ref.forward(x)) < 1e-5
    assert _relative_error(kern.transpose(y), ref.transpose(y)) < 1e-5


def test_factored_blocks_go_up_to_two_to_the_26_and_larger_ones_gather():
    assert factored.fits(26) and not factored.fits(27)
    for d, scheme in ((1 << 26, "factored"), ((1 << 26) + 1, "gather")):
        assert FastfoodKernels(d, d, seed=0, multi_pass="factored").plan()[0] == scheme
    plan = FastfoodKernels(4_000_000, 124_646_402, seed=0, multi_pass="factored").plan()
    assert plan == ("factored", 2048, 2048, 1, "butterfly")  # 2**11 x 2**11, 1 a group
    # The default is the scheme that was faster on an H200: rows of 2**13, 4 blocks a group.
    default = ("gather", 8192, 4, "butterfly")
    assert FastfoodKernels(4_000_000, 124_646_402, seed=0).plan() == default
    with pytest.raises(ValueError, match="multi_pass must be one of .* got 'scatter'"):
        FastfoodKernels(100, 700, seed=0, multi_pass="scatter")
    with pytest.raises(ValueError, match="hadamard must be one of .* got 'fft'"):
        FastfoodKernels(100, 700, seed=0, hadamard="fft")


def test_the_memory_model_counts_the_default_scratch():
    from intdim.measure.memory import SCRATCH

    kernels = FastfoodKernels(1_000_000, 124_646_402, seed=0)  # blocks of 4 MiB, 16 a group
    assert kernels.work_bytes() == SCRATCH == 2 * WORK_ELEMENTS * 4


@pytest.mark.skipif(GPU, reason="the interpreter's small blocks; a GPU runs larger ones above")
def test_the_transposes_sums_over_runs_of_blocks_continue_across_groups(monkeypatch):
    # Runs of 4 blocks (SUM_BLOCKS, 64 by default) against groups of 3: 10 blocks as groups
    # 0-2 | 3-5 | 6-8 | 9 and runs 0-3 | 4-7 | 8-9, so every group but the first continues a
    # partial sum that the one before began, and must give the bits of one group of all.
    monkeypatch.setattr(factored, "SUM_BLOCKS", 4)
    d, D = 40, 10 * 64 - 20
    knobs = dict(fused_max=16, multi_pass="factored")
    whole = TritonFastfoodProjection(d, D, 9, DEVICE, work_elements=1 << 30, **knobs)
    grouped = TritonFastfoodProjection(d, D, 9, DEVICE, work_elements=3 * 64 + 3, **knobs)
    assert (whole.kernels.group, grouped.kernels.group) == (10, 3)
    assert whole.kernels.factored.runs == 3
    g = torch.randn(D, generator=torch.Generator().manual_seed(3))
    assert torch.equal(grouped.transpose(g), whole.transpose(g))
    ref = FastfoodProjection(d, D, 9, device=DEVICE)
    assert _relative_error(whole.transpose(g), ref.transpose(g)) < 1e-5


# (fused_max, D, tensor sizes, their groups): short segments, where every tile crosses a
# boundary; and long ones, where most tiles lie inside one segment (the scalar-lookup path).
SEGMENT_CASES = [
    (FUSED_MAX, 700, [100, 250, 50, 300], [0, 1, 1, 2]),
    (SMALL_FUSED_MAX, 700, [100, 250, 50, 300], [0, 1, 1, 2]),
    (FUSED_MAX, 12_000, [9_000, 2_500, 500], [0, 1, 2]),
]


@pytest.mark.parametrize("fused_max,D,sizes,groups", SEGMENT_CASES)
def test_shifted_and_scaled_products_match_the_reference(fused_max, D, sizes, groups):
    d = 100
    ref, kern = _pair(d, D, fused_max, seed=8)
    gen = torch.Generator(device=DEVICE).manual_seed(1)
    x = torch.randn(d, device=DEVICE, generator=gen)
    base = torch.randn(D, device=DEVICE, generator=gen)
    g = torch.randn(D, device=DEVICE, generator=gen)
    segments = Segments.from_sizes(sizes, groups, DEVICE)
    assert segments.starts[-1] == D
    scale = torch.tensor([0.5, 2.0, -1.5], device=DEVICE)
    # The reference composes the products with elementwise PyTorch: Projection's defaults.
    expected, expected_px = Projection.shifted_forward(ref, x, base, segments, scale, True)
    out, px = kern.shifted_forward(x, base, segments, scale, keep_px=True)
    assert _relative_error(out, expected) < 1e-6
    assert _relative_error(px, expected_px) < 1e-5
    assert _relative_error(kern.shifted_forward(x, base)[0], base + ref.forward(x)) < 1e-6
    expected_t = Projection.scaled_transpose(ref, g, segments, scale)
    assert _relative_error(kern.scaled_transpose(g, segments, scale), expected_t) < 1e-5


# A multi-pass case with several blocks: 6 of LL = 128 on the CPU, 13 of LL = 16,384 on a GPU.
MULTI_PASS = (10_000, 200_000, FUSED_MAX) if GPU else (100, 700, SMALL_FUSED_MAX)


@pytest.mark.parametrize("multi_pass", MULTI_PASS_SCHEMES)
def test_multi_pass_groups_of_blocks_give_the_bits_of_one_group(multi_pass):
    d, D, fused_max = MULTI_PASS
    knobs = dict(fused_max=fused_max, multi_pass=multi_pass)
    whole = TritonFastfoodProjection(d, D, 5, DEVICE, work_elements=1 << 30, **knobs)
    LL = whole.LL
    # 4 blocks a group (the last one shorter), whatever the remainder of work_elements.
    grouped = TritonFastfoodProjection(d, D, 5, DEVICE, work_elements=4 * LL + 7, **knobs)
    assert whole.kernels.plan()[0] == grouped.kernels.plan()[0] == multi_pass
    assert not whole.kernels.fused and whole.blocks % 4 != 0
    assert (whole.kernels.group, grouped.kernels.group) == (whole.blocks, 4)
    assert grouped.kernels.work_bytes() == 2 * 4 * LL * 4
    assert whole.kernels.work_bytes() == 2 * whole.blocks * LL * 4
    gen = torch.Generator(device=DEVICE).manual_seed(6)
    x = torch.randn(d, device=DEVICE, generator=gen)
    base = torch.randn(D, device=DEVICE, generator=gen)
    g = torch.randn(D, device=DEVICE, generator=gen)
    segments = Segments.from_sizes([D // 2, D - D // 2 - 50, 50], [0, 1, 2], DEVICE)
    scale = torch.tensor([0.5, 2.0, -1.5], device=DEVICE)
    out, px = grouped.shifted_forward(x, base, segments, scale, keep_px=True)
    out_whole, px_whole = whole.shifted_forward(x, base, segments, scale, keep_px=True)
    assert torch.equal(out, out_whole) and torch.equal(px, px_whole)
    # The transpose adds the groups' sums in the order one group adds its blocks.
    transposed = grouped.scaled_transpose(g, segments, scale)
    assert torch.equal(transposed, whole.scaled_transpose(g, segments, scale))
    assert torch.equal(grouped.transpose(g), whole.transpose(g))
    ref = FastfoodProjection(d, D, 5, device=DEVICE)
    assert _relative_error(grouped.forward(x), ref.forward(x)) < 1e-5
    assert _relative_error(grouped.transpose(g), ref.transpose(g)) < 1e-5


def test_segments_merge_consecutive_tensors_of_one_group():
    segments = Segments.from_sizes([100, 250, 50, 300], [0, 1, 1, 2], "cpu")
    assert segments.lengths.tolist() == [100, 300, 300]
    assert segments.starts.tolist() == [0, 100, 400, 700]
    assert segments.groups.tolist() == [0, 1, 2]


def test_segment_dots_match_the_reference_across_chunks():
    D = 200_000
    kern = TritonFastfoodProjection(4, D, 0, device=DEVICE)
    segments = Segments.from_sizes([150_000, 20_000, 30_000], [0, 1, 0], DEVICE)
    # Runs longer than one chunk are cut: 150,000 = 65,536 + 65,536 + 18,928.
    assert segments.chunks_per_segment.tolist() == [3, 1, 1]
    assert segments.chunk_lengths.tolist() == [65_536, 65_536, 18_928, 20_000, 30_000]
    gen = torch.Generator(device=DEVICE).manual_seed(4)
    a = torch.randn(D, device=DEVICE, generator=gen)
    b = torch.randn(D, device=DEVICE, generator=gen)
    expected = torch.stack([(a[:150_000] * b[:150_000]).double().sum(),
                            (a[150_000:170_000] * b[150_000:170_000]).double().sum(),
                            (a[170_000:] * b[170_000:]).double().sum()])  # fmt: skip
    got = kern.segment_dots(a, b, segments).double()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-3)
    reference = Projection.segment_dots(kern, a, b, segments).double()
    torch.testing.assert_close(reference, expected, rtol=1e-5, atol=1e-3)


def test_transpose_is_bitwise_reproducible():
    kern = TritonFastfoodProjection(40, 5_000, 2, device=DEVICE)
    y = torch.randn(5_000, device=DEVICE, generator=torch.Generator(DEVICE).manual_seed(2))
    assert torch.equal(kern.transpose(y), kern.transpose(y))


@pytest.mark.parametrize("method", ["did", "said"])
def test_subspace_training_step_is_the_same_on_both_backends(method):
    results = {}
    for backend in ("torch", "triton"):
        torch.manual_seed(0)
        model = tiny_classifier("bert").to(DEVICE)
        sub = SubspaceModel(model, SubspaceSettings(120, method=method, seed=1, backend=backend))
        if backend == "triton":
            assert sub.projection.state_bytes() == 0
        with torch.no_grad():
            sub.theta_d.normal_(generator=torch.Generator(DEVICE).manual_seed(0))
            if sub.lambdas is not None:
                sub.lambdas.uniform_(0.5, 2.0, generator=torch.Generator(DEVICE).manual_seed(1))
        batch = {k: v.to(DEVICE) for k, v in tiny_batch(batch=4).items()}
        loss = sub(**batch, labels=torch.tensor([0, 1, 2, 0], device=DEVICE)).loss
        loss.backward()
        grads = [p.grad for p in sub.trainable_parameters()]
        results[backend] = (loss.detach(), grads)
    (loss_t, grads_t), (loss_k, grads_k) = results["torch"], results["triton"]
    torch.testing.assert_close(loss_k, loss_t, rtol=1e-5, atol=1e-6)
    for gk, gt in zip(grads_k, grads_t, strict=True):
        assert _relative_error(gk, gt) < 1e-4


def test_backend_choice():
    assert isinstance(
        make_projection("fastfood", 4, 50, 0, backend="triton"), TritonFastfoodProjection
    )
    # On the CPU "auto" is the fused Numba kernel (test_fastfood_cpu.py).
    assert make_projection("fastfood", 4, 50, 0, device="cpu").name == "fastfood"
    expected = TritonFastfoodProjection if GPU else Projection
    assert isinstance(make_projection("fastfood", 4, 50, 0, device=DEVICE), expected)
    assert make_projection("fastfood", 4, 50, 0, backend="triton").state_bytes() == 0
    with pytest.raises(ValueError, match="unknown projection backend 'cuda'"):
        make_projection("fastfood", 4, 50, 0, backend="cuda")
    with pytest.raises(ValueError, match="fused_max must be a power of two >= 16, got 48"):
        TritonFastfoodProjection(4, 50, 0, device=DEVICE, fused_max=48)
    with pytest.raises(ValueError, match="work_elements must be >= 1, got 0"):
        TritonFastfoodProjection(4, 50, 0, device=DEVICE, work_elements=0)
    with pytest.raises(ValueError, match="tile_elements must be a power of two, got 3000"):
        TritonFastfoodProjection(4, 50, 0, device=DEVICE, tile_elements=3000)


def test_shift_checks_its_arguments():
    proj = make_projection("fastfood", 4, 50, 0)
    with pytest.raises(ValueError, match=r"base of shape \(50,\), got \(49,\)"):
        shift(proj, torch.zeros(4), torch.zeros(49))
    with pytest.raises(ValueError, match="lambdas and segments go together"):
        shift(proj, torch.zeros(4), torch.zeros(50), lambdas=torch.ones(2))


@pytest.mark.parametrize("k", range(0, 17))
def test_kernel_tile_plan_is_the_transform_plan(k):
    """The kernels take their Hadamard factors from the transform's one planner."""
    plan = radix_factors(1 << k)
    assert plan == radix_plan(1 << k, MAX_RADIX, RADIX_FACTORS)
    assert len(plan) == RADIX_FACTORS and max(plan) <= MAX_RADIX


def _gather_pass_args(kernels, D, like):
    """The (common, flags) arguments of the gather scheme's passes for a product without SAID
    scales, built as ``FastfoodKernels.forward`` builds them (D: the D the passes mask at)."""
    seg, has_scale, steps = kernels._segments(like, None, None)
    common = dict(d=kernels.d, D=D, scale=kernels.scale, **kernels.keys, **seg)
    return common, dict(HAS_SCALE=has_scale, SEG_STEPS=steps, WHT=kernels.wht)


def test_blocks_past_two_to_the_31_get_their_own_stream():
    """Billion-parameter D: a group of blocks that starts just below 2**31 must index, hash and
    store blocks 2**31 - 1 and 2**31 with 64-bit arithmetic (no D-sized buffer is needed to
    check it: the first row pass writes H_in(B_j x) for the group's blocks only)."""
    from intdim.fastfood import stream
    from intdim.fastfood.transform import fwht

    d, D = 64, 3_000_000_000 * 64  # LL = 64: more than 2**31 blocks
    kernels = FastfoodKernels(d, D, seed=5, fused_max=16, multi_pass="gather")
    assert not kernels.fused and kernels.blocks > 2**31
    x = torch.randn(d, device=DEVICE)
    work = torch.zeros(2 * kernels.LL, device=DEVICE)
    common, flags = _gather_pass_args(kernels, D, x)
    block0 = 2**31 - 1
    kernels._rows(x, work, 0, (block0, 2), common, flags)
    blocks = torch.tensor([block0, block0 + 1], dtype=torch.int64)
    signs = stream.signs(5, blocks, torch.arange(kernels.LL))
    expected = fwht((signs * x.cpu()).reshape(2, kernels.r_out, kernels.r_in))
    torch.testing.assert_close(work.cpu().reshape(2, kernels.r_out, kernels.r_in), expected)


def test_factored_blocks_past_two_to_the_31_get_their_own_stream():
    """The factored scheme's first forward pass for blocks 2**31 - 1 and 2**31: S3 * H_high(B x)
    on each block's 8 x 8 grid, S3 the sign of round 3's shift b3(l), hashed here from the
    stream's definition (b3(l) = mix(l + mix(k_Pi,j + 3 GOLDEN)) masked to the column bits)."""
    from intdim.fastfood import stream
    from intdim.fastfood.transform import fwht

    d, D = 64, 3_000_000_000 * 64
    kernels = FastfoodKernels(d, D, seed=5, fused_max=16, multi_pass="factored")
    passes = kernels.factored
    rows, cols = 1 << passes.lb, 1 << passes.rb
    assert (rows, cols) == (8, 8) and kernels.blocks > 2**31
    x = torch.randn(d, device=DEVICE)
    work = torch.zeros(2 * kernels.LL, device=DEVICE)
    block0 = 2**31 - 1
    passes._column_pass(1, work, work, x, block0, 2, kernels.keys, kernels.scale,
                        kernels.wht)  # fmt: skip
    blocks = torch.tensor([block0, block0 + 1], dtype=torch.int64)
    signs = stream.signs(5, blocks, torch.arange(kernels.LL))
    grid = (signs * x.cpu()).reshape(2, rows, cols)
    high = fwht(grid.transpose(1, 2)).transpose(1, 2)  # down each column
    keys = stream.block_keys(stream.stream_key(5, "PI"), blocks)
    round_key = stream.mix32((keys + 3 * stream.GOLDEN) & stream.MASK32)
    b3 = stream.mix32((torch.arange(rows)[None, :] + round_key[:, None]) & stream.MASK32)
    bits = torch.arange(cols)[None, None, :] & (b3 & (cols - 1))[:, :, None]
    parity = sum((bits >> k) & 1 for k in range(3)) % 2
    expected = high * (1 - 2 * parity).float()
    torch.testing.assert_close(work.cpu().reshape(2, rows, cols), expected)


@pytest.mark.parametrize("scheme", MULTI_PASS_SCHEMES)
def test_passes_address_theta_and_g_in_64_bits_past_two_to_the_32(scheme):
    """The passes that touch D-sized tensors (theta's store, g's load) at the block whose
    offset is exactly 2**32 elements. In 64 bits the offset lies past this call's D, so the
    store and the load are masked off; an offset computed in 32 bits wraps to 0, lies below D,
    and would write theta[:LL] and read g[:LL]. No D-sized buffer is needed to tell them apart."""
    d, LL = 64, 64
    kernels = FastfoodKernels(d, 2**33, seed=5, fused_max=16, multi_pass=scheme)
    assert not kernels.fused and kernels.LL == LL
    block0, D = 2**32 // LL, LL  # the group's one block starts at element 2**32
    work = torch.ones(2, LL, device=DEVICE)
    theta, g = torch.full((LL,), 7.0, device=DEVICE), torch.ones(LL, device=DEVICE)
    common, flags = _gather_pass_args(kernels, D, g)
    if scheme == "factored":
        passes, key_pi, wht = kernels.factored, kernels.keys["key_pi"], kernels.wht
        seg = {k: common[k] for k in ("seg_start_ptr", "seg_scale_ptr", "n_seg")}
        store = dict(base_ptr=theta, out_ptr=theta, px_ptr=theta, **seg, HAS_BASE=True,
                     HAS_SCALE=False, WRITE_PX=False, SEG_STEPS=0)  # fmt: skip
        passes._row_pass(5, work[0], work[0], block0, 1, key_pi, wht, D, store)
        load = dict(store, base_ptr=g, out_ptr=g, px_ptr=g, HAS_BASE=False)
        passes._row_pass(11, g, work[1], block0, 1, key_pi, wht, D, load)
    else:
        kernels._columns(work[0], theta, theta, theta, 1, (block0, 1), common, flags,
                         has_base=True)  # fmt: skip
        kernels._rows(g, work[1], 2, (block0, 1), common, flags)
    assert torch.equal(theta, torch.full((LL,), 7.0, device=DEVICE))  # nothing stored
    assert torch.equal(work[1], torch.zeros(LL, device=DEVICE))  # only masked zeros loaded


def test_layouts_of_billions_of_parameters_plan_without_allocating():
    """D = 3e9 (a 3B model): the host-side plan of both schemes, in 64-bit offsets."""
    from intdim.fastfood.stream import layout

    D = 3_000_000_000
    for d in (1_000, 8_192, 4_000_000):
        kernels = FastfoodKernels(d, D, seed=0)
        LL, _, blocks, scale = layout(d, D)
        assert blocks * LL >= D > (blocks - 1) * LL > 2**31  # the last block starts past 2**31
        assert scale == pytest.approx((D * LL) ** -0.5)
        if kernels.fused:
            assert kernels.tiles * kernels.nb >= blocks and kernels.tiles < 2**31
        else:
            groups = list(kernels._groups())
            assert sum(n for _, n in groups) == blocks and groups[-1][0] + groups[-1][1] == blocks
            assert kernels.work_bytes() <= 2 * 64 * 2**20 or kernels.group == 1


@triton.jit
def _offsets_kernel(out_ptr, block0, LL: triton.language.constexpr):
    local = triton.language.program_id(0)
    triton.language.store(out_ptr + local, _block_index(block0, local) * LL + 3)


def test_block_offsets_are_64_bit_past_two_to_the_31():
    """The kernels' block index and element offset at a group starting below 2**31 blocks."""
    out = torch.zeros(3, dtype=torch.int64, device=DEVICE)
    _offsets_kernel[(3,)](out, 2**31 - 2, LL=1024)
    assert out.tolist() == [(2**31 - 2 + j) * 1024 + 3 for j in range(3)]


@pytest.mark.parametrize("d,D,fused_max", [(40, 5_000, FUSED_MAX), (100, 700, SMALL_FUSED_MAX)])
def test_bf16_gradients_are_read_as_they_are_and_theta_is_written_in_bf16(d, D, fused_max):
    # The transpose loads a bf16 gradient and converts it in registers: the same float32
    # numbers as transposing its float32 copy, so the same bits, and no copy is made.
    _, kern = _pair(d, D, fused_max)
    gen = torch.Generator(DEVICE).manual_seed(5)
    g = torch.randn(D, device=DEVICE, generator=gen).to(torch.bfloat16)
    with Allocations() as watch:
        from_bf16 = kern.transpose(g)
    assert (D, torch.float32) not in watch.made  # no float32 copy of the gradient
    assert torch.equal(from_bf16, kern.transpose(g.float()))
    segments = Segments.from_sizes([D // 3, D - D // 3], [0, 1], DEVICE)
    scale = torch.tensor([0.5, 2.0], device=DEVICE)
    assert torch.equal(kern.scaled_transpose(g, segments, scale),
                       kern.scaled_transpose(g.float(), segments, scale))  # fmt: skip
    # The forward adds in float32 and stores theta in the base's dtype, rounded to nearest on
    # a GPU; Triton's interpreter rounds its bf16 stores differently, by at most one bf16 step.
    x = torch.randn(d, device=DEVICE, generator=gen)
    base = torch.randn(D, device=DEVICE, generator=gen).to(torch.bfloat16)
    theta, px = kern.shifted_forward(x, base, keep_px=True)
    assert theta.dtype == torch.bfloat16 and px.dtype == torch.float32
    exact = base.float() + kern.forward(x)
    if GPU:
        assert torch.equal(theta, exact.to(torch.bfloat16))
    else:
        step = 2.0 ** (torch.floor(torch.log2(exact.abs())) - 7)  # one bf16 step at |exact|
        assert torch.all((theta.float() - exact).abs() <= step)
