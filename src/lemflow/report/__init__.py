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

Modules (each name below is re-exported here, so ``from lemflow.report import X`` works):

- ``settings``: ReportSettings (the config's ``report`` section), the metrics shown per task;
- ``reading``: results.csv, significance.csv and the paper's numbers, checked on the way in;
- ``comparison``: pooling seeds, deltas and tests, degenerate systems, the primary family;
- ``markdown``: number, cell, delta and table formatting;
- ``tables``: the markdown sections built from the compared results;
- ``plots``: bar charts, the at-a-glance heat map, wall time;
- ``analyses``: tagger accuracy, masking statistics, sentence-space drift, NE agreement, the
  embedding selection, input warnings, wall time;
- ``run_provenance``: config hash, git commit, package versions;
- ``build``: ``build_report``, which writes RESULTS.md and everything beside it.

The pre-training section is lemflow.report_pretraining (a module of its own).
"""
from __future__ import annotations

from .analyses import (MASKING_KEYS, embedding_selection_table, flatten, input_notes, masking_table,
                       neighbour_overlap, ner_agreement_table, sentence_space_table, tagging_table, walltime_table)
from .build import build_report
from .comparison import (DEGENERATE_COLUMNS, PRIMARY_COLUMNS, SYSTEM, aggregate, attach_paper, compare,
                         comparison_table, degenerate_systems, direction, primary_family, welch_p)
from .markdown import MARKS, fmt, fmt_cell, fmt_delta, frame_table, markdown_table
from .plots import glance_matrix, plot_glance, plot_metric, plot_walltime
from .reading import PAPER_COLUMNS, read_paper, read_results, read_significance
from .run_provenance import PACKAGES, provenance
from .settings import DEFAULT_METRICS, KEY, LOWER_IS_BETTER, ReportSettings, selected_metrics
from .tables import (degenerate_nmt_note, degenerate_section, glance, mining_f1_note, noise_recall_section,
                     primary_section, questions_section, seeds_section, strategy_order, task_tables)

__all__ = [
    "DEFAULT_METRICS", "DEGENERATE_COLUMNS", "KEY", "LOWER_IS_BETTER", "MARKS", "MASKING_KEYS", "PACKAGES",
    "PAPER_COLUMNS", "PRIMARY_COLUMNS", "SYSTEM", "ReportSettings", "aggregate", "attach_paper", "build_report",
    "compare", "comparison_table", "degenerate_nmt_note", "degenerate_section", "degenerate_systems", "direction",
    "embedding_selection_table", "flatten", "fmt", "fmt_cell", "fmt_delta", "frame_table", "glance",
    "glance_matrix", "input_notes", "markdown_table", "masking_table", "mining_f1_note", "neighbour_overlap",
    "ner_agreement_table", "noise_recall_section", "plot_glance", "plot_metric", "plot_walltime", "primary_family",
    "primary_section", "provenance", "questions_section", "read_paper", "read_results", "read_significance",
    "seeds_section", "selected_metrics", "sentence_space_table", "strategy_order", "tagging_table", "task_tables",
    "walltime_table", "welch_p",
]
