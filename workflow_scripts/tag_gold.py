#!/usr/bin/env python
"""Gold-NE copies of tag files (strategies with `tags: gold`): each sentence keeps its words and
UPOS from the tagger's file and takes the NEs of the tagger directory's gold annotations where the
sentence has them over the same words. A job of its own, so that adding a gold-NE strategy to a run
adds these files without re-tagging (and so retraining) anything."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.gold_tags import with_gold_ner
from lemflow.io import read_lines_strict
from lemflow.tagger_stanza import load_gold_index
from lemflow.tagging import read_tags, write_tags


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="tagger directory with gold annotations (backend gold)")
    parser.add_argument("--inputs", nargs="+", required=True, help="prepared text files (one sentence per line)")
    parser.add_argument("--tags", nargs="+", required=True, help="the tagger's tags JSONL of each input (tag.py)")
    parser.add_argument("--outputs", nargs="+", required=True, help="gold-NE tags JSONL, one per input")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not len(args.inputs) == len(args.tags) == len(args.outputs):
        parser.error("--inputs, --tags and --outputs differ in length")
    gold = load_gold_index(args.model)
    if gold is None:
        parser.error(f"--model: the tagger {args.model} has no gold annotations (backend gold)")
    for text, tags, out in zip(args.inputs, args.tags, args.outputs):
        lines = read_lines_strict(text, allow_empty_file=True)
        records = read_tags(tags)
        if len(records) != len(lines):
            parser.error(f"{tags}: {len(records)} tagged sentences for the {len(lines)} lines of {text}")
        gold_records, replaced = with_gold_ner(records, lines, gold)
        write_tags(out, gold_records)
        logging.info("%s -> %s: %s", tags, out, json.dumps({"sentences": len(records), "gold_ner_sentences": replaced}))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
