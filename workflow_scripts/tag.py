#!/usr/bin/env python
"""Tag prepared text files (one sentence per line) with a language's tagger directory:
one JSON object per line, {"words", "upos", "ner"} (BIO). The gold-NE copies of these tags
(strategies with `tags: gold`) come from tag_gold.py.
With --ner-model, the NEs come from that transformer NER directory (train_ner_transformer); with
--pos-model, the UPOS from that transformer POS directory (train_pos_transformer)."""
from __future__ import annotations

import argparse
import json
import logging
import time

from lemflow.gold_tags import without_gold_ner
from lemflow.io import read_lines_strict
from lemflow.tagger_stanza import load_tagger
from lemflow.tagging import tag_lines, write_tags


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="tagger directory (train_tagger output)")
    parser.add_argument("--lang", required=True)
    parser.add_argument("--inputs", nargs="+", required=True, help="prepared text files")
    parser.add_argument("--outputs", nargs="+", required=True, help="tags JSONL, one per input")
    parser.add_argument("--ner-source", choices=["auto", "predicted"], default="auto",
                        help="NEs of --outputs: auto = gold annotations where present, else the tagger's; "
                             "predicted = the tagger's")
    parser.add_argument("--ner-model", nargs="*", default=[],
                        help="transformer NER directory (its NEs replace the tagger directory's); none = stanza's")
    parser.add_argument("--pos-model", nargs="*", default=[],
                        help="transformer POS directory (its UPOS replaces the tagger directory's); none = stanza's")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if len(args.inputs) != len(args.outputs):
        parser.error("--inputs and --outputs differ in length")
    inputs = {path: read_lines_strict(path, allow_empty_file=True) for path in args.inputs}  # validate all first
    if len(args.ner_model) > 1 or len(args.pos_model) > 1:
        parser.error("--ner-model and --pos-model take at most one directory each")
    tagger, gold, fallback = load_tagger(args.model, args.lang)
    if args.pos_model or args.ner_model:
        # each layer from its own tagger, the directory's tagger only for a layer without a transformer
        # (with both transformers it is not run at all)
        from lemflow.tagger_transformer import TransformerNER, TransformerPOS, WithNER

        pos_tagger = TransformerPOS(args.pos_model[0]) if args.pos_model else tagger
        ner_tagger = TransformerNER(args.ner_model[0]) if args.ner_model else tagger
        logging.info("UPOS: %s; NER: %s", args.pos_model[0] if args.pos_model else "the tagger directory's",
                     args.ner_model[0] if args.ner_model else "the tagger directory's")
        tagger = WithNER(pos_tagger, ner_tagger)
    used_gold = without_gold_ner(gold) if gold is not None and args.ner_source == "predicted" else gold
    for path, out in zip(args.inputs, args.outputs):
        start = time.perf_counter()
        records, counts = tag_lines(inputs[path], tagger, used_gold, fallback, progress=True)
        write_tags(out, records)
        seconds = time.perf_counter() - start
        logging.info("%s -> %s: %s (%.1f sentences/s)", path, out, json.dumps(counts),
                     len(records) / seconds if seconds else 0.0)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
