"""A copy of the intdim package that a test may edit, and Python run against it: for the
checks that Numba's cached machine code follows a change to a module compiled into it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import intdim


def copy_package(tmp_path: Path) -> Path:
    """intdim copied under tmp_path without its caches; returns the copy's folder."""
    package = tmp_path / "intdim"
    shutil.copytree(Path(intdim.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))  # fmt: skip
    return package


def run_against_copy(package: Path, code: str) -> str:
    """What ``code`` prints, run in a fresh process that imports the copy, with Numba's own
    cache settings (no NUMBA_ variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(package.parent)}, check=True)  # fmt: skip
    return done.stdout
