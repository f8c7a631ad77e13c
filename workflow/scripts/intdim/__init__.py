"""intdim: fine-tuning in random low-dimensional subspaces (Fastfood DID/SAID) and d90.

Names are imported lazily, so that light users (the analysis rules, which need only pandas)
do not pay for importing torch and transformers.
"""

import importlib

_EXPORTS = {
    "fwht": "fastfood.transform",
    "hadamard_matrix": "fastfood.transform",
    "FastfoodProjection": "fastfood.reference",
    "PROJECTIONS": "projections.registry",
    "REGISTRY": "projections.registry",
    "Projection": "projections.base",
    "make_projection": "projections.registry",
    "project": "projections.base",
    "shift": "projections.base",
    "Segments": "projections.base",
    "GROUPINGS": "method.subspace",
    "METHODS": "method.subspace",
    "SubspaceModel": "method.subspace",
    "SubspaceSettings": "method.subspace",
    "parameter_groups": "method.subspace",
    "load_classifier": "method.models",
    "parameter_count": "method.models",
    "resolve_reference": "method.models",
    "save_task": "method.export",
    "load_task": "method.export",
    "read_task_header": "method.export",
    "export_pretrained": "method.export",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'intdim' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
