"""Copy a finished run to a new folder, to try a change of config there: the copy reruns what
the change affects and nothing else (``intdim.pipeline.run_copy``), and the run it came from
stays as it was.

    python tools/copy_run.py . ../trial
    .venv/bin/snakemake --cores all --configfile config/config.yaml CHANGES.yaml \
        --directory ../trial
"""

from __future__ import annotations

import argparse
from pathlib import Path

from intdim.pipeline.run_copy import copy_run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a finished run's folder (with results/)")
    parser.add_argument("copy", type=Path, help="a new or empty folder")
    args = parser.parse_args(argv)
    try:
        copied = copy_run(args.run, args.copy)
    except ValueError as error:
        parser.error(str(error))
    print(f"copied {', '.join(copied)} of {args.run} to {args.copy}")


if __name__ == "__main__":
    main()
