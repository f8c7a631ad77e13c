"""Benchmark: the Fastfood kernels' knobs, timed on one device against the floor.

For each d, times theta = theta_0 + P x and P^T g (what one training step asks of the
projection) for every distinct plan that the knobs give (``fused_max``, ``tile_elements``,
``work_elements``, ``multi_pass``, ``hadamard`` of ``FastfoodKernels``), checks that each
plan's products agree with the default plan's, prints a table and writes the numbers as JSON.
The floor is 8 D bytes (read theta_0, write theta) at the float32 copy bandwidth measured in
the same process.

    python tools/tune_fastfood_kernels.py                        # CUDA, RoBERTa-base D
    python tools/tune_fastfood_kernels.py --D 355359746          # RoBERTa-large D
    python tools/tune_fastfood_kernels.py --dims 1000 8192 --stream-breakdown

``--stream-breakdown`` also times the default plan of each fused d with the parts of the
counter-based stream removed one after another (``intdim.measure.stream_parts``): how much of
the fused kernels' time the stream is, to set against its share of their instructions
(``tools/compile_fastfood_kernels.py --breakdown``). Those rows' products are not P's.

Without a GPU it runs under Triton's CPU interpreter (for checking the script at tiny sizes
only: ``--device cpu --D 5000 --dims 40 700``); those times say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
from pathlib import Path

import torch

# Triton reads this when the kernels are defined, so before intdim.fastfood.kernels is imported.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from intdim.fastfood import kernels  # noqa: E402
from intdim.fastfood.kernels import TritonFastfoodProjection  # noqa: E402
from intdim.measure.stream_parts import fused_kernels_without, removal_steps  # noqa: E402
from intdim.measure.timing import copy_bandwidth, median_time  # noqa: E402

ROBERTA_BASE_D = 124_646_402
DEFAULT_DIMS = [10, 1_000, 8_192, 10_000, 100_000, 1_000_000, 4_000_000]
# Agreement of every plan with the default one (float32 rounding of different factorings).
TOLERANCE = 1e-5


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def plans(d: int, D: int, knob_grid: dict[str, list]) -> list[dict]:
    """The knob settings that give distinct plans for (d, D), the default settings first
    (``work_elements`` None: the multi-pass scheme's own default)."""
    defaults = dict(
        fused_max=kernels.FUSED_MAX,
        tile_elements=kernels.TILE_ELEMENTS,
        work_elements=None,
        multi_pass=kernels.MULTI_PASS_SCHEMES[0],
        hadamard=kernels.HADAMARDS[0],
    )
    seen, chosen = set(), []
    names = list(knob_grid)
    for values in [tuple(defaults[n] for n in names), *itertools.product(*knob_grid.values())]:
        knobs = dict(zip(names, values, strict=True))
        plan = kernels.FastfoodKernels(d, D, 0, **knobs).plan()
        if plan not in seen:
            seen.add(plan)
            chosen.append({"knobs": knobs, "plan": plan})
    return chosen


def time_plan(d: int, D: int, knobs: dict, device: str, steps: int, reference=None):
    """(the row of timings, the products theta and P^T g); errors against ``reference``."""
    proj = TritonFastfoodProjection(d, D, 0, device, **knobs)
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(d, device=device, generator=gen)
    base = torch.randn(D, device=device, generator=gen)
    g = torch.randn(D, device=device, generator=gen)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    theta, _ = proj.shifted_forward(x, base)
    transposed = proj.transpose(g)
    row = {
        "d": d,
        "D": D,
        **knobs,
        "plan": list(proj.kernels.plan()),
        "work_bytes": proj.kernels.work_bytes(),
        "forward_s": median_time(lambda: proj.shifted_forward(x, base), device, 1, steps),
        "transpose_s": median_time(lambda: proj.transpose(g), device, 1, steps),
    }
    row["projection_s"] = row["forward_s"] + row["transpose_s"]
    if device == "cuda":
        row["peak_bytes"] = torch.cuda.max_memory_allocated()
    if reference is not None:
        row["forward_error"] = _relative_error(theta - base, reference[0] - base)
        row["transpose_error"] = _relative_error(transposed, reference[1])
    row["max_error"] = max(row.get("forward_error", 0.0), row.get("transpose_error", 0.0))
    return row, (theta, transposed)


def stream_breakdown(d: int, D: int, device: str, steps: int) -> list[dict]:
    """The default plan's rows with the stream's parts removed cumulatively (fused d only;
    ``removed`` names the part each row leaves out on top of the rows before it)."""
    if not kernels.FastfoodKernels(d, D, 0).fused:
        return []
    rows = []
    for removed, standins in removal_steps()[1:]:
        with fused_kernels_without(standins):
            row, _ = time_plan(d, D, {}, device, steps)
        rows.append({**row, "removed": removed})
    return rows


def format_table(rows: list[dict]) -> str:
    header = (
        f"{'d':>9}  {'plan':<34}{'fwd ms':>11}{'T ms':>11}{'floor ms':>10}{'x floor':>10}"
        f"{'work MiB':>10}{'max err':>10}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        plan = str(tuple(r["plan"])) if r.get("removed") is None else f"- {r['removed']}"
        lines.append(
            f"{r['d']:>9}  {plan[:33]:<34}{r['forward_s'] * 1e3:>11.3f}"
            f"{r['transpose_s'] * 1e3:>11.3f}{r['floor_s'] * 1e3:>10.4f}"
            f"{r['projection_s'] / r['floor_s']:>10.1f}{r['work_bytes'] / 2**20:>10.1f}"
            f"{r['max_error']:>10.1e}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    parser.add_argument("--D", type=int, default=ROBERTA_BASE_D, help="parameters projected to")
    parser.add_argument("--dims", type=int, nargs="+", default=DEFAULT_DIMS)
    parser.add_argument("--fused-max", type=int, nargs="+", default=[1 << 10, 1 << 12, 1 << 13])
    parser.add_argument("--tile-elements", type=int, nargs="+", default=[1 << 10, 1 << 11, 1 << 12])
    parser.add_argument("--work-elements", type=int, nargs="+", default=[1 << 22, 1 << 24, 1 << 26])
    parser.add_argument(
        "--multi-pass", nargs="+", choices=kernels.MULTI_PASS_SCHEMES,
        default=list(kernels.MULTI_PASS_SCHEMES),
    )  # fmt: skip
    parser.add_argument("--hadamard", nargs="+", choices=kernels.HADAMARDS,
                        default=list(kernels.HADAMARDS))  # fmt: skip
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--stream-breakdown", action="store_true",
        help="also the fused plans with the stream's parts removed in turn",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here (use --device cpu for a tiny check)")
    grid = {
        "fused_max": args.fused_max,
        "tile_elements": args.tile_elements,
        "work_elements": args.work_elements,
        "multi_pass": args.multi_pass,
        "hadamard": args.hadamard,
    }
    bandwidth = copy_bandwidth(args.D, args.device, args.steps)
    rows = []
    for d in args.dims:
        reference = None
        for choice in plans(d, args.D, grid):
            knobs = choice["knobs"]
            row, products = time_plan(d, args.D, knobs, args.device, args.steps, reference)
            reference = reference or products
            row["floor_s"] = 8 * args.D / bandwidth
            rows.append(row)
            print(format_table([row]).splitlines()[-1], flush=True)
        if args.stream_breakdown:
            for row in stream_breakdown(d, args.D, args.device, args.steps):
                row["floor_s"] = 8 * args.D / bandwidth
                rows.append(row)
                print(format_table([row]).splitlines()[-1], flush=True)
    bad = [r for r in rows if r["max_error"] > TOLERANCE]
    out = args.out or Path("results/benchmark") / f"fastfood_kernels_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor()
    meta = {
        "device": device_name,
        "torch": torch.__version__,
        "triton": kernels.triton.__version__,
        "bandwidth_Bps": bandwidth,
        "D": args.D,
        "tolerance": TOLERANCE,
    }
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(format_table(rows))
    print(f"wrote {out}")
    if bad:
        named = ", ".join(f"d={r['d']} {tuple(r['plan'])}" for r in bad)
        sys.exit(f"plans that disagree with the default plan beyond {TOLERANCE}: {named}")


if __name__ == "__main__":
    main()
