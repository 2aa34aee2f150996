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
from pathlib import Path

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


def load_entries(tokenizer, masking, data_root, dict_root, corpus, split, lang, text_file):
    """Dictionary entries of one corpus side (ids + entity spans) for a masking strategy that needs
    entities, else plain tokenisation (no tags needed)."""
    from lemflow.pretraining import read_dictionary, tokenize_lines
    from lemflow.io import read_lines_strict
    from lemflow.masking import needs_entities

    if needs_entities(masking.masking):
        return read_dictionary(Path(dict_root) / corpus / f"{split}.{lang}.jsonl" if corpus != "mono_indep"
                               else Path(dict_root) / "mono_indep" / f"{lang}.{split}.jsonl")
    return tokenize_lines(tokenizer, read_lines_strict(text_file, allow_empty_file=True))


def build_examples(args, tokenizer, masking, split, max_examples=0):
    """Training examples of every pair in ``args.pairs``; ``max_examples`` (> 0) is a seeded
    subsample per pair (so a joint model sees each pair's subsample that a pair model sees)."""
    from lemflow.pretraining import mono_example, mono_rows, pair_example, special_layout, subsample

    layout = special_layout(tokenizer)
    data_root = Path(args.data_root)
    examples = []
    if args.stage in ("head", "mono") and args.mono_source == "independent":
        langs = sorted({lang for pair in args.pairs for lang in pair.split("-")})
        for lang in langs:
            entries = load_entries(tokenizer, masking, data_root, args.dictionary_root, "mono_indep", split, lang,
                                   data_root / "mono_indep" / f"{lang}.{split}.txt")
            examples += [mono_example(layout, e["ids"], e["spans"], args.max_length) for e in entries]
        order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(args.seed)).tolist()
        return subsample([examples[i] for i in order], max_examples, args.seed)
    for pair in args.pairs:
        pair_examples = []
        src, tgt = pair.split("-")
        sides = {lang: load_entries(tokenizer, masking, data_root, args.dictionary_root, pair, split, lang,
                                    data_root / pair / f"{split}.{lang}") for lang in (src, tgt)}
        if args.stage in ("head", "mono"):
            for lang, index in mono_rows(data_root / pair / f"mono.{split}.tsv"):
                e = sides[lang][index]
                pair_examples.append(mono_example(layout, e["ids"], e["spans"], args.max_length))
        else:
            for a, b in zip(sides[src], sides[tgt]):
                pair_examples.append(pair_example(layout, a["ids"], a["spans"], b["ids"], b["spans"], args.max_length))
        examples += subsample(pair_examples, max_examples, args.seed)
    return examples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", choices=["head", "mono", "para"], required=True,
                        help="head: MLM head only (body frozen throughout) on the mono data, for a base "
                             "whose MLM head is new; mono: stage 1; para: stage 2")
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
    args = parser.parse_args(argv)
    relaunch_under_torchrun(args.nproc)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    threads = os.environ.get("LEMFLOW_THREADS")
    if threads:
        torch.set_num_threads(int(threads))

    from transformers import AutoTokenizer

    from lemflow.io import write_json
    from lemflow.pretraining import MaskingSettings, StageSettings, train_stage, write_loss_tsv

    settings = json.loads(args.settings)
    args.max_length = int(settings.get("max_length", 128))
    stage = StageSettings.from_dict(settings.get(args.stage))
    masking = MaskingSettings.from_strategy(json.loads(args.strategy), settings.get("mlm_probability", 0.15))
    tokenizer = AutoTokenizer.from_pretrained(args.init)
    train = build_examples(args, tokenizer, masking, "train", stage.max_examples)
    valid = build_examples(args, tokenizer, masking, "valid", stage.max_valid_examples)
    logging.info("%s stage: %d training and %d validation examples, masking %s", args.stage, len(train), len(valid),
                 masking)
    meta_file = Path(args.init) / "lemflow_base.json"
    fresh_head = meta_file.exists() and json.loads(meta_file.read_text()).get("fresh_mlm_head", False)
    head_warmup = int(settings.get("head_warmup_steps", 100)) if fresh_head else 0
    if args.stage == "head":  # the body stays frozen for the whole stage
        head_warmup = 1 << 30
    metrics = train_stage(
        init_model=args.init, train_examples=train, valid_examples=valid, masking=masking, stage=stage,
        out_dir=args.out, work_dir=args.work, seed=args.seed, precision=settings.get("precision", "fp32"),
        head_warmup_steps=head_warmup, tag={**json.loads(args.tag), "stage": args.stage},
    )
    if not metrics.get("is_main_process", True):
        return
    write_loss_tsv(args.loss, metrics.pop("loss_rows"))
    write_json(args.metrics, metrics)
    shutil.rmtree(args.work, ignore_errors=True)
    logging.info("best validation loss %s after %s steps; %.0f tokens/s", metrics["best_eval_loss"],
                 metrics["global_steps"], metrics["tokens_per_second"] or 0)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
