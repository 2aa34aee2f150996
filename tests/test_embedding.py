"""lemflow.embedding: mean pooling, normalisation, length-sorted batching, order restored."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from conftest import tiny_encoder as build_tiny_encoder  # noqa: E402
from lemflow.embedding import embed, l2_normalise, length_sorted_batches, load_encoder  # noqa: E402

WORDS = ["the", "army", "news", "today", "a", "soldier", "village", "road", "school", "rain",
         "ශ්\u200dරී", "ලංකා", "இலங்கை", "அரசு", "president", "met", "was", "built", "in", "and"]


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    return build_tiny_encoder(tmp_path_factory.mktemp("enc") / "tiny", WORDS, layers=2)


SENTENCES = ["the army news today", "a soldier", "ශ්\u200dරී ලංකා president met a soldier in the village and the road",
             "rain", "இலங்கை அரசு school was built", "unknownword the", ""]


def test_shape_dtype_unit_norm(tiny_encoder):
    e = embed(tiny_encoder, SENTENCES, batch_size=3)
    assert e.shape == (len(SENTENCES), 32) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


def test_batching_restores_order_and_masks_padding(tiny_encoder):
    batched = embed(tiny_encoder, SENTENCES, batch_size=4)
    single = np.stack([embed(tiny_encoder, [s], batch_size=1)[0] for s in SENTENCES])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert not np.allclose(batched[0], batched[1])


def test_matches_manual_mean_pooling(tiny_encoder):
    tokenizer, model = load_encoder(tiny_encoder)
    batch = tokenizer(SENTENCES[:3], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True)
    mask = batch["attention_mask"].unsqueeze(-1).float()
    for layer in (-1, 0, 1):
        pooled = (out.hidden_states[layer] * mask).sum(1) / mask.sum(1)
        expected = l2_normalise(pooled.numpy())
        got = embed(tiny_encoder, SENTENCES[:3], layer=layer, batch_size=2)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not np.allclose(embed(tiny_encoder, SENTENCES[:3], layer=0), embed(tiny_encoder, SENTENCES[:3]))


def test_float16_prefix_truncation_and_empty(tiny_encoder):
    e16 = embed(tiny_encoder, SENTENCES, dtype="float16")
    assert e16.dtype == np.float16
    np.testing.assert_allclose(e16.astype(np.float32), embed(tiny_encoder, SENTENCES), atol=2e-3)
    assert not np.allclose(embed(tiny_encoder, ["rain"], prefix="the "), embed(tiny_encoder, ["rain"]))
    long = " ".join(["army"] * 50 + ["rain"])
    np.testing.assert_allclose(embed(tiny_encoder, [long], max_length=8),
                               embed(tiny_encoder, [" ".join(["army"] * 6)], max_length=8), atol=1e-5)
    assert embed(tiny_encoder, []).shape == (0, 32)
    with pytest.raises(ValueError, match="dtype"):
        embed(tiny_encoder, ["a"], dtype="int8")


def test_length_sorted_batches_cover_everything_once():
    lengths = [3, 9, 1, 9, 4, 7, 2]
    batches = length_sorted_batches(lengths, 3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert [len(b) for b in batches] == [3, 3, 1]


def test_model_prefix_from_lemflow_base_json(tmp_path):
    from lemflow.embedding import model_prefix

    assert model_prefix(tmp_path) == ""
    (tmp_path / "lemflow_base.json").write_text('{"embedding": {"prefix": "query: "}}', encoding="utf-8")
    assert model_prefix(tmp_path) == "query: "


def test_embed_files_loads_the_encoder_once(tiny_encoder, tmp_path, monkeypatch):
    """One encoder load for several files; every array as embed() gives it; inputs read first."""
    import lemflow.embedding_files as embedding_files
    from lemflow.errors import InputError

    texts = {"a.txt": SENTENCES[:4], "b.txt": SENTENCES[4:6]}
    for name, lines in texts.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    loads = []
    real_load = embedding_files.load_encoder
    monkeypatch.setattr(embedding_files, "load_encoder", lambda path: loads.append(path) or real_load(path))
    shapes = embedding_files.embed_files(tiny_encoder, [tmp_path / n for n in texts], [tmp_path / f"{n}.npy" for n in texts],
                                         batch_size=3, dtype="float16")
    assert len(loads) == 1 and shapes == [(4, 32), (2, 32)]
    for name, lines in texts.items():
        got = np.load(tmp_path / f"{name}.npy")
        assert got.dtype == np.float16
        np.testing.assert_allclose(got, embed(tiny_encoder, lines, batch_size=3, dtype="float16"), atol=1e-3)
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(InputError):  # a bad input stops the job before the model loads or any file is written
        embedding_files.embed_files(tiny_encoder, [tmp_path / "a.txt", tmp_path / "empty.txt"],
                                    [tmp_path / "x.npy", tmp_path / "y.npy"])
    assert len(loads) == 1 and not (tmp_path / "x.npy").exists()
    with pytest.raises(ValueError, match="1 inputs but 2 outputs"):
        embedding_files.embed_files(tiny_encoder, [tmp_path / "a.txt"], [tmp_path / "x.npy", tmp_path / "y.npy"])
