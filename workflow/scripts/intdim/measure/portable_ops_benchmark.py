"""Portable numerics' GELU and dropout masks (portable_gelu, portable_dropout) timed in turn
with the ATen kernels they replace (the baseline GELU, MKL's bernoulli_), in one process: each
op on m's shapes, and whole training steps of a checkpoint. ``tools/benchmark_portable_ops.py``
prints and records them."""

from __future__ import annotations

import json
import sys

from .gemm_benchmark import in_turn, portable_steps_in_turn

# m's activations in Section 5's jobs: 32 sequences of 32 tokens, hidden size 128, 4 x 128 in
# the feed-forward layer.
TOKENS, HIDDEN, INTERMEDIATE = 1024, 128, 512


def use_portable_ops(on: bool) -> None:
    """Register portable GELU and dropout masks (on) or take them out, so that ATen's own
    kernels run again (off)."""
    from ..pipeline import portable_dropout, portable_gelu
    from ..pipeline.cpu_kernels import restore_atens_kernels

    replacements = ((portable_gelu, portable_gelu.replace_torch_gelu),
                    (portable_dropout, portable_dropout.replace_torch_bernoulli))  # fmt: skip
    for module, replace in replacements:
        if on:
            replace()
        else:
            restore_atens_kernels(module.__name__)


# Before each portable call ours, before each of ATen's ATen's.
SETUPS = (lambda: use_portable_ops(True), lambda: use_portable_ops(False))


def relabel(row: dict) -> dict:
    """An in-turn row with its two times named: portable first, ATen's second."""
    row = dict(row)
    row["ms_portable"], row["ms_aten"] = row.pop("ms"), row.pop("ms_at_commit")
    return row


def ops_in_turn(rounds: int) -> list[dict]:
    """GELU forward, its gradient and a dropout mask on m's shapes, portable and ATen's in
    turn under portable numerics, one thread."""
    from ..pipeline.numerics import use_numerics

    use_numerics("portable")
    import torch

    torch.set_num_threads(1)
    x = torch.randn(TOKENS, INTERMEDIATE) * 3
    grad = torch.randn(TOKENS, INTERMEDIATE)
    noise = torch.empty(TOKENS, HIDDEN)
    ops = {
        "gelu": lambda: torch.nn.functional.gelu(x),
        "gelu_backward": lambda: torch.ops.aten.gelu_backward(grad, x),
        "dropout_mask": lambda: noise.bernoulli_(0.9),
    }
    try:
        return [{"op": name, "elements": (x if name.startswith("gelu") else noise).numel(),
                 **relabel(in_turn(op, op, rounds, setups=SETUPS))}
                for name, op in ops.items()]  # fmt: skip
    finally:
        use_portable_ops(True)


def steps_in_turn(model: str, rounds: int) -> list[dict]:
    """Whole steps of ``model`` with portable GELU and dropout masks and with ATen's, in turn."""
    try:
        return [relabel(row) for row in portable_steps_in_turn(model, rounds, SETUPS)]
    finally:
        use_portable_ops(True)


if __name__ == "__main__":
    rounds = int(sys.argv[2])
    rows = ops_in_turn(rounds) if sys.argv[1] == "ops" else steps_in_turn(sys.argv[1], rounds)
    print(json.dumps(rows))
