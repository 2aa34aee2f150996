"""lemflow.embedding_select: the prefix/layer choice on development data."""
import numpy as np

from lemflow.embedding_select import candidate_grid, choose, select


def test_grid_and_tie_goes_to_the_first_candidate():
    grid = candidate_grid([None, "query: "], [-1, -2])
    assert grid == [{"prefix": None, "layer": -1}, {"prefix": None, "layer": -2},
                    {"prefix": "query: ", "layer": -1}, {"prefix": "query: ", "layer": -2}]
    assert choose(grid, [{"a": 0.5}, {"a": 0.5}, {"a": 0.4}, {"a": 0.5}]) == grid[0]
    assert choose(grid, [{"a": 0.5, "b": 0.1}, {"a": 0.2, "b": 0.9}, {}, {"a": 0.0}]) == grid[1]


def test_select_finds_the_layer_that_aligns_translations():
    """Layer -2 embeds a sentence and its translation alike; layer -1 is noise; the prefix
    "bad: " scrambles everything. The choice is layer -2 without the prefix."""
    rng = np.random.default_rng(0)
    src = [f"s{i}" for i in range(30)]
    tgt = [f"t{i}" for i in range(30)]
    base = rng.normal(size=(30, 8))

    def embed_fn(texts, *, prefix, layer):
        idx = np.array([int(t[1:]) for t in texts])
        if layer == -2 and prefix == "":
            v = base[idx] + 0.01 * rng.normal(size=(len(idx), 8))
        else:
            v = rng.normal(size=(len(idx), 8))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    result = select(candidate_grid([None, "bad: "], [-1, -2]), {"dev": (src, tgt)}, embed_fn, lambda p: p or "")
    assert result["chosen"] == {"prefix": "", "layer": -2}
    best = [c for c in result["candidates"] if c["layer"] == -2 and c["prefix"] == ""][0]
    assert best["p_at_1"]["dev"] == 1.0 and all(c["mean"] < 0.5 for c in result["candidates"] if c is not best)
    assert "significantly better" in result["reason"]


def test_select_keeps_the_default_when_the_gain_is_noise():
    """One more sentence right on a small development set is no reason to leave the default."""
    src, tgt = [f"s{i}" for i in range(20)], [f"t{i}" for i in range(20)]
    eye = np.eye(20, dtype=np.float32)

    def embed_fn(texts, *, prefix, layer):
        idx = [int(t[1:]) for t in texts]
        if texts[0].startswith("t"):  # targets: candidate -1 aligns 10 sentences, candidate -2 aligns 11
            k = 10 if layer == -1 else 11
            idx = [i if i < k else (i + 1) % 20 if i + 1 >= k else i + 1 for i in idx]
        return eye[idx]

    result = select(candidate_grid([None], [-1, -2]), {"dev": (src, tgt)}, embed_fn, lambda p: p or "")
    means = [c["mean"] for c in result["candidates"]]
    assert means[1] > means[0]
    assert result["chosen"] == {"prefix": "", "layer": -1} and "not significantly" in result["reason"]
