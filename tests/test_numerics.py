"""Portable CPU numerics (intdim.pipeline.numerics): which jobs choose them, that switching in
the job's process is the same as starting it with the libraries' variables set, and that asking
too late is an error instead of a silent native run."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from intdim.pipeline.numerics import PORTABLE_ENV, adamw_options, describe_cpu, numerics_for

# A few optimiser steps of a small network: matrix products (MKL), vectorised elementwise
# kernels and reductions (ATen). Prints a digest of the weights and what the process used.
TRAIN = """
import hashlib, sys, torch
from intdim.pipeline.numerics import adamw_options, mkl_branch, use_numerics
if sys.argv[1] == "by-hand":  # the parts of portable that are not variables
    torch.backends.mkldnn.enabled = False
    from intdim.pipeline.fixed_order_gemm import replace_torch_products
    from intdim.pipeline.portable_dropout import replace_torch_bernoulli
    from intdim.pipeline.portable_gelu import replace_torch_gelu
    replace_torch_products()
    replace_torch_gelu()
    replace_torch_bernoulli()
elif sys.argv[1] != "none":
    use_numerics(sys.argv[1])
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.GELU(), torch.nn.LayerNorm(256),
                          torch.nn.Linear(256, 3))
opt = torch.optim.AdamW(net.parameters(), lr=1e-2, **adamw_options())
x, y = torch.randn(128, 64), torch.randint(0, 3, (128,))
for _ in range(20):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in net.parameters()))
print(digest.hexdigest()[:16], torch.backends.cpu.get_cpu_capability(), mkl_branch(),
      torch.backends.mkldnn.enabled)
"""


def native_env() -> dict:
    """This process's environment without the variables portable numerics set."""
    return {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}


def train(numerics: str, script: str = TRAIN, **env) -> list[str]:
    out = subprocess.run([sys.executable, "-c", script, numerics], env=native_env() | env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.split()


# Five full fine-tuning steps of a tiny BERT, then five subspace steps on the CPU Fastfood
# (Numba): the kinds of job portable numerics are for. Prints a digest of theta_d and the
# scales, and ATen's kernel level.
SUBSPACE_TRAIN = """
import hashlib, sys, torch
from intdim.pipeline.numerics import adamw_options, use_numerics
if sys.argv[1] != "none":
    use_numerics(sys.argv[1])
from transformers import BertConfig, BertForSequenceClassification
from intdim import SubspaceModel, SubspaceSettings
torch.manual_seed(0)
model = BertForSequenceClassification(BertConfig(
    vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
    intermediate_size=64, max_position_embeddings=32, num_labels=3))
ids, labels = torch.randint(1, 99, (16, 24)), torch.randint(0, 3, (16,))
def five_steps(m, params):
    opt = torch.optim.AdamW(params, lr=1e-2, **adamw_options())
    for _ in range(5):
        opt.zero_grad()
        m(input_ids=ids, labels=labels).loss.backward()
        opt.step()
five_steps(model, model.parameters())
sub = SubspaceModel(model, SubspaceSettings(d=300, method="said", backend="numba"))
five_steps(sub, params := list(sub.trainable_parameters()))
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in params))
print(digest.hexdigest()[:16], torch.backends.cpu.get_cpu_capability())
"""

# The kernels a CPU without AVX2 gets, chosen on this one: ATen's baseline, oneDNN and MKL
# capped at SSE4, Numba compiling for a generic x86-64.
NO_AVX2 = {
    "ATEN_CPU_CAPABILITY": "default",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    "NUMBA_CPU_NAME": "generic",
}


@pytest.mark.parametrize(
    "setting,pretrained,expected",
    [
        ("pretrained", True, "portable"),
        ("pretrained", False, "native"),
        ("all", False, "portable"),
        ("all", True, "portable"),
        ("none", True, "native"),
        ("none", False, "native"),
    ],
)
def test_which_jobs_choose_portable_numerics(setting, pretrained, expected):
    assert numerics_for(setting, pretrained) == expected


def test_an_unknown_setting_is_named():
    with pytest.raises(ValueError, match="not 'some'"):
        numerics_for("some", True)


def test_switching_in_the_process_equals_starting_with_the_variables_set():
    in_process = train("portable")
    from_start = train("by-hand", **PORTABLE_ENV)
    assert in_process[0] == from_start[0]
    assert in_process[1] == "DEFAULT" and in_process[3] == "False"
    assert in_process[2] in ("3", "None")  # COMPATIBLE, where this torch build exposes it
    # Native is a no-op: the process keeps the CPU's own kernels.
    assert train("native") == train("none")


def test_asking_too_late_is_an_error_not_a_silent_native_run():
    import torch
    from intdim.pipeline.numerics import mkl_branch

    if torch.backends.cpu.get_cpu_capability() == "DEFAULT" and mkl_branch() is None:
        pytest.skip("on this CPU and build native and portable cannot be told apart")
    late = "import torch; torch.mm(torch.ones(2, 2), torch.ones(2, 2)); torch.ones(9).exp()\n"
    late += "from intdim.pipeline.numerics import use_numerics; use_numerics('portable')"
    out = subprocess.run([sys.executable, "-c", late], env=native_env(), capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode != 0
    assert "portable numerics were asked for after the first tensor operation" in out.stderr


# Three AdamW steps of the workflow's optimiser on one tensor whose length is no multiple of a
# vector width (so a scalar tail runs too), against NumPy: float32, every operation correctly
# rounded, in the fused kernel's order. Prints whether every bit is equal, and the kwargs.
ADAMW_AGAINST_NUMPY = """
import math, sys, numpy as np, torch
from intdim.pipeline.numerics import adamw_options, use_numerics
use_numerics(sys.argv[1])
from intdim.method.optimisation import adamw_with_warmup
torch.set_num_threads(1)
gen = torch.Generator().manual_seed(0)
n, lr, wd, b1, b2, eps = 10_007, 5e-4, 0.01, 0.9, 0.999, 1e-8
start = torch.randn(n, generator=gen) * 0.02
grads = [torch.randn(n, generator=gen) * 1e-3 for _ in range(3)]
param = torch.nn.Parameter(start.clone())
opt, _ = adamw_with_warmup([param], lr, wd, warmup_fraction=0.0, steps=100)
for g in grads:
    param.grad = g.clone()
    opt.step()  # the schedule is not stepped: every step at lr
f = np.float32
x, m, v = start.numpy().copy(), np.zeros(n, f), np.zeros(n, f)
for step, grad in enumerate(grads, start=1):
    g = grad.numpy()
    x = x * f(1 - lr * wd)
    m = m + f(1 - b1) * (g - m)
    v = v * f(b2) + (f(1 - b2) * g) * g
    denom = np.sqrt(v) / f(math.sqrt(1 - math.pow(b2, step))) + f(eps)
    x = x + (f(-(lr / (1 - math.pow(b1, step)))) * m) / denom
print(bool((param.detach().numpy().view(np.int32) == x.view(np.int32)).all()), adamw_options())
"""


def test_portable_adamw_steps_are_numpys_correctly_rounded_float32_to_the_bit():
    """ATen's sqrt of a float tensor goes to MKL's vector math, which on an AMD EPYC is 1 ulp off
    in about a fifth of float32 results and whose code MKL chooses by the CPU; the for-loop
    AdamW step takes it. Under portable numerics the workflow's AdamW must equal plain IEEE
    float32 arithmetic, whatever CPU runs it."""
    same, *options = train("portable", ADAMW_AGAINST_NUMPY)
    assert same == "True" and " ".join(options) == "{'fused': True}"
    # Native runs keep the for-loop step they have always had.
    assert train("native", ADAMW_AGAINST_NUMPY)[1:] == ["{}"]


# tanh in every form a model calls it, against the sigmoid formula, float64 tanh and ATen's own.
TANH = """
import sys, numpy as np, torch
from intdim.pipeline.numerics import use_numerics
use_numerics(sys.argv[1])
x = torch.linspace(-12, 12, 100_001, requires_grad=True)
forms = [torch.tanh(x), x.tanh(), torch.nn.Tanh()(x), torch.nn.functional.tanh(x)]
formula = torch.sigmoid(x * 2) * 2 - 1
aten = torch._C._VariableFunctions.tanh(x)
bits = lambda t: t.detach().numpy().view(np.int32)
error = np.abs(forms[0].detach().numpy() - np.tanh(x.detach().numpy().astype(np.float64))).max()
forms[0].sum().backward()
slope = np.abs(x.grad.numpy() - (1 - np.tanh(x.detach().numpy().astype(np.float64)) ** 2)).max()
print(all((bits(f) == bits(formula)).all() for f in forms),
      all((bits(f) == bits(aten)).all() for f in forms), error <= 2e-7, slope <= 1e-6)
"""


def test_portable_tanh_is_atens_sigmoid_not_mkls_vector_math():
    """A classification head's tanh is the one call into MKL's vector math in the workflow's
    jobs: portable numerics compute it as 2 sigmoid(2x) - 1 in every form a model calls, within
    2e-7 of tanh (3 ulp of 1) and with its slope; native numerics keep ATen's tanh."""
    assert train("portable", TANH) == ["True", "False", "True", "True"]
    assert train("native", TANH) == ["False", "True", "True", "True"]


# A Linear layer's product and its weight gradient under each numerics.
PRODUCTS = """
import sys, numpy as np, torch
from intdim.pipeline.numerics import use_numerics
use_numerics(sys.argv[1])
from intdim.pipeline import fixed_order_gemm
from intdim.pipeline.cpu_kernels import replaced
torch.manual_seed(0)
x, w = torch.randn(30, 200), torch.randn(45, 200, requires_grad=True)
y = torch.nn.functional.linear(x, w)
y.backward(torch.ones_like(y))
bits = lambda a: np.asarray(a, dtype=np.float32).view(np.int32)
xs, ws = x.numpy(), w.detach().numpy()
print(replaced(fixed_order_gemm.__name__),
      bool((bits(y.detach()) == bits(fixed_order_gemm.matmul(xs, ws.T))).all()),
      bool((bits(w.grad) == bits(fixed_order_gemm.matmul(np.ones((45, 30), np.float32), xs))).all()))
"""


def test_portable_numerics_take_linear_products_in_the_fixed_order_and_native_do_not():
    """Portable jobs send Linear's products and gradients through fixed_order_gemm (bits IEEE
    754 defines); native jobs keep ATen's kernels, and so the bits they have always had."""
    assert train("portable", PRODUCTS) == ["True", "True", "True"]
    assert train("native", PRODUCTS)[0] == "False"


def test_the_fused_adamw_is_chosen_only_when_every_portable_variable_is_set(monkeypatch):
    for key in PORTABLE_ENV:
        monkeypatch.delenv(key, raising=False)
    assert adamw_options() == {}
    first, *rest = PORTABLE_ENV.items()
    monkeypatch.setenv(*first)
    assert adamw_options() == {}  # one of them is not portable numerics
    for key, value in rest:
        monkeypatch.setenv(key, value)
    assert adamw_options() == {"fused": True}
    monkeypatch.setenv(first[0], "avx2")
    assert adamw_options() == {}


def test_an_unknown_numerics_value_is_named():
    from intdim.pipeline.numerics import use_numerics

    with pytest.raises(ValueError, match="not 'fast'"):
        use_numerics("fast")


AMD = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 sha_ni

processor\t: 1
model name\t: another processor's line is not read
"""
INTEL = """vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: sse2 avx2 avx512f avx512_bf16 amx_tile amx_bf16
"""


def test_the_cpu_is_named_with_the_instruction_sets_that_choose_kernels():
    assert describe_cpu(AMD) == "AMD EPYC (family 25, model 1; avx2)"
    assert describe_cpu(INTEL) == (
        "Intel(R) Xeon(R) Platinum 8480+ (family 6, model 143; avx2, avx512f, avx512_bf16, amx_tile)"
    )
    assert describe_cpu("vendor_id\t: GenuineIntel\nflags\t: sse2\n") == "GenuineIntel (no avx2)"
    assert describe_cpu("") == "unknown CPU (no avx2)"


def test_the_run_environment_records_cpu_capability_and_numerics():
    import torch
    from intdim.pipeline.provenance import run_environment

    env = run_environment("cpu", "portable")
    assert env["numerics"] == "portable" and env["cpu"]
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()


@pytest.mark.slow
def test_portable_numerics_give_the_same_bits_with_the_kernels_of_a_cpu_without_avx2(tmp_path):
    import torch

    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("this CPU has no AVX2 to leave out")

    def run(numerics: str, **env) -> list[str]:
        # The generic x86-64 machine code in a Numba cache of its own; this CPU's is the
        # package's, compiled by `make setup`.
        cache = {"NUMBA_CACHE_DIR": str(tmp_path)} if env else {}
        return train(numerics, SUBSPACE_TRAIN, **cache, **env)

    native, native_no_avx2 = run("none"), run("none", **NO_AVX2)
    assert native[1] != "DEFAULT" and native_no_avx2[1] == "DEFAULT"
    assert native[0] != native_no_avx2[0]  # the narrower kernels change native bits
    assert run("portable")[0] == run("portable", **NO_AVX2)[0]


# Pre-training updates of a tiny RoBERTa with the workflow's masked-LM loss and optimiser, then
# full, DID and SAID fine-tuning (CPU Fastfood) trained and evaluated as a job does.
EVERY_KIND_OF_JOB = """
import sys, pandas as pd, torch
from intdim.pipeline.numerics import use_numerics
use_numerics(sys.argv[1])
from transformers import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification
from intdim import SubspaceModel, SubspaceSettings
from intdim.method.optimisation import adamw_with_warmup
from intdim.method.pretraining import mlm_loss
from intdim.method.training import TrainSettings, train_and_evaluate
from tiny_models import VOCAB, TinyTokenizer
torch.manual_seed(0)
config = RobertaConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_labels=2,
                       num_attention_heads=2, intermediate_size=32, max_position_embeddings=16,
                       pad_token_id=1, bos_token_id=0, eos_token_id=2)
lm = RobertaForMaskedLM(config)
optimizer, schedule = adamw_with_warmup(lm.parameters(), 1e-3, 0.01, 0.1, 3)
ids = torch.randint(3, VOCAB, (8, 12))
batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
         "labels": torch.where(torch.arange(12) % 4 == 0, ids, -100)}
for _ in range(3):
    optimizer.zero_grad()
    mlm_loss(lm, batch).backward()
    optimizer.step()
    schedule.step()
frame = pd.DataFrame({"text": [f"t{i}" for i in range(40)], "text_pair": "",
                      "label": [i % 2 for i in range(40)]})
settings = TrainSettings(learning_rate=1e-3, steps=3, batch_size=8, max_length=8, seed=0)
for method in ("full", "did", "said"):
    net = model = RobertaForSequenceClassification(config)
    if method != "full":
        net = SubspaceModel(model, SubspaceSettings(d=50, method=method, grouping="layer",
                                                    backend="numba"))
    params = list(model.parameters()) if method == "full" else net.trainable_parameters()
    assert train_and_evaluate(net, params, TinyTokenizer(), frame, frame, settings)["status"] == "ok"
print("finished")
"""

VML_CALLED = 97  # the shim's exit status


def vml_shim(tmp_path):
    """A library that, preloaded, stands in for every MKL vector-math function that PyTorch
    exports (vsSqrt, vmsTanh, ...): the first call writes "VML <name>" and ends the process.
    MKL is linked into libtorch_cpu and ATen calls these through the dynamic linker, so a
    preloaded definition wins."""
    import torch

    compiler, nm = shutil.which("cc") or shutil.which("gcc"), shutil.which("nm")
    if not compiler or not nm:
        pytest.skip("building the vector-math shim needs a C compiler and nm")
    library = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    symbols = subprocess.run([nm, "-D", "--defined-only", str(library)], capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
    names = sorted({s for s in symbols if re.fullmatch(r"vm?[sdcz][A-Z]\w*", s)})
    if not names:
        pytest.skip("this PyTorch build has no MKL vector math")
    body = "".join(
        f'void {name}(void) {{ static const char m[] = "VML {name}\\n"; '
        f"write(2, m, sizeof m - 1); _exit({VML_CALLED}); }}\n"
        for name in names
    )
    source = tmp_path / "vml_shim.c"
    source.write_text("#include <unistd.h>\n" + body)
    shim = tmp_path / "vml_shim.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(shim), str(source)], check=True)
    return shim


def run_under_shim(shim, numerics: str) -> subprocess.CompletedProcess:
    tests = str(Path(__file__).parent)
    env = native_env() | {"LD_PRELOAD": str(shim), "PYTHONPATH": tests}
    return subprocess.run([sys.executable, "-c", EVERY_KIND_OF_JOB, numerics], env=env,
                          capture_output=True, text=True)  # fmt: skip


def test_no_job_under_portable_numerics_calls_mkls_vector_math(tmp_path):
    """MKL's vector math (ATen's sqrt, exp, log, tanh, erf ... of a float tensor) chooses its code
    by the CPU whatever MKL_CBWR says, so one call in a portable job can part two CPUs' bits.
    Native numerics call it (the for-loop AdamW's sqrt, the head's tanh): that is what shows the
    shim sees ATen's calls."""
    shim = vml_shim(tmp_path)
    native = run_under_shim(shim, "native")
    assert native.returncode == VML_CALLED, native.stderr[-2000:]
    assert re.search(r"VML vm?s(Sqrt|Tanh)\n", native.stderr), native.stderr
    portable = run_under_shim(shim, "portable")
    assert portable.returncode == 0, portable.stderr[-2000:]
    assert portable.stdout.split() == ["finished"] and "VML" not in portable.stderr
