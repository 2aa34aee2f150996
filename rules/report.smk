# Stage: report — RESULTS.md, tables and plots from every evaluation stage this run configures
# (see docs/architecture.md and src/lemflow/report/). It reads the results.csv,
# significance.csv and tagging report.json that other stages register as final targets: a stage
# the run leaves out is left out of the report too. Every file it reads is a declared input
# (rules/helpers/report.smk), except the benchmark files of the wall-time table, which it globs
# below R/benchmarks: declaring them would mean enumerating every job of the DAG a second time,
# and a job cannot depend on its own benchmark (see lemflow.report.walltime_table).

report: "../report/workflow.rst"


REPORT_STAGES = ("tagging", "mining", "curation", "nmt", "sentiment")
# The command line that produced the report, for its provenance section. Passed through the
# environment, not params, so that running with other options (cores, profile) reruns nothing.
SNAKEMAKE_COMMAND = " ".join(["snakemake", *sys.argv[1:]])


include: "helpers/report.smk"


rule report:
    input:
        results=lambda w: _stage_files("results.csv"),
        significance=lambda w: _stage_files("significance.csv"),
        tagging=lambda w: _stage_files("report.json"),
        pretraining=lambda w: pretraining_report_files(),
        embeddings=lambda w: embedding_report_files(),
        tags=lambda w: tag_report_files("tags"),
        gold_tags=lambda w: tag_report_files("tags_gold"),
        selection=lambda w: selection_report_files(),
        mining_meta=lambda w: mining_meta_report_files(),
        prepare_stats=lambda w: [f"{R}/data/{pair}/stats.json" for pair in PAIRS],
        paper=str(Path(workflow.basedir) / "src" / "lemflow" / "data" / "paper_results.csv"),
        script=script("report.py"),
        code=script_code("report.py"),
    output:
        results=f"{R}/report/RESULTS.md",
        provenance=f"{R}/report/provenance.json",
        tables=report(
            directory(f"{R}/report/tables"),
            patterns=["{name}.csv"],
            caption="../report/tables.rst",
            category="Tables",
        ),
        plots=report(
            directory(f"{R}/report/plots"),
            patterns=["{name}.png"],
            caption="../report/plots.rst",
            category="Plots",
        ),
    params:
        results=lambda w: R,
        config=lambda w: as_json(config),
        settings=lambda w: as_json(report_settings()),
        tagging=lambda w, input: f"--tagging {input.tagging}" if input.tagging else "",
    conda:
        "../envs/main.yaml"
    log:
        logpath("report", "report"),
    benchmark:
        benchpath("report", "report")
    shell:
        "python {input.script} --results {input.results} --significance {input.significance} {params.tagging} "
        "--results-root {params.results} --pretraining {input.pretraining} --embeddings {input.embeddings} "
        "--tags {input.tags} --gold-tags {input.gold_tags} --selection {input.selection} --mining-meta {input.mining_meta} "
        "--prepare-stats {input.prepare_stats} --paper {input.paper} --config {params.config:q} --settings {params.settings:q} "
        "--outdir {params.results}/report > {log} 2>&1"

