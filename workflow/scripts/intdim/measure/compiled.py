"""What the Fastfood kernels compile to for a GPU architecture, found without a GPU.

Triton compiles each kernel variant to PTX; the ptxas it ships assembles the PTX for the
target, and its cuobjdump disassembles the result into SASS, the instructions the GPU runs.
From those: registers per thread and spilled bytes (ptxas's report), shared memory (Triton's
metadata), and two instruction counts per element a thread holds:

* ``arithmetic_per_element``: integer and float arithmetic in the PTX;
* ``sass_per_element``: every SASS instruction except NOPs, loads, stores and control included.

Both counts are static: an instruction counts once whether it runs once, once per loop trip
or never. A cold path counts in full: libdevice's cosf keeps a slow argument reduction for
arguments past 105,615, about 50 instructions that Box-Muller's arguments (below 2 pi) never
reach.

``stream_breakdown`` compiles the fused kernels again with parts of the counter-based stream
replaced by constants (``stream_parts``, removed one after another), so the differences give
the static instructions each part costs.
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import os
import re
import subprocess
import tempfile
from pathlib import Path

import triton

from ..fastfood import kernels as fastfood_kernels
from .stream_parts import kernel_without, removal_steps

# The runtime arguments' types (everything else is a compile-time constant).
INTEGER_ARGS = {"n_seg", "d", "D", "block0", "n_blocks", "tiles_per_program", "block_elements"}
KEY_ARGS = {"key_b", "key_g1", "key_g2", "key_pi"}
# PTX opcodes counted as arithmetic work (integer and float, the hash's and the transform's).
ARITHMETIC = {"add", "sub", "mul", "mad", "fma", "xor", "and", "or", "shr", "shl", "not", "cvt"}
# A SASS instruction line of cuobjdump: /*0a40*/ [@P0 ] OPCODE ...
SASS_OPCODE = re.compile(r"^\s+/\*[0-9a-f]+\*/\s+(?:@!?U?P[0-9T]\s+)?([A-Z0-9_]+)", re.M)


def signature(kernel) -> dict[str, str]:
    types = {}
    for name in kernel.arg_names:
        if name in ("seg_start_ptr", "chunk_start_ptr", "chunk_length_ptr"):
            types[name] = "*i64"
        elif name.endswith("_ptr"):
            types[name] = "*fp32"
        elif name in INTEGER_ARGS:
            types[name] = "i32"
        elif name in KEY_ARGS:
            types[name] = "i64"
        elif name == "scale":
            types[name] = "fp32"
        else:
            types[name] = "constexpr"
    return types


def assemble(ptx: str, arch: int) -> tuple[str, str]:
    """(ptxas -v's report, cuobjdump's SASS) of a kernel's PTX, with the tools Triton ships."""
    from triton.backends.nvidia.compiler import get_ptxas

    ptxas = Path(get_ptxas(arch).path)
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = Path(tmp) / "kernel.ptx", Path(tmp) / "kernel.cubin"
        source.write_text(ptx)
        suffix = "a" if arch >= 90 else ""
        report = subprocess.run(
            [ptxas, f"-arch=sm_{arch}{suffix}", "-v", source, "-o", binary],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        sass = subprocess.run(
            [ptxas.parent / "cuobjdump", "-sass", binary], capture_output=True, text=True,
            check=True,
        )  # fmt: skip
    return report.stderr + report.stdout, sass.stdout


def ptxas_numbers(report: str) -> dict[str, int]:
    """Registers and spill bytes from ptxas -v's report."""

    def number(pattern: str) -> int:
        found = re.search(pattern, report)
        return int(found.group(1)) if found else 0

    return {
        "registers": number(r"Used (\d+) registers"),
        "spill_store_bytes": number(r"(\d+) bytes spill stores"),
        "spill_load_bytes": number(r"(\d+) bytes spill loads"),
    }


def sass_opcodes(sass: str) -> collections.Counter:
    """How often each SASS opcode occurs (NOPs, the scheduler's padding, left out)."""
    return collections.Counter(op for op in SASS_OPCODE.findall(sass) if op != "NOP")


def elements_per_thread(constants: dict, warps: int) -> float | None:
    """Elements of the tile each thread holds (None for the segment-dot kernel)."""
    if "NB" in constants:
        elements = constants["NB"] * constants["LL"]
    elif "LB" in constants:  # the factored scheme: C columns or RR rows of the grid
        if "C" in constants:
            elements = constants["C"] << constants["LB"]
        else:
            elements = constants["RR"] << constants["RB"]
    elif "COLUMNS" in constants:
        elements = constants["COLUMNS"]
    elif "R_OUT" in constants:
        elements = constants["C"] * constants["R_OUT"]
    elif "R_IN" in constants:
        elements = constants["R_IN"]
    else:
        return None
    return elements / (warps * 32)


def _per_element(count: int, per_thread: float | None) -> float | None:
    return None if per_thread is None else round(count / per_thread, 1)


def arithmetic_count(ptx: str) -> int:
    return sum(1 for m in re.finditer(r"^\s+([a-z]+)\.", ptx, re.M) if m.group(1) in ARITHMETIC)


def compile_variant(kernel, constants: dict, arch: int) -> dict:
    """One kernel variant's row: warps, shared memory, registers, spills and counts."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    constants = dict(constants)
    warps = constants.pop("num_warps")
    source = ASTSource(kernel, signature(kernel), constexprs=constants)
    compiled = triton.compile(
        source, target=GPUTarget("cuda", arch, 32), options={"num_warps": warps}
    )
    ptx = compiled.asm["ptx"]
    report, sass = assemble(ptx, arch)
    per_thread = elements_per_thread(constants, warps)
    return {
        "num_warps": warps,
        "shared_bytes": compiled.metadata.shared,
        "arithmetic_per_element": _per_element(arithmetic_count(ptx), per_thread),
        "sass_per_element": _per_element(sum(sass_opcodes(sass).values()), per_thread),
        **ptxas_numbers(report),
    }


def compile_all(
    dims: list[int],
    arch: int,
    on_row=None,
    workers: int | None = None,
    hadamards: tuple[str, ...] = fastfood_kernels.HADAMARDS,
) -> list[dict]:
    """Every kernel variant of every multi-pass scheme, for each d (D = max(d, 2**20)) and
    each way of computing the Hadamard transform."""
    jobs = [(d, name, h, arch) for d in dims for h in hadamards for name in _variants(d, h)[1]]
    return _in_workers(_variant_row, jobs, workers, on_row)


def stream_breakdown(dims: list[int], arch: int, workers: int | None = None) -> list[dict]:
    """For each fused d, the fused DID kernels' static SASS per element with the whole stream
    (``removed`` None), then with each part of ``stream_parts.STREAM_PARTS`` removed in turn,
    the ones before it staying removed: one row per (d, kernel, step)."""
    jobs = [
        (d, name, step, arch)
        for d in dims
        if fastfood_kernels.FastfoodKernels(d, max(d, 1 << 20), 0).fused
        for name in ("forward_fused", "transpose_fused")
        for step in range(len(removal_steps()))
    ]
    return _in_workers(_breakdown_row, jobs, workers)


def _variants(d: int, hadamard: str = fastfood_kernels.HADAMARDS[0]) -> tuple[int, dict]:
    """(LL, {name: (kernel, constexprs)}) of d's kernels, each once: the fused ones are the
    same in every multi-pass scheme."""
    variants = {}
    for scheme in fastfood_kernels.MULTI_PASS_SCHEMES:
        kernels = fastfood_kernels.FastfoodKernels(
            d, max(d, 1 << 20), 0, multi_pass=scheme, hadamard=hadamard
        )
        for name, kernel, constants in kernels.variants():
            variants.setdefault(name, (kernel, constants))
    return kernels.LL, variants


def _variant_row(d: int, name: str, hadamard: str, arch: int) -> dict:
    ll, variants = _variants(d, hadamard)
    row = {"d": d, "LL": ll, "kernel": name, "hadamard": hadamard}
    return {**row, **compile_variant(*variants[name], arch)}


def _breakdown_row(d: int, name: str, step: int, arch: int) -> dict:
    ll, variants = _variants(d)
    kernel, constants = variants[name]
    removed, standins = removal_steps()[step]
    row = compile_variant(kernel_without(kernel, standins), constants, arch)
    return {"d": d, "LL": ll, "kernel": name, "removed": removed,
            "sass_per_element": row["sass_per_element"]}  # fmt: skip


def _in_workers(function, jobs: list[tuple], workers: int | None, on_row=None) -> list[dict]:
    """function(*job) for every job, in the jobs' order. Each compile is one core's work for
    seconds (LLVM, then ptxas), so they go to a pool of processes, one per core by default;
    spawned, not forked, as the caller may hold torch's threads. Each worker builds its
    kernels again from (d, name): jitted functions do not pickle."""
    if not jobs:
        return []
    workers = workers or len(os.sched_getaffinity(0))
    context = multiprocessing.get_context("spawn")
    rows = []
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        for row in pool.map(function, *zip(*jobs, strict=True)):
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows
