#!/usr/bin/env python
"""Collect curation precision/recall and NMT scores of every selection into the tidy
R/nmt/results.csv, with sacrebleu paired-bootstrap CIs and significance vs the reference
strategy and of each extra comparison's strategy vs its reference (R/nmt/significance.csv)."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.io import read_json, read_lines_strict
from lemflow.nmt_eval import SIGNIFICANCE_COLUMNS, nmt_results
from lemflow.results import write_results, write_table
from lemflow.seeds import split_seeded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", required=True,
                        help="JSON list of {pair, n, base, strategy, selection, scores, hyp} (paths)")
    parser.add_argument("--test-sets", required=True, help="JSON {pair: {name, references: [paths]}}")
    parser.add_argument("--settings", required=True,
                        help="JSON {reference_strategy, bootstrap_samples, comparisons: [{strategy, reference}]}")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--significance", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = json.loads(args.settings)
    entries = []
    for item in json.loads(args.manifest):
        entries.append({"pair": item["pair"], "n": item["n"], "base": item["base"], "strategy": item["strategy"],
                        "selection": read_json(item["selection"]),
                        "scores": read_json(item["scores"]) if item.get("scores") else None,
                        "hyps": read_lines_strict(item["hyp"], allow_empty_file=True) if item.get("hyp") else None})
    references = {pair: {"name": spec["name"], "refs": [read_lines_strict(p) for p in spec["references"]]}
                  for pair, spec in json.loads(args.test_sets).items()}
    rows, significance = nmt_results(entries, references, reference_strategy=settings["reference_strategy"],
                                     n_samples=settings["bootstrap_samples"], seed=args.seed)
    for comparison in settings.get("comparisons", []):
        if comparison["reference"] == settings["reference_strategy"]:
            continue  # already tested against the reference strategy
        pair_of = [e for e in entries  # every pre-training seed of either strategy
                   if split_seeded(e["strategy"])[0] in (comparison["strategy"], comparison["reference"])]
        _, extra = nmt_results(pair_of, references, reference_strategy=comparison["reference"],
                               n_samples=settings["bootstrap_samples"], seed=args.seed)
        significance += extra
    write_results(args.results, rows)
    write_table(args.significance, SIGNIFICANCE_COLUMNS, significance)
    logging.info("%d result rows, %d significance rows", len(rows), len(significance))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
