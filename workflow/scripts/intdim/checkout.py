"""Making every job of a run import the intdim of the checkout whose Snakefile runs it."""

from __future__ import annotations

import os
import sys


def put_first_on_pythonpath(scripts: str) -> None:
    """Put ``scripts`` (the folder holding this intdim) first on sys.path and PYTHONPATH.

    Snakemake appends a script's folder to sys.path after site-packages, where another
    checkout installed with ``pip install -e`` would win; PYTHONPATH comes before
    site-packages, and jobs inherit it whether they run locally, under conda or on SLURM
    (sbatch exports the submitting environment).
    """
    if sys.path[:1] != [scripts]:
        sys.path.insert(0, scripts)
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != scripts]
    os.environ["PYTHONPATH"] = os.pathsep.join([scripts, *rest])
