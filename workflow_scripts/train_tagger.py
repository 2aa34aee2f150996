#!/usr/bin/env python
"""Build one language's tagger directory: train stanza POS/NER offline (or record official
stanza models, gold annotations or lexicons) and keep the held-out annotations for the report."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.io import atomic_path
from lemflow.tagger_stanza import build_tagger_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--settings", required=True,
                        help="JSON: {language: tagging.languages.<lang>, train: tagging.train, ner_fallback}")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--outdir", required=True, help="tagger directory (backend.json, models, heldout.jsonl)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import torch

    torch.manual_seed(args.seed)
    settings = json.loads(args.settings)
    with atomic_path(args.outdir) as tmp:
        info = build_tagger_dir(args.lang, settings["language"], settings, args.seed, tmp)
    logging.info("tagger for %s: %s", args.lang, json.dumps(info, ensure_ascii=False))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
