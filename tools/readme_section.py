"""Write a finished run's README section from its own tables: what ran, on which machine, how
long it took and where the time went, d90 with its intervals and seeds, the searches, and which
of the paper's findings the run resolves (``intdim.analysis.findings``).

    python tools/readme_section.py --directory /path/to/run --config config/offline_full.yaml \
        --name offline_full --readme docs/results/offline_full.md
    python tools/readme_section.py --directory /path/to/run --config config/config.yaml \
        --name headline --headline --command "make run" --readme README.md

The wall time is the sum over the Snakemake invocations that ran jobs there, from their logs
(each part is printed; ``--wall-seconds`` overrides it). The section replaces the text between
``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in the README (printed instead without
--readme).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from intdim.analysis import run_report, run_time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, required=True)
    parser.add_argument("--config", required=True, help="the config file the run used")
    parser.add_argument("--name", required=True, help="the README markers' name")
    parser.add_argument("--wall-seconds", type=float, default=None,
                        help="instead of the sum over the directory's Snakemake logs")  # fmt: skip
    parser.add_argument("--command", default="snakemake --cores all",
                        help="what was timed, as the README should name it")  # fmt: skip
    parser.add_argument("--readme", type=Path, default=None)
    parser.add_argument("--headline", action="store_true",
                        help="the README's short summary instead of the whole section, and "
                             "Figure 1 copied to docs/figures")  # fmt: skip
    args = parser.parse_args(argv)
    wall = args.wall_seconds
    if wall is None:
        parts = run_time.wall_parts(args.directory)
        for part in parts:
            ended = "" if part["ended"] else " (stopped: until the log's last write)"
            print(f"{part['log']}: {part['seconds'] / 60:.1f} min{ended}", file=sys.stderr)
        wall = sum(part["seconds"] for part in parts) or None
    write = run_report.headline if args.headline else run_report.section
    body = write(args.directory, args.config, wall, args.command)
    if args.headline and args.readme is not None:
        figure = args.directory / "results/figures/figure1.png"
        target = args.readme.parent / "docs/figures/figure1.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(figure, target)
    if args.readme is None:
        print(body)
        return
    text = run_report.replace_between_markers(args.readme.read_text(), args.name, body)
    args.readme.write_text(text)
    print(f"wrote the {args.name} section of {args.readme}")


if __name__ == "__main__":
    main()
