"""Putting the workflow's own functions in place of ATen's CPU kernels for named operators, as
portable numerics do for products, GELU and dropout masks, and giving ATen's back."""

from __future__ import annotations

_REPLACED: dict = {}  # owner -> the torch library whose life is the registrations'


def replace_cpu_kernels(owner: str, kernels: dict) -> None:
    """Register each function of ``kernels`` (operator overload name -> function) as ATen's CPU
    kernel for it, from now on in this process; nothing where ``owner`` (a module's name) has
    done so already."""
    if owner in _REPLACED:
        return
    import warnings

    import torch

    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():  # "Overriding a previously registered kernel": meant
        warnings.simplefilter("ignore")
        for name, kernel in kernels.items():
            library.impl(name, kernel, "CPU")
    _REPLACED[owner] = library


def replaced(owner: str) -> bool:
    """Whether ``owner``'s functions stand in for ATen's kernels now."""
    return owner in _REPLACED


def restore_atens_kernels(owner: str) -> None:
    """Give the operators that ``owner`` replaced their ATen kernels back."""
    library = _REPLACED.pop(owner, None)
    if library is not None:
        library._destroy()
