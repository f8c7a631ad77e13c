"""Where one training step's time goes: torch.profiler over a few steps of one configuration
of the step benchmark, the operators that take the most device time first.

    python tools/profile_step.py --model roberta-base --method did --d 1000
    python tools/profile_step.py --model roberta-base --method full
    python tools/profile_step.py --device cpu --model results/models/pt-m-step500/snapshot \
        --method full --batch 32 --seq 32 --numerics portable   # a Section 5 job's arithmetic

Prints the profiler's table and writes it, with the configuration, as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from intdim.measure.benchmark import add_numerics_option, check_numerics, prepare
from intdim.method.subspace import GROUPINGS
from intdim.pipeline.numerics import use_numerics
from intdim.projections.registry import BACKENDS
from torch.profiler import ProfilerActivity, profile


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    parser.add_argument("--model", default="roberta-base")
    parser.add_argument("--method", choices=["full", "did", "said"], default="did")
    parser.add_argument("--d", type=int, default=1_000)
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--said-grouping", choices=GROUPINGS, default="tensor")
    add_numerics_option(parser)
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    gpu = args.device == "cuda"
    check_numerics(parser, args)
    use_numerics(args.numerics)  # before this process's first tensor operation
    spec = dict(device=args.device, model=args.model, method=args.method,
                d=None if args.method == "full" else args.d, backend=args.backend,
                batch=args.batch, seq=args.seq, bf16=gpu, said_grouping=args.said_grouping,
                numerics=args.numerics)  # fmt: skip
    _, step, _ = prepare(spec)
    step()  # compile and allocate outside the profile
    if gpu:
        torch.cuda.synchronize()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
    with profile(activities=activities) as prof:
        for _ in range(args.steps):
            step()
        if gpu:
            torch.cuda.synchronize()
    key = "self_device_time_total" if gpu else "self_cpu_time_total"
    table = prof.key_averages().table(sort_by=key, row_limit=args.rows)
    print(f"{args.model} {args.method} d={spec['d']} {args.numerics} ({args.steps} steps)")
    print(table)
    name = Path(args.model).name  # a model directory's last part
    out = args.out or Path("results/benchmark") / f"profile_{name}_{args.method}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"spec": spec, "steps": args.steps, "table": table}, indent=2))


if __name__ == "__main__":
    main()
