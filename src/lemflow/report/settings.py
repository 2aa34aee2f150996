"""The report's settings (the config's ``report`` section) and which metrics it shows per task."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd


KEY = ["task", "dataset", "pair", "base", "strategy", "metric"]


LOWER_IS_BETTER = re.compile(r"error|xsim|loss|ter\b|perplexity|empty", re.IGNORECASE)


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


def selected_metrics(table: pd.DataFrame, task: str, settings: ReportSettings) -> list[str]:
    present = list(dict.fromkeys(table.loc[table["task"] == task, "metric"]))
    wanted = settings.metrics.get(task)
    if wanted:
        chosen = [m for m in wanted if m in present]
        if chosen:
            return chosen
    return present
