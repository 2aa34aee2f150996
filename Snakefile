# LEM workflow: Linguistic Entity Masking for low-resource language pairs.
# Stages live in rules/*.smk (their helpers in rules/helpers/), the experiment plan in
# src/lemflow/plan.py, what every stage needs in rules/common.smk; see docs/architecture.md.
# The demo config is the default; a --configfile on the command line replaces it (Snakemake
# would otherwise merge the two, mixing the demo's corpora into another run).
if not workflow.overwrite_configfiles:
    # Snakemake's own YAML error names neither file nor line: the project's loader reads it first.
    import sys

    sys.path.insert(0, f"{workflow.basedir}/src")
    from lemflow.config_checks import exit_on_bad_yaml

    exit_on_bad_yaml("config.yaml")

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/tagging.smk"
include: "rules/dictionary.smk"
include: "rules/pretrain.smk"
include: "rules/mining.smk"
include: "rules/curation.smk"
include: "rules/nmt.smk"
include: "rules/sentiment.smk"
include: "rules/report.smk"


# Light rules run on the submitting host, also under a cluster executor (profiles/slurm).
localrules:
    all,
    entity_dictionary,
    entity_dictionary_mono,
    tagger_report,
    mining_corpus,
    mining_corpus_parallel,
    mining_results,
    nmt_results,
    sentiment_split,
    sentiment_results,
    curation_noisy,
    curation_random,
    report,


rule all:
    input:
        all_targets,
    default_target: True
