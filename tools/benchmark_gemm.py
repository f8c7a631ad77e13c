"""Float32 matrix products of the m model's training step, one thread: the fixed-order product
(every element one fma chain in k order, the same bits on any CPU; portable numerics' Linear
layers) against torch.mm with the CPU's own MKL branch and with MKL's COMPATIBLE branch. Prints
a table and writes JSON (--out):

    python tools/benchmark_gemm.py --out gemm.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from intdim.measure.gemm_benchmark import KINDS
from intdim.pipeline.numerics import this_cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed calls per product")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = []
    for kind in KINDS:  # each in a fresh process: numerics are chosen once a process
        command = [sys.executable, "-m", "intdim.measure.gemm_benchmark", kind, str(args.steps)]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        rows += json.loads(out.stdout.splitlines()[-1])
    print(f"{this_cpu()}, one thread, median of {args.steps}")
    print("| M x K x N | " + " | ".join(f"{k} ms (GFLOP/s)" for k in KINDS) + " |")
    print("|---|" + "---:|" * len(KINDS))
    for shape in dict.fromkeys((r["m"], r["k"], r["n"]) for r in rows):
        cells = [
            r
            for kind in KINDS
            for r in rows
            if (r["m"], r["k"], r["n"]) == shape and r["kind"] == kind
        ]
        print(f"| {' x '.join(map(str, shape))} | "
              + " | ".join(f"{r['ms']:.2f} ({r['gflops']:.0f})" for r in cells) + " |")  # fmt: skip
    if args.out:
        args.out.write_text(
            json.dumps({"cpu": this_cpu(), "steps": args.steps, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
