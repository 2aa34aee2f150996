"""Code-mixed sentiment classification: data splits, fine-tuning an encoder with a
classification head, and the metrics of the paper's third downstream task.

Every encoder of a pair is fine-tuned on the *same* train/dev/test split (written once by the
``sentiment_data`` rule), with early stopping on dev macro-F1 only; the test split is touched
once, after model selection. Several seeds per encoder give mean ± std in the report.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import InputError
from .stats import majority_share

METRICS = ("macro_f1", "weighted_f1", "accuracy")
DEFAULT_TRAINING = {
    "max_length": 128,
    "epochs": 3,
    "batch_size": 16,
    "eval_batch_size": 64,
    "learning_rate": 5e-5,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "patience": 2,
    "eval_every": 0,
    "max_grad_norm": 1.0,
    "freeze_embeddings": False,
    "class_weighting": "none",
    "precision": "fp32",
}


def class_weights(labels: Sequence[int], n_classes: int) -> list[float]:
    """'balanced' loss weights n / (k · count_c), so that every class weighs the same in the
    loss as in macro-F1; a class absent from train gets weight 0 (nothing to learn it from)."""
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=n_classes).astype(float)
    return [len(labels) / (n_classes * c) if c else 0.0 for c in counts]


# ----------------------------------------------------------------------------- splits
def stratified_split(labels: Sequence[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (kept, held_out): ``fraction`` of every class held out (rounded, at least one
    item of every class that has two or more), chosen with a seeded permutation per class.

    Sorted indices keep the original file order inside each part, so the split only depends on
    the labels, the fraction and the seed."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    held: list[int] = []
    for label in sorted(by_class):
        members = by_class[label]
        n = int(round(fraction * len(members)))
        if len(members) >= 2:
            n = min(max(n, 1), len(members) - 1)
        else:
            n = 0
        order = rng.permutation(len(members))
        held.extend(members[j] for j in order[:n])
    held_set = set(held)
    kept = [i for i in range(len(labels)) if i not in held_set]
    return kept, sorted(held)


def stratified_subsample(labels: Sequence[str], size: int | None, seed: int) -> list[int]:
    """Sorted indices of a seeded, class-proportional subsample of ``size`` items (all items
    when ``size`` is None or not smaller than the data)."""
    if size is None or size >= len(labels):
        return list(range(len(labels)))
    if size < 1:
        raise ValueError("size must be positive")
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    classes = sorted(by_class)
    # largest-remainder allocation: exactly `size` items, each class within one of its share
    shares = [size * len(by_class[c]) / len(labels) for c in classes]
    quota = [int(s) for s in shares]
    for j in sorted(range(len(classes)), key=lambda j: (-(shares[j] - quota[j]), j))[: size - sum(quota)]:
        quota[j] += 1
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    for c, q in zip(classes, quota):
        order = rng.permutation(len(by_class[c]))
        picked.extend(by_class[c][j] for j in order[:q])
    return sorted(picked)


def label_set(train_labels: Iterable[str], configured: Sequence[str] | None = None) -> list[str]:
    """The classes, in a fixed order: the configured list, else the sorted training labels."""
    return list(configured) if configured else sorted(set(train_labels))


def prepare_splits(train, dev, test, *, labels: Sequence[str] | None, test_fraction: float,
                   max_train: int | None, max_eval: int | None, seed: int, paths: dict | None = None):
    """The train/dev/test frames every encoder of a pair uses.

    ``test`` None: a seeded stratified ``test_fraction`` of train becomes the test set (dev
    stays the model-selection set). ``max_train``/``max_eval`` subsample (stratified, seeded)
    to fit a compute budget. Labels outside the label set raise InputError naming the file."""
    paths = paths or {}
    source = "file"
    if test is None:
        kept, held = stratified_split(list(train["label"]), test_fraction, seed)
        test = train.iloc[held].reset_index(drop=True)
        train = train.iloc[kept].reset_index(drop=True)
        source = f"train_holdout_{test_fraction:g}"
    classes = label_set(train["label"], labels)
    for name, frame in (("train", train), ("dev", dev), ("test", test)):
        unknown = sorted(set(frame["label"]) - set(classes))
        if unknown:
            raise InputError(paths.get(name, name), f"labels {unknown} not in the label set {classes}")
    train = train.iloc[stratified_subsample(list(train["label"]), max_train, seed)].reset_index(drop=True)
    dev = dev.iloc[stratified_subsample(list(dev["label"]), max_eval, seed + 1)].reset_index(drop=True)
    test = test.iloc[stratified_subsample(list(test["label"]), max_eval, seed + 2)].reset_index(drop=True)
    return {"train": train, "dev": dev, "test": test}, classes, source


# ----------------------------------------------------------------------------- metrics
def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """macro-F1, weighted-F1, accuracy and per-class F1 (``f1_<label>``), all in [0, 1]."""
    from sklearn.metrics import accuracy_score, f1_score

    ids = list(range(len(labels)))
    out = {
        "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=ids, average="weighted", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }
    # share of the most frequent predicted class: 1.0 = a degenerate one-class classifier (the report lists it)
    out["predicted_majority_share"] = majority_share(y_pred)
    per_class = f1_score(y_true, y_pred, labels=ids, average=None, zero_division=0)
    for label, value in zip(labels, per_class):
        out[f"f1_{label}"] = float(value)
    return out


def tidy_rows(metrics: dict, *, pair: str, base: str, strategy: str, dataset: str) -> list[dict]:
    """One tidy results row per test metric of one fine-tuning (or probe) run.

    Two seeds describe a run, and they are kept apart: ``seed`` is the encoder's pre-training
    seed index (as in every downstream table: ``lem@s1`` is reported as strategy ``lem`` with
    seed 1) and ``repeat`` the fine-tuning/probe seed within it. The report averages the repeats
    of each pre-training seed before it pools pre-training seeds (lemflow.report.aggregate)."""
    from .seeds import split_seeded

    strategy, index = split_seeded(strategy)
    return [{"task": "sentiment", "dataset": dataset, "pair": pair, "base": base, "strategy": strategy,
             "metric": metric, "value": value, "ci_low": "", "ci_high": "", "seed": index,
             "repeat": metrics["seed"]}
            for metric, value in metrics["test"].items()]


def _batches(n: int, size: int, generator=None):
    import torch

    order = torch.randperm(n, generator=generator).tolist() if generator is not None else list(range(n))
    for start in range(0, n, size):
        yield order[start:start + size]


def _encode(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


def _collate(tokenizer, ids: list[list[int]], idx: list[int]):
    return tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")


def predict(model, tokenizer, ids: list[list[int]], batch_size: int, precision: str = "fp32",
            device=None) -> list[int]:
    """Predicted class ids, computed on ``device`` (default: the model's) in ``precision``
    (lemflow.device.autocast)."""
    import torch

    from .device import autocast

    model.eval()
    device = device if device is not None else next(model.parameters()).device
    predictions: list[int] = []
    with torch.no_grad(), autocast(device, precision):
        for idx in _batches(len(ids), batch_size):
            batch = _collate(tokenizer, ids, idx).to(device)
            logits = model(**batch).logits
            predictions.extend(logits.argmax(-1).tolist())
    return predictions


def fine_tune(model_dir: str | Path, splits: dict, labels: Sequence[str], settings: dict, seed: int,
              progress: bool = True, log=print, keep_model: bool = False, device="auto") -> dict:
    """Fine-tune the encoder in ``model_dir`` (any HF masked-LM or encoder dir) with a fresh
    classification head; select the checkpoint with the best dev macro-F1 (early stopping
    after ``patience`` evaluations without improvement); report dev and test metrics of it.

    ``eval_every`` 0 evaluates once per epoch, N > 0 every N optimiser steps. The model runs
    on ``device`` (auto | cpu | cuda) with forward passes in ``settings["precision"]``
    (:mod:`lemflow.device`)."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from . import device as devices

    cfg = {**DEFAULT_TRAINING, **settings}
    device = device if isinstance(device, torch.device) else devices.resolve_device(device)
    precision = devices.resolve_precision(cfg["precision"], device)
    started = time.time()
    torch.manual_seed(seed)
    np.random.seed(seed)
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id).to(device)
    encoded = {name: _encode(tokenizer, list(frame["text"]), cfg["max_length"]) for name, frame in splits.items()}
    gold = {name: [label2id[x] for x in frame["label"]] for name, frame in splits.items()}
    train_y = torch.tensor(gold["train"]).to(device)
    if cfg["class_weighting"] not in ("none", "balanced"):
        raise ValueError(f"class_weighting must be none or balanced, not {cfg['class_weighting']!r}")
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(class_weights(gold["train"], len(labels)), dtype=torch.float).to(device)
        if cfg["class_weighting"] == "balanced" else None)

    steps_per_epoch = math.ceil(len(encoded["train"]) / cfg["batch_size"])
    total_steps = max(1, steps_per_epoch * cfg["epochs"])
    warmup = int(cfg["warmup_ratio"] * total_steps)
    if cfg["freeze_embeddings"]:
        # the sub-word embedding matrix is most of a multilingual encoder's parameters (96M of
        # e5-small's 118M): freezing it makes each optimiser step several times cheaper on CPU
        model.get_input_embeddings().weight.requires_grad_(False)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in trainable if not any(k in n for k in no_decay)], "weight_decay": cfg["weight_decay"]},
        {"params": [p for n, p in trainable if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg["learning_rate"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: (step + 1) / max(1, warmup) if step < warmup
        else max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    generator = torch.Generator().manual_seed(seed)

    history, step = [], 0
    tracker = devices.BestOnDev(cfg["patience"])
    best_step = (0, 0)
    eval_every = cfg["eval_every"] or steps_per_epoch
    stop = False
    bar = tqdm(total=total_steps, desc=f"fine-tune seed {seed}", disable=not progress, mininterval=5)
    for epoch in range(1, cfg["epochs"] + 1):
        model.train()
        running = 0.0
        for idx in _batches(len(encoded["train"]), cfg["batch_size"], generator):
            batch = _collate(tokenizer, encoded["train"], idx).to(device)
            with devices.autocast(device, precision):
                logits = model(**batch).logits
            loss = loss_fn(logits.float(), train_y[idx])
            loss.backward()
            devices.optimizer_step(model, optimizer, scheduler, cfg["max_grad_norm"])
            step += 1
            running += float(loss.detach())
            bar.update(1)
            if step % eval_every == 0 or step == total_steps:
                dev = classification_metrics(gold["dev"], predict(model, tokenizer, encoded["dev"],
                                                                  cfg["eval_batch_size"], precision, device), labels)
                history.append({"step": step, "epoch": epoch, "train_loss": running / max(1, step - (epoch - 1) * steps_per_epoch),
                                "dev_macro_f1": dev["macro_f1"], "dev_accuracy": dev["accuracy"]})
                log(f"step {step} epoch {epoch}: dev macro-F1 {dev['macro_f1']:.4f}")
                if tracker.update(dev["macro_f1"], model):
                    best_step = (step, epoch)
                elif tracker.exhausted and step < total_steps:
                    log(f"early stop at step {step}: no dev improvement in {tracker.bad} evaluations")
                    stop = True
                    break
                model.train()
        if stop:
            break
    bar.close()
    model.load_state_dict(tracker.state)
    result = {"seed": seed, "labels": list(labels), **devices.describe(device, precision), "best_step": best_step[0], "best_epoch": best_step[1],
              "steps": step, "history": history, "settings": cfg,
              "sizes": {name: len(v) for name, v in encoded.items()}}
    for name in ("dev", "test"):
        result[name] = classification_metrics(gold[name], predict(model, tokenizer, encoded[name],
                                                                  cfg["eval_batch_size"], precision, device), labels)
    result["wall_s"] = round(time.time() - started, 2)
    if keep_model:  # for callers that inspect the fine-tuned model; never serialised
        result["model"] = model
    return result


def probe(model_dir: str | Path, splits: dict, labels: Sequence[str], settings: dict, seeds: Sequence[int],
          log=print, features: dict | None = None) -> list[dict]:
    """Linear probe: the encoder frozen, mean-pooled L2-normalised sentence features
    (lemflow.embedding.embed, the encoder's own prefix), a scikit-learn logistic regression
    trained on the whole training set once per seed (the seed drives the solver's sample order:
    ``saga``), dev and test metrics and the test predictions (for McNemar's test). ``features``
    may pass precomputed {split: array}."""
    from sklearn.linear_model import LogisticRegression

    from .embedding import embed, model_prefix

    cfg = {**DEFAULT_TRAINING, **settings}
    probe_cfg = {"C": 1.0, "max_iter": 2000, **(settings.get("probe") or {})}
    started = time.time()
    label2id = {label: i for i, label in enumerate(labels)}
    if features is None:
        prefix = model_prefix(model_dir)
        features = {name: embed(model_dir, list(frame["text"]), max_length=cfg["max_length"],
                                batch_size=cfg["eval_batch_size"], prefix=prefix)
                    for name, frame in splits.items()}
    gold = {name: [label2id[x] for x in frame["label"]] for name, frame in splits.items()}
    results = []
    for seed in seeds:
        classifier = LogisticRegression(C=float(probe_cfg["C"]), max_iter=int(probe_cfg["max_iter"]), solver="saga",
                                        random_state=int(seed),
                                        class_weight="balanced" if cfg["class_weighting"] == "balanced" else None)
        classifier.fit(features["train"], gold["train"])
        result = {"seed": int(seed), "labels": list(labels), "mode": "probe", "settings": {**cfg, "probe": probe_cfg},
                  "sizes": {name: len(v) for name, v in gold.items()}, "iterations": int(np.max(classifier.n_iter_))}
        # an unconverged saga fit depends on its seed (balanced weights on shared2: accuracy 0.35-0.69 across seeds)
        result["converged"] = result["iterations"] < int(probe_cfg["max_iter"])
        if not result["converged"]:
            log(f"WARNING probe seed {seed}: the solver stopped at max_iter {probe_cfg['max_iter']} without converging; "
                "its predictions depend on the seed (raise sentiment.training.probe.max_iter)")
        for name in ("dev", "test"):
            predicted = classifier.predict(features[name]).tolist()
            result[name] = classification_metrics(gold[name], predicted, labels)
            if name == "test":
                result["test_predictions"], result["test_gold"] = predicted, gold[name]
        result["wall_s"] = round(time.time() - started, 2)
        log(f"probe seed {seed}: test macro-F1 {result['test']['macro_f1']:.4f}")
        results.append(result)
    return results


def significance_rows(runs: Sequence[dict], *, reference: str, dataset: dict, alpha: float = 0.05,
                      samples: int = 10000) -> list[dict]:
    """Significance rows (report format) for runs that kept their test predictions (the probe):
    every strategy against ``reference`` of the same pair and base. Accuracy: exact McNemar on
    per-text correctness, pooled over pre-training seeds. Macro- and weighted F1: a paired
    bootstrap over test texts and pre-training seeds (lemflow.stats.f1_bootstrap), its interval
    and SE in the row. Probe seeds only reorder the solver's samples, so their predictions are
    (nearly) the same: one run per pre-training seed (the lowest probe seed) enters the tests;
    repeats of a deterministic probe are not samples, and a t-test over them would find any
    difference 'significant'."""
    from .seeds import split_seeded
    from .stats import f1_bootstrap, mcnemar_pooled, paired_proportion_se

    by_system: dict = {}
    for run in runs:
        if "test_predictions" not in run:
            continue
        strategy, index = split_seeded(run["strategy"])
        runs_of = by_system.setdefault((run["pair"], run["base"], strategy), {})
        if index not in runs_of or run["seed"] < runs_of[index]["seed"]:
            runs_of[index] = run
    rows = []
    for (pair, base, strategy), system_runs in sorted(by_system.items()):
        ref_runs = by_system.get((pair, base, reference))
        if strategy == reference or not ref_runs:
            continue
        keys = sorted(set(system_runs) & set(ref_runs))
        if not keys:
            continue
        gold = ref_runs[keys[0]]["test_gold"]
        if any(r[k]["test_gold"] != gold for r in (system_runs, ref_runs) for k in keys):
            raise ValueError(f"sentiment {pair} {base}: {strategy} and {reference} runs were tested on different texts")
        common = {"task": "sentiment", "dataset": dataset.get(pair, "codemixed"), "pair": pair, "base": base,
                  "strategy": strategy, "reference": reference, "runs": len(keys), "seeds": len(keys),
                  "reference_seeds": len(keys)}

        def mean_metric(of, metric):
            return float(np.mean([of[k]["test"][metric] for k in keys]))

        def correct(of, k):
            return [int(p == g) for p, g in zip(of[k]["test_predictions"], gold)]

        test = mcnemar_pooled([(correct(system_runs, k), correct(ref_runs, k)) for k in keys])
        value, ref_value = mean_metric(system_runs, "accuracy"), mean_metric(ref_runs, "accuracy")
        rows.append({**common, "metric": "accuracy", "test": "mcnemar", "value": value, "reference_value": ref_value,
                     "difference": value - ref_value, "p_value": test["p_value"],
                     "significant": bool(test["p_value"] < alpha), "mcnemar_p": test["p_value"],
                     "only_strategy": test["only_a"], "only_reference": test["only_b"],
                     "se": paired_proportion_se(test["only_a"], test["only_b"], len(keys) * len(gold))})
        n_classes = len(ref_runs[keys[0]]["labels"])
        for average in ("macro", "weighted"):
            metric = f"{average}_f1"
            boot = f1_bootstrap([system_runs[k]["test_predictions"] for k in keys],
                                [ref_runs[k]["test_predictions"] for k in keys], gold, n_classes, average=average,
                                samples=samples, seed=0)
            value, ref_value = mean_metric(system_runs, metric), mean_metric(ref_runs, metric)
            rows.append({**common, "metric": metric, "test": "paired bootstrap (texts, seeds)", "value": value,
                         "reference_value": ref_value, "difference": value - ref_value, "p_value": boot["p_value"],
                         "significant": bool(boot["p_value"] < alpha), "ci_low": boot["ci_low"],
                         "ci_high": boot["ci_high"], "se": boot["se"]})
    return rows


def summarize_seeds(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one seed)."""
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
