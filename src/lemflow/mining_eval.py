"""Evaluation of bitext mining: gold recall (no threshold) and average precision of the gold
pairs in the margin ranking, F1 at a threshold calibrated on another set, P@1 and xsim error on
parallel sets, and the paired cluster bootstrap / exact McNemar tests (lemflow.stats).

Every evaluation keeps a 0/1 vector per metric over its evaluation units (gold pairs for
recall, source sentences for P@1/xsim), so that the aggregation step can resample the same
units for every encoder: the paired bootstrap that decides whether a strategy differs from
the reference strategy (``mlm_tlm``).
"""
from __future__ import annotations

import math
import zlib
from typing import Sequence

import numpy as np

from .errors import InputError
from .mining import Mined, mine, mine_grouped, retrieval_accuracy

SIGNIFICANCE_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "reference", "metric", "value",
                        "reference_value", "difference", "ci_low", "ci_high", "p_value", "significant", "seed",
                        "se", "mcnemar_p", "only_strategy", "only_reference", "seeds", "reference_seeds", "clusters",
                        "samples"]


# --------------------------------------------------------------------------- comparable corpora
def gold_flags(mined_pairs: Sequence[tuple[int, int]], gold: Sequence[tuple[int, int]]) -> np.ndarray:
    """1 for every gold pair that ``mined_pairs`` contains, else 0 (in gold order)."""
    found = set(map(tuple, mined_pairs))
    return np.array([tuple(g) in found for g in gold], dtype=np.int8)


def precision_recall_f1(mined_pairs, gold) -> dict:
    """Recall = share of gold pairs mined; precision = share of mined pairs that are gold."""
    gold_set = set(map(tuple, gold))
    mined_set = set(map(tuple, mined_pairs))
    correct = len(gold_set & mined_set)
    recall = correct / len(gold_set) if gold_set else 0.0
    precision = correct / len(mined_set) if mined_set else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"recall": recall, "precision": precision, "f1": f1, "correct": correct,
            "mined": len(mined_set), "gold": len(gold_set)}


def ranking(mined: Mined, gold: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(margins, is_gold) of every candidate, best first: the margin ranking that average
    precision and threshold calibration read."""
    gold_set = set(map(tuple, gold))
    is_gold = np.array([(i, j) in gold_set for i, j in zip(mined.src.tolist(), mined.tgt.tolist())], dtype=np.int8)
    return np.asarray(mined.score, dtype=np.float64), is_gold


def average_precision(scores, is_gold, n_gold: int) -> float:
    """Threshold-free: mean over the gold pairs of the precision of the ranking at each gold
    pair's rank (a gold pair that is no candidate contributes 0). Candidates sorted by
    decreasing margin (the order ``Mined`` keeps)."""
    scores, is_gold = np.asarray(scores, np.float64), np.asarray(is_gold, np.float64)
    if n_gold == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    hits = is_gold[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision_at * hits).sum() / n_gold)


def f1_at(scores, is_gold, n_gold: int, threshold: float) -> dict:
    """Precision, recall and F1 of the candidates with margin >= ``threshold``."""
    scores, is_gold = np.asarray(scores, np.float64), np.asarray(is_gold, bool)
    kept = scores >= threshold
    correct, mined = int((is_gold & kept).sum()), int(kept.sum())
    precision = correct / mined if mined else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "mined": mined}


def best_threshold(scores, is_gold, n_gold: int) -> tuple[float, float]:
    """(threshold, F1) maximising F1 over the candidate margins of one (calibration) set;
    ties go to the higher threshold. NaN threshold when there are no candidates."""
    scores, is_gold = np.asarray(scores, np.float64), np.asarray(is_gold, np.float64)
    if len(scores) == 0 or n_gold == 0:
        return float("nan"), 0.0
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], np.cumsum(is_gold[order])
    last = np.r_[s[1:] != s[:-1], True]          # a threshold keeps every tie of its score
    rank = np.arange(1, len(s) + 1)
    f1 = np.where(hits > 0, 2 * hits / (rank + n_gold), 0.0)
    f1 = np.where(last, f1, -1.0)
    best = int(np.argmax(f1))                    # first maximum = highest threshold
    return float(s[best]), float(f1[best])


def evaluate_comparable(x, y, gold: Sequence[tuple[int, int]], docs_x: Sequence[str], docs_y: Sequence[str], *,
                        modes=("global", "per_doc"), k=4, candidates="intersect", index="flat",
                        index_options=None, batch_size=8192, progress=False):
    """Mine x against y globally and/or per comparable document pair; score against gold.

    Returns ``(metrics, flags, mined)``: metrics ``{mode}_recall`` (gold pairs among all
    candidates: no threshold), ``{mode}_ap`` (average precision of the gold pairs in the
    margin ranking: threshold-free) and ``{mode}_candidates``; flags: per-gold-pair 0/1 vectors
    of the recall; mined: ``{mode: Mined}`` (all candidates). F1 needs a threshold calibrated on
    other data: ``calibrated_metrics``.
    """
    metrics: dict[str, float] = {}
    flags: dict[str, np.ndarray] = {}
    mined: dict[str, Mined] = {}
    for mode in modes:
        if mode == "global":
            m = mine(x, y, k=k, candidates=candidates, index=index, index_options=index_options,
                     batch_size=batch_size, progress=progress)
        elif mode == "per_doc":
            m = mine_grouped(x, y, docs_x, docs_y, k=k, candidates=candidates)
        else:
            raise ValueError(f"unknown mining mode {mode!r} (global, per_doc)")
        mined[mode] = m
        everything = m.pairs()
        scores, is_gold = ranking(m, gold)
        metrics[f"{mode}_recall"] = precision_recall_f1(everything, gold)["recall"]
        metrics[f"{mode}_ap"] = average_precision(scores, is_gold, len(set(map(tuple, gold))))
        metrics[f"{mode}_candidates"] = len(m)
        flags[f"{mode}_recall"] = gold_flags(everything, gold)
    return metrics, flags, mined


def calibrated_metrics(test: dict, calibration: dict, calibration_name: str) -> dict:
    """Precision/recall/F1 of ``test`` (an eval.json dict with ``ranking``) at the margin
    threshold that maximises F1 on ``calibration`` (the same encoder's eval.json of another
    set). Only the calibration set's labels choose the threshold; the test set's labels are
    read only to score it."""
    out = {}
    for mode, calib in calibration.get("ranking", {}).items():
        if mode not in test.get("ranking", {}):
            continue
        threshold, _ = best_threshold(calib["score"], calib["gold"], calib["n_gold"])
        if math.isnan(threshold):
            continue
        t = test["ranking"][mode]
        scored = f1_at(t["score"], t["gold"], t["n_gold"], threshold)
        out.update({f"{mode}_f1_calibrated": scored["f1"], f"{mode}_precision_calibrated": scored["precision"],
                    f"{mode}_recall_calibrated": scored["recall"], f"{mode}_threshold_calibrated": threshold})
    out["calibrated_on"] = calibration_name
    return out


# --------------------------------------------------------------------------- parallel test sets
def evaluate_parallel(x, y, targets: Sequence[str] | None = None, *, k=4, index="flat", batch_size=8192):
    """P@1 (cosine nearest neighbour, source -> target) and xsim error rate (margin
    retrieval among the k nearest, as LASER's xsim) on aligned sets x_i <-> y_i.

    With ``targets`` (the target texts), retrieving a different row with the same text counts
    as correct (test sets hold a few duplicate sentences).
    """
    same = None
    if targets is not None:
        def same(i, j):
            return targets[i] == targets[j]
    _, cos_ok = retrieval_accuracy(x, y, k=k, margin=False, index=index, batch_size=batch_size, same_target=same)
    _, margin_ok = retrieval_accuracy(x, y, k=k, margin=True, index=index, batch_size=batch_size, same_target=same)
    metrics = {"p_at_1": float(cos_ok.mean()) if len(cos_ok) else 0.0,
               "xsim_error": float(1.0 - margin_ok.mean()) if len(margin_ok) else 0.0}
    flags = {"p_at_1": cos_ok.astype(np.int8), "xsim_error": (~margin_ok).astype(np.int8)}
    return metrics, flags


# --------------------------------------------------------------------------- bootstrap
def stable_seed(seed: int, *parts: str) -> int:
    """A seed derived from the config seed and names (same names -> same resamples)."""
    return (int(seed) * 1_000_003 + zlib.crc32("/".join(parts).encode("utf-8"))) % (2**32)


def bootstrap_indices(n: int, samples: int, seed: int) -> np.ndarray:
    """(samples, n) resampled unit indices (with replacement), seeded."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(samples, n)) if n else np.zeros((samples, 0), dtype=np.int64)


def bootstrap_ci(flags: np.ndarray, indices: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean of ``flags`` over bootstrap resamples."""
    if flags.size == 0:
        return float("nan"), float("nan")
    means = np.asarray(flags, dtype=np.float64)[indices].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def paired_bootstrap(flags: np.ndarray, reference: np.ndarray, indices: np.ndarray, confidence: float = 0.95) -> dict:
    """Paired bootstrap of mean(flags) - mean(reference) over the same resampled units.

    ``significant`` when the percentile interval of the difference excludes 0; ``p_value`` is
    the two-sided bootstrap p (twice the smaller tail share at 0).
    """
    flags = np.asarray(flags, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if flags.shape != reference.shape:
        raise ValueError(f"paired bootstrap needs the same units: {flags.shape} vs {reference.shape}")
    diff = flags.mean() - reference.mean() if flags.size else float("nan")
    if flags.size == 0:
        return {"difference": diff, "ci_low": diff, "ci_high": diff, "p_value": float("nan"), "significant": False}
    diffs = flags[indices].mean(axis=1) - reference[indices].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = float(np.quantile(diffs, alpha)), float(np.quantile(diffs, 1.0 - alpha))
    p = min(1.0, 2.0 * min(float((diffs <= 0).mean()), float((diffs >= 0).mean())))
    if np.all(diffs == 0):
        p = 1.0
    return {"difference": float(diff), "ci_low": low, "ci_high": high, "p_value": p,
            "significant": bool(low > 0 or high < 0)}


def _runs_by_encoder(evaluations: list[dict]) -> dict:
    """{(dataset, pair, base, strategy): {seed index: evaluation}} (strategy without its seed mark)."""
    from .seeds import split_seeded

    grouped: dict = {}
    for e in evaluations:
        strategy, index = split_seeded(e["strategy"])
        grouped.setdefault((e["dataset"], e["pair"], e["base"], strategy), {})[index] = e
    return grouped


def tabulate(evaluations: list[dict], *, seed: int, samples: int = 10000, confidence: float = 0.95,
             reference: str = "mlm_tlm", calibration: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Tidy result rows and significance rows from per-encoder evaluations.

    Each evaluation: ``{"dataset", "pair", "base", "strategy", "metrics": {name: value},
    "flags": {name: [0/1, ...]}, "clusters": [label per unit] (optional), "ranking": ...}``;
    a strategy name may carry a pre-training seed (``lem@s1``, lemflow.seeds). Result rows: one
    per seed and metric (``seed`` = the pre-training seed index), a flagged metric with a
    cluster-bootstrap CI; ``calibration`` (``{pair: {dataset: calibration dataset}}``) adds
    F1 at a threshold calibrated on the other set. Significance rows: for each (dataset, pair,
    base), every strategy against ``reference`` on every flagged metric: the paired cluster
    bootstrap over seeds and clusters (p, CI, SE) and the exact McNemar test pooled over seeds.
    """
    from .stats import cluster_bootstrap, mcnemar_pooled

    rows, significance = [], []
    grouped = _runs_by_encoder(evaluations)
    full = {(e["dataset"], e["pair"], e["base"], e["strategy"]): e for e in evaluations}
    alpha = 1.0 - confidence
    for key in sorted(grouped):
        dataset, pair, base, strategy = key
        for index in sorted(grouped[key]):
            e = grouped[key][index]
            metrics = dict(e["metrics"])
            calib_set = ((calibration or {}).get(pair) or {}).get(dataset)
            if calib_set:
                other = full.get((calib_set, pair, base, e["strategy"]))
                if other is not None:
                    metrics.update({k: v for k, v in calibrated_metrics(e, other, calib_set).items()
                                    if k != "calibrated_on"})
            clusters = e.get("clusters")
            for metric, value in metrics.items():
                row = {"task": "mining", "dataset": dataset, "pair": pair, "base": base, "strategy": strategy,
                       "metric": metric, "value": value, "ci_low": "", "ci_high": "", "seed": index}
                if metric in e.get("flags", {}):
                    flags = np.asarray(e["flags"][metric], dtype=np.float64)[None, :]
                    ci = cluster_bootstrap(flags, np.zeros_like(flags), clusters, samples=min(samples, 2000),
                                           seed=stable_seed(seed, dataset, pair, metric), confidence=confidence)
                    row["ci_low"], row["ci_high"] = ci["ci_low"], ci["ci_high"]
                rows.append(row)
        ref_runs = grouped.get((dataset, pair, base, reference))
        if strategy == reference or ref_runs is None:
            continue
        runs = grouped[key]
        for metric in sorted(set.intersection(*(set(e.get("flags", {})) for e in [*runs.values(), *ref_runs.values()]))):
            a = np.array([runs[i]["flags"][metric] for i in sorted(runs)], dtype=np.float64)
            b = np.array([ref_runs[i]["flags"][metric] for i in sorted(ref_runs)], dtype=np.float64)
            boot_seed = stable_seed(seed, dataset, pair, base, strategy, reference, metric)
            clusters = next(iter(runs.values())).get("clusters")
            test = cluster_bootstrap(a, b, clusters, samples=samples, seed=boot_seed, confidence=confidence)
            paired = [(runs[i]["flags"][metric], ref_runs[i]["flags"][metric]) for i in sorted(set(runs) & set(ref_runs))]
            mcnemar = mcnemar_pooled(paired)
            significance.append({
                "task": "mining", "dataset": dataset, "pair": pair, "base": base, "strategy": strategy,
                "reference": reference, "metric": metric,
                "value": float(np.mean([runs[i]["metrics"][metric] for i in runs])),
                "reference_value": float(np.mean([ref_runs[i]["metrics"][metric] for i in ref_runs])),
                "difference": test["difference"], "ci_low": test["ci_low"], "ci_high": test["ci_high"],
                "p_value": test["p_value"], "significant": bool(test["p_value"] < alpha), "seed": boot_seed,
                "se": test["se"], "mcnemar_p": mcnemar["p_value"], "only_strategy": mcnemar["only_a"],
                "only_reference": mcnemar["only_b"], "seeds": test["seeds_a"], "reference_seeds": test["seeds_b"],
                "clusters": test["clusters"], "samples": test["samples"]})
    return rows, significance


# --------------------------------------------------------------------------- corpora on disk
def sample_documents(corpus, distractor_documents: int | None, seed: int) -> tuple[list[str], list[str]]:
    """(gold documents, distractors): every document holding a gold pair, and a seeded sample of
    ``distractor_documents`` of the other documents present on both sides (all of them when None)."""
    gold_docs = corpus.gold_documents()
    gold_set = set(gold_docs)
    others = [d for d in corpus.comparable_documents() if d not in gold_set]
    if distractor_documents is None or distractor_documents >= len(others):
        return gold_docs, others
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(others), size=distractor_documents, replace=False)
    return gold_docs, [others[i] for i in sorted(chosen.tolist())]


def write_comparable_corpus(path, lang1: str, lang2: str, outdir, distractor_documents: int | None = None,
                            seed: int = 0, skip_bad_gold: bool = False) -> dict:
    """Read a comparable corpus (either layout; validated) and write what the mining stage reads:
    ``{lang}.txt`` (one NFC sentence per line), ``{lang}.ids`` (sentence ids, same order),
    ``gold.tsv`` (``id1<TAB>id2``) and ``meta.json`` (counts, skipped gold lines).

    ``distractor_documents`` (an int) keeps only the documents holding gold pairs plus that many
    seeded other documents (the distractors of global mining; their ids go to meta.json); None
    keeps the whole corpus. A gold line naming a sentence id that does not exist raises InputError
    (gold file and line) unless ``skip_bad_gold``: then it is skipped with a warning and listed in
    meta.json's ``skipped_gold``."""
    import unicodedata
    from pathlib import Path

    from .io import write_json, write_lines
    from .readers import read_comparable

    from .errors import input_warning

    corpus = read_comparable(path, lang1, lang2, skip_bad_gold=skip_bad_gold)
    for line, problem in corpus.skipped_gold:
        input_warning("%s: gold line %d skipped (mining.skip_bad_gold): %s", path, line, problem)
    full_counts = {lang1: len(corpus.sentences1), lang2: len(corpus.sentences2)}
    sample = None
    if distractor_documents is not None:
        gold_docs, distractors = sample_documents(corpus, distractor_documents, seed)
        corpus = corpus.restricted([*gold_docs, *distractors])
        sample = {"gold_documents": len(gold_docs), "distractor_documents": distractors, "seed": seed,
                  "sentences_before": full_counts}
    outdir = Path(outdir)
    for lang, sentences in ((lang1, corpus.sentences1), (lang2, corpus.sentences2)):
        for sid, text in sentences.items():
            if "\n" in text or "\r" in text:
                raise InputError(path, f"sentence {sid!r} holds a line break")
        write_lines(outdir / f"{lang}.txt", (unicodedata.normalize("NFC", t) for t in sentences.values()))
        write_lines(outdir / f"{lang}.ids", sentences.keys())
    write_lines(outdir / "gold.tsv", (f"{a}\t{b}" for a, b in corpus.gold))
    meta = {"kind": "comparable", "source": str(path), "sentences": {lang1: len(corpus.sentences1), lang2: len(corpus.sentences2)},
            "gold": len(corpus.gold), "documents_compared": len(corpus.comparable_documents()),
            "skipped_gold": [{"line": line, "problem": problem} for line, problem in corpus.skipped_gold],
            "sample": sample}
    write_json(outdir / "meta.json", meta)
    return meta


def write_parallel_corpus(files: dict, outdir, max_sentences: int | None = None) -> dict:
    """Copy a line-aligned parallel set (``{lang: path}``) as NFC ``{lang}.txt`` files, after
    checking that the files are UTF-8 and have the same number of lines; ``max_sentences`` keeps
    the first that many lines (after checking them all)."""
    import unicodedata
    from pathlib import Path

    from .io import read_lines_strict, write_json, write_lines

    langs = list(files)
    lines = {lang: read_lines_strict(files[lang]) for lang in langs}
    counts = {lang: len(v) for lang, v in lines.items()}
    if len(set(counts.values())) != 1:
        shortest = min(langs, key=lambda lang: counts[lang])
        raise InputError(files[shortest], f"parallel test set is misaligned: line counts {counts}",
                         counts[shortest] + 1)
    for lang in langs:
        for number, line in enumerate(lines[lang], start=1):
            if not line.strip():
                raise InputError(files[lang], "empty line in a parallel test set", number)
    kept = {lang: v[:max_sentences] if max_sentences else v for lang, v in lines.items()}
    for lang in langs:
        write_lines(Path(outdir) / f"{lang}.txt", (unicodedata.normalize("NFC", t) for t in kept[lang]))
    meta = {"kind": "parallel", "source": {lang: str(p) for lang, p in files.items()},
            "sentences": {lang: len(v) for lang, v in kept.items()}, "sentences_in_source": counts,
            "first_lines_only": bool(max_sentences and max_sentences < min(counts.values()))}
    write_json(Path(outdir) / "meta.json", meta)
    return meta


def load_embeddings(path, expected_rows: int, source=None) -> np.ndarray:
    """An embedding array (.npy) checked against the number of sentences it should hold."""
    array = np.load(path)
    if array.ndim != 2 or len(array) != expected_rows:
        raise InputError(path, f"embeddings have shape {array.shape}, expected {expected_rows} rows "
                               f"(one per line of {source or 'the corpus'})")
    return array.astype(np.float32)
