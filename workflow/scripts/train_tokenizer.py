"""Snakemake script: a byte-level BPE tokenizer trained on the pre-training corpus."""

from pathlib import Path

from intdim.pretraining import train_tokenizer
from script_log import logged


def main(snakemake):
    paragraphs = Path(snakemake.input[0]).read_text(encoding="utf-8").splitlines()
    tokenizer = train_tokenizer(
        paragraphs,
        snakemake.params.vocab_size,
        snakemake.params.max_length,
        Path(snakemake.output[0]),
    )
    print(f"vocabulary: {len(tokenizer)} tokens from {len(paragraphs)} paragraphs")


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
