"""CPU arithmetic chosen not to depend on which x86-64 CPU runs it, and a description of the
CPU a job ran on.

PyTorch picks its CPU kernels by the instructions the CPU has, in three places: ATen's own
vectorised kernels (AVX2, AVX-512 or none), MKL's matrix products (a code branch per
instruction set and vendor) and oneDNN's. Each choice sums in its own order, so float32 results
differ in the last bits between CPUs. Pre-training from scratch amplifies such differences
until the checkpoints, and the d90 of each, differ between machines; on one machine every run
repeats bit for bit.

Portable numerics pin all three: ATen's baseline kernels, MKL's COMPATIBLE branch (the one MKL
documents as reproducible on Intel and non-Intel CPUs alike) and no oneDNN. A fourth place
follows none of these settings: ATen hands ``sqrt`` (and exp, log, tanh and other elementwise
functions) of contiguous float tensors to MKL's vector math, whose float32 sqrt on an AMD EPYC
is 1 ulp off in about a fifth of the results, whatever MKL_CBWR says. AdamW's for-loop step
takes its sqrt there, and that is where an Intel Xeon's pre-training and an EPYC's first parted
(equal gradients, different updated weights; docs/methods.md). So portable numerics take the
fused AdamW kernel instead (``adamw_options``), which uses ATen's own correctly rounded
operations in a fixed order: tests/test_numerics.py checks its steps against NumPy's float32,
bit for bit. The classification heads' tanh is the only other call into MKL's vector math in
the workflow's jobs; portable numerics compute it from ATen's sigmoid (``portable_tanh``).
Each CPU also checks its portable bits against the kernels a CPU without AVX2 would choose, and
that no kind of portable job calls MKL's vector math (tests/test_numerics.py).

The float32 matrix products of Linear layers and their gradients (``mm`` and ``addmm``), most of
a step, do not run on MKL's COMPATIBLE branch, which was 4-7x slower than MKL's own on an Intel
Xeon's small shapes: ``fixed_order_gemm`` computes each element as one chain of fused
multiply-adds in k order, whose bits IEEE 754 defines, at about half MKL's own speed. Attention's
batched products stay on the COMPATIBLE branch, which asks for a fixed thread count: each
rule's ``threads`` gives it. GELU and its gradient (``portable_gelu``) are computed from +, -,
x and / alone: ATen's baseline GELU called the C library's erff per element, slowly, with bits
that change with the library's version. Dropout's masks come from a counter-based generator in
integer arithmetic (``portable_dropout``), 6x faster than MKL's streams. The price is speed,
and the CPU sets it (docs/performance.md). That is why ``portable_cpu_numerics`` applies it to
the workflow's own pre-trained models by default.
"""

from __future__ import annotations

import ctypes
import os
import platform
from pathlib import Path

# MKL reads MKL_CBWR and ATen reads ATEN_CPU_CAPABILITY when they are first used, not at import.
PORTABLE_ENV = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"}
MKL_CBWR_BRANCH, MKL_CBWR_COMPATIBLE = 1, 3  # mkl_cbwr_get's query and the branch it reports

# Instruction sets that decide which kernels the libraries above choose.
DISPATCH_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile")


def numerics_for(setting: str, pretrained: bool) -> str:
    """Portable or native numerics for one job ("portable" or "native"): setting is the
    config's portable_cpu_numerics (none, pretrained or all); pretrained says whether the job
    trains or pre-trains one of the workflow's own models."""
    if setting not in ("none", "pretrained", "all"):
        raise ValueError(f"portable_cpu_numerics must be none, pretrained or all, not {setting!r}")
    return "portable" if setting == "all" or (setting == "pretrained" and pretrained) else "native"


def use_numerics(numerics: str) -> None:
    """Switch this process to ``numerics`` ("portable" or "native"). Portable must come before
    the process's first tensor operation: it raises if ATen or MKL has already chosen."""
    if numerics == "native":
        return
    if numerics != "portable":
        raise ValueError(f"numerics must be portable or native, not {numerics!r}")
    import torch

    os.environ.update(PORTABLE_ENV)
    torch.backends.mkldnn.enabled = False
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # MKL reads MKL_CBWR on its first product
    late = []
    if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
        late.append(f"ATen already uses {torch.backends.cpu.get_cpu_capability()}")
    branch = mkl_branch()
    if branch is not None and branch != MKL_CBWR_COMPATIBLE:
        late.append(f"MKL already uses branch {branch}")
    if late:
        raise RuntimeError("portable numerics were asked for after the first tensor operation: "
                           + "; ".join(late))  # fmt: skip
    # The one function of MKL's vector math a portable job calls (the classification heads').
    torch.tanh = torch.Tensor.tanh = portable_tanh
    # Linear layers' products and their gradients: bits no CPU can change (fma's definition,
    # where COMPATIBLE rests on MKL's promise), at 1.4-7x COMPATIBLE's speed on m's shapes.
    from .fixed_order_gemm import replace_torch_products

    replace_torch_products()
    # GELU and its gradient: ATen's baseline kernel calls the C library's erff per element
    # (7 ms and 10 ms a layer of m, 27% of a step), whose bits change with its version.
    from .portable_gelu import replace_torch_gelu

    replace_torch_gelu()
    # Dropout's masks: MKL's random streams cost 9% of a step of m.
    from .portable_dropout import replace_torch_bernoulli

    replace_torch_bernoulli()


def portable_tanh(input):
    """tanh as 2 sigmoid(2x) - 1 on the CPU: ATen's tanh of a float tensor is MKL's vector math,
    whose sqrt's bits depend on the CPU, while ATen's sigmoid is its own kernel (glibc's expf
    under ATen's baseline kernels). Within 2e-7 of tanh; other devices keep torch's tanh."""
    import torch

    if input.device.type != "cpu":
        return torch._C._VariableFunctions.tanh(input)  # torch.tanh as PyTorch defines it
    return torch.sigmoid(input * 2) * 2 - 1


def adamw_options() -> dict:
    """Keyword arguments for torch.optim.AdamW in this process: the fused kernel under portable
    numerics (its sqrt is ATen's, correctly rounded; the for-loop step's goes through MKL's
    vector math, whose bits depend on the CPU), nothing otherwise, so that native runs keep
    the bits they have always had."""
    return {"fused": True} if _portable_in_use() else {}


def _portable_in_use() -> bool:
    return all(os.environ.get(key) == value for key, value in PORTABLE_ENV.items())


def mkl_branch() -> int | None:
    """The code branch PyTorch's MKL computes with (3 is COMPATIBLE); None where this build of
    PyTorch does not expose it (no MKL, or MKL linked differently)."""
    import torch

    library = Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"
    try:
        get = ctypes.CDLL(str(library)).mkl_serv_cbwr_get
    except (OSError, AttributeError):
        return None
    get.restype, get.argtypes = ctypes.c_int, [ctypes.c_int]
    return get(MKL_CBWR_BRANCH)


def describe_cpu(cpuinfo: str) -> str:
    """One line naming a CPU from /proc/cpuinfo's text: its model name, family and model numbers
    (a virtual machine often shows only the vendor's name) and the dispatch-relevant instruction
    sets it has, e.g. "AMD EPYC (family 25, model 1; avx2)"."""
    first = cpuinfo.split("\n\n", 1)[0]
    fields = {}
    for line in first.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    has = [flag for flag in DISPATCH_FLAGS if flag in flags] or ["no avx2"]
    name = fields.get("model name") or fields.get("vendor_id") or "unknown CPU"
    numbers = [f"{label} {fields[key]}" for key, label in
               (("cpu family", "family"), ("model", "model")) if fields.get(key)]  # fmt: skip
    sets = ", ".join(has)
    return f"{name} ({', '.join(numbers)}; {sets})" if numbers else f"{name} ({sets})"


def this_cpu() -> str:
    """describe_cpu for the CPU running this process; the platform's own name where there is no
    /proc/cpuinfo (macOS, Windows)."""
    try:
        return describe_cpu(Path("/proc/cpuinfo").read_text())
    except OSError:
        return f"{platform.processor() or 'unknown CPU'} ({platform.machine()})"
