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


def time_samples(fn, device: str, warmup: int, steps: int) -> list[float]:
    """Seconds of each of ``steps`` calls of ``fn()`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def median_time(fn, device: str, warmup: int, steps: int) -> float:
    """Median seconds of ``fn()`` over ``steps`` calls after ``warmup`` untimed ones."""
    return statistics.median(time_samples(fn, device, warmup, steps))


def quartiles(samples: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile), inclusive method: one sample gives itself."""
    if len(samples) == 1:
        return samples[0], samples[0], samples[0]
    q1, q2, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q1, q2, q3


def ratio_range(sub: list[float], full: list[float]) -> tuple[float, float, float]:
    """A subspace step against a full one: (low, median ratio, high), the ends from opposite
    quartiles (sub's first over full's third, sub's third over full's first), so the range
    holds the ratio of any two typical steps."""
    s1, s2, s3 = quartiles(sub)
    f1, f2, f3 = quartiles(full)
    return s1 / f3, s2 / f2, s3 / f1


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
