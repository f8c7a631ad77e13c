"""A fine-tuned task as a few kilobytes: {base model, method, d, seeds, theta_d}.

The file is safetensors: the trained vector(s) as float32 tensors (4 bytes per trained number)
and a JSON header with everything needed to rebuild theta_0 and P. Loading rebuilds the exact
fine-tuned weights, because the base model, the head initialisation and the projection are all
functions of the recorded reference and seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, safe_open, save_file

from .models import load_classifier
from .subspace import SubspaceModel, SubspaceSettings

FORMAT = "intdim-task/1"


def save_task(
    path: str | Path,
    subspace: SubspaceModel,
    base_model: str,
    init_seed: int,
    extra: dict | None = None,
) -> Path:
    """Write theta_d (and SAID's scales) with the recipe that rebuilds the model."""
    header = {
        "format": FORMAT,
        "base_model": base_model,
        "num_labels": int(subspace.model.config.num_labels),
        "init_seed": int(init_seed),
        **subspace.settings.header(),
        "D": subspace.D,
        "extra": extra or {},
    }
    tensors = {"theta_d": subspace.theta_d.detach().float().cpu().contiguous()}
    if subspace.lambdas is not None:
        tensors["lambdas"] = subspace.lambdas.detach().float().cpu().contiguous()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"intdim": json.dumps(header, sort_keys=True)})
    return path


def read_task_header(path: str | Path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "intdim" not in meta:
        raise ValueError(f"{path} is not an intdim task file (no 'intdim' header)")
    header = json.loads(meta["intdim"])
    if header.get("format") != FORMAT:
        raise ValueError(f"{path}: unsupported task format {header.get('format')!r}")
    return header


def load_task(path: str | Path, device: str | torch.device = "cpu") -> SubspaceModel:
    """Rebuild the fine-tuned model saved by ``save_task``."""
    header = read_task_header(path)
    tensors = load_file(str(path))
    model = load_classifier(header["base_model"], header["num_labels"], header["init_seed"])
    subspace = SubspaceModel(model.to(device), SubspaceSettings.from_header(header))
    if subspace.D != header["D"]:
        raise ValueError(
            f"{path}: base model {header['base_model']!r} has D={subspace.D}, "
            f"the task was trained with D={header['D']}"
        )
    with torch.no_grad():
        subspace.theta_d.copy_(tensors["theta_d"])
        if subspace.lambdas is not None:
            subspace.lambdas.copy_(tensors["lambdas"])
    return subspace
