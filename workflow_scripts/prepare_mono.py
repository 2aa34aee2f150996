#!/usr/bin/env python
"""Prepare an independent monolingual corpus: normalise, filter, dedupe, train/valid split."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from lemflow.io import write_json, write_lines
from lemflow.prepare import PrepareSettings, prepare_mono
from lemflow.readers import read_mono_text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--input", required=True, help="one sentence per line")
    parser.add_argument("--settings", required=True, help="JSON: data.prepare settings")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--outdir", required=True, help="writes {lang}.train.txt, {lang}.valid.txt, {lang}.stats.json")
    args = parser.parse_args(argv)
    settings = PrepareSettings.from_dict(json.loads(args.settings))
    splits, counts = prepare_mono(read_mono_text(args.input), settings, args.seed)
    out = Path(args.outdir)
    for split, lines in splits.items():
        write_lines(out / f"{args.lang}.{split}.txt", lines)
    write_json(out / f"{args.lang}.stats.json", {"lang": args.lang, "source": args.input, "counts": counts})


if __name__ == "__main__":
    main()
