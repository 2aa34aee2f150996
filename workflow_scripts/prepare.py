#!/usr/bin/env python
"""Prepare one language pair: read, normalise, filter, dedupe, split, dependent mono corpus."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from lemflow.errors import input_warning
from lemflow.io import write_json, write_lines
from lemflow.languages import language_scripts
from lemflow.prepare import PrepareSettings, check_pair_scripts, dependent_mono, prepare_pairs
from lemflow.readers import read_parallel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pair", required=True, help="src-tgt, e.g. si-en")
    parser.add_argument("--corpus", required=True, help="JSON: {format, path, limit?} of the parallel corpus")
    parser.add_argument("--settings", required=True, help="JSON: data.prepare settings")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--extra-languages", default="[]",
                        help="JSON: the config's extra_languages (their scripts, for the script check)")
    parser.add_argument("--outdir", required=True, help="writes {split}.{lang}, mono.{split}.tsv, stats.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    src, tgt = args.pair.split("-")
    corpus = json.loads(args.corpus)
    settings = PrepareSettings.from_dict(json.loads(args.settings))
    pairs = read_parallel(corpus, src, tgt)
    logging.info("read %d pairs from %s", len(pairs), corpus["path"])
    shares = check_pair_scripts(pairs, corpus, src, tgt, language_scripts(json.loads(args.extra_languages)),
                                settings.min_script_share)
    logging.info("share of letters in each language's script: %s", shares)
    prepared = prepare_pairs(pairs, settings, args.seed, source=corpus["path"])
    prepared.stats["script_share"] = shares
    for warning in prepared.stats["warnings"]:
        input_warning("%s: %s", args.pair, warning)
    out = Path(args.outdir)
    for split, split_pairs in prepared.splits.items():
        write_lines(out / f"{split}.{src}", (s for s, _ in split_pairs))
        write_lines(out / f"{split}.{tgt}", (t for _, t in split_pairs))
    for split in ("train", "valid"):
        rows = dependent_mono([s for s, _ in prepared.splits[split]], [t for _, t in prepared.splits[split]],
                              src, tgt, args.seed)
        write_lines(out / f"mono.{split}.tsv", (f"{lang}\t{i}\t{text}" for lang, i, text in rows))
    stats = {"pair": args.pair, "source": corpus, "settings": settings.__dict__, **prepared.stats}
    write_json(out / "stats.json", stats)
    logging.info("counts: %s", json.dumps(prepared.stats["counts"]))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
