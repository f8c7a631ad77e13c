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
        metric=config["metric"],
    shell:
        "(papermill {input.notebook} {output.executed}"
        " -p runs_csv {input.runs} -p d90_csv {input.d90}"
        " -p metric {params.metric} --cwd . &&"
        " jupyter nbconvert --to html --no-input {output.executed} --output-dir results/notebooks)"
        " > {log} 2>&1"
