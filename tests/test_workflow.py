"""The workflow itself: lint, dry run of the demo DAG, and the prepare stage through Snakemake
(second run does nothing; editing an input reruns only what depends on it)."""
import os
import time
from pathlib import Path

import yaml

from conftest import REPO, planned_rules, run_snakemake  # noqa: E402


def test_lint_clean():
    proc = run_snakemake("--lint", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Congratulations" in out, out[-4000:]


def test_demo_dry_run_plans_every_stage(tmp_path):
    proc = run_snakemake("-n", "--quiet", "rules", "--config", f"results_dir={tmp_path}")
    out = proc.stdout + proc.stderr
    for rule in ("prepare", "train_tagger", "tag", "tagger_report", "base_encoder", "entity_dictionary",
                 "pretrain_mono", "pretrain_para", "mining_embed_si_en", "mining_embed_ta_en", "mining_embed_si_ta",
                 "mining_results", "curation_score",
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
    run_snakemake("--configfile", str(config), "-c1", target)
    stats = yaml.safe_load((out / "data/si-en/stats.json").read_text(encoding="utf-8"))
    assert stats["counts"]["read"] == 40
    train = (out / "data/si-en/train.si").read_text(encoding="utf-8")
    assert "ශ්\u200dරී" in train
    assert (out / "logs/prepare/si-en.log").exists()
    assert (out / "benchmarks/prepare/si-en.tsv").exists()

    again = run_snakemake("--configfile", str(config), "-c1", target, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr

    time.sleep(1.1)
    (tmp_path / "corpus.en").write_text("\n".join(lines_en[:-1] + ["changed"]) + "\n", encoding="utf-8")
    rerun = run_snakemake("--configfile", str(config), "-c1", target, "-n")
    assert "prepare" in rerun.stdout + rerun.stderr


def test_bad_input_stops_before_any_stage(tmp_path):
    (tmp_path / "corpus.si").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "corpus.en").write_text("a\n", encoding="utf-8")
    config, out = _tiny_config(tmp_path, {"si-en": {"format": "text", "path": str(tmp_path / "corpus")}})
    proc = run_snakemake("--configfile", str(config), "-c1", "--show-failed-logs", str(out / "data/si-en/stats.json"), check=False)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "misaligned" in err and "corpus.en:2" in err
    assert not (out / "data/si-en/train.si").exists()


def _job_inputs(output: str, rule: str) -> list[str]:
    """The input list of the first job of ``rule`` in a (non-quiet) dry run's output."""
    block = output.split(f"\nrule {rule}:\n", 1)[1]
    line = next(line for line in block.splitlines() if line.strip().startswith("input:"))
    return line.split("input:", 1)[1].strip().split(", ")


def test_report_and_mining_eval_declare_what_they_read(tmp_path):
    """The report reads no undeclared file (benchmarks excepted): its job's inputs hold the
    pre-training metrics, the mining embeddings, the embedding selection, the mining sets'
    meta.json and prepare's stats; mining_eval's hold the set's ids and gold. Every demo output
    touched as done, editing one pre-training metrics.json reruns the report and nothing else."""
    args = ["--config", f"results_dir={tmp_path}"]
    plan = run_snakemake("-n", *args)
    out = plan.stdout + plan.stderr
    run = f"{tmp_path}/demo"
    report = _job_inputs(out, "report")
    for needed in ("pretrain/scratch/lem/si-en/mono/metrics.json", "pretrain/scratch/lem/si-en/para/loss.tsv",
                   "mining/scratch/lem/si-en/embeddings/comparable/DemoNews.si.npy",
                   "mining/scratch/base/si-en/embeddings/comparable/DemoNews.si.npy", "mining/select/scratch.json",
                   "mining/corpora/si-en/comparable/DemoNews/meta.json", "data/si-en/stats.json"):
        assert f"{run}/{needed}" in report, needed
    evals = [line.split("input:", 1)[1] for line in out.split("\nrule mining_eval:\n")[1:]
             for line in line.splitlines()[:1]]
    assert evals and all(".ids" in e and "gold.tsv" in e for e in evals if "/comparable/" in e)

    summary = run_snakemake("--summary", "--quiet", *args).stdout
    outputs = [line.split("\t", 1)[0] for line in summary.splitlines() if line.startswith(str(tmp_path))]
    done = time.time()
    for output in outputs:  # every job of the demo "done" at the same time, after every source file
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).touch()
        os.utime(output, (done, done))
    again = run_snakemake("-n", *args)
    assert "Nothing to be done" in again.stdout + again.stderr, (again.stdout + again.stderr)[-3000:]
    metrics = Path(run) / "pretrain/scratch/lem/si-en/mono/metrics.json"
    assert str(metrics) in outputs
    metrics.write_text('{"best_eval_loss": 1.0}', encoding="utf-8")
    os.utime(metrics, (done + 5, done + 5))
    edited = run_snakemake("-n", "--quiet", "rules", *args)
    assert planned_rules(edited.stdout + edited.stderr) == {"report", "all"}, edited.stdout[-3000:]
