#!/usr/bin/env python
"""Entity dictionaries of tagged files for one tokenizer: per sentence the sub-word ids and
the (start, end, type) spans of its NE/NOUN/VERB entities; statistics per file."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.dictionary import build_dictionary
from lemflow.entities import write_dictionary
from lemflow.io import read_lines_strict, write_json
from lemflow.tagging import read_tags


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokenizer", required=True, help="Hugging Face tokenizer directory (the base encoder)")
    parser.add_argument("--lines", nargs="+", required=True, help="prepared text files")
    parser.add_argument("--tags", nargs="+", required=True, help="tags JSONL, one per text file")
    parser.add_argument("--outputs", nargs="+", required=True, help="dictionary JSONL, one per text file")
    parser.add_argument("--names", nargs="+", required=True, help="stats key of each file, e.g. train.si")
    parser.add_argument("--stats", required=True, help="stats JSON")
    parser.add_argument("--settings", default="{}", help="JSON: {verb_aux: bool}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not len(args.lines) == len(args.tags) == len(args.outputs) == len(args.names):
        parser.error("--lines, --tags, --outputs and --names must have the same length")
    settings = json.loads(args.settings)
    # Read and validate every input before the (longer) tokenisation.
    data = [(read_lines_strict(lines, allow_empty_file=True), read_tags(tags)) for lines, tags in zip(args.lines, args.tags)]
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    logging.info("tokenizer %s (%s, fast=%s)", args.tokenizer, type(tokenizer).__name__, tokenizer.is_fast)
    stats = {"tokenizer": args.tokenizer, "verb_aux": bool(settings["verb_aux"]), "files": {}}
    for (lines, records), tags, out, name in zip(data, args.tags, args.outputs, args.names):
        entries, file_stats = build_dictionary(tokenizer, lines, records, bool(settings["verb_aux"]),
                                               source=tags, progress=True)
        write_dictionary(out, entries)
        stats["files"][name] = file_stats
        logging.info("%s: %s", name, json.dumps(file_stats))
    write_json(args.stats, stats)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
