# Stage: report — RESULTS.md, tables and plots from every evaluation stage this run configures
# (see docs/architecture.md and src/lemflow/report.py). It reads the results.csv,
# significance.csv and tagging report.json that other stages register as final targets: a stage
# the run leaves out is left out of the report too.

report: "../report/workflow.rst"


REPORT_STAGES = ("tagging", "mining", "curation", "nmt", "sentiment")


def _stage_targets():
    """Final targets the other stages registered for this run: a stage takes part in the
    report exactly when its results are among them (a stage the config leaves out registers none)."""
    return {t for function in TARGET_FUNCTIONS if function is not report_targets for t in function()}


def _stage_files(name):
    targets = _stage_targets()
    return [f"{R}/{stage}/{name}" for stage in REPORT_STAGES if f"{R}/{stage}/{name}" in targets]


rule report:
    input:
        results=lambda w: _stage_files("results.csv"),
        significance=lambda w: _stage_files("significance.csv"),
        tagging=lambda w: _stage_files("report.json"),
        paper=str(Path(workflow.basedir) / "src" / "lemflow" / "data" / "paper_results.csv"),
        script=script("report.py"),
        code=pkg("report.py"),
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
        config=lambda w: as_json(config),
        settings=lambda w: as_json(config.get("report") or {}),
        tagging=lambda w, input: f"--tagging {input.tagging}" if input.tagging else "",
    log:
        logpath("report", "report"),
    benchmark:
        benchpath("report", "report")
    shell:
        "{PYTHON} {input.script} --results {input.results} --significance {input.significance} {params.tagging} "
        "--results-root {R} --paper {input.paper} --config {params.config:q} --settings {params.settings:q} "
        "--outdir {R}/report > {log} 2>&1"


@register_targets
def report_targets():
    return [f"{R}/report/RESULTS.md"]
