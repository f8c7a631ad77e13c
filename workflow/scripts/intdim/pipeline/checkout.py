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


# glibc's malloc hands large blocks back to the kernel, so every D-sized tensor of a step (theta,
# its gradient) is page-faulted in again, 4 KiB at a time: 35 ms for MiniLM's 91 MB, against 6
# ms when malloc asks for transparent huge pages. (Keeping large blocks in malloc's heap instead,
# glibc.malloc.mmap_max=0, made some steps 2-3x slower: the heap fragments and grows.) Unknown
# tunables are ignored (other libcs).
MALLOC_TUNABLES = "glibc.malloc.hugetlb=1"


def prefer_huge_pages() -> None:
    """Have every job's malloc use transparent huge pages (jobs inherit the environment),
    unless the user set GLIBC_TUNABLES."""
    os.environ.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)
