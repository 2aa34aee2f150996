"""Budget subsampling of the mining evaluation sets: gold documents kept, seeded distractors."""
import json

import pytest

from lemflow.errors import InputError
from lemflow.mining_eval import sample_documents, write_comparable_corpus, write_parallel_corpus
from lemflow.readers import read_comparable


def write_corpus(root, n_docs=6):
    """n_docs documents of 2 sentences per side; gold pairs only in documents 0 and 1."""
    root.mkdir(parents=True)
    si = [f"si_{d}_{n}\tsi sentence {d} {n}" for d in range(n_docs) for n in range(2)]
    en = [f"en_{d}_{n}\ten sentence {d} {n}" for d in range(n_docs) for n in range(2)]
    (root / "si.tsv").write_text("\n".join(si) + "\n", encoding="utf-8")
    (root / "en.tsv").write_text("\n".join(en) + "\n", encoding="utf-8")
    (root / "gold.tsv").write_text("si_0_0\ten_0_0\nsi_1_1\ten_1_1\n", encoding="utf-8")
    return root


def test_sample_keeps_gold_documents_and_seeded_distractors(tmp_path):
    corpus = read_comparable(write_corpus(tmp_path / "c"), "si", "en")
    gold_docs, distractors = sample_documents(corpus, 2, seed=3)
    assert gold_docs == ["0", "1"]
    assert len(distractors) == 2 and not set(distractors) & {"0", "1"}
    assert sample_documents(corpus, 2, seed=3)[1] == distractors          # same seed, same sample
    assert {tuple(sample_documents(corpus, 2, seed=s)[1]) for s in range(10)} != {tuple(distractors)}
    assert sample_documents(corpus, None, seed=3)[1] == ["2", "3", "4", "5"]
    assert sample_documents(corpus, 99, seed=3)[1] == ["2", "3", "4", "5"]


def test_restricted_corpus_written_with_its_sample(tmp_path):
    out = tmp_path / "out"
    meta = write_comparable_corpus(write_corpus(tmp_path / "c"), "si", "en", out, distractor_documents=1, seed=0)
    assert meta["sentences"] == {"si": 6, "en": 6} and meta["gold"] == 2
    assert meta["sample"]["gold_documents"] == 2 and len(meta["sample"]["distractor_documents"]) == 1
    assert meta["sample"]["sentences_before"] == {"si": 12, "en": 12}
    ids = (out / "si.ids").read_text(encoding="utf-8").split()
    assert {i.split("_")[1] for i in ids} == {"0", "1", meta["sample"]["distractor_documents"][0]}
    assert json.loads((out / "meta.json").read_text(encoding="utf-8"))["sample"] == meta["sample"]
    whole = write_comparable_corpus(tmp_path / "c", "si", "en", tmp_path / "whole")
    assert whole["sentences"] == {"si": 12, "en": 12} and whole["sample"] is None


def test_parallel_first_lines_after_checking_all(tmp_path):
    (tmp_path / "a.si").write_text("a\nb\nc\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("A\nB\nC\n", encoding="utf-8")
    meta = write_parallel_corpus({"si": tmp_path / "a.si", "en": tmp_path / "a.en"}, tmp_path / "o", max_sentences=2)
    assert (tmp_path / "o" / "en.txt").read_text(encoding="utf-8") == "A\nB\n"
    assert meta["sentences"] == {"si": 2, "en": 2} and meta["first_lines_only"]
    (tmp_path / "b.en").write_text("A\nB\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.en:3: empty line"):
        write_parallel_corpus({"si": tmp_path / "a.si", "en": tmp_path / "b.en"}, tmp_path / "p", max_sentences=2)
