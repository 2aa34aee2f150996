"""The markdown sections of RESULTS.md built from the compared results: the per-metric task
tables, the at-a-glance table, pre-training seeds, the primary family, the configured questions,
degenerate systems, and the notes of the mining, curation and NMT sections."""
from __future__ import annotations

import math
from typing import Iterable

import pandas as pd

from lemflow.nmt_eval import EMPTY_METRIC

from .comparison import DEGENERATE_COLUMNS, comparison_table, degenerate_keys
from .markdown import fmt, fmt_cell, fmt_delta, fmt_p, frame_table, markdown_table
from .settings import ReportSettings, selected_metrics


def strategy_order(strategies: Iterable[str], baseline: str) -> list[str]:
    seen = list(dict.fromkeys(strategies))
    head = [s for s in dict.fromkeys(("base", baseline)) if s in seen]  # once, also when the baseline is the base
    return head + [s for s in seen if s not in head]


def task_tables(table: pd.DataFrame, settings: ReportSettings) -> list[tuple[str, str, str, str]]:
    """(task, dataset, metric, markdown) for every selected metric: encoders (base × strategy)
    as rows, for each pair our value, its delta against the baseline, and the paper's value."""
    out = []
    for task in dict.fromkeys(table["task"]):
        for metric in selected_metrics(table, task, settings):
            sub_t = table[(table["task"] == task) & (table["metric"] == metric)]
            for dataset in dict.fromkeys(sub_t["dataset"]):
                sub = sub_t[sub_t["dataset"] == dataset]
                pairs = list(dict.fromkeys(sub["pair"]))
                has_paper = sub["paper_value"].notna().any()
                header = ["base", "strategy"]
                for pair in pairs:
                    header += [pair, f"Δ {pair}"] + ([f"paper {pair}"] if has_paper else [])
                rows = []
                for base in dict.fromkeys(sub["base"]):
                    for strategy in strategy_order(sub.loc[sub["base"] == base, "strategy"], settings.baseline):
                        cells = [base, strategy]
                        for pair in pairs:
                            hit = sub[(sub["base"] == base) & (sub["strategy"] == strategy) & (sub["pair"] == pair)]
                            if hit.empty:
                                cells += ["", ""] + ([""] if has_paper else [])
                                continue
                            r = hit.iloc[0]
                            cells += [fmt_cell(r), fmt_delta(r)] + ([fmt(r["paper_value"])] if has_paper else [])
                        rows.append(cells)
                out.append((task, dataset, metric, markdown_table(header, rows)))
    return out


def glance(table: pd.DataFrame, settings: ReportSettings, degenerate: pd.DataFrame | None = None) -> tuple[str, dict]:
    """The at-a-glance table: for each task's first selected metric, every strategy against
    the baseline per pair, and counts of wins/losses. Degenerate systems (and comparisons with
    a degenerate baseline) are left out."""
    bad = degenerate_keys(degenerate if degenerate is not None else pd.DataFrame(columns=DEGENERATE_COLUMNS))
    rows, counts = [], {"better": 0, "better_significant": 0, "worse": 0, "worse_significant": 0, "equal": 0,
                        "compared": 0}
    pairs = list(dict.fromkeys(table.loc[table["delta"].notna(), "pair"]))  # compared pairs (not tagging's languages)
    for task in dict.fromkeys(table["task"]):
        metrics = selected_metrics(table, task, settings)
        for dataset in dict.fromkeys(table.loc[table["task"] == task, "dataset"]):
            in_dataset = set(table.loc[(table["task"] == task) & (table["dataset"] == dataset), "metric"])
            metric = next((m for m in metrics if m in in_dataset), None)
            if metric is None:
                continue
            sub = table[(table["task"] == task) & (table["dataset"] == dataset) & (table["metric"] == metric)
                        & table["delta"].notna()]
            for base, g in sub.groupby("base", sort=False):
                for strategy in dict.fromkeys(g["strategy"]):
                    if strategy == "base":
                        continue
                    cells = [task, dataset, metric, base, strategy]
                    for pair in pairs:
                        hit = g[(g["strategy"] == strategy) & (g["pair"] == pair)]
                        if hit.empty:
                            cells.append("")
                            continue
                        r = hit.iloc[0]
                        system = (task, dataset, pair, base)
                        if (*system, strategy) in bad or (*system, settings.baseline) in bad:
                            cells.append("degenerate")
                            continue
                        cells.append(fmt_delta(r))
                        counts["compared"] += 1
                        counts[r["direction"]] += 1
                        if r["significant"] and r["direction"] != "equal":
                            counts[f"{r['direction']}_significant"] += 1
                    rows.append(cells)
    header = ["task", "dataset", "metric", "base", f"strategy vs {settings.baseline}", *pairs]
    return (markdown_table(header, rows) if rows else "_No strategy could be compared with the baseline._"), counts


def seeds_section(config: dict, results: pd.DataFrame) -> list[str]:
    """Pre-training seeds of the run (pretrain.seeds, per-entry seeds) and what intervals cover."""
    default = int((config.get("pretrain") or {}).get("seeds", 1))
    entries = [(e.get("strategies", []), e.get("pairs"), int(e.get("seeds", default)))
               for e in config.get("encoders", []) or []]
    most = max([default, *(n for *_, n in entries)])
    md = ["## Pre-training seeds", "",
          f"`pretrain.seeds`: {default}" + "".join(f"; {', '.join(st)} on {', '.join(pairs or ['every pair'])}: {n}"
                                                  for st, pairs, n in entries if n != default) + ".", ""]
    if most <= 1:
        md += ["One pre-training run per (base, strategy, pair): every interval and test in this report covers "
               "test sampling only, not training randomness.", ""]
    else:
        md += ["Every downstream result carries its pre-training seed (`seed` column: the seed index) and the "
               "tables pool the seeds of a strategy: mean ± std over pre-training seeds, n = the number of seeds. "
               "Mining intervals and tests resample seeds and documents jointly; curation's McNemar test adds the "
               "discordant pairs of every pre-training seed both strategies have; sentiment averages the "
               "fine-tuning/probe repeats (`repeat`) of each pre-training seed first; a probe's tests take one "
               "run per pre-training seed (McNemar on accuracy, a paired bootstrap over texts and seeds on F1), "
               "and NMT and fine-tuned sentiment are tested by Welch's t-test over pre-training seeds. A "
               "comparison with one seed on a side covers test sampling only (a sentiment result of one "
               "pre-training seed shows the spread of its repeats).", ""]
    return md


def primary_section(family: pd.DataFrame, settings: ReportSettings) -> list[str]:
    """Markdown of the primary family (see ``primary_family``)."""
    md = ["## Primary comparisons (pre-registered, Holm-corrected)", ""]
    if not settings.primary:
        return md + ["_No primary comparisons are configured (`report.primary`): every comparison in this report is "
                     "exploratory._", ""]
    if family.empty:
        return md + ["_None of the configured primary comparisons was evaluated in this run._", ""]
    m = int((~family["degenerate"] & family["p_value"].notna()).sum())
    md += [f"A family of {m} test(s) (`report.primary`). p: the stage's paired test (mining: cluster bootstrap "
           "resampling pre-training seeds and documents, paired across strategies; curation and sentiment accuracy: "
           "exact McNemar, discordant units added over the paired pre-training seeds, its standard error that of "
           "the paired difference), else Welch's t-test over seeds; p Holm: Holm-adjusted within "
           f"the family, read against α = {settings.alpha:g}; MDD: the smallest difference the test detects with "
           f"{settings.power:.0%} power at level α/m = {settings.alpha / max(m, 1):.4g}, from the observed standard "
           "error. Every other comparison in this report is exploratory (uncorrected).", ""]
    rows = [[r.task, r.dataset, r.pair, r.base, r.metric, f"{r.strategy} vs {r.reference}", fmt(r.value),
             fmt(r.reference_value), f"{r.delta:+.4f}",
             "" if math.isnan(r.ci_low) else f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]",
             f"{r.seeds} / {r.reference_seeds}", fmt_p(r.p_value), fmt_p(r.p_holm), fmt_p(r.mcnemar_p), fmt(r.mdd),
             r.verdict] for r in family.itertuples(index=False)]
    md += [markdown_table(["task", "dataset", "pair", "base", "metric", "comparison", "value", "reference", "Δ",
                           "95% CI of Δ", "seeds", "p", "p Holm", "McNemar p", "MDD", "verdict"], rows), ""]
    if (family["seeds"].le(1) | family["reference_seeds"].le(1)).any():
        md += ["**One pre-training seed** on at least one side: those intervals and tests cover test sampling only, "
               "not training randomness (set `pretrain.seeds`).", ""]
    resolution = family["min_p"].dropna()
    if len(resolution) and (resolution > settings.alpha / max(m, 1)).any():
        md += [f"**Warning:** with the configured resamples the smallest p is {resolution.max():.2g}, above the "
               f"strictest Holm threshold {settings.alpha / max(m, 1):.2g}: raise `mining.bootstrap.samples`.", ""]
    return md


def questions_section(agg: pd.DataFrame, significance: pd.DataFrame, settings: ReportSettings) -> tuple[list[str], pd.DataFrame]:
    """Markdown and a tidy table for ``settings.comparisons`` (e.g. lem_gold vs lem_ne)."""
    md, frames = [], []
    for comparison in settings.comparisons:
        strategy, reference = comparison["strategy"], comparison["reference"]
        table = comparison_table(agg, significance, settings, strategy, reference)
        md += [f"### {comparison.get('question') or f'{strategy} vs {reference}'}", "",
               f"`{strategy}` against `{reference}` (Δ = {strategy} − {reference}; marks as above).", ""]
        if table.empty:
            md += ["_Not evaluated on a common task, pair and base in this run._", ""]
            continue
        rows = [[r.task, r.dataset, r.pair, r.base, r.metric, fmt(r.value), fmt(r.baseline_value), fmt_delta(r._asdict()),
                 fmt(r.p_value)] for r in table.itertuples(index=False)]
        md += [markdown_table(["task", "dataset", "pair", "base", "metric", strategy, reference, "Δ", "p"], rows), ""]
        better = int(((table["direction"] == "better") & (table["significant"] == True)).sum())  # noqa: E712
        worse = int(((table["direction"] == "worse") & (table["significant"] == True)).sum())  # noqa: E712
        md += [f"{len(table)} comparisons: {int((table['direction'] == 'better').sum())} better ({better} "
               f"significant), {int((table['direction'] == 'worse').sum())} worse ({worse} significant).", ""]
        frames.append(table.drop(columns=["values", "runs"]).assign(reference=reference))
    return md, (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def degenerate_section(degenerate: pd.DataFrame) -> list[str]:
    if degenerate.empty:
        return []
    return ["**Degenerate systems, left out of this table and its counts** (their scores compare nothing):", "",
            markdown_table(DEGENERATE_COLUMNS, [list(r) for r in degenerate.itertuples(index=False)]), ""]


def degenerate_nmt_note(table: pd.DataFrame, threshold: float = 0.5) -> list[str]:
    """A warning when NMT systems left most test sentences untranslated (empty hypotheses, the
    mark of an undertrained model): their BLEU/chrF and its tests compare nothing."""
    empty = table[(table["task"] == "nmt") & (table["metric"] == EMPTY_METRIC)]
    bad = empty[empty["value"] > threshold]
    if bad.empty:
        return []
    names = ", ".join(f"{r.base}/{r.strategy} {r.pair} ({r.value:.0%})" for r in bad.itertuples(index=False))
    return [f"**Warning: {len(bad)} of {len(empty)} NMT systems translated more than {threshold:.0%} of the test "
            f"sentences as empty lines** ({names}): an undertrained model; their BLEU/chrF and its significance "
            "marks say nothing about the curated data. Train longer (`nmt.train.max_update`).", ""]


def mining_f1_note(config: dict) -> list[str]:
    """Which comparable set each F1 threshold was calibrated on, or that there is no F1."""
    calibration = (config.get("mining") or {}).get("calibration") or {}
    if not calibration:
        return ["F1: none. The primary mining metrics are recall (no threshold) and average precision; F1 needs a "
                "margin threshold calibrated away from the test set (`mining.calibration`).", ""]
    pairs = "; ".join(f"{pair}: {test} at the threshold that maximises F1 on {calib}"
                      for pair, sets in calibration.items() for test, calib in sets.items())
    return [f"F1 (`*_f1_calibrated`): per encoder and seed, {pairs} (never on the test set). Other sets: no F1.", ""]


def noise_recall_section(table: pd.DataFrame) -> list[str]:
    """Per noise kind, the share of its pairs each selection left out (curation ``noise_recall_*``)."""
    sub = table[(table["task"] == "curation") & table["metric"].str.startswith("noise_recall_")]
    if sub.empty:
        return []
    wide = sub.assign(kind=sub["metric"].str.replace("noise_recall_", "", regex=False)).pivot_table(
        index=["dataset", "pair", "base", "strategy"], columns="kind", values="value", aggfunc="mean").reset_index()
    wide.columns.name = None
    return ["Noise recall per kind (share of that kind's pairs the selection left out; the pool is held out from "
            "pre-training). Selections are tested against the reference strategy with the exact McNemar test on "
            "their per-pair keep/leave-out decisions (`decision_accuracy`).", "", frame_table(wide), ""]
