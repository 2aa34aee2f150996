#!/usr/bin/env python
"""Trim a base encoder's vocabulary to the pieces its pre-training corpora use (the model that
continual pre-training trains; the published encoders get the full vocabulary back)."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.vocab_trim import trim_vocabulary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="full base encoder (Hugging Face directory)")
    parser.add_argument("--corpora", nargs="+", required=True, help="pre-training corpus files (one text per line)")
    parser.add_argument("--out", required=True, help="trimmed Hugging Face directory (with vocab_trim.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stats = trim_vocabulary(args.model, args.corpora, args.out)
    logging.info("trimmed %s -> %s: %s", args.model, args.out, json.dumps(stats)[:2000])


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
