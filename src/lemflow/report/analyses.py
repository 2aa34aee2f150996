"""The report's analyses beyond the compared results, each from its own declared files: tagger
accuracy, masking statistics of pre-training, how far pre-training moved the sentence space, the
tagger's NEs against gold NEs, the mining embedding selection, input warnings and wall time."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from lemflow.errors import InputError


def flatten(obj, prefix: str = "") -> dict:
    """Nested dicts → {"a/b": scalar}; lists of scalars are joined."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}/{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj) and len(obj) <= 8:
            out[prefix] = ", ".join(str(v) for v in obj)
    else:
        out[prefix] = obj
    return out


def tagging_table(report_json: str | Path | None) -> pd.DataFrame:
    """R/tagging/report.json flattened: one row per language (its first key level) when the
    file is keyed by language, else one row per key."""
    if report_json is None or not Path(report_json).exists():
        return pd.DataFrame()
    with open(report_json, encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        rows = [{"language": k, **flatten(v)} for k, v in data.items()]
    else:
        rows = [{"key": k, "value": v} for k, v in flatten(data).items()]
    return pd.DataFrame(rows)


MASKING_KEYS = re.compile(r"mask|entit|top.?up|coverage|best|loss|epoch|step", re.IGNORECASE)


def masking_table(results_root: str | Path, files: Sequence[str | Path]) -> pd.DataFrame:
    """Scalar fields of the pre-training metrics.json files among ``files`` (the report rule's
    declared inputs, R/pretrain/{base}/{strategy}/{pair}/{stage}/metrics.json)."""
    rows = []
    root = Path(results_root) / "pretrain"
    for path in sorted(Path(f) for f in files if Path(f).name == "metrics.json"):
        try:
            parts = path.relative_to(root).parts[:-1]
        except ValueError:
            continue
        if len(parts) != 4:  # base/strategy/pair/stage only, not an MLM head's metrics
            continue
        ident = dict(zip(("base", "strategy", "pair", "stage"), parts))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(path, f"invalid JSON: {err.msg}", err.lineno) from None
        flat = {k: v for k, v in flatten(data).items() if isinstance(v, (int, float, bool, str)) and k}
        rows.append({**ident, **flat})
    return pd.DataFrame(rows)


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest neighbours (cosine, itself excluded) that two embeddings
    of the same sentences agree on: 1 = same local structure, ~k/n = unrelated."""
    n = len(a)
    if n <= k:
        return float("nan")

    def knn(x):
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        return np.argpartition(-sims, k, axis=1)[:, :k]

    first, second = knn(a), knn(b)
    return float(np.mean([len(np.intersect1d(x, y, assume_unique=True)) / k for x, y in zip(first, second)]))


def sentence_space_table(results_root: str | Path, files: Sequence[str | Path], max_rows: int = 2000,
                         k: int = 10) -> pd.DataFrame:
    """How far continual pre-training moved each encoder's sentence space from its untouched base,
    on the mining sets' sentences: mean cosine between the two embeddings of a sentence, and the
    k-nearest-neighbour overlap (first ``max_rows`` sentences of each file). ``files``: the
    declared embeddings, R/mining/{base}/{strategy}/{pair}/embeddings/{kind}/{set}.{lang}.npy; a
    trained encoder's file is compared with its base's (strategy ``base``) when that is declared too."""
    root = Path(results_root) / "mining"
    declared = {Path(f) for f in files}
    rows = []
    for path in sorted(declared):
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            continue
        if len(parts) != 6 or parts[3] != "embeddings" or parts[1] == "base":
            continue
        base, strategy, pair = parts[:3]
        reference = root.joinpath(base, "base", *parts[2:])
        if reference not in declared:
            continue
        a = np.load(reference)[:max_rows].astype(np.float32)
        b = np.load(path)[:max_rows].astype(np.float32)
        if a.shape != b.shape:
            continue
        cos = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
        rows.append({"base": base, "strategy": strategy, "pair": pair, "set": "/".join(parts[3:]),
                     "sentences": len(a), "mean_cosine_to_base": float(cos.mean()),
                     f"knn{k}_overlap_with_base": neighbour_overlap(a, b, k)})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    return (frame.groupby(["base", "strategy", "pair"], sort=False)
            .agg(sets=("set", "size"), sentences=("sentences", "sum"), mean_cosine_to_base=("mean_cosine_to_base", "mean"),
                 **{f"knn{k}_overlap_with_base": (f"knn{k}_overlap_with_base", "mean")})
            .reset_index())


def ner_agreement_table(files: Sequence[tuple[str | Path, str | Path]]) -> pd.DataFrame:
    """Entity-level agreement of the tagger's NEs with the gold NEs on the same corpus sentences:
    precision/recall/F1 of predicted NE spans (type and extent). ``files``: (gold, predicted)
    pairs of tag files, R/tags_gold/{pair}/{split}.{lang}.jsonl and R/tags/{pair}/{split}.{lang}.jsonl."""
    rows = []
    for gold_path, predicted_path in files:
        gold_path = Path(gold_path)
        pair, name = gold_path.parent.name, gold_path.stem  # name: split.lang
        split, lang = name.rsplit(".", 1)
        tp = n_pred = n_gold = 0
        with open(gold_path, encoding="utf-8") as gold_file, open(predicted_path, encoding="utf-8") as pred_file:
            for gold_line, pred_line in zip(gold_file, pred_file):
                gold_spans = _bio_spans(json.loads(gold_line)["ner"])
                pred_spans = _bio_spans(json.loads(pred_line)["ner"])
                tp += len(gold_spans & pred_spans)
                n_pred += len(pred_spans)
                n_gold += len(gold_spans)
        precision = tp / n_pred if n_pred else float("nan")
        recall = tp / n_gold if n_gold else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        rows.append({"pair": pair, "split": split, "lang": lang, "gold_entities": n_gold, "predicted_entities": n_pred,
                     "precision": precision, "recall": recall, "f1": f1})
    return pd.DataFrame(rows)


def _bio_spans(tags: Sequence[str]) -> set:
    """{(type, start, end)} of a BIO tag sequence."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        if tag.startswith("I-") and kind == tag[2:]:
            continue
        if kind is not None:
            spans.add((kind, start, i))
            kind = None
        if tag.startswith(("B-", "I-")):
            start, kind = i, tag[2:]
    return spans


def embedding_selection_table(files: Sequence[str | Path]) -> pd.DataFrame:
    """Every (prefix, layer) candidate's development P@1 per base (the declared
    R/mining/select/<base>.json files) and which one was chosen."""
    rows = []
    for path in sorted(Path(f) for f in files):
        data = json.loads(path.read_text(encoding="utf-8"))
        for c in data["candidates"]:
            rows.append({"base": path.stem, "prefix": repr(c["prefix"]), "layer": c["layer"],
                         **{f"P@1 {name}": v for name, v in c["p_at_1"].items()}, "mean P@1": c["mean"],
                         "chosen": f"✔ {data.get('reason', '')}".strip()
                         if {"prefix": c["prefix"], "layer": c["layer"]} == data["chosen"] else ""})
    return pd.DataFrame(rows)


def input_notes(results_root: str | Path, mining_meta: Sequence[str | Path] = (),
                prepare_stats: Sequence[str | Path] = ()) -> list[str]:
    """Markdown lines on what this run skipped or changed in its input: gold lines skipped by
    ``mining.skip_bad_gold`` (the comparable mining sets' declared meta.json files) and prepare's
    warnings (the declared R/data/{pair}/stats.json files)."""
    root = Path(results_root)
    notes = []
    for meta_path in sorted(Path(p) for p in mining_meta):
        skipped = json.loads(meta_path.read_text(encoding="utf-8")).get("skipped_gold") or []
        if skipped:
            where = meta_path.parent.relative_to(root).as_posix() if meta_path.is_relative_to(root) \
                else meta_path.parent.as_posix()
            notes.append(f"- mining set `{where}`: {len(skipped)} gold "
                         f"line(s) skipped (`mining.skip_bad_gold`): "
                         + "; ".join(f"line {s['line']}: {s['problem']}" for s in skipped[:5]))
    for stats_path in sorted(Path(p) for p in prepare_stats):
        for warning in json.loads(stats_path.read_text(encoding="utf-8")).get("warnings") or []:
            notes.append(f"- prepare `{stats_path.parent.name}`: {warning}")
    return (["## Input warnings", ""] + notes + [""]) if notes else []


def walltime_table(results_root: str | Path, exclude: Sequence[str] = ("report",)) -> pd.DataFrame:
    """Wall time per stage (rule) summed over its jobs, from Snakemake benchmark TSVs.

    The one input the report finds by a glob (R/benchmarks/**/*.tsv), not by declaration:
    declaring them would make the report rule enumerate every job of the DAG (a second copy of
    every rule's wildcards), and the report's own benchmark cannot be its input. Wall time is
    a by-product, not a result; a stale file only misstates the time."""
    rows = []
    root = Path(results_root) / "benchmarks"
    for path in sorted(root.glob("**/*.tsv")):
        rule = path.relative_to(root).parts[0]
        if rule in exclude:
            continue
        try:
            frame = pd.read_csv(path, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if "s" not in frame.columns or frame.empty:
            continue
        rss = pd.to_numeric(frame.get("max_rss", pd.Series(dtype=float)), errors="coerce")
        rows.append({"rule": rule, "s": float(pd.to_numeric(frame["s"], errors="coerce").iloc[-1]),
                     "max_rss_mb": float(rss.iloc[-1]) if len(rss) and not math.isnan(rss.iloc[-1]) else np.nan})
    if not rows:
        return pd.DataFrame(columns=["rule", "jobs", "wall_s", "max_job_s", "max_rss_mb"])
    frame = pd.DataFrame(rows)
    table = frame.groupby("rule", sort=False).agg(jobs=("s", "size"), wall_s=("s", "sum"), max_job_s=("s", "max"),
                                                  max_rss_mb=("max_rss_mb", "max")).reset_index()
    return table.sort_values("wall_s", ascending=False, ignore_index=True)
