"""Checks and derived values of the workflow configuration.

The JSON schema (``SCHEMA``, applied with ``snakemake.utils.validate``) checks types and names;
the checks here
are the ones a schema cannot express (d_min <= d_max, a model reference that points nowhere),
each raising an error that names the bad value before Snakemake builds the DAG.
"""

from __future__ import annotations

import math
from pathlib import Path

from .models import resolve_reference

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


def check_config(config: dict) -> None:
    """Everything the schema cannot say; raises ValueError naming the bad value."""
    grid = config["d_grid"]
    if "values" not in grid and grid["min"] > grid["max"]:
        raise ValueError(f"config d_grid: d_min={grid['min']} is larger than d_max={grid['max']}")
    for name, ref in config["models"].items():
        try:
            resolve_reference(ref)
        except ValueError as err:
            raise ValueError(f"config models.{name}: {err}") from err


def d_values(config: dict) -> list[int]:
    """The d grid: explicit values, or ``points`` log-spaced integers from min to max."""
    grid = config["d_grid"]
    if "values" in grid:
        return sorted(grid["values"])
    lo, hi, n = grid["min"], grid["max"], grid["points"]
    if n == 1 or lo == hi:
        return [lo]
    step = (math.log(hi) - math.log(lo)) / (n - 1)
    return sorted({round(math.exp(math.log(lo) + i * step)) for i in range(n)})


def scaled_learning_rate(lr: float, d: int, reference_d: int) -> float:
    """lr at ``reference_d``, scaled to d: lr * sqrt(reference_d / d).

    Adam moves each of the d coordinates of theta_d by about lr per step, and P is close to an
    isometry, so an update's norm in theta_D grows like lr * sqrt(d); this keeps it fixed.
    """
    return lr * math.sqrt(reference_d / d)


def lr_label(lr: float) -> str:
    """A learning rate as it appears in paths: the shortest exact decimal form."""
    return format(lr, "g")
