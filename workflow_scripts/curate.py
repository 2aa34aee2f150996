#!/usr/bin/env python
"""Select the top-N pairs of a noisy corpus: by an encoder's margin scores (--model-dir), or
uniformly at random (--random, the baseline). Writes <outdir>/top<N>.<src|tgt> for every N,
<outdir>/scores.txt (encoder only: one margin score per noisy pair) and <outdir>/selection.json
(noise-detection precision/recall of each selection against the noise labels)."""
from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path


from lemflow.curation import check_sizes, encoder_prefix, random_n, score_pairs, selection_quality, top_n
from lemflow.io import read_lines_strict, write_json, write_lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pair", required=True, help="src-tgt, e.g. si-en")
    parser.add_argument("--noisy-prefix", required=True, help="<prefix>.<src>, <prefix>.<tgt>, <prefix>.labels")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model-dir", help="Hugging Face encoder directory used to score the pairs")
    what.add_argument("--random", action="store_true", help="random-N baseline (seeded)")
    parser.add_argument("--settings", required=True,
                        help="JSON: {sizes: [N...], k, embed: {layer, batch_size, max_length, prefix}}")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--select", default=None,
                        help="JSON written by mining_select.py: its chosen prefix and layer replace embed's")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    src, tgt = args.pair.split("-")
    settings = json.loads(args.settings)
    noisy_src = read_lines_strict(f"{args.noisy_prefix}.{src}")
    noisy_tgt = read_lines_strict(f"{args.noisy_prefix}.{tgt}")
    labels = read_lines_strict(f"{args.noisy_prefix}.labels")
    sizes = [int(n) for n in settings["sizes"]]
    check_sizes(sizes, len(noisy_src), f"config curation.sizes (noisy corpus {args.noisy_prefix}.{src})")
    out = Path(args.outdir)

    if args.random:
        selections = {n: random_n(len(noisy_src), n, args.seed) for n in sizes}
        method = "random"
    else:
        import torch

        torch.manual_seed(args.seed)
        embed = settings["embed"]  # the validated curation section (schema defaults)
        if args.select:  # prefix and layer chosen on development data
            with open(args.select, encoding="utf-8") as handle:
                embed = {**embed, **json.load(handle)["chosen"]}
        prefix = encoder_prefix(args.model_dir, embed.get("prefix"))
        logging.info("scoring %d pairs with %s (prefix %r)", len(noisy_src), args.model_dir, prefix)
        scores = score_pairs(args.model_dir, noisy_src, noisy_tgt, k=settings["k"],
                             layer=embed["layer"], batch_size=embed["batch_size"],
                             max_length=embed["max_length"], src_prefix=prefix, tgt_prefix=prefix,
                             precision=embed["precision"])
        write_lines(out / "scores.txt", (f"{s:.6f}" for s in scores))
        selections = {n: top_n(scores, n) for n in sizes}
        method = f"margin (k={settings['k']}) with {args.model_dir}"

    labelled = any(label != "unknown" for label in labels)
    report = {"method": method, "pairs": len(noisy_src), "sizes": {}}
    for n, selected in selections.items():
        write_lines(out / f"top{n}.{src}", (noisy_src[i] for i in selected))
        write_lines(out / f"top{n}.{tgt}", (noisy_tgt[i] for i in selected))
        quality = selection_quality(selected, labels) if labelled else {"selected": len(selected)}
        report["sizes"][str(n)] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                                   for k, v in quality.items()}
        logging.info("top%d: %s", n, json.dumps(report["sizes"][str(n)]))
    write_json(out / "selection.json", report)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
