#!/usr/bin/env python
"""LEM / MLM collators vs transformers' DataCollatorForLanguageModeling on the same batches.

Prints batches/s of each and the ratio ours / Hugging Face. Target: LEM >= 0.8x HF MLM.
Batches: `--batch` sequences of 32..`--max-len` sub-words, about a third of them inside
entity spans of 1..5 sub-words (as in the entity dictionaries).
"""
from __future__ import annotations

import argparse
import random
import time

import torch


def make_tokenizer(vocab_size: int):
    from transformers import XLMRobertaTokenizer

    pieces = [(f"▁w{i}", -float(i % 50)) for i in range(vocab_size - 5)]
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), *pieces, ("<mask>", 0.0)]
    return XLMRobertaTokenizer(vocab=vocab)


def make_batches(tokenizer, n_batches, batch_size, max_len, seed):
    rng = random.Random(seed)
    batches = []
    for _ in range(n_batches):
        batch = []
        for _ in range(batch_size):
            n = rng.randint(32, max_len - 2)
            ids = [tokenizer.cls_token_id] + [rng.randrange(4, len(tokenizer) - 1) for _ in range(n)] + [tokenizer.sep_token_id]
            spans, pos = [], 1
            while pos < n:
                start = pos + rng.randint(0, 4)
                end = min(start + rng.randint(1, 5), n + 1)
                if start < end and rng.random() < 0.7:
                    spans.append((start, end, rng.choice(["NE", "NOUN", "VERB"])))
                pos = end + 1
            batch.append({"input_ids": ids, "spans": spans})
        batches.append(batch)
    return batches


def time_collator(fn, batches, repeats):
    fn(batches[0])  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        for batch in batches:
            fn(batch)
    return repeats * len(batches) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from transformers import DataCollatorForLanguageModeling

    from lemflow.masking import MaskingCollator

    tokenizer = make_tokenizer(args.vocab)
    batches = make_batches(tokenizer, args.batches, args.batch, args.max_len, seed=0)
    hf = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15, return_tensors="pt", seed=0)
    hf_batches = [[{"input_ids": e["input_ids"]} for e in b] for b in batches]
    ours = {
        "ours mlm": MaskingCollator.from_tokenizer(tokenizer, strategy="random", seed=0),
        "ours lem k=1": MaskingCollator.from_tokenizer(tokenizer, strategy="lem", k=1, seed=0),
        "ours lem k=3": MaskingCollator.from_tokenizer(tokenizer, strategy="lem", k=3, seed=0),
        "ours lem whole": MaskingCollator.from_tokenizer(tokenizer, strategy="lem", k=None, seed=0),
    }
    # Interleave the measurements so that machine load affects all alike.
    rates = {name: [] for name in ["hf mlm", *ours]}
    for _ in range(args.repeats):
        rates["hf mlm"].append(time_collator(hf, hf_batches, 1))
        for name, collator in ours.items():
            rates[name].append(time_collator(collator, batches, 1))
    best = {name: max(values) for name, values in rates.items()}
    print(f"batches of {args.batch} x up to {args.max_len} sub-words, {args.batches} batches x {args.repeats} rounds, "
          f"{args.threads} thread(s)")
    print(f"{'collator':16s} {'batches/s':>10s} {'vs HF MLM':>10s}")
    for name, rate in best.items():
        print(f"{name:16s} {rate:10.1f} {rate / best['hf mlm']:9.2f}x")


if __name__ == "__main__":
    main()
