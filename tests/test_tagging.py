"""Tagging: tokenisation, BIO helpers, evaluation, CoNLL-U/BIO errors, gold import round trip,
lexicon backend, and a real stanza training run on tiny data that then tags."""
import json
import random

import pytest

from lemflow.conllu import parse_conllu, read_conllu, write_training_conllu
from lemflow.errors import InputError
from lemflow.tagging import (Annotated, GoldIndex, LexiconTagger, NullTagger, bio_entities, load_source,
                             ner_scores, propn_fallback, read_tags, sentence_key, split_off, tag_lines, to_bio,
                             tokenize, upos_accuracy, write_tags)


def test_tokenize_splits_edge_punctuation_only():
    assert tokenize("Colombo, (2019). 10,000 U.S e-mail!") == [
        "Colombo", ",", "(", "2019", ")", ".", "10,000", "U.S", "e-mail", "!"]
    assert tokenize("ශ්\u200dරී ලංකාව.") == ["ශ්\u200dරී", "ලංකාව", "."]
    assert tokenize("நாடு, 2019!") == ["நாடு", ",", "2019", "!"]
    assert tokenize("  ") == []


def test_bio_helpers():
    assert to_bio(["S-PER", "B-LOC", "E-LOC", "O", "I-ORG"]) == ["B-PER", "B-LOC", "I-LOC", "O", "B-ORG"]
    assert bio_entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"]) == [(0, 2, "PER"), (3, 4, "LOC"), (4, 5, "LOC")]
    assert propn_fallback(["PROPN", "PROPN", "VERB", "PROPN"]) == ["B-MISC", "I-MISC", "O", "B-MISC"]


def test_evaluation_numbers():
    assert upos_accuracy([["NOUN", "VERB"], ["X"]], [["NOUN", "NOUN"], ["X"]]) == pytest.approx(2 / 3)
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"]]
    scores = ner_scores(gold, pred)
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5 and scores["f1"] == 0.5
    assert ner_scores([["O"]], [["O"]])["f1"] == 0.0


def test_split_off_is_seeded_and_disjoint():
    items = list(range(50))
    kept, held = split_off(items, 0.2, 13)
    assert len(held) == 10 and sorted(kept + held) == items
    assert split_off(items, 0.2, 13) == (kept, held)
    assert split_off(items, 0.2, 14) != (kept, held)


CONLLU = "# text = Kamal sees\n1\tKamal\t_\tPROPN\t_\t_\t0\troot\t_\t_\n2\tsees\t_\tVERB\t_\t_\t1\tdep\t_\t_\n\n"


@pytest.mark.parametrize("text,problem,line", [
    (CONLLU.replace("PROPN", "PNOUN"), "unknown UPOS tag 'PNOUN'", 2),
    (CONLLU.replace("\t_\t_\n2", "\t_\n2"), "expected 10 tab-separated", 2),
    (CONLLU.replace("2\tsees", "3\tsees"), "out of order", 3),
    ("", "no sentences", None),
])
def test_bad_conllu_names_file_and_line(tmp_path, text, problem, line):
    path = tmp_path / "bad.conllu"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=problem) as err:
        read_conllu(path)
    assert err.value.line == line and str(path) in str(err.value)


def test_conllu_skips_multiword_ranges_and_handles_crlf():
    text = "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\r\n1\tdo\t_\tAUX\t_\t_\t0\troot\t_\t_\r\n2\tn't\t_\tPART\t_\t_\t1\tadvmod\t_\t_\r\n\r\n"
    assert parse_conllu(text, "x") == [(["do", "n't"], ["AUX", "PART"])]


def test_bad_bio_names_file_and_line(tmp_path):
    path = tmp_path / "bad.bio"
    path.write_text("Kamal B-PER\nsees X-LOC\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.bio:2: illegal BIO tag 'X-LOC'"):
        load_source({"format": "bio", "path": str(path)}, "en")
    with pytest.raises(InputError, match="unknown annotation format"):
        load_source({"format": "xml", "path": str(path)}, "en")


def test_gold_import_round_trip(tmp_path):
    """CoNLL-U (UPOS) and BIO (NER) of the same sentences merge; prepared lines with other
    spacing/normalisation match them; written tags read back identically."""
    conllu, bio = tmp_path / "g.conllu", tmp_path / "g.bio"
    write_training_conllu([(["Kamal", "lives", "in", "Kandy", "."], ["PROPN", "VERB", "ADP", "PROPN", "PUNCT"]),
                           (["ශ්\u200dරී", "ලංකාව"], ["PROPN", "PROPN"])], conllu)
    bio.write_text("Kamal B-PER\r\nlives O\r\nin O\r\nKandy B-LOC\r\n. O\r\n\r\nශ්\u200dරී B-LOC\r\nලංකාව I-LOC\r\n",
                   encoding="utf-8")
    gold = GoldIndex(load_source({"format": "conllu", "path": str(conllu)}, "x")
                     + load_source({"format": "bio", "path": str(bio)}, "x"))
    assert len(gold) == 2
    lines = ["Kamal lives in Kandy.", "ශ්\u200dරී  ලංකාව", "An unknown line"]
    records, counts = tag_lines(lines, NullTagger(), gold)
    assert counts["gold_matched"] == 2
    assert records[0] == {"words": ["Kamal", "lives", "in", "Kandy", "."],
                          "upos": ["PROPN", "VERB", "ADP", "PROPN", "PUNCT"], "ner": ["B-PER", "O", "O", "B-LOC", "O"]}
    assert records[1]["ner"] == ["B-LOC", "I-LOC"]
    assert records[2] == {"words": ["An", "unknown", "line"], "upos": ["X"] * 3, "ner": ["O"] * 3}
    path = tmp_path / "tags.jsonl"
    write_tags(path, records)
    assert read_tags(path) == records
    assert sentence_key("Kamal lives in Kandy .") == sentence_key("kamal lives in Kandy.")


def test_gold_ner_only_gets_upos_from_the_tagger_and_propn_fallback():
    gold = GoldIndex([Annotated(["Kamal", "runs"], ner=["B-PER", "O"])])
    lexicon = LexiconTagger({"Kamal": "PROPN", "runs": "VERB", "Nimal": "PROPN", "Perera": "PROPN"}, {})
    records, counts = tag_lines(["Kamal runs", "Nimal Perera runs"], lexicon, gold)
    assert records[0] == {"words": ["Kamal", "runs"], "upos": ["PROPN", "VERB"], "ner": ["B-PER", "O"]}
    assert records[1]["ner"] == ["B-MISC", "I-MISC", "O"]  # PROPN run fallback: no NER anywhere
    assert counts["fallback_ner"] == 1
    records, _ = tag_lines(["Nimal Perera runs"], lexicon, None, fallback="none")
    assert records[0]["ner"] == ["O", "O", "O"]


def test_lexicon_backend_longest_gazetteer_match():
    tagger = LexiconTagger({"lives": "VERB", "city": "NOUN"}, {"Sri Lanka": "LOC", "Sri": "PER"})
    upos, ner = tagger.tag([["Sri", "Lanka", "city", "lives", "12", ",", "xyz"]])
    assert upos[0] == ["X", "X", "NOUN", "VERB", "NUM", "PUNCT", "X"]
    assert ner[0] == ["B-LOC", "I-LOC", "O", "O", "O", "O", "O"]


def test_read_tags_rejects_bad_records(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"words": ["a"], "upos": ["X"], "ner": ["O"]}) + "\n"
                    + json.dumps({"words": ["a", "b"], "upos": ["X"], "ner": ["O", "O"]}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.jsonl:2: words/upos/ner lengths differ"):
        read_tags(path)


# --------------------------------------------------------------------------- stanza
def _toy_corpus(n, seed):
    rng = random.Random(seed)
    people, places = ["Kamal", "Nimal", "Saman", "Ravi"], ["Kandy", "Galle", "Jaffna", "Colombo"]
    nouns, verbs = ["book", "house", "river", "school", "road"], ["sees", "likes", "visits", "builds"]
    out = []
    for _ in range(n):
        subject = rng.choice(people + places)
        words = [subject, rng.choice(verbs), "the", rng.choice(nouns), "."]
        upos = ["PROPN", "VERB", "DET", "NOUN", "PUNCT"]
        ner = ["B-PER" if subject in people else "B-LOC", "O", "O", "O", "O"]
        out.append(Annotated(words, upos, ner))
    return out


def test_stanza_training_on_tiny_data_then_tags(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    import tempfile

    system_tmp = tmp_path / "system_tmp"  # stands for /tmp: training must leave nothing there
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    pytest.importorskip("stanza")
    torch.set_num_threads(1)
    from lemflow.tagger_stanza import build_tagger_dir, load_tagger

    corpus = _toy_corpus(60, 1)
    conllu, bio = tmp_path / "train.conllu", tmp_path / "train.bio"
    write_training_conllu([(s.words, s.upos) for s in corpus], conllu)
    bio.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.ner)) for s in corpus) + "\n",
                   encoding="utf-8")
    small = {"max_steps": 120, "eval_interval": 60, "hidden_dim": 32, "char_hidden_dim": 32, "word_emb_dim": 32,
             "char_emb_dim": 16}
    spec = {"backend": "stanza",
            "pos": {"train": [{"format": "conllu", "path": str(conllu)}], "heldout_fraction": 0.2},
            "ner": {"train": [{"format": "bio", "path": str(bio)}], "heldout_fraction": 0.2}}
    info = build_tagger_dir("xx", spec, {"train": {"pos": {**small, "tag_emb_dim": 16, "deep_biaff_hidden_dim": 32,
                                                           "composite_deep_biaff_hidden_dim": 16,
                                                           "transformed_dim": 32},
                                                   "ner": small}}, 13, tmp_path / "model")
    assert info["pos_model"] == "pos.pt" and info["ner_model"] == "ner.pt"
    assert info["heldout"] == {"pos": 12, "ner": 12}
    assert not list(system_tmp.glob("lemflow_*")), list(system_tmp.iterdir())  # scratch lives beside the model
    assert not [p for p in (tmp_path / "model").iterdir() if p.name.endswith(".tmp")]
    tagger, gold, fallback = load_tagger(tmp_path / "model", "xx")
    assert gold is None and tagger.has_ner
    records, counts = tag_lines(["Saman visits the school.", "Galle likes the road."], tagger)
    assert records[0]["words"] == ["Saman", "visits", "the", "school", "."]
    assert counts["fallback_ner"] == 0
    upos = [r["upos"] for r in records]
    assert upos_accuracy([["PROPN", "VERB", "DET", "NOUN", "PUNCT"]] * 2, upos) >= 0.6
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for r in records for tag in r["ner"])


# --------------------------------------------------------------------------- shared data
@pytest.mark.shared
def test_shared_ud_treebanks_read(shared_data):
    counts = {name: len(read_conllu(shared_data / "ud" / name)) for name in
              ("en_ewt-ud-dev.conllu", "si_stb-ud-test.conllu", "ta_mwtt-ud-test.conllu")}
    assert counts == {"en_ewt-ud-dev.conllu": 2001, "si_stb-ud-test.conllu": 100, "ta_mwtt-ud-test.conllu": 534}


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["si", "ta"])
def test_shared_multiner_gold_matches_prepared_lines(shared_data, lang):
    """Prepared lines (normalised, joined tokens) find their multiNER gold NER tags."""
    from lemflow.prepare import normalise_text

    sentences = load_source({"format": "multiner", "path": str(shared_data / "multiner/nerannotateddatasets.zip")}, lang)
    gold = GoldIndex(sentences)
    lines = [normalise_text(" ".join(s.words)) for s in sentences[:500]]
    records, counts = tag_lines(lines, NullTagger(), gold)
    assert counts["gold_matched"] == len(lines)
    assert sum(tag != "O" for r in records for tag in r["ner"]) > 100
