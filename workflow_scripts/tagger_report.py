#!/usr/bin/env python
"""Tagger report: UPOS accuracy and entity-level NER precision/recall/F1 of every language's
tagger on its held-out annotations (report.json keyed by language, and a tidy results.csv)."""
from __future__ import annotations

import argparse
import csv
import json
import logging
import time

from lemflow.io import atomic_open, read_json, write_json
from lemflow.tagger_stanza import load_tagger, read_annotated
from lemflow.tagging import evaluate_tagger

COLUMNS = ["task", "dataset", "pair", "base", "strategy", "metric", "value", "ci_low", "ci_high", "seed"]
METRICS = ["upos_accuracy", "ner_precision", "ner_recall", "ner_f1"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", required=True, help="tagger directories")
    parser.add_argument("--langs", nargs="+", required=True, help="language of each directory")
    parser.add_argument("--json", required=True)
    parser.add_argument("--csv", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    report, rows = {}, []
    for model, lang in zip(args.models, args.langs):
        info = read_json(f"{model}/backend.json")
        heldout = read_annotated(f"{model}/heldout.jsonl")
        entry = {"backend": info["backend"], "heldout": info.get("heldout", {})}
        if heldout:
            tagger, _gold, fallback = load_tagger(model, lang)
            start = time.perf_counter()
            entry.update(evaluate_tagger(tagger, heldout, fallback))
            entry["seconds"] = round(time.perf_counter() - start, 3)
        else:
            entry["note"] = "no held-out annotations configured"
        report[lang] = entry
        logging.info("%s: %s", lang, json.dumps(entry, ensure_ascii=False))
        for metric in METRICS:
            if metric in entry:
                rows.append({"task": "tagging", "dataset": "heldout", "pair": lang, "base": "",
                             "strategy": info["backend"], "metric": metric, "value": entry[metric],
                             "ci_low": "", "ci_high": "", "seed": ""})
    write_json(args.json, report)
    with atomic_open(args.csv, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
