"""Statistics for comparing two strategies: exact McNemar (per seed and pooled over seeds),
a paired cluster bootstrap that resamples pre-training seeds and clusters jointly, Holm's
correction, the minimum detectable difference, Welch's test that knows when it cannot test,
and degeneracy checks. Pure functions on arrays; no I/O.

Units, clusters and seeds. A comparison of strategies A and B on one evaluation set has, per
pre-training seed, a 0/1 (or real) outcome per unit (gold pair, test sentence, kept pair). Units
cluster (gold pairs of one document share the per-document matching, so their errors are
correlated), and seeds are independent training runs. The bootstrap resamples clusters with
replacement (the same clusters for A and B: paired) and, independently per strategy, seeds with
replacement, so that its interval covers test sampling and training randomness. With one seed
per strategy it covers test sampling only.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

# --------------------------------------------------------------------------- McNemar


def mcnemar_exact(a: Sequence[int], b: Sequence[int]) -> dict:
    """Exact McNemar test of paired 0/1 outcomes (1 = correct): ``b01`` units only A got right,
    ``b10`` units only B got right; p = two-sided binomial test of ``b01`` among the discordant
    units at 1/2 (p = 1 when there are none)."""
    a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
    if a.shape != b.shape:
        raise ValueError(f"McNemar needs paired outcomes of the same units: {a.shape} vs {b.shape}")
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    return {"only_a": only_a, "only_b": only_b, "p_value": _binomial_p(only_a, only_a + only_b)}


def _binomial_p(k: int, n: int) -> float:
    if n == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(min(1.0, binomtest(k, n, 0.5).pvalue))


def mcnemar_pooled(pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> dict:
    """McNemar over seeds, stratified by seed: the discordant counts of every seed are added.

    Why pooling: given each seed's number of discordant units n_s, under the null (A and B
    equally good on every seed) each seed's ``only_a`` is Binomial(n_s, 1/2) independently, so
    their sum is exactly Binomial(sum n_s, 1/2): an exact test that weights every discordant
    unit equally (Fisher's or Stouffer's combination would weight seeds equally instead and are
    only approximate for discrete p-values). ``per_seed`` keeps each seed's own exact test.
    It treats seeds' units as independent: for training variance use the cluster bootstrap."""
    per_seed = [mcnemar_exact(a, b) for a, b in pairs]
    only_a = sum(r["only_a"] for r in per_seed)
    only_b = sum(r["only_b"] for r in per_seed)
    return {"only_a": only_a, "only_b": only_b, "p_value": _binomial_p(only_a, only_a + only_b),
            "per_seed": per_seed}


def paired_proportion_se(only_a: int, only_b: int, units: int) -> float:
    """Standard error of the difference of two paired proportions (A right minus B right) from
    McNemar's discordant counts over ``units`` paired units: sqrt(b + c - (b - c)^2 / n) / n (the
    variance of the mean of the per-unit differences; NaN without units). With the counts pooled
    over seeds of equal size, it is the SE of the mean difference over seeds, for the minimum
    detectable difference of a McNemar comparison."""
    if units <= 0:
        return float("nan")
    b, c = float(only_a), float(only_b)
    return float(math.sqrt(max(0.0, b + c - (b - c) ** 2 / units)) / units)


# --------------------------------------------------------------------------- cluster bootstrap


def _cluster_sums(runs: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """(seeds, clusters) sums of each run's unit outcomes per cluster."""
    out = np.zeros((runs.shape[0], n_clusters))
    for s in range(runs.shape[0]):
        out[s] = np.bincount(codes, weights=runs[s], minlength=n_clusters)
    return out


def cluster_bootstrap(a_runs, b_runs, clusters=None, *, samples: int = 10000, seed: int = 0,
                      confidence: float = 0.95, batch: int = 2000) -> dict:
    """Paired cluster bootstrap of mean(A) - mean(B).

    ``a_runs`` (seeds_a, units) and ``b_runs`` (seeds_b, units): per-unit outcomes of each
    pre-training seed on the same units; ``clusters`` (units,): cluster label of every unit
    (None: every unit its own cluster). The statistic is the mean over seeds of the unit mean.
    Each resample draws clusters with replacement (the same draw for A and B) and, for each
    strategy on its own, seeds with replacement. Returns the observed difference, the
    percentile interval, the bootstrap standard error and the two-sided p of the shifted
    bootstrap distribution, p = (1 + #{|d* - d| >= |d|}) / (samples + 1) (so the smallest
    p is 1 / (samples + 1)); equal observed scores give p = 1.
    """
    a = np.atleast_2d(np.asarray(a_runs, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b_runs, dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"paired bootstrap needs the same units: {a.shape[1]} vs {b.shape[1]}")
    n = a.shape[1]
    if n == 0 or a.shape[0] == 0 or b.shape[0] == 0:
        return {"difference": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "se": float("nan"),
                "p_value": float("nan"), "samples": 0, "seeds_a": a.shape[0], "seeds_b": b.shape[0], "clusters": 0}
    labels = np.arange(n) if clusters is None else np.asarray(clusters)
    if len(labels) != n:
        raise ValueError(f"{len(labels)} cluster labels for {n} units")
    _, codes = np.unique(labels, return_inverse=True)
    n_clusters = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_clusters).astype(np.float64)
    sums_a, sums_b = _cluster_sums(a, codes, n_clusters), _cluster_sums(b, codes, n_clusters)
    observed = float(a.mean() - b.mean())

    def per_seed_means(weights):
        units = weights @ sizes                                     # (m,) units drawn
        return (weights @ sums_a.T) / units[:, None], (weights @ sums_b.T) / units[:, None]   # (m, seeds)

    diffs = _paired_resamples(per_seed_means, n_clusters, samples=samples, seed=seed, batch=batch)
    return {**_bootstrap_summary(observed, diffs, confidence), "seeds_a": int(a.shape[0]), "seeds_b": int(b.shape[0]),
            "clusters": n_clusters}


def _paired_resamples(per_seed_scores, n_units: int, *, samples: int, seed: int, batch: int) -> np.ndarray:
    """Bootstrap differences mean(A) - mean(B): each resample draws ``n_units`` units with
    replacement (the same draw for A and B; passed as (m, n_units) counts to ``per_seed_scores``,
    which returns each side's (m, seeds) scores) and, per side, its seeds with replacement."""
    rng = np.random.default_rng(seed)
    diffs = np.empty(samples)
    for start in range(0, samples, batch):
        m = min(batch, samples - start)
        # unit counts of m resamples of n_units draws with replacement (one flat bincount)
        draws = rng.integers(0, n_units, size=(m, n_units)) + n_units * np.arange(m)[:, None]
        weights = np.bincount(draws.ravel(), minlength=m * n_units).reshape(m, n_units).astype(np.float64)
        per_seed_a, per_seed_b = per_seed_scores(weights)
        pick_a = rng.integers(0, per_seed_a.shape[1], size=(m, per_seed_a.shape[1]))
        pick_b = rng.integers(0, per_seed_b.shape[1], size=(m, per_seed_b.shape[1]))
        diffs[start:start + m] = (np.take_along_axis(per_seed_a, pick_a, 1).mean(1)
                                  - np.take_along_axis(per_seed_b, pick_b, 1).mean(1))
    return diffs


def _bootstrap_summary(observed: float, diffs: np.ndarray, confidence: float) -> dict:
    """Percentile interval, SE and the shifted-distribution two-sided p of bootstrap differences."""
    alpha = (1.0 - confidence) / 2.0
    samples = len(diffs)
    p = 1.0 if observed == 0.0 else float((1 + np.sum(np.abs(diffs - observed) >= abs(observed) - 1e-12)) / (samples + 1))
    return {"difference": observed, "ci_low": float(np.quantile(diffs, alpha)),
            "ci_high": float(np.quantile(diffs, 1.0 - alpha)), "se": float(diffs.std(ddof=1)),
            "p_value": min(1.0, p), "samples": int(samples)}


def _f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, support: np.ndarray, average: str) -> np.ndarray:
    """F1 averaged over classes from (..., classes) counts; a class with no true, no predicted
    example scores 0 (scikit-learn's ``zero_division=0``)."""
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=np.float64), where=denominator > 0)
    if average == "macro":
        return f1.mean(-1)
    if average == "weighted":
        support = np.broadcast_to(support, f1.shape)
        total = support.sum(-1)
        return np.divide((f1 * support).sum(-1), total, out=np.zeros_like(total, dtype=np.float64), where=total > 0)
    raise ValueError(f"average must be 'macro' or 'weighted', not {average!r}")


def f1_bootstrap(a_predictions, b_predictions, gold, n_classes: int, *, average: str = "macro",
                 samples: int = 10000, seed: int = 0, confidence: float = 0.95, batch: int = 1000) -> dict:
    """Paired bootstrap of F1(A) - F1(B) on one test set: F1 is not a mean of per-text outcomes, so
    the cluster bootstrap above does not apply. ``a_predictions`` (seeds_a, texts) and
    ``b_predictions`` (seeds_b, texts): predicted class ids of each pre-training seed; ``gold``
    (texts,). The statistic is the mean over seeds of each seed's F1. A resample draws texts with
    replacement (the same draw for A and B) and, per strategy, seeds with replacement; the counts
    are weighted by the draw, so every resample is a few matrix products. Returns what
    ``cluster_bootstrap`` returns (difference, percentile interval, se, shifted-distribution p)."""
    a = np.atleast_2d(np.asarray(a_predictions, dtype=np.int64))
    b = np.atleast_2d(np.asarray(b_predictions, dtype=np.int64))
    g = np.asarray(gold, dtype=np.int64)
    if a.shape[1] != len(g) or b.shape[1] != len(g):
        raise ValueError(f"paired bootstrap needs predictions for the same {len(g)} texts: {a.shape[1]} and {b.shape[1]}")
    classes = np.arange(n_classes)
    true_onehot = (g[:, None] == classes).astype(np.float64)                 # (texts, classes)

    def indicators(predictions):
        """(seeds, texts, classes) indicators of a true positive and of a prediction."""
        predicted = (predictions[:, :, None] == classes).astype(np.float64)
        return predicted * true_onehot, predicted

    def f1_of(parts, weights):
        true_positives, predicted = (np.einsum("mt,stc->msc", weights, x) for x in parts)  # (m, seeds, classes)
        support = (weights @ true_onehot)[:, None, :]
        return _f1_from_counts(true_positives, predicted - true_positives, support - true_positives, support, average)

    parts_a, parts_b = indicators(a), indicators(b)
    ones = np.ones((1, len(g)))
    observed = float(f1_of(parts_a, ones).mean() - f1_of(parts_b, ones).mean())
    diffs = _paired_resamples(lambda weights: (f1_of(parts_a, weights), f1_of(parts_b, weights)), len(g),
                              samples=samples, seed=seed, batch=batch)
    return {**_bootstrap_summary(observed, diffs, confidence), "seeds_a": int(a.shape[0]), "seeds_b": int(b.shape[0])}


# --------------------------------------------------------------------------- multiple comparisons, power


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone, capped at 1); NaN stays NaN and does not
    count in the family size."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        out[i] = min(1.0, running)
    return out.tolist()


def minimum_detectable_difference(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true difference a two-sided level-``alpha`` test with standard error ``se``
    detects with probability ``power`` (normal approximation): (z_{1-alpha/2} + z_power) * se."""
    from scipy.stats import norm

    if se is None or math.isnan(se):
        return float("nan")
    return float((norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power)) * se)


# --------------------------------------------------------------------------- seed-level tests


def _constant(values: np.ndarray) -> bool:
    """No spread beyond rounding: repeats of a deterministic run averaged in another order differ
    by ~1e-17, and a t-test on that 'variance' gives p ~ 1e-30."""
    return bool(np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())))


def welch(a: Sequence[float], b: Sequence[float]) -> tuple[float, str]:
    """(p, status) of Welch's t-test over seeds. status: ``ok``; ``too few`` (a side has < 2
    values: p NaN); ``equal`` (identical values on both sides: p = 1); ``not testable`` (both
    sides without variance, up to rounding, but different means: no t statistic exists, p NaN)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), "too few"
    if _constant(a) and _constant(b):
        return (1.0, "equal") if np.isclose(a.mean(), b.mean(), rtol=1e-12, atol=1e-12) else (float("nan"), "not testable")
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue), "ok"


def welch_se(a: Sequence[float], b: Sequence[float]) -> float:
    """Standard error of mean(a) - mean(b) from the seeds' variances (NaN with < 2 per side)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))


# --------------------------------------------------------------------------- degenerate systems


def majority_share(predictions: Sequence) -> float:
    """Share of the most frequent predicted label (1.0: a classifier that predicts one class)."""
    predictions = list(predictions)
    if not predictions:
        return float("nan")
    _, counts = np.unique(np.asarray(predictions, dtype=str), return_counts=True)
    return float(counts.max() / len(predictions))


def degenerate_reason(*, empty_share: float | None = None, majority: float | None = None,
                      n_classes: int | None = None, empty_limit: float = 0.5) -> str:
    """Why a system is degenerate ("" when it is not): an NMT system that left more than
    ``empty_limit`` of the test sentences empty, or a classifier that predicted one class."""
    if empty_share is not None and not math.isnan(empty_share) and empty_share > empty_limit:
        return f"{empty_share:.0%} empty hypotheses"
    if majority is not None and not math.isnan(majority) and majority >= 1.0 and (n_classes or 2) > 1:
        return "predicts one class"
    return ""
