"""What decides a run's numbers besides its config and seed: thread count, library versions,
device. Every run records it, so two results can be compared knowing whether they should agree
to the bit (same seed, threads, versions and device) or only statistically."""

from __future__ import annotations

import platform
import sys


def run_environment(device: str = "cpu") -> dict:
    import numpy
    import torch
    import transformers

    return {
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
        "cuda": torch.version.cuda if device == "cuda" else None,
    }
