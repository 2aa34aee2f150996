"""The report's plots (matplotlib, Agg backend, imported when a plot is drawn): grouped bars per
metric, the at-a-glance heat map and wall time per stage."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .settings import ReportSettings, selected_metrics
from .tables import strategy_order


def slug(*parts: str) -> str:
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
