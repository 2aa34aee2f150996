#!/usr/bin/env python
"""Fine-tune a transformer tagger (a token classifier on a base encoder) on the annotations of one
or more languages: NER (--scheme ner, the ner layer of tagging.languages.<lang>) or UPOS
(--scheme upos, the pos layer). The held-out part of each language is held out exactly as the
stanza tagger directory holds it out, so both backends are scored on the same sentences."""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.io import atomic_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="base encoder directory (R/base/<name>)")
    parser.add_argument("--langs", nargs="+", required=True, help="languages trained together (one model)")
    parser.add_argument("--scheme", choices=["ner", "upos"], default="ner", help="labels: BIO NER or UPOS")
    parser.add_argument("--settings", required=True,
                        help="JSON: {languages: {lang: tagging.languages.<lang>}, transformer: tagging.transformer"
                             " (or tagging.transformer_pos)}")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--outdir", required=True, help="model directory (model/, ner.json or pos.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import torch

    from lemflow import tagger_transformer

    if args.threads:
        torch.set_num_threads(args.threads)
    scheme = tagger_transformer.SCHEMES[args.scheme]
    layer = "ner" if scheme is tagger_transformer.NER else "pos"
    settings = json.loads(args.settings)
    cfg = {**tagger_transformer.DEFAULTS, **settings.get("transformer", {})}
    # every language's annotations are read (and validated) before any training
    data = {lang: tagger_transformer.split_data(settings["languages"][lang], lang, args.seed,
                                                float(cfg["dev_fraction"]), layer) for lang in args.langs}
    for lang, parts in data.items():
        logging.info("%s %s: %s", lang, layer, {name: len(items) for name, items in parts.items()})
    sizes = {lang: tuple(len(items) for items in parts.values()) for lang, parts in data.items()}
    if layer == "ner" and len(set(sizes.values())) > 1:
        # parallel annotations (multiNER) of equal size get the same seeded split in every language, so
        # no translation of a held-out sentence is trained on; sources of different sizes do not
        logging.warning("languages trained together have differently sized NER sources %s: if they are "
                        "parallel, translations of held-out sentences may be in the training data", sizes)
    with atomic_path(args.outdir) as tmp:
        info = tagger_transformer.train(args.base, data, cfg, args.seed, tmp, scheme=scheme)
    metric = scheme.metric
    logging.info("%s model %s: best step %d of %d, dev %s %.4f %s, %.0f s (CPU %.0f s)", args.scheme, args.outdir,
                 info["best_step"], info["steps"], metric, info[f"dev_{metric}"],
                 {lang: round(s[metric], 4) for lang, s in info["dev"].items()}, info["train_seconds"],
                 info["train_cpu_seconds"])


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
