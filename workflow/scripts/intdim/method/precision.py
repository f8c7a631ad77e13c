"""Where a job trains and in which precision: the device a job asked for, autocast, the scaler.

``precision`` is ``fp32``, ``bf16`` or ``fp16``. Under ``bf16`` and ``fp16`` the forward and
backward passes run in autocast, while every trained number stays float32: the model's weights
(full fine-tuning, pre-training), theta_0, theta_d and the SAID scales (subspace training), so
the optimiser updates float32 masters. ``fp16`` adds a gradient scaler (its range is too small
for unscaled gradients); bf16 has float32's range and needs none.
"""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision


def job_device(gpus: int, rule: str, allow_cpu_fallback: bool = False) -> str:
    """ "cuda" when the job asked for GPUs (config resources.gpu) and one is visible.

    A job that asked for a GPU and finds none fails at once, naming the rule and the key,
    unless resources.allow_cpu_fallback: on a cluster that would be a job silently running
    100 times slower.
    """
    if gpus <= 0:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if allow_cpu_fallback:
        print(f"rule {rule}: no CUDA device visible; training on the CPU "
              "(config resources.allow_cpu_fallback is true)")  # fmt: skip
        return "cpu"
    raise RuntimeError(
        f"rule {rule} asks for {gpus} GPU(s) (config resources.gpu: {gpus}) but torch sees no "
        f"CUDA device (torch {torch.__version__}, built for CUDA {torch.version.cuda}); run it "
        "on a GPU node, set resources.gpu: 0, or set resources.allow_cpu_fallback: true"
    )


def autocast(device: str, precision: str):
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    dtype = PRECISIONS[check_precision(precision)]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def grad_scaler(device: str, precision: str) -> torch.amp.GradScaler:
    """A gradient scaler, enabled for fp16 only (for the others it passes everything through)."""
    return torch.amp.GradScaler(torch.device(device).type, enabled=precision == "fp16")
