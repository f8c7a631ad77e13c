rule collect_runs:
    input:
        subspace=subspace_runs,
        baselines=baselines,
    output:
        report(
            "results/tables/runs.csv",
            caption="../workflow/report/runs.rst",
            category="Tables",
        ),
    log:
        "logs/collect_runs.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/collect_runs.py"


rule compute_d90:
    input:
        runs="results/tables/runs.csv",
    output:
        d90=report(
            "results/tables/d90.csv",
            caption="../workflow/report/d90.rst",
            category="Tables",
        ),
        table1=report(
            "results/tables/table1.csv",
            caption="../workflow/report/table1.rst",
            category="Tables",
        ),
    log:
        "logs/compute_d90.log",
    conda:
        "../envs/analysis.yaml"
    params:
        metric=PLAN.config["metric"],
    script:
        "../workflow/scripts/compute_d90.py"


rule plot_figure1:
    input:
        runs="results/tables/runs.csv",
        d90="results/tables/d90.csv",
    output:
        report(
            "results/figures/figure1.png",
            caption="../workflow/report/figure1.rst",
            category="Figures",
        ),
    log:
        "logs/plot_figure1.log",
    conda:
        "../envs/analysis.yaml"
    params:
        metric=PLAN.config["metric"],
    script:
        "../workflow/scripts/plot_figure1.py"


rule projection_study:
    input:
        unpack(projection_study_inputs),
    output:
        table=report(
            "results/tables/projection_study.csv",
            caption="../workflow/report/projection_study.rst",
            category="Projection study",
        ),
        figure=report(
            "results/figures/projection_study.png",
            caption="../workflow/report/projection_study.rst",
            category="Projection study",
        ),
    log:
        "logs/projection_study.log",
    conda:
        "../envs/analysis.yaml"
    params:
        models=STUDY_MODELS,
        options={model: PLAN.subspace_options(model) for model in STUDY_MODELS},
        metric=PLAN.config["metric"],
    script:
        "../workflow/scripts/projection_study.py"
