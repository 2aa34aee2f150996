"""Random state saved with every pre-training checkpoint, so that a resumed stage ends with the
same model as an uninterrupted one.

The Trainer saves and restores the global RNGs itself (``rng_state*.pth``: python, numpy, torch
CPU/CUDA) and replays the data order; what it cannot know is the masking collator's own
``torch.Generator``. Without it a resumed run masks the batches after the checkpoint differently.

One subtlety: the data loader (accelerate's ``DataLoaderShard``) fetches a batch ahead, so when a
checkpoint is saved the collator has already masked the first batch of the next step. The
collator is therefore wrapped (:class:`RecordingCollator`) to remember its generator state before
each call; the callback counts the batches the Trainer consumed and saves the state from before
the first unconsumed one. On resume the skipped batches are not collated again, so that state is
exactly the one the next batch needs.
"""
from __future__ import annotations

import random
from collections import deque
from pathlib import Path

import numpy as np
import torch

from .io import atomic_path

RNG_FILE = "lemflow_rng_{rank}.pt"


def rng_file(checkpoint: str | Path, rank: int = 0) -> Path:
    return Path(checkpoint) / RNG_FILE.format(rank=rank)


def global_rng_states() -> dict:
    """python, numpy and torch (CPU, and CUDA when present) RNG states."""
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.random.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.random.get_rng_state_all()
    return states


class RecordingCollator:
    """Wraps a collator that has a ``generator``: records the generator state before each call
    that uses it (training batches; a pre-masked validation batch with ``labels`` does not)."""

    def __init__(self, collator, history: int = 256):
        self.collator = collator
        self.calls = 0  # training batches collated by this process
        self.before = deque(maxlen=history)  # (call number, generator state before it)

    def __getattr__(self, name):
        return getattr(self.collator, name)

    def __call__(self, examples):
        if examples and "labels" not in examples[0]:
            self.before.append((self.calls, self.collator.generator.get_state()))
            self.calls += 1
        return self.collator(examples)

    def state_before(self, call: int) -> torch.Tensor:
        """The generator state before call number ``call`` (the current state if not made yet)."""
        for number, state in self.before:
            if number == call:
                return state
        if call >= self.calls:
            return self.collator.generator.get_state()
        raise RuntimeError(f"generator state before batch {call} is no longer recorded")


def collator_rng_callback(collator: RecordingCollator):
    """A TrainerCallback that saves ``collator``'s generator state (and the global RNG states,
    for the record) into every checkpoint as ``lemflow_rng_<rank>.pt``."""
    from transformers import TrainerCallback

    class CollatorRngCallback(TrainerCallback):
        def __init__(self):
            self.consumed = 0  # training batches the Trainer has used in this process

        def on_substep_end(self, args, state, control, **kwargs):
            self.consumed += 1

        def on_step_end(self, args, state, control, **kwargs):
            self.consumed += 1

        def on_save(self, args, state, control, **kwargs):
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if not checkpoint.is_dir():
                return
            payload = {"generator": collator.state_before(self.consumed), "global_step": state.global_step,
                       "batches_this_process": self.consumed, **global_rng_states()}
            with atomic_path(rng_file(checkpoint, args.process_index)) as tmp:
                torch.save(payload, tmp)

    return CollatorRngCallback()


def restore_collator_rng(collator, checkpoint: str | Path, rank: int = 0) -> bool:
    """Set ``collator``'s generator to the state saved in ``checkpoint``; False when the
    checkpoint has none."""
    path = rng_file(checkpoint, rank)
    if not path.exists():
        return False
    payload = torch.load(path, weights_only=False)
    collator.generator.set_state(payload["generator"])
    return True


def has_rng_state(checkpoint: str | Path) -> bool:
    """Whether a checkpoint holds the collator state (written after the Trainer's own files)."""
    return any(Path(checkpoint).glob(RNG_FILE.format(rank="*")))
