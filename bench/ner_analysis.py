#!/usr/bin/env python
"""What limits the NER on multiNER: the transformer NER and the stanza NER on the same held-out
sentences, with the figures that explain their errors, per language.

    .venv/bin/python bench/ner_analysis.py --config config/shared.yaml \
        [--models results/shared/tagging/models] [--ner-model results/shared/tagging/transformer/joint] \
        [--json docs/results/tagging/ner_analysis.json]

Per language and backend: entity-level P/R/F1 overall and per type, and every gold entity's
outcome (exact; right span, wrong type; overlapping span; missed) and every predicted entity's
(correct; overlapping a gold one; spurious), and a 95% sentence-bootstrap interval of the F1. For the transformer: recall on held-out entities
whose word sequence is an entity in the training part (seen) vs not (unseen); recall by the
entity's length in sub-words of the model's tokenizer; sub-words per word. For the data:
training entities per type; label consistency in the training part (of the word sequences
annotated as an entity at least twice, the share of occurrences with their majority type; of
every occurrence of an entity's word sequence, the share left unannotated); agreement of the
parallel segments' annotations across languages (multiNER: segment i is the same text in every
language), i.e. the share of segments whose entity count per type differs from English's; and the
dev-F1 learning curve of the model's training record.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

MAX_SPAN = 8   # longest word sequence looked up when counting unannotated occurrences


def outcomes(gold_tags, predicted_tags) -> dict:
    """Counts of gold-entity outcomes and predicted-entity outcomes over sentences."""
    from lemflow.tagging import bio_entities

    out = Counter()
    for g, p in zip(gold_tags, predicted_tags, strict=True):
        gold, pred = set(bio_entities(g)), set(bio_entities(p))
        for s, e, t in gold:
            if (s, e, t) in pred:
                out["gold_exact"] += 1
            elif any(ps == s and pe == e for ps, pe, _ in pred):
                out["gold_wrong_type"] += 1
            elif any(ps < e and s < pe for ps, pe, _ in pred):
                out["gold_overlap"] += 1
            else:
                out["gold_missed"] += 1
        for s, e, t in pred:
            if (s, e, t) in gold:
                out["pred_correct"] += 1
            elif any(gs < e and s < ge for gs, ge, _ in gold):
                out["pred_overlap"] += 1
            else:
                out["pred_spurious"] += 1
    return dict(out)


def f1_interval(gold_tags, predicted_tags, samples: int = 1000, seed: int = 0) -> list[float]:
    """95% sentence-bootstrap interval of the entity-level F1."""
    import random

    from lemflow.tagging import bio_entities

    counts = []
    for g, p in zip(gold_tags, predicted_tags, strict=True):
        gold, pred = set(bio_entities(g)), set(bio_entities(p))
        counts.append((len(gold & pred), len(gold), len(pred)))
    rng = random.Random(seed)
    values = []
    for _ in range(samples):
        tp = n_gold = n_pred = 0
        for _ in counts:
            a, b, c = counts[rng.randrange(len(counts))]
            tp, n_gold, n_pred = tp + a, n_gold + b, n_pred + c
        values.append(2 * tp / (n_gold + n_pred) if n_gold + n_pred else 0.0)
    values.sort()
    return [values[int(0.025 * samples)], values[int(0.975 * samples) - 1]]


def by_type(gold_tags, predicted_tags) -> dict:
    from lemflow.tagging import ner_scores

    types = sorted({t[2:] for tags in gold_tags for t in tags if t != "O"})
    result = {}
    for kind in types:
        keep = [[t if t[2:] == kind else "O" for t in tags] for tags in gold_tags]
        found = [[t if t[2:] == kind else "O" for t in tags] for tags in predicted_tags]
        s = ner_scores(keep, found)
        result[kind] = {k: s[k] for k in ("precision", "recall", "f1", "gold_entities", "predicted_entities")}
    return result


def entity_strings(sentences) -> Counter:
    """(word sequence, type) of every entity, case-folded."""
    from lemflow.tagging import bio_entities, to_bio

    found = Counter()
    for s in sentences:
        for a, b, t in bio_entities(to_bio(s.ner)):
            found[(tuple(w.casefold() for w in s.words[a:b]), t)] += 1
    return found


def label_consistency(sentences, min_annotated: int = 3) -> dict:
    """Label consistency of the training annotations: of the word sequences annotated as an entity
    at least twice, the share of occurrences with their majority type; of every occurrence of a word
    sequence annotated at least ``min_annotated`` times (not punctuation only), whether it is
    annotated there (exactly, as an entity) or left unannotated (all O): pooled, and the median and
    quartiles over the sequences; and the entities made of punctuation only (label errors)."""
    import statistics

    from lemflow.tagging import _is_punct, bio_entities, to_bio

    strings = entity_strings(sentences)
    types = defaultdict(Counter)
    for (words, t), n in strings.items():
        types[words][t] += n
    repeated = {w: c for w, c in types.items() if sum(c.values()) >= 2}
    majority = sum(max(c.values()) for c in repeated.values())
    total = sum(sum(c.values()) for c in repeated.values())
    punct = {w: sum(c.values()) for w, c in types.items() if all(all(_is_punct(ch) for ch in word) for word in w)}
    frequent = {w for w, c in types.items() if sum(c.values()) >= min_annotated and w not in punct}
    annotated, unannotated = Counter(), Counter()
    for s in sentences:
        tags = to_bio(s.ner)
        spans = {(a, b) for a, b, _ in bio_entities(tags)}
        folded = [w.casefold() for w in s.words]
        for a in range(len(folded)):
            for b in range(a + 1, min(len(folded), a + MAX_SPAN) + 1):
                words = tuple(folded[a:b])
                if words not in frequent:
                    continue
                if (a, b) in spans:
                    annotated[words] += 1
                elif all(t == "O" for t in tags[a:b]):
                    unannotated[words] += 1
    shares = sorted(unannotated[w] / (annotated[w] + unannotated[w]) for w in frequent if annotated[w] + unannotated[w])
    n_ann, n_un = sum(annotated.values()), sum(unannotated.values())
    quartiles = statistics.quantiles(shares, n=4) if len(shares) >= 2 else [float("nan")] * 3
    return {"repeated_strings": len(repeated), "repeated_occurrences": total,
            "majority_type_share": majority / total if total else float("nan"),
            "strings_with_several_types": sum(len(c) > 1 for c in repeated.values()),
            "punctuation_entities": sum(punct.values()),
            "frequent_strings": len(frequent), "occurrences_annotated": n_ann, "occurrences_unannotated": n_un,
            "unannotated_share": n_un / (n_ann + n_un) if n_ann + n_un else float("nan"),
            "unannotated_share_quartiles": quartiles,
            "strings_mostly_unannotated": sum(x > 0.5 for x in shares),
            "most_unannotated": [(" ".join(w), n) for w, n in unannotated.most_common(8)]}


def parallel_agreement(path, langs) -> dict:
    """Share of multiNER segments whose entity count (per type) differs from English's."""
    from lemflow.readers import read_multiner
    from lemflow.tagging import bio_entities, to_bio

    segments = {lang: read_multiner(path, lang) for lang in langs}
    counts = {lang: [Counter(t for _, _, t in bio_entities(to_bio(tags))) for _, tags in segs]
              for lang, segs in segments.items()}
    out = {lang: {"segments": len(segs), "entities": sum(sum(c.values()) for c in counts[lang]),
                  "entities_by_type": dict(sum(counts[lang], Counter()))} for lang, segs in segments.items()}
    if "en" in counts:
        for lang in langs:
            if lang == "en":
                continue
            pairs = list(zip(counts["en"], counts[lang]))
            out[lang]["segments_count_differs_from_en"] = sum(a != b for a, b in pairs) / len(pairs)
            out[lang]["segments_total_differs_from_en"] = (sum(sum(a.values()) != sum(b.values()) for a, b in pairs)
                                                           / len(pairs))
    return out


def subword_buckets(tokenizer, sentences, predicted) -> dict:
    """Recall of gold entities by their length in sub-words; sub-words per word."""
    from lemflow.tagging import bio_entities, to_bio

    buckets = {"1-2": [0, 0], "3-4": [0, 0], "5-8": [0, 0], "9+": [0, 0]}
    words = pieces = 0
    for s, p in zip(sentences, predicted):
        lengths = [len(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in s.words]
        words += len(lengths)
        pieces += sum(lengths)
        found = set(bio_entities(p))
        for a, b, t in bio_entities(to_bio(s.ner)):
            n = sum(lengths[a:b])
            key = "1-2" if n <= 2 else "3-4" if n <= 4 else "5-8" if n <= 8 else "9+"
            buckets[key][0] += 1
            buckets[key][1] += (a, b, t) in found
    return {"subwords_per_word": pieces / words,
            "recall_by_entity_subwords": {k: {"gold": n, "recall": f / n if n else float("nan")}
                                          for k, (n, f) in buckets.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "config/shared.yaml"))
    parser.add_argument("--models", default=None, help="stanza tagger directories (default R/tagging/models)")
    parser.add_argument("--ner-model", default=None, help="transformer NER directory (default R/tagging/transformer/joint)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch
    import yaml

    from lemflow import tagger_transformer as tt
    from lemflow.tagger_stanza import load_tagger, read_annotated
    from lemflow.tagging import complete, ner_scores, to_bio

    torch.set_num_threads(args.threads)
    config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    tagging, seed = config["tagging"], int(config.get("seed", 0))
    root = Path(config.get("results_dir", "results")) / config["run_name"] / "tagging"
    models = Path(args.models or root / "models")
    ner_dir = Path(args.ner_model or root / "transformer" / "joint")
    ner = tt.TransformerNER(ner_dir)
    langs = ner.info["languages"]
    dev_fraction = tagging.get("train", {}).get("dev_fraction", 0.1)
    result = {"config": args.config, "ner_model": str(ner_dir), "languages": {}}
    multiner = None
    for lang in langs:
        spec = tagging["languages"][lang]
        multiner = multiner or next((s["path"] for s in spec["ner"]["train"] if s["format"] == "multiner"), None)
        data = tt.split_ner_data(spec, lang, seed, dev_fraction)
        heldout = data["heldout"]
        stored = [s for s in read_annotated(models / lang / "heldout.jsonl") if s.ner is not None]
        if [s.words for s in stored] != [s.words for s in heldout]:
            raise SystemExit(f"{lang}: the held-out sentences differ from {models / lang}/heldout.jsonl")
        gold = [to_bio(s.ner) for s in heldout]
        words = [s.words for s in heldout]
        tagger, _gold, fallback = load_tagger(models / lang, lang)
        upos, stanza_ner = tagger.tag(words)
        predicted = {"stanza": [complete(u, p, fallback) for u, p in zip(upos, stanza_ner)],
                     "transformer": ner.ner(words)}
        entry = {"heldout_sentences": len(heldout), "train_sentences": len(data["train"]), "backends": {}}
        for name, pred in predicted.items():
            entry["backends"][name] = {**{k: v for k, v in ner_scores(gold, pred).items()},
                                       "f1_ci95": f1_interval(gold, pred),
                                       "by_type": by_type(gold, pred), "outcomes": outcomes(gold, pred)}
        train_strings = {words for words, _ in entity_strings(data["train"] + data["dev"])}
        seen = unseen = seen_found = unseen_found = 0
        from lemflow.tagging import bio_entities

        for s, g, p in zip(heldout, gold, predicted["transformer"]):
            found = set(bio_entities(p))
            for a, b, t in bio_entities(g):
                hit = (a, b, t) in found
                if tuple(w.casefold() for w in s.words[a:b]) in train_strings:
                    seen, seen_found = seen + 1, seen_found + hit
                else:
                    unseen, unseen_found = unseen + 1, unseen_found + hit
        entry["transformer_seen_unseen"] = {"seen": seen, "seen_recall": seen_found / max(1, seen),
                                            "unseen": unseen, "unseen_recall": unseen_found / max(1, unseen),
                                            "unseen_share": unseen / max(1, seen + unseen)}
        entry["transformer_subwords"] = subword_buckets(ner.tokenizer, heldout, predicted["transformer"])
        entry["train_entities_by_type"] = dict(Counter(t for (_, t), n in entity_strings(data["train"]).items()
                                                       for _ in range(n)))
        entry["train_label_consistency"] = label_consistency(data["train"])
        result["languages"][lang] = entry
    result["history"] = ner.info.get("history", [])
    if multiner:
        result["parallel"] = parallel_agreement(multiner, langs)
    print_summary(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def print_summary(result):
    langs = list(result["languages"])
    print(f"{'lang':<5}{'backend':<13}{'P':>7}{'R':>7}{'F1':>7}{'95% CI':>16}   per type F1 (gold)")
    for lang, entry in result["languages"].items():
        for name, s in entry["backends"].items():
            types = "  ".join(f"{k} {v['f1']:.3f} ({v['gold_entities']})" for k, v in s["by_type"].items())
            low, high = s["f1_ci95"]
            print(f"{lang:<5}{name:<13}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}"
                  f"   [{low:.3f}, {high:.3f}]   {types}")
    print("\ngold-entity outcomes (exact / right span wrong type / overlapping span / missed) and predicted "
          "(correct / overlapping / spurious)")
    for lang, entry in result["languages"].items():
        for name, s in entry["backends"].items():
            o = s["outcomes"]
            print(f"{lang:<5}{name:<13}{o.get('gold_exact', 0):>5} /{o.get('gold_wrong_type', 0):>4} /"
                  f"{o.get('gold_overlap', 0):>4} /{o.get('gold_missed', 0):>4}     {o.get('pred_correct', 0):>5} /"
                  f"{o.get('pred_overlap', 0):>4} /{o.get('pred_spurious', 0):>4}")
    print("\ntransformer: recall on entities seen / unseen (as an entity string) in training; sub-words")
    for lang, entry in result["languages"].items():
        su, sw = entry["transformer_seen_unseen"], entry["transformer_subwords"]
        buckets = "  ".join(f"{k}: {v['recall']:.3f} ({v['gold']})" for k, v in sw["recall_by_entity_subwords"].items())
        print(f"{lang:<5}seen {su['seen_recall']:.3f} ({su['seen']})  unseen {su['unseen_recall']:.3f} "
              f"({su['unseen']}, {su['unseen_share']:.1%})  sub-words/word {sw['subwords_per_word']:.2f}  "
              f"recall by entity sub-words {buckets}")
    print("\ntraining data: entities by type; label consistency")
    for lang, entry in result["languages"].items():
        c = entry["train_label_consistency"]
        q = c["unannotated_share_quartiles"]
        print(f"{lang:<5}{entry['train_entities_by_type']}  repeated strings {c['repeated_strings']} "
              f"(majority type {c['majority_type_share']:.3f}, {c['strings_with_several_types']} with >1 type); "
              f"punctuation-only entities {c['punctuation_entities']}; of {c['frequent_strings']} strings annotated "
              f">= 3 times, occurrences unannotated {c['unannotated_share']:.3f} "
              f"({c['occurrences_unannotated']} of {c['occurrences_annotated'] + c['occurrences_unannotated']}; "
              f"per string quartiles {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}, {c['strings_mostly_unannotated']} mostly "
              f"unannotated); most: {c['most_unannotated'][:5]}")
    if "parallel" in result:
        print("\nmultiNER parallel annotation agreement")
        for lang, p in result["parallel"].items():
            extra = (f", segments whose per-type counts differ from en's {p['segments_count_differs_from_en']:.3f} "
                     f"(total count {p['segments_total_differs_from_en']:.3f})") if lang != "en" else ""
            print(f"{lang:<5}{p['entities']} entities {p['entities_by_type']}{extra}")
    if result["history"]:
        print("\ndev entity F1 during training")
        for h in result["history"]:
            print(f"step {h['step']:>5} epoch {h['epoch']}: mean {h['dev_f1']:.4f} "
                  + " ".join(f"{lang} {h['dev'][lang]:.4f}" for lang in langs if lang in h["dev"]))


if __name__ == "__main__":
    sys.exit(main())
