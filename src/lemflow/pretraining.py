"""Two-stage continual pre-training (stage 1 ``mono``: MLM | LEM_mono on the dependent monolingual
corpus; stage 2 ``para``: TLM | LEM_para on concatenated parallel pairs) with the Hugging Face
Trainer: validation loss, early stopping, best checkpoint kept, resume after a kill, gradient
accumulation, bf16/fp16, multi-GPU through torchrun.

The MLM head is computed only at the masked positions (:func:`masked_only_mlm_loss`), never as
B × L × V logits: with a 250K vocabulary that is the difference between practical and not.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_pt_utils import LengthGroupedSampler

from .encoder_meta import read_meta, write_meta
from .entities import ENTITY_TYPES
from .io import atomic_path, read_lines_strict, write_json
from .masking import MaskingCollator
from .rng_state import RecordingCollator, collator_rng_callback, has_rng_state, restore_collator_rng

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- settings
@dataclass
class StageSettings:
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 32
    grad_accum: int = 1
    learning_rate: float = 5e-5
    warmup: float = 0.06          # share of training steps (< 1) or a number of steps
    weight_decay: float = 0.01
    eval_every: int = 0           # steps; 0 = once per epoch
    patience: int = 3
    max_examples: int = 0         # 0 = all; else a seeded subsample of the training examples
    max_valid_examples: int = 0
    group_by_length: bool = False  # batches of similar length (less padding; the Trainer's length-grouped sampler)

    @classmethod
    def from_dict(cls, d: dict | None) -> "StageSettings":
        d = d or {}
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown pre-training settings {sorted(unknown)}")
        return cls(**d)


@dataclass
class MaskingSettings:
    masking: str = "random"       # random (MLM/TLM) | lem
    types: tuple = ENTITY_TYPES
    k: int | None = 1             # None = whole entity
    top_up: bool = False
    mlm_probability: float = 0.15

    @classmethod
    def from_strategy(cls, strategy: dict, mlm_probability: float = 0.15) -> "MaskingSettings":
        k = strategy.get("k", 1)
        return cls(
            masking=strategy.get("masking", "random"),
            types=tuple(strategy.get("types", ENTITY_TYPES)),
            k=None if k in ("all", None) else int(k),
            top_up=bool(strategy.get("top_up", False)),
            mlm_probability=float(strategy.get("mlm_probability", mlm_probability)),
        )


# --------------------------------------------------------------------------- examples
def _find(haystack: list[int], needle: list[int]) -> int:
    for i in range(len(haystack) - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i
    raise ValueError("content ids not found inside the tokenizer's special-token template")


def special_layout(tokenizer, probe_a: str = "a", probe_b: str = "b") -> dict:
    """The tokenizer's special-token templates (XLM-R ``<s> A </s></s> B </s>``, BERT
    ``[CLS] A [SEP] B [SEP]``, ...) read off by encoding two probes with and without specials."""
    a = tokenizer(probe_a, add_special_tokens=False)["input_ids"]
    b = tokenizer(probe_b, add_special_tokens=False)["input_ids"]
    single = tokenizer(probe_a)["input_ids"]
    pair = tokenizer(probe_a, probe_b)["input_ids"]
    i = _find(single, a)
    ia = _find(pair, a)
    ib = ia + len(a) + _find(pair[ia + len(a) :], b)
    return {
        "single_prefix": single[:i],
        "single_suffix": single[i + len(a) :],
        "pair_prefix": pair[:ia],
        "pair_between": pair[ia + len(a) : ib],
        "pair_suffix": pair[ib + len(b) :],
    }


def build_single(layout, ids: list[int]) -> list[int]:
    return layout["single_prefix"] + ids + layout["single_suffix"]


def build_pair(layout, ids_a: list[int], ids_b: list[int]) -> list[int]:
    return layout["pair_prefix"] + ids_a + layout["pair_between"] + ids_b + layout["pair_suffix"]


def _clip_spans(spans, length: int, shift: int) -> list[tuple[int, int, str]]:
    """Spans inside the first ``length`` ids, shifted by ``shift`` (spans cut by truncation are dropped)."""
    return [(s + shift, e + shift, t) for s, e, t in spans if e <= length and s < e]


def mono_example(layout, ids: list[int], spans, max_length: int) -> dict:
    keep = max_length - len(layout["single_prefix"]) - len(layout["single_suffix"])
    ids = ids[:keep]
    return {"input_ids": build_single(layout, ids), "spans": _clip_spans(spans, len(ids), len(layout["single_prefix"]))}


def truncate_pair(len_a: int, len_b: int, budget: int) -> tuple[int, int]:
    """Longest-first truncation of two lengths to a total budget."""
    if len_a + len_b <= budget:
        return len_a, len_b
    half = budget // 2
    if len_a <= half:
        return len_a, budget - len_a
    if len_b <= budget - half:
        return budget - len_b, len_b
    return half, budget - half


def pair_example(layout, ids_a, spans_a, ids_b, spans_b, max_length: int) -> dict:
    specials = len(layout["pair_prefix"]) + len(layout["pair_between"]) + len(layout["pair_suffix"])
    la, lb = truncate_pair(len(ids_a), len(ids_b), max_length - specials)
    ids_a, ids_b = ids_a[:la], ids_b[:lb]
    offset_a = len(layout["pair_prefix"])
    offset_b = offset_a + la + len(layout["pair_between"])
    return {
        "input_ids": build_pair(layout, ids_a, ids_b),
        "spans": _clip_spans(spans_a, la, offset_a) + _clip_spans(spans_b, lb, offset_b),
    }


def tokenize_lines(tokenizer, lines: list[str]) -> list[dict]:
    """Dictionary-shaped entries without entities (for random masking, which needs no tags)."""
    ids = tokenizer(lines, add_special_tokens=False)["input_ids"] if lines else []
    return [{"ids": x, "spans": []} for x in ids]


def mono_rows(path) -> list[tuple[str, int]]:
    """(lang, line index) of a dependent monolingual TSV (``lang<TAB>line<TAB>sentence``)."""
    rows = []
    for line in read_lines_strict(path, allow_empty_file=True):
        lang, index, _ = line.split("\t", 2)
        rows.append((lang, int(index)))
    return rows


def subsample(examples: list, n: int, seed: int) -> list:
    if not n or n >= len(examples):
        return examples
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed))[:n]
    return [examples[i] for i in sorted(order.tolist())]


# --------------------------------------------------------------------------- loss
def _mlm_head(model):
    for name in ("lm_head", "cls"):  # XLM-R / RoBERTa, BERT
        head = getattr(model, name, None)
        if head is not None:
            return head
    raise ValueError(f"{type(model).__name__}: no MLM head (lm_head or cls)")


def masked_only_mlm_loss(model, input_ids, attention_mask, labels) -> torch.Tensor:
    """Mean cross-entropy of the MLM head evaluated only at positions with a label.

    Equivalent to the model's own loss, but the vocabulary projection runs on the
    (few) masked positions instead of every position."""
    body = model.base_model
    hidden = body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    selected = labels != -100
    if not selected.any():
        return hidden.sum() * 0.0
    logits = _mlm_head(model)(hidden[selected])
    return torch.nn.functional.cross_entropy(logits.float(), labels[selected])


# --------------------------------------------------------------------------- training
class _ListDataset(torch.utils.data.Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def fixed_masks(collator: MaskingCollator, examples: list[dict], batch_size: int = 256) -> list[dict]:
    """Mask the validation set once, so every evaluation scores the same positions."""
    out = []
    for i in range(0, len(examples), batch_size):
        chunk = examples[i : i + batch_size]
        batch = collator(chunk)
        for j, example in enumerate(chunk):
            n = len(example["input_ids"])
            out.append({"input_ids": batch["input_ids"][j, :n].tolist(), "labels": batch["labels"][j, :n].tolist()})
    return out


def initial_eval_loss(trainer, work_dir: Path) -> float:
    """The dev loss of the stage's initial model, kept in ``work_dir`` so that a resumed stage
    reports the same starting loss. The trainer still holds the initial weights here (a resume
    loads the checkpoint inside ``train``), so a run that lacks the file measures it again; the
    eval set has fixed masks, so that consumes no masking randomness."""
    path = work_dir / "initial_eval.json"
    if path.exists():
        return json.loads(path.read_text())["eval_loss"]
    loss = trainer.evaluate()["eval_loss"]
    log.info("initial validation loss %.4f", loss)
    if trainer.args.process_index == 0:
        write_json(path, {"eval_loss": loss})
    return loss


def last_complete_checkpoint(work_dir: Path) -> str | None:
    """The newest checkpoint that was written completely; partial ones (a kill during a save)
    are removed. trainer_state.json is written after the weights and optimizer, the collator's
    RNG state (lemflow.rng_state) last."""
    complete = []
    for path in Path(work_dir).glob("checkpoint-*"):
        weights = any(path.glob("model*.safetensors")) or (path / "pytorch_model.bin").exists()
        if (weights and (path / "trainer_state.json").exists() and (path / "optimizer.pt").exists()
                and has_rng_state(path)):
            complete.append(path)
        else:
            shutil.rmtree(path, ignore_errors=True)
    if not complete:
        return None
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1])))


def settings_digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


class HeadWarmup(TrainerCallback):
    """The first ``steps`` optimiser steps update only the MLM head (body gradients dropped)."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        if state.global_step < self.steps and model is not None:
            for p in model.base_model.parameters():
                p.grad = None
            # A tied decoder is the body's word embedding: it stays frozen too.


class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
    """The Trainer's length-grouped sampler with its order drawn from ``seed + epoch`` (the
    Trainer calls ``set_epoch``), not from the global RNG at the start of each epoch: an epoch's
    order is then the same after a resume as in an uninterrupted run."""

    def __init__(self, *args, seed: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.seed, self.epoch = int(seed), 0
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.generator = torch.Generator().manual_seed(self.seed + self.epoch)


class MaskedOnlyTrainer(Trainer):
    """A Trainer whose loss is the MLM loss on the masked positions only (masked_only_mlm_loss),
    not rescaled for gradient accumulation by the Trainer; ``group_by_length`` batches come from
    :class:`EpochSeededLengthGroupedSampler`."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.model_accepts_loss_kwargs = False
        self.loss_is_scaled_for_ga = False

    def _get_train_sampler(self, train_dataset=None):
        if self.args.train_sampling_strategy != "group_by_length":
            return super()._get_train_sampler(train_dataset)
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        return EpochSeededLengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                               dataset=dataset, model_input_name="input_ids", seed=self.args.data_seed)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = masked_only_mlm_loss(model, inputs["input_ids"], inputs["attention_mask"], inputs["labels"])
        return (loss, {}) if return_outputs else loss


def train_stage(
    *,
    init_model: str | Path,
    train_examples: list[dict],
    valid_examples: list[dict],
    masking: MaskingSettings,
    stage: StageSettings,
    out_dir: str | Path,
    work_dir: str | Path,
    seed: int,
    precision: str = "fp32",
    head_warmup_steps: int = 0,
    freeze_embeddings: bool = False,
    drift=None,
    tag: dict | None = None,
    device="auto",
) -> dict:
    """Train one stage from ``init_model``; write the best model to ``out_dir`` (atomically) and
    return metrics. Checkpoints live in ``work_dir`` so that a killed run resumes from them.
    ``device`` (auto | cpu | cuda) and ``precision`` (auto | fp32 | bf16 | fp16) are resolved
    by :mod:`lemflow.device` (bf16 autocast also on a CPU that has bf16 instructions).
    ``freeze_embeddings`` keeps the word embeddings (and an MLM decoder tied to them) fixed;
    ``drift`` = (:class:`lemflow.drift.DriftProbe`, every) measures drift and dev P@1 during training."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, EarlyStoppingCallback, TrainingArguments

    from . import device as devices

    device = devices.resolve_device(device)
    precision = devices.resolve_precision(precision, device)
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    tokenizer = AutoTokenizer.from_pretrained(init_model)
    digest = settings_digest({"init": str(init_model), "masking": asdict(masking), "stage": asdict(stage),
                              "seed": seed, "precision": precision, "n_train": len(train_examples),
                              "n_valid": len(valid_examples), "head_warmup": head_warmup_steps, "tag": tag,
                              "freeze_embeddings": freeze_embeddings, "drift": drift[1] if drift else None})
    marker = work_dir / "settings.sha"
    if work_dir.exists() and (not marker.exists() or marker.read_text().strip() != digest):
        log.info("work dir %s belongs to other settings: starting afresh", work_dir)
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(digest)

    collator = RecordingCollator(MaskingCollator.from_tokenizer(
        tokenizer, strategy=masking.masking, entity_types=masking.types, k=masking.k, top_up=masking.top_up,
        mlm_probability=masking.mlm_probability, seed=seed,
    ))  # records its generator state for the checkpoints (resume = uninterrupted)
    eval_collator = MaskingCollator.from_tokenizer(
        tokenizer, strategy=masking.masking, entity_types=masking.types, k=masking.k, top_up=masking.top_up,
        mlm_probability=masking.mlm_probability, seed=seed + 1,
    )
    valid_fixed = fixed_masks(eval_collator, valid_examples)

    torch.manual_seed(seed)
    model = AutoModelForMaskedLM.from_pretrained(init_model)
    if freeze_embeddings:  # the Trainer's optimiser takes only parameters that require grad
        model.get_input_embeddings().weight.requires_grad_(False)

    steps_per_epoch = max(1, math.ceil(len(train_examples) / (stage.batch_size * stage.grad_accum)))
    total_steps = stage.max_steps if stage.max_steps > 0 else int(math.ceil(steps_per_epoch * stage.epochs))
    eval_every = stage.eval_every or steps_per_epoch
    args = TrainingArguments(
        output_dir=str(work_dir),
        max_steps=total_steps,
        per_device_train_batch_size=stage.batch_size,
        per_device_eval_batch_size=max(stage.batch_size, 32),
        gradient_accumulation_steps=stage.grad_accum,
        learning_rate=stage.learning_rate,
        warmup_steps=stage.warmup if stage.warmup < 1 else int(stage.warmup),
        weight_decay=stage.weight_decay,
        lr_scheduler_type="linear",
        eval_strategy="steps",
        eval_steps=eval_every,
        save_strategy="steps",
        save_steps=eval_every,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        logging_steps=max(1, min(eval_every, 10)),
        logging_first_step=True,
        prediction_loss_only=True,
        remove_unused_columns=False,
        report_to="none",
        seed=seed,
        data_seed=seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device.type == "cpu",
        dataloader_num_workers=0,
        train_sampling_strategy="group_by_length" if stage.group_by_length else "random",
        disable_tqdm=False,
        save_only_model=False,
    )

    callbacks = [EarlyStoppingCallback(early_stopping_patience=stage.patience), collator_rng_callback(collator)]
    if head_warmup_steps > 0:
        callbacks.append(HeadWarmup(head_warmup_steps))
    drift_log = work_dir / "drift.jsonl"
    if drift:
        from .drift import drift_callback

        callbacks.append(drift_callback(drift[0], drift[1], tokenizer, drift_log))
    trainer = MaskedOnlyTrainer(
        model=model, args=args, train_dataset=_ListDataset(train_examples), eval_dataset=_ListDataset(valid_fixed),
        data_collator=collator, callbacks=callbacks,
    )
    resume = last_complete_checkpoint(work_dir)
    initial = initial_eval_loss(trainer, work_dir)
    if resume:
        log.info("resuming from %s", resume)
        restore_collator_rng(collator, resume, trainer.args.process_index)
    started = time.perf_counter()
    collator.reset_stats()
    result = trainer.train(resume_from_checkpoint=resume)
    elapsed = time.perf_counter() - started
    best_loss = trainer.state.best_metric
    final_eval = trainer.evaluate()["eval_loss"]  # the best model is loaded at the end
    final_drift = drift[0].measure(tokenizer, trainer.model.base_model) if drift else None

    masking_stats = collator.summary()
    tokens = collator.stats.get("tokens", 0)
    metrics = {
        **(tag or {}),
        "init_model": str(init_model),
        "masking": asdict(masking),
        "stage_settings": asdict(stage),
        **devices.describe(device, precision),
        "world_size": args.world_size,
        "head_warmup_steps": head_warmup_steps,
        "train_examples": len(train_examples),
        "valid_examples": len(valid_examples),
        "initial_eval_loss": initial,
        "best_eval_loss": best_loss,
        "final_eval_loss": final_eval,
        "best_checkpoint": Path(trainer.state.best_model_checkpoint).name if trainer.state.best_model_checkpoint else None,
        "global_steps": trainer.state.global_step,
        "planned_steps": total_steps,
        "stopped_early": trainer.state.global_step < total_steps,
        "resumed_from": Path(resume).name if resume else None,
        "train_seconds": elapsed,
        "train_tokens_this_run": tokens,
        "tokens_per_second": tokens / elapsed if elapsed > 0 else None,
        "train_loss": result.training_loss,
        "masking_stats": masking_stats,
        "freeze_embeddings": freeze_embeddings,
        "final_drift": final_drift,
    }
    metrics["is_main_process"] = trainer.is_world_process_zero()
    if not metrics["is_main_process"]:  # under torchrun only rank 0 writes
        return metrics
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        trainer.model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = read_meta(init_model)
        meta.update({"fresh_mlm_head": False, "continued_from": str(init_model), **(tag or {})})
        write_meta(tmp, meta)
        write_json(tmp / "training_metrics.json", metrics)
    # The trainer's log history survives a resume (it is saved with every checkpoint).
    metrics["loss_rows"] = [
        {"step": row.get("step"), "epoch": round(row.get("epoch") or 0.0, 4), "loss": row.get("loss", ""),
         "eval_loss": row.get("eval_loss", ""), "learning_rate": row.get("learning_rate", "")}
        for row in trainer.state.log_history if "loss" in row or "eval_loss" in row
    ]
    if drift:
        from .drift import read_drift_rows

        metrics["drift_rows"] = read_drift_rows(drift_log) + [{"step": "best", **final_drift}]
    return metrics


def write_loss_tsv(path, rows: list[dict]) -> None:
    from .io import write_lines

    header = ["step", "epoch", "loss", "eval_loss", "learning_rate"]
    write_lines(path, ["\t".join(header)] + ["\t".join(str(r.get(h, "")) for h in header) for r in rows])


def write_drift_tsv(path, rows: list[dict], stage: str = "") -> None:
    """The drift curve (lemflow.drift) as TSV: stage, step (``best``: the kept model), the measures."""
    from .io import write_lines

    keys = [k for k in (rows[0] if rows else {}) if k != "step"]
    lines = ["\t".join(["stage", "step", *keys])]
    lines += ["\t".join([stage, str(r["step"]), *(f"{r[k]:.6f}" if isinstance(r.get(k), float) else str(r.get(k, "")) for k in keys)])
              for r in rows]
    write_lines(path, lines)
