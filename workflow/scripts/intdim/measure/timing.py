"""Timing helpers the benchmarks share: a median wall time with device syncs, and the floor's
copy bandwidth."""

from __future__ import annotations

import statistics
import time

import torch


def synchronize(device: str) -> None:
    """Wait for a CUDA device's queued work (a no-op elsewhere), so wall time covers it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def median_time(fn, device: str, warmup: int, steps: int) -> float:
    """Median seconds of ``fn()`` over ``steps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(D: int, device: str, steps: int) -> float:
    """Bytes per second of a D-element float32 copy (it reads 4 D bytes and writes 4 D).

    On the CPU the copy runs on one thread, as the projection's kernels do: the floor is what
    one core can move, not what PyTorch's thread pool can."""
    src = torch.randn(D, device=device)
    dst = torch.empty_like(src)
    threads = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)
    try:
        seconds = median_time(lambda: dst.copy_(src), device, 2, max(steps, 15))
    finally:
        torch.set_num_threads(threads)
    return 8 * D / seconds
