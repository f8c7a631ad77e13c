"""Compile every Fastfood kernel variant for a GPU architecture, without a GPU.

Triton compiles to PTX and the bundled ptxas assembles it for the target, so this checks, on
any Linux machine, that the kernels the interpreter tests pass also build for real hardware.
ptxas's own report gives each variant's registers per thread and spilled bytes, and the
compiled metadata gives its shared memory. The PTX also gives a first estimate of the work:
arithmetic instructions per element a thread handles (a static count, so a loop body counts
once: per tile or per block for the looping kernels). Prints a table and writes JSON.

    python tools/compile_fastfood_kernels.py                 # sm_90 (H100/H200)
    python tools/compile_fastfood_kernels.py --arch 80 --dims 1000 4000000
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

DEFAULT_DIMS = [1, 8, 100, 1_000, 10_000, 100_000, 4_000_000]
# The runtime arguments' types (everything else is a compile-time constant).
INTEGER_ARGS = {"n_seg", "d", "D", "block0", "n_blocks", "tiles_per_program", "block_elements"}
# PTX opcodes counted as arithmetic work (integer and float, the hash's and the transform's).
ARITHMETIC = {"add", "sub", "mul", "mad", "fma", "xor", "and", "or", "shr", "shl", "not", "cvt"}
KEY_ARGS = {"key_b", "key_g1", "key_g2", "key_pi"}


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


def ptxas_report(ptx: str, arch: int) -> dict[str, int]:
    """Registers and spill bytes from ptxas -v on the kernel's PTX."""
    from triton.backends.nvidia.compiler import get_ptxas

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kernel.ptx"
        path.write_text(ptx)
        suffix = "a" if arch >= 90 else ""
        proc = subprocess.run(
            [get_ptxas(arch).path, f"-arch=sm_{arch}{suffix}", "-v", str(path), "-o",
             str(Path(tmp) / "kernel.cubin")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    text = proc.stderr + proc.stdout

    def number(pattern: str) -> int:
        found = re.search(pattern, text)
        return int(found.group(1)) if found else 0

    return {
        "registers": number(r"Used (\d+) registers"),
        "spill_store_bytes": number(r"(\d+) bytes spill stores"),
        "spill_load_bytes": number(r"(\d+) bytes spill loads"),
    }


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


def arithmetic_per_element(ptx: str, per_thread: float | None) -> float | None:
    if per_thread is None:
        return None
    count = sum(1 for m in re.finditer(r"^\s+([a-z]+)\.", ptx, re.M) if m.group(1) in ARITHMETIC)
    return round(count / per_thread, 1)


def compile_all(dims: list[int], arch: int) -> list[dict]:
    import triton
    from intdim.fastfood.kernels import MULTI_PASS_SCHEMES, FastfoodKernels
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    rows = []
    target = GPUTarget("cuda", arch, 32)
    for d in dims:
        # Every multi-pass scheme, each kernel once (the fused ones are the same in each).
        variants = {}
        for scheme in MULTI_PASS_SCHEMES:
            kernels = FastfoodKernels(d, max(d, 1 << 20), seed=0, multi_pass=scheme)
            for name, kernel, constants in kernels.variants():
                variants.setdefault(name, (kernel, constants))
        for name, (kernel, constants) in variants.items():
            constants = dict(constants)
            warps = constants.pop("num_warps")
            source = ASTSource(kernel, signature(kernel), constexprs=constants)
            compiled = triton.compile(source, target=target, options={"num_warps": warps})
            rows.append(
                {
                    "d": d,
                    "LL": kernels.LL,
                    "kernel": name,
                    "num_warps": warps,
                    "shared_bytes": compiled.metadata.shared,
                    "arithmetic_per_element": arithmetic_per_element(
                        compiled.asm["ptx"], elements_per_thread(constants, warps)
                    ),
                    **ptxas_report(compiled.asm["ptx"], arch),
                }
            )
            print(format_row(rows[-1]), flush=True)
    return rows


def format_row(r: dict) -> str:
    ops = r["arithmetic_per_element"]
    return (
        f"{r['d']:>9}{r['LL']:>9}  {r['kernel']:<32}{r['num_warps']:>6}{r['registers']:>6}"
        f"{r['spill_store_bytes']:>8}{r['shared_bytes']:>9}{'-' if ops is None else ops:>8}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability x 10")
    parser.add_argument("--dims", type=int, nargs="+", default=DEFAULT_DIMS)
    parser.add_argument("--out", type=Path, help="default results/benchmark/kernels_sm<arch>.json")
    args = parser.parse_args(argv)
    print(
        f"{'d':>9}{'LL':>9}  {'kernel':<32}{'warps':>6}{'regs':>6}{'spill B':>8}{'shared B':>9}"
        f"{'ops/el':>8}"
    )
    rows = compile_all(args.dims, args.arch)
    out = args.out or Path(f"results/benchmark/kernels_sm{args.arch}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"arch": args.arch, "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
