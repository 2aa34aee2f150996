"""Sentence embeddings from any local Hugging Face encoder: mean pooling, L2-normalised.

Used by bitext mining, by parallel-data curation (margin scoring) and anywhere a sentence
vector is needed. Sentences are tokenised once, sorted by length and batched so that a batch
holds sentences of similar length (almost no padding); the original order is restored.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

DTYPES = {"float32": np.float32, "float16": np.float16}


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of sentences sorted by length (longest first, stable), so padding is minimal.

    Longest first makes the first batch the most memory-hungry: an out-of-memory error shows
    at once rather than at the end of a long run.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def mean_pool(hidden, mask):
    """Mean of ``hidden`` (b, t, d) over positions where ``mask`` (b, t) is 1 (torch tensors)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def model_prefix(model_dir: str | Path) -> str:
    """The sentence prefix a base encoder asks for in its ``lemflow_base.json``
    (``{"embedding": {"prefix": "query: "}}`` for E5), else ""."""
    from .encoder_meta import read_meta

    return str(read_meta(model_dir).get("embedding", {}).get("prefix", "") or "")


def load_encoder(model_dir: str | Path):
    """(tokenizer, model) from a local Hugging Face directory, model in eval mode."""
    from transformers import AutoModel, AutoTokenizer

    model_dir = str(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModel.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    return tokenizer, model


def model_positions(model) -> int:
    """Longest input the model's position embeddings allow (XLM-R reserves padding_idx + 1)."""
    positions = int(getattr(model.config, "max_position_embeddings", 512))
    if getattr(model.config, "model_type", "") in ("xlm-roberta", "roberta", "camembert"):
        positions -= int(model.config.pad_token_id or 0) + 1
    return positions


def embed(model_dir, sentences, *, layer=-1, batch_size=64, max_length=128, dtype="float32", prefix="",
          progress=False, encoder=None, device="auto", precision="fp32") -> np.ndarray:
    """Embeddings (n x d) of ``sentences``: mean pooling over the attention mask of hidden
    layer ``layer`` (-1 = last; 0 = the embedding layer), L2-normalised.

    Returned as float32 (or float16 with ``dtype="float16"``; pooling and normalisation are
    done in float32 first). ``prefix`` is prepended to every sentence (e.g. ``"query: "`` for
    E5 models). ``encoder`` may pass an already loaded ``(tokenizer, model)`` to skip loading.
    ``device`` (auto | cpu | cuda, or a ``torch.device``) and ``precision`` (auto | fp32 | bf16 |
    fp16: the forward pass under autocast) are resolved by :mod:`lemflow.device`.
    """
    import torch

    from . import device as devices

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    sentences = [prefix + s for s in sentences]
    tokenizer, model = encoder if encoder is not None else load_encoder(model_dir)
    target = device if isinstance(device, torch.device) else devices.resolve_device(device)
    precision = devices.resolve_precision(precision, target)
    model.to(target)
    if not sentences:
        return np.zeros((0, model.config.hidden_size), dtype=DTYPES[dtype])
    max_length = min(max_length, model_positions(model))
    encoded = tokenizer(sentences, truncation=True, max_length=max_length, padding=False)
    input_ids = encoded["input_ids"]
    batches = length_sorted_batches([len(ids) for ids in input_ids], batch_size)
    out = np.zeros((len(sentences), model.config.hidden_size), dtype=np.float32)
    want_all_layers = layer != -1
    iterator = batches
    if progress:
        from tqdm import tqdm

        iterator = tqdm(batches, desc="embed", unit="batch", mininterval=5)
    with torch.inference_mode(), devices.autocast(target, precision):
        for index in iterator:
            features = [{key: encoded[key][i] for key in encoded.keys()} for i in index]
            batch = tokenizer.pad(features, padding=True, return_tensors="pt")
            batch = {key: value.to(target) for key, value in batch.items()
                     if key in ("input_ids", "attention_mask", "token_type_ids")}
            output = model(**batch, output_hidden_states=want_all_layers)
            hidden = output.hidden_states[layer] if want_all_layers else output.last_hidden_state
            pooled = mean_pool(hidden.float(), batch["attention_mask"])
            out[index] = pooled.cpu().numpy()
    return l2_normalise(out).astype(DTYPES[dtype])
