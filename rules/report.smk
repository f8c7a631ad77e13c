rule analysis_notebook:
    input:
        notebook=NOTEBOOK,
        runs="results/tables/runs.csv",
        d90="results/tables/d90.csv",
    output:
        executed="results/notebooks/analysis.ipynb",
        html=report(
            "results/notebooks/analysis.html",
            caption="../workflow/report/notebook.rst",
            category="Notebook",
        ),
    log:
        "logs/analysis_notebook.log",
    benchmark:
        "benchmarks/analysis_notebook.tsv"
    conda:
        "../envs/analysis.yaml"
    params:
        metric=PLAN.config["metric"],
    script:
        "../workflow/scripts/run_notebook.py"


# The report's landing page (Snakefile `report:`): what ran and the headline tables.
rule report_summary:
    input:
        unpack(summary_inputs),
    output:
        SUMMARY_PAGE,
    log:
        "logs/report_summary.log",
    conda:
        "../envs/analysis.yaml"
    params:
        run=run_description(),
    script:
        "../workflow/scripts/report_summary.py"
