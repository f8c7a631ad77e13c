rule full_finetune:
    input:
        data="results/data/{task}/info.json",
        train="results/data/{task}/train.parquet",
        eval="results/data/{task}/eval.parquet",
        model="results/models/{model}/meta.json",
    output:
        metrics="results/full/{model}/{task}/lr{lr}/seed{seed}/metrics.json",
    log:
        "logs/full/{model}/{task}/lr{lr}_seed{seed}.log",
    benchmark:
        "benchmarks/full/{model}/{task}/lr{lr}_seed{seed}.tsv"
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
        method="full",
        settings=training_settings("full_finetune"),
    script:
        "../workflow/scripts/train.py"


rule select_baseline:
    input:
        runs=full_runs,
        data="results/data/{task}/info.json",
    output:
        "results/full/{model}/{task}/baseline.json",
    log:
        "logs/select_baseline/{model}/{task}.log",
    conda:
        "../envs/analysis.yaml"
    params:
        threshold=PLAN.config["threshold"],
        metric=PLAN.config["metric"],
        model=lambda wc: wc.model,
    script:
        "../workflow/scripts/select_baseline.py"
