"""Where the projection's time goes, kernel by kernel: torch.profiler over theta = theta_0 + P x
and P^T g (what one training step asks of the projection) for each d, multi-pass scheme and
way of computing the Hadamard transform, the device time of each Triton kernel per forward +
transpose, the slowest first.

    python tools/profile_projection.py --dims 1000 1000000            # CUDA, RoBERTa-base D
    python tools/profile_projection.py --dims 1000000 --multi-pass gather factored
    python tools/profile_projection.py --dims 1000000 --hadamard butterfly dot
    python tools/profile_projection.py --dims 1000000 --plain        # for ncu: no profiler

``--plain`` runs the products without torch.profiler (whose CUPTI session would compete with
Nsight Compute's), for ``ncu ... python tools/profile_projection.py --plain``; gpu-check's
"kernels" stage runs it that way when ncu is on the PATH. Without a GPU it runs under Triton's
CPU interpreter and finds no device time (for checking the script only).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from pathlib import Path

import torch

# Triton reads this when the kernels are defined, so before intdim.fastfood.kernels is imported.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from intdim.fastfood import kernels  # noqa: E402
from intdim.fastfood.kernels import TritonFastfoodProjection  # noqa: E402
from intdim.measure.kernel_profile import kernel_table, kernel_times  # noqa: E402

ROBERTA_BASE_D = 124_646_402


def products(d: int, D: int, scheme: str, device: str, hadamard: str = kernels.HADAMARDS[0]):
    """(the projection, one forward + transpose as a function)."""
    proj = TritonFastfoodProjection(d, D, 0, device, multi_pass=scheme, hadamard=hadamard)
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(d, device=device, generator=gen)
    base = torch.randn(D, device=device, generator=gen)
    g = torch.randn(D, device=device, generator=gen)

    def run():
        proj.shifted_forward(x, base)
        proj.transpose(g)

    return proj, run


def profile_one(d: int, D: int, scheme: str, device: str, repeats: int, plain: bool,
                hadamard: str = kernels.HADAMARDS[0]) -> dict:  # fmt: skip
    from torch.profiler import ProfilerActivity, profile

    proj, run = products(d, D, scheme, device, hadamard)
    run()  # compile outside the profile
    if device == "cuda":
        torch.cuda.synchronize()
    row = {"d": d, "D": D, "multi_pass": scheme, "plan": list(proj.kernels.plan())}
    if plain:
        for _ in range(repeats):
            run()
        if device == "cuda":
            torch.cuda.synchronize()
        return row
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(repeats):
            run()
        if device == "cuda":
            torch.cuda.synchronize()
    row["kernels"] = kernel_times(prof.key_averages(), repeats)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"],
                        default="cuda" if torch.cuda.is_available() else "cpu")  # fmt: skip
    parser.add_argument("--D", type=int, default=ROBERTA_BASE_D, help="parameters projected to")
    parser.add_argument("--dims", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--multi-pass", nargs="+", choices=kernels.MULTI_PASS_SCHEMES,
                        default=list(kernels.MULTI_PASS_SCHEMES))  # fmt: skip
    parser.add_argument("--hadamard", nargs="+", choices=kernels.HADAMARDS,
                        default=list(kernels.HADAMARDS[:1]))  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--plain", action="store_true", help="no torch.profiler (under ncu)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows, seen = [], set()
    for d, hadamard, scheme in itertools.product(args.dims, args.hadamard, args.multi_pass):
        row = profile_one(d, args.D, scheme, args.device, args.repeats, args.plain, hadamard)
        if tuple(row["plan"]) not in seen:  # a fused d is the same plan for every scheme
            seen.add(tuple(row["plan"]))
            rows.append(row)
    print(kernel_table(rows))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"device": args.device, "repeats": args.repeats,
                                        "rows": rows}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
