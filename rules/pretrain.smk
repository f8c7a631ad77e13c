# The workflow's own pre-training (Section 5): corpus, tokenizer, and one model per size.


rule build_corpus:
    input:
        # Every task's evaluation texts are removed from the corpus.
        evals=expand("results/data/{task}/eval.parquet", task=TASKS),
        infos=expand("results/data/{task}/info.json", task=TASKS),
    output:
        train="results/pretrain/corpus/train.txt",
        valid="results/pretrain/corpus/valid.txt",
        info="results/pretrain/corpus/info.json",
    log:
        "logs/pretrain/build_corpus.log",
    benchmark:
        "benchmarks/pretrain/build_corpus.tsv"
    conda:
        "../envs/data.yaml"
    params:
        corpus=PRETRAINING.get("corpus"),
        corpus_files=PRETRAINING.get("corpus_files"),
        hub_corpus=PRETRAINING.get("hub_corpus"),
        source=corpus_source(),
        valid_fraction=PRETRAINING.get("valid_fraction"),
        seed=PRETRAINING.get("seed"),
    message:
        "pre-training corpus {params.corpus}: {params.source}"
    script:
        "../workflow/scripts/build_corpus.py"


rule train_tokenizer:
    input:
        train="results/pretrain/corpus/train.txt",
        info="results/pretrain/corpus/info.json",
    output:
        directory("results/pretrain/tokenizer"),
    log:
        "logs/pretrain/train_tokenizer.log",
    benchmark:
        "benchmarks/pretrain/train_tokenizer.tsv"
    conda:
        "../envs/train.yaml"
    params:
        vocab_size=PRETRAINING.get("vocab_size"),
        max_length=PRETRAINING.get("max_length"),
    script:
        "../workflow/scripts/train_tokenizer.py"


rule pretrain:
    input:
        train="results/pretrain/corpus/train.txt",
        valid="results/pretrain/corpus/valid.txt",
        info="results/pretrain/corpus/info.json",
        tokenizer="results/pretrain/tokenizer",
    output:
        checkpoints=[
            directory(f"results/pretrain/{{size}}/step{s}") for s in CHECKPOINT_STEPS
        ],
        history="results/pretrain/{size}/history.json",
    log:
        "logs/pretrain/{size}.log",
    benchmark:
        "benchmarks/pretrain/{size}.tsv"
    conda:
        "../envs/train.yaml"
    threads: RES["threads"]
    resources:
        mem_mb=grows_with_attempt(RES["mem_mb"]),
        runtime=grows_with_attempt(RES["runtime"]),
        gpu=RES["gpu"],
    params:
        allow_cpu_fallback=RES["allow_cpu_fallback"],
        numerics=cpu_numerics,
        # Exactly what one size's run reads: editing another size, or the blocks that only the
        # fine-tuning of its checkpoints reads, reruns nothing here.
        shape=lambda wc: PRETRAINING["sizes"][wc.size],
        settings=pretrain_settings,
    script:
        "../workflow/scripts/pretrain.py"
