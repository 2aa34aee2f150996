#!/usr/bin/env python
"""Validate one mining evaluation set and write it in the form the mining stage reads.

comparable: {lang}.txt, {lang}.ids, gold.tsv, meta.json from a comparable corpus folder;
parallel: {lang}.txt, meta.json from line-aligned files.
"""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.mining_eval import write_comparable_corpus, write_parallel_corpus


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["comparable", "parallel"], required=True)
    parser.add_argument("--pair", required=True, help="lang1-lang2, e.g. si-en")
    parser.add_argument("--source", required=True,
                        help="comparable: the corpus folder; parallel: JSON {lang: file} for both languages")
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--distractor-documents", type=int, default=None,
                        help="comparable: keep the gold documents plus this many seeded other documents (default: all)")
    parser.add_argument("--max-sentences", type=int, default=None,
                        help="parallel: keep the first this many lines (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-bad-gold", action="store_true",
                        help="comparable: skip (with a warning) gold lines naming ids that do not exist, instead of stopping")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    lang1, lang2 = args.pair.split("-")
    if args.kind == "comparable":
        meta = write_comparable_corpus(args.source, lang1, lang2, args.outdir,
                                       distractor_documents=args.distractor_documents, seed=args.seed,
                                       skip_bad_gold=args.skip_bad_gold)
    else:
        files = json.loads(args.source)
        meta = write_parallel_corpus({lang1: files[lang1], lang2: files[lang2]}, args.outdir,
                                     max_sentences=args.max_sentences)
    logging.info("%s", json.dumps(meta, ensure_ascii=False)[:2000])


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
