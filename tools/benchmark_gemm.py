"""Float32 matrix products of the m model's training step, one thread: the fixed-order product
(every element one fma chain in k order, the same bits on any CPU; portable numerics' Linear
layers) against torch.mm with the CPU's own MKL branch and with MKL's COMPATIBLE branch. Prints
a table and writes JSON (--out). With --against COMMIT, a second table times this checkout's
fixed-order product against COMMIT's, call by call in turn in one process (a machine whose
speed drifts moves both alike), and checks that both give the same bits:

    python tools/benchmark_gemm.py --out gemm.json [--against HEAD~1 [--step-model DIR]]

--step-model DIR (a checkpoint, e.g. results/models/pt-m-step500/snapshot) adds whole
training steps of that model under portable numerics, full and SAID at d = 646, the two
products taken step by step in turn.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from intdim.measure.gemm_benchmark import KINDS, ratio_cell, rows_from_a_process
from intdim.pipeline.numerics import this_cpu


def timed_in_a_process(*arguments: str) -> list[dict]:
    return rows_from_a_process("intdim.measure.gemm_benchmark", *arguments)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed calls per product")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--against", metavar="COMMIT", default=None,
                        help="also time this commit's fixed-order product, in turn")  # fmt: skip
    parser.add_argument("--step-model", type=Path, default=None, metavar="DIR",
                        help="with --against: time training steps of this checkpoint")  # fmt: skip
    args = parser.parse_args(argv)
    if args.step_model and not args.against:
        parser.error("--step-model needs --against COMMIT")
    if args.step_model and not args.step_model.is_dir():
        parser.error(f"--step-model {args.step_model}: no such checkpoint directory")
    rows = []
    for kind in KINDS:  # each in a fresh process: numerics are chosen once a process
        rows += timed_in_a_process(kind, str(args.steps))
    print(f"{this_cpu()}, one thread, median of {args.steps}")
    print("| M x K x N (A.T: a weight gradient) | "
          + " | ".join(f"{k} ms (GFLOP/s)" for k in KINDS) + " |")  # fmt: skip
    print("|---|" + "---:|" * len(KINDS))
    for shape in dict.fromkeys((r["m"], r["k"], r["n"]) for r in rows):
        cells = [
            r
            for kind in KINDS
            for r in rows
            if (r["m"], r["k"], r["n"]) == shape and r["kind"] == kind
        ]
        mark = " (A.T)" if cells[0]["a"] == "transposed" else ""
        print(f"| {' x '.join(map(str, shape))}{mark} | "
              + " | ".join(f"{r['ms']:.2f} ({r['gflops']:.0f})" for r in cells) + " |")  # fmt: skip
    record = {"cpu": this_cpu(), "steps": args.steps, "rows": rows}
    if args.against:
        turns = timed_in_a_process("against", args.against, str(args.steps))
        print(
            f"\nfixed order, this checkout against {args.against}, in turn, median of "
            f"{args.steps} rounds (the same bits)"
        )
        print("| M x K x N | this checkout ms | at the commit ms | ratio (quartiles) |")
        print("|---|---:|---:|---:|")
        for r in turns:
            mark = " (A.T)" if r["a"] == "transposed" else ""
            print(f"| {r['m']} x {r['k']} x {r['n']}{mark} | {r['ms']:.2f} | "
                  f"{r['ms_at_commit']:.2f} | {ratio_cell(r)} |")  # fmt: skip
        record["against"] = {"commit": args.against, "rows": turns}
    if args.step_model:
        steps = timed_in_a_process("steps", args.against, str(args.step_model), str(args.steps))
        print(
            f"\nsteps of {args.step_model}, portable numerics, this checkout's product "
            f"against {args.against}'s, in turn, median of {args.steps} rounds"
        )
        print("| method | d | this checkout ms | at the commit ms | ratio (quartiles) |")
        print("|---|---:|---:|---:|---:|")
        for r in steps:
            print(f"| {r['method']} | {r['d'] or '-'} | {r['ms']:.1f} | "
                  f"{r['ms_at_commit']:.1f} | {ratio_cell(r)} |")  # fmt: skip
        record["steps_against"] = {"commit": args.against, "model": str(args.step_model),
                                   "rows": steps}  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
