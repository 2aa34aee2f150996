"""lemflow.stats on known cases: identical systems, planted differences, Holm on a known family."""
import math

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from lemflow import stats


def test_mcnemar_identical_systems_p_one():
    a = np.array([1, 0, 1, 1, 0, 1])
    assert stats.mcnemar_exact(a, a) == {"only_a": 0, "only_b": 0, "p_value": 1.0}
    pooled = stats.mcnemar_pooled([(a, a), (1 - a, 1 - a)])
    assert pooled["p_value"] == 1.0 and pooled["only_a"] == pooled["only_b"] == 0


def test_mcnemar_known_counts():
    # 10 discordant units, all won by A: p = 2 * 0.5**10
    a = np.r_[np.ones(10), np.ones(5), np.zeros(5)]
    b = np.r_[np.zeros(10), np.ones(5), np.zeros(5)]
    result = stats.mcnemar_exact(a, b)
    assert (result["only_a"], result["only_b"]) == (10, 0)
    assert result["p_value"] == pytest.approx(2 * 0.5 ** 10)


def test_mcnemar_pooled_adds_discordant_counts_per_seed():
    a1, b1 = np.array([1, 1, 1, 0]), np.array([0, 0, 1, 0])   # 2 only-A
    a2, b2 = np.array([1, 0, 0, 1]), np.array([0, 1, 0, 1])   # 1 only-A, 1 only-B
    pooled = stats.mcnemar_pooled([(a1, b1), (a2, b2)])
    assert (pooled["only_a"], pooled["only_b"]) == (3, 1)
    assert pooled["p_value"] == pytest.approx(binomtest(3, 4, 0.5).pvalue)
    assert [s["only_a"] for s in pooled["per_seed"]] == [2, 1]


def test_mcnemar_planted_difference_found_at_the_exact_power():
    """40 discordant units, A wins each with probability 0.8: the rejection rate at 5% matches
    the exact power of the binomial test (computed from its rejection region)."""
    n, pi, alpha = 40, 0.8, 0.05
    region = [k for k in range(n + 1) if binomtest(k, n, 0.5).pvalue < alpha]
    power = float(sum(binom.pmf(k, n, pi) for k in region))
    rng = np.random.default_rng(0)
    rejected = []
    for _ in range(400):
        k = int(rng.binomial(n, pi))
        a = np.r_[np.ones(k), np.zeros(n - k)]
        rejected.append(stats.mcnemar_exact(a, 1 - a)["p_value"] < alpha)
    assert abs(np.mean(rejected) - power) < 0.06
    null = [stats.mcnemar_exact(*(lambda k: (np.r_[np.ones(k), np.zeros(n - k)], np.r_[np.zeros(k), np.ones(n - k)]))(
        int(rng.binomial(n, 0.5))))["p_value"] < alpha for _ in range(400)]
    assert np.mean(null) <= alpha + 0.02  # exact test: never above its level (beyond sampling noise)


def test_paired_proportion_se_is_the_se_of_the_mean_unit_difference():
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    test = stats.mcnemar_exact(a, b)
    d = a.astype(float) - b
    assert stats.paired_proportion_se(test["only_a"], test["only_b"], 200) == pytest.approx(d.std() / math.sqrt(200))
    assert stats.paired_proportion_se(0, 0, 50) == 0.0 and math.isnan(stats.paired_proportion_se(0, 0, 0))


def test_cluster_bootstrap_identical_systems_p_one():
    rng = np.random.default_rng(1)
    runs = rng.integers(0, 2, size=(2, 120))
    clusters = np.repeat(np.arange(30), 4)
    result = stats.cluster_bootstrap(runs, runs.copy(), clusters, samples=500, seed=3)
    assert result["difference"] == 0.0 and result["p_value"] == 1.0
    assert result["clusters"] == 30 and result["seeds_a"] == 2


def test_cluster_bootstrap_resolves_small_p():
    a = np.ones((1, 200))
    b = np.r_[np.ones(100), np.zeros(100)][None, :]
    result = stats.cluster_bootstrap(a, b, samples=5000, seed=0)
    assert result["p_value"] == pytest.approx(1 / 5001)
    assert result["ci_low"] > 0.4


def _clustered(rng, n_clusters, size, rate, effect_sd):
    """0/1 outcomes with a per-cluster random effect on the logit (correlated within a cluster)."""
    logit = math.log(rate / (1 - rate)) + rng.normal(0, effect_sd, n_clusters)
    p = 1 / (1 + np.exp(-np.repeat(logit, size)))
    return (rng.random(n_clusters * size) < p).astype(float)


def test_cluster_bootstrap_planted_difference_at_mdd_found_with_80_percent_power():
    """A planted difference equal to the minimum detectable difference (from a pilot's
    bootstrap SE) is found in about 80% of replications; with no difference in about 5%."""
    rng = np.random.default_rng(7)
    clusters = np.repeat(np.arange(40), 5)

    def replicate(q):
        shared = _clustered(rng, 40, 5, 0.5, 1.0)             # what both systems share (paired, clustered)
        b = np.where(rng.random(200) < 0.2, 1.0 - shared, shared)
        a = np.where(rng.random(200) < 0.2, 1.0 - shared, shared)
        return np.maximum(a, rng.random(200) < q), b          # E[a] - E[b] = q / 2

    pilot = stats.cluster_bootstrap(*replicate(0.0), clusters, samples=2000, seed=1)
    mdd = stats.minimum_detectable_difference(pilot["se"], 0.05, 0.8)
    delta = 2 * mdd
    hits = [stats.cluster_bootstrap(*replicate(delta), clusters, samples=400, seed=i)["p_value"] < 0.05
            for i in range(150)]
    nulls = [stats.cluster_bootstrap(*replicate(0.0), clusters, samples=400, seed=i)["p_value"] < 0.05
             for i in range(150)]
    print("hit rate", np.mean(hits), "null rate", np.mean(nulls), "mdd", mdd)
    assert 0.62 <= np.mean(hits) <= 0.95
    assert np.mean(nulls) <= 0.12


def test_cluster_bootstrap_seed_variance_widens_interval():
    """Seeds that disagree widen the interval compared with one seed (training variance)."""
    rng = np.random.default_rng(0)
    b = (rng.random((1, 400)) < 0.5).astype(float)
    one = stats.cluster_bootstrap(b[:, :], b * 0 + (rng.random((1, 400)) < 0.55), samples=2000, seed=0)
    spread = np.vstack([(rng.random(400) < r) for r in (0.45, 0.65, 0.5, 0.6)]).astype(float)
    many = stats.cluster_bootstrap(b, spread, samples=2000, seed=0)
    assert many["se"] > one["se"]


def test_holm_known_family():
    # the textbook example: p = (0.01, 0.04, 0.03, 0.005) -> 0.03, 0.06, 0.06, 0.02
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = stats.holm([0.2, float("nan"), 0.01])
    assert adjusted[0] == pytest.approx(0.2) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.02)
    assert stats.holm([0.9, 0.8]) == [1.0, 1.0]


def test_minimum_detectable_difference():
    assert stats.minimum_detectable_difference(0.01) == pytest.approx((1.959964 + 0.841621) * 0.01, rel=1e-5)
    assert math.isnan(stats.minimum_detectable_difference(float("nan")))


def test_welch_statuses():
    assert stats.welch([0.0, 0.0], [0.0, 0.0]) == (1.0, "equal")
    p, status = stats.welch([0.0, 0.0], [1.0, 1.0])
    assert math.isnan(p) and status == "not testable"
    p, status = stats.welch([0.1], [0.2, 0.3])
    assert math.isnan(p) and status == "too few"
    p, status = stats.welch([0.1, 0.2, 0.15], [0.5, 0.6, 0.55])
    assert status == "ok" and p < 0.01
    # identical repeats whose mean carries rounding noise (as pandas' averaging leaves it) are no sample:
    # a t-test on a 1e-17 'spread' would give p ~ 1e-30 for any difference
    p, status = stats.welch([0.43157752292026114] * 3, [0.4323855865021865, 0.4323855865021866, 0.4323855865021865])
    assert math.isnan(p) and status == "not testable"
    assert stats.welch([0.2, 0.2 + 1e-17], [0.2, 0.2]) == (1.0, "equal")


def test_f1_bootstrap_matches_sklearn_and_finds_a_planted_difference():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, size=400)
    noisy = lambda rate, seed: np.where(np.random.default_rng(seed).random(400) < rate,  # noqa: E731
                                        np.random.default_rng(seed + 1).integers(0, 3, 400), gold)
    good = [noisy(0.2, 1), noisy(0.2, 3)]
    bad = [noisy(0.6, 5), noisy(0.6, 7)]
    for average in ("macro", "weighted"):
        out = stats.f1_bootstrap(good, bad, gold, 3, average=average, samples=2000, seed=1)
        expected = (np.mean([f1_score(gold, p, average=average, labels=[0, 1, 2]) for p in good])
                    - np.mean([f1_score(gold, p, average=average, labels=[0, 1, 2]) for p in bad]))
        assert out["difference"] == pytest.approx(expected)
        assert out["ci_low"] < expected < out["ci_high"] and out["ci_low"] > 0 and out["p_value"] < 0.01
    same = stats.f1_bootstrap(good, good, gold, 3, samples=500)
    assert same["difference"] == 0.0 and same["p_value"] == 1.0
    # a class never predicted nor present scores 0 (scikit-learn's zero_division=0)
    out = stats.f1_bootstrap([[0, 1, 0, 1]], [[0, 0, 0, 0]], [0, 1, 0, 1], 3, samples=200)
    assert out["difference"] == pytest.approx(f1_score([0, 1, 0, 1], [0, 1, 0, 1], labels=[0, 1, 2], average="macro",
                                                        zero_division=0)
                                              - f1_score([0, 1, 0, 1], [0, 0, 0, 0], labels=[0, 1, 2], average="macro",
                                                         zero_division=0))
    with pytest.raises(ValueError, match="same 4 texts"):
        stats.f1_bootstrap([[0, 1, 0]], [[0, 0, 0, 0]], [0, 1, 0, 1], 3)


def test_degenerate():
    assert stats.majority_share(["a", "a", "a"]) == 1.0
    assert stats.degenerate_reason(majority=1.0, n_classes=3) == "predicts one class"
    assert stats.degenerate_reason(majority=0.6, n_classes=3) == ""
    assert stats.degenerate_reason(empty_share=0.9) == "90% empty hypotheses"
    assert stats.degenerate_reason(empty_share=0.1) == ""
