"""Snakemake script: a byte-level BPE tokenizer trained on the pre-training corpus."""

from pathlib import Path

from intdim.method.pretraining import train_tokenizer
from intdim.pipeline.integrity import verified_dir, write_manifest
from script_log import logged


def main(snakemake):
    verified_dir(snakemake.input.info)
    with open(snakemake.input.train, encoding="utf-8") as lines:  # streamed: any corpus size
        tokenizer = train_tokenizer(
            (line.rstrip("\n") for line in lines),
            snakemake.params.vocab_size,
            snakemake.params.max_length,
            Path(snakemake.output[0]),
        )
    write_manifest(snakemake.output[0])  # checked by every pre-training job
    print(f"vocabulary: {len(tokenizer)} tokens")


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
