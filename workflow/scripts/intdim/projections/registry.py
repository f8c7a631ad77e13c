"""Every projection the workflow knows, in one table: its name, where each backend's class
lives, and its own options with their defaults.

Adding a projection is: a class (a subclass of ``base.Projection``, in a module of its own),
one ``ProjectionSpec`` below, and its options there. The config schema's enum, the config
reference, the benchmark's choices and the tests read ``REGISTRY`` (a test checks the schema
against it). Classes are named by import path and loaded when built, so this module imports
no implementation and no implementation imports it: the package has no import circle.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the controller imports this module without torch
    import torch

    from .base import Projection

# Where Fastfood's products run: the PyTorch reference, the Triton kernels (GPU), the fused
# Numba kernels (CPU), or "auto": Triton on a GPU, Numba on the CPU, wherever installed.
BACKENDS = ("auto", "torch", "triton", "numba")


@dataclass(frozen=True)
class ProjectionSpec:
    """A projection: its classes by backend ("module:Class"; "torch" is the reference every
    other backend is checked against), its options and their defaults, and whether it needs
    the parameter tensors' sizes."""

    description: str
    classes: dict[str, str]
    options: dict[str, object] = field(default_factory=dict)
    needs_sizes: bool = False


REGISTRY: dict[str, ProjectionSpec] = {
    "fastfood": ProjectionSpec(
        "stacked Fastfood blocks H G Pi H B over all D coordinates (the paper's text)",
        {
            "torch": "intdim.fastfood.reference:FastfoodProjection",
            "numba": "intdim.fastfood.cpu:CpuFastfoodProjection",
            "triton": "intdim.fastfood.kernels:TritonFastfoodProjection",
        },
    ),
    "dense": ProjectionSpec(
        "a dense Gaussian D x d matrix (small D only)",
        {"torch": "intdim.projections.dense:DenseProjection"},
    ),
    "sparse": ProjectionSpec(
        "a very sparse random matrix (Li, Hastie and Church)",
        {"torch": "intdim.projections.sparse:SparseProjection"},
    ),
    "fastfood_per_tensor": ProjectionSpec(
        "one Fastfood block per parameter tensor (the authors' released code)",
        {"torch": "intdim.fastfood.per_tensor:PerTensorFastfood"},
        # the released code's 1/LL-scaled gradient instead of the transpose
        options={"legacy_gradient": False},
        needs_sizes=True,
    ),
}
PROJECTIONS = tuple(REGISTRY)


def check_projection(kind: str) -> ProjectionSpec:
    if kind not in REGISTRY:
        raise ValueError(f"unknown projection {kind!r}; choose one of {', '.join(PROJECTIONS)}")
    return REGISTRY[kind]


def check_options(kind: str, options: dict) -> dict:
    """The projection's options with their defaults filled in; an option that belongs to
    another projection (or to none) is named, with the projections it belongs to. The one
    check of projection options: the config checks and SubspaceSettings call it too."""
    spec = check_projection(kind)
    for name, value in options.items():
        if name in spec.options:
            continue
        owners = [k for k, s in REGISTRY.items() if name in s.options]
        default = next((REGISTRY[k].options[name] for k in owners), None)
        if owners and value == default:
            continue  # another projection's option left at its default: nothing to apply
        where = f"a setting of {', '.join(owners)}" if owners else "no projection's setting"
        raise ValueError(f"{name} is {where}, not of {kind!r}")
    return {**spec.options, **{k: v for k, v in options.items() if k in spec.options}}


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def pick_backend(kind: str, backend: str, device: torch.device | str) -> str:
    """The backend that builds ``kind`` on ``device``: ``auto`` takes Triton on a CUDA device
    and Numba on the CPU where installed and where the projection has them, else the reference;
    a named backend the projection does not have also falls back to the reference."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown projection backend {backend!r}; choose one of {BACKENDS}")
    classes = check_projection(kind).classes
    if backend == "auto":
        gpu = str(device).startswith("cuda")
        wanted, module = ("triton", "triton") if gpu else ("numba", "numba")
        backend = wanted if wanted in classes and _available(module) else "torch"
    return backend if backend in classes else "torch"


def projection_class(kind: str, backend: str = "torch") -> type[Projection]:
    module, _, name = check_projection(kind).classes[backend].partition(":")
    return getattr(importlib.import_module(module), name)


def make_projection(
    kind: str,
    d: int,
    D: int,
    seed: int,
    device: torch.device | str = "cpu",
    backend: str = "auto",
    sizes: list[int] | None = None,
    **options,
) -> Projection:
    """Build a projection by name (one of ``PROJECTIONS``) with its options; all backends of a
    projection compute the same products."""
    spec = check_projection(kind)
    values = check_options(kind, options)
    cls = projection_class(kind, pick_backend(kind, backend, device))
    if spec.needs_sizes:
        values["sizes"] = sizes
    return cls(d, D, seed, device, **values)
