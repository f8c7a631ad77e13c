"""intdim: fine-tuning in random low-dimensional subspaces (Fastfood DID/SAID) and d90."""

from .export import load_task, read_task_header, save_task
from .hadamard import fwht, hadamard_matrix
from .models import load_classifier, parameter_count, resolve_reference
from .projections import PROJECTIONS, Projection, make_projection, project
from .subspace import GROUPINGS, METHODS, SubspaceModel, parameter_groups

__all__ = [
    "GROUPINGS",
    "METHODS",
    "PROJECTIONS",
    "Projection",
    "SubspaceModel",
    "fwht",
    "hadamard_matrix",
    "load_classifier",
    "load_task",
    "make_projection",
    "parameter_count",
    "parameter_groups",
    "project",
    "read_task_header",
    "resolve_reference",
    "save_task",
]
