#!/usr/bin/env python
"""Pre-training throughput (tokens/s) with LEM vs MLM masking on the same model, side by side.

One training step = collate (mask) + masked-only MLM loss (lemflow.pretraining.masked_only_mlm_loss)
+ backward + AdamW step: the work of the Trainer's step. Strategies are measured in interleaved
rounds from the same initial weights (machine load affects all alike); the median round is
reported, with the ratio to MLM. Target: LEM within 5% of MLM.

Defaults: the demo's scratch model (2 layers, hidden 128, vocab 2000, sequences up to 64).
``--layers 12 --hidden 768 --heads 12 --vocab 250002 --max-len 128 --device cuda --dtype bf16``
approximates xlm-roberta-base-sized random-init training on a GPU.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from collator import make_batches, make_tokenizer  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per strategy per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="autocast dtype")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from lemflow.masking import MaskingCollator
    from lemflow.pretraining import masked_only_mlm_loss

    tokenizer = make_tokenizer(args.vocab)
    batches = make_batches(tokenizer, args.steps, args.batch, args.max_len, seed=0)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=args.hidden, num_hidden_layers=args.layers,
                              num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                              max_position_embeddings=args.max_len + 2, type_vocab_size=1,
                              pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    initial = XLMRobertaForMaskedLM(config)
    strategies = {
        "mlm": dict(strategy="random"),
        "lem k=1": dict(strategy="lem", k=1),
        "lem k=3": dict(strategy="lem", k=3),
    }
    runs = {}
    for name, kw in strategies.items():
        model = copy.deepcopy(initial).to(args.device).train()
        runs[name] = (model, torch.optim.AdamW(model.parameters(), lr=1e-4),
                      MaskingCollator.from_tokenizer(tokenizer, seed=0, **kw))

    def step(model, optimizer, collator, examples):
        batch = {k: v.to(args.device) for k, v in collator(examples).items()}
        with torch.autocast(args.device.split(":")[0], dtype=torch.bfloat16, enabled=args.dtype == "bf16"):
            loss = masked_only_mlm_loss(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return int(batch["attention_mask"].sum())

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    for name, (model, optimizer, collator) in runs.items():  # warm-up
        step(model, optimizer, collator, batches[0])
    rates = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (model, optimizer, collator) in runs.items():
            sync()
            start = time.perf_counter()
            tokens = sum(step(model, optimizer, collator, examples) for examples in batches)
            sync()
            rates[name].append(tokens / (time.perf_counter() - start))
    print(f"model: {args.layers} layers, hidden {args.hidden}, vocab {len(tokenizer)}; batches of {args.batch} x up to "
          f"{args.max_len}; {args.steps} steps x {args.rounds} rounds; {args.device} {args.dtype}, {args.threads} thread(s)")
    print(f"{'masking':10s} {'tokens/s':>10s} {'vs MLM':>8s}  {'share masked':>12s}")
    mlm = statistics.median(rates["mlm"])
    for name, values in rates.items():
        rate = statistics.median(values)
        share = runs[name][2].summary()["share_masked"]
        print(f"{name:10s} {rate:10.0f} {rate / mlm:7.3f}x  {share:12.3f}")


if __name__ == "__main__":
    main()
