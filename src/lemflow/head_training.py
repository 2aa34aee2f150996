"""A new MLM head (e5 ships none) trained on cached hidden states of the frozen body.

With the body frozen, the hidden state at a masked position depends only on the masked input:
the body runs once per masked copy of a sentence (:func:`cache_features`) and the head trains on
the stored states for as many epochs as its dev loss keeps falling (:func:`train_head`), at the
price of one forward pass. Each sentence is masked ``draws`` times, half by random masking and
half by a LEM strategy's masking (:func:`mask_draws`), so that no strategy later starts from a
head fitted to the other's masks; several draws per sentence keep the head from memorising one
draw (a single draw overfitted: train loss 3.1 while fresh masks gave 6.9).

Only the head's transform (dense + LayerNorm) and the decoder bias train: a decoder tied to the
word embeddings stays as it is (it is the embedding table that mean pooling reads).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .device import BestOnDev
from .pretraining import _mlm_head

DRAW_KINDS = ("random", "lem")


@dataclass
class HeadSettings:
    draws: int = 4
    lem_strategy: str | None = None
    max_examples: int = 0
    max_valid_examples: int = 0
    batch_size: int = 512          # masked positions per step
    learning_rate: float = 1e-3
    max_epochs: int = 30
    patience: int = 3

    @classmethod
    def from_dict(cls, d: dict | None) -> "HeadSettings":
        d = d or {}
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown head settings {sorted(unknown)}")
        return cls(**d)


def draw_plan(draws: int, has_lem: bool) -> list[str]:
    """The masking of each draw: alternately random and LEM (random only without a LEM strategy)."""
    return [DRAW_KINDS[i % 2] if has_lem else "random" for i in range(draws)]


def mask_draws(examples: list[dict], collators: dict, plan: list[str], batch_size: int = 256) -> list[dict]:
    """Every example masked once per entry of ``plan`` by ``collators[kind]``: dicts with
    ``input_ids``, ``labels`` (-100 where not masked) and ``kind``."""
    out = []
    for kind in plan:
        collator = collators[kind]
        for start in range(0, len(examples), batch_size):
            chunk = examples[start:start + batch_size]
            batch = collator(chunk)
            for row, example in enumerate(chunk):
                n = len(example["input_ids"])
                out.append({"input_ids": batch["input_ids"][row, :n], "labels": batch["labels"][row, :n], "kind": kind})
    return out


@torch.inference_mode()
def cache_features(model, masked: list[dict], *, batch_size: int = 64, device=None, precision: str = "fp32",
                   progress: bool = False) -> dict:
    """Hidden states of the frozen body at the masked positions of every masked example.

    Returns ``{"features": (N, H) float32, "labels": (N,) long, "kind": (N,) long index into
    DRAW_KINDS}``, in the order of ``masked`` (sorted by length within, for little padding)."""
    from . import device as devices

    device = device or torch.device("cpu")
    body = model.base_model.to(device).eval()
    pad = int(model.config.pad_token_id or 0)
    order = sorted(range(len(masked)), key=lambda i: -len(masked[i]["input_ids"]))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="head features", unit="batch", mininterval=10)
    features, labels, kinds = [], [], []
    for index in batches:
        rows = [masked[i] for i in index]
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        lab = torch.full((len(rows), width), -100, dtype=torch.long)
        for j, r in enumerate(rows):
            ids[j, :len(r["input_ids"])] = torch.as_tensor(r["input_ids"])
            lab[j, :len(r["labels"])] = torch.as_tensor(r["labels"])
        attention = (torch.arange(width)[None, :] < torch.as_tensor([len(r["input_ids"]) for r in rows])[:, None]).long()
        with devices.autocast(device, precision):
            hidden = body(input_ids=ids.to(device), attention_mask=attention.to(device)).last_hidden_state
        selected = (lab != -100).to(device)
        features.append(hidden[selected].float().cpu())
        labels.append(lab[lab != -100])
        per_row = (lab != -100).sum(dim=1)
        kinds.append(torch.repeat_interleave(torch.as_tensor([DRAW_KINDS.index(r["kind"]) for r in rows]), per_row))
    hidden_size = model.config.hidden_size
    return {
        "features": torch.cat(features) if features else torch.zeros(0, hidden_size),
        "labels": torch.cat(labels) if labels else torch.zeros(0, dtype=torch.long),
        "kind": torch.cat(kinds) if kinds else torch.zeros(0, dtype=torch.long),
    }


def trainable_head_parameters(model) -> list[torch.nn.Parameter]:
    """The head's parameters except a decoder weight tied to the word embeddings."""
    embedding = model.get_input_embeddings().weight
    return [p for p in _mlm_head(model).parameters() if p is not embedding]


@torch.no_grad()
def head_loss(head, features: torch.Tensor, labels: torch.Tensor, batch_size: int = 4096) -> float:
    """Mean cross-entropy of ``head`` on cached features (0.0 on an empty set)."""
    if len(labels) == 0:
        return 0.0
    total = 0.0
    for start in range(0, len(labels), batch_size):
        logits = head(features[start:start + batch_size]).float()
        total += float(torch.nn.functional.cross_entropy(logits, labels[start:start + batch_size], reduction="sum"))
    return total / len(labels)


def dev_losses(head, valid: dict) -> dict:
    """Dev loss overall and per draw kind present."""
    out = {"dev_loss": head_loss(head, valid["features"], valid["labels"])}
    for index, kind in enumerate(DRAW_KINDS):
        keep = valid["kind"] == index
        if keep.any():
            out[f"dev_loss_{kind}"] = head_loss(head, valid["features"][keep], valid["labels"][keep])
    return out


def train_head(model, train: dict, valid: dict, settings: HeadSettings, seed: int, progress: bool = False) -> list[dict]:
    """Train the MLM head of ``model`` on cached features, one row of the curve per epoch (epoch 0:
    before training); stops after ``patience`` epochs without a lower dev loss and leaves the
    head at its best epoch."""
    head = _mlm_head(model).float()
    head.train()
    params = trainable_head_parameters(model)
    frozen = [p for p in _mlm_head(model).parameters() if all(p is not q for q in params)]
    for p in frozen:
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    n = len(train["labels"])
    steps_per_epoch = max(1, math.ceil(n / settings.batch_size))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1.0 - step / (steps_per_epoch * settings.max_epochs)))
    curve = [{"epoch": 0, "step": 0, "train_loss": "", **dev_losses(head, valid)}]
    tracker = BestOnDev(settings.patience)  # on -dev loss: higher is better
    tracker.update(-curve[0]["dev_loss"], head)
    step = 0
    epochs = range(1, settings.max_epochs + 1)
    if progress:
        from tqdm import tqdm

        epochs = tqdm(epochs, desc="head epochs", unit="epoch")
    for epoch in epochs:
        order = torch.randperm(n, generator=generator)
        running, seen = 0.0, 0
        for start in range(0, n, settings.batch_size):
            index = order[start:start + settings.batch_size]
            logits = head(train["features"][index])
            loss = torch.nn.functional.cross_entropy(logits.float(), train["labels"][index])
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            running += loss.item() * len(index)
            seen += len(index)
            step += 1
        row = {"epoch": epoch, "step": step, "train_loss": running / max(seen, 1), **dev_losses(head, valid)}
        curve.append(row)
        tracker.update(-row["dev_loss"], head)
        if tracker.exhausted:
            break
    head.load_state_dict(tracker.state)
    for p in frozen:
        p.requires_grad_(True)
    head.eval()
    return curve
