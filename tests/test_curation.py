"""lemflow.curation: top-N / random-N selection, noise-detection P/R, scoring wiring, and the
curate / inject_noise entry points on a tiny random encoder."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import tiny_encoder
from lemflow import curation
from lemflow.curation import random_n, selection_quality, top_n
from lemflow.errors import InputError

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_top_n_highest_in_corpus_order_ties_stable():
    scores = [0.1, 0.9, 0.5, 0.9, 0.2, 0.7]
    assert top_n(scores, 3).tolist() == [1, 3, 5]
    assert top_n([1.0, 1.0, 1.0, 1.0], 2).tolist() == [0, 1]  # ties: earlier lines first
    with pytest.raises(ValueError):
        top_n(scores, 7)
    with pytest.raises(ValueError, match="NaN"):
        top_n([0.1, float("nan")], 1)


def test_random_n_seeded_without_replacement():
    a = random_n(100, 30, seed=5)
    assert a.tolist() == random_n(100, 30, seed=5).tolist()
    assert a.tolist() != random_n(100, 30, seed=6).tolist()
    assert len(set(a.tolist())) == 30 and a.min() >= 0 and a.max() < 100 and (np.diff(a) > 0).all()


def test_selection_quality_precision_recall():
    labels = ["clean", "copy", "clean", "clean", "misaligned", "clean"]
    q = selection_quality([0, 1, 2], labels)
    assert q["precision"] == pytest.approx(2 / 3) and q["recall"] == pytest.approx(2 / 4)
    assert q["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert q["kept_by_label"] == {"clean": 2, "copy": 1, "misaligned": 0}
    assert q["total_by_label"] == {"clean": 4, "copy": 1, "misaligned": 1}


def test_encoder_prefix(tmp_path):
    assert curation.encoder_prefix(tmp_path) == ""
    (tmp_path / "lemflow_base.json").write_text(json.dumps({"embedding": {"prefix": "query: "}}))
    assert curation.encoder_prefix(tmp_path) == "query: "
    assert curation.encoder_prefix(tmp_path, "") == "" and curation.encoder_prefix(tmp_path, "x: ") == "x: "


def test_check_sizes():
    curation.check_sizes([1, 10], 10, "config curation.sizes")
    with pytest.raises(InputError, match="selection size 11 is not within 1..10"):
        curation.check_sizes([11], 10, "config curation.sizes")


def test_score_pairs_ranks_translations_above_noise(monkeypatch):
    """With embeddings where a translation lands next to its source, margin top-N finds the
    clean pairs: checks the embed -> pair_margin_scores -> top_n wiring."""
    rng = np.random.default_rng(0)
    n, dim = 60, 16
    meaning = rng.normal(size=(n, dim))
    labels = ["clean" if i % 3 else "misaligned" for i in range(n)]
    src = [f"s{i}" for i in range(n)]
    tgt = [f"t{i}" if labels[i] == "clean" else f"t{(i + 7) % n}" for i in range(n)]

    def fake_embed(model_dir, sentences, *, layer=-1, batch_size=64, max_length=128, prefix="", **options):
        vectors = np.stack([meaning[int(s[1:])] + 0.05 * rng.normal(size=dim) for s in sentences])
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    monkeypatch.setattr("lemflow.embedding.embed", fake_embed)
    monkeypatch.setattr("lemflow.embedding.load_encoder", lambda model_dir: None)
    scores = curation.score_pairs("unused", src, tgt, k=4)
    assert scores.shape == (n,)
    q = selection_quality(top_n(scores, 40), labels)
    assert q["precision"] == 1.0 and q["recall"] == 1.0


def synthetic_corpus(n, seed=0):
    rng = np.random.default_rng(seed)
    rows = [rng.integers(0, 40, size=rng.integers(3, 9)) for _ in range(n)]
    return ([" ".join(f"si{i}" for i in r) for r in rows], [" ".join(f"en{i}" for i in r[::-1]) for r in rows],
            [" ".join(f"ta{i}" for i in r) for r in rows])


def run_script(name, *args):
    result = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / name), *map(str, args)],
                            capture_output=True, text=True, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_inject_noise_and_curate_scripts(tmp_path):
    si, en, ta = synthetic_corpus(120)
    (tmp_path / "train.si").write_text("\n".join(si) + "\n", encoding="utf-8")
    (tmp_path / "train.en").write_text("\n".join(en) + "\n", encoding="utf-8")
    (tmp_path / "third.ta").write_text("\n".join(ta) + "\n", encoding="utf-8")
    noise = json.dumps({"rate": 0.5})
    out = tmp_path / "cur" / "noisy"
    run_script("inject_noise.py", "--pair", "si-en", "--clean-prefix", tmp_path / "train", "--third",
               tmp_path / "third.ta", "--settings", noise, "--seed", 3, "--out-prefix", out)
    labels = (tmp_path / "cur" / "noisy.labels").read_text().splitlines()
    noisy_si = (tmp_path / "cur" / "noisy.si").read_text().splitlines()
    noisy_en = (tmp_path / "cur" / "noisy.en").read_text().splitlines()
    stats = json.loads((tmp_path / "cur" / "noisy.stats.json").read_text())
    assert len(labels) == len(noisy_si) == len(noisy_en) == 120 and stats["labels"]["clean"] == 60
    assert any(t in ta for t, label in zip(noisy_en, labels) if label == "wrong_language")

    encoder = tiny_encoder(tmp_path / "enc", sorted({w for s in si + en + ta for w in s.split()}))
    settings = json.dumps({"sizes": [30, 60], "k": 4, "embed": {"layer": -1, "batch_size": 16, "max_length": 128, "precision": "auto"}})
    for what, outdir in ((["--model-dir", encoder], tmp_path / "sel"), (["--random"], tmp_path / "rnd")):
        run_script("curate.py", "--pair", "si-en", "--noisy-prefix", out, *what, "--settings", settings,
                   "--seed", 3, "--outdir", outdir)
        report = json.loads((outdir / "selection.json").read_text())
        for n in (30, 60):
            sel_si = (outdir / f"top{n}.si").read_text().splitlines()
            sel_en = (outdir / f"top{n}.en").read_text().splitlines()
            assert len(sel_si) == len(sel_en) == n
            pairs = list(zip(noisy_si, noisy_en))
            assert all(p in pairs for p in zip(sel_si, sel_en))
            quality = report["sizes"][str(n)]
            assert quality["selected"] == n and 0 <= quality["precision"] <= 1 and 0 <= quality["recall"] <= 1
            assert quality["recall"] == pytest.approx(quality["clean_selected"] / 60)
    scores = (tmp_path / "sel" / "scores.txt").read_text().splitlines()
    assert len(scores) == 120
    # the top-30 are the 30 highest scores
    order = np.argsort(-np.array([float(s) for s in scores]), kind="stable")[:30]
    assert [pairs[i] for i in sorted(order)] == list(zip(
        (tmp_path / "sel" / "top30.si").read_text().splitlines(), (tmp_path / "sel" / "top30.en").read_text().splitlines()))


def test_curate_rejects_size_larger_than_corpus(tmp_path):
    for ext, lines in (("si", ["a b"] * 5), ("en", ["c d"] * 5), ("labels", ["clean"] * 5)):
        (tmp_path / f"noisy.{ext}").write_text("\n".join(lines) + "\n")
    result = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / "curate.py"), "--pair", "si-en",
                             "--noisy-prefix", str(tmp_path / "noisy"), "--random", "--settings",
                             json.dumps({"sizes": [6]}), "--seed", "1", "--outdir", str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "selection size 6 is not within 1..5" in result.stderr


def test_given_noisy_corpus_with_and_without_labels(tmp_path):
    (tmp_path / "web.si").write_text("අ ආ\nඉ ඊ\nඋ ඌ\n", encoding="utf-8")
    (tmp_path / "web.en").write_text("a b\nc d\ne f\n", encoding="utf-8")
    (tmp_path / "web.labels").write_text("clean\ncopy\nclean\n", encoding="utf-8")
    spec = {"format": "text", "path": str(tmp_path / "web"), "labels": str(tmp_path / "web.labels")}
    run_script("inject_noise.py", "--pair", "si-en", "--corpus", json.dumps(spec), "--settings", "{}",
               "--seed", 1, "--out-prefix", tmp_path / "out" / "noisy")
    assert (tmp_path / "out" / "noisy.labels").read_text().splitlines() == ["clean", "copy", "clean"]
    assert (tmp_path / "out" / "noisy.si").read_text(encoding="utf-8").splitlines()[0] == "අ ආ"
    del spec["labels"]
    run_script("inject_noise.py", "--pair", "si-en", "--corpus", json.dumps(spec), "--settings", "{}",
               "--seed", 1, "--out-prefix", tmp_path / "out2" / "noisy")
    assert (tmp_path / "out2" / "noisy.labels").read_text().splitlines() == ["unknown"] * 3
    run_script("curate.py", "--pair", "si-en", "--noisy-prefix", tmp_path / "out2" / "noisy", "--random",
               "--settings", json.dumps({"sizes": [2]}), "--seed", 1, "--outdir", tmp_path / "sel")
    report = json.loads((tmp_path / "sel" / "selection.json").read_text())
    assert report["sizes"]["2"] == {"selected": 2}  # no labels: no precision/recall
    (tmp_path / "web.labels").write_text("clean\ncopy\n", encoding="utf-8")
    spec["labels"] = str(tmp_path / "web.labels")
    result = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / "inject_noise.py"), "--pair", "si-en",
                             "--corpus", json.dumps(spec), "--settings", "{}", "--seed", "1", "--out-prefix",
                             str(tmp_path / "out3" / "noisy")], capture_output=True, text=True)
    assert result.returncode != 0 and "web.labels: 2 labels for 3 pairs" in result.stderr


def test_decisions_noise_recall_per_kind_and_mcnemar():
    from lemflow.curation import selection_quality
    from lemflow.nmt_eval import curation_mcnemar, curation_metrics

    labels = ["clean", "clean", "misaligned", "clean", "fragment", "misaligned"]
    good = selection_quality([0, 1, 3], labels)      # keeps exactly the clean pairs
    bad = selection_quality([0, 2, 4], labels)       # keeps two noisy pairs, leaves out two clean ones (4 wrong)
    assert good["decisions"] == "111111" and bad["decisions"] == "100001"
    metrics = curation_metrics(bad)
    assert metrics["decision_accuracy"] == pytest.approx(2 / 6)
    assert metrics["noise_recall_misaligned"] == 0.5 and metrics["noise_recall_fragment"] == 0.0
    by_system = {("b", "mlm_tlm"): {0: {"selection": {"sizes": {"3": bad}}}},
                 ("b", "lem"): {0: {"selection": {"sizes": {"3": good}}}},
                 ("b", "same"): {0: {"selection": {"sizes": {"3": bad}}}}}
    rows = {r["strategy"]: r for r in curation_mcnemar(by_system, 3, "si-en", "mlm_tlm", 0.05, 1)}
    assert rows["lem"]["p_value"] == pytest.approx(2 * 0.5 ** 4)  # 4 discordant pairs, all won by lem
    assert rows["same"]["p_value"] == 1.0 and rows["same"]["difference"] == 0.0
    assert rows["lem"]["seeds"] == rows["lem"]["reference_seeds"] == 1
    # two pre-training seeds on each side: seed n against the reference's seed n, discordant pairs added
    by_system[("b", "mlm_tlm")][1] = {"selection": {"sizes": {"3": bad}}}
    by_system[("b", "lem")][1] = {"selection": {"sizes": {"3": good}}}
    pooled = {r["strategy"]: r for r in curation_mcnemar(by_system, 3, "si-en", "mlm_tlm", 0.05, 1)}
    assert pooled["lem"]["p_value"] == pytest.approx(2 * 0.5 ** 8) and pooled["lem"]["seeds"] == 2
    assert pooled["same"]["seeds"] == 1  # only seed 0 is paired
