# Section 5: compression bounds of the d90 solutions, the tables, and Figures 2-5.


rule compression_bound:
    input:
        unpack(bound_inputs),
    output:
        "results/bounds/{model}/{task}/{method}.json",
    log:
        "logs/bounds/{model}/{task}/{method}.log",
    benchmark:
        "benchmarks/bounds/{model}/{task}/{method}.tsv"
    conda:
        "../envs/train.yaml"
    threads: RES["threads"]
    resources:
        mem_mb=RES["mem_mb"],
        runtime=RES["runtime"],
    params:
        numerics=cpu_numerics,
        bits=PLAN.config["bound"]["bits"],
        confidence=PLAN.config["bound"]["confidence"],
        lrs=lambda wc: learning_rates(wc.model, "subspace"),
        seeds=SEEDS,
        max_length=PLAN.config["max_length"],
    script:
        "../workflow/scripts/compression_bound.py"


rule section5_tables:
    input:
        results=search_results,
        baselines=search_baselines,
        metas=search_model_metas,
        bounds=search_bounds,
    output:
        search=report(
            "results/tables/search.csv",
            caption="../workflow/report/search.rst",
            category="Tables",
        ),
        probes="results/tables/probes.csv",
        trajectory="results/tables/trajectory.csv",
        survey="results/tables/survey.csv",
        bounds=report(
            "results/tables/bounds.csv",
            caption="../workflow/report/bounds.rst",
            category="Tables",
        ),
    log:
        "logs/section5_tables.log",
    conda:
        "../envs/analysis.yaml"
    params:
        trajectories=thawed(PLAN.trajectories),
        trajectory_specs=PLAN.section("trajectories", default={}),
        survey=PLAN.section("survey"),
        survey_models=list(PLAN.survey_models),
    script:
        "../workflow/scripts/section5_tables.py"


rule plot_figure2:
    input:
        "results/tables/trajectory.csv",
    output:
        report(
            "results/figures/figure2.png",
            caption="../workflow/report/figure2.rst",
            category="Figures",
        ),
    log:
        "logs/plot_figure2.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/plot_figure2.py"


rule plot_figure3:
    input:
        "results/tables/survey.csv",
    output:
        report(
            "results/figures/figure3.png",
            caption="../workflow/report/figure3.rst",
            category="Figures",
        ),
    log:
        "logs/plot_figure3.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/plot_figure3.py"


rule plot_figures4_5:
    input:
        "results/tables/trajectory.csv",
    output:
        report(
            "results/figures/figure4_5.png",
            caption="../workflow/report/figure4_5.rst",
            category="Figures",
        ),
    log:
        "logs/plot_figures4_5.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/plot_figures4_5.py"
