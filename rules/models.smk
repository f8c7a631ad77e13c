rule ingest_model:
    input:
        model_source,
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
        reference=lambda wc: MODEL_REFS[wc.model],
    script:
        "../workflow/scripts/ingest_model.py"
