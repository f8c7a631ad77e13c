"""Time float32 matrix products of a small model's training step, one thread: the fixed-order
product (intdim.pipeline.fixed_order_gemm, what portable numerics compute Linear layers with)
and torch.mm with MKL's own branch or its COMPATIBLE branch (what portable numerics used
before). ``tools/benchmark_gemm.py`` prints the table; run as a module, this times one kind in a
fresh process (MKL reads its branch at the process's first product).

``time_in_turn`` times this checkout's fixed-order product against the one of another commit,
call by call in turn in one process, so that a machine whose speed drifts within minutes moves
both alike."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..pipeline.provenance import CHECKOUT

MODULE = "workflow/scripts/intdim/pipeline/fixed_order_gemm.py"

# (M, K, N) of the m model's step on 32 tweets of 32 tokens (hidden 128, feed-forward 512):
# the attention projections, the feed-forward layers, and three weight gradients over the
# tokens (K), whose A torch passes as the transpose of the contiguous output gradient.
STEP_SHAPES = [(1024, 128, 128), (1024, 128, 512), (1024, 512, 128),
               (128, 1024, 128), (512, 1024, 128), (128, 1024, 512)]  # fmt: skip
TOKENS = 1024  # K of a weight gradient
KINDS = ("fixed_order", "torch_native", "torch_compatible")


def time_products(kind: str, shapes, steps: int) -> list[dict]:
    """Median milliseconds and GFLOP/s of each shape's product (``operands``), in this
    process."""
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
        a, b = operands(m, k, n)
        if kind == "fixed_order":
            product, inputs = matmul, (a, b)
        else:
            product, inputs = torch.mm, (torch.from_numpy(a), torch.from_numpy(b))
        seconds = median_time(lambda: product(*inputs), "cpu", warmup=3, steps=steps)  # noqa: B023
        rows.append({"kind": kind, "m": m, "k": k, "n": n, "ms": seconds * 1e3,
                     "gflops": 2 * m * k * n / seconds / 1e9,
                     "a": "transposed" if k == TOKENS else "contiguous"})  # fmt: skip
    return rows


def operands(m: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random float32 A (m x k) and B (k x n); A as the transpose of a contiguous array where
    K is TOKENS, as torch passes a weight gradient's."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    if k == TOKENS:
        a = np.ascontiguousarray(a.T).T
    return a, rng.standard_normal((k, n), dtype=np.float32)


def in_turn(here, there, rounds: int, untimed: int = 3, setups=(None, None)) -> dict:
    """here() and there() called in turn, ``untimed`` rounds and then ``rounds`` timed: the
    median milliseconds of each, and the median and quartiles of here's time over there's,
    round by round (a machine whose speed drifts moves both alike). ``setups``, where given,
    are called before here() and there() respectively, untimed."""
    from .timing import quartiles

    times: tuple[list, list] = ([], [])
    for round_ in range(untimed + rounds):
        for call, setup, samples in zip((here, there), setups, times, strict=True):
            if setup is not None:
                setup()
            start = time.perf_counter()
            call()
            if round_ >= untimed:
                samples.append(time.perf_counter() - start)
    low, middle, high = quartiles([h / t for h, t in zip(*times, strict=True)])
    return {"ms": quartiles(times[0])[1] * 1e3, "ms_at_commit": quartiles(times[1])[1] * 1e3,
            "ratio": middle, "ratio_quartiles": [low, high]}  # fmt: skip


def rows_from_a_process(module: str, *arguments: str) -> list[dict]:
    """``python -m MODULE ARGUMENTS``'s rows (its last line, JSON): each timing runs in a
    process of its own, since numerics are chosen once a process."""
    out = subprocess.run([sys.executable, "-m", module, *arguments], capture_output=True,
                         text=True)  # fmt: skip
    if out.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def ratio_cell(row: dict) -> str:
    """An in-turn row's ratio and its quartiles, as a table cell."""
    low, high = row["ratio_quartiles"]
    return f"{row['ratio']:.2f} ({low:.2f}-{high:.2f})"


def product_at(commit: str):
    """The fixed-order product module as ``commit`` had it (its own file; the helpers it
    imports, such as simd, are this checkout's), imported beside this checkout's one."""
    git = ["git", "-C", str(CHECKOUT)]
    found = subprocess.run([*git, "rev-parse", "--short", f"{commit}^{{commit}}"],
                           capture_output=True, text=True)  # fmt: skip
    if found.returncode != 0:
        raise ValueError(f"no commit {commit!r} in {CHECKOUT}: {found.stderr.strip()}")
    sha = found.stdout.strip()
    text = subprocess.run([*git, "show", f"{sha}:{MODULE}"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    name = f"intdim.pipeline.fixed_order_gemm_at_{sha}"
    # One file a commit, kept: Numba's cache beside it then serves the next run too.
    path = Path(tempfile.gettempdir()) / "intdim_gemm_at" / f"fixed_order_gemm_at_{sha}.py"
    path.parent.mkdir(exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def time_in_turn(commit: str, shapes, steps: int) -> list[dict]:
    """This checkout's fixed-order product and ``commit``'s, each shape's calls taken in turn
    (3 of each untimed first): the median milliseconds of each and the quartiles of this
    checkout's time over the other's, round by round. Both products must give the same bits."""
    from ..pipeline import fixed_order_gemm

    other = product_at(commit)
    rows = []
    for m, k, n in shapes:
        a, b = operands(m, k, n)
        if not np.array_equal(fixed_order_gemm.matmul(a, b).view(np.int32),
                              other.matmul(a, b).view(np.int32)):  # fmt: skip
            raise RuntimeError(f"{m} x {k} x {n}: the two products' bits differ")
        timed = in_turn(lambda: fixed_order_gemm.matmul(a, b), lambda: other.matmul(a, b), steps)  # noqa: B023
        rows.append({"m": m, "k": k, "n": n,
                     "a": "transposed" if k == TOKENS else "contiguous", **timed})  # fmt: skip
    return rows


def portable_steps_in_turn(model: str, rounds: int, setups, d: int = 646) -> list[dict]:
    """Training steps of ``model`` (a checkpoint directory) under portable numerics, full
    fine-tuning and SAID at ``d``, 32 sequences of 32 tokens as Section 5's jobs, taken in
    turn, ``setups[0]()`` before each first step of a round and ``setups[1]()`` before each
    second, untimed. Each row: the median milliseconds of each and the quartiles of the ratio."""
    from ..pipeline.numerics import use_numerics

    use_numerics("portable")  # before this process's first tensor operation
    import torch

    from .benchmark import prepare

    torch.set_num_threads(1)
    rows = []
    for method, dim in (("full", None), ("said", d)):
        spec = dict(device="cpu", model=model, method=method, d=dim, backend="auto",
                    batch=32, seq=32, bf16=False, said_grouping="tensor",
                    numerics="portable")  # fmt: skip
        _, step, _ = prepare(spec)
        rows.append({"method": method, "d": dim, **in_turn(step, step, rounds, setups=setups)})
    return rows


def steps_in_turn(commit: str, model: str, rounds: int, d: int = 646) -> list[dict]:
    """``portable_steps_in_turn`` with this checkout's product and ``commit``'s: the torch
    products that portable numerics put in place call ``fixed_order_gemm.matmul``, which is
    swapped between steps."""
    from ..pipeline import fixed_order_gemm
    from ..pipeline.numerics import use_numerics

    use_numerics("portable")  # before product_at's first tensor operation
    other = product_at(commit)
    here_product, calls = fixed_order_gemm.matmul, []

    def there_product(a, b):
        calls.append(1)
        return other.matmul(a, b)

    def take(product):
        def setup():
            fixed_order_gemm.matmul = product

        return setup

    try:
        rows = portable_steps_in_turn(model, rounds, (take(here_product), take(there_product)), d)
    finally:
        fixed_order_gemm.matmul = here_product
    if not calls:
        raise RuntimeError("the steps never called the commit's product: nothing was compared")
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "steps":
        commit, model, rounds = sys.argv[2], sys.argv[3], int(sys.argv[4])
        print(json.dumps(steps_in_turn(commit, model, rounds)))
    elif sys.argv[1] == "against":
        commit, steps = sys.argv[2], int(sys.argv[3])
        print(json.dumps(time_in_turn(commit, STEP_SHAPES, steps)))
    else:
        kind, steps = sys.argv[1], int(sys.argv[2])
        print(json.dumps(time_products(kind, STEP_SHAPES, steps)))
