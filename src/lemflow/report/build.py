"""``build_report``: reads every declared input, runs the statistics and analyses, and writes
RESULTS.md, tables/*.csv, plots/*.png and provenance.json."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import pandas as pd

from .analyses import (MASKING_KEYS, embedding_selection_table, input_notes, masking_table, ner_agreement_table,
                       sentence_space_table, tagging_table, walltime_table)
from .comparison import aggregate, attach_paper, compare, degenerate_systems, primary_family
from .markdown import fmt, frame_table, markdown_table
from .plots import plot_glance, plot_metric, plot_walltime, slug
from .reading import read_paper, read_results, read_significance
from .run_provenance import provenance
from .settings import ReportSettings
from .tables import (degenerate_nmt_note, degenerate_section, glance, mining_f1_note, noise_recall_section,
                     primary_section, questions_section, seeds_section, task_tables)


def build_report(result_files: Sequence[str | Path], results_root: str | Path, out_dir: str | Path, config: dict,
                 settings: ReportSettings, paper_path: str | Path | None = None,
                 significance_files: Sequence[str | Path] = (), tagging_json: str | Path | None = None,
                 repo: str | Path = ".", pretraining_files: Sequence[str | Path] = (),
                 embedding_files: Sequence[str | Path] = (),
                 tag_files: Sequence[tuple[str | Path, str | Path]] = (),
                 selection_files: Sequence[str | Path] = (), mining_meta: Sequence[str | Path] = (),
                 prepare_stats: Sequence[str | Path] = ()) -> dict:
    """Write RESULTS.md, tables/*.csv and plots/*.png under ``out_dir`` (which must be a fresh
    directory: the caller renames it into place). Returns a summary dict.

    Every file read is passed in (the report rule's declared inputs, see rules/helpers/report.smk):
    the pre-training metrics, the mining embeddings, (gold, predicted) tag files, the embedding
    selections, the comparable sets' meta.json and prepare's stats.json. ``results_root`` only
    names them relative to R, and is where the benchmark files are globbed (``walltime_table``)."""
    out_dir = Path(out_dir)
    (out_dir / "tables").mkdir(parents=True, exist_ok=True)
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    results = read_results(result_files)
    aggregated, significance = aggregate(results), read_significance(significance_files)
    table = compare(aggregated, significance, settings)
    table = attach_paper(table, read_paper(paper_path))
    summary_csv = table.drop(columns=["values", "runs"]).copy()
    summary_csv.insert(summary_csv.columns.get_loc("n") + 1, "seeds_values",
                       [";".join(f"{v:.6g}" for v in vals) for vals in table["values"]])
    degenerate = degenerate_systems(table)
    family = primary_family(aggregated, significance, settings, degenerate)
    primary_keys = {tuple(r) for r in family[["task", "dataset", "pair", "base", "strategy", "metric"]]
                    .itertuples(index=False)} if not family.empty else set()
    summary_csv["family"] = ["primary" if tuple(r) in primary_keys else "exploratory"
                             for r in table[["task", "dataset", "pair", "base", "strategy", "metric"]]
                             .itertuples(index=False)]
    summary_csv.to_csv(out_dir / "tables" / "summary.csv", index=False)
    if not family.empty:
        family.to_csv(out_dir / "tables" / "primary.csv", index=False)
    if not degenerate.empty:
        degenerate.to_csv(out_dir / "tables" / "degenerate.csv", index=False)

    glance_md, counts = glance(table, settings, degenerate)
    glance_plots = []
    for task in dict.fromkeys(table["task"]):
        name = slug("glance", task) + ".png"
        if plot_glance(table, task, settings, out_dir / "plots" / name):
            glance_plots.append(name)
    tables = task_tables(table, settings)
    plots = list(glance_plots)
    selection = embedding_selection_table(selection_files)
    selection_md = []
    if not selection.empty:
        selection.to_csv(out_dir / "tables" / "embedding_selection.csv", index=False)
        selection_md = ["Embedding prefix and layer (`mining.embedding.select`), chosen per base on the development "
                        "sets (prepared valid splits; never a test set) by the untouched base's cosine P@1, and used "
                        "for every encoder of that base:", "", frame_table(selection), ""]
    for task, dataset, metric, _ in tables:
        sub = table[(table["task"] == task) & (table["dataset"] == dataset) & (table["metric"] == metric)]
        name = slug(task, dataset, metric) + ".png"
        plot_metric(sub, f"{task} · {dataset} · {metric}", out_dir / "plots" / name, settings.baseline)
        plots.append(name)

    tagging = tagging_table(tagging_json)
    masking = masking_table(results_root, pretraining_files)
    space = sentence_space_table(results_root, embedding_files)
    agreement = ner_agreement_table(tag_files)
    for name, frame in (("tagging", tagging), ("masking", masking), ("sentence_space", space),
                        ("ner_agreement", agreement)):
        if not frame.empty:
            frame.to_csv(out_dir / "tables" / f"{name}.csv", index=False)
    walltime = walltime_table(results_root)
    walltime.to_csv(out_dir / "tables" / "walltime.csv", index=False)
    if not walltime.empty:
        plot_walltime(walltime, out_dir / "plots" / "walltime.png")
        plots.append("walltime.png")
    prov = provenance(config, repo)

    md = [f"# LEM workflow results — run `{prov['run_name']}`", ""]
    md += seeds_section(config, results)
    md += primary_section(family, settings)
    md += ["## At a glance (exploratory)", "",
           "Exploratory: uncorrected tests, read as hypotheses, not findings (the primary family is above).", "",
           f"Each cell: difference of the strategy's score from `{settings.baseline}` (same base, pair, data) on the "
           "task's main metric. ▲ better, significant · △ better, not significant · ▼ worse, significant · "
           "▽ worse, not significant · = equal · · not tested. Significance at "
           f"{100 * (1 - settings.alpha):.0f}%: stage tests (paired bootstrap) where the stage wrote them, Welch's "
           "t-test over seeds where there are ≥ 2 seeds, else non-overlapping confidence intervals.", "",
           glance_md, ""] + degenerate_section(degenerate)
    md += [f"![gain over {settings.baseline}: {name}](plots/{name})" for name in glance_plots] + [""]
    if counts["compared"]:
        md += [f"Over {counts['compared']} comparisons: better in {counts['better']} "
               f"({counts['better_significant']} significant), worse in {counts['worse']} "
               f"({counts['worse_significant']} significant), equal in {counts['equal']}.", ""]
    stages = sorted(set(results["task"])) if len(results) else []
    md += [f"Result tables read: {', '.join(f'`{Path(f).as_posix()}`' for f in result_files) or 'none'}; "
           f"tasks: {', '.join(stages) or 'none'}.", ""]
    md += input_notes(results_root, mining_meta, prepare_stats)
    current = None
    for task, dataset, metric, text in tables:
        if task != current:
            md += [f"## {task}", ""] + (degenerate_nmt_note(table) if task == "nmt" else []) \
                + (mining_f1_note(config) + selection_md if task == "mining" else []) \
                + (noise_recall_section(table) if task == "curation" else [])
            current = task
        name = slug(task, dataset, metric) + ".png"
        md += [f"### {task} — {dataset} — {metric}", "",
               "Cells: mean ± std over seeds, or value [95% CI]. Δ: against "
               f"`{settings.baseline}` (marks as above; exploratory, uncorrected).", "", text, "", f"![{task} {metric}](plots/{name})", ""]
    if settings.comparisons:
        question_md, question_table = questions_section(aggregated, significance, settings)
        md += ["## Questions", ""] + question_md
        if not question_table.empty:
            question_table.to_csv(out_dir / "tables" / "questions.csv", index=False)
    if read_paper(paper_path).empty:
        md += ["_The paper's own numbers are not in `src/lemflow/data/paper_results.csv`, so no paper column is "
               "shown._", ""]
    md += ["## Tagger accuracy", ""]
    if tagging.empty:
        md += ["_No tagging report in this run._", ""]
    else:
        md += [frame_table(tagging), ""]
    if not agreement.empty:
        md += ["### The tagger's NEs against the gold NEs on the pre-training corpus", "",
               "Entity-level (type and extent) precision/recall/F1 of `R/tags` (tagger) against `R/tags_gold`.", "",
               frame_table(agreement), ""]
    md += ["## Masking statistics (continual pre-training)", ""]
    if masking.empty:
        md += ["_No pre-training metrics.json in this run._", ""]
    else:
        ident = [c for c in ("base", "strategy", "pair", "stage") if c in masking.columns]
        keys = [c for c in masking.columns if c not in ident and MASKING_KEYS.search(c)][:10]
        md += [markdown_table(ident + keys, [[fmt(v) if isinstance(v, float) else ("" if pd.isna(v) else v)
                                              for v in r] for r in masking[ident + keys].itertuples(index=False)]),
               "", "All fields: `tables/masking.csv`.", ""]
    if not space.empty:
        md += ["## How far continual pre-training moved the sentence space", "",
               "Per trained encoder, on the mining sets' sentences: mean cosine between its embedding and the "
               "untouched base's embedding of the same sentence, and the share of each sentence's 10 nearest "
               "neighbours that both agree on (1 = unchanged).", "",
               frame_table(space), ""]
    if pretraining_files:
        from lemflow.report_pretraining import pretraining_section

        md += pretraining_section(pretraining_files, results_root, out_dir)
    md += ["## Wall time per stage", ""]
    if walltime.empty:
        md += ["_No benchmark files._", ""]
    else:
        md += [markdown_table(["rule", "jobs", "wall (s, summed)", "longest job (s)", "max RSS (MB)"],
                              [[r.rule, r.jobs, f"{r.wall_s:.1f}", f"{r.max_job_s:.1f}",
                                "" if math.isnan(r.max_rss_mb) else f"{r.max_rss_mb:.0f}"]
                               for r in walltime.itertuples(index=False)]),
               "", f"Total: {walltime['wall_s'].sum() / 60:.1f} min of job time (jobs may have run in parallel).",
               "", "![wall time](plots/walltime.png)", ""]
    md += ["## Provenance", "",
           f"- config sha256 (first 16): `{prov['config_sha256']}`",
           f"- command: `{prov['command'] or 'unknown'}`",
           f"- git commit: `{prov['git_commit']}`{' (uncommitted changes)' if prov['git_dirty'] else ''}",
           f"- python {prov['python']} on {prov['platform']}; generated {prov['generated_utc']}",
           "- packages: " + ", ".join(f"{k} {v}" for k, v in prov["packages"].items()), ""]
    (out_dir / "RESULTS.md").write_text("\n".join(md), encoding="utf-8")
    with open(out_dir / "provenance.json", "w", encoding="utf-8") as handle:
        json.dump({**prov, "config": config}, handle, ensure_ascii=False, indent=2, default=str)
    return {"counts": counts, "plots": plots, "tables": [t[:3] for t in tables]}
