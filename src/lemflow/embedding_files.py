"""Sentence embeddings of whole files with one encoder load (the mining stage's embedding jobs).

Kept apart from :mod:`lemflow.embedding`, which many stages import: a workflow script's inputs
are its import closure (lemflow.code_deps), so this module's code reruns the embedding jobs only.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from .embedding import embed, load_encoder
from .io import atomic_open, read_lines_strict

log = logging.getLogger(__name__)


def embed_files(model_dir: str | Path, inputs: Sequence[str | Path], outputs: Sequence[str | Path], *,
                progress: bool = False, **settings) -> list[tuple[int, ...]]:
    """Embed every one-sentence-per-line file of ``inputs`` into the ``.npy`` file at the same
    position of ``outputs`` (n x d, :func:`lemflow.embedding.embed`), loading the encoder once.

    Every input is read (and validated) before the model is loaded, so a bad file fails fast;
    each output is written atomically. ``settings`` are ``embed``'s keyword arguments (layer,
    batch_size, max_length, dtype, prefix, ...). Returns the shape of every array written.
    """
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    texts = [read_lines_strict(path) for path in inputs]
    encoder = load_encoder(model_dir) if texts else None
    shapes = []
    for path, sentences, output in zip(inputs, texts, outputs):
        log.info("embedding %d sentences of %s with %s (%s)", len(sentences), path, model_dir, settings)
        vectors = embed(model_dir, sentences, progress=progress, encoder=encoder, **settings)
        with atomic_open(output, "wb") as handle:
            np.save(handle, vectors)
        log.info("wrote %s %s %s", output, vectors.shape, vectors.dtype)
        shapes.append(tuple(vectors.shape))
    return shapes
