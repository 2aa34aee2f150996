#!/usr/bin/env python
"""Prepare an independent monolingual corpus: normalise, filter, dedupe, train/valid split."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from lemflow.io import write_json, write_lines
from lemflow.errors import input_warning
from lemflow.languages import check_script, language_scripts
from lemflow.prepare import PrepareSettings, prepare_mono
from lemflow.readers import read_mono_text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--input", required=True, help="one sentence per line")
    parser.add_argument("--settings", required=True, help="JSON: data.prepare settings")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--extra-languages", default="[]",
                        help="JSON: the config's extra_languages (their scripts, for the script check)")
    parser.add_argument("--outdir", required=True, help="writes {lang}.train.txt, {lang}.valid.txt, {lang}.stats.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = PrepareSettings.from_dict(json.loads(args.settings))
    lines = read_mono_text(args.input)
    script = language_scripts(json.loads(args.extra_languages)).get(args.lang)
    counts_script = check_script(lines, args.lang, script, settings.min_script_share, args.input)
    splits, counts = prepare_mono(lines, settings, args.seed)
    counts["script_share"] = counts_script
    if counts["removed_characters"]:
        input_warning("%s: normalisation removed %d control/format characters", args.input, counts["removed_characters"])
    for split, n in (("train", counts["train_sentences"]), ("valid", counts["valid_sentences"])):
        if n == 0 and (split == "train" or settings.valid_fraction > 0):
            input_warning("%s: the %s split is empty (%d sentences survived the filters)", args.input, split,
                          counts["after_dedupe"])
    out = Path(args.outdir)
    for split, lines in splits.items():
        write_lines(out / f"{args.lang}.{split}.txt", lines)
    write_json(out / f"{args.lang}.stats.json", {"lang": args.lang, "source": args.input, "counts": counts})


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
