"""Snakemake script: the pre-training corpus, one paragraph per line, without evaluation texts."""

import json
from pathlib import Path

import pandas as pd
from intdim.pretraining import load_corpus, remove_texts, split_corpus
from script_log import logged


def main(snakemake):
    params = snakemake.params
    paragraphs = load_corpus(params.corpus, params.corpus_files)
    evals = [t for p in snakemake.input.evals for t in pd.read_parquet(p)["text"].tolist()]
    kept, removed = remove_texts(paragraphs, evals)
    train, valid = split_corpus(kept, params.valid_fraction, params.seed)
    Path(snakemake.output.train).write_text("\n".join(train) + "\n", encoding="utf-8")
    Path(snakemake.output.valid).write_text("\n".join(valid) + "\n", encoding="utf-8")
    info = {
        "corpus": params.corpus,
        "paragraphs": len(paragraphs),
        "removed_for_containing_eval_texts": removed,
        "train_paragraphs": len(train),
        "valid_paragraphs": len(valid),
        "train_words": sum(len(p.split()) for p in train),
    }
    Path(snakemake.output.info).write_text(json.dumps(info, indent=2))
    print(json.dumps(info, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
