"""The tidy results contract: the columns of every evaluation stage's ``R/<stage>/results.csv``
(one row per number; see docs/architecture.md) and the one CSV writer the stages use for it and
for their significance tables. The report reads these tables (lemflow.report.read_results)."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

RESULT_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "metric", "value", "ci_low", "ci_high", "seed"]
REPEAT = "repeat"  # optional column: a repeated run on one encoder (sentiment's fine-tuning/probe seed)


def _cell(value):
    """A missing number (None, NaN) is an empty cell."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def write_table(path: str | Path, columns: Sequence[str], rows: Iterable[Mapping]) -> None:
    """CSV (header, then one line per row; the csv module's dialect) written atomically. A row
    key outside ``columns`` is an error (a contract drifting), a missing one an empty cell."""
    from .io import atomic_open

    with atomic_open(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


def write_results(path: str | Path, rows: Iterable[Mapping], extra: Sequence[str] = ()) -> None:
    """A stage's tidy results table: columns ``RESULT_COLUMNS``, then a stage's optional ``extra`` ones."""
    write_table(path, [*RESULT_COLUMNS, *extra], rows)
