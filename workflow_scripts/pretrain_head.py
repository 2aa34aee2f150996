#!/usr/bin/env python
"""The new MLM head of a base that ships none (e5), trained before any strategy (lemflow.head_training).

  features: mask every pair's stage-1 sentences `draws` times (half random, half LEM masking),
            run the frozen body once, store the hidden states at the masked positions;
  train:    train the head on them (one run per pre-training seed: its own head initialisation
            and data order), stop on the dev loss, write the model and the dev loss curve.
"""
from __future__ import annotations

import argparse
import json
import logging
import os

import torch


def reinitialise_head(model, seed: int) -> None:
    """Fresh, seeded weights for the head's transform (dense + LayerNorm) and a zero decoder bias;
    a decoder tied to the word embeddings is left alone."""
    from lemflow.head_training import trainable_head_parameters
    from lemflow.pretraining import _mlm_head

    torch.manual_seed(seed)
    trainable = {id(p) for p in trainable_head_parameters(model)}
    std = float(getattr(model.config, "initializer_range", 0.02))
    with torch.no_grad():
        for module in _mlm_head(model).modules():
            if isinstance(module, torch.nn.Linear) and id(module.weight) in trainable:
                module.weight.normal_(0.0, std)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, torch.nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
        for name, p in _mlm_head(model).named_parameters():
            if name.endswith("bias") and p.dim() == 1 and p.shape[0] == model.config.vocab_size:
                p.zero_()


def features(args) -> None:
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from lemflow import device as devices
    from lemflow.head_training import HeadSettings, cache_features, draw_plan, mask_draws
    from lemflow.io import atomic_path, write_json
    from lemflow.masking import MaskingCollator
    from lemflow.pretrain_data import build_examples
    from lemflow.pretraining import MaskingSettings

    settings = json.loads(args.settings)
    head = HeadSettings.from_dict(settings.get("head"))
    lem = json.loads(args.lem_strategy) if args.lem_strategy else None
    max_length = int(settings.get("max_length", 128))
    probability = float(settings.get("mlm_probability", 0.15))
    tokenizer = AutoTokenizer.from_pretrained(args.init)
    model = AutoModelForMaskedLM.from_pretrained(args.init)
    device = devices.resolve_device(settings.get("device", "auto"))
    precision = devices.resolve_precision(settings.get("precision", "fp32"), device)
    common = dict(stage="head", pairs=args.pairs, data_root=args.data_root, dictionary_root=args.dictionary_root,
                  with_entities=lem is not None, max_length=max_length, seed=args.seed, mono_source=args.mono_source)
    train = build_examples(tokenizer, split="train", max_examples=head.max_examples, **common)
    valid = build_examples(tokenizer, split="valid", max_examples=head.max_valid_examples, **common)

    def collators(seed):
        out = {"random": MaskingCollator.from_tokenizer(tokenizer, strategy="random", mlm_probability=probability, seed=seed)}
        if lem is not None:
            m = MaskingSettings.from_strategy(lem, probability)
            out["lem"] = MaskingCollator.from_tokenizer(tokenizer, strategy=m.masking, entity_types=m.types, k=m.k,
                                                        top_up=m.top_up, mlm_probability=m.mlm_probability, seed=seed + 1)
        return out

    plan = draw_plan(head.draws, lem is not None)
    logging.info("head features: %d training and %d dev sentences, draws %s, %s on %s", len(train), len(valid), plan,
                 precision, device)
    cached = {
        "train": cache_features(model, mask_draws(train, collators(args.seed), plan), device=device, precision=precision,
                                progress=True),
        "valid": cache_features(model, mask_draws(valid, collators(args.seed + 7), draw_plan(2, lem is not None)),
                                device=device, precision=precision),
    }
    meta = {"init": args.init, "pairs": args.pairs, "draws": plan, "lem_strategy": lem, "seed": args.seed,
            "train_sentences": len(train), "valid_sentences": len(valid),
            "train_positions": len(cached["train"]["labels"]), "valid_positions": len(cached["valid"]["labels"]),
            **devices.describe(device, precision)}
    with atomic_path(args.out) as tmp:
        torch.save({**cached, "meta": meta}, tmp)
    write_json(args.stats, meta)


def train(args) -> None:
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from lemflow.encoder_meta import read_meta, write_meta
    from lemflow.head_training import HeadSettings, train_head
    from lemflow.io import atomic_path, write_json, write_lines

    settings = json.loads(args.settings)
    head = HeadSettings.from_dict(settings.get("head"))
    cached = torch.load(args.features)
    tokenizer = AutoTokenizer.from_pretrained(args.init)
    model = AutoModelForMaskedLM.from_pretrained(args.init)
    reinitialise_head(model, args.seed)
    curve = train_head(model, cached["train"], cached["valid"], head, seed=args.seed, progress=True)
    best = min(curve, key=lambda row: row["dev_loss"])
    metrics = {**json.loads(args.tag), "init_model": args.init, "seed": args.seed, "head_settings": vars(head),
               "features": cached["meta"], "initial_dev_loss": curve[0]["dev_loss"], "best_dev_loss": best["dev_loss"],
               "best_epoch": best["epoch"], "epochs_run": curve[-1]["epoch"],
               "stopped_early": curve[-1]["epoch"] < head.max_epochs, "curve": curve}
    with atomic_path(args.out) as tmp:
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = read_meta(args.init)
        meta.update({"fresh_mlm_head": False, "mlm_head": {"trained_by": "lemflow.head_training", "seed": args.seed,
                                                           "best_dev_loss": best["dev_loss"]}})
        write_meta(tmp, meta)
    keys = ["epoch", "step", "train_loss", *[k for k in curve[0] if k.startswith("dev_loss")]]
    write_lines(args.loss, ["\t".join(keys)] + ["\t".join(str(row.get(k, "")) for k in keys) for row in curve])
    write_json(args.metrics, metrics)
    logging.info("head dev loss %.3f -> %.3f (epoch %d of %d run)", curve[0]["dev_loss"], best["dev_loss"],
                 best["epoch"], curve[-1]["epoch"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("features", help="mask, run the frozen body once, store the masked positions' hidden states")
    f.add_argument("--init", required=True, help="the base (Hugging Face masked LM with a new head)")
    f.add_argument("--pairs", nargs="+", required=True)
    f.add_argument("--data-root", required=True, help="R/data")
    f.add_argument("--dictionary-root", required=True, help="R/dictionary/<base> (entity spans for the LEM draws)")
    f.add_argument("--lem-strategy", default="", help="JSON: strategies.<pretrain.head.lem_strategy> ('' = random draws only)")
    f.add_argument("--settings", required=True, help="JSON: the pretrain section of the config")
    f.add_argument("--mono-source", choices=["dependent", "independent"], default="dependent")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--out", required=True, help="features (torch.save)")
    f.add_argument("--stats", required=True, help="JSON: sentences, positions, draws")
    t = sub.add_parser("train", help="train the head on cached features; stop on the dev loss")
    t.add_argument("--init", required=True)
    t.add_argument("--features", required=True)
    t.add_argument("--settings", required=True)
    t.add_argument("--seed", type=int, default=0, help="head initialisation and data order")
    t.add_argument("--out", required=True, help="the base with its trained head (Hugging Face directory)")
    t.add_argument("--metrics", required=True)
    t.add_argument("--loss", required=True, help="dev loss curve TSV (one row per epoch; epoch 0 = before training)")
    t.add_argument("--tag", default="{}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    threads = os.environ.get("LEMFLOW_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    {"features": features, "train": train}[args.command](args)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
