"""Snakemake script: the pre-training corpus, one paragraph per line, without evaluation texts."""

import json
from pathlib import Path

from intdim.method.pretraining import (
    load_corpus,
    remove_texts,
    split_corpus,
    stream_hub_corpus,
    stream_split,
)
from intdim.pipeline.integrity import manifest, read_parquet, verified_dir
from script_log import logged


def main(snakemake):
    params = snakemake.params
    for info in snakemake.input.infos:
        verified_dir(info)
    evals = [t for p in snakemake.input.evals for t in read_parquet(p)["text"].tolist()]
    out = snakemake.output
    if params.corpus == "hub":  # streamed: never the whole corpus in memory
        with (
            open(out.train, "w", encoding="utf-8") as train,
            open(out.valid, "w", encoding="utf-8") as valid,
        ):
            counts = stream_split(stream_hub_corpus(params.hub_corpus), evals,
                                  params.valid_fraction, params.seed, train, valid)  # fmt: skip
        info = {"corpus": params.corpus, "hub_corpus": params.hub_corpus, **counts}
    else:
        paragraphs = load_corpus(params.corpus, params.corpus_files)
        kept, removed = remove_texts(paragraphs, evals)
        train, valid = split_corpus(kept, params.valid_fraction, params.seed)
        Path(out.train).write_text("\n".join(train) + "\n", encoding="utf-8")
        Path(out.valid).write_text("\n".join(valid) + "\n", encoding="utf-8")
        info = {
            "corpus": params.corpus,
            "paragraphs": len(paragraphs),
            "removed_for_containing_eval_texts": removed,
            "train_paragraphs": len(train),
            "valid_paragraphs": len(valid),
            "train_words": sum(len(p.split()) for p in train),
        }
    # Checked by the tokenizer and pre-training jobs before they read the two files.
    info["files"] = manifest(Path(out.info).parent, [out.train, out.valid])
    Path(out.info).write_text(json.dumps(info, indent=2))
    print(json.dumps(info, indent=2))


with logged(snakemake):  # noqa: F821
    main(snakemake)  # noqa: F821
