"""Compare two runs of the workflow job by job: which training runs and pre-trainings gave the
same numbers to the bit (``intdim.analysis.run_compare`` says what is compared).

    python tools/compare_runs.py RUN_A RUN_B [--out comparison.json]

RUN_A and RUN_B are run directories (each with a results/ folder) or run records that
tools/record_run.py wrote (docs/measurements/runs/ holds two). Prints a Markdown
table and a count per verdict; exits 1 when any job in both runs differs in a number both
record (what only one version records is listed beside it, not counted).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from intdim.analysis.run_compare import compare
from intdim.analysis.run_report import markdown_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="the table as JSON")
    args = parser.parse_args(argv)
    for run in (args.first, args.second):
        if not (run.is_file() or (run / "results").is_dir()):
            parser.error(f"{run} has no results/ folder: not a run directory or a run record")
    try:
        table = compare(args.first, args.second)
    except ValueError as error:  # a file that is not a run record
        parser.error(str(error))
    print(markdown_table(table, list(table.columns)))
    counts = table["verdict"].value_counts()
    print("\n" + ", ".join(f"{verdict}: {n}" for verdict, n in counts.items()))
    if args.out:
        args.out.write_text(json.dumps(table.to_dict(orient="records"), indent=2))
    return 1 if counts.get("differs", 0) else 0


if __name__ == "__main__":
    sys.exit(main())
