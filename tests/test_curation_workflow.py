"""The curation + NMT rules through Snakemake: the DAG of a tiny config (dry run, fast), and the
whole chain noise -> scores -> top-N -> fairseq NMT -> results.csv (slow, needs fairseq)."""
import csv
import os

import pytest
import yaml

from conftest import tiny_encoder
from test_curation import synthetic_corpus

from conftest import REPO, run_snakemake, snakemake_output  # noqa: E402


def tiny_setup(tmp_path, nmt_updates=6):
    si, en, ta = synthetic_corpus(150, seed=2)
    for lang, lines in (("si", si), ("en", en), ("ta", ta)):
        (tmp_path / f"corpus.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["results_dir"] = str(tmp_path / "results")
    config["run_name"] = "cur"
    corpus = {"format": "text", "path": str(tmp_path / "corpus")}
    config["data"]["pairs"] = {"si-en": corpus, "ta-en": corpus}
    config["data"]["prepare"]["min_script_share"] = 0  # synthetic words ("si12 si3") in no real script
    config["data"]["prepare"]["pool_fraction"] = 0.5  # the pool: held out from pre-training
    config["encoders"] = [{"bases": ["scratch"], "strategies": []}]
    config["curation"].update(pairs=["si-en"], sizes=[40, 60], strategies=["base"], noise={"rate": 0.5})
    config["nmt"].update(reference_strategy="base", bootstrap_samples=50)
    config["nmt"]["train"].update(max_update=nmt_updates, validate_interval=3)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "results" / "cur"
    # the base encoder as a ready-made directory (the base-encoder stage is tested elsewhere)
    tiny_encoder(out / "base" / "scratch", sorted({w for s in si + en + ta for w in s.split()}))
    return path, out


def test_dry_run_plans_curation_and_nmt(tmp_path):
    config, out = tiny_setup(tmp_path)
    log = snakemake_output("--configfile", config, "-n", str(out / "nmt" / "results.csv"))
    counts = {}
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    # 1 pair; selections: scratch/base + random; 2 sizes -> 4 NMT models
    assert counts.get("curation_noisy") == 1 and counts.get("curation_score") == 1
    assert counts.get("curation_random") == 1
    assert counts.get("nmt_train") == 4 and counts.get("nmt_translate") == 4 and counts.get("nmt_results") == 1
    assert "results/cur/data/ta-en/pool.ta" in log  # wrong-language noise from the third language
    # the noisy pool is made of pairs held out from pre-training (no leakage): pool files, never train
    noisy_job = next(line for line in log[log.index("rule curation_noisy:"):].splitlines() if "input:" in line)
    assert "results/cur/data/si-en/pool.si" in noisy_job and "train." not in noisy_job


def test_curation_without_a_held_out_pool_is_refused(tmp_path):
    config, out = tiny_setup(tmp_path)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["data"]["prepare"]["pool_fraction"] = 0.0
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = run_snakemake("--configfile", config, "-n", out / "nmt" / "results.csv", check=False, timeout=300)
    assert proc.returncode != 0 and "would be pre-training data (leakage)" in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / ".venv-fairseq" / "bin" / "fairseq-train").exists()
                    and not os.environ.get("LEMFLOW_FAIRSEQ_BIN"), reason="fairseq env missing")
def test_whole_chain_writes_tidy_results(tmp_path):
    config, out = tiny_setup(tmp_path)
    snakemake_output("--configfile", config, "-c2", str(out / "nmt" / "results.csv"), timeout=900)
    with open(out / "nmt" / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["task", "dataset", "pair", "base", "strategy", "metric", "value", "ci_low", "ci_high",
                             "seed"]
    got = {(r["task"], r["dataset"], r["base"], r["strategy"], r["metric"]) for r in rows}
    for n in (40, 60):
        for base, strategy in (("scratch", "base"), ("scratch", "random")):
            for metric in ("precision", "recall", "f1"):
                assert ("curation", f"noisy@top{n}", base, strategy, metric) in got
            for metric in ("BLEU", "chrF"):
                assert ("nmt", f"prepared_test@top{n}", base, strategy, metric) in got
    with open(out / "nmt" / "significance.csv", newline="") as handle:
        sig = list(csv.DictReader(handle))
    assert {(r["strategy"], r["reference"]) for r in sig} == {("random", "scratch/base")}
    # a second run has nothing to do
    assert "Nothing to be done" in snakemake_output("--configfile", config, "-c1", "-n", str(out / "nmt" / "results.csv"))
