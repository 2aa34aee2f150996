"""Sentiment and report stages through Snakemake on a tiny encoder: split → fine-tune (2 seeds)
→ results.csv → RESULTS.md with plots; a second run does nothing."""
import csv
import json

import yaml

from conftest import tiny_encoder
from test_sentiment import ENCODER, synthetic

from conftest import REPO, run_snakemake  # noqa: E402
RULES = ["prepare", "sentiment_split", "sentiment_train", "sentiment_results", "report"]  # prepare: its stats.json (warnings) is a report input


def test_sentiment_and_report_rules(tmp_path):
    (tmp_path / "corpus.si").write_text("ආයුබෝවන්\n", encoding="utf-8")
    (tmp_path / "corpus.en").write_text("hello\n", encoding="utf-8")
    data = tmp_path / "sentiment"
    data.mkdir()
    synthetic(60, 0).to_csv(data / "train.csv", index=False)
    synthetic(15, 1).to_csv(data / "dev.csv", index=False)
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(tmp_path / "corpus")}}
    for section in ("curation", "nmt", "mining"):  # stages this test does not exercise
        config.pop(section, None)
    config["encoders"] = [{"bases": ["tiny"], "strategies": [], "pairs": ["si-en"], "tasks": ["sentiment"]}]
    # R/base/tiny is written below, so the base_encoder rule never runs; the plan check wants the
    # base declared (lemflow.plan.plan_problems)
    config["base_encoders"] = {"tiny": {"source": "path", "path": str(tmp_path / "unused")}}
    (tmp_path / "unused").mkdir(exist_ok=True)
    config["sentiment"] = {
        "pairs": {"si-en": {"train": str(data / "train.csv"), "dev": str(data / "dev.csv"), "dataset": "toy"}},
        "seeds": 2, "test_fraction": 0.2,
        "training": {"max_length": 16, "epochs": 2, "batch_size": 8, "learning_rate": 3e-3},
    }
    config["report"] = {"stages": ["sentiment"]}
    for section in ("mining", "curation", "nmt", "tagging"):
        config.pop(section, None)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    root = tmp_path / "results" / config["run_name"]
    tiny_encoder(root / "base" / "tiny", **ENCODER)

    target = str(root / "report" / "RESULTS.md")
    args = ["--configfile", str(path), "-c1", "--rerun-triggers", "mtime", "--allowed-rules", *RULES, "--", target]
    run_snakemake(*args)
    info = json.loads((root / "sentiment" / "data" / "si-en" / "split.json").read_text(encoding="utf-8"))
    assert info["sizes"] == {"train": 48, "dev": 15, "test": 12} and info["test_source"] == "train_holdout_0.2"
    metrics = json.loads((root / "sentiment" / "tiny" / "base" / "si-en" / "seed13" / "metrics.json").read_text())
    assert metrics["sizes"] == info["sizes"] and len(metrics["history"]) >= 1
    rows = list(csv.DictReader(open(root / "sentiment" / "results.csv", encoding="utf-8")))
    assert {r["dataset"] for r in rows} == {"toy"}
    assert {r["seed"] for r in rows} == {"0"}  # the pre-training seed index; the fine-tuning seeds are repeats
    assert {r["repeat"] for r in rows} == {str(config["seed"]), str(config["seed"] + 1)}
    assert {r["metric"] for r in rows} >= {"macro_f1", "weighted_f1", "accuracy", "f1_Positive"}
    md = (root / "report" / "RESULTS.md").read_text(encoding="utf-8")
    assert "### sentiment — toy — macro_f1" in md and "| tiny | base |" in md
    assert (root / "report" / "plots" / "sentiment__toy__macro_f1.png").stat().st_size > 1000
    assert (root / "logs" / "sentiment_train" / "tiny" / "base" / "si-en.log").exists()
    assert (root / "benchmarks" / "report" / "report.tsv").exists()
    assert "sentiment_train" in md  # wall time section read the benchmarks
    assert "- command: `snakemake --configfile" in md
    again = run_snakemake(*args[:-2], "-n", "--", target)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_missing_sentiment_file_stops_at_parse(tmp_path):
    (tmp_path / "corpus.si").write_text("ආයුබෝවන්\n", encoding="utf-8")
    (tmp_path / "corpus.en").write_text("hello\n", encoding="utf-8")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(tmp_path / "corpus")}}
    for section in ("curation", "nmt", "mining"):
        config.pop(section, None)
    config["sentiment"] = {"pairs": {"si-en": {"train": str(tmp_path / "nope.csv"), "dev": str(tmp_path / "dev.csv")}}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    proc = run_snakemake("--configfile", path, "-n", check=False, timeout=300)
    assert proc.returncode != 0
    assert "nope.csv: file does not exist (config key sentiment.pairs.si-en.train)" in proc.stdout + proc.stderr
