"""After `make mutation`: mutants killed and surviving per module, as a Markdown table, and the
surviving mutants' names (`mutmut show NAME` prints each).

    python tools/mutation_table.py            # reads mutants/
"""

from __future__ import annotations

import argparse
from pathlib import Path

from intdim.measure.mutation import markdown, survivors, tally


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    args = parser.parse_args(argv)
    print(markdown(tally(args.mutants)))
    for module, names in survivors(args.mutants).items():
        print(f"\nsurvived in {module}:")
        print("\n".join(f"  {name}" for name in names))


if __name__ == "__main__":
    main()
