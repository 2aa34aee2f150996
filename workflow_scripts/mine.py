#!/usr/bin/env python
"""Mine one evaluation set with one encoder's embeddings and evaluate it.

comparable: global and per-document mining, mined pairs as TSV (every candidate, with its
margin and a `kept` flag for the optional threshold), recall and average precision against gold,
the margin ranking (for threshold calibration) and the document of every gold pair (its cluster);
parallel: P@1 and xsim error rate. Writes eval.json (metrics and per-unit 0/1 flags that the
results step bootstraps).
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from lemflow.errors import InputError
from lemflow.io import atomic_open, read_lines_strict, write_json
from lemflow.mining_eval import evaluate_comparable, evaluate_parallel, load_embeddings, ranking
from lemflow.readers import doc_id


def corpus_files(parser, args, lang1: str, lang2: str) -> dict:
    """text1, text2 (+ ids1, ids2, gold for a comparable set) from the explicit options, else
    from the --corpus folder's standard names."""
    if args.corpus is None and args.texts is None:
        parser.error("give --texts (and, for a comparable set, --ids and --gold) or --corpus")
    folder = Path(args.corpus) if args.corpus else None
    files = {"text1": args.texts[0], "text2": args.texts[1]} if args.texts else \
        {"text1": folder / f"{lang1}.txt", "text2": folder / f"{lang2}.txt"}
    if args.kind == "comparable":
        if args.ids:
            files.update(ids1=args.ids[0], ids2=args.ids[1])
        elif folder:
            files.update(ids1=folder / f"{lang1}.ids", ids2=folder / f"{lang2}.ids")
        files["gold"] = args.gold or (folder / "gold.tsv" if folder else None)
        if "ids1" not in files or files["gold"] is None:
            parser.error("a comparable set needs --ids and --gold (or --corpus)")
    return {name: Path(path) for name, path in files.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["comparable", "parallel"], required=True)
    parser.add_argument("--pair", required=True)
    parser.add_argument("--texts", nargs=2, default=None, metavar=("TXT1", "TXT2"),
                        help="both languages' sentences, {lang1}.txt {lang2}.txt (written by mining_corpus.py)")
    parser.add_argument("--ids", nargs=2, default=None, metavar=("IDS1", "IDS2"),
                        help="comparable: both languages' sentence ids, {lang1}.ids {lang2}.ids")
    parser.add_argument("--gold", default=None, help="comparable: gold.tsv (id1<TAB>id2)")
    parser.add_argument("--corpus", default=None,
                        help="instead of --texts/--ids/--gold: the folder mining_corpus.py wrote them to")
    parser.add_argument("--emb1", required=True, help=".npy of the first language's sentences")
    parser.add_argument("--emb2", required=True, help=".npy of the second language's sentences")
    parser.add_argument("--settings", required=True, help="JSON: k, candidates, threshold, modes, index, nlist, nprobe, approximate_above")
    parser.add_argument("--label", required=True, help="JSON: dataset, pair, base, strategy (copied into eval.json)")
    parser.add_argument("--outdir", required=True, help="writes eval.json (+ mined.{mode}.tsv for comparable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings, label = json.loads(args.settings), json.loads(args.label)
    lang1, lang2 = args.pair.split("-")
    out = Path(args.outdir)
    files = corpus_files(parser, args, lang1, lang2)
    text1, text2 = read_lines_strict(files["text1"]), read_lines_strict(files["text2"])
    x = load_embeddings(args.emb1, len(text1), files["text1"])
    y = load_embeddings(args.emb2, len(text2), files["text2"])
    index = settings["index"]  # settings: the validated mining section (schema defaults)
    if index == "auto":
        index = "ivf" if min(len(x), len(y)) > settings["approximate_above"] else "flat"
    index_options = {"nprobe": settings["nprobe"], "nlist": settings["nlist"] or None, "seed": settings["seed"]} \
        if index == "ivf" else None
    result = {**label, "kind": args.kind, "index": index}
    if args.kind == "comparable":
        ids1, ids2 = read_lines_strict(files["ids1"]), read_lines_strict(files["ids2"])
        row1, row2 = {s: i for i, s in enumerate(ids1)}, {s: i for i, s in enumerate(ids2)}
        gold = []
        for number, line in enumerate(read_lines_strict(files["gold"], allow_empty_file=True), start=1):
            a, b = line.split("\t")
            if a not in row1 or b not in row2:
                raise InputError(files["gold"], f"gold pair {a!r}, {b!r} names an unknown sentence", number)
            gold.append((row1[a], row2[b]))
        if not gold:
            raise InputError(files["gold"], "no gold pairs to evaluate against")
        metrics, flags, mined = evaluate_comparable(
            x, y, gold, [doc_id(s) for s in ids1], [doc_id(s) for s in ids2], modes=settings["modes"],
            k=settings["k"], candidates=settings["candidates"], index=index,
            index_options=index_options, progress=True)
        gold_set = set(gold)
        threshold = settings.get("threshold")
        n_gold = len(gold_set)
        result["ranking"] = {}
        for mode, m in mined.items():
            scores, is_gold = ranking(m, gold)
            result["ranking"][mode] = {"score": [round(float(v), 6) for v in scores], "gold": is_gold.tolist(),
                                       "n_gold": n_gold}
        result["clusters"] = [doc_id(ids1[a]) for a, _ in gold]
        for mode, m in mined.items():
            with atomic_open(out / f"mined.{mode}.tsv") as handle:
                handle.write(f"{lang1}_id\t{lang2}_id\tmargin\tcosine\tkept\tgold\t{lang1}\t{lang2}\n")
                for i, j, score, cos in zip(m.src.tolist(), m.tgt.tolist(), m.score.tolist(), m.cosine.tolist()):
                    kept = int(threshold is None or score >= threshold)
                    handle.write(f"{ids1[i]}\t{ids2[j]}\t{score:.6f}\t{cos:.6f}\t{kept}\t{int((i, j) in gold_set)}\t"
                                 f"{text1[i]}\t{text2[j]}\n")
        result["gold_pairs"] = len(gold)
    else:
        if len(x) != len(y):
            raise InputError(files["text2"], f"parallel set is misaligned: {len(x)} vs {len(y)} sentences")
        metrics, flags = evaluate_parallel(x, y, text2, k=settings["k"], index=index)
        result["sentences"] = len(x)
    result["metrics"] = metrics
    result["flags"] = {name: v.astype(int).tolist() for name, v in flags.items()}
    write_json(out / "eval.json", result)
    logging.info("%s %s", label, json.dumps(metrics))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
