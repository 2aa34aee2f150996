"""Formatting primitives of RESULTS.md: numbers, cells with their spread, deltas with their
significance marks, p-values and markdown tables."""
from __future__ import annotations

import math
from typing import Sequence

import pandas as pd


MARKS = {("better", True): "▲", ("better", False): "△", ("worse", True): "▼", ("worse", False): "▽",
         ("equal", False): "=", ("equal", True): "="}


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


def fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return f"{p:.2g}" if p < 0.001 else f"{p:.4f}"


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
