"""`make setup`: it stops before installing anything when the disk cannot hold `.venv`."""

import shutil
import subprocess

import pytest

FILES = ["Makefile", "pyproject.toml", "requirements/constraints.txt"]


@pytest.fixture
def checkout(repo_root, tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo_root / name, tmp_path / name)
    return tmp_path


def setup(checkout, min_free_gib):
    # BIN points nowhere: past the check, set-up creates .venv and then fails on its first pip.
    return subprocess.run(
        ["make", "setup", f"MIN_FREE_GIB={min_free_gib}", "BIN=/nonexistent/bin"],
        cwd=checkout, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("margin_gib, stops", [(1, True), (-1, False)])
def test_setup_stops_early_only_when_less_than_min_free_gib_is_free(checkout, margin_gib, stops):
    free_gib = shutil.disk_usage(checkout).free / 2**30
    done = setup(checkout, max(0, round(free_gib) + margin_gib))
    assert done.returncode != 0  # with room, the pip that BIN hides fails instead
    said = "GiB free for .venv (about 3 GiB, mostly PyTorch);" in done.stderr
    assert said is stops, done.stderr[-2000:]
    assert (checkout / ".venv").exists() is not stops
