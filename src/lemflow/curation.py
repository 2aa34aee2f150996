"""Parallel-data curation: score every pair of a noisy corpus with an encoder, keep the top N.

Scores are LASER ratio-margin scores of aligned pairs (``lemflow.mining.pair_margin_scores``)
over mean-pooled sentence embeddings (``lemflow.embedding.embed``). Selection quality is
measured against the noise labels: precision = share of the selected pairs that are clean,
recall = share of all clean pairs that were selected.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import InputError
from .noise import CLEAN


def score_pairs(model_dir, src: list[str], tgt: list[str], *, k: int = 4, layer: int = -1,
                batch_size: int = 64, max_length: int = 128, src_prefix: str = "",
                tgt_prefix: str = "", device="auto", precision: str = "fp32") -> np.ndarray:
    """Margin score of each aligned pair (src[i], tgt[i]) under the encoder in ``model_dir``
    (embedded on ``device`` in ``precision``: :mod:`lemflow.device`)."""
    from . import embedding
    from .mining import pair_margin_scores

    encoder = embedding.load_encoder(model_dir)  # once for both sides
    options = dict(layer=layer, batch_size=batch_size, max_length=max_length, progress=True, encoder=encoder,
                   device=device, precision=precision)
    x = embedding.embed(model_dir, src, prefix=src_prefix, **options)
    y = embedding.embed(model_dir, tgt, prefix=tgt_prefix, **options)
    return np.asarray(pair_margin_scores(x, y, k=max(1, min(k, len(src)))), dtype=np.float64)


def encoder_prefix(model_dir, configured: str | None = None) -> str:
    """Text to prepend to every sentence: ``configured`` when given, else what the encoder's
    ``lemflow_base.json`` asks for (``embedding.prefix``: "query: " for e5), else nothing."""
    if configured is not None:
        return configured
    from .embedding import model_prefix

    return model_prefix(model_dir)


def top_n(scores, n: int) -> np.ndarray:
    """Indices of the ``n`` highest scores, in corpus order. Ties broken by position (stable)
    so that the selection is deterministic."""
    scores = np.asarray(scores, dtype=np.float64)
    if n > len(scores):
        raise ValueError(f"cannot select {n} pairs from {len(scores)}")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[:n])


def random_n(size: int, n: int, seed: int) -> np.ndarray:
    """``n`` indices drawn uniformly without replacement (the random-N baseline), corpus order."""
    if n > size:
        raise ValueError(f"cannot select {n} pairs from {size}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(size, size=n, replace=False))


def selection_quality(selected, labels: list[str]) -> dict:
    """Noise-detection precision/recall/F1 of a selection, how many of each label it kept, and
    ``decisions``: one character per corpus pair, 1 where the selection decided it right (a
    clean pair kept, a noisy pair left out), 0 elsewhere (the units of McNemar's test between
    two selections)."""
    selected = np.asarray(selected, dtype=int)
    labels_arr = np.asarray(labels)
    clean_total = int((labels_arr == CLEAN).sum())
    kept = labels_arr[selected]
    clean_kept = int((kept == CLEAN).sum())
    precision = clean_kept / len(selected) if len(selected) else math.nan
    recall = clean_kept / clean_total if clean_total else math.nan
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    kept_by_label = {str(label): int((kept == label).sum()) for label in sorted(set(labels))}
    total_by_label = {str(label): int((labels_arr == label).sum()) for label in sorted(set(labels))}
    in_selection = np.zeros(len(labels_arr), dtype=bool)
    in_selection[selected] = True
    correct = in_selection == (labels_arr == CLEAN)
    return {"selected": int(len(selected)), "clean_selected": clean_kept, "clean_total": clean_total,
            "precision": precision, "recall": recall, "f1": f1,
            "kept_by_label": kept_by_label, "total_by_label": total_by_label,
            "decisions": "".join("1" if c else "0" for c in correct.tolist())}


def check_sizes(sizes: list[int], corpus_size: int, where: str) -> None:
    for n in sizes:
        if n < 1 or n > corpus_size:
            raise InputError(where, f"selection size {n} is not within 1..{corpus_size} (pairs in the noisy corpus)")


def read_scores(path) -> np.ndarray:
    from .io import read_lines_strict

    lines = read_lines_strict(path)
    try:
        return np.array([float(line) for line in lines])
    except ValueError:
        for number, line in enumerate(lines, 1):
            try:
                float(line)
            except ValueError:
                raise InputError(path, f"not a number: {line!r}", number) from None
        raise


def check_labels(labels: list[str], path, allowed: set[str]) -> None:
    for number, label in enumerate(labels, 1):
        if label not in allowed:
            raise InputError(path, f"unknown label {label!r} (expected one of {sorted(allowed)})", number)
