"""Snakemake script: a model reference becomes a local snapshot directory plus meta.json."""

import json
import shutil
from pathlib import Path

from intdim.method.models import parameter_count, resolve_reference
from intdim.pipeline.integrity import load_json, manifest, verify_folder
from script_log import logged


def snapshot(reference: str, target: Path) -> dict:
    source = resolve_reference(reference)
    if source.kind == "hub":
        from huggingface_hub import snapshot_download

        try:
            path = snapshot_download(source.location, revision=source.revision, local_dir=target)
        except Exception as err:
            raise RuntimeError(
                f"could not download {reference!r} from the Hugging Face hub (no network?): {err}"
            ) from err
        return {"source": "hub", "location": source.location, "revision": source.revision,
                "path": str(path)}  # fmt: skip
    if (Path(source.location) / "manifest.json").is_file():  # the workflow's own checkpoint
        verify_folder(source.location)
    shutil.copytree(source.location, target, dirs_exist_ok=True)
    revision = None
    state = Path(source.location) / "trainer_state.json"
    if state.is_file():  # checkpoints written by the workflow's own pre-training record a step
        revision = f"step-{load_json(state).get('global_step')}"
    return {"source": source.kind, "location": source.location, "revision": revision}


def main(snakemake):
    from transformers import AutoConfig, AutoModel

    target = Path(snakemake.output.snapshot)
    meta = snapshot(snakemake.params.reference, target)
    config = AutoConfig.from_pretrained(target)
    encoder = AutoModel.from_pretrained(target)
    meta.update(
        {
            "name": snakemake.wildcards.model,
            "reference": snakemake.params.reference,
            "model_type": config.model_type,
            "architecture": (config.architectures or [type(encoder).__name__])[0],
            "base_parameters": parameter_count(encoder),
            "snapshot": str(target),
            # Every file of the snapshot, checked by each job that loads the model.
            "files": manifest(target),
        }
    )
    with open(snakemake.output.meta, "w") as f:
        json.dump(meta, f, indent=2)
    print(json.dumps(meta, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
