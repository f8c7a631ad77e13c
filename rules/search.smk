# d90 search (Section 5): rounds of parallel probes; each round is a checkpoint, so the DAG
# grows by the next round's subspace runs once the previous round's outcomes are known.


checkpoint search_round:
    input:
        unpack(search_round_inputs),
    output:
        "results/search/{model}/{task}/{method}/round{round}.json",
    log:
        "logs/search/{model}/{task}/{method}/round{round}.log",
    conda:
        "../envs/analysis.yaml"
    params:
        search=PLAN.section("search"),
        metric=PLAN.config["metric"],
    script:
        "../workflow/scripts/search_round.py"


rule search_result:
    input:
        final_search_round,
    output:
        "results/search/{model}/{task}/{method}/result.json",
    log:
        "logs/search/{model}/{task}/{method}/result.log",
    conda:
        "../envs/analysis.yaml"
    params:
        lrs=lambda wc: learning_rates(wc.model, "subspace"),
        seeds=SEEDS,
    script:
        "../workflow/scripts/search_result.py"
