"""Sentiment stage: stratified splits, metrics, a tiny fine-tune, the workflow script."""
import json
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import tiny_encoder
from lemflow.errors import InputError
from lemflow.sentiment import (class_weights, classification_metrics, fine_tune, prepare_splits, stratified_split,
                               stratified_subsample, summarize_seeds, tidy_rows)

from conftest import REPO  # noqa: E402
SHARED_DATA = REPO.parent / "shared" / "data"
WORDS = {"Positive": "good great nice love supiri".split(), "Negative": "bad awful hate naraka mokakda".split(),
         "Neutral": "movie film ok meh ela".split()}
# the tiny masked LM the sentiment tests fine-tune (conftest.tiny_encoder)
ENCODER = dict(words=sorted({w for ws in WORDS.values() for w in ws}), layers=2, masked_lm=True, max_positions=80,
               split_punctuation=True)


def synthetic(n: int, seed: int) -> pd.DataFrame:
    """Separable toy data: a sentence's words come from its class's word list (plus neutral noise)."""
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = ["Positive", "Negative", "Neutral"][i % 3]
        words = rng.choices(WORDS[label], k=3) + rng.choices(WORDS["Neutral"], k=1)
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return pd.DataFrame(rows, columns=["text", "label"])


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    torch.set_num_threads(1)
    return tiny_encoder(tmp_path_factory.mktemp("enc"), **ENCODER)


# ------------------------------------------------------------------ splits
@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("abc"), min_size=2, max_size=60), st.floats(0.05, 0.5), st.integers(0, 99))
def test_stratified_split_partitions_and_keeps_proportions(labels, fraction, seed):
    kept, held = stratified_split(labels, fraction, seed)
    assert sorted(kept + held) == list(range(len(labels)))
    counts, held_counts = Counter(labels), Counter(labels[i] for i in held)
    for label, n in counts.items():
        if n >= 2:
            assert 1 <= held_counts[label] <= n - 1
            assert abs(held_counts[label] - fraction * n) <= 1
        else:
            assert held_counts[label] == 0
    assert stratified_split(labels, fraction, seed) == (kept, held)


def test_stratified_split_depends_on_seed():
    labels = ["a"] * 50 + ["b"] * 50
    assert stratified_split(labels, 0.2, 1)[1] != stratified_split(labels, 0.2, 2)[1]


def test_subsample_sizes():
    labels = ["a"] * 80 + ["b"] * 20
    idx = stratified_subsample(labels, 10, 3)
    assert Counter(labels[i] for i in idx) == {"a": 8, "b": 2}
    assert stratified_subsample(labels, None, 3) == list(range(100))
    assert stratified_subsample(labels, 500, 3) == list(range(100))


def test_prepare_splits_holdout_and_unknown_labels():
    train, dev = synthetic(60, 0), synthetic(12, 1)
    splits, labels, source = prepare_splits(train, dev, None, labels=None, test_fraction=0.2, max_train=None,
                                            max_eval=None, seed=5)
    assert labels == ["Negative", "Neutral", "Positive"]
    assert source == "train_holdout_0.2"
    assert len(splits["test"]) == 12 and len(splits["train"]) == 48
    assert list(splits["test"].index) == list(range(12))  # frames are re-indexed
    bad_dev = dev.copy()
    bad_dev.loc[0, "label"] = "Sarcastic"
    with pytest.raises(InputError, match="dev.csv.*Sarcastic"):
        prepare_splits(train, bad_dev, None, labels=None, test_fraction=0.2, max_train=None, max_eval=None,
                       seed=5, paths={"dev": "dev.csv"})


# ------------------------------------------------------------------ metrics
def test_metrics_against_hand_computed_values():
    labels = ["neg", "pos"]
    m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], labels)
    # class neg: P=1 R=.5 F1=2/3; class pos: P=2/3 R=1 F1=.8
    assert m["f1_neg"] == pytest.approx(2 / 3)
    assert m["f1_pos"] == pytest.approx(0.8)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["weighted_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["accuracy"] == pytest.approx(0.75)
    m = classification_metrics([0, 0, 0, 1], [0, 0, 0, 0], labels)
    assert m["weighted_f1"] == pytest.approx(0.75 * (2 * 0.75 / 1.75))
    assert m["f1_pos"] == 0.0


def test_summarize_and_tidy_rows():
    assert summarize_seeds([1.0, 3.0]) == (2.0, pytest.approx(2 ** 0.5))
    assert summarize_seeds([0.5]) == (0.5, 0.0)
    rows = tidy_rows({"seed": 7, "test": {"macro_f1": 0.5, "accuracy": 0.6}}, pair="si-en", base="b",
                     strategy="lem", dataset="x")
    assert [r["metric"] for r in rows] == ["macro_f1", "accuracy"]
    # seed: the pre-training seed index; repeat: the fine-tuning seed
    assert all(r["task"] == "sentiment" and r["seed"] == 0 and r["repeat"] == 7 and r["ci_low"] == "" for r in rows)


# ------------------------------------------------------------------ fine-tuning
TRAIN_SETTINGS = {"max_length": 16, "epochs": 15, "batch_size": 8, "learning_rate": 3e-3, "patience": 4,
                  "warmup_ratio": 0.1, "eval_every": 0}


def test_tiny_fine_tune_learns_and_is_deterministic(encoder):
    splits = {"train": synthetic(90, 0), "dev": synthetic(30, 1), "test": synthetic(30, 2)}
    labels = ["Negative", "Neutral", "Positive"]
    first = fine_tune(encoder, splits, labels, TRAIN_SETTINGS, seed=3, progress=False, log=lambda *a: None)
    assert first["test"]["macro_f1"] > 0.8, first["history"]
    assert first["sizes"] == {"train": 90, "dev": 30, "test": 30}
    best = max(h["dev_macro_f1"] for h in first["history"])
    assert first["dev"]["macro_f1"] == pytest.approx(best)  # the kept model is the best dev one
    again = fine_tune(encoder, splits, labels, TRAIN_SETTINGS, seed=3, progress=False, log=lambda *a: None)
    assert again["test"] == first["test"] and again["history"] == first["history"]


def test_early_stopping_stops(encoder):
    splits = {"train": synthetic(30, 0), "dev": synthetic(9, 1), "test": synthetic(9, 2)}
    settings_ = {**TRAIN_SETTINGS, "epochs": 30, "learning_rate": 0.0, "patience": 2}
    out = fine_tune(encoder, splits, ["Negative", "Neutral", "Positive"], settings_, seed=1, progress=False,
                    log=lambda *a: None)
    assert len(out["history"]) == 3  # lr 0: dev never improves after the first evaluation
    assert out["steps"] < 30 * 4


# ------------------------------------------------------------------ workflow script
def run_script(*args):
    proc = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / "sentiment.py"), *args],
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin",
                                                               "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_script_split_rejects_bad_label(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\nhello,Positive\nbye,Negative\n", encoding="utf-8")
    (tmp_path / "dev.csv").write_text("text,label\nhi,Positive\nyo,Weird\n", encoding="utf-8")
    spec = json.dumps({"train": str(tmp_path / "train.csv"), "dev": str(tmp_path / "dev.csv")})
    proc = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / "sentiment.py"), "split", "--pair", "si-en",
                           "--data", spec, "--settings", json.dumps({"test_fraction": 0.5, "labels": ["Positive", "Negative"]}),
                           "--seed", "1", "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "dev.csv:3" in proc.stderr and "Weird" in proc.stderr


@pytest.mark.shared
def test_shared_sentiment_splits():
    from lemflow.readers import read_sentiment_csv

    for pair in ("si-en", "ta-en"):
        train = read_sentiment_csv(SHARED_DATA / "sentiment" / pair / "train.csv")
        dev = read_sentiment_csv(SHARED_DATA / "sentiment" / pair / "dev.csv")
        splits, labels, _ = prepare_splits(train, dev, None, labels=None, test_fraction=0.1, max_train=2000,
                                           max_eval=500, seed=13)
        assert len(splits["train"]) == 2000 and len(splits["test"]) == 500
        assert set(splits["test"]["label"]) == set(labels)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=80), st.integers(1, 80), st.integers(0, 9))
def test_subsample_exact_size_and_proportional(labels, size, seed):
    idx = stratified_subsample(labels, size, seed)
    assert len(idx) == min(size, len(labels)) and len(set(idx)) == len(idx)
    if size < len(labels):
        counts, got = Counter(labels), Counter(labels[i] for i in idx)
        for label, n in counts.items():
            assert abs(got[label] - size * n / len(labels)) < 1


def test_freeze_embeddings_keeps_them(encoder):
    from transformers import AutoModelForSequenceClassification

    splits = {"train": synthetic(16, 0), "dev": synthetic(6, 1), "test": synthetic(6, 2)}
    labels = ["Negative", "Neutral", "Positive"]
    original = AutoModelForSequenceClassification.from_pretrained(encoder, num_labels=3)
    for freeze in (True, False):
        out = fine_tune(encoder, splits, labels, {**TRAIN_SETTINGS, "epochs": 1, "freeze_embeddings": freeze}, seed=1,
                        progress=False, log=lambda *a: None, keep_model=True)
        same = torch.equal(out["model"].get_input_embeddings().weight, original.get_input_embeddings().weight)
        assert same == freeze


def test_class_weights_balanced():
    w = class_weights([0, 0, 0, 1], 3)
    assert w == [pytest.approx(4 / 9), pytest.approx(4 / 3), 0.0]
    # weighted counts are equal across present classes
    assert 3 * w[0] == pytest.approx(1 * w[1])


def test_balanced_weighting_runs(encoder):
    splits = {"train": synthetic(30, 0).iloc[:20], "dev": synthetic(9, 1), "test": synthetic(9, 2)}
    out = fine_tune(encoder, splits, ["Negative", "Neutral", "Positive"],
                    {**TRAIN_SETTINGS, "epochs": 1, "class_weighting": "balanced"}, seed=1, progress=False,
                    log=lambda *a: None)
    assert out["settings"]["class_weighting"] == "balanced" and 0 <= out["test"]["macro_f1"] <= 1
    with pytest.raises(ValueError, match="class_weighting"):
        fine_tune(encoder, splits, ["Negative", "Neutral", "Positive"], {"class_weighting": "x"}, seed=1,
                  progress=False, log=lambda *a: None)


# ------------------------------------------------------------------ linear probe (issue 18)
def test_probe_on_frozen_features_learns_and_keeps_predictions(encoder):
    from lemflow.sentiment import probe

    splits = {"train": synthetic(90, 0), "dev": synthetic(30, 1), "test": synthetic(30, 2)}
    labels = ["Negative", "Neutral", "Positive"]
    runs = probe(encoder, splits, labels, {"max_length": 16, "probe": {"C": 10.0}}, [3, 4], log=lambda *a: None)
    assert [r["seed"] for r in runs] == [3, 4] and all(r["mode"] == "probe" for r in runs)
    assert runs[0]["test"]["accuracy"] > 0.6  # a random tiny encoder's mean-pooled words separate the toy classes
    assert len(runs[0]["test_predictions"]) == 30 and runs[0]["sizes"]["train"] == 90
    assert runs[0]["test"]["predicted_majority_share"] < 1.0
    assert runs[0]["converged"] and runs[0]["iterations"] < 2000
    messages = []
    capped = probe(encoder, splits, labels, {"max_length": 16, "probe": {"C": 10.0, "max_iter": 1}}, [3],
                   log=messages.append)
    assert not capped[0]["converged"] and any("without converging" in m for m in messages)
    again = probe(encoder, splits, labels, {"max_length": 16, "probe": {"C": 10.0}}, [3], log=lambda *a: None)
    assert again[0]["test_predictions"] == runs[0]["test_predictions"]  # seeded


def test_probe_significance_rows_identical_systems_and_seeded_names():
    from lemflow.sentiment import significance_rows

    def run(strategy, seed, predictions):
        gold = [0, 1, 2, 0, 1, 2]
        correct = sum(p == g for p, g in zip(predictions, gold)) / 6
        return {"pair": "si-en", "base": "b", "strategy": strategy, "seed": seed, "test_predictions": predictions,
                "test_gold": gold, "labels": ["a", "b", "c"],
                "test": {"macro_f1": correct, "weighted_f1": correct, "accuracy": correct}}

    runs = [run("mlm_tlm", 1, [0, 1, 2, 0, 0, 0]), run("mlm_tlm@s1", 1, [0, 1, 2, 0, 0, 0]),
            run("same", 1, [0, 1, 2, 0, 0, 0]), run("same@s1", 1, [0, 1, 2, 0, 0, 0]),
            run("lem", 1, [0, 1, 2, 0, 1, 2]), run("lem@s1", 1, [0, 1, 2, 0, 1, 2]),
            run("lem", 2, [0, 1, 2, 0, 1, 2]), run("mlm_tlm", 2, [0, 1, 2, 0, 0, 0])]  # a second probe seed: not counted
    rows = {(r["strategy"], r["metric"]): r
            for r in significance_rows(runs, reference="mlm_tlm", dataset={}, samples=200)}
    assert rows[("same", "accuracy")]["p_value"] == 1.0 and rows[("same", "accuracy")]["runs"] == 2
    assert rows[("same", "macro_f1")]["p_value"] == 1.0  # identical predictions: no difference
    assert rows[("lem", "macro_f1")]["test"].startswith("paired bootstrap")
    lem = rows[("lem", "accuracy")]
    assert (lem["only_strategy"], lem["only_reference"]) == (4, 0)  # 2 texts x 2 pre-training seeds
    assert lem["p_value"] == pytest.approx(2 * 0.5 ** 4) and lem["difference"] == pytest.approx(2 / 6)
    tidy = tidy_rows({"seed": 13, "test": {"accuracy": 0.5}}, pair="si-en", base="b", strategy="lem@s1", dataset="x")
    assert (tidy[0]["strategy"], tidy[0]["seed"], tidy[0]["repeat"]) == ("lem", 1, 13)
    assert lem["seeds"] == lem["reference_seeds"] == 2
