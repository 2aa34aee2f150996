"""Choosing the embedding prefix and layer on development data (never on a test set).

For every (prefix, layer) candidate, the untouched base encoder embeds the development parallel
sets (the prepared `valid` splits) and retrieves each source sentence's translation by cosine
(P@1, lemflow.mining.retrieval_accuracy). The candidate with the best mean P@1 over the sets is
chosen for every encoder of that base, so all strategies are embedded the same way and the
choice never sees test data. The first configured candidate is the default: another replaces it
only when it is better on the development sentences by an exact McNemar test (p < ``alpha``,
paired per sentence over all sets), so noise on a small development set changes nothing.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def candidate_grid(prefixes: Sequence[str | None], layers: Sequence[int]) -> list[dict]:
    """Every (prefix, layer) pair in configured order; None as a prefix means "the model's own"."""
    return [{"prefix": prefix, "layer": int(layer)} for prefix in prefixes for layer in layers]


def choose(candidates: Sequence[dict], p_at_1: Sequence[dict]) -> dict:
    """The candidate with the highest mean P@1 over the development sets (first on ties)."""
    if not candidates:
        raise ValueError("no embedding candidates to choose from")
    means = [float(np.mean(list(scores.values()))) if scores else float("nan") for scores in p_at_1]
    best = max(range(len(candidates)), key=lambda i: (-np.inf if np.isnan(means[i]) else means[i], -i))
    return dict(candidates[best])


def select(candidates: Sequence[dict], dev_sets: dict, embed_fn: Callable, resolve_prefix: Callable,
           alpha: float = 0.05) -> dict:
    """Score every candidate on ``dev_sets`` ({name: (source lines, target lines)}) with
    ``embed_fn(texts, prefix=..., layer=...)`` and choose; ``resolve_prefix`` turns a None prefix
    into the model's own. Returns {candidates: [{prefix, layer, p_at_1: {set: value}, mean}], chosen}."""
    from .mining import retrieval_accuracy
    from .stats import mcnemar_exact

    rows, flags = [], []
    for candidate in candidates:
        prefix = resolve_prefix(candidate["prefix"])
        scores, correct_all = {}, []
        for name, (src, tgt) in dev_sets.items():
            x = embed_fn(src, prefix=prefix, layer=candidate["layer"])
            y = embed_fn(tgt, prefix=prefix, layer=candidate["layer"])
            _, correct = retrieval_accuracy(x, y, margin=False)
            scores[name] = float(correct.mean()) if len(correct) else float("nan")
            correct_all.append(np.asarray(correct, dtype=bool))
        flags.append(np.concatenate(correct_all) if correct_all else np.zeros(0, dtype=bool))
        rows.append({"prefix": prefix, "layer": candidate["layer"], "p_at_1": scores,
                     "mean": float(np.mean(list(scores.values()))) if scores else float("nan")})
    chosen = choose([{"prefix": r["prefix"], "layer": r["layer"]} for r in rows], [r["p_at_1"] for r in rows])
    best = next(i for i, r in enumerate(rows) if {"prefix": r["prefix"], "layer": r["layer"]} == chosen)
    test = mcnemar_exact(flags[best], flags[0]) if best != 0 else {"p_value": 1.0}
    if best != 0 and test["p_value"] >= alpha:
        chosen = {"prefix": rows[0]["prefix"], "layer": rows[0]["layer"]}
        reason = (f"the default (first candidate): the best mean P@1 ({rows[best]['mean']:.4f}) is not significantly "
                  f"better on the development sentences (exact McNemar p = {test['p_value']:.3g})")
    elif best != 0:
        reason = f"best mean P@1, significantly better than the default (exact McNemar p = {test['p_value']:.3g})"
    else:
        reason = "best mean P@1 (the default)"
    return {"candidates": rows, "chosen": chosen, "reason": reason}
