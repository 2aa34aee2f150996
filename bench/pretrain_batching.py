"""Training tokens/s with batches in random order vs length-grouped batches, side by side.

`pretrain.<stage>.group_by_length` hands the Trainer's length-grouped sampler the examples: each
batch then holds sentences of similar length and is padded far less. This measures what that buys
on the real corpus (multiNER sentences of a prepared pair, stage-1 examples): the same examples,
the same number of optimisation steps, masked-only MLM loss under the configured autocast, the two
orders taking turns (``--rounds``), each round from the same weights, on a seeded random sample of
each order's batches; tokens/s counts non-padding tokens, and the padding share is printed beside it.

    .venv/bin/python bench/pretrain_batching.py --model results/shared2/base_trimmed/e5 \\
        --data results/shared2/data/si-ta --steps 12 --rounds 2
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def batches_in_order(lengths, batch_size, steps, grouped, seed):
    """``steps`` index batches of one epoch: in a seeded random order, or in the Trainer's
    length-grouped order (same seed). The batches are a seeded random sample of the epoch's
    batches, not its first ones (a length-grouped epoch starts with its longest batch)."""
    import torch
    from transformers.trainer_pt_utils import get_length_grouped_indices

    generator = torch.Generator().manual_seed(seed)
    if grouped:
        order = get_length_grouped_indices(lengths, batch_size, generator=generator)
    else:
        order = torch.randperm(len(lengths), generator=generator).tolist()
    batches = [order[i:i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]
    picked = torch.randperm(len(batches), generator=torch.Generator().manual_seed(seed + 1))[:steps]
    return [batches[i] for i in sorted(picked.tolist())]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a Hugging Face masked LM (e.g. R/base_trimmed/e5)")
    parser.add_argument("--data", required=True, help="a prepared pair folder (R/data/<pair>) with train.<lang> files")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", default="bf16", help="fp32 | bf16")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from lemflow import device as devices
    from lemflow.masking import MaskingCollator
    from lemflow.pretraining import masked_only_mlm_loss, mono_example, special_layout

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    layout = special_layout(tokenizer)
    lines = []
    for path in sorted(Path(args.data).glob("train.*")):
        lines += path.read_text(encoding="utf-8").splitlines()
    ids = tokenizer(lines, add_special_tokens=False)["input_ids"]
    examples = [mono_example(layout, x, [], 128) for x in ids]
    lengths = [len(e["input_ids"]) for e in examples]
    cpu = torch.device("cpu")
    precision = devices.resolve_precision(args.precision, cpu)
    initial = AutoModelForMaskedLM.from_pretrained(args.model).state_dict()
    results = {}
    for round_ in range(args.rounds):
        for grouped in (False, True):
            model = AutoModelForMaskedLM.from_pretrained(args.model)
            model.load_state_dict(initial)
            model.train()
            optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-5)
            collator = MaskingCollator.from_tokenizer(tokenizer, strategy="random", seed=args.seed)
            real = padded = 0
            started = time.perf_counter()
            for index in batches_in_order(lengths, args.batch_size, args.steps, grouped, args.seed + round_):
                batch = collator([examples[i] for i in index])
                with devices.autocast(cpu, precision):
                    loss = masked_only_mlm_loss(model, batch["input_ids"], batch["attention_mask"], batch["labels"])
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                real += int(batch["attention_mask"].sum())
                padded += int(batch["attention_mask"].numel())
            elapsed = time.perf_counter() - started
            name = "length-grouped" if grouped else "random order"
            rate = real / elapsed
            best = results.get(name)
            if best is None or rate > best[0]:
                results[name] = (rate, 1 - real / padded, elapsed)
    print(f"{len(examples)} stage-1 examples of {args.data}; {args.steps} steps of {args.batch_size}, {precision}, "
          f"{args.threads} thread(s), best of {args.rounds} round(s)")
    for name, (rate, pad, elapsed) in results.items():
        print(f"  {name:15s} {rate:8.1f} tokens/s   padding {pad:6.1%}   {elapsed:6.1f} s")
    print(f"  length-grouped / random order: {results['length-grouped'][0] / results['random order'][0]:.2f}x tokens/s")


if __name__ == "__main__":
    main()
