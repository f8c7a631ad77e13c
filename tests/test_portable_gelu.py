"""Portable GELU (intdim.pipeline.portable_gelu): within 1 ulp of the exact GELU and gradient,
the same bits whatever the vector width or instruction set, and torch's gelu replaced only for
float32 and approximate="none"."""

import subprocess
import sys

import numpy as np
import pytest
from generic_cpu import here_and_generic
from intdim.pipeline.portable_gelu import gelu, gelu_backward
from scipy.special import erfc

# Every float32 step around 0, a dense sweep of where GELU bends, its tails and their ends
# (x phi(x) reaches float32's subnormals near -13.5 and Phi(x) rounds to 1 near 5.4), and
# random activations.
X = np.concatenate([
    np.linspace(-16, 16, 400_001, dtype=np.float32),
    np.float32(1e-30) * np.arange(-50, 51, dtype=np.float32),
    np.float32(2.0) ** np.arange(-149, 5, dtype=np.float32),
    -(np.float32(2.0) ** np.arange(-149, 5, dtype=np.float32)),
    np.random.default_rng(0).standard_normal(100_000, dtype=np.float32) * 3,
])  # fmt: skip


def exact(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GELU and its derivative in float64 (SciPy's erfc, within a few float64 ulps)."""
    x = x.astype(np.float64)
    cdf = 0.5 * erfc(-x / np.sqrt(2.0))
    return x * cdf, cdf + x * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Distance in float32 steps, -0 and +0 apart by none."""

    def ordered(a):
        bits = a.astype(np.float32).view(np.int32).astype(np.int64)
        return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)

    return np.abs(ordered(got) - ordered(want))


def test_gelu_and_its_gradient_are_within_one_ulp_of_the_exact_values():
    forward, derivative = exact(X)
    assert ulps(gelu(X), forward).max() <= 1
    grad = np.random.default_rng(1).standard_normal(X.size, dtype=np.float32)
    assert ulps(gelu_backward(grad, X), grad.astype(np.float64) * derivative).max() <= 1
    # Nearly all correctly rounded: a relative error above 1e-9 would round about 1% wrong.
    assert np.mean(gelu(X) != forward.astype(np.float32)) < 1e-3


def test_special_values_are_those_of_atens_baseline_formula():
    # x * 0.5 * (1 + erf(x / sqrt 2)): -inf * 0 is NaN there, and so here.
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 20.0, -20.0], dtype=np.float32)
    got = gelu(x)
    assert np.array_equal(np.signbit(got[[0, 1, 5, 6]]), [False, True, False, True])
    assert np.array_equal(got, [0, 0, np.inf, np.nan, np.nan, 20, 0], equal_nan=True)
    grad = gelu_backward(np.ones_like(x), x)
    assert np.array_equal(grad[[0, 1, 5, 6]], [0.5, 0.5, 1.0, 0.0])
    assert np.isnan(grad[2:5]).all()  # x phi(x) is inf * 0 at the infinities, as in ATen


def test_the_bits_do_not_depend_on_where_an_element_sits_in_a_vector():
    # The vector loop's body and its scalar remainder compute the same chain.
    x = X[::997]
    alone = np.concatenate([gelu(x[i : i + 1]) for i in range(x.size)])
    assert np.array_equal(alone.view(np.int32), gelu(x).view(np.int32))
    shifted = gelu(x[3:]).view(np.int32)
    assert np.array_equal(shifted, gelu(x).view(np.int32)[3:])


DIGEST = """
import hashlib, numpy as np
from intdim.pipeline.portable_gelu import gelu, gelu_backward
x = np.linspace(-16, 16, 100_003, dtype=np.float32)
print(hashlib.sha256(gelu(x).tobytes() + gelu_backward(x[::-1].copy(), x).tobytes()).hexdigest())
"""


def test_the_bits_do_not_depend_on_the_cpus_instructions(tmp_path):
    """Compiled for a generic x86-64 (no AVX: two float64 lanes, not 8) the bits equal this
    CPU's."""
    here, generic = here_and_generic(DIGEST, tmp_path)
    assert generic == here


# In a process of its own: the replacement lasts as long as the process.
REPLACED = """
import numpy as np, torch
from intdim.pipeline.portable_gelu import gelu, gelu_backward, replace_torch_gelu
torch.manual_seed(0)
x = (torch.randn(7, 33, 5) * 4).requires_grad_()
doubles, tanh_form = x.detach().double(), x.detach()
gradient = lambda: torch.ops.aten.gelu_backward(doubles, doubles)
atens = (torch.nn.functional.gelu(doubles), torch.nn.functional.gelu(tanh_form, approximate="tanh"),
         gradient())
replace_torch_gelu()
y = torch.nn.GELU()(x.transpose(0, 1))  # a strided view: GELU of its values, in its shape
g = torch.randn_like(y)
y.backward(g)
bits = lambda a: np.asarray(a, dtype=np.float32).view(np.int32)
xs = x.detach().transpose(0, 1).numpy()
print(bool((bits(y.detach()) == bits(gelu(np.ascontiguousarray(xs)))).all()),
      bool((bits(x.grad.transpose(0, 1)) == bits(gelu_backward(g.numpy(), np.ascontiguousarray(xs)))).all()),
      torch.equal(torch.nn.functional.gelu(doubles), atens[0]),
      torch.equal(torch.nn.functional.gelu(tanh_form, approximate="tanh"), atens[1]),
      torch.equal(gradient(), atens[2]))
"""


def test_replaced_gelu_is_the_portable_one_and_other_forms_keep_atens():
    out = subprocess.run([sys.executable, "-c", REPLACED], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.split() == ["True"] * 5


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="float64"):
        gelu(np.ones(3))
    with pytest.raises(ValueError, match=r"\(2,\) is not x's \(3,\)"):
        gelu_backward(np.ones(2, np.float32), np.ones(3, np.float32))
