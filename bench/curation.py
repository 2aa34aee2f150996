#!/usr/bin/env python
"""Curation quality on real data: inject labelled noise into a real parallel corpus, select the
top N by the margin score of an encoder and N at random, and print noise-detection precision /
recall of both side by side (the ratio is the encoder's gain over chance), plus what each
selection kept of every noise kind.

    .venv/bin/python bench/curation.py --encoder results/shared/base/e5 \
        --corpus ../shared/data/multiner/nerannotateddatasets.zip --pair si-en --limit 1000 --n 400
"""
from __future__ import annotations

import argparse
import time

from lemflow.curation import encoder_prefix, random_n, score_pairs, selection_quality, top_n
from lemflow.noise import NoiseSettings, inject_noise
from lemflow.prepare import normalise_text
from lemflow.readers import read_parallel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", required=True, help="Hugging Face encoder directory")
    parser.add_argument("--prefix", default=None,
                        help="prepended to every sentence (default: the encoder's lemflow_base.json, e.g. e5's 'query: ')")
    parser.add_argument("--corpus", required=True, help="multiNER zip/folder, or <prefix> of <prefix>.<lang> files")
    parser.add_argument("--format", default="multiner", choices=["multiner", "text", "tsv"])
    parser.add_argument("--pair", default="si-en")
    parser.add_argument("--third", default=None, help="a third language of the multiNER corpus (wrong-language noise)")
    parser.add_argument("--limit", type=int, default=1000, help="pairs read from the corpus")
    parser.add_argument("--n", type=int, default=400, help="N of the top-N")
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    src, tgt = args.pair.split("-")
    pairs = read_parallel({"format": args.format, "path": args.corpus, "limit": args.limit}, src, tgt)
    s_lines, t_lines = [normalise_text(s) for s, _ in pairs], [normalise_text(t) for _, t in pairs]
    third = None
    if args.third:
        third = [normalise_text(t) for _, t in read_parallel({"format": args.format, "path": args.corpus,
                                                               "limit": args.limit}, src, args.third)]
    noisy_s, noisy_t, labels = inject_noise(s_lines, t_lines, NoiseSettings(rate=args.rate), args.seed, third)
    start = time.time()
    prefix = encoder_prefix(args.encoder, args.prefix)
    scores = score_pairs(args.encoder, noisy_s, noisy_t, k=4, src_prefix=prefix, tgt_prefix=prefix)
    seconds = time.time() - start
    margin = selection_quality(top_n(scores, args.n), labels)
    chance = selection_quality(random_n(len(labels), args.n, args.seed), labels)
    print(f"{args.pair}: {len(labels)} pairs ({labels.count('clean')} clean), N = {args.n}, "
          f"scoring {seconds:.1f} s ({2 * len(labels) / seconds:.0f} sentences/s, 1 thread)")
    print(f"{'':12} {'precision':>9} {'recall':>7}   kept of each kind")
    for name, q in (("margin", margin), ("random", chance)):
        kept = ", ".join(f"{k} {q['kept_by_label'][k]}/{q['total_by_label'][k]}" for k in q["total_by_label"])
        print(f"{name:12} {q['precision']:9.3f} {q['recall']:7.3f}   {kept}")
    print(f"{'ratio':12} {margin['precision'] / chance['precision']:9.2f} {margin['recall'] / chance['recall']:7.2f}")


if __name__ == "__main__":
    main()
