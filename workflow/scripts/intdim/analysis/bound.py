"""A compression (Occam) bound for a subspace solution, in terms of d, never D.

The hypothesis class is fixed before the training set S (m examples) is seen: the pre-trained
theta_0, the head initialisation seed, the projection P and its seed, and a finite list of K
configurations (every integer d in the search range, times the learning rates and seeds tried).
A solution is described by its d trained numbers (theta_d, and SAID's scales), each quantised to
``bits`` bits on a symmetric grid whose scale is a power of two 2^e, e in [-32, 31] (6 bits per
scale). With L = bits * d + 6 * (number of scales) bits, Hoeffding's inequality and a union bound
over all descriptions and configurations give, with probability at least 1 - delta over S:

    err(h) <= err_S(h) + sqrt((L ln 2 + ln K + ln(1 / delta)) / (2 m))

for the 0-1 error of every such h at once, so for the solution the search picked as well. The
bound is that of Arora et al. (2018, Theorem 2.1) with margin 0 and the paper's Theorem 1 with
explicit constants: it grows with d and is independent of D.
"""

from __future__ import annotations

import math

import torch

EXPONENTS = range(-32, 32)  # the scale's exponent: 64 choices, 6 bits
SCALE_BITS = 6


def quantise(values: torch.Tensor, bits: int) -> tuple[torch.Tensor, int]:
    """Round to a symmetric grid of 2^bits - 1 levels on [-2^e, 2^e]; returns (values, e)."""
    if not 2 <= bits <= 16:  # 2^bits - 1 levels, symmetric around 0
        raise ValueError(f"bits must be in [2, 16], got {bits}")
    peak = float(values.abs().max()) if values.numel() else 0.0
    e = min(max(math.ceil(math.log2(peak)) if peak > 0 else EXPONENTS[0], EXPONENTS[0]),
            EXPONENTS[-1])  # fmt: skip
    levels = 2 ** (bits - 1) - 1
    step = 2.0**e / levels
    return (values / step).round().clamp(-levels, levels) * step, e


def description_bits(d: int, bits: int, scales: int) -> int:
    return bits * d + SCALE_BITS * scales


def occam_bound(train_error: float, m: int, description: int, configurations: int,
                confidence: float) -> float:  # fmt: skip
    """The upper bound on the expected 0-1 error (may exceed 1, then it says nothing)."""
    if m < 1 or configurations < 1 or not 0 < confidence < 1:
        raise ValueError(f"need m >= 1, K >= 1, 0 < confidence < 1; got {m}, {configurations}, "
                         f"{confidence}")  # fmt: skip
    slack = description * math.log(2) + math.log(configurations) - math.log(1 - confidence)
    return train_error + math.sqrt(slack / (2 * m))


def quantised_scores(task_file, train, evaluation, bits: int, max_length: int,
                     device: str = "cpu") -> dict:  # fmt: skip
    """Rebuild a saved subspace solution, quantise its d trained numbers, and score it."""
    from transformers import AutoTokenizer

    from ..method.export import load_task, read_task_header
    from ..method.models import prepare_padding
    from ..method.training import encode, evaluate

    header = read_task_header(task_file)
    net = load_task(task_file, device=device)
    vectors = [v for v in (net.theta_d, net.lambdas) if v is not None]
    with torch.no_grad():
        for v in vectors:
            v.copy_(quantise(v, bits)[0])
    tokenizer = AutoTokenizer.from_pretrained(header["base_model"])
    prepare_padding(tokenizer, net.model)
    scores = {
        name: evaluate(net, tokenizer, encode(tokenizer, frame, max_length), 128, device)
        for name, frame in (("train", train), ("eval", evaluation))
    }
    return {
        "d": sum(v.numel() for v in vectors), "D": header["D"], "scales": len(vectors),
        "train_accuracy": scores["train"]["accuracy"], "eval_accuracy": scores["eval"]["accuracy"],
    }  # fmt: skip
