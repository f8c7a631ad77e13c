# Intrinsic dimension of language-model fine-tuning (Aghajanyan, Gupta and Zettlemoyer, 2021):
# full fine-tuning baselines, subspace (DID/SAID) runs over a grid of d, d90, figures, report.


# The offline default, unless a config is given: --configfile would otherwise be merged into it.
# Found beside this Snakefile, so that --directory elsewhere works too.
if not config:

    configfile: f"{workflow.basedir}/config/config.yaml"


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


report: "workflow/report/workflow.rst"


rule all:
    input:
        all_outputs(),
