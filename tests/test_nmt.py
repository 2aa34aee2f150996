"""lemflow.nmt: fairseq commands (paper recipe), generate-output parsing, sacrebleu wrapper,
paired bootstrap, the results table, and a tiny real fairseq train + generate (skipped when
the fairseq environment is missing)."""
import json
import os
import subprocess
import sys
import time

import pytest

from lemflow import nmt, nmt_eval
from lemflow.errors import InputError
from lemflow.results import RESULT_COLUMNS

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]

HYPS = ["the cat sat on the mat", "a dog runs in the park", "it is raining today"]
REFS = ["the cat sat on the mat", "the dog runs in a park", "today it rains"]


def test_corpus_scores_match_sacrebleu_and_use_all_references():
    import sacrebleu

    scores = nmt_eval.corpus_scores(HYPS, [REFS])
    assert scores["BLEU"] == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)
    assert scores["chrF"] == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)
    assert "spBLEU" not in scores and scores["signatures"]["BLEU"].startswith("nrefs:1")
    perfect = nmt_eval.corpus_scores(HYPS, [REFS, HYPS])
    assert perfect["BLEU"] == pytest.approx(100.0) and perfect["signatures"]["BLEU"].startswith("nrefs:2")
    with pytest.raises(ValueError, match="reference 0 has 2 lines for 3"):
        nmt_eval.corpus_scores(HYPS, [REFS[:2]])


def test_spbleu_is_bleu_over_sentencepiece_pieces(tmp_path):
    import sacrebleu
    import sentencepiece as spm

    text = [f"{h} {r} number {i}" for i in range(50) for h, r in zip(HYPS, REFS)]
    model = nmt.train_spm(text, tmp_path / "spm", vocab_size=60, seed=1)
    scores = nmt_eval.corpus_scores(HYPS, [REFS], spbleu_model=model)
    sp = spm.SentencePieceProcessor(model_file=str(model))
    pieces = lambda lines: [" ".join(sp.encode(line, out_type=str)) for line in lines]  # noqa: E731
    expected = sacrebleu.corpus_bleu(pieces(HYPS), [pieces(REFS)], tokenize="none").score
    assert scores["spBLEU"] == pytest.approx(expected) and scores["spBLEU"] != pytest.approx(scores["BLEU"])
    with pytest.raises(InputError, match="spBLEU model"):
        nmt_eval.spbleu_model_path(str(tmp_path / "missing.model"))


def test_paired_bootstrap_deterministic_and_sensible():
    refs = [[f"sentence number {i} is here" for i in range(40)]]
    good = [f"sentence number {i} is here" if i % 4 else f"sentence {i} here" for i in range(40)]
    bad = [f"words {i}" for i in range(40)]
    a = nmt_eval.paired_bootstrap(("ref", good), [("same", list(good)), ("bad", bad)], refs, n_samples=200, seed=3)
    assert a == nmt_eval.paired_bootstrap(("ref", good), [("same", list(good)), ("bad", bad)], refs, 200, 3)
    assert a["ref"]["BLEU"]["p_value"] is None
    assert a["same"]["BLEU"]["p_value"] == pytest.approx(1.0, abs=0.01)
    assert a["bad"]["BLEU"]["p_value"] < 0.05 and a["bad"]["chrF"]["p_value"] < 0.05
    for metric in ("BLEU", "chrF"):
        r = a["ref"][metric]
        assert r["mean"] - r["ci"] <= r["score"] <= r["mean"] + r["ci"] + 1e-6


def test_paired_bootstrap_equal_zero_scores_give_p_one():
    """Two different systems that both score BLEU 0 (every hypothesis empty or wrong) are equal,
    not "significantly different" at p = 1/(n+1)."""
    refs = [[f"sentence number {i} is here" for i in range(30)]]
    empty = [""] * 30
    wrong = [f"zzz{i}" for i in range(30)]
    a = nmt_eval.paired_bootstrap(("ref", empty), [("other", wrong)], refs, n_samples=100, seed=2)
    assert a["ref"]["BLEU"]["score"] == a["other"]["BLEU"]["score"] == 0.0
    assert a["other"]["BLEU"]["p_value"] == 1.0


def test_parse_generate_orders_by_id_and_keeps_empty_hypotheses():
    out = "S-1\tx\nD-1\t-0.5\tsecond\nH-1\t-0.5\tsecond\nD-0\t-0.1\tfirst one\nD-2\t-1.0\t\nother line\n"
    assert nmt.parse_generate(out, 3) == ["first one", "second", ""]
    with pytest.raises(RuntimeError, match="2 hypotheses for 4"):
        nmt.parse_generate("D-0\t0\ta\nD-1\t0\tb\n", 4)


def test_train_command_paper_recipe():
    model = dict(nmt.PAPER_MODEL)
    train = {"label_smoothing": 0.2, "clip_norm": 0.0, "weight_decay": 0.0001, "warmup_updates": 4000,
             "lr": 0.001, "max_tokens": 4000, "update_freq": 4, "max_epoch": 100, "validate_interval": 1,
             "patience": 0, "max_update": 0}
    cmd = nmt.train_command("/env/bin", "data", "ckpt", "si", "en", model, train, seed=13)
    joined = " ".join(cmd)
    for flag in ("--encoder-layers 5", "--decoder-layers 5", "--encoder-embed-dim 512", "--encoder-ffn-embed-dim 2048",
                 "--encoder-attention-heads 2", "--decoder-attention-heads 2", "--dropout 0.4",
                 "--label-smoothing 0.2", "--share-all-embeddings", "--seed 13", "--cpu",
                 "--required-batch-size-multiple 1"):
        assert flag in joined
    assert cmd[0] == "/env/bin/fairseq-train" and "--max-update" not in cmd and "--patience" not in cmd
    gen = " ".join(nmt.generate_command("/env/bin", "d", "c.pt", "si", "en", {"beam": 5, "lenpen": 1.2}))
    assert "--beam 5" in gen and "--lenpen 1.2" in gen and "--remove-bpe sentencepiece" in gen


def test_fairseq_location_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(nmt.FAIRSEQ_ENV_VAR, str(tmp_path))
    assert nmt.fairseq_bin() == tmp_path
    with pytest.raises(InputError, match="setup-fairseq"):
        nmt.check_fairseq(tmp_path)
    monkeypatch.delenv(nmt.FAIRSEQ_ENV_VAR)
    assert nmt.fairseq_bin() == REPO / ".venv-fairseq" / "bin"
    assert nmt.fairseq_env()["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] == "1"


def test_results_table_rows_and_significance():
    refs = [[f"sentence number {i} is here" for i in range(30)]]
    hyps = {("b", "mlm_tlm"): refs[0], ("b", "lem"): [f"sentence {i}" for i in range(30)],
            nmt_eval.RANDOM: [f"x {i}" for i in range(30)]}
    entries = []
    for (base, strategy), h in hyps.items():
        quality = {"precision": 0.8, "recall": 0.4, "f1": 0.53, "selected": 10}
        entries.append({"pair": "si-en", "n": 10, "base": base, "strategy": strategy,
                        "selection": {"sizes": {"10": quality}}, "scores": nmt_eval.corpus_scores(h, refs), "hyps": h})
    rows, sig = nmt_eval.nmt_results(entries, {"si-en": {"name": "test", "refs": refs}},
                                reference_strategy="mlm_tlm", n_samples=100, seed=1)
    assert {r["task"] for r in rows} == {"curation", "nmt"}
    assert all(set(r) == set(RESULT_COLUMNS) for r in rows)
    bleu = {(r["base"], r["strategy"]): r for r in rows if r["metric"] == "BLEU"}
    assert set(bleu) == {("b", "mlm_tlm"), ("b", "lem"), ("b", "random")}
    assert bleu[("b", "mlm_tlm")]["value"] == pytest.approx(100.0) and bleu[("b", "mlm_tlm")]["dataset"] == "test@top10"
    assert all(r["ci_low"] <= r["value"] + 1e-6 and r["value"] <= r["ci_high"] + 1e-6 for r in bleu.values())
    assert len([r for r in rows if r["task"] == "curation"]) == 9
    empty = {(r["base"], r["strategy"]): r["value"] for r in rows if r["metric"] == nmt_eval.EMPTY_METRIC}
    assert empty == {("b", "mlm_tlm"): 0.0, ("b", "lem"): 0.0, ("b", "random"): 0.0}
    compared = {(s["base"], s["strategy"], s["metric"]) for s in sig}
    assert compared == {("b", "lem", "BLEU"), ("b", "lem", "chrF"), ("b", "random", "BLEU"), ("b", "random", "chrF")}
    assert all(s["reference"] == "b/mlm_tlm" and s["significant"] and s["difference"] < 0 for s in sig)
    # a second base: the random baseline is repeated under each base and tested against its mlm_tlm
    second = [{**e, "base": "c"} for e in entries if e["base"] == "b"]
    rows2, sig2 = nmt_eval.nmt_results(entries + second, {"si-en": {"name": "test", "refs": refs}},
                                  reference_strategy="mlm_tlm", n_samples=100, seed=1)
    random_bleu = {r["base"]: r["value"] for r in rows2 if r["strategy"] == "random" and r["metric"] == "BLEU"}
    assert random_bleu == {"b": bleu[("b", "random")]["value"], "c": bleu[("b", "random")]["value"]}
    assert {s["reference"] for s in sig2 if s["strategy"] == "random"} == {"b/mlm_tlm", "c/mlm_tlm"}
    # curation.nmt: false: no hypotheses, the curation rows only
    untranslated = [{**e, "scores": None, "hyps": None} for e in entries]
    rows3, sig3 = nmt_eval.nmt_results(untranslated, {"si-en": {"name": "test", "refs": refs}},
                                       reference_strategy="mlm_tlm", n_samples=100, seed=1)
    assert {r["task"] for r in rows3} == {"curation"} and len(rows3) == 9
    assert all(s["task"] == "curation" for s in sig3)


def synthetic_pairs(n, seed):
    import random

    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        idx = [rng.randrange(30) for _ in range(rng.randint(3, 7))]
        pairs.append((" ".join(f"s{i}" for i in idx), " ".join(f"t{i}" for i in idx)))
    return [p[0] for p in pairs], [p[1] for p in pairs]


TINY = {"spm": {"vocab_size": 100},
        "model": {"encoder_layers": 1, "decoder_layers": 1, "embed_dim": 64, "ffn_dim": 128, "attention_heads": 2,
                  "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0},
        "train": {"label_smoothing": 0.1, "clip_norm": 0.0, "weight_decay": 0.0, "warmup_updates": 30, "lr": 0.01,
                  "max_tokens": 1500, "update_freq": 1, "max_epoch": 300, "max_update": 300, "validate_interval": 50,
                  "patience": 0},
        "generate": {"beam": 2, "lenpen": 1.2}}
needs_fairseq = pytest.mark.skipif(not (nmt.fairseq_bin() / "fairseq-train").exists(),
                                   reason="fairseq env missing (scripts/setup-fairseq)")


def train_and_translate(tmp_path, settings):
    """The nmt_train and nmt_translate entry points on a learnable toy task (each target word
    is its source word renamed, same order). Returns hypotheses, references, scores."""
    src, tgt = synthetic_pairs(240, 0)
    test_src, test_tgt = synthetic_pairs(25, 1)
    for name, lines in (("train.si", src[:200]), ("train.en", tgt[:200]), ("valid.si", src[200:]),
                        ("valid.en", tgt[200:]), ("test.si", test_src), ("test.en", test_tgt)):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for script, args in (("nmt_train.py", ["--train-prefix", tmp_path / "train", "--valid-prefix", tmp_path / "valid",
                                           "--seed", 1, "--model-dir", tmp_path / "model"]),
                         ("nmt_translate.py", ["--model-dir", tmp_path / "model", "--source", tmp_path / "test.si",
                                               "--references", tmp_path / "test.en", "--hyp", tmp_path / "hyp.en",
                                               "--scores", tmp_path / "scores.json"])):
        result = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / script), "--pair", "si-en",
                                 "--settings", json.dumps(settings), *map(str, args)], capture_output=True, text=True,
                                env=env)
        assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "checkpoint_best.pt", "dict.en.txt", "dict.si.txt", "spm.model", "spm.vocab"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith("work")]  # bulky intermediates cleaned up
    hyps = (tmp_path / "hyp.en").read_text().splitlines()
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert len(hyps) == 25 and scores["sentences"] == 25
    assert scores["BLEU"] == pytest.approx(nmt_eval.corpus_scores(hyps, [test_tgt])["BLEU"])
    return hyps, test_tgt, scores


@needs_fairseq
def test_fairseq_train_and_generate_smoke(tmp_path):
    """A few updates: every step of the recipe runs and hands its files on (~20 s)."""
    settings = json.loads(json.dumps(TINY))
    settings["train"].update(max_update=6, validate_interval=3)
    train_and_translate(tmp_path, settings)


@needs_fairseq
@pytest.mark.slow
def test_tiny_fairseq_learns_the_toy_task(tmp_path):
    """300 updates (~55 s on a loaded 2-core machine): the model has learnt the word mapping
    (chrF 59.7 when written)."""
    start = time.time()
    _, _, scores = train_and_translate(tmp_path, TINY)
    assert scores["chrF"] > 40, scores
    print(f"tiny fairseq train+generate: {time.time() - start:.1f} s, chrF {scores['chrF']:.1f}")


def test_empty_share_counts_blank_hypotheses():
    assert nmt_eval.empty_share(["a b", "", "  ", "c"]) == 0.5
    assert nmt_eval.empty_share([]) == 0.0
