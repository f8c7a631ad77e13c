"""Snakemake script: masked-LM pre-training of one size from scratch, with checkpoints."""

import json
from pathlib import Path

from intdim.method import resume
from intdim.method.precision import job_device
from intdim.method.pretraining import PretrainSettings, pretrain
from intdim.pipeline.integrity import verified_dir, verify_folder
from intdim.pipeline.numerics import use_numerics
from intdim.pipeline.provenance import run_environment
from script_log import logged


def main(snakemake):
    import torch
    from transformers import AutoTokenizer

    use_numerics(snakemake.params.numerics)  # before the job's first tensor operation
    torch.set_num_threads(snakemake.threads)
    device = job_device(
        int(snakemake.resources.get("gpu", 0)), snakemake.rule, snakemake.params.allow_cpu_fallback
    )
    settings = PretrainSettings(**snakemake.params.settings)
    verified_dir(snakemake.input.info)
    verify_folder(snakemake.input.tokenizer)

    def read(path):  # streamed line by line; pretrain tokenises in batches
        with open(path, encoding="utf-8") as lines:
            yield from (line.rstrip("\n") for line in lines)

    tokenizer = AutoTokenizer.from_pretrained(snakemake.input.tokenizer)
    out_dir = Path(snakemake.output.history).parent
    history = pretrain(
        snakemake.params.shape,
        tokenizer,
        read(snakemake.input.train),
        read(snakemake.input.valid),
        settings,
        out_dir,
        device=device,
    )
    history["size"] = snakemake.wildcards.size
    history["environment"] = run_environment(device, snakemake.params.numerics)
    Path(snakemake.output.history).write_text(json.dumps(history, indent=2))


# pretrain keeps its training state in out_dir/resume until its last update.
STATE_FILE = Path(snakemake.output.history).parent / "resume" / resume.STATE  # noqa: F821
with logged(snakemake, STATE_FILE):  # noqa: F821
    main(snakemake)  # noqa: F821
