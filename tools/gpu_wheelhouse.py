"""The wheels an air-gapped GPU node needs to run the workflow: `make gpu-wheelhouse`.

Downloads Snakemake and `datasets` (at the versions requirements/constraints.txt pins) with
everything they need, as wheels for the node's Python and manylinux x86_64, into .whl/, and
leaves out what the node already has (tools/gpu_node_packages.txt, or --have FILE: a list of
names or the node's `pip list --format=freeze`). A package published only as source (such as
connection_pool) is built into a wheel here first; it must be pure Python. `make gpu-check`
installs .whl/ into a scratch folder on the node when Snakemake is missing there, so the
checkout plus the wheelhouse is all that travels (about 30 MB).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ["snakemake", "datasets"]
# Published only as a source distribution: built into a wheel here (pure Python).
SOURCE_ONLY = ["connection_pool"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any"]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_names(path: Path) -> set[str]:
    """Distribution names from a list of names or a `pip list --format=freeze` file."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(normalise(re.split(r"[=<>~! @]", line, maxsplit=1)[0]))
    return names


def wheel_name(path: Path) -> str:
    """The distribution a wheel file installs (the name before its first dash)."""
    return normalise(path.name.split("-", 1)[0])


def pinned(names: list[str], constraints: Path) -> list[str]:
    pins = {normalise(line.split("==")[0]): line.strip()
            for line in constraints.read_text().splitlines() if "==" in line}  # fmt: skip
    return [pins.get(normalise(n), n) for n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".whl")
    parser.add_argument("--python-version", default="3.12", help="the node's Python (3.12)")
    parser.add_argument("--have", type=Path, default=ROOT / "tools/gpu_node_packages.txt",
                        help="what the node has: names, or pip list --format=freeze")  # fmt: skip
    args = parser.parse_args(argv)
    constraints = ROOT / "requirements/constraints.txt"
    args.out.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(args.out),
                    *pinned(SOURCE_ONLY, constraints)], check=True)  # fmt: skip
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [*pip, "download", "-q", "--only-binary=:all:", "--find-links", str(args.out),
         "--python-version", args.python_version, "--implementation", "cp", *platforms,
         "-c", str(constraints), "-d", str(args.out), *pinned(NEEDED, constraints)],
        check=True,
    )  # fmt: skip
    have = read_names(args.have)
    kept, dropped = [], 0
    for wheel in sorted(args.out.glob("*.whl")):
        if wheel_name(wheel) in have:
            wheel.unlink()
            dropped += 1
        else:
            kept.append(wheel)
    size = sum(w.stat().st_size for w in kept)
    print(f"{args.out}: {len(kept)} wheels, {size / 2**20:.1f} MiB "
          f"({dropped} left out: the node has them)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
