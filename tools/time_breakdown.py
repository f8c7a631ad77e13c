"""Where a finished run's time went, by stage (``intdim.analysis.run_time``): prints a table,
writes JSON.

python tools/time_breakdown.py --directory .        # after `make run`
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from intdim.analysis.run_time import breakdown, format_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    stages = breakdown(args.directory)
    if not stages:
        raise SystemExit(f"no benchmark files under {args.directory / 'benchmarks'}")
    print(format_table(stages))
    out = args.out or args.directory / "results/benchmark/time_breakdown.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(stages, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
