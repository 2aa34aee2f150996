"""Reading the report's inputs: the stages' tidy results.csv and significance.csv tables and the
paper's numbers, each checked on the way in (a missing column or a non-number is an InputError)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from lemflow.errors import InputError
from lemflow.results import REPEAT, RESULT_COLUMNS


PAPER_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "metric", "value", "source"]


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
