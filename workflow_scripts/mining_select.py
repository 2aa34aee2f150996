#!/usr/bin/env python
"""Choose the embedding prefix and layer of one base encoder on development parallel sets
(P@1 per candidate; lemflow.embedding_select). Writes a JSON that the embedding jobs read."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.embedding import embed, model_prefix
from lemflow.embedding_select import candidate_grid, select
from lemflow.errors import InputError
from lemflow.io import read_lines_strict, write_json


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="the untouched base encoder (Hugging Face directory)")
    parser.add_argument("--dev", nargs="+", required=True,
                        help="development sets as NAME=SOURCE_FILE,TARGET_FILE (line-aligned; never a test set)")
    parser.add_argument("--settings", required=True,
                        help="JSON: prefixes [str|null], layers [int], batch_size, max_length, max_sentences")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", required=True, help="JSON with every candidate's P@1 and the chosen {prefix, layer}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = json.loads(args.settings)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    dev_sets, files = {}, {}
    limit = settings.get("max_sentences") or None
    for spec in args.dev:
        name, _, paths = spec.partition("=")
        src_path, _, tgt_path = paths.partition(",")
        src, tgt = read_lines_strict(src_path), read_lines_strict(tgt_path)
        if len(src) != len(tgt):
            raise InputError(tgt_path, f"development set {name} is misaligned: {len(src)} vs {len(tgt)} lines",
                             min(len(src), len(tgt)) + 1)
        dev_sets[name] = (src[:limit], tgt[:limit])
        files[name] = [src_path, tgt_path]
    options = {k: settings[k] for k in ("batch_size", "max_length") if k in settings}

    def embed_fn(texts, *, prefix, layer):
        return embed(args.model, texts, prefix=prefix, layer=layer, **options)

    def resolve(prefix):
        return model_prefix(args.model) if prefix is None else prefix

    result = select(candidate_grid(settings["prefixes"], settings["layers"]), dev_sets,
                    embed_fn, resolve)
    for row in result["candidates"]:
        logging.info("prefix %r layer %d: mean P@1 %.4f %s", row["prefix"], row["layer"], row["mean"], row["p_at_1"])
    logging.info("chosen: %s", result["chosen"])
    write_json(args.out, {**result, "model": args.model, "dev": files})


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
