"""lemflow.mining against a brute-force numpy reference; lemflow.mining_eval metrics and bootstrap."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemflow import mining
from lemflow.mining import Mined, knn, mine, mine_grouped, pair_margin_scores, retrieval_accuracy
from lemflow.mining_eval import (average_precision, best_threshold, bootstrap_ci, bootstrap_indices,
                                 calibrated_metrics, evaluate_comparable, evaluate_parallel, f1_at, gold_flags,
                                 paired_bootstrap, precision_recall_f1, tabulate)


def unit(rng, n, d):
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def noisy_copy(rng, x, noise):
    y = x + noise * rng.normal(size=x.shape).astype(np.float32)
    return y / np.linalg.norm(y, axis=1, keepdims=True)


# --------------------------------------------------------------------------- brute-force reference
def reference_mine(x, y, k, candidates):
    """Full n x m similarity matrix in float64; LASER's mine_bitexts logic written out plainly."""
    sim = x.astype(np.float64) @ y.astype(np.float64).T
    kx, ky = min(k, sim.shape[1]), min(k, sim.shape[0])
    x_nn = np.argsort(-sim, axis=1, kind="stable")[:, :kx]
    y_nn = np.argsort(-sim.T, axis=1, kind="stable")[:, :ky]
    x_mean = np.take_along_axis(sim, x_nn, 1).mean(1)
    y_mean = np.take_along_axis(sim.T, y_nn, 1).mean(1)
    margin = sim / ((x_mean[:, None] + y_mean[None, :]) / 2)
    fwd = [(i, int(x_nn[i][np.argmax(margin[i, x_nn[i]])])) for i in range(len(x))]
    bwd = [(int(y_nn[j][np.argmax(margin[y_nn[j], j])]), j) for j in range(len(y))]
    if candidates == "forward":
        pairs = fwd
    elif candidates == "backward":
        pairs = bwd
    elif candidates == "intersect":
        pairs = sorted(set(fwd) & set(bwd))
    else:
        pool = sorted(fwd + bwd, key=lambda p: -margin[p])
        used_x, used_y, pairs = set(), set(), []
        for i, j in pool:
            if i not in used_x and j not in used_y:
                used_x.add(i)
                used_y.add(j)
                pairs.append((i, j))
    return {p: margin[p] for p in pairs}, margin, x_mean, y_mean


@pytest.mark.parametrize("candidates", mining.CANDIDATE_SETS)
@pytest.mark.parametrize("shape", [(300, 250, 16), (40, 60, 8), (3, 5, 4)])
def test_mine_matches_bruteforce(candidates, shape):
    n, m, d = shape
    rng = np.random.default_rng(n + m)
    x, y = unit(rng, n, d), unit(rng, m, d)
    got = mine(x, y, k=4, candidates=candidates, batch_size=64)
    expected, *_ = reference_mine(x, y, 4, candidates)
    assert set(got.pairs()) == set(expected)
    np.testing.assert_allclose(got.score, [expected[p] for p in got.pairs()], atol=1e-5)
    assert np.all(np.diff(got.score) <= 0)
    np.testing.assert_allclose(got.cosine, np.einsum("ij,ij->i", x[got.src], y[got.tgt]), atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 30), m=st.integers(1, 30), k=st.integers(1, 6), seed=st.integers(0, 10_000),
       candidates=st.sampled_from(mining.CANDIDATE_SETS))
def test_mine_property_bruteforce(n, m, k, seed, candidates):
    # Like real sentence embeddings, the vectors share a common direction (positive cosines):
    # with isotropic vectors in few dimensions a neighbourhood mean can be ~0 and the margin
    # ~1e3, where float32 rounding of the similarities alone exceeds any fixed tolerance.
    rng = np.random.default_rng(seed)
    shift = np.ones(6, dtype=np.float32)
    x = unit(rng, n, 6) + shift
    y = unit(rng, m, 6) + shift
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    got = mine(x, y, k=k, candidates=candidates, batch_size=7)
    expected, *_ = reference_mine(x, y, k, candidates)
    assert set(got.pairs()) == set(expected)
    # float32 inputs against a float64 reference; a margin can be large when its neighbourhood
    # means are near 0, hence the relative part of the tolerance
    np.testing.assert_allclose(got.score, [expected[p] for p in got.pairs()], rtol=1e-5, atol=1e-5)
    if candidates in ("max", "intersect"):  # one-to-one
        assert len(set(got.src.tolist())) == len(got) == len(set(got.tgt.tolist()))


def test_threshold_keeps_scores_at_or_above():
    rng = np.random.default_rng(1)
    x = unit(rng, 200, 64)
    y = np.concatenate([noisy_copy(rng, x[:100], 0.1), unit(rng, 100, 64)])
    everything = mine(x, y, candidates="max")
    kept = mine(x, y, candidates="max", threshold=1.5)
    assert 0 < len(kept) < len(everything)
    assert kept.score.min() >= 1.5
    assert set(kept.pairs()) == {p for p, s in zip(everything.pairs(), everything.score) if s >= 1.5}
    # the planted parallel pairs are the high-margin ones
    assert np.mean(kept.src == kept.tgt) > 0.95 and sum(kept.src == kept.tgt) > 90


def test_pair_margin_scores_matches_reference():
    rng = np.random.default_rng(2)
    x = unit(rng, 120, 12)
    y = noisy_copy(rng, x, 0.8)
    _, margin, _, _ = reference_mine(x, y, 4, "forward")
    np.testing.assert_allclose(pair_margin_scores(x, y, k=4), np.diag(margin), atol=1e-5)
    with pytest.raises(ValueError, match="aligned"):
        pair_margin_scores(x, y[:10])
    # clean pairs score higher than shuffled ones
    assert pair_margin_scores(x, noisy_copy(rng, x, 0.1)).mean() > pair_margin_scores(x, y[::-1]).mean()


def test_knn_batches_and_approximate_indexes_agree_with_exact():
    rng = np.random.default_rng(3)
    centres = unit(rng, 20, 32)
    x = noisy_copy(rng, centres[rng.integers(0, 20, 2000)], 0.3)
    y = noisy_copy(rng, x, 0.05)
    s_full, i_full = knn(x, y, 4, batch_size=10_000)
    s_b, i_b = knn(x, y, 4, batch_size=37)
    np.testing.assert_array_equal(i_full, i_b)
    np.testing.assert_allclose(s_full, s_b, atol=1e-6)
    exact = set(mine(x, y, candidates="intersect", threshold=1.05).pairs())
    for index, options in [("ivf", {"nlist": 20, "nprobe": 4, "seed": 5}), ("hnsw", {"ef_search": 64})]:
        approx = set(mine(x, y, candidates="intersect", threshold=1.05, index=index, index_options=options).pairs())
        assert len(exact & approx) >= 0.95 * len(exact)
    with pytest.raises(ValueError, match="index type"):
        knn(x, y, 4, index="lsh")


def test_mine_grouped_is_mining_within_each_group():
    rng = np.random.default_rng(4)
    x, y = unit(rng, 30, 8), unit(rng, 25, 8)
    gx = [f"d{i % 3}" for i in range(30)]
    gy = [f"d{i % 4}" for i in range(25)]  # d3 exists only on the y side
    got = mine_grouped(x, y, gx, gy, k=4, candidates="max")
    expected = {}
    for g in ("d0", "d1", "d2"):
        ix = np.array([i for i in range(30) if gx[i] == g])
        iy = np.array([j for j in range(25) if gy[j] == g])
        pairs, *_ = reference_mine(x[ix], y[iy], 4, "max")
        expected.update({(int(ix[a]), int(iy[b])): s for (a, b), s in pairs.items()})
    assert set(got.pairs()) == set(expected)
    np.testing.assert_allclose(got.score, [expected[p] for p in got.pairs()], atol=1e-5)
    assert all(gx[a] == gy[b] for a, b in got.pairs())


def test_retrieval_accuracy_and_duplicates():
    rng = np.random.default_rng(5)
    x = unit(rng, 50, 64)
    y = noisy_copy(rng, x, 0.02)
    _, ok = retrieval_accuracy(x, y, margin=False)
    assert ok.all()
    x2, y2 = x.copy(), y.copy()
    x2[7], y2[7] = x2[3], y2[3]  # a duplicated pair: rows 3 and 7 retrieve the same target row
    texts = [f"t{i}" for i in range(50)]
    texts_dup = list(texts)
    texts_dup[7] = texts_dup[3]
    ok_plain = evaluate_parallel(x2, y2)[1]["p_at_1"]
    ok_dup = evaluate_parallel(x2, y2, texts_dup)[1]["p_at_1"]
    assert ok_plain.sum() == 49 and ok_dup.all()


def test_evaluate_parallel_shuffled_is_bad():
    rng = np.random.default_rng(6)
    x = unit(rng, 80, 16)
    good, _ = evaluate_parallel(x, noisy_copy(rng, x, 0.2))
    bad, _ = evaluate_parallel(x, unit(rng, 80, 16))
    assert good["p_at_1"] > 0.9 and good["xsim_error"] < 0.1
    assert bad["p_at_1"] < 0.2 and bad["xsim_error"] > 0.8


# --------------------------------------------------------------------------- evaluation
def test_precision_recall_f1_by_hand():
    gold = [(0, 0), (1, 1), (2, 2), (3, 3)]
    mined = [(0, 0), (1, 1), (2, 5)]
    r = precision_recall_f1(mined, gold)
    assert r["recall"] == 0.5 and r["precision"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert gold_flags(mined, gold).tolist() == [1, 1, 0, 0]
    assert precision_recall_f1([], gold)["f1"] == 0.0


def test_evaluate_comparable_planted_pairs():
    rng = np.random.default_rng(7)
    n_docs, per_doc = 10, 12
    x = unit(rng, n_docs * per_doc, 64)
    y = unit(rng, n_docs * per_doc, 64)
    gold = [(d * per_doc + i, d * per_doc + i + 1) for d in range(n_docs) for i in range(0, 6)]
    for a, b in gold:
        y[b] = noisy_copy(rng, x[a:a + 1], 0.2)[0]
    docs = [f"doc{i // per_doc}" for i in range(len(x))]
    metrics, flags, mined = evaluate_comparable(x, y, gold, docs, docs)
    for mode in ("global", "per_doc"):
        assert metrics[f"{mode}_recall"] > 0.95
        assert metrics[f"{mode}_ap"] > 0.9  # planted pairs rank above the leftovers
        assert not any(k.endswith("_f1") or k.endswith("_precision") for k in metrics)  # no uncalibrated F1
        assert flags[f"{mode}_recall"].mean() == pytest.approx(metrics[f"{mode}_recall"])
        assert set(mined[mode].pairs()) >= {g for g, f in zip(gold, flags[f"{mode}_recall"]) if f}


def test_intersect_is_the_default_and_never_finds_more_than_max():
    rng = np.random.default_rng(3)
    x, y = unit(rng, 60, 16), unit(rng, 70, 16)
    assert set(mine(x, y).pairs()) == set(mine(x, y, candidates="intersect").pairs())
    assert len(mine(x, y, candidates="intersect")) <= len(mine(x, y, candidates="max"))


def test_average_precision_by_hand():
    # ranking: gold, non-gold, gold; 3 gold pairs in all (one is no candidate)
    assert average_precision([3.0, 2.0, 1.0], [1, 0, 1], 3) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert average_precision([1.0, 2.0], [1, 1], 2) == 1.0
    assert average_precision([], [], 2) == 0.0


def test_best_threshold_maximises_f1_and_keeps_ties_together():
    scores, gold = [1.5, 1.4, 1.3, 1.2, 1.1], [1, 1, 0, 1, 0]
    threshold, f1 = best_threshold(scores, gold, 3)
    # keep 2: P 1, R 2/3 -> 0.8; keep 4: P 3/4, R 1 -> 0.857
    assert threshold == 1.2 and f1 == pytest.approx(6 / 7)
    assert f1_at(scores, gold, 3, threshold)["f1"] == pytest.approx(f1)
    t, _ = best_threshold([1.0, 1.0, 0.5], [1, 0, 1], 2)  # a threshold keeps every tie of its score
    assert t in (1.0, 0.5)


def test_calibration_never_sees_test_labels():
    """The calibrated threshold depends on the calibration set only: changing (even inverting)
    the test set's gold labels moves its F1, never the threshold."""
    rng = np.random.default_rng(5)
    calib = {"ranking": {"global": {"score": sorted(rng.random(40) + 1, reverse=True),
                                    "gold": (rng.random(40) < 0.6).astype(int).tolist(), "n_gold": 30}}}
    scores = sorted(rng.random(50) + 1, reverse=True)
    labels = (rng.random(50) < 0.5).astype(int)
    test = {"ranking": {"global": {"score": scores, "gold": labels.tolist(), "n_gold": 40}}}
    flipped = {"ranking": {"global": {"score": scores, "gold": (1 - labels).tolist(), "n_gold": 40}}}
    a, b = calibrated_metrics(test, calib, "Calib"), calibrated_metrics(flipped, calib, "Calib")
    assert a["global_threshold_calibrated"] == b["global_threshold_calibrated"]
    assert a["global_threshold_calibrated"] == best_threshold(**{"scores": calib["ranking"]["global"]["score"],
                                                                "is_gold": calib["ranking"]["global"]["gold"],
                                                                "n_gold": 30})[0]
    assert a["global_f1_calibrated"] != b["global_f1_calibrated"] and a["calibrated_on"] == "Calib"


def test_bootstrap_ci_and_paired_significance():
    rng = np.random.default_rng(8)
    idx = bootstrap_indices(400, 1000, seed=11)
    np.testing.assert_array_equal(idx, bootstrap_indices(400, 1000, seed=11))
    a = (rng.random(400) < 0.7).astype(np.int8)
    low, high = bootstrap_ci(a, idx)
    assert low < a.mean() < high and high - low < 0.15
    better = a.copy()
    better[np.flatnonzero(a == 0)[:60]] = 1  # +15 points on the same units
    test = paired_bootstrap(better, a, idx)
    assert test["significant"] and test["ci_low"] > 0 and test["p_value"] < 0.05
    same = paired_bootstrap(a, a, idx)
    assert not same["significant"] and same["p_value"] == 1.0
    tiny = a.copy()
    tiny[np.flatnonzero(a == 0)[:1]] = 1  # one unit of difference is not significant
    assert not paired_bootstrap(tiny, a, idx)["significant"]


def test_tabulate_rows_and_significance():
    flags_ref = np.array([1, 0, 1, 0] * 50)
    flags_lem = np.array([1, 1, 1, 0] * 50)
    clusters = [f"d{i // 4}" for i in range(200)]
    evals = [
        {"dataset": "D", "pair": "si-en", "base": "b", "strategy": "mlm_tlm", "clusters": clusters,
         "metrics": {"global_recall": 0.5, "global_ap": 0.3}, "flags": {"global_recall": flags_ref.tolist()}},
        {"dataset": "D", "pair": "si-en", "base": "b", "strategy": "lem", "clusters": clusters,
         "metrics": {"global_recall": 0.75, "global_ap": 0.4}, "flags": {"global_recall": flags_lem.tolist()}},
    ]
    rows, sig = tabulate(evals, seed=13, samples=2000)
    assert len(rows) == 4
    recall_rows = [r for r in rows if r["metric"] == "global_recall"]
    assert all(r["ci_low"] <= r["value"] <= r["ci_high"] for r in recall_rows)  # every document alike: tight
    assert all(r["ci_low"] == "" for r in rows if r["metric"] == "global_ap")
    assert len(sig) == 1 and sig[0]["strategy"] == "lem" and sig[0]["significant"]
    assert sig[0]["difference"] == pytest.approx(0.25) and sig[0]["clusters"] == 50
    assert sig[0]["p_value"] == pytest.approx(1 / 2001)  # every document gains: resolves to 1/(samples+1)
    assert (sig[0]["only_strategy"], sig[0]["only_reference"]) == (50, 0)
    assert sig[0]["mcnemar_p"] == pytest.approx(2 * 0.5 ** 50)
    assert tabulate(evals, seed=13, samples=2000) == (rows, sig)


def test_tabulate_pools_pretraining_seeds():
    """Strategies named with a pre-training seed (lem@s1) are one strategy with two seeds: one
    result row per seed, one test over both seeds; identical systems give p = 1."""
    rng = np.random.default_rng(2)
    runs = {name: (rng.random(120) < 0.6).astype(int).tolist() for name in ("mlm_tlm", "mlm_tlm@s1")}
    evals = []
    for strategy in ("mlm_tlm", "mlm_tlm@s1", "lem", "lem@s1"):
        flags = runs[strategy.replace("lem", "mlm_tlm") if strategy.startswith("lem") else strategy]
        evals.append({"dataset": "D", "pair": "si-en", "base": "b", "strategy": strategy,
                      "metrics": {"per_doc_recall": float(np.mean(flags))}, "flags": {"per_doc_recall": flags}})
    rows, sig = tabulate(evals, seed=1, samples=500)
    assert sorted((r["strategy"], r["seed"]) for r in rows) == [("lem", 0), ("lem", 1), ("mlm_tlm", 0), ("mlm_tlm", 1)]
    assert len(sig) == 1 and sig[0]["seeds"] == 2 and sig[0]["reference_seeds"] == 2
    assert sig[0]["p_value"] == 1.0 and sig[0]["mcnemar_p"] == 1.0 and not sig[0]["significant"]


def test_tabulate_calibrated_f1_only_with_a_calibration_set():
    def ev(dataset, scores, gold):
        return {"dataset": dataset, "pair": "si-en", "base": "b", "strategy": "lem", "metrics": {"global_recall": 1.0},
                "flags": {}, "ranking": {"global": {"score": scores, "gold": gold, "n_gold": sum(gold)}}}
    evals = [ev("Test", [2.0, 1.9, 1.0], [1, 1, 0]), ev("Calib", [3.0, 1.8, 1.2], [1, 1, 0])]
    rows, _ = tabulate(evals, seed=1, samples=100, calibration={"si-en": {"Test": "Calib"}})
    got = {(r["dataset"], r["metric"]): r["value"] for r in rows}
    assert got[("Test", "global_threshold_calibrated")] == 1.8 and got[("Test", "global_f1_calibrated")] == 1.0
    assert not any(m.endswith("_calibrated") for d, m in got if d == "Calib")
    rows, _ = tabulate(evals, seed=1, samples=100)
    assert not any(r["metric"].endswith("_calibrated") for r in rows)


def test_mined_helpers():
    m = Mined(np.array([0, 1]), np.array([1, 0]), np.array([1.2, 0.9], np.float32), np.array([0.5, 0.4], np.float32))
    assert m.above(1.0).pairs() == [(0, 1)] and m.above(None) is m
    assert len(Mined.concat([Mined.empty(), m])) == 2
    with pytest.raises(ValueError, match="candidate set"):
        mining.candidates_from_knn(np.ones((1, 1)), np.zeros((1, 1), int), np.ones((1, 1)), np.zeros((1, 1), int), "best")
