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


# glibc's malloc serves blocks over 32 MiB with mmap and hands them back on free, so every
# D-sized tensor of a step (theta, its gradient) is page-faulted and zeroed by the kernel again:
# 35 ms a step for MiniLM's 91 MB in 4 KiB pages, about 4 ms in transparent huge pages
# (hugetlb=1), nothing when malloc keeps large blocks in its heap and reuses them (mmap_max=0,
# and a trim threshold of 4 GiB so that it does not give the heap's top back). Unknown tunables
# are ignored (other libcs).
MALLOC_TUNABLES = ":".join(
    ["glibc.malloc.hugetlb=1", "glibc.malloc.mmap_max=0", "glibc.malloc.trim_threshold=4294967296"]
)


def prefer_huge_pages() -> None:
    """Have every job's malloc use transparent huge pages (jobs inherit the environment),
    unless the user set GLIBC_TUNABLES."""
    os.environ.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)
