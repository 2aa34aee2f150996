#!/usr/bin/env python
"""Embed one-sentence-per-line files with a Hugging Face encoder (mean pooling, L2-normalised), one
.npy array per file; the encoder is loaded once for all of them (lemflow.embedding_files)."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.embedding import model_prefix
from lemflow.embedding_files import embed_files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="Hugging Face model + tokenizer directory")
    parser.add_argument("--inputs", nargs="+", required=True, help="files of one sentence per line (UTF-8)")
    parser.add_argument("--outputs", nargs="+", required=True, help=".npy files (n x d), one per input")
    parser.add_argument("--settings", default="{}", help="JSON: layer, batch_size, max_length, dtype, prefix (null: the model's lemflow_base.json prefix)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--select", default=None,
                        help="JSON written by mining_select.py: its chosen prefix and layer replace the settings'")
    args = parser.parse_args(argv)
    if len(args.inputs) != len(args.outputs):
        parser.error("--inputs and --outputs differ in length")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = json.loads(args.settings)
    if args.select:  # prefix and layer chosen on development data
        with open(args.select, encoding="utf-8") as handle:
            settings.update(json.load(handle)["chosen"])
    if settings.get("prefix") is None:  # not configured: the model's own (lemflow_base.json), else none
        settings["prefix"] = model_prefix(args.model)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    embed_files(args.model, args.inputs, args.outputs, progress=True, **settings)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
