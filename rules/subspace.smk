rule subspace_run:
    input:
        data="results/data/{task}/info.json",
        train="results/data/{task}/train.parquet",
        eval="results/data/{task}/eval.parquet",
        model="results/models/{model}/meta.json",
    output:
        metrics=f"{SUBSPACE_RUN}/metrics.json",
        task_file=f"{SUBSPACE_RUN}/task.safetensors",
    log:
        "logs/subspace/{model}/{task}/{method}/d{d}_lr{lr}_seed{seed}.log",
    benchmark:
        "benchmarks/subspace/{model}/{task}/{method}/d{d}_lr{lr}_seed{seed}.tsv"
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
        method=lambda wc: wc.method,
        subspace=subspace_settings,
        settings=training_settings("subspace"),
    script:
        "../workflow/scripts/train.py"
