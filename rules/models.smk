rule ingest_model:
    output:
        snapshot=directory("results/models/{model}/snapshot"),
        meta="results/models/{model}/meta.json",
    log:
        "logs/ingest_model/{model}.log",
    benchmark:
        "benchmarks/ingest_model/{model}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=RES["mem_mb"],
        runtime=60,
    params:
        reference=lambda wc: config["models"][wc.model],
    script:
        "../workflow/scripts/ingest_model.py"
