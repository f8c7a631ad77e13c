"""`make setup`: it stops before installing anything when the disk cannot hold `.venv`."""

import shutil
import subprocess
import sys

import pytest

FILES = ["Makefile", "pyproject.toml", "requirements/constraints.txt"]
PAST_THE_CHECK = "set-up went on to create .venv"


@pytest.fixture
def checkout(repo_root, tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo_root / name, tmp_path / name)
    # A Python that runs the check and stops set-up at its next step, `python -m venv`.
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\n[ "$1" = -m ] && echo "{PAST_THE_CHECK}" >&2 && exit 3\n'
                      f'exec {sys.executable} "$@"\n')  # fmt: skip
    python.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize("margin_gib, stops", [(1, True), (-1, False)])
def test_setup_stops_early_only_when_less_than_min_free_gib_is_free(checkout, margin_gib, stops):
    free_gib = shutil.disk_usage(checkout).free / 2**30
    min_free_gib = max(0, round(free_gib) + margin_gib)
    done = subprocess.run(
        ["make", "setup", f"MIN_FREE_GIB={min_free_gib}", f"PYTHON={checkout / 'python'}"],
        cwd=checkout, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    said = f"setup needs {min_free_gib} GiB free for .venv (about 3 GiB, mostly PyTorch);"
    assert (said in done.stderr) is stops, done.stderr[-2000:]
    assert (PAST_THE_CHECK in done.stderr) is not stops, done.stderr[-2000:]
