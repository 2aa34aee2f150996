"""The report's pre-training section, from the files the pretrain rules declare (the report rule
lists them as inputs): the new MLM head's dev loss curves (R/pretrain/<base>/head/s<n>/), every
stage's MLM dev loss at its start and end, and the drift curves (drift from the base against dev
P@1, every N steps) of every trained encoder.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence

import pandas as pd

from .errors import InputError
from .report.markdown import frame_table
from .seeds import split_seeded

STAGE_FILES = ("metrics.json", "loss.tsv", "drift.tsv")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(path, f"invalid JSON: {err.msg}", err.lineno) from None


def _read_tsv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def classify(files: Sequence[str | Path], results_root: str | Path) -> dict:
    """Declared pre-training files by kind: ``stage`` {(base, strategy, pair, stage): {name: path}},
    ``head`` {(base, seed index): {name: path}}."""
    root = Path(results_root) / "pretrain"
    out = {"stage": {}, "head": {}}
    for f in files:
        path = Path(f)
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            continue
        if len(parts) == 4 and parts[1] == "head" and parts[2].startswith("s"):
            out["head"].setdefault((parts[0], int(parts[2][1:])), {})[parts[3]] = path
        elif len(parts) == 5 and parts[4] in STAGE_FILES:
            out["stage"].setdefault(tuple(parts[:4]), {})[parts[4]] = path
    return out


def head_table(classified: dict) -> pd.DataFrame:
    """One row per trained head: dev loss before and after, epochs."""
    rows = []
    for (base, index), files in sorted(classified["head"].items()):
        if "metrics.json" not in files:
            continue
        m = _read_json(files["metrics.json"])
        rows.append({"base": base, "seed_index": index, "seed": m.get("seed"),
                     "initial_dev_loss": m.get("initial_dev_loss"), "best_dev_loss": m.get("best_dev_loss"),
                     "best_epoch": m.get("best_epoch"), "epochs_run": m.get("epochs_run"),
                     "train_positions": (m.get("features") or {}).get("train_positions"),
                     "draws": " ".join((m.get("features") or {}).get("draws", []))})
    return pd.DataFrame(rows)


def head_curves(classified: dict) -> pd.DataFrame:
    rows = []
    for (base, index), files in sorted(classified["head"].items()):
        if "loss.tsv" in files:
            for r in _read_tsv(files["loss.tsv"]):
                rows.append({"base": base, "seed_index": index, **{k: (float(v) if v not in ("", None) else None)
                                                                   for k, v in r.items()}})
    return pd.DataFrame(rows)


def stage_table(classified: dict) -> pd.DataFrame:
    """One row per pre-training stage: dev MLM loss at the start, best and final, steps, speed,
    the kept model's drift and dev P@1."""
    rows = []
    for (base, strategy, pair, stage), files in sorted(classified["stage"].items()):
        if "metrics.json" not in files:
            continue
        m = _read_json(files["metrics.json"])
        arm, seed_index = split_seeded(strategy)
        drift = m.get("final_drift") or {}
        rows.append({"base": base, "arm": arm, "seed_index": seed_index, "pair": pair, "stage": stage,
                     "steps": m.get("global_steps"), "planned_steps": m.get("planned_steps"),
                     "initial_eval_loss": m.get("initial_eval_loss"), "best_eval_loss": m.get("best_eval_loss"),
                     "final_eval_loss": m.get("final_eval_loss"), "best_checkpoint": m.get("best_checkpoint"),
                     "share_masked": (m.get("masking_stats") or {}).get("share_masked"),
                     "share_top_up": (m.get("masking_stats") or {}).get("share_top_up"),
                     "freeze_embeddings": m.get("freeze_embeddings"), "tokens_per_second": m.get("tokens_per_second"),
                     "train_seconds": m.get("train_seconds"), "mean_cosine": drift.get("mean_cosine"),
                     "dev_p_at_1": drift.get("dev_p_at_1")})
    return pd.DataFrame(rows)


def drift_curves(classified: dict) -> pd.DataFrame:
    """Every drift measurement with its position in the model's whole training (stage 2's steps
    follow stage 1's); the kept model's rows (step ``best``) are left out."""
    rows = []
    offsets: dict = {}
    for (base, strategy, pair, stage), files in sorted(classified["stage"].items(),
                                                         key=lambda kv: (kv[0][:3], kv[0][3] != "mono")):
        if "drift.tsv" not in files:
            continue
        arm, seed_index = split_seeded(strategy)
        offset = offsets.get((base, strategy, pair), 0)
        last = offset
        for r in _read_tsv(files["drift.tsv"]):
            if r.get("step") in ("best", None, ""):
                continue
            step = offset + int(r["step"])
            last = max(last, step)
            rows.append({"base": base, "arm": arm, "seed_index": seed_index, "pair": pair, "stage": stage,
                         "step": step, **{k: float(v) for k, v in r.items() if k not in ("stage", "step") and v != ""}})
        offsets[(base, strategy, pair)] = last
    return pd.DataFrame(rows)


def plot_head_curves(curves: pd.DataFrame, path: Path) -> bool:
    if curves.empty:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for (base, index), sub in curves.groupby(["base", "seed_index"]):
        line, = ax.plot(sub["epoch"], sub["dev_loss"], marker="o", ms=3, label=f"{base} head s{index}: dev")
        if "train_loss" in sub:
            ax.plot(sub["epoch"], sub["train_loss"], ls=":", color=line.get_color(), label=f"{base} head s{index}: train")
    ax.set_xlabel("epoch over the cached features")
    ax.set_ylabel("MLM loss")
    ax.set_title("New MLM head (body frozen): loss per epoch", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_drift(curves: pd.DataFrame, path: Path) -> bool:
    """Dev P@1 against drift (1 - mean cosine to the base) for every arm and seed, and both
    against the step."""
    if curves.empty or "mean_cosine" not in curves:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    cmap = plt.get_cmap("tab10")
    arms = list(dict.fromkeys(curves["arm"]))
    labelled = set()
    for (base, arm, pair, seed_index), sub in curves.groupby(["base", "arm", "pair", "seed_index"]):
        colour = cmap(arms.index(arm) % 10)
        label = None if (base, arm, pair) in labelled else f"{base}/{arm} {pair}"
        labelled.add((base, arm, pair))
        left.plot(1.0 - sub["mean_cosine"], sub["dev_p_at_1"], marker="o", ms=3, color=colour, label=label, alpha=0.8)
        right.plot(sub["step"], sub["dev_p_at_1"], color=colour, label=label, alpha=0.8)
    left.set_xlabel("drift from the base: 1 - mean cosine")
    left.set_ylabel("dev P@1 (valid pairs)")
    right.set_xlabel("optimisation step (stage 1, then stage 2)")
    right.set_ylabel("dev P@1")
    left.set_title("Dev P@1 against drift (one line per seed)", fontsize=10)
    right.set_title("Dev P@1 during training", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def pretraining_section(files: Sequence[str | Path], results_root: str | Path, out_dir: str | Path) -> list[str]:
    """Markdown lines of the pre-training section; tables and plots written under ``out_dir``."""
    out_dir = Path(out_dir)
    classified = classify(files, results_root)
    heads, head_rows = head_table(classified), head_curves(classified)
    stages, drift = stage_table(classified), drift_curves(classified)
    if heads.empty and stages.empty:
        return []
    md = ["## Continual pre-training", ""]
    if not heads.empty:
        heads.to_csv(out_dir / "tables" / "mlm_head.csv", index=False)
        head_rows.to_csv(out_dir / "tables" / "mlm_head_curve.csv", index=False)
        md += ["### The new MLM head", "",
               "Trained on cached hidden states of the frozen body (`lemflow.head_training`): every sentence "
               "masked several times, half by random and half by LEM masking; stopped on the dev loss "
               "(epoch 0 = before training).", "", frame_table(heads), ""]
        if plot_head_curves(head_rows, out_dir / "plots" / "mlm_head_curve.png"):
            md += ["![MLM head loss curve](plots/mlm_head_curve.png)", ""]
    if not stages.empty:
        stages.to_csv(out_dir / "tables" / "pretraining_stages.csv", index=False)
        shown = ["base", "arm", "seed_index", "pair", "stage", "steps", "initial_eval_loss", "best_eval_loss",
                 "share_masked", "freeze_embeddings", "tokens_per_second", "mean_cosine", "dev_p_at_1"]
        md += ["### Stages: dev MLM loss, masking, speed, drift", "",
               "Dev MLM loss on fixed masks at the start of the stage and of the kept (best) checkpoint; "
               "`mean_cosine` and `dev_p_at_1`: the kept model's drift from the base and cosine P@1 on the "
               "valid pairs. All fields: `tables/pretraining_stages.csv`.", "",
               frame_table(stages[[c for c in shown if c in stages.columns]]), ""]
    if not drift.empty:
        drift.to_csv(out_dir / "tables" / "drift.csv", index=False)
        if plot_drift(drift, out_dir / "plots" / "drift.png"):
            md += ["### Drift against dev P@1", "",
                   "Measured every `pretrain.drift.every` steps of both stages on the first valid pairs: the mean "
                   "cosine between each sentence's embedding and the base's, and cosine P@1. Table: `tables/drift.csv`.",
                   "", "![drift](plots/drift.png)", ""]
    return md
