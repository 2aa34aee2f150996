"""Evaluation of bitext mining: gold recall, precision/F1 at a margin threshold, P@1 and xsim
error on parallel sets, and seeded (paired) bootstrap confidence intervals.

Every evaluation keeps a 0/1 vector per metric over its evaluation units (gold pairs for
recall, source sentences for P@1/xsim), so that the aggregation step can resample the same
units for every encoder: the paired bootstrap that decides whether a strategy differs from
the reference strategy (``mlm_tlm``).
"""
from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

from .errors import InputError
from .mining import Mined, mine, mine_grouped, retrieval_accuracy

RESULT_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "metric", "value", "ci_low", "ci_high", "seed"]
SIGNIFICANCE_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "reference", "metric", "value",
                        "reference_value", "difference", "ci_low", "ci_high", "p_value", "significant", "seed"]


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


def evaluate_comparable(x, y, gold: Sequence[tuple[int, int]], docs_x: Sequence[str], docs_y: Sequence[str], *,
                        modes=("global", "per_doc"), k=4, candidates="max", threshold=1.06, index="flat",
                        index_options=None, batch_size=8192, progress=False):
    """Mine x against y globally and/or per comparable document pair; score against gold.

    Returns ``(metrics, flags, mined)``: metrics ``{mode}_recall`` (every candidate, no
    threshold), ``{mode}_precision``, ``{mode}_recall_at_threshold``, ``{mode}_f1`` (at the
    threshold); flags: per-gold-pair 0/1 vectors of the two recalls; mined: ``{mode: Mined}``
    (all candidates, thresholded by the caller when written).
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
        kept = m.above(threshold).pairs()
        at_threshold = precision_recall_f1(kept, gold)
        metrics[f"{mode}_recall"] = precision_recall_f1(everything, gold)["recall"]
        metrics[f"{mode}_precision"] = at_threshold["precision"]
        metrics[f"{mode}_recall_at_threshold"] = at_threshold["recall"]
        metrics[f"{mode}_f1"] = at_threshold["f1"]
        metrics[f"{mode}_mined_at_threshold"] = at_threshold["mined"]
        flags[f"{mode}_recall"] = gold_flags(everything, gold)
        flags[f"{mode}_recall_at_threshold"] = gold_flags(kept, gold)
    return metrics, flags, mined


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


def tabulate(evaluations: list[dict], *, seed: int, samples: int = 1000, confidence: float = 0.95,
             reference: str = "mlm_tlm") -> tuple[list[dict], list[dict]]:
    """Tidy result rows and significance rows from per-encoder evaluations.

    Each evaluation: ``{"dataset", "pair", "base", "strategy", "metrics": {name: value},
    "flags": {name: [0/1, ...]}}``. A metric with flags gets a bootstrap CI; for each
    (dataset, pair, base) the strategies other than ``reference`` are compared with it on
    every flagged metric (paired: the same resampled units for both).
    """
    rows, significance = [], []
    by_key = {(e["dataset"], e["pair"], e["base"], e["strategy"]): e for e in evaluations}
    for e in sorted(evaluations, key=lambda e: (e["dataset"], e["pair"], e["base"], e["strategy"])):
        for metric, value in e["metrics"].items():
            row = {"task": "mining", "dataset": e["dataset"], "pair": e["pair"], "base": e["base"],
                   "strategy": e["strategy"], "metric": metric, "value": value, "ci_low": "", "ci_high": "", "seed": ""}
            if metric in e.get("flags", {}):
                boot_seed = stable_seed(seed, e["dataset"], e["pair"], metric)
                flags = np.asarray(e["flags"][metric])
                indices = bootstrap_indices(len(flags), samples, boot_seed)
                row["ci_low"], row["ci_high"] = bootstrap_ci(flags, indices, confidence)
                row["seed"] = boot_seed
                ref = by_key.get((e["dataset"], e["pair"], e["base"], reference))
                if e["strategy"] != reference and ref is not None and metric in ref.get("flags", {}):
                    test = paired_bootstrap(flags, np.asarray(ref["flags"][metric]), indices, confidence)
                    significance.append({
                        "task": "mining", "dataset": e["dataset"], "pair": e["pair"], "base": e["base"],
                        "strategy": e["strategy"], "reference": reference, "metric": metric, "value": value,
                        "reference_value": ref["metrics"][metric], **test, "seed": boot_seed})
            rows.append(row)
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
