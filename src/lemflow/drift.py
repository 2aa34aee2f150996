"""How far continual pre-training moves an encoder's sentence space from its base, measured
during training: the drift of the same sentences' embeddings (mean cosine to the base's, share of
10 nearest neighbours kept) and a quick dev probe (cosine P@1 on held-out parallel pairs).

The report plots dev P@1 against drift for each arm: a recipe that keeps what mining reads stays
near cosine 1 and keeps its P@1.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine between row i of ``a`` and row i of ``b`` (both L2-normalised)."""
    return float(np.mean(np.sum(a * b, axis=1))) if len(a) else 1.0


def nearest(x: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's ``k`` nearest other rows by cosine (rows L2-normalised)."""
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    k = min(k, len(x) - 1)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each sentence's ``k`` nearest neighbours under ``a`` that are also its
    ``k`` nearest under ``b`` (1 = the neighbourhood structure is unchanged)."""
    if len(a) < 2:
        return 1.0
    na, nb = nearest(a, k), nearest(b, k)
    return float(np.mean([len(set(r) & set(s)) / na.shape[1] for r, s in zip(na.tolist(), nb.tolist())]))


def p_at_1(x: np.ndarray, y: np.ndarray) -> float:
    """Share of source rows whose cosine nearest target row is their own translation."""
    if not len(x):
        return 0.0
    return float(np.mean(np.argmax(x @ y.T, axis=1) == np.arange(len(x))))


class DriftProbe:
    """Embeds a fixed probe set (``src[i]`` translates ``tgt[i]``) with the base once, then with
    the model under training whenever :meth:`measure` is called."""

    def __init__(self, base_dir, src: list[str], tgt: list[str], *, neighbours: int = 10, max_length: int = 128,
                 prefix: str | None = None, precision: str = "fp32"):
        from .embedding import embed, model_prefix

        self.src, self.tgt, self.neighbours, self.max_length = list(src), list(tgt), int(neighbours), int(max_length)
        self.prefix = model_prefix(base_dir) if prefix is None else prefix
        self.precision = precision
        self.base = embed(base_dir, self.src + self.tgt, max_length=self.max_length, prefix=self.prefix,
                          precision=precision, device="cpu")

    def measure(self, tokenizer, body) -> dict:
        """Drift and dev P@1 of ``body`` (a Hugging Face encoder without an MLM head)."""
        from .embedding import embed

        was_training = body.training
        body.eval()
        device = next(body.parameters()).device
        try:
            emb = embed(None, self.src + self.tgt, max_length=self.max_length, prefix=self.prefix,
                        encoder=(tokenizer, body), device=device, precision=self.precision)
        finally:
            body.train(was_training)
        n = len(self.src)
        return {"mean_cosine": mean_cosine(emb, self.base), f"knn{self.neighbours}_overlap": knn_overlap(emb, self.base, self.neighbours),
                "dev_p_at_1": p_at_1(emb[:n], emb[n:]), "dev_p_at_1_base": p_at_1(self.base[:n], self.base[n:])}


def drift_callback(probe: DriftProbe, every: int, tokenizer, log_path: Path):
    """A Trainer callback measuring ``probe`` at step 0 and every ``every`` optimisation steps; one
    JSON line per measurement is appended to ``log_path`` (it survives a resume)."""
    from transformers import TrainerCallback

    def record(step: int, model) -> None:
        row = {"step": int(step), **probe.measure(tokenizer, model.base_model)}
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    class DriftCallback(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            if state.global_step == 0 and model is not None and args.process_index == 0:
                record(0, model)

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % every == 0 and model is not None and args.process_index == 0:
                record(state.global_step, model)

    return DriftCallback()


def read_drift_rows(log_path) -> list[dict]:
    """Measurements of a drift log, one per step (a step measured twice after a resume: the last)."""
    path = Path(log_path)
    if not path.exists():
        return []
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["step"]] = row
    return [rows[s] for s in sorted(rows)]
