"""The report's statistics: pooling seeds (``aggregate``), each strategy against the baseline or
another strategy (``compare``, ``comparison_table``), degenerate systems, and the pre-registered
primary family with Holm's correction and minimum detectable differences (``primary_family``).
The rules they follow are in the package docstring (lemflow.report)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from lemflow.nmt_eval import EMPTY_METRIC
from lemflow.results import REPEAT

from .markdown import fmt
from .settings import KEY, ReportSettings, selected_metrics


def aggregate(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, dataset, pair, base, strategy, metric): mean, std (ddof 1) and n of its
    values, the values, ``seeds`` (pre-training seeds), ``runs`` (every row's value) and the
    interval of a single-row result. The values are one per pre-training seed (the mean of its
    repeats) when there are several seeds, else the repeats of the one seed (lemflow.report docstring)."""
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
    from lemflow.stats import welch

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
            from lemflow.stats import welch

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


SYSTEM = ["task", "dataset", "pair", "base", "strategy"]


DEGENERATE_COLUMNS = [*SYSTEM, "reason"]


def degenerate_systems(table: pd.DataFrame, empty_limit: float = 0.5) -> pd.DataFrame:
    """Systems whose scores compare nothing: NMT systems that left more than ``empty_limit`` of
    the test sentences empty, and classifiers that predicted one class in most of their runs
    (sentiment ``predicted_majority_share`` = 1)."""
    from lemflow.stats import degenerate_reason

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


def degenerate_keys(degenerate: pd.DataFrame) -> set:
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

    from lemflow.stats import holm, minimum_detectable_difference, welch_se

    bad = degenerate_keys(degenerate if degenerate is not None else pd.DataFrame(columns=DEGENERATE_COLUMNS))
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
