"""Write a run's record: every training run's metrics.json and every pre-training's
history.json, in one file, so that another run (on another machine, say) can be compared with
it number for number by tools/compare_runs.py without this run's folder.

    python tools/record_run.py RUN OUT.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from intdim.analysis.run_compare import write_record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run directory (with a results/ folder)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if not (args.run / "results").is_dir():
        parser.error(f"{args.run} has no results/ folder: not a run directory")
    try:
        jobs = write_record(args.run, args.out)
    except ValueError as error:  # a run with nothing to record
        parser.error(str(error))
    print(f"wrote the records of {jobs} jobs of {args.run} to {args.out}")


if __name__ == "__main__":
    main()
