"""Evaluate anything on anything: a mining-only config of an untouched base runs from a clean
results folder without tagging or pre-training, and a new evaluation set reruns only its own
evaluation (never an encoder: evaluation sets are not inputs of the vocabulary trim)."""
import csv
import os
import time
from pathlib import Path

import yaml

from conftest import REPO, planned_rules, snakemake_output  # noqa: E402


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
    out = snakemake_output("-c1", "--configfile", str(path))
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

    summary = snakemake_output("--summary", "--quiet", "--configfile", str(before))
    outputs = [line.split("\t", 1)[0] for line in summary.splitlines() if line.startswith(str(tmp_path))]
    assert any("/base_trimmed/scratch" in o for o in outputs) and any("/encoders/scratch/" in o for o in outputs)
    done = time.time()
    for output in outputs:  # every job of the run "done", all at the same time, after every source file
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).touch()
        os.utime(output, (done, done))
    assert "Nothing to be done" in snakemake_output("-n", "--configfile", str(before))

    # Without run metadata Snakemake cannot see a changed input list, so force the evaluation
    # sets' own jobs: what reruns is exactly what depends on them.
    plan = planned_rules(snakemake_output("--configfile", str(after), "--forcerun", "mining_corpus", "mining_corpus_parallel", "sentiment_split",
                                   "--quiet", "rules", "-n"))
    assert {"mining_corpus", "mining_corpus_parallel", "mining_embed_si_en", "mining_eval", "mining_results",
            "sentiment_split"} <= plan, plan
    encoder_rules = {"base_encoder", "base_trimmed", "entity_dictionary", "pretrain_mono", "pretrain_para",
                     "publish_encoder", "tag", "train_tagger", "prepare"}
    assert not plan & encoder_rules, plan
    assert plan <= {"mining_corpus", "mining_corpus_parallel", "mining_embed_si_en", "mining_embed_ta_en",
                    "mining_embed_si_ta", "mining_eval", "mining_results", "sentiment_split",
                    "sentiment_train", "sentiment_results", "report", "all"}, plan
