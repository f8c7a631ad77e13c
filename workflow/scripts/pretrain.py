"""Snakemake script: masked-LM pre-training of one size from scratch, with checkpoints."""

import json
from pathlib import Path

from intdim.pretraining import PretrainSettings, pretrain
from script_log import logged


def main(snakemake):
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(snakemake.threads)
    section = snakemake.params.pretraining
    settings = PretrainSettings(
        steps=section["steps"],
        save_every=section["save_every"],
        batch_size=section["batch_size"],
        max_length=section["max_length"],
        learning_rate=section["learning_rate"],
        seed=section["seed"],
    )
    read = lambda path: Path(path).read_text(encoding="utf-8").splitlines()  # noqa: E731
    tokenizer = AutoTokenizer.from_pretrained(snakemake.input.tokenizer)
    out_dir = Path(snakemake.output.history).parent
    history = pretrain(
        section["sizes"][snakemake.wildcards.size],
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
