rule ingest_dataset:
    output:
        train="results/data/{task}/train.parquet",
        eval="results/data/{task}/eval.parquet",
        info="results/data/{task}/info.json",
    log:
        "logs/ingest_dataset/{task}.log",
    benchmark:
        "benchmarks/ingest_dataset/{task}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        task=lambda wc: PLAN.section("tasks", wc.task),
        seed=SEEDS[0],
    script:
        "../workflow/scripts/ingest_dataset.py"
