"""Compile every Fastfood kernel variant for a GPU architecture, without a GPU.

Prints, for each variant, its warps, registers per thread, spilled bytes, shared memory and
static instruction counts per element a thread holds (PTX arithmetic, and every SASS
instruction); with ``--breakdown``, also what each part of the counter-based stream costs the
fused kernels (``intdim.measure.compiled``). Writes the rows as JSON.

    python tools/compile_fastfood_kernels.py                 # sm_90 (H100/H200)
    python tools/compile_fastfood_kernels.py --arch 80 --dims 1000 4000000
    python tools/compile_fastfood_kernels.py --dims 1000 8192 --breakdown
    python tools/compile_fastfood_kernels.py --dims 8 8192 --breakdown 8192
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from intdim.fastfood.kernels import HADAMARDS
from intdim.measure.compiled import compile_all, stream_breakdown

DEFAULT_DIMS = [1, 8, 100, 1_000, 10_000, 100_000, 4_000_000]


def format_row(r: dict) -> str:
    ops, sass = r["arithmetic_per_element"], r["sass_per_element"]
    return (
        f"{r['d']:>9}{r['LL']:>9}  {r['kernel']:<32}{r['hadamard']:<11}{r['num_warps']:>6}"
        f"{r['registers']:>6}"
        f"{r['spill_store_bytes']:>8}{r['shared_bytes']:>9}{'-' if ops is None else ops:>8}"
        f"{'-' if sass is None else sass:>8}"
    )


def breakdown_table(rows: list[dict]) -> str:
    """Per (d, kernel): the count with the whole stream, what each part costs, what is left."""
    lines = [f"{'d':>9}  {'kernel':<18}{'':<34}{'SASS/el':>9}"]
    groups = itertools.groupby(rows, key=lambda r: (r["d"], r["kernel"]))
    for (d, kernel), steps in groups:
        counts = [(r["removed"], r["sass_per_element"]) for r in steps]
        table = [("with the whole stream", counts[0][1])]
        for (_, before), (removed, after) in itertools.pairwise(counts):
            table.append((removed, round(before - after, 1)))
        table.append(("left without the stream", counts[-1][1]))
        lines += [f"{d:>9}  {kernel:<18}{label:<34}{value:>9}" for label, value in table]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability x 10")
    parser.add_argument("--dims", type=int, nargs="+", default=DEFAULT_DIMS)
    parser.add_argument("--breakdown", type=int, nargs="*", metavar="D",
                        help="also the stream's parts' cost in the fused kernels, at these d "
                             "(none named: every fused one of --dims)")  # fmt: skip
    parser.add_argument("--hadamard", nargs="+", choices=HADAMARDS, default=list(HADAMARDS),
                        help="the ways of computing the transform to compile")  # fmt: skip
    parser.add_argument("--workers", type=int, help="compiling processes (default: one per core)")
    parser.add_argument("--out", type=Path, help="default results/benchmark/kernels_sm<arch>.json")
    args = parser.parse_args(argv)
    print(
        f"{'d':>9}{'LL':>9}  {'kernel':<32}{'hadamard':<11}{'warps':>6}{'regs':>6}{'spill B':>8}"
        f"{'shared B':>9}{'ops/el':>8}{'SASS/el':>8}"
    )
    show = lambda row: print(format_row(row), flush=True)  # noqa: E731
    rows = compile_all(args.dims, args.arch, show, args.workers, tuple(args.hadamard))
    report = {"arch": args.arch, "rows": rows}
    if args.breakdown is not None:
        dims = args.breakdown or args.dims
        report["stream_breakdown"] = stream_breakdown(dims, args.arch, args.workers)
        print(breakdown_table(report["stream_breakdown"]))
    out = args.out or Path(f"results/benchmark/kernels_sm{args.arch}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
