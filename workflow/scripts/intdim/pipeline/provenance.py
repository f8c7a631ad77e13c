"""What decides a run's numbers besides its config and seed: thread count, library versions,
device, the CPU and the numerics chosen for it. Every run records it, so two results can be
compared knowing whether they should agree to the bit (same seed, threads, versions and device,
and either portable numerics or the same CPU) or only statistically."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

from intdim.pipeline.numerics import this_cpu

# The checkout this package lives in (workflow/scripts/intdim/pipeline/provenance.py).
CHECKOUT = Path(__file__).resolve().parents[4]


def source_commit(checkout: Path = CHECKOUT) -> dict:
    """{"commit": the checkout's HEAD, "clean": whether its tracked files are unchanged}; both
    None outside a git checkout (an installed copy)."""

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(checkout), *args], capture_output=True,
                                  text=True, timeout=30)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if head is None:
        return {"commit": None, "clean": None}
    changed = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": head, "clean": changed == ""}


def run_environment(device: str = "cpu", numerics: str = "native") -> dict:
    """numerics: what the job asked for with intdim.pipeline.numerics.use_numerics."""
    import numpy
    import torch
    import transformers

    return {
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "machine": platform.machine(),
        "cpu": this_cpu(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "numerics": numerics,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "cuda": torch.version.cuda if device == "cuda" else None,
        **source_commit(),
    }
