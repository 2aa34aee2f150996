#!/usr/bin/env python
"""Train one fairseq Transformer on a curated corpus: joint SentencePiece trained on the
selection, fairseq-preprocess, fairseq-train (in the fairseq environment, see
scripts/setup-fairseq). Writes <model-dir>/{spm.model, dict.<lang>.txt, checkpoint_best.pt}."""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from lemflow.io import atomic_path, read_lines_strict
from lemflow.nmt import check_fairseq, fairseq_bin, train_model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pair", required=True, help="src-tgt: translate src into tgt")
    parser.add_argument("--train-prefix", required=True, help="<prefix>.<src>, <prefix>.<tgt>: training pairs")
    parser.add_argument("--valid-prefix", required=True, help="clean validation pairs (best checkpoint)")
    parser.add_argument("--settings", required=True, help="JSON: nmt settings {spm, model, train}")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--fairseq-bin", default=None, help="bin/ of the fairseq env (default: $LEMFLOW_FAIRSEQ_BIN "
                                                            "or <repo>/.venv-fairseq/bin)")
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (default: CPU)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    src, tgt = args.pair.split("-")
    bin_dir = check_fairseq(args.fairseq_bin or fairseq_bin())
    settings = json.loads(args.settings)
    train = (read_lines_strict(f"{args.train_prefix}.{src}"), read_lines_strict(f"{args.train_prefix}.{tgt}"))
    valid = (read_lines_strict(f"{args.valid_prefix}.{src}"), read_lines_strict(f"{args.valid_prefix}.{tgt}"))
    logging.info("training %s->%s on %d pairs (valid %d)", src, tgt, len(train[0]), len(valid[0]))
    model_dir = Path(args.model_dir)
    with atomic_path(model_dir) as tmp:
        work = Path(f"{tmp}.work")
        try:
            train_model(tmp, src, tgt, train, valid, settings, args.seed, bin_dir, work, sys.stderr,
                        cpu=not args.gpu)
        finally:
            shutil.rmtree(work, ignore_errors=True)  # binarised data + checkpoints: bulky, not reread
    logging.info("model in %s", model_dir)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
