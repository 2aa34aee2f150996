"""Where a model runs and in which precision: one helper for pre-training, embedding, curation
scoring, tagging and sentiment.

``device: auto | cpu | cuda`` and ``precision: auto | fp32 | bf16 | fp16``. ``auto`` picks CUDA
when present, and bf16 autocast where the device computes it natively (a CUDA GPU with bf16, or
a CPU with AVX512-BF16 / AMX instructions), fp32 otherwise. The environment variables
``LEMFLOW_DEVICE`` and ``LEMFLOW_PRECISION`` override the config (a profile switch: e.g.
``LEMFLOW_PRECISION=fp32`` turns autocast off for a whole run).
"""
from __future__ import annotations

import contextlib
import os
from functools import lru_cache

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where it is not readable)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_bf16() -> bool:
    return any(flag in cpu_flags() for flag in CPU_BF16_FLAGS)


def resolve_device(setting: str | None = "auto"):
    """``torch.device`` for a config setting (the ``LEMFLOW_DEVICE`` environment variable wins)."""
    import torch

    setting = (os.environ.get("LEMFLOW_DEVICE") or setting or "auto").lower()
    if setting not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {setting!r}")
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if setting == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for, but torch sees no CUDA device "
                           "(a CPU-only torch build, or no GPU on this node)")
    return torch.device(setting)


def bf16_supported(device) -> bool:
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return cpu_has_bf16()
    return False


def resolve_precision(setting: str | None, device) -> str:
    """'fp32', 'bf16' or 'fp16' for a config setting on ``device`` (``LEMFLOW_PRECISION`` wins).

    ``auto`` means bf16 where the device supports it, else fp32. fp16 is CUDA-only (on a CPU it
    falls back to fp32, with no loss scaler there to keep it stable)."""
    setting = (os.environ.get("LEMFLOW_PRECISION") or setting or "fp32").lower()
    if setting not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {setting!r}")
    if setting == "auto":
        return "bf16" if bf16_supported(device) else "fp32"
    if setting == "fp16" and device.type != "cuda":
        return "fp32"
    return setting


def autocast(device, precision: str):
    """A context manager running the enclosed forward passes in ``precision`` on ``device``
    (weights stay fp32; ``contextlib.nullcontext`` for fp32)."""
    import torch

    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp16":
        return torch.autocast(device.type, dtype=torch.float16)
    return contextlib.nullcontext()


def describe(device, precision: str) -> dict:
    """What a log or a metrics file records about where a job ran."""
    import torch

    info = {"device": str(device), "precision": precision, "torch_threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    else:
        info["cpu_bf16"] = cpu_has_bf16()
    return info


def optimizer_step(model, optimizer, scheduler, max_grad_norm: float | None) -> None:
    """One update of a hand-written fine-tuning loop (sentiment, the transformer NER): gradients
    clipped to ``max_grad_norm`` (none when falsy), optimiser and schedule stepped, gradients freed."""
    import torch

    if max_grad_norm:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


class BestOnDev:
    """Early stopping for a hand-written fine-tuning loop: keeps a copy of the model's state at the
    best dev score so far (higher is better) and counts evaluations without improvement."""

    def __init__(self, patience: int):
        self.patience, self.best, self.state, self.bad = int(patience), float("-inf"), None, 0

    def update(self, score: float, model) -> bool:
        """Record one dev evaluation; True when ``score`` is a new best (the state is kept)."""
        import copy

        if score > self.best:
            self.best, self.bad, self.state = score, 0, copy.deepcopy(model.state_dict())
            return True
        self.bad += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.bad >= self.patience
