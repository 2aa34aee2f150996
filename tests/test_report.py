"""Report stage on synthetic tidy result tables: aggregation, deltas, significance, tables,
plots, robustness to missing stages, the workflow script."""
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lemflow.errors import InputError
from lemflow.results import RESULT_COLUMNS
from lemflow.report import (ReportSettings, aggregate, build_report, compare, comparison_table, questions_section,
                            read_paper, read_results, read_significance, walltime_table, welch_p)

from conftest import REPO  # noqa: E402
COLUMNS = RESULT_COLUMNS


def write_csv(path: Path, rows, columns=COLUMNS, delimiter=","):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def sentiment_rows():
    rows = []
    per_seed = {"base": [0.50, 0.52, 0.51], "mlm_tlm": [0.60, 0.61, 0.59], "lem": [0.70, 0.71, 0.69],
                "lem_ne": [0.61, 0.58, 0.62]}
    for pair, shift in (("si-en", 0.0), ("ta-en", -0.1)):
        for strategy, values in per_seed.items():
            for seed, v in zip((13, 14, 15), values):
                rows.append(["sentiment", "codemixed", pair, "scratch", strategy, "macro_f1", v + shift, "", "", seed])
                rows.append(["sentiment", "codemixed", pair, "scratch", strategy, "accuracy", v + shift + 0.05, "", "",
                             seed])
    return rows


def mining_rows():
    return [
        ["mining", "hiru", "si-ta", "scratch", "mlm_tlm", "recall", 0.40, 0.35, 0.45, ""],
        ["mining", "hiru", "si-ta", "scratch", "lem", "recall", 0.55, 0.50, 0.60, ""],
        ["mining", "hiru", "si-ta", "scratch", "lem_ne", "recall", 0.44, 0.39, 0.49, ""],
        ["mining", "hiru", "si-ta", "scratch", "mlm_tlm", "xsim_error", 0.30, "", "", ""],
        ["mining", "hiru", "si-ta", "scratch", "lem", "xsim_error", 0.20, "", "", ""],
    ]


@pytest.fixture
def run(tmp_path):
    root = tmp_path / "results" / "demo"
    sentiment = write_csv(root / "sentiment" / "results.csv", sentiment_rows())
    mining = write_csv(root / "mining" / "results.csv", mining_rows())
    return root, sentiment, mining


def test_aggregate_mean_std_and_ci(run):
    _, sentiment, mining = run
    agg = aggregate(read_results([sentiment, mining]))
    lem = agg[(agg.pair == "si-en") & (agg.strategy == "lem") & (agg.metric == "macro_f1")].iloc[0]
    assert lem["n"] == 3 and lem["value"] == pytest.approx(0.70)
    assert lem["std"] == pytest.approx(0.01)
    rec = agg[(agg.task == "mining") & (agg.strategy == "lem") & (agg.metric == "recall")].iloc[0]
    assert rec["n"] == 1 and (rec["ci_low"], rec["ci_high"]) == (0.50, 0.60) and math.isnan(rec["std"])


def test_compare_deltas_and_tests(run):
    _, sentiment, mining = run
    settings = ReportSettings()
    table = compare(aggregate(read_results([sentiment, mining])), read_significance([]), settings)
    get = lambda **k: table[(table[list(k)] == pd.Series(k)).all(axis=1)].iloc[0]  # noqa: E731
    lem = get(pair="si-en", strategy="lem", metric="macro_f1")
    assert lem["delta"] == pytest.approx(0.10) and lem["test"] == "welch" and lem["significant"] is True
    assert lem["direction"] == "better"
    ne = get(pair="si-en", strategy="lem_ne", metric="macro_f1")
    assert ne["test"] == "welch" and ne["significant"] is False
    assert get(pair="si-en", strategy="mlm_tlm", metric="macro_f1")["test"] == ""
    rec = get(task="mining", strategy="lem", metric="recall")
    assert rec["test"] == "ci-overlap" and rec["significant"] is True
    assert get(task="mining", strategy="lem_ne", metric="recall")["significant"] is False
    xsim = get(task="mining", strategy="lem", metric="xsim_error")
    assert xsim["direction"] == "better" and xsim["delta"] == pytest.approx(-0.10)  # lower is better
    assert xsim["significant"] is None


def test_stage_significance_overrides(run, tmp_path):
    _, sentiment, mining = run
    sig = write_csv(tmp_path / "sig.csv", [["mining", "hiru", "si-ta", "scratch", "lem_ne", "recall", "0.01", "True",
                                            "scratch/mlm_tlm"]],
                    ["task", "dataset", "pair", "base", "strategy", "metric", "p_value", "significant", "reference"])
    table = compare(aggregate(read_results([mining])), read_significance([sig]), ReportSettings())
    row = table[(table.strategy == "lem_ne") & (table.metric == "recall")].iloc[0]
    assert row["test"] == "stage" and row["significant"] is True and row["p_value"] == pytest.approx(0.01)


def test_extra_comparison_uses_its_own_reference(run, tmp_path):
    _, sentiment, mining = run
    sig = write_csv(tmp_path / "sig.csv", [["mining", "hiru", "si-ta", "scratch", "lem", "recall", "0.2", "False",
                                            "lem_ne"]],
                    ["task", "dataset", "pair", "base", "strategy", "metric", "p_value", "significant", "reference"])
    agg, significance = aggregate(read_results([sentiment, mining])), read_significance([sig])
    settings = ReportSettings(metrics={"sentiment": ["macro_f1"], "mining": ["recall"]})
    table = comparison_table(agg, significance, settings, "lem", "lem_ne")
    assert set(table["metric"]) == {"macro_f1", "recall"}                    # selected metrics only
    si_en = table[(table.pair == "si-en")].iloc[0]
    assert si_en["delta"] == pytest.approx(0.70 - 0.60333, abs=1e-4) and si_en["test"] == "welch" and si_en["significant"]
    rec = table[table.task == "mining"].iloc[0]
    assert rec["delta"] == pytest.approx(0.11) and rec["test"] == "stage" and rec["significant"] is False
    md, tidy = questions_section(agg, significance, ReportSettings(
        comparisons=[{"strategy": "lem", "reference": "lem_ne", "question": "Q?"},
                     {"strategy": "lem", "reference": "nothing"}]))
    text = "\n".join(md)
    assert "### Q?" in text and "_Not evaluated" in text and set(tidy["reference"]) == {"lem_ne"}


def test_welch_against_scipy_reference_values():
    # textbook example: means 2 and 4, variances 1 and 1, n 3 each -> t = -2.449, df = 4
    assert welch_p([1, 2, 3], [3, 4, 5]) == pytest.approx(0.0704, abs=1e-3)
    assert math.isnan(welch_p([1], [2, 3]))


def test_bad_results_file(tmp_path):
    bad = write_csv(tmp_path / "r.csv", [["sentiment", "d", "si-en", "b", "s", "m", "abc", "", "", ""]])
    with pytest.raises(InputError, match="r.csv:2.*not a number"):
        read_results([bad])
    missing = write_csv(tmp_path / "m.csv", [["sentiment", "1"]], ["task", "value"])
    with pytest.raises(InputError, match="missing columns"):
        read_results([missing])


def test_paper_file_is_valid_and_never_invented():
    paper = read_paper(REPO / "src" / "lemflow" / "data" / "paper_results.csv")
    assert list(paper.columns)[:8] == ["task", "dataset", "pair", "base", "strategy", "metric", "value", "source"]
    assert paper["source"].astype(bool).all()  # every number names where in the paper it comes from


def test_build_report_tables_plots_and_sections(run, tmp_path):
    root, sentiment, mining = run
    write_csv(root / "benchmarks" / "sentiment_train" / "scratch" / "lem" / "si-en" / "seed13.tsv",
              [["12.5", "0:00:12", "300.0"]], ["s", "h:m:s", "max_rss"], "\t")
    write_csv(root / "benchmarks" / "sentiment_train" / "scratch" / "lem" / "si-en" / "seed14.tsv",
              [["7.5", "0:00:07", "350.0"]], ["s", "h:m:s", "max_rss"], "\t")
    (root / "pretrain" / "scratch" / "lem" / "si-en" / "mono").mkdir(parents=True)
    (root / "pretrain" / "scratch" / "lem" / "si-en" / "mono" / "metrics.json").write_text(
        json.dumps({"best_eval_loss": 3.2, "masking": {"masked_fraction": 0.14, "topup_fraction": 0.0}}))
    tagging = tmp_path / "tagging.json"
    tagging.write_text(json.dumps({"si": {"upos_accuracy": 0.91, "ner": {"f1": 0.7}}}))
    paper = write_csv(tmp_path / "paper.csv", [["sentiment", "", "si-en", "xlmr", "lem", "macro_f1", "0.66", "Table X"]],
                      ["task", "dataset", "pair", "base", "strategy", "metric", "value", "source"])
    out = tmp_path / "report"
    summary = build_report([sentiment, mining], root, out, {"run_name": "demo", "seed": 1}, ReportSettings(),
                           paper_path=paper, tagging_json=tagging, repo=REPO,
                           pretraining_files=[root / "pretrain" / "scratch" / "lem" / "si-en" / "mono" / "metrics.json"])
    md = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "## At a glance" in md and "## sentiment" in md and "## mining" in md
    assert "▲ +0.1000" in md  # lem vs mlm_tlm on si-en macro-F1, Welch-significant
    assert "0.7000 ± 0.0100" in md
    assert "paper si-en" in md and "0.6600" in md
    assert "upos_accuracy" in md and "masking/masked_fraction" in md
    assert "sentiment_train | 2 | 20.0" in md
    assert "config sha256" in md and "git commit" in md
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert "walltime.png" in pngs and "sentiment__codemixed__macro_f1.png" in pngs
    assert "glance__sentiment.png" in pngs and "glance__mining.png" in pngs
    assert "![gain over mlm_tlm: glance__sentiment.png](plots/glance__sentiment.png)" in md
    assert all((out / "plots" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    table = pd.read_csv(out / "tables" / "summary.csv")
    assert {"delta", "p_value", "significant", "test", "paper_value", "seeds_values"} <= set(table.columns)
    assert summary["counts"]["compared"] > 0
    # sentiment tables show only the configured metrics; mining all of its metrics
    assert ("sentiment", "codemixed", "accuracy") in summary["tables"]
    assert ("mining", "hiru", "xsim_error") in summary["tables"]


def test_glance_matrix_flips_lower_is_better(run):
    from lemflow.report import glance_matrix

    _, sentiment, mining = run
    table = compare(aggregate(read_results([sentiment, mining])), read_significance([]), ReportSettings(
        metrics={"mining": ["xsim_error"], "sentiment": ["macro_f1"]}))
    rows, cols, cells = glance_matrix(table, "mining", ReportSettings(metrics={"mining": ["xsim_error"]}))
    assert cols == [("si-ta", "hiru", "xsim_error")] and rows == ["scratch/lem"]
    assert cells[("scratch/lem", cols[0])][0] == pytest.approx(0.10)  # error fell by 0.1: a gain
    rows, cols, cells = glance_matrix(table, "sentiment", ReportSettings())
    assert rows == ["scratch/lem", "scratch/lem_ne"] and len(cols) == 2
    assert cells[("scratch/lem", ("si-en", "codemixed", "macro_f1"))] == (pytest.approx(0.10), True)


def test_report_without_any_stage(tmp_path):
    out = tmp_path / "report"
    summary = build_report([], tmp_path, out, {"run_name": "x"}, ReportSettings(), repo=REPO)
    md = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "No strategy could be compared" in md and summary["counts"]["compared"] == 0
    assert walltime_table(tmp_path).empty


def test_report_script(run, tmp_path):
    root, sentiment, mining = run
    proc = subprocess.run(
        [sys.executable, str(REPO / "workflow_scripts" / "report.py"), "--results", str(sentiment),
         "--significance", str(tmp_path / "absent.csv"), "--results-root", str(root), "--paper",
         str(REPO / "src" / "lemflow" / "data" / "paper_results.csv"), "--config", json.dumps({"run_name": "demo"}),
         "--settings", json.dumps({"baseline": "mlm_tlm", "metrics": {"sentiment": ["macro_f1"]}}),
         "--outdir", str(root / "report")],
        capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = sorted(p.name for p in (root / "report").iterdir())
    assert names == ["RESULTS.md", "plots", "provenance.json", "tables"]
    assert not (root / "report" / "plots" / "sentiment__codemixed__accuracy.png").exists()


def test_report_with_header_only_results(tmp_path):
    empty = write_csv(tmp_path / "sentiment" / "results.csv", [])
    summary = build_report([empty], tmp_path, tmp_path / "report", {"run_name": "x"}, ReportSettings(), repo=REPO)
    assert summary["tables"] == [] and (tmp_path / "report" / "RESULTS.md").exists()


def test_sentence_space_and_neighbour_overlap(tmp_path):
    import numpy as np

    from lemflow.report import neighbour_overlap, sentence_space_table

    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 8)).astype(np.float32)
    assert neighbour_overlap(a, a * 3.0) == 1.0                       # same structure (scale-free)
    assert neighbour_overlap(a, rng.normal(size=(50, 8))) < 0.5
    root = tmp_path / "R"
    for strategy, emb in (("base", a), ("lem", a + 0.01 * rng.normal(size=a.shape)), ("mlm_tlm", rng.normal(size=a.shape))):
        path = root / "mining" / "e5" / strategy / "si-en" / "embeddings" / "comparable" / "News.si.npy"
        path.parent.mkdir(parents=True)
        np.save(path, emb.astype(np.float32))
    files = sorted((root / "mining").rglob("*.npy"))
    table = sentence_space_table(root, files).set_index("strategy")
    assert set(table.index) == {"lem", "mlm_tlm"}
    assert table.loc["lem", "mean_cosine_to_base"] > 0.99 > table.loc["mlm_tlm", "mean_cosine_to_base"]
    assert table.loc["lem", "knn10_overlap_with_base"] > table.loc["mlm_tlm", "knn10_overlap_with_base"]
    # only declared files are read: an undeclared encoder, or an undeclared base, is left out
    assert set(sentence_space_table(root, [f for f in files if "mlm_tlm" not in str(f)])["strategy"]) == {"lem"}
    assert sentence_space_table(root, [f for f in files if "/base/" not in str(f)]).empty


def test_ner_agreement_of_tagger_and_gold(tmp_path):
    from lemflow.report import ner_agreement_table

    root = tmp_path / "R"
    gold = [{"words": ["a", "b", "c"], "upos": ["X"] * 3, "ner": ["B-PER", "I-PER", "B-LOC"]}]
    predicted = [{"words": ["a", "b", "c"], "upos": ["X"] * 3, "ner": ["B-PER", "I-PER", "O"]}]
    for folder, records in (("tags_gold", gold), ("tags", predicted)):
        path = root / folder / "si-en" / "train.si.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    row = ner_agreement_table([(root / "tags_gold" / "si-en" / "train.si.jsonl",
                                root / "tags" / "si-en" / "train.si.jsonl")]).iloc[0]
    assert (row["pair"], row["split"], row["lang"]) == ("si-en", "train", "si")
    assert row["precision"] == 1.0 and row["recall"] == 0.5 and row["f1"] == pytest.approx(2 / 3)


def test_degenerate_nmt_warning_names_the_systems():
    from lemflow.report import degenerate_nmt_note

    rows = [{"task": "nmt", "dataset": "t@top10", "pair": "si-en", "base": "e5", "strategy": s,
             "metric": "empty_hypotheses", "value": v} for s, v in (("mlm_tlm", 1.0), ("lem", 0.1))]
    rows.append({"task": "nmt", "dataset": "t@top10", "pair": "si-en", "base": "e5", "strategy": "lem",
                 "metric": "BLEU", "value": 3.0})
    note = " ".join(degenerate_nmt_note(pd.DataFrame(rows)))
    assert "1 of 2 NMT systems" in note and "e5/mlm_tlm si-en (100%)" in note and "e5/lem" not in note
    assert degenerate_nmt_note(pd.DataFrame(rows[1:])) == []
    assert ReportSettings().lower_better("empty_hypotheses")


# --------------------------------------------------------------------------- issue 18: primary family, degenerate systems
def test_welch_zero_variance_is_not_testable(tmp_path):
    rows = [["sentiment", "c", "si-en", "s", strategy, "macro_f1", v, "", "", seed]
            for strategy, v in (("mlm_tlm", 0.0), ("lem", 0.2)) for seed in (1, 2)]
    table = compare(aggregate(read_results([write_csv(tmp_path / "r.csv", rows)])), read_significance([]),
                    ReportSettings())
    lem = table[table.strategy == "lem"].iloc[0]
    assert lem["test"].startswith("welch: not testable") and lem["significant"] is None and math.isnan(lem["p_value"])
    assert welch_p([0.3, 0.3], [0.3, 0.3]) == 1.0


def _primary_run(tmp_path, p_values):
    rows, sig = [], []
    for pair, p in zip(("si-en", "ta-en", "si-ta"), p_values):
        for strategy, v in (("mlm_tlm", 0.5), ("lem", 0.55)):
            for seed in (0, 1):
                rows.append(["mining", "News", pair, "s", strategy, "per_doc_recall", v, 0.4, 0.6, seed])
        sig.append({"task": "mining", "dataset": "News", "pair": pair, "base": "s", "strategy": "lem",
                    "reference": "mlm_tlm", "metric": "per_doc_recall", "p_value": p, "significant": p < 0.05,
                    "se": 0.02, "seeds": 2, "reference_seeds": 2, "samples": 10000, "ci_low": 0.01, "ci_high": 0.09,
                    "mcnemar_p": p})
    results = write_csv(tmp_path / "mining" / "results.csv", rows)
    sig_path = tmp_path / "mining" / "significance.csv"
    pd.DataFrame(sig).to_csv(sig_path, index=False)
    return results, sig_path


def test_primary_family_holm_and_mdd(tmp_path):
    from lemflow.report import primary_family
    from lemflow.stats import holm, minimum_detectable_difference

    results, sig_path = _primary_run(tmp_path, [0.01, 0.04, 0.03])
    settings = ReportSettings(primary=[{"task": "mining", "pair": pair, "metric": "per_doc_recall", "strategy": "lem"}
                                       for pair in ("si-en", "ta-en", "si-ta")])
    agg = aggregate(read_results([results]))
    family = primary_family(agg, read_significance([sig_path]), settings)
    assert list(family["pair"]) == ["si-en", "ta-en", "si-ta"]
    assert family["p_holm"].tolist() == pytest.approx(holm([0.01, 0.04, 0.03]))
    assert family["p_holm"].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert family["mdd"].iloc[0] == pytest.approx(minimum_detectable_difference(0.02, 0.05 / 3, 0.8))
    assert family["verdict"].iloc[0].startswith("better") and family["verdict"].iloc[1].startswith("no difference")
    out = tmp_path / "report"
    build_report([results], tmp_path, out, {"pretrain": {"seeds": 2}}, settings, significance_files=[sig_path])
    text = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "## Primary comparisons (pre-registered, Holm-corrected)" in text and "p Holm" in text and "MDD" in text
    assert "## At a glance (exploratory)" in text and "`pretrain.seeds`: 2" in text
    assert "F1: none" in text  # no mining.calibration in this config
    summary = pd.read_csv(out / "tables" / "summary.csv")
    lem = summary[summary.strategy == "lem"]
    assert set(lem["family"]) == {"primary"} and set(summary[summary.strategy == "mlm_tlm"]["family"]) == {"exploratory"}


def test_one_seed_says_test_sampling_only(tmp_path):
    results, sig_path = _primary_run(tmp_path, [0.01, 0.5, 0.5])
    pd.read_csv(sig_path).assign(seeds=1, reference_seeds=1).to_csv(sig_path, index=False)
    settings = ReportSettings(primary=[{"task": "mining", "pair": "si-en", "metric": "per_doc_recall", "strategy": "lem"}])
    out = tmp_path / "report"
    build_report([results], tmp_path, out, {}, settings, significance_files=[sig_path])
    text = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "covers test sampling only" in text and "One pre-training seed" in text


def test_degenerate_systems_left_out_of_glance_and_counts(tmp_path):
    from lemflow.report import degenerate_systems, glance

    rows = []
    for strategy, share, f1 in (("mlm_tlm", 0.5, 0.4), ("lem", 1.0, 0.2), ("lem_ne", 0.6, 0.5)):
        for seed in (1, 2):
            rows.append(["sentiment", "c", "si-en", "s", strategy, "macro_f1", f1, "", "", seed])
            rows.append(["sentiment", "c", "si-en", "s", strategy, "predicted_majority_share", share, "", "", seed])
    for strategy, empty in (("mlm_tlm", 0.9), ("lem", 0.0)):
        rows.append(["nmt", "t@top5", "si-en", "s", strategy, "BLEU", 1.0, "", "", 1])
        rows.append(["nmt", "t@top5", "si-en", "s", strategy, "empty_hypotheses", empty, "", "", 1])
    table = compare(aggregate(read_results([write_csv(tmp_path / "r.csv", rows)])), read_significance([]),
                    ReportSettings())
    degenerate = degenerate_systems(table)
    assert sorted(zip(degenerate["task"], degenerate["strategy"])) == [("nmt", "mlm_tlm"), ("sentiment", "lem")]
    text, counts = glance(table, ReportSettings(), degenerate)
    assert counts["compared"] == 1  # sentiment lem_ne only: lem degenerate, nmt's baseline degenerate
    assert text.count("degenerate") == 2



def test_primary_without_variance_has_no_mdd(tmp_path):
    from lemflow.report import primary_family

    results, sig_path = _primary_run(tmp_path, [1.0, 0.5, 0.5])
    frame = pd.read_csv(sig_path)
    frame.loc[0, "se"] = 0.0
    frame.to_csv(sig_path, index=False)
    rows = [r for r in csv.reader(open(results, encoding="utf-8"))][1:]
    rows = [[*r[:6], 0.5, *r[7:]] if r[2] == "si-en" else r for r in rows]  # equal scores on si-en
    write_csv(results, rows)
    settings = ReportSettings(primary=[{"task": "mining", "pair": "si-en", "metric": "per_doc_recall", "strategy": "lem"}])
    family = primary_family(aggregate(read_results([results])), read_significance([sig_path]), settings)
    assert math.isnan(family["mdd"].iloc[0]) and family["verdict"].iloc[0].startswith("equal, without variance")


def _write_dicts(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_sentiment_pools_pre_training_seeds_and_averages_repeats(tmp_path):
    """Sentiment rows carry the pre-training seed (``seed``) and the probe seed (``repeat``):
    the report averages the repeats of each pre-training seed, then pools the seeds (n = seeds)."""
    from lemflow.report import primary_family
    from lemflow.sentiment import classification_metrics, significance_rows, tidy_rows

    gold = [0, 1] * 10
    by_seed = {"mlm_tlm": [0.50, 0.55], "lem": [0.70, 0.75], "lem_ne": [0.60]}
    runs = []
    for strategy, seeds in by_seed.items():
        for index, accuracy in enumerate(seeds):
            right = round(accuracy * len(gold))
            predictions = gold[:right] + [1 - g for g in gold[right:]]
            for probe_seed in (13, 14, 15):  # probe repeats: the same predictions
                runs.append({"pair": "si-en", "base": "s", "strategy": strategy if index == 0 else f"{strategy}@s{index}",
                             "seed": probe_seed, "test_predictions": predictions, "test_gold": gold,
                             "labels": ["neg", "pos"], "test": classification_metrics(gold, predictions, ["neg", "pos"])})
    rows = [row for run in runs for row in tidy_rows(run, pair="si-en", base="s", strategy=run["strategy"],
                                                     dataset="c")]
    results = _write_dicts(tmp_path / "sentiment" / "results.csv", rows)
    significance = significance_rows(runs, reference="mlm_tlm", dataset={"si-en": "c"}, samples=500)
    sig = _write_dicts(tmp_path / "sentiment" / "significance.csv", significance)
    accuracy_only = _write_dicts(tmp_path / "sentiment" / "accuracy_only.csv",
                                 [r for r in significance if r["metric"] == "accuracy"])
    agg = aggregate(read_results([results]))
    get = lambda table, s, m="accuracy": table[(table.strategy == s) & (table.metric == m)].iloc[0]  # noqa: E731
    lem = get(agg, "lem")
    assert (lem["n"], lem["seeds"], len(lem["runs"])) == (2, 2, 6)  # 2 pre-training seeds x 3 probe repeats
    assert lem["values"] == pytest.approx([0.70, 0.75]) and lem["std"] == pytest.approx(0.05 / 2 ** 0.5)
    ne = get(agg, "lem_ne")  # one pre-training seed: its repeats are the values
    assert (ne["n"], ne["seeds"]) == (3, 1)
    welch_only = compare(agg, read_significance([accuracy_only]), ReportSettings())
    assert get(welch_only, "lem", "macro_f1")["test"] == "welch"  # over the 2 pre-training seeds, not 6 rows
    f1 = agg[(agg.strategy.isin(["lem", "mlm_tlm"])) & (agg.metric == "macro_f1")].set_index("strategy")["values"]
    assert welch_p(f1["lem"], f1["mlm_tlm"]) == pytest.approx(get(welch_only, "lem", "macro_f1")["p_value"])
    table = compare(agg, read_significance([sig]), ReportSettings())
    assert get(table, "lem")["test"] == "stage"  # McNemar, one probe run per pre-training seed, seeds pooled
    assert get(table, "lem", "macro_f1")["test"] == "stage"  # the stage's paired bootstrap over texts and seeds
    settings = ReportSettings(primary=[{"task": "sentiment", "pair": "si-en", "metric": "accuracy", "strategy": "lem"},
                                       {"task": "sentiment", "pair": "si-en", "metric": "macro_f1", "strategy": "lem"}])
    family = primary_family(agg, read_significance([sig]), settings)
    assert family["seeds"].tolist() == [2, 2] and family["reference_seeds"].tolist() == [2, 2]


def test_curation_and_nmt_pool_pre_training_seeds(tmp_path):
    """Every pre-training seed's selection is a result row of the pooled strategy (n = seeds);
    McNemar adds the discordant pairs of the paired seeds; per-seed NMT tests stay in the stage's
    table and the report tests the pooled strategies over their seeds."""
    from lemflow import nmt_eval
    from lemflow.curation import selection_quality
    from lemflow.report import primary_family
    from lemflow.stats import mcnemar_pooled, minimum_detectable_difference, paired_proportion_se

    labels = ["clean", "clean", "misaligned", "clean", "fragment", "misaligned"]
    kept = {"mlm_tlm": [[0, 2, 4], [0, 1, 2]], "lem": [[0, 1, 3], [0, 1, 4]]}
    refs = [[f"sentence number {i} is here" for i in range(20)]]
    hyps = {"mlm_tlm": [[f"sentence {i}" for i in range(20)]] * 2, "lem": [refs[0], refs[0][:10] + ["x"] * 10]}
    entries = []
    for strategy, selections in kept.items():
        for index, chosen in enumerate(selections):
            h = hyps[strategy][index]
            entries.append({"pair": "si-en", "n": 3, "base": "b", "strategy": strategy if index == 0 else f"{strategy}@s1",
                            "selection": {"sizes": {"3": selection_quality(chosen, labels)}},
                            "scores": nmt_eval.corpus_scores(h, refs), "hyps": h})
    rows, sig = nmt_eval.nmt_results(entries, {"si-en": {"name": "t", "refs": refs}}, reference_strategy="mlm_tlm",
                                     n_samples=100, seed=1)
    assert {r["strategy"] for r in rows} == {"mlm_tlm", "lem"} and {r["seed"] for r in rows} == {0, 1}
    mcnemar = [s for s in sig if s["task"] == "curation"]
    assert len(mcnemar) == 1 and mcnemar[0]["seeds"] == 2 and mcnemar[0]["pretrain_seed"] == ""
    decisions = {s: [selection_quality(c, labels)["decisions"] for c in sel] for s, sel in kept.items()}
    expected = mcnemar_pooled([([c == "1" for c in decisions["lem"][i]], [c == "1" for c in decisions["mlm_tlm"][i]])
                               for i in (0, 1)])
    # seed 0: lem 111111 vs mlm_tlm 100001 (4 won by lem); seed 1: 111001 vs 110011 (one each way)
    assert (expected["only_a"], expected["only_b"]) == (5, 1)
    assert mcnemar[0]["p_value"] == pytest.approx(expected["p_value"]) == pytest.approx(2 * 7 / 64)
    per_seed = [s for s in sig if s["task"] == "nmt"]
    assert sorted({s["pretrain_seed"] for s in per_seed}) == [0, 1]
    results = _write_dicts(tmp_path / "nmt" / "results.csv", rows)
    sig_path = _write_dicts(tmp_path / "nmt" / "significance.csv", sig)
    agg = aggregate(read_results([results]))
    get = lambda table, task, m: table[(table.task == task) & (table.strategy == "lem")  # noqa: E731
                                       & (table.metric == m)].iloc[0]
    decision = get(agg, "curation", "decision_accuracy")
    assert (decision["n"], decision["seeds"]) == (2, 2)
    assert decision["value"] == pytest.approx((1.0 + 4 / 6) / 2)
    table = compare(agg, read_significance([sig_path]), ReportSettings())
    assert get(table, "curation", "decision_accuracy")["test"] == "stage"
    assert get(table, "nmt", "BLEU")["test"] == "welch"  # the per-seed bootstrap tests are not the pooled test
    assert get(agg, "nmt", "BLEU")["n"] == 2
    settings = ReportSettings(primary=[{"task": "curation", "pair": "si-en", "metric": "decision_accuracy",
                                        "strategy": "lem"}])
    family = primary_family(agg, read_significance([sig_path]), settings)
    assert family["seeds"].tolist() == [2] and family["p_value"].iloc[0] == pytest.approx(expected["p_value"])
    # the MDD of the pooled McNemar comparison, from the SE of the paired difference (12 units, 5 vs 1 discordant)
    se = paired_proportion_se(5, 1, 12)
    assert family["se"].iloc[0] == pytest.approx(se) and se == pytest.approx((6 - 16 / 12) ** 0.5 / 12)
    assert family["mdd"].iloc[0] == pytest.approx(minimum_detectable_difference(se, 0.05, 0.8))


def test_results_writer_is_the_contract_the_report_reads(tmp_path):
    """lemflow.results.write_results: the tidy columns in order, missing numbers empty, an unknown
    key refused; read_results reads it back."""
    from lemflow.results import write_results

    path = tmp_path / "results.csv"
    write_results(path, [{"task": "t", "dataset": "d", "pair": "si-en", "base": "b", "strategy": "s", "metric": "m",
                          "value": 2, "ci_low": float("nan"), "ci_high": None, "seed": 0}])
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(RESULT_COLUMNS)
    frame = read_results([path])
    assert frame.loc[0, "value"] == 2.0 and math.isnan(frame.loc[0, "ci_low"]) and math.isnan(frame.loc[0, "ci_high"])
    with pytest.raises(ValueError):
        write_results(tmp_path / "bad.csv", [{"task": "t", "unknown": 1}])
    write_results(tmp_path / "extra.csv", [{"task": "t", "repeat": 3}], extra=("repeat",))
    assert (tmp_path / "extra.csv").read_text(encoding="utf-8").splitlines()[0].endswith(",seed,repeat")


def test_package_interface_resolves_and_no_module_shadows_a_name():
    """Every name of ``lemflow.report.__all__`` resolves (to no module), and no module of
    the package is named like one of them (``import lemflow.report.x as m`` would then give the
    function, and the package attribute would depend on import order)."""
    import pkgutil
    import types

    import lemflow.report as report

    modules = {m.name for m in pkgutil.iter_modules(report.__path__)}
    assert {"build", "comparison", "tables", "plots", "analyses"} <= modules
    assert not modules & set(report.__all__)
    for name in report.__all__:
        assert not isinstance(getattr(report, name), types.ModuleType), name
