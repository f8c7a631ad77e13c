import hashlib
import os
import subprocess
import sys

import pytest
import torch
from intdim.fastfood import FastfoodProjection
from intdim.projections.base import Projection, project
from intdim.projections.registry import PROJECTIONS, make_projection


@pytest.mark.parametrize("kind", PROJECTIONS)
@pytest.mark.parametrize("d,D", [(1, 7), (10, 300), (37, 1000), (64, 64)])
def test_products_match_the_materialised_matrix(kind, d, D):
    proj = make_projection(kind, d, D, seed=3)
    matrix = proj.materialise()
    assert matrix.shape == (D, d)
    x, y = torch.randn(d), torch.randn(D)
    torch.testing.assert_close(proj.forward(x), matrix @ x, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(proj.transpose(y), matrix.T @ y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", PROJECTIONS)
def test_norm_is_preserved_in_expectation(kind):
    """E ||P x||^2 = ||x||^2: the mean ratio over many seeds is within 4 standard errors of 1."""
    x = torch.randn(50)
    ratios = torch.tensor(
        [
            (make_projection(kind, 50, 2000, s).forward(x).norm() ** 2 / x.norm() ** 2).item()
            for s in range(300)
        ]
    )
    stderr = ratios.std() / len(ratios) ** 0.5
    assert abs(ratios.mean().item() - 1.0) < 4 * stderr.item()
    assert stderr < 0.01  # the draws concentrate: each one is itself close to an isometry


def test_fastfood_columns_are_nearly_orthonormal():
    matrix = make_projection("fastfood", 16, 50_000, seed=1).materialise().double()
    gram = matrix.T @ matrix
    assert (gram.diagonal() - 1).abs().max() < 0.05
    assert (gram - torch.diag(gram.diagonal())).abs().max() < 0.05


def _digest(kind: str, seed: int) -> str:
    proj = make_projection(kind, 20, 500, seed)
    x = torch.arange(20, dtype=torch.float32) / 7
    return hashlib.sha256(proj.forward(x).numpy().tobytes()).hexdigest()


@pytest.mark.parametrize("kind", PROJECTIONS)
def test_same_seed_same_numbers_across_processes(kind, repo_root):
    code = f"from test_projections import _digest; print(_digest({kind!r}, 11))"
    path = os.pathsep.join(str(repo_root / p) for p in ("tests", "workflow/scripts"))
    other = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONPATH": path})  # fmt: skip
    other = other.stdout.strip()
    assert other == _digest(kind, 11)
    assert _digest(kind, 12) != _digest(kind, 11)


def test_fastfood_holds_o_of_ll_per_block_never_d_by_d():
    proj = FastfoodProjection(d=1000, D=100_000, seed=0)
    assert proj.LL == 1024 and proj.blocks == 98
    assert proj.state_bytes() == 24 * proj.blocks * proj.LL
    assert proj.state_bytes() < 4 * proj.D * proj.d / 100


def test_autograd_gives_the_transpose():
    proj = make_projection("fastfood", 12, 90, seed=5)
    x = torch.randn(12, requires_grad=True)
    g = torch.randn(90)
    (project(proj, x) * g).sum().backward()
    torch.testing.assert_close(x.grad, proj.materialise().T @ g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "args,message",
    [
        (("fastfood", 0, 10, 0), "d=0"),
        (("sparse", -3, 10, 0), "d=-3"),
        (("dense", 11, 10, 0), "d=11 > D=10"),
        (("fastfood", 4, 0, 0), "D=0"),
        (("gaussian", 4, 10, 0), "unknown projection 'gaussian'"),
        (("fastfood", 4, 10, -1), r"seed must be an integer in \[0, 2\*\*64\), got -1"),
        (("dense", 4, 10, 2**64), r"seed must be an integer in \[0, 2\*\*64\)"),
    ],
)
def test_bad_arguments_name_the_value(args, message):
    with pytest.raises(ValueError, match=message):
        make_projection(*args)


def test_a_dense_matrix_larger_than_the_machine_is_refused_before_it_is_drawn(monkeypatch):
    from intdim.projections import base

    monkeypatch.setattr(base, "physical_memory_bytes", lambda: 4 * 1000 * 30)
    assert make_projection("dense", 30, 1000, 0).matrix.shape == (1000, 30)  # exactly fits
    with pytest.raises(ValueError, match=r"D=1,000 x d=31 needs .* use projection: fastfood"):
        make_projection("dense", 31, 1000, 0)
    # The sizes in the message, in GiB: 2**20 x 512 floats are 2 GiB.
    monkeypatch.setattr(base, "physical_memory_bytes", lambda: 2**30)
    with pytest.raises(ValueError, match=r"needs 2\.0 GiB, more than this machine's 1\.0 GiB"):
        make_projection("dense", 512, 2**20, 0)


def test_a_sparse_matrix_whose_non_zeros_outgrow_the_machine_is_refused_before_it_is_drawn(
    monkeypatch,
):
    from intdim.projections import base

    # D = 10,000: s = 100, so d = 50 stores 5,000 non-zeros, 120,000 bytes in two CSR copies.
    monkeypatch.setattr(base, "physical_memory_bytes", lambda: 120_000)
    assert make_projection("sparse", 50, 10_000, 0).d == 50  # exactly fits
    with pytest.raises(ValueError, match=r"D=10,000 x d=51 stores about 5,100 non-zeros"):
        make_projection("sparse", 51, 10_000, 0)
    # D = 2**20: s = 1,024, so d = 87,382 stores 89,479,168 non-zeros, 24 bytes each: 2.0 GiB.
    monkeypatch.setattr(base, "physical_memory_bytes", lambda: 2**30)
    with pytest.raises(
        ValueError,
        match=r"about 89,479,168 non-zeros, 2\.0 GiB, more than this "
        r"machine's 1\.0 GiB: use projection: fastfood",
    ):
        make_projection("sparse", 87_382, 2**20, 0)


@pytest.mark.parametrize(
    "population,k",
    [(10, 0), (10, 1), (10, 10), (1000, 250), (1000, 249), (100_000, 1), (100_000, 700)],
)  # the permutation up to population = 4 k, rejection of repeats above
def test_sparse_positions_are_k_distinct_in_range_and_reproducible(population, k):
    from intdim.projections.sparse import _sample_without_replacement

    def draw():
        return _sample_without_replacement(population, k, torch.Generator().manual_seed(3))

    first = draw()
    assert first.dtype == torch.long and first.numel() == first.unique().numel() == k
    assert bool((first >= 0).all()) and bool((first < population).all())
    assert torch.equal(first, draw())


def test_sparse_positions_are_uniform_over_the_population():
    """Every position as often as k / population, in both branches (9 > 4 x 2, 8 = 4 x 2)."""
    from intdim.projections.sparse import _sample_without_replacement

    gen = torch.Generator().manual_seed(0)
    for population in (9, 8):
        counts = torch.zeros(population)
        for _ in range(5000):
            counts[_sample_without_replacement(population, 2, gen)] += 1
        expected = 5000 * 2 / population  # about 35 of standard deviation: 5 of them allowed
        assert float((counts - expected).abs().max()) < 175, counts


def test_project_checks_the_input_shape():
    with pytest.raises(ValueError, match=r"shape \(4,\), got \(5,\)"):
        project(make_projection("dense", 4, 10, 0), torch.zeros(5))


def test_the_schema_lists_exactly_the_registered_projections():
    import yaml
    from intdim.pipeline.workflow_config import SCHEMA
    from intdim.projections.registry import REGISTRY

    schema = yaml.safe_load(SCHEMA.read_text())
    top = schema["properties"]["projection"]["enum"]
    variant = schema["properties"]["projection_study"]["properties"]["variants"][
        "additionalProperties"]["properties"]["projection"]["enum"]  # fmt: skip
    assert top == variant == list(REGISTRY)


def test_every_registered_backend_class_is_the_named_projection():
    from intdim.projections.registry import REGISTRY, projection_class

    for kind, spec in REGISTRY.items():
        for backend in spec.classes:
            if backend == "triton" and not _triton():
                continue
            cls = projection_class(kind, backend)
            assert issubclass(cls, Projection) and cls.name == kind


def _triton() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def test_options_belong_to_their_projection():
    from intdim.projections.registry import check_options

    assert check_options("fastfood_per_tensor", {}) == {"legacy_gradient": False}
    assert check_options("fastfood", {"legacy_gradient": False}) == {}  # the default: harmless
    with pytest.raises(ValueError, match="legacy_gradient is a setting of fastfood_per_tensor, "
                       "not of 'dense'"):  # fmt: skip
        check_options("dense", {"legacy_gradient": True})
    with pytest.raises(ValueError, match="blocks is no projection's setting"):
        check_options("fastfood", {"blocks": 3})
