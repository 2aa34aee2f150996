#!/usr/bin/env python
"""Translate a clean test set with a trained model (fairseq-generate: beam, length penalty from
the settings) and score it with sacrebleu: BLEU, chrF, and spBLEU when the FLoRes-101
SentencePiece model is available offline. Writes the hypotheses and a JSON of scores."""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from lemflow.io import read_lines_strict, write_json, write_lines
from lemflow.nmt import check_fairseq, fairseq_bin, translate
from lemflow.nmt_eval import corpus_scores, spbleu_model_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pair", required=True, help="src-tgt: translate src into tgt")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--source", required=True, help="test source file (one sentence per line)")
    parser.add_argument("--references", required=True, nargs="+", help="one or more reference files")
    parser.add_argument("--settings", required=True, help="JSON: nmt settings {generate, spbleu_model}")
    parser.add_argument("--hyp", required=True, help="output: detokenised hypotheses")
    parser.add_argument("--scores", required=True, help="output: JSON of corpus scores")
    parser.add_argument("--fairseq-bin", default=None)
    parser.add_argument("--gpu", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    src, tgt = args.pair.split("-")
    bin_dir = check_fairseq(args.fairseq_bin or fairseq_bin())
    settings = json.loads(args.settings)
    source = read_lines_strict(args.source)
    refs = [read_lines_strict(path) for path in args.references]
    for path, ref in zip(args.references, refs):
        if len(ref) != len(source):
            from lemflow.errors import InputError

            raise InputError(path, f"{len(ref)} reference lines for {len(source)} source lines in {args.source}")
    spbleu_model = spbleu_model_path(settings.get("spbleu_model"))
    if spbleu_model is None:
        logging.warning("spBLEU left out: the FLoRes-101 SentencePiece model is not available offline "
                        "(set nmt.spbleu_model to a local copy of sacrebleu_tokenizer_spm.model)")
    work = Path(f"{args.hyp}.work")
    try:
        hyps = translate(args.model_dir, src, tgt, source, settings, bin_dir, work, sys.stderr, cpu=not args.gpu,
                         placeholder=refs[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scores = corpus_scores(hyps, refs, spbleu_model)
    scores.update({"sentences": len(source), "references": len(refs)})
    write_lines(args.hyp, hyps)
    write_json(args.scores, scores)
    logging.info("scores: %s", json.dumps({k: v for k, v in scores.items() if k != "signatures"}))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
