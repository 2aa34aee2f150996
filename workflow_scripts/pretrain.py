#!/usr/bin/env python
"""One stage of continual pre-training (mono: MLM | LEM_mono; para: TLM | LEM_para).

Resumes from the last checkpoint in --work after a kill; with --nproc > 1 it relaunches itself
under torchrun (one process per GPU)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys

import torch


def without_option(argv: list[str], name: str) -> list[str]:
    """``argv`` without ``name VALUE`` / ``name=VALUE``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            out.append(arg)
    return out


def relaunch_under_torchrun(nproc: int) -> None:
    """Rerun this command under torchrun with ``nproc`` processes (one per GPU; gloo on a CPU).
    ``--nproc`` is left out of the relaunched arguments: torchrun's parser would take it for an
    abbreviation of its own ``--nproc-per-node``."""
    if nproc > 1 and "LOCAL_RANK" not in os.environ:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               sys.argv[0], *without_option(sys.argv[1:], "--nproc")]
        sys.exit(subprocess.call(cmd))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", choices=["mono", "para"], required=True, help="mono: stage 1; para: stage 2")
    parser.add_argument("--init", required=True, help="Hugging Face masked LM to start from")
    parser.add_argument("--pairs", nargs="+", required=True, help="pairs whose data to train on")
    parser.add_argument("--data-root", required=True, help="R/data")
    parser.add_argument("--dictionary-root", required=True, help="R/dictionary/<base>")
    parser.add_argument("--strategy", required=True, help="JSON: strategies.<name> from the config")
    parser.add_argument("--settings", required=True, help="JSON: the pretrain section of the config")
    parser.add_argument("--mono-source", choices=["dependent", "independent"], default="dependent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="best model (Hugging Face directory)")
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--loss", required=True, help="loss curve TSV")
    parser.add_argument("--work", required=True, help="checkpoint directory (kept until the stage completes)")
    parser.add_argument("--nproc", type=int, default=1, help="processes (GPUs); > 1 runs under torchrun")
    parser.add_argument("--tag", default="{}", help="JSON added to the metrics (base, strategy, pair)")
    parser.add_argument("--drift-base", help="the base encoder drift is measured from (with settings.drift)")
    parser.add_argument("--drift", help="drift curve TSV (with settings.drift): drift and dev P@1 every N steps")
    args = parser.parse_args(argv)
    relaunch_under_torchrun(args.nproc)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    threads = os.environ.get("LEMFLOW_THREADS")
    if threads:
        torch.set_num_threads(int(threads))

    from transformers import AutoTokenizer

    from lemflow.encoder_meta import read_meta
    from lemflow.io import write_json
    from lemflow.masking import needs_entities
    from lemflow.pretrain_data import build_examples, probe_pairs
    from lemflow.pretraining import MaskingSettings, StageSettings, train_stage, write_drift_tsv, write_loss_tsv

    settings = json.loads(args.settings)
    args.max_length = int(settings["max_length"])  # settings: the validated pretrain section (schema defaults)
    stage = StageSettings.from_dict(settings.get(args.stage))
    strategy = json.loads(args.strategy)
    masking = MaskingSettings.from_strategy(strategy, settings["mlm_probability"])
    freeze = bool(strategy.get("freeze_embeddings", settings["freeze_embeddings"]))
    tokenizer = AutoTokenizer.from_pretrained(args.init)
    common = dict(stage=args.stage, pairs=args.pairs, data_root=args.data_root, dictionary_root=args.dictionary_root,
                  with_entities=needs_entities(masking.masking), max_length=args.max_length, seed=args.seed,
                  mono_source=args.mono_source)
    train = build_examples(tokenizer, split="train", max_examples=stage.max_examples, **common)
    valid = build_examples(tokenizer, split="valid", max_examples=stage.max_valid_examples, **common)
    logging.info("%s stage: %d training and %d validation examples, masking %s", args.stage, len(train), len(valid),
                 masking)
    fresh_head = read_meta(args.init).get("fresh_mlm_head", False)
    head_warmup = int(settings["head_warmup_steps"]) if fresh_head else 0
    drift = None
    if settings.get("drift") and args.drift_base:
        from lemflow.drift import DriftProbe

        d = settings["drift"]
        src, tgt = probe_pairs(args.data_root, args.pairs[0], int(d["probe_pairs"]))
        drift = (DriftProbe(args.drift_base, src, tgt, neighbours=int(d["neighbours"]), max_length=args.max_length,
                            precision=settings["precision"]), int(d["every"]))
    metrics = train_stage(
        init_model=args.init, train_examples=train, valid_examples=valid, masking=masking, stage=stage,
        out_dir=args.out, work_dir=args.work, seed=args.seed, precision=settings["precision"],
        head_warmup_steps=head_warmup, freeze_embeddings=freeze, drift=drift,
        tag={**json.loads(args.tag), "stage": args.stage},
    )
    if not metrics.get("is_main_process", True):
        return
    write_loss_tsv(args.loss, metrics.pop("loss_rows"))
    if args.drift:
        write_drift_tsv(args.drift, metrics.pop("drift_rows", []), stage=args.stage)
    write_json(args.metrics, metrics)
    shutil.rmtree(args.work, ignore_errors=True)
    logging.info("best validation loss %s after %s steps; %.0f tokens/s", metrics["best_eval_loss"],
                 metrics["global_steps"], metrics["tokens_per_second"] or 0)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
