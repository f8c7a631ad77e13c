"""Putting the workflow's own functions in place of ATen's CPU kernels for named operators, as
portable numerics do for products, GELU and dropout masks."""

from __future__ import annotations


def replace_cpu_kernels(kernels: dict):
    """Register each function of ``kernels`` (operator overload name -> function) as ATen's CPU
    kernel for it, from now on in this process; the returned library holds the registrations
    as long as it lives (``_destroy()`` gives ATen's kernels back)."""
    import warnings

    import torch

    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():  # "Overriding a previously registered kernel": meant
        warnings.simplefilter("ignore")
        for name, kernel in kernels.items():
            library.impl(name, kernel, "CPU")
    return library
