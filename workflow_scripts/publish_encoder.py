#!/usr/bin/env python
"""Publish a continually pre-trained encoder with its base's full vocabulary and tokenizer
(trained on a trimmed vocabulary: the trained rows are scattered back into the base's matrices)."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.vocab_trim import publish_full


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trained", required=True, help="stage 2's best model (Hugging Face directory)")
    parser.add_argument("--base", required=True, help="the full base encoder it continued from")
    parser.add_argument("--trimmed", nargs="?", default=None,
                        help="the trimmed base it was trained from (vocab_trim.json); absent: published as it is")
    parser.add_argument("--out", required=True, help="published encoder directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    summary = publish_full(args.trained, args.base, args.out, trimmed_dir=args.trimmed)
    logging.info("published %s -> %s: %s", args.trained, args.out, json.dumps(summary))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
