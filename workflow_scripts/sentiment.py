#!/usr/bin/env python
"""Code-mixed sentiment classification.

  split    read and validate a pair's CSVs; write the train/dev/test split every encoder uses
  train    fine-tune one encoder once per seed (mode finetune), or fit a linear probe on its
           frozen features once per seed (mode probe); write a metrics.json per seed
  collect  gather metrics.json files into the tidy results CSV (+ McNemar tests of probe runs)
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from lemflow.io import atomic_open, read_json, write_json
from lemflow.readers import read_sentiment_csv
from lemflow.results import REPEAT, write_results, write_table
from lemflow.sentiment import fine_tune, prepare_splits, probe, significance_rows, tidy_rows



def cmd_split(args):
    spec = json.loads(args.data)
    settings = json.loads(args.settings)
    allowed = set(settings["labels"]) if settings.get("labels") else None
    paths = {name: spec[name] for name in ("train", "dev", "test") if spec.get(name)}
    frames = {name: read_sentiment_csv(path, allowed) for name, path in paths.items()}
    splits, labels, source = prepare_splits(
        frames["train"], frames["dev"], frames.get("test"), labels=settings.get("labels"),
        test_fraction=settings["test_fraction"], max_train=settings.get("max_train"),
        max_eval=settings.get("max_eval"), seed=args.seed, paths=paths)
    out = Path(args.outdir)
    for name, frame in splits.items():
        with atomic_open(out / f"{name}.csv", newline="") as handle:
            frame.to_csv(handle, index=False, quoting=csv.QUOTE_NONNUMERIC)
    info = {"pair": args.pair, "labels": labels, "test_source": source, "files": paths,
            "sizes": {name: len(frame) for name, frame in splits.items()},
            "label_counts": {name: frame["label"].value_counts().sort_index().to_dict() for name, frame in splits.items()}}
    write_json(out / "split.json", info)
    logging.info("split %s: %s", args.pair, info["sizes"])


def cmd_train(args):
    import torch

    split_dir = Path(args.split_dir)
    info = read_json(split_dir / "split.json")
    splits = {name: read_sentiment_csv(split_dir / f"{name}.csv") for name in ("train", "dev", "test")}
    settings = json.loads(args.settings)
    if args.threads:
        torch.set_num_threads(args.threads)
    if len(args.seed) != len(args.output):
        raise SystemExit("--seed and --output need the same number of values")
    if settings.get("mode") == "probe":
        runs = probe(args.encoder, splits, info["labels"], settings, args.seed, log=logging.info)
    else:
        runs = None
    for i, (seed, output) in enumerate(zip(args.seed, args.output)):
        metrics = runs[i] if runs is not None else fine_tune(args.encoder, splits, info["labels"], settings, seed,
                                                             log=logging.info)
        metrics.update({"pair": args.pair, "base": args.base, "strategy": args.strategy,
                        "encoder": args.encoder, "test_source": info["test_source"]})
        write_json(output, metrics)
        logging.info("seed %d test: %s", seed, metrics["test"])


def cmd_collect(args):
    rows = []
    for path in args.metrics:
        metrics = read_json(path)
        rows.extend(tidy_rows(metrics, pair=metrics["pair"], base=metrics["base"], strategy=metrics["strategy"],
                              dataset=args.dataset.get(metrics["pair"], "codemixed")))
    write_results(args.output, rows, extra=(REPEAT,))  # seed: pre-training seed index; repeat: probe/fine-tuning seed
    if args.significance:
        runs = [read_json(path) for path in args.metrics]
        significance = significance_rows(runs, reference=args.reference, dataset=args.dataset)
        columns = ["task", "dataset", "pair", "base", "strategy", "reference", "metric", "value", "reference_value",
                   "difference", "p_value", "significant", "test", "mcnemar_p", "only_strategy", "only_reference",
                   "ci_low", "ci_high", "runs", "seeds", "reference_seeds", "se"]
        write_table(args.significance, columns, significance)
        logging.info("%d significance rows (probe runs: McNemar on accuracy, bootstrap on F1) against %s",
                     len(significance), args.reference)
    logging.info("%d rows from %d runs", len(rows), len(args.metrics))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("split", help="validate the CSVs and write the shared split")
    p.add_argument("--pair", required=True)
    p.add_argument("--data", required=True, help="JSON {train, dev, test?} CSV paths")
    p.add_argument("--settings", required=True, help="JSON: labels, test_fraction, max_train, max_eval")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--outdir", required=True, help="writes train.csv, dev.csv, test.csv, split.json")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("train", help="fine-tune one encoder (or fit a linear probe on it), once per seed")
    p.add_argument("--pair", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--strategy", required=True)
    p.add_argument("--encoder", required=True, help="Hugging Face model directory")
    p.add_argument("--split-dir", required=True)
    p.add_argument("--settings", required=True, help="JSON: training settings (see lemflow.sentiment)")
    p.add_argument("--seed", type=int, nargs="+", required=True, help="one fine-tuning run per seed")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--output", nargs="+", required=True, help="metrics.json of each seed, in --seed order")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("collect", help="metrics.json files -> tidy results CSV")
    p.add_argument("--dataset", type=json.loads, default={}, help='JSON: {"pair": dataset name} (default codemixed)')
    p.add_argument("--output", required=True)
    p.add_argument("--significance", default=None,
                   help="CSV of exact McNemar tests (probe runs, which keep test predictions) against --reference")
    p.add_argument("--reference", required=True, help="strategy every other strategy is tested against (report.baseline)")
    p.add_argument("metrics", nargs="*", help="metrics.json files (none: a table with its header only)")
    p.set_defaults(func=cmd_collect)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    args.func(args)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
