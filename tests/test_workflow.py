"""The workflow itself: lint, dry run of the demo DAG, and the prepare stage through Snakemake
(second run does nothing; editing an input reruns only what depends on it)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, check=True, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([*SNAKEMAKE, *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def test_lint_clean():
    proc = snakemake("--lint", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Congratulations" in out, out[-4000:]


def test_demo_dry_run_plans_every_stage(tmp_path):
    proc = snakemake("-n", "--quiet", "rules", "--config", f"results_dir={tmp_path}")
    out = proc.stdout + proc.stderr
    for rule in ("prepare", "train_tagger", "tag", "tagger_report", "base_encoder", "entity_dictionary",
                 "pretrain_mono", "pretrain_para", "mining_embed", "mining_results", "curation_score",
                 "nmt_train", "nmt_results", "sentiment_train", "sentiment_results", "report", "all"):
        assert f"\n{rule} " in out, f"{rule} missing from the plan:\n{out[-3000:]}"


def _tiny_config(tmp_path, pairs):
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = pairs
    for section in ("curation", "nmt", "mining", "sentiment"):  # only the data stage is exercised here
        config.pop(section, None)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path, Path(config["results_dir"]) / config["run_name"]


def test_prepare_rule_runs_once_and_reruns_on_edit(tmp_path):
    corpus = tmp_path / "corpus"
    lines_si = [f"ශ්\u200dරී ලංකා වාක්‍යය {i}" for i in range(40)]
    lines_en = [f"Sri Lanka sentence {i}" for i in range(40)]
    (tmp_path / "corpus.si").write_text("\n".join(lines_si) + "\n", encoding="utf-8")
    (tmp_path / "corpus.en").write_text("\n".join(lines_en) + "\n", encoding="utf-8")
    config, out = _tiny_config(tmp_path, {"si-en": {"format": "text", "path": str(corpus)}})
    target = str(out / "data/si-en/stats.json")
    snakemake("--configfile", str(config), "-c1", target)
    stats = yaml.safe_load((out / "data/si-en/stats.json").read_text(encoding="utf-8"))
    assert stats["counts"]["read"] == 40
    train = (out / "data/si-en/train.si").read_text(encoding="utf-8")
    assert "ශ්\u200dරී" in train
    assert (out / "logs/prepare/si-en.log").exists()
    assert (out / "benchmarks/prepare/si-en.tsv").exists()

    again = snakemake("--configfile", str(config), "-c1", target, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr

    time.sleep(1.1)
    (tmp_path / "corpus.en").write_text("\n".join(lines_en[:-1] + ["changed"]) + "\n", encoding="utf-8")
    rerun = snakemake("--configfile", str(config), "-c1", target, "-n")
    assert "prepare" in rerun.stdout + rerun.stderr


def test_bad_input_stops_before_any_stage(tmp_path):
    (tmp_path / "corpus.si").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "corpus.en").write_text("a\n", encoding="utf-8")
    config, out = _tiny_config(tmp_path, {"si-en": {"format": "text", "path": str(tmp_path / "corpus")}})
    proc = snakemake("--configfile", str(config), "-c1", "--show-failed-logs", str(out / "data/si-en/stats.json"), check=False)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "misaligned" in err and "corpus.en:2" in err
    assert not (out / "data/si-en/train.si").exists()
