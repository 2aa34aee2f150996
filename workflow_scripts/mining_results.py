#!/usr/bin/env python
"""Gather every mining evaluation into the tidy results table and the significance table
(cluster-bootstrap CIs; F1 at thresholds calibrated on another set where mining.calibration names
one; each strategy against the reference strategy, and each extra comparison's strategy against
its reference: paired cluster bootstrap over pre-training seeds and documents, exact McNemar)."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.io import read_json
from lemflow.seeds import split_seeded
from lemflow.mining_eval import SIGNIFICANCE_COLUMNS, tabulate
from lemflow.results import write_results, write_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evals", nargs="+", required=True, help="eval.json files written by mine.py")
    parser.add_argument("--settings", required=True,
                        help="JSON: bootstrap {samples, confidence}, reference_strategy, comparisons [{strategy, reference}], "
                             "calibration {pair: {dataset: calibration dataset}}")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--results", required=True, help="tidy CSV (task,dataset,pair,base,strategy,metric,value,ci_low,ci_high,seed)")
    parser.add_argument("--significance", required=True, help="CSV: each strategy vs the reference, per metric")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = json.loads(args.settings)
    evaluations = [read_json(path) for path in args.evals]
    rows, significance = tabulate(evaluations, seed=args.seed, samples=settings["bootstrap"]["samples"],
                                  confidence=settings["bootstrap"]["confidence"],
                                  reference=settings["reference_strategy"], calibration=settings.get("calibration"))
    for comparison in settings.get("comparisons", []):
        if comparison["reference"] == settings["reference_strategy"]:
            continue  # already tested against the reference strategy
        pair_of = [e for e in evaluations
                   if split_seeded(e["strategy"])[0] in (comparison["strategy"], comparison["reference"])]
        _, extra = tabulate(pair_of, seed=args.seed, samples=settings["bootstrap"]["samples"],
                            confidence=settings["bootstrap"]["confidence"], reference=comparison["reference"])
        significance += extra
    write_results(args.results, rows)
    write_table(args.significance, SIGNIFICANCE_COLUMNS, significance)
    logging.info("%d result rows, %d significance rows from %d evaluations", len(rows), len(significance), len(evaluations))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
