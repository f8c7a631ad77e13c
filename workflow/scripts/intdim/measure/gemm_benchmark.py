"""Time float32 matrix products of a small model's training step, one thread: the fixed-order
product (intdim.pipeline.fixed_order_gemm, what portable numerics compute Linear layers with)
and torch.mm with MKL's own branch or its COMPATIBLE branch (what portable numerics used
before). ``tools/benchmark_gemm.py`` prints the table; run as a module, this times one kind in a
fresh process (MKL reads its branch at the process's first product)."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

# (M, K, N) of the m model's step on 32 tweets of 32 tokens (hidden 128, feed-forward 512):
# the attention projections, the feed-forward layers, and a weight gradient over the tokens.
STEP_SHAPES = [(1024, 128, 128), (1024, 128, 512), (1024, 512, 128), (128, 1024, 512)]
KINDS = ("fixed_order", "torch_native", "torch_compatible")


def time_products(kind: str, shapes, steps: int) -> list[dict]:
    """Median milliseconds and GFLOP/s of each shape's product, in this process."""
    import torch

    from ..pipeline.fixed_order_gemm import matmul
    from ..pipeline.numerics import PORTABLE_ENV
    from .timing import median_time

    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "torch_compatible":  # the environment alone: use_numerics would replace torch.mm
        os.environ.update(PORTABLE_ENV)
        torch.backends.mkldnn.enabled = False
    torch.set_num_threads(1)
    rows = []
    for m, k, n in shapes:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        if kind == "fixed_order":
            product, operands = matmul, (a, b)
        else:
            product, operands = torch.mm, (torch.from_numpy(a), torch.from_numpy(b))
        seconds = median_time(lambda: product(*operands), "cpu", warmup=3, steps=steps)  # noqa: B023
        rows.append({"kind": kind, "m": m, "k": k, "n": n, "ms": seconds * 1e3,
                     "gflops": 2 * m * k * n / seconds / 1e9})  # fmt: skip
    return rows


if __name__ == "__main__":
    kind, steps = sys.argv[1], int(sys.argv[2])
    print(json.dumps(time_products(kind, STEP_SHAPES, steps)))
