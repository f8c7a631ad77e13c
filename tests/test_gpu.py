"""The kernels at paper scale on a real GPU (skipped without one; `make gpu-check` runs them)."""

import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

ROBERTA_BASE_D = 124_646_402
# Float32 sums over up to 10^8 coordinates in two different orders (kernels: tensor cores with a
# split-TF32 product; reference: cuBLAS float32 matmuls).
TOLERANCE = 1e-4


def _relative_error(a, b):
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize("d", [1_000, 20_000, 1_000_000, 4_000_000])
def test_kernels_match_the_reference_at_roberta_base_size(d):
    from intdim.fastfood import FastfoodProjection
    from intdim.fastfood.kernels import TritonFastfoodProjection

    torch.manual_seed(0)
    ref = FastfoodProjection(d, ROBERTA_BASE_D, seed=3, device="cuda")
    kernels = TritonFastfoodProjection(d, ROBERTA_BASE_D, 3, device="cuda")
    x = torch.randn(d, device="cuda")
    g = torch.randn(ROBERTA_BASE_D, device="cuda")
    px = kernels.forward(x)
    assert _relative_error(px, ref.forward(x)) < TOLERANCE
    ptg = kernels.transpose(g)
    assert _relative_error(ptg, ref.transpose(g)) < TOLERANCE
    # The transpose is the adjoint: <P x, g> = <x, P^T g>.
    lhs, rhs = torch.dot(px.double(), g.double()), torch.dot(x.double(), ptg.double())
    assert abs(lhs - rhs) <= TOLERANCE * abs(lhs).clamp_min(1.0)
    del ref
    torch.cuda.empty_cache()
