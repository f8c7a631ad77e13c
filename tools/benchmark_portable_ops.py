"""Portable numerics' GELU and dropout masks against the ATen kernels they replace (the
baseline GELU, which calls the C library's erff per element, and MKL's bernoulli_), taken in
turn in one process, one thread: each op on m's shapes, and with --step-model whole training
steps of that checkpoint (full and SAID at d = 646). Prints tables and writes JSON (--out):

    python tools/benchmark_portable_ops.py --out ops.json [--step-model DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from intdim.measure.gemm_benchmark import ratio_cell, rows_from_a_process
from intdim.pipeline.numerics import this_cpu

MODULE = "intdim.measure.portable_ops_benchmark"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds of each")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--step-model", type=Path, default=None, metavar="DIR",
                        help="also time training steps of this checkpoint")  # fmt: skip
    args = parser.parse_args(argv)
    if args.step_model and not args.step_model.is_dir():
        parser.error(f"--step-model {args.step_model}: no such checkpoint directory")
    ops = rows_from_a_process(MODULE, "ops", str(args.rounds))
    print(f"{this_cpu()}, one thread, portable numerics, in turn, median of {args.rounds}")
    print("| op | elements | portable ms | ATen's ms | ratio (quartiles) |")
    print("|---|---:|---:|---:|---:|")
    for r in ops:
        print(f"| {r['op']} | {r['elements']:,} | {r['ms_portable']:.3f} | {r['ms_aten']:.3f} | "
              f"{ratio_cell(r)} |")  # fmt: skip
    record = {"cpu": this_cpu(), "rounds": args.rounds, "ops": ops}
    if args.step_model:
        steps = rows_from_a_process(MODULE, str(args.step_model), str(args.rounds))
        print(f"\nsteps of {args.step_model}, 32 x 32 tokens, portable GELU and dropout masks "
              "against ATen's, in turn")  # fmt: skip
        print("| method | d | portable ms | ATen's ms | ratio (quartiles) |")
        print("|---|---:|---:|---:|---:|")
        for r in steps:
            print(f"| {r['method']} | {r['d'] or '-'} | {r['ms_portable']:.1f} | "
                  f"{r['ms_aten']:.1f} | {ratio_cell(r)} |")  # fmt: skip
        record["steps"] = {"model": str(args.step_model), "rows": steps}
    if args.out:
        args.out.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
