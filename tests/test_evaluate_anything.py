"""Evaluate anything on anything: a mining-only config of an untouched base runs from a clean
results folder without tagging or pre-training, and a new evaluation set reruns only its own
evaluation (never an encoder: evaluation sets are not inputs of the vocabulary trim)."""
import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def snakemake(*args, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), LEMFLOW_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


def planned_rules(output: str) -> set[str]:
    """Rule names of the job-stats table of a dry run."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", table, flags=re.M)}


MINING_ONLY = {
    "run_name": "mining_only", "seed": 13,
    "data": {"pairs": {"si-en": {"format": "text", "path": "resources/demo/parallel/demo"}},
             "prepare": {"min_words": 1, "max_words": 120, "max_length_ratio": 3.0, "dedupe": True,
                         "valid_fraction": 0.1, "test_fraction": 0.1}},
    "base_encoders": {"tiny": {"source": "scratch", "tokenizer": {"vocab_size": 300},
                               "model": {"layers": 1, "hidden": 32, "heads": 2, "intermediate": 64, "max_length": 64}}},
    "encoders": [{"bases": ["tiny"], "strategies": []}],
    "mining": {"comparable": {"si-en": {"DemoNews": "resources/demo/comparable/si-en/DemoNews"}},
               "embedding": {"batch_size": 64}},
}


def test_mining_only_config_of_the_base_runs_from_a_clean_results_folder(tmp_path):
    config = {**MINING_ONLY, "results_dir": str(tmp_path / "results")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    out = snakemake("-c1", "--configfile", str(path))
    run = tmp_path / "results" / "mining_only"
    assert "'mlm_tlm' is not evaluated in this run" in out and "comparing with 'base'" in out
    with open(run / "mining" / "results.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {(r["base"], r["strategy"], r["pair"]) for r in rows} == {("tiny", "base", "si-en")}
    assert {r["dataset"] for r in rows} == {"DemoNews"}
    for stage in ("tags", "tagging", "dictionary", "pretrain", "encoders", "curation", "sentiment"):
        assert not (run / stage).exists(), f"{stage} ran in a mining-only run"
    report = (run / "report" / "RESULTS.md").read_text(encoding="utf-8")
    assert "## mining" in report and report.count("| tiny | base |") >= 1
    table = report.split("### mining — DemoNews — per_doc_recall", 1)[1].split("###", 1)[0]
    assert table.count("| tiny | base |") == 1  # the base row once, also as the baseline


def test_new_mining_set_reruns_mining_only_no_encoder(tmp_path):
    """Demo DAG with a trimmed base, every output present: with a comparable corpus and a
    parallel test set added, the evaluation sets (mining corpora, sentiment data) changing
    reruns mining, sentiment and the report, and no base, trim, dictionary or pre-training job."""
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["results_dir"] = str(tmp_path / "results")
    config["base_encoders"]["scratch"]["trim_vocab"] = True
    before, after = tmp_path / "before.yaml", tmp_path / "after.yaml"
    before.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    config["mining"]["comparable"]["si-en"]["DemoNewsAgain"] = "resources/demo/comparable/si-en/DemoNews"
    config["mining"]["parallel"] = {"si-en": {"DemoTest": {"si": "resources/demo/parallel/demo.si",
                                                           "en": "resources/demo/parallel/demo.en"}}}
    after.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    summary = snakemake("--summary", "--quiet", "--configfile", str(before))
    outputs = [line.split("\t", 1)[0] for line in summary.splitlines() if line.startswith(str(tmp_path))]
    assert any("/base_trimmed/scratch" in o for o in outputs) and any("/encoders/scratch/" in o for o in outputs)
    done = time.time()
    for output in outputs:  # every job of the run "done", all at the same time, after every source file
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).touch()
        os.utime(output, (done, done))
    assert "Nothing to be done" in snakemake("-n", "--configfile", str(before))

    # Without run metadata Snakemake cannot see a changed input list, so force the evaluation
    # sets' own jobs: what reruns is exactly what depends on them.
    plan = planned_rules(snakemake("--configfile", str(after), "--forcerun", "mining_corpus", "mining_corpus_parallel", "sentiment_split",
                                   "--quiet", "rules", "-n"))
    assert {"mining_corpus", "mining_corpus_parallel", "mining_embed", "mining_eval", "mining_results",
            "sentiment_split"} <= plan, plan
    encoder_rules = {"base_encoder", "base_trimmed", "entity_dictionary", "pretrain_mono", "pretrain_para",
                     "publish_encoder", "tag", "train_tagger", "prepare"}
    assert not plan & encoder_rules, plan
    assert plan <= {"mining_corpus", "mining_corpus_parallel", "mining_embed", "mining_eval", "mining_results", "sentiment_split",
                    "sentiment_train", "sentiment_results", "report", "all"}, plan
