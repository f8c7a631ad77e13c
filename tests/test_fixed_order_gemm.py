"""intdim.pipeline.fixed_order_gemm: every element one chain of fused multiply-adds in k order,
against exact rational arithmetic, and the same bits whatever instructions the CPU has."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from generic_cpu import here_and_generic
from intdim.pipeline.fixed_order_gemm import K_BLOCK, matmul
from package_copy import copy_package, run_against_copy
from test_numerics import native_env


def to_float32(q: Fraction) -> np.float32:
    """q rounded to the nearest float32, ties to even (float(q) then float32 can round twice)."""
    x = np.float32(float(q))
    neighbours = (np.nextafter(x, np.float32(-np.inf)), x, np.nextafter(x, np.float32(np.inf)))
    return min(neighbours, key=lambda y: (abs(Fraction(float(y)) - q), int(y.view(np.int32)) & 1))


def fma_chains(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c_ij = fma(a_i,K-1, b_K-1,j, ... fma(a_i0, b_0j, 0)), each fma one exact rounding."""
    c = np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            acc = np.float32(0.0)
            for k in range(a.shape[1]):
                exact = Fraction(float(a[i, k])) * Fraction(float(b[k, j])) + Fraction(float(acc))
                acc = to_float32(exact)
            c[i, j] = acc
    return c


def random_pair(m: int, k: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal(
        (k, n), dtype=np.float32
    )


def test_rounding_to_float32_is_to_nearest_ties_to_even():
    one, ulp = Fraction(1), Fraction(1, 2**23)
    assert to_float32(one + ulp / 2) == np.float32(1.0)  # a tie, to the even neighbour
    assert to_float32(one + ulp * 3 / 2) == np.float32(1.0) + np.float32(2.0**-22)  # tie, even
    assert to_float32(one + ulp / 2 + Fraction(1, 2**60)) == np.nextafter(np.float32(1.0), 2)
    # where float64 first and float32 after would round twice: 1 + ulp/2 + 2^-54 is
    # 1 + ulp/2 in float64, a tie that goes down, but it lies above the tie
    assert to_float32(one + ulp / 2 + Fraction(1, 2**54)) == np.nextafter(np.float32(1.0), 2)


# Whole tiles (12 or 4 rows x 32 columns), half tiles (16 columns), the zero-padded last
# columns, the rows left over, 4 then 1 at a time (17 = 12 + 4 + 1), and k in three blocks
# (K_BLOCK, K_BLOCK and 5; K is over 2 * K_BLOCK). A also as the transpose of a contiguous
# array, as a weight's gradient has it, which the tiles read in place.
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 17), (5, 4, 33), (4, 3, 48), (9, 2, 50),
                                   (6, 7, 1), (8, 6, 64), (17, 3, 49),
                                   (13, 2 * K_BLOCK + 5, 17)])  # fmt: skip
@pytest.mark.parametrize("transposed", [False, True], ids=["A", "A=X.T"])
def test_every_element_is_one_chain_of_fused_multiply_adds_in_k_order(m, k, n, transposed):
    a, b = random_pair(m, k, n)
    if transposed:
        a = np.ascontiguousarray(a.T).T
        assert a.T.flags.c_contiguous and not a.flags.c_contiguous or m == 1 or k == 1
    assert (matmul(a, b).view(np.int32) == fma_chains(a, b).view(np.int32)).all()


def test_the_empty_sum_is_zero_and_bad_input_is_named():
    a, b = random_pair(3, 0, 5)
    assert (matmul(a, b) == 0).all() and matmul(a, b).shape == (3, 5)
    with pytest.raises(ValueError, match=r"cannot multiply shapes \(2, 3\) and \(4, 5\)"):
        matmul(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32))
    with pytest.raises(ValueError, match="float32 matrices only, not float64"):
        matmul(np.ones((2, 3)), np.ones((3, 5), np.float32))


def test_a_strided_input_gives_the_same_product_as_its_copy():
    a, b = random_pair(40, 24, 70, seed=1)
    expected = matmul(a, b)
    assert (
        matmul(np.asfortranarray(a), np.asfortranarray(b)).view(np.int32) == expected.view(np.int32)
    ).all()


DIGEST = """
import hashlib, numpy as np
from intdim.pipeline.fixed_order_gemm import matmul
rng = np.random.default_rng(2)
a = rng.standard_normal((37, 129), dtype=np.float32)
b = rng.standard_normal((129, 75), dtype=np.float32)
print(hashlib.sha256(matmul(a, b).tobytes()).hexdigest())
"""


def test_the_bits_do_not_depend_on_the_cpus_instructions(tmp_path):
    """Compiled for a generic x86-64 the product equals this CPU's, vectors of 16 floats in
    AVX-512 or AVX2 registers."""
    here, generic = here_and_generic(DIGEST, tmp_path)
    assert generic == here


# In a process of its own: the replacement lasts as long as the process.
REPLACED = """
import numpy as np, torch
from intdim.pipeline.fixed_order_gemm import matmul, replace_torch_products
torch.manual_seed(0)
x, w, bias = torch.randn(6, 5, 20), torch.randn(45, 20, requires_grad=True), torch.randn(45)
doubles = torch.randn(7, 3, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
atens = torch.mm(*doubles)
replace_torch_products()
y = torch.nn.functional.linear(x, w, bias)  # 3-D: folded to one product of 30 rows
g = torch.randn_like(y)
y.backward(g)
rows, g2 = x.reshape(30, 20).numpy(), g.reshape(30, 45).numpy()
same = lambda t, a: bool((t.detach().numpy().reshape(a.shape).view(np.int32) == a.view(np.int32)).all())
print(same(y, matmul(rows, w.detach().numpy().T) + bias.numpy()),  # the bias added after
      same(w.grad, matmul(g2.T, rows)),  # the weight's gradient: a sum over the 30 rows
      torch.equal(torch.mm(*doubles), atens))  # float64 keeps ATen's kernel
"""


def test_replaced_products_are_the_fixed_order_ones_and_other_dtypes_keep_atens():
    out = subprocess.run([sys.executable, "-c", REPLACED], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.split() == ["True", "True", "True"]


# The benchmark's COMPATIBLE column: MKL's COMPATIBLE branch, not the fixed-order product that
# portable numerics put in torch.mm's place.
COMPATIBLE_KIND = """
from intdim.measure.gemm_benchmark import time_products
from intdim.pipeline import fixed_order_gemm
from intdim.pipeline.cpu_kernels import replaced
from intdim.pipeline.numerics import mkl_branch
rows = time_products("torch_compatible", [(8, 16, 32)], 1)
print(not replaced(fixed_order_gemm.__name__), mkl_branch(), rows[0]["kind"], rows[0]["m"])
"""


def test_the_benchmarks_compatible_column_times_mkls_branch_not_the_fixed_order():
    out = subprocess.run([sys.executable, "-c", COMPATIBLE_KIND], env=native_env(),
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert out[0] == "True" and out[2:] == ["torch_compatible", "8"]
    assert out[1] in ("3", "None")  # COMPATIBLE, where this torch build exposes the branch


def test_the_warm_up_leaves_the_product_compiled():
    # make setup's warm_up is what keeps portable jobs from compiling (about 4 s each).
    code = ("from intdim.pipeline import fixed_order_gemm as g; g.warm_up(); "
            "print(len(g._product.signatures))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"


def test_a_checkout_changed_in_simd_alone_does_not_run_the_cached_old_product(tmp_path):
    # Numba checks a cached function against its own file only, and _product has simd.py's
    # helpers compiled in: a change there alone must reach it.
    package = copy_package(tmp_path)
    code = ("import numpy as np; from intdim.pipeline.fixed_order_gemm import matmul; "
            "print(float(matmul(np.ones((5, 3), np.float32), np.ones((3, 40), np.float32)).sum()))")  # fmt: skip

    def total() -> float:
        return float(run_against_copy(package, code))

    before = total()
    assert before == 5 * 3 * 40
    assert list((package / "pipeline" / "__pycache__").glob("fixed_order_gemm._product*.nbc"))
    # every element of A splatted negated: C = -A @ B
    simd = package / "fastfood" / "simd.py"
    text = simd.read_text()
    splat = "builder.insert_element(ir.Constant(_VECTOR, None), x,"
    assert text.count(splat) == 1
    simd.write_text(text.replace(splat, splat[:-2] + "builder.fneg(x),"))
    assert total() == -before


def test_timing_against_a_commit_names_a_commit_that_is_not_there():
    from intdim.measure.gemm_benchmark import product_at

    with pytest.raises(ValueError, match="no commit 'no-such-commit'"):
        product_at("no-such-commit")


@pytest.mark.slow  # compiles the commit's product afresh (about 10 s)
def test_timing_against_a_commit_runs_that_commits_own_product_in_turn():
    from intdim.measure.gemm_benchmark import MODULE, product_at, time_in_turn
    from intdim.pipeline.provenance import CHECKOUT

    committed = subprocess.run(["git", "-C", str(CHECKOUT), "show", f"HEAD:{MODULE}"],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
    other = product_at("HEAD")
    assert Path(other.__file__).read_text() == committed
    assert other.matmul is not matmul
    (row,) = time_in_turn("HEAD", [(13, 1024, 17)], 2)  # K = 1,024: A passed transposed
    assert (row["m"], row["k"], row["n"], row["a"]) == (13, 1024, 17, "transposed")
    low, high = row["ratio_quartiles"]
    assert 0 < low <= row["ratio"] <= high


@pytest.mark.slow  # builds a small RoBERTa and trains it a few steps in a process of its own
def test_steps_against_a_commit_take_the_two_products_in_turn(tmp_path):
    from transformers import RobertaConfig, RobertaForSequenceClassification

    config = RobertaConfig(vocab_size=120, hidden_size=32, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=64,
                           max_position_embeddings=40, num_labels=2)  # fmt: skip
    RobertaForSequenceClassification(config).save_pretrained(tmp_path / "model")
    code = ("import json; from intdim.measure.gemm_benchmark import steps_in_turn; "
            f"print(json.dumps(steps_in_turn('HEAD', {str(tmp_path / 'model')!r}, 2, d=50)))")  # fmt: skip
    # The function raises when the commit's product was never called.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = json.loads(out.stdout.splitlines()[-1])
    assert [(r["method"], r["d"]) for r in rows] == [("full", None), ("said", 50)]
    for row in rows:
        low, high = row["ratio_quartiles"]
        assert 0 < low <= row["ratio"] <= high and row["ms"] > 0 and row["ms_at_commit"] > 0
