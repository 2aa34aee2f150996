"""LASER-style bitext mining: k-NN in both directions with faiss, ratio margin, candidate sets.

Ratio margin (Artetxe & Schwenk 2019): for sentence embeddings x and y (unit length)

    margin(x, y) = cos(x, y) / ( mean_{z in NN_k(x)} cos(x, z) / 2 + mean_{z in NN_k(y)} cos(y, z) / 2 )

where NN_k(x) are x's k nearest neighbours among all y and NN_k(y) y's among all x. A pair
scores high when the two sentences are closer to each other than to their other neighbours,
which corrects for "hub" sentences that are close to everything.

Candidate sets (as in LASER's ``mine_bitexts.py``):
- ``forward``: every x with the best-margin y among its k nearest y;
- ``backward``: every y with the best-margin x among its k nearest x;
- ``intersect``: pairs found in both directions (the default: the paper's and LASER's protocol);
- ``max``: forward and backward candidates pooled, taken greedily by decreasing score so that
  every sentence is used at most once (more candidates: higher recall, pushed to its ceiling).

Memory is bounded by the query batch: faiss computes similarities tile by tile and keeps
only the k best per query; no n x n matrix is ever materialised.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

CANDIDATE_SETS = ("forward", "backward", "intersect", "max")
INDEX_TYPES = ("flat", "ivf", "hnsw")


# --------------------------------------------------------------------------- k-NN search
def _as_f32(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x), dtype=np.float32)


def default_nlist(n: int) -> int:
    """IVF list count: about 4 sqrt(n), but at least 39 training points per list."""
    return int(max(1, min(4 * int(np.sqrt(n)), n // 39)))


def build_index(database, kind: str = "flat", *, nlist: int | None = None, nprobe: int = 16,
                hnsw_m: int = 32, ef_construction: int = 80, ef_search: int = 64, seed: int = 0):
    """A faiss inner-product index over ``database`` rows.

    ``flat``: exact. ``ivf``: inverted file with ``nlist`` k-means lists (trained on a seeded
    sample), ``nprobe`` lists visited per query; distances stay exact. ``hnsw``: graph index.
    """
    import faiss

    database = _as_f32(database)
    n, d = database.shape
    if kind == "flat" or n == 0:
        index = faiss.IndexFlatIP(d)
    elif kind == "ivf":
        nlist = nlist or default_nlist(n)
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = int(seed)
        sample_size = min(n, 64 * nlist)
        rng = np.random.default_rng(seed)
        sample = database[np.sort(rng.choice(n, size=sample_size, replace=False))] if sample_size < n else database
        index.train(sample)
        index.nprobe = int(min(nprobe, nlist))
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(ef_construction)
        index.hnsw.efSearch = int(ef_search)
    else:
        raise ValueError(f"unknown index type {kind!r} (one of {INDEX_TYPES})")
    index.add(database)
    return index


def knn(queries, database, k: int, *, index: str = "flat", batch_size: int = 8192, progress: bool = False,
        index_options: dict | None = None, built=None) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices), both (n_queries, k'), k' = min(k, len(database)), best first.

    Queries are searched in batches of ``batch_size`` so memory stays O(batch x k) besides
    faiss's fixed-size similarity tile. ``built`` may pass an index already built on ``database``.
    """
    queries = _as_f32(queries)
    n_db = len(database) if built is None else built.ntotal
    k = int(min(k, n_db))
    sims = np.zeros((len(queries), k), dtype=np.float32)
    ids = np.zeros((len(queries), k), dtype=np.int64)
    if k == 0 or len(queries) == 0:
        return sims, ids
    if built is None:
        built = build_index(database, index, **(index_options or {}))
        if index == "hnsw":
            built.hnsw.efSearch = max(built.hnsw.efSearch, k)
    starts = range(0, len(queries), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc=f"knn[{index}]", unit="batch", mininterval=5)
    for start in starts:
        s, i = built.search(queries[start:start + batch_size], k)
        sims[start:start + batch_size] = s
        ids[start:start + batch_size] = i
    if (ids < 0).any():
        # Approximate indexes may return fewer than k hits for a query: repeat its worst hit.
        for row in np.flatnonzero((ids < 0).any(axis=1)):
            good = ids[row] >= 0
            if not good.any():
                raise RuntimeError("approximate index returned no neighbour for a query; raise nprobe/efSearch")
            last = np.flatnonzero(good)[-1]
            ids[row, ~good] = ids[row, last]
            sims[row, ~good] = sims[row, last]
    return sims, ids


# --------------------------------------------------------------------------- margins
def ratio_margin(cos, mean_a, mean_b):
    """LASER ratio margin: cos / ((mean_a + mean_b) / 2) (broadcasting)."""
    return cos / ((mean_a + mean_b) / 2.0)


def pair_margin_scores(x, y, k=4, *, index: str = "flat", batch_size: int = 8192,
                       index_options: dict | None = None) -> np.ndarray:
    """Ratio margin of every aligned row pair (x_i, y_i) (float32 array of length n).

    The neighbourhoods are taken over the whole sets: x_i's k nearest rows of ``y`` and
    y_i's k nearest rows of ``x``. Used to rank the pairs of a noisy parallel corpus.
    """
    x, y = _as_f32(x), _as_f32(y)
    if x.shape != y.shape:
        raise ValueError(f"x and y must be aligned (same shape), got {x.shape} and {y.shape}")
    if len(x) == 0:
        return np.zeros(0, dtype=np.float32)
    x2y, _ = knn(x, y, k, index=index, batch_size=batch_size, index_options=index_options)
    y2x, _ = knn(y, x, k, index=index, batch_size=batch_size, index_options=index_options)
    cos = np.einsum("ij,ij->i", x, y).astype(np.float64)
    return ratio_margin(cos, x2y.mean(axis=1, dtype=np.float64), y2x.mean(axis=1, dtype=np.float64)).astype(np.float32)


# --------------------------------------------------------------------------- mining
@dataclass
class Mined:
    """Mined candidate pairs, sorted by decreasing margin: row ``src[i]`` of x with row ``tgt[i]`` of y."""

    src: np.ndarray
    tgt: np.ndarray
    score: np.ndarray
    cosine: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    def above(self, threshold: float | None) -> "Mined":
        """Pairs with margin >= threshold (all pairs when ``threshold`` is None)."""
        if threshold is None:
            return self
        keep = self.score >= threshold
        return Mined(self.src[keep], self.tgt[keep], self.score[keep], self.cosine[keep])

    def pairs(self) -> list[tuple[int, int]]:
        return list(zip(self.src.tolist(), self.tgt.tolist()))

    @staticmethod
    def empty() -> "Mined":
        return Mined(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.float32))

    @staticmethod
    def concat(parts: Sequence["Mined"]) -> "Mined":
        parts = [p for p in parts if len(p)]
        if not parts:
            return Mined.empty()
        merged = Mined(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("src", "tgt", "score", "cosine")))
        return _sorted(merged)


def _sorted(m: Mined) -> Mined:
    """Decreasing score; ties broken by (src, tgt) so the order is deterministic."""
    order = np.lexsort((m.tgt, m.src, -m.score.astype(np.float64)))
    return Mined(m.src[order], m.tgt[order], m.score[order], m.cosine[order])


def best_candidates(sims: np.ndarray, ids: np.ndarray, own_mean: np.ndarray, other_mean: np.ndarray):
    """For each query row: (best candidate, its margin, its cosine) among its k-NN list."""
    # float64: a margin divides by a neighbourhood mean that can be close to 0
    margins = ratio_margin(sims.astype(np.float64), own_mean[:, None], other_mean[ids])
    best = margins.argmax(axis=1)
    rows = np.arange(len(ids))
    return ids[rows, best], margins[rows, best].astype(np.float32), sims[rows, best]


def candidates_from_knn(x2y_sims, x2y_ids, y2x_sims, y2x_ids, candidates: str = "intersect") -> Mined:
    """Candidate pairs from the k-NN lists of both directions (see the module docstring)."""
    if candidates not in CANDIDATE_SETS:
        raise ValueError(f"unknown candidate set {candidates!r} (one of {CANDIDATE_SETS})")
    nx, ny = len(x2y_ids), len(y2x_ids)
    if nx == 0 or ny == 0:
        return Mined.empty()
    x_mean, y_mean = x2y_sims.mean(axis=1, dtype=np.float64), y2x_sims.mean(axis=1, dtype=np.float64)
    fwd_tgt, fwd_score, fwd_cos = best_candidates(x2y_sims, x2y_ids, x_mean, y_mean)
    bwd_src, bwd_score, bwd_cos = best_candidates(y2x_sims, y2x_ids, y_mean, x_mean)
    forward = Mined(np.arange(nx, dtype=np.int64), fwd_tgt, fwd_score, fwd_cos)
    backward = Mined(bwd_src, np.arange(ny, dtype=np.int64), bwd_score, bwd_cos)
    if candidates == "forward":
        return _sorted(forward)
    if candidates == "backward":
        return _sorted(backward)
    if candidates == "intersect":
        keep = bwd_src[fwd_tgt] == forward.src
        return _sorted(Mined(forward.src[keep], forward.tgt[keep], forward.score[keep], forward.cosine[keep]))
    # max: pool both directions, take greedily by decreasing score, each sentence at most once.
    pooled = Mined.concat([forward, backward])
    used_src = np.zeros(nx, dtype=bool)
    used_tgt = np.zeros(ny, dtype=bool)
    keep = np.zeros(len(pooled), dtype=bool)
    for i, (s, t) in enumerate(zip(pooled.src.tolist(), pooled.tgt.tolist())):
        if not used_src[s] and not used_tgt[t]:
            used_src[s] = used_tgt[t] = True
            keep[i] = True
    return Mined(pooled.src[keep], pooled.tgt[keep], pooled.score[keep], pooled.cosine[keep])


def mine(x, y, *, k: int = 4, candidates: str = "intersect", threshold: float | None = None, index: str = "flat",
         batch_size: int = 8192, index_options: dict | None = None, progress: bool = False) -> Mined:
    """Mine pairs between the rows of ``x`` and ``y`` (unit-length embeddings).

    k-NN in both directions (exact ``flat`` or approximate ``ivf``/``hnsw``), ratio margin
    over k neighbours, candidate set ``candidates``, pairs with margin >= ``threshold`` kept
    (all candidates when None). Sorted by decreasing margin.
    """
    x, y = _as_f32(x), _as_f32(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be 2-d with the same width, got {x.shape} and {y.shape}")
    x2y = knn(x, y, k, index=index, batch_size=batch_size, index_options=index_options, progress=progress)
    y2x = knn(y, x, k, index=index, batch_size=batch_size, index_options=index_options, progress=progress)
    return candidates_from_knn(*x2y, *y2x, candidates=candidates).above(threshold)


def mine_grouped(x, y, groups_x: Sequence[str], groups_y: Sequence[str], **options) -> Mined:
    """Mining restricted to rows of the same group (e.g. comparable document pairs).

    Each group present on both sides is mined on its own (neighbourhoods within the group,
    k capped by the group size); indices in the result refer to the full ``x`` and ``y``.
    """
    x, y = _as_f32(x), _as_f32(y)
    rows_x: dict[str, list[int]] = {}
    rows_y: dict[str, list[int]] = {}
    for i, g in enumerate(groups_x):
        rows_x.setdefault(g, []).append(i)
    for j, g in enumerate(groups_y):
        rows_y.setdefault(g, []).append(j)
    parts = []
    for group in sorted(set(rows_x) & set(rows_y)):
        ix, iy = np.asarray(rows_x[group]), np.asarray(rows_y[group])
        m = mine(x[ix], y[iy], **{**options, "index": "flat", "progress": False})
        parts.append(Mined(ix[m.src], iy[m.tgt], m.score, m.cosine))
    return Mined.concat(parts)


def retrieval_accuracy(x, y, *, k: int = 4, margin: bool = True, index: str = "flat", batch_size: int = 8192,
                       same_target=None) -> tuple[np.ndarray, np.ndarray]:
    """Per source row: (retrieved target row, correct?) for aligned parallel sets x_i <-> y_i.

    ``margin=False``: cosine nearest neighbour (P@1). ``margin=True``: best ratio margin among
    the k nearest (xsim). ``same_target(i, j)`` may declare a retrieved j correct for row i
    (e.g. identical target text); by default only j == i is.
    """
    x, y = _as_f32(x), _as_f32(y)
    x2y_s, x2y_i = knn(x, y, k, index=index, batch_size=batch_size)
    if margin:
        y2x_s, _ = knn(y, x, k, index=index, batch_size=batch_size)
        retrieved, _, _ = best_candidates(x2y_s, x2y_i, x2y_s.mean(axis=1, dtype=np.float64),
                                          y2x_s.mean(axis=1, dtype=np.float64))
    else:
        retrieved = x2y_i[:, 0]
    correct = retrieved == np.arange(len(x))
    if same_target is not None:
        correct |= np.array([bool(same_target(i, j)) for i, j in enumerate(retrieved.tolist())], dtype=bool)
    return retrieved, correct
