#!/usr/bin/env python
"""Tagger report: UPOS accuracy and entity-level NER precision/recall/F1 of every language's
tagger on its held-out annotations (report.json keyed by language, and a tidy results.csv).

NER backends side by side (--comparison CSV, and ``ner`` / ``corpus`` in report.json): the
stanza NER of the tagger directory and, where configured, the transformer NER (--ner-models),
each scored on the held-out annotations and, where the tagger directory has gold NE annotations
of the corpus (backend gold), by the share of gold entities it finds on the corpus (--corpus:
the prepared lines the tags are made of; the NER training data may overlap them).

POS backends side by side (--pos-comparison CSV, and ``pos`` in report.json): the tagger
directory's UPOS (stanza, lexicon) and, where configured (--pos-models), the transformer POS
tagger's, on the same held-out UD sentences; the tags (and the top-level ``upos_accuracy``) use
the transformer's where it is configured."""
from __future__ import annotations

import argparse
import logging
import time
from collections import defaultdict

from lemflow.io import read_json, read_lines_strict, write_json
from lemflow.results import write_results, write_table
from lemflow.tagger_stanza import load_tagger, read_annotated
from lemflow.tagging import GoldIndex, complete, evaluate_tagger, ner_scores, to_bio

METRICS = ["upos_accuracy", "ner_precision", "ner_recall", "ner_f1"]
COMPARISON = ["language", "ner_backend", "used_for_tags", "heldout_sentences", "heldout_gold_entities",
              "heldout_precision", "heldout_recall", "heldout_f1", "corpus_sentences", "corpus_gold_entities",
              "corpus_found_share", "corpus_precision", "seconds"]
POS_COMPARISON = ["language", "pos_backend", "used_for_tags", "heldout_sentences", "heldout_words", "upos_accuracy",
                  "seconds"]


def score(ner_tagger, sentences, fallback: str) -> dict:
    """Entity-level scores of a tagger's NER (or its documented fallback) on gold sentences,
    overall and per entity type (``by_type``: F1 and gold count)."""
    upos, predicted = ner_tagger.tag([s.words for s in sentences])
    predicted = [complete(u, p, fallback) for u, p in zip(upos, predicted)]
    gold = [to_bio(s.ner) for s in sentences]
    scores = ner_scores(gold, predicted)
    types = sorted({tag[2:] for tags in gold + predicted for tag in tags if tag != "O"})
    scores["by_type"] = {}
    for kind in types:
        keep = [[t if t[2:] == kind else "O" for t in tags] for tags in gold]
        found = [[t if t[2:] == kind else "O" for t in tags] for tags in predicted]
        typed = ner_scores(keep, found)
        scores["by_type"][kind] = {"f1": typed["f1"], "precision": typed["precision"], "recall": typed["recall"],
                                   "gold": typed["gold_entities"], "predicted": typed["predicted_entities"]}
    return scores


def corpus_gold(files: list[str], gold: GoldIndex) -> list:
    """The distinct gold-annotated sentences among the prepared lines of ``files``."""
    seen, out = set(), []
    for path in files:
        for line in read_lines_strict(path, allow_empty_file=True):
            found = gold.lookup(line)
            if found is not None and found.ner is not None and id(found) not in seen:
                seen.add(id(found))
                out.append(found)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", required=True, help="tagger directories")
    parser.add_argument("--langs", nargs="+", required=True, help="language of each directory")
    parser.add_argument("--ner-models", nargs="*", default=[],
                        help="transformer NER directory of each language ('-' for none); the tags use it")
    parser.add_argument("--pos-models", nargs="*", default=[],
                        help="transformer POS directory of each language ('-' for none); the tags use it")
    parser.add_argument("--corpus", nargs="*", default=[], help="lang:path of the prepared corpus files")
    parser.add_argument("--corpus-max", type=int, default=0,
                        help="score at most this many gold-annotated corpus sentences per language (seeded sample; 0 = all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --corpus-max sample")
    parser.add_argument("--json", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--comparison", default=None, help="CSV: NER backends side by side per language")
    parser.add_argument("--pos-comparison", default=None, help="CSV: POS backends side by side per language")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.ner_models and len(args.ner_models) != len(args.langs):
        parser.error("--ner-models needs one entry per language ('-' for none)")
    if args.pos_models and len(args.pos_models) != len(args.langs):
        parser.error("--pos-models needs one entry per language ('-' for none)")
    corpus = defaultdict(list)
    for entry in args.corpus:
        lang, sep, path = entry.partition(":")
        if not sep:
            parser.error(f"--corpus {entry!r}: expected lang:path")
        corpus[lang].append(path)
    ner_dirs = dict(zip(args.langs, args.ner_models)) if args.ner_models else {}
    pos_dirs = dict(zip(args.langs, args.pos_models)) if args.pos_models else {}
    report, rows, comparison, pos_comparison = {}, [], [], []
    transformers = {}
    for model, lang in zip(args.models, args.langs):
        info = read_json(f"{model}/backend.json")
        heldout = read_annotated(f"{model}/heldout.jsonl")
        tagger, gold, fallback = load_tagger(model, lang)
        own_pos = "lexicon" if info["backend"] == "lexicon" else (
            "stanza" if info.get("pos_model") or info.get("stanza_dir") else "none")
        pos_backends = {own_pos: tagger}
        pos_dir = pos_dirs.get(lang, "-")
        if pos_dir != "-":
            from lemflow.tagger_transformer import TransformerPOS, WithNER

            if pos_dir not in transformers:
                transformers[pos_dir] = TransformerPOS(pos_dir)
            pos_backends["transformer"] = transformers[pos_dir]
            tagger = WithNER(transformers[pos_dir], tagger)   # the tags' UPOS (and a PROPN fallback's NEs)
        used_pos = "transformer" if pos_dir != "-" else own_pos
        ner_dir = ner_dirs.get(lang, "-")
        own = ("lexicon" if info["backend"] == "lexicon" else "stanza") if tagger.has_ner else f"fallback:{fallback}"
        backends = {own: tagger}
        if ner_dir != "-":
            from lemflow.tagger_transformer import TransformerNER, WithNER

            if ner_dir not in transformers:
                transformers[ner_dir] = TransformerNER(ner_dir)
            backends["transformer"] = WithNER(tagger, transformers[ner_dir])
        used = "transformer" if ner_dir != "-" else next(iter(backends))
        entry = {"backend": info["backend"], "ner_backend": used, "heldout": info.get("heldout", {})}
        start = time.perf_counter()
        pos_heldout = [s for s in heldout if s.upos is not None]
        if pos_heldout:
            entry["pos_backend"], entry["pos"] = used_pos, {}
            for name, backend in pos_backends.items():
                start = time.perf_counter()
                scores = evaluate_tagger(backend, pos_heldout, fallback)
                entry["pos"][name] = scores["upos_accuracy"]
                pos_comparison.append({"language": lang, "pos_backend": name, "used_for_tags": name == used_pos,
                                       "heldout_sentences": scores["upos_sentences"],
                                       "heldout_words": scores["upos_words"], "upos_accuracy": scores["upos_accuracy"],
                                       "seconds": round(time.perf_counter() - start, 2)})
                rows.append({"task": "tagging", "dataset": "heldout", "pair": lang, "base": "", "strategy": name,
                             "metric": "upos_accuracy", "value": scores["upos_accuracy"], "ci_low": "",
                             "ci_high": "", "seed": ""})
                if name == used_pos:
                    entry.update(scores)
        if not heldout:
            entry["note"] = "no held-out annotations configured"
        ner_heldout = [s for s in heldout if s.ner is not None]
        on_corpus = corpus_gold(corpus.get(lang, []), gold) if gold is not None else []
        if args.corpus_max and len(on_corpus) > args.corpus_max:
            import random

            keep = sorted(random.Random(args.seed).sample(range(len(on_corpus)), args.corpus_max))
            on_corpus = [on_corpus[i] for i in keep]
        entry["ner"], entry["corpus"] = {}, {}
        for name, backend in backends.items():
            start = time.perf_counter()
            row = {"language": lang, "ner_backend": name, "used_for_tags": name == used,
                   "heldout_sentences": len(ner_heldout), "corpus_sentences": len(on_corpus)}
            if ner_heldout:
                scores = score(backend, ner_heldout, fallback)
                entry["ner"][name] = scores
                row.update(heldout_gold_entities=scores["gold_entities"], heldout_precision=scores["precision"],
                           heldout_recall=scores["recall"], heldout_f1=scores["f1"])
                for metric in ("precision", "recall", "f1"):
                    rows.append({"task": "tagging", "dataset": "heldout", "pair": lang, "base": "", "strategy": name,
                                 "metric": f"ner_{metric}", "value": scores[metric], "ci_low": "", "ci_high": "",
                                 "seed": ""})
            if on_corpus:
                scores = score(backend, on_corpus, fallback)
                entry["corpus"][name] = {"sentences": len(on_corpus), "gold_entities": scores["gold_entities"],
                                         "found_share": scores["recall"], "precision": scores["precision"]}
                row.update(corpus_gold_entities=scores["gold_entities"], corpus_found_share=scores["recall"],
                           corpus_precision=scores["precision"])
                rows.append({"task": "tagging", "dataset": "corpus", "pair": lang, "base": "", "strategy": name,
                             "metric": "ner_gold_found_share", "value": scores["recall"], "ci_low": "",
                             "ci_high": "", "seed": ""})
            row["seconds"] = round(time.perf_counter() - start, 2)
            comparison.append(row)
            logging.info("%s %s: %s", lang, name, row)
        if used in entry["ner"]:   # the NEs the tags carry (as the report had them before: ner_* at the top)
            entry.update({f"ner_{k}": v for k, v in entry["ner"][used].items() if k != "by_type"})
            entry["ner_sentences"] = len(ner_heldout)
            entry["ner_source"] = "model" if backends[used].has_ner else f"fallback:{fallback}"
        if heldout:
            entry["seconds"] = round(time.perf_counter() - start, 3)
        report[lang] = entry
    write_json(args.json, report)
    write_results(args.csv, rows)
    if args.comparison:
        write_table(args.comparison, COMPARISON, comparison)
    if args.pos_comparison:
        write_table(args.pos_comparison, POS_COMPARISON, pos_comparison)


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
