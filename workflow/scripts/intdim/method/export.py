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

from .models import load_classifier, resolve_reference
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


def base_reference(header: dict, path: str | Path) -> str:
    """The task's base model reference, usable from here: the workflow records its snapshot
    relative to the run's folder (results/models/...), so a relative path that is not found
    from the current directory is looked up from the folders above the task file."""
    ref = header["base_model"]
    if Path(ref).is_absolute() or Path(ref).exists() or ref.startswith("package:"):
        return ref
    for folder in Path(path).resolve().parents:
        if (folder / ref).is_dir():
            return str(folder / ref)
    return ref


def load_task(path: str | Path, device: str | torch.device = "cpu") -> SubspaceModel:
    """Rebuild the fine-tuned model saved by ``save_task``."""
    header = read_task_header(path)
    header["base_model"] = base_reference(header, path)
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


def export_pretrained(task_path: str | Path, out_dir: str | Path) -> Path:
    """Write the fine-tuned model of a task file as an ordinary Hugging Face model directory
    (``save_pretrained`` layout, with the base model's tokenizer where it has one), loadable
    with ``AutoModelForSequenceClassification.from_pretrained(out_dir)`` without intdim."""
    from transformers import AutoTokenizer

    subspace = load_task(task_path).eval()
    header = read_task_header(task_path)
    header["base_model"] = base_reference(header, task_path)
    merged = subspace.merged_state_dict()
    # A fresh copy of the classifier: the subspace model's own parameters are views of theta_0.
    model = load_classifier(header["base_model"], header["num_labels"], header["init_seed"])
    missing, unexpected = model.load_state_dict(merged, strict=False)
    tied = {name for name, _ in model.named_parameters(remove_duplicate=False)} - set(merged)
    if unexpected or set(missing) - tied - {n for n, _ in model.named_buffers()}:
        raise ValueError(f"{task_path}: weights do not fit the base model ({missing=}, "
                         f"{unexpected=})")  # fmt: skip
    out = Path(out_dir)
    model.save_pretrained(out)
    source = resolve_reference(header["base_model"])
    try:
        AutoTokenizer.from_pretrained(source.location).save_pretrained(out)
    except (OSError, ValueError):  # a base without a tokenizer: the weights are the point
        pass
    return out


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="A task file as a Hugging Face model directory (save_pretrained layout)."
    )
    parser.add_argument("task_file", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    print(f"wrote {export_pretrained(args.task_file, args.out_dir)}")


if __name__ == "__main__":
    main()
