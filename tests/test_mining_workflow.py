"""The mining stage end to end: workflow scripts on a tiny encoder, and the Snakemake rules
(corpus export -> embed -> mine/evaluate -> results table) on a temporary config."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import run_snakemake, snakemake_output, tiny_encoder
from test_embedding import WORDS

from conftest import REPO  # noqa: E402
SHARED_COMPARABLE = REPO.parent / "shared" / "data" / "comparable"

WORDS_SI = ["ශ්\u200dරී", "ලංකා"]
EN = ["the army news today", "a soldier met the president", "the school was built in the village",
      "rain and the road", "president met a soldier in the village", "the road was built today"]
SI = ["ශ්\u200dරී ලංකා army news", "ලංකා soldier president", "school built village ලංකා",
      "rain road", "president soldier village", "road built today ශ්\u200dරී"]


def run(script, *args):
    """Run a workflow script's main() in this process (one torch import for the whole test)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(script[:-3], REPO / "workflow_scripts" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(a) for a in args])


def test_scripts_have_help():
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    for script in ("embed.py", "mine.py", "mining_corpus.py", "mining_results.py"):
        proc = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / script), "--help"],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0 and "usage" in proc.stdout


def write_comparable(root):
    """Two documents per side in the compact layout; gold aligns sentence n with n."""
    root.mkdir(parents=True)
    si = [f"si_{doc}_{n}\t{SI[(3 * d + n) % 6]}" for d, doc in enumerate(["100", "200"]) for n in range(3)]
    en = [f"en_{doc}_{n}\t{EN[(3 * d + n) % 6]}" for d, doc in enumerate(["100", "200"]) for n in range(3)]
    (root / "si.tsv").write_text("\n".join(si) + "\n", encoding="utf-8")
    (root / "en.tsv").write_text("\n".join(en) + "\n", encoding="utf-8")
    gold = ["si_100_0\ten_100_0", "si_100_2\ten_100_2", "si_200_1\ten_200_1", "si_999_1\ten_200_1"]
    (root / "gold.tsv").write_text("\n".join(gold) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return tiny_encoder(tmp_path_factory.mktemp("enc") / "tiny", WORDS, layers=2)


def test_scripts_chain(tmp_path, encoder):
    write_comparable(tmp_path / "News")
    corpus = tmp_path / "corpus"
    run("mining_corpus.py", "--kind", "comparable", "--pair", "si-en", "--source", tmp_path / "News", "--outdir", corpus,
        "--skip-bad-gold")  # gold line 4 names si_999_1
    meta = json.loads((corpus / "meta.json").read_text(encoding="utf-8"))
    assert meta["gold"] == 3 and len(meta["skipped_gold"]) == 1 and meta["documents_compared"] == 2
    assert (corpus / "si.txt").read_text(encoding="utf-8").count("\n") == 6
    run("embed.py", "--model", encoder, "--inputs", corpus / "si.txt", corpus / "en.txt",
        "--outputs", tmp_path / "si.npy", tmp_path / "en.npy",
        "--settings", json.dumps({"batch_size": 4, "dtype": "float16"}), "--threads", 1)
    emb = np.load(tmp_path / "si.npy")
    assert emb.shape == (6, 32) and emb.dtype == np.float16
    settings = {"k": 4, "candidates": "intersect", "threshold": 1.0, "modes": ["global", "per_doc"], "index": "auto",
                "approximate_above": 200000, "nlist": 0, "nprobe": 16, "seed": 0}
    evals = []
    for strategy in ("mlm_tlm", "lem"):
        out = tmp_path / strategy
        label = {"dataset": "News", "pair": "si-en", "base": "tiny", "strategy": strategy}
        run("mine.py", "--kind", "comparable", "--pair", "si-en", "--corpus", corpus, "--emb1", tmp_path / "si.npy",
            "--emb2", tmp_path / "en.npy", "--settings", json.dumps(settings), "--label", json.dumps(label),
            "--outdir", out)
        evals.append(out / "eval.json")
        result = json.loads((out / "eval.json").read_text(encoding="utf-8"))
        assert len(result["flags"]["global_recall"]) == 3
        assert len(result["clusters"]) == 3 and set(result["ranking"]) == {"global", "per_doc"}
        rows = list(csv.DictReader((out / "mined.per_doc.tsv").open(encoding="utf-8"), delimiter="\t"))
        assert rows and all(r["si_id"].split("_")[1] == r["en_id"].split("_")[1] for r in rows)
        assert [float(r["margin"]) for r in rows] == sorted((float(r["margin"]) for r in rows), reverse=True)
    run("mining_results.py", "--evals", *evals, "--settings",
        json.dumps({"bootstrap": {"samples": 50, "confidence": 0.9}, "reference_strategy": "mlm_tlm"}),
        "--seed", 3, "--results", tmp_path / "results.csv", "--significance", tmp_path / "sig.csv")
    table = list(csv.DictReader((tmp_path / "results.csv").open(encoding="utf-8")))
    assert list(table[0]) == ["task", "dataset", "pair", "base", "strategy", "metric", "value", "ci_low", "ci_high", "seed"]
    assert {r["metric"] for r in table} >= {"global_recall", "per_doc_recall", "global_ap", "per_doc_ap"}
    assert not any("f1" in r["metric"] for r in table)  # no calibration set: no F1
    sig = list(csv.DictReader((tmp_path / "sig.csv").open(encoding="utf-8")))
    assert {r["strategy"] for r in sig} == {"lem"} and len(sig) == 2  # 2 modes x recall


def test_mine_rejects_misaligned_embeddings(tmp_path, encoder):
    write_comparable(tmp_path / "News")
    run("mining_corpus.py", "--kind", "comparable", "--pair", "si-en", "--source", tmp_path / "News", "--outdir", tmp_path / "c",
        "--skip-bad-gold")
    np.save(tmp_path / "bad.npy", np.zeros((5, 32), np.float32))
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / "mine.py"), "--kind", "comparable",
                           "--pair", "si-en", "--corpus", str(tmp_path / "c"), "--emb1", str(tmp_path / "bad.npy"),
                           "--emb2", str(tmp_path / "bad.npy"), "--settings", json.dumps({"k": 4, "candidates": "max",
                           "threshold": 1.0, "modes": ["global"]}), "--label", "{}", "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0 and "bad.npy" in proc.stderr and "expected 6 rows" in proc.stderr
    assert not (tmp_path / "o" / "eval.json").exists()


def test_parallel_corpus_misaligned(tmp_path):
    (tmp_path / "t.si").write_text("a\nb\nc\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("a\nb\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, str(REPO / "workflow_scripts" / "mining_corpus.py"), "--kind", "parallel",
                           "--pair", "si-en", "--source", json.dumps({"si": str(tmp_path / "t.si"), "en": str(tmp_path / "t.en")}),
                           "--outdir", str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0 and "t.en:3" in proc.stderr and "misaligned" in proc.stderr


@pytest.mark.slow  # seven Snakemake jobs, each importing torch: ~40 s alone, minutes on a busy machine
def test_snakemake_mining_stage(tmp_path, encoder):
    """The rules on a temporary config: comparable set + prepared test split, base encoder on disk."""
    write_comparable(tmp_path / "News")
    lines_si = [SI[i % 6] + f" {i}" for i in range(30)]
    lines_en = [EN[i % 6] + f" {i}" for i in range(30)]
    (tmp_path / "par.si").write_text("\n".join(lines_si) + "\n", encoding="utf-8")
    (tmp_path / "par.en").write_text("\n".join(lines_en) + "\n", encoding="utf-8")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    for other_stage in ("curation", "nmt", "sentiment"):  # their settings name pairs this config lacks
        config.pop(other_stage, None)
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(tmp_path / "par")}}
    config["data"]["prepare"]["test_fraction"] = 0.3
    config["data"]["prepare"]["min_script_share"] = 0  # the fixture's "Sinhala" side is mostly English words
    config["encoders"] = [{"bases": ["tiny"], "strategies": [], "pairs": ["si-en"], "tasks": ["mining"]}]
    # R/base/tiny is written below, so the base_encoder rule never runs; the plan check wants the
    # base declared (lemflow.plan.plan_problems)
    config["base_encoders"] = {"tiny": {"source": "path", "path": str(tmp_path / "unused")}}
    (tmp_path / "unused").mkdir(exist_ok=True)
    config["mining"] = {"comparable": {"si-en": {"News": str(tmp_path / "News")}}, "prepared_test": True,
                        "threshold": 1.0, "bootstrap": {"samples": 50}, "embedding": {"batch_size": 4},
                        "skip_bad_gold": True}
    out = tmp_path / "results" / config["run_name"]
    import shutil

    shutil.copytree(encoder, out / "base" / "tiny")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    # the base encoder is on disk; only the prepare and mining rules may run
    cmd = [out / "mining/results.csv", "--configfile", tmp_path / "config.yaml", "-c1", "--allowed-rules", "prepare", "mining_corpus", "mining_corpus_parallel", "mining_embed_si_en",
           "mining_eval", "mining_results"]
    run_snakemake(*cmd)
    table = list(csv.DictReader((out / "mining/results.csv").open(encoding="utf-8")))
    assert {(r["dataset"], r["strategy"]) for r in table} == {("News", "base"), ("prepared_test", "base")}
    assert {r["metric"] for r in table if r["dataset"] == "prepared_test"} == {"p_at_1", "xsim_error"}
    assert (out / "mining/tiny/base/si-en/embeddings/comparable/News.si.npy").exists()
    assert (out / "mining/tiny/base/si-en/embeddings/parallel/prepared_test.en.npy").exists()
    assert (out / "logs/mining_embed/tiny/base/si-en.log").exists()  # one embedding job for both sets
    assert (out / "logs/mining_eval/tiny/base/si-en/comparable/News.log").exists()
    assert "Nothing to be done" in snakemake_output(*cmd, "-n")


@pytest.mark.shared
def test_shared_comparable_corpora_export(tmp_path):
    """Every shared comparable corpus reads and exports (gold ids resolved, documents compared)."""
    for pair in ("si-en", "ta-en", "si-ta"):
        for source in ("Army_news", "Hiru"):
            root = SHARED_COMPARABLE / pair / source
            from lemflow.mining_eval import write_comparable_corpus

            meta = write_comparable_corpus(root, *pair.split("-"), tmp_path / pair / source, skip_bad_gold=True)
            assert meta["gold"] > 100 and meta["documents_compared"] > 10
