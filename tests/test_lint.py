"""The house's formatting and lint rules, so that CI holds the code to them in the quick tier;
`make lint` runs this file."""

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PYTHON_PATHS = ["workflow", "tests", "tools", "notebooks"]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", *PYTHON_PATHS],
        ["ruff", "format", "--check", *PYTHON_PATHS],
        ["snakefmt", "--check", "Snakefile", "rules"],
    ],
    ids=["ruff-check", "ruff-format", "snakefmt"],
)
def test_the_code_passes(repo_root, command):
    done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=repo_root,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


def test_snakemake_lint_is_clean(repo_root):
    done = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--cores", "1"],
                          cwd=repo_root, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    # Snakemake prints its lints and still exits 0.
    assert "Lints for" not in done.stdout + done.stderr, done.stdout + done.stderr
