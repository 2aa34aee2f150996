#!/usr/bin/env python
"""Write the run's report: RESULTS.md, tables/*.csv, plots/*.png, provenance.json."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from pathlib import Path

from lemflow.io import scratch_dir
from lemflow.report import ReportSettings, build_report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", nargs="*", default=[], help="tidy results.csv files of the evaluation stages")
    parser.add_argument("--significance", nargs="*", default=[], help="significance.csv files (optional)")
    parser.add_argument("--tagging", default=None, help="tagging/report.json (optional)")
    parser.add_argument("--results-root", required=True,
                        help="R: the files below are named relative to it; benchmarks are globbed below it")
    parser.add_argument("--paper", default=None, help="the paper's numbers (CSV)")
    parser.add_argument("--config", required=True, help="JSON of the run's config (hashed for provenance)")
    parser.add_argument("--settings", default="{}", help="JSON: the config's report section")
    parser.add_argument("--pretraining", nargs="*", default=[],
                        help="pre-training metrics.json / loss.tsv / drift.tsv files (stages and MLM heads)")
    parser.add_argument("--embeddings", nargs="*", default=[],
                        help="mining embeddings R/mining/{base}/{strategy}/{pair}/embeddings/{kind}/{set}.{lang}.npy "
                             "(sentence-space drift of each trained encoder from its base)")
    parser.add_argument("--tags", nargs="*", default=[], help="the tagger's R/tags/{pair}/{split}.{lang}.jsonl files")
    parser.add_argument("--gold-tags", nargs="*", default=[],
                        help="R/tags_gold/{pair}/{split}.{lang}.jsonl, one per --tags file in the same order "
                             "(the tagger's NEs against gold)")
    parser.add_argument("--selection", nargs="*", default=[], help="R/mining/select/{base}.json files")
    parser.add_argument("--mining-meta", nargs="*", default=[],
                        help="meta.json of the comparable mining sets (gold lines skipped)")
    parser.add_argument("--prepare-stats", nargs="*", default=[], help="R/data/{pair}/stats.json (prepare's warnings)")
    parser.add_argument("--outdir", required=True, help="writes RESULTS.md, tables/, plots/, provenance.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)

    config = json.loads(Path(args.config).read_text(encoding="utf-8")) if os.path.isfile(args.config) \
        else json.loads(args.config)
    significance = [p for p in args.significance if Path(p).exists()]
    if len(args.tags) != len(args.gold_tags):
        parser.error(f"--tags names {len(args.tags)} files, --gold-tags {len(args.gold_tags)}: they go in pairs")
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parents[1]
    with scratch_dir(out / "report") as tmp:  # .report.<random>.work.tmp; a killed run's goes next time
        summary = build_report(args.results, args.results_root, tmp, config,
                               ReportSettings.from_dict(json.loads(args.settings)), paper_path=args.paper,
                               significance_files=significance, tagging_json=args.tagging, repo=repo,
                               pretraining_files=args.pretraining, embedding_files=args.embeddings,
                               tag_files=list(zip(args.gold_tags, args.tags)), selection_files=args.selection,
                               mining_meta=args.mining_meta, prepare_stats=args.prepare_stats)
        # each part is renamed into place when complete; RESULTS.md last
        for name in ("tables", "plots", "provenance.json", "RESULTS.md"):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(tmp / name, target)
    logging.info("report: %s", json.dumps(summary["counts"]))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
