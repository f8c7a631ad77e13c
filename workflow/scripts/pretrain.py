"""Snakemake script: masked-LM pre-training of one size from scratch, with checkpoints."""

import json
from pathlib import Path

from intdim.pretraining import PretrainSettings, pretrain
from script_log import logged


def main(snakemake):
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(snakemake.threads)
    settings = PretrainSettings(**snakemake.params.settings)
    read = lambda path: Path(path).read_text(encoding="utf-8").splitlines()  # noqa: E731
    tokenizer = AutoTokenizer.from_pretrained(snakemake.input.tokenizer)
    out_dir = Path(snakemake.output.history).parent
    history = pretrain(
        snakemake.params.shape,
        tokenizer,
        read(snakemake.input.train),
        read(snakemake.input.valid),
        settings,
        out_dir,
    )
    history["size"] = snakemake.wildcards.size
    Path(snakemake.output.history).write_text(json.dumps(history, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
