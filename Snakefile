# Intrinsic dimension of language-model fine-tuning (Aghajanyan, Gupta and Zettlemoyer, 2021):
# full fine-tuning baselines, subspace (DID/SAID) runs over a grid of d, d90, figures, report.


# The offline default, unless --configfile names a config of its own (which Snakemake would
# otherwise merge into it); --config key=value alone changes the default's keys. Found beside
# this Snakefile, so that --directory elsewhere and `module` use work too.
if not workflow.overwrite_configfiles:

    configfile: f"{workflow.current_basedir}/config/config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/finetune.smk"
include: "rules/subspace.smk"
include: "rules/analysis.smk"
include: "rules/pretrain.smk"
include: "rules/search.smk"
include: "rules/section5.smk"
include: "rules/report.smk"


report: landing_page()


# Cheap aggregation and plotting: run by the controller, not submitted to a cluster.
localrules:
    collect_runs,
    compute_d90,
    plot_figure1,
    select_baseline,
    search_round,
    search_result,
    section5_tables,
    plot_figure2,
    plot_figure3,
    plot_figures4_5,
    analysis_notebook,
    report_summary,


rule all:
    input:
        all_outputs(),
