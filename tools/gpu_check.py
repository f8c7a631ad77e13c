"""One command that says whether the GPU path works and how fast it is: `make gpu-check`.

With a CUDA device it
1. runs the kernel tests compiled on the GPU (products, adjoint, fused shift, the DID/SAID
   training step against the PyTorch reference, the paper-scale sizes of tests/test_gpu.py, and
   a bf16 pre-training and bf16 DID and SAID fine-tuning runs stopped and resumed on the GPU
   against two unstopped runs) and, beside them, the integration config end to end with
   resources.gpu: 1 and precision: bf16, with a model built from a config and a generated task
   (no download, no offline model or data package); Snakemake and `datasets` come from the
   wheelhouse in .whl/ (`make gpu-wheelhouse`) where the node lacks them, and it says what is
   missing otherwise; every timing stage below runs after both, alone on the GPU;
2. times the projection alone on RoBERTa-base's and -large's D at d = 2e4, 1e6 and 4e6 with
   both multi-pass schemes ("factored", the default, and "gather") and two work-buffer sizes
   (tools/tune_fastfood_kernels.py, each plan checked against the default's products), and
   the fused path with its random stream's parts removed in turn, and the projection kernel
   by kernel (tools/profile_projection.py; with Nsight Compute's counters where ncu is on the
   PATH);
3. measures one training step of decoders built from their configs (Qwen2.5-0.5B and -7B
   shapes, random weights, no download), batch 8 x 256: full fine-tuning of 0.5B (float32
   weights, bf16 autocast) and DID and SAID at d = 1e6 with a bf16 theta_0, each in a fresh
   process, with its peak memory in bytes a parameter; full fine-tuning of 7B is modelled
   (intdim.measure.memory), not run;
4. times one training step of RoBERTa-base and RoBERTa-large built from their configs (random
   weights, no hub), batch 32 x 128 and 32 x 512, bf16, each step recorded as a CUDA graph and
   replayed (full fine-tuning too, so the comparison stays fair): full fine-tuning against DID
   and SAID at d = 1e3, 2e4, 1e6 and 4e6 on the Triton backend, 10 timed steps each, the ratio
   to full fine-tuning with its spread (quartiles), the floor (8 D bytes at the measured copy
   bandwidth) and the peak memory beside each row; a time budget (--budget-s) cuts these
   rows first;
5. prints one table and writes one JSON (results/benchmark/gpu_check.json), saved after every
   stage and row, so a check stopped by a time limit still leaves what it measured.

Without one it says so and runs the kernel tests under Triton's CPU interpreter only (smoke
mode), exiting 0 when they pass. It runs from the checkout (PYTHONPATH=workflow/scripts), needs
no install (the integration step takes what it lacks from .whl/), and prints the versions it
found. The stages are intdim.measure.gpu_check; this file is their command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from intdim.measure.gpu_check import (
    KERNEL_TESTS,
    ROOT,
    STAGES,
    STEP_MODELS,
    check,
    summary_table,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results/benchmark/gpu_check.json")
    parser.add_argument("--models", nargs="+", default=STEP_MODELS)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per configuration")
    parser.add_argument("--no-graphs", action="store_true",
                        help="time the steps as launched, not as recorded CUDA graphs")  # fmt: skip
    parser.add_argument("--tests", nargs="+", default=KERNEL_TESTS,
                        help="the kernel test files to run (default: all of them)")  # fmt: skip
    parser.add_argument("--skip", nargs="+", default=[], choices=STAGES, metavar="STAGE",
                        help="stages left out, of: " + ", ".join(STAGES) + " (the decoders' "
                             "7B SAID row needs about 80 GB)")  # fmt: skip
    parser.add_argument("--budget-s", type=float, default=None,
                        help="stop starting benchmark rows after this many seconds of the check "
                             "(the rows left are listed as skipped)")  # fmt: skip
    args = parser.parse_args(argv)
    report, ok = check(args.out, tests=args.tests, models=args.models, steps=args.steps,
                       graphs=not args.no_graphs, skip=frozenset(args.skip),
                       budget_s=args.budget_s)  # fmt: skip
    print(summary_table(report))
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
