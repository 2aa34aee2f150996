"""Entity dictionary: word spans -> sub-word spans on tricky strings (ZWJ, Tamil combining
marks, digits, punctuation, words split into 5+ pieces), fast and piece-wise alignment."""
import io

import pytest

from lemflow.dictionary import (BOUNDARY, build_dictionary, dictionary_stats, piece_offsets, sentence_entry,
                                word_char_spans, word_spans)
from lemflow.entities import read_dictionary, write_dictionary
from lemflow.tagging import tokenize

SI = "ශ්\u200dරී ලංකාව ඉතා ලස්සන රටකි."
TA = "இலங்கை ஒரு அழகான நாடு, 2019!"
EN = "Colombo became the capital of Sri Lanka in 1815 (officially)."
CORPUS = [SI, TA, EN, "The quick brown fox jumps over the lazy dog.", "ශ්‍රී ජයවර්ධනපුර කෝට්ටේ නගරය.",
          "யாழ்ப்பாணம் மாவட்டம் 12,500 மக்கள்."]


def _sp_tokenizer(tmp_path, vocab_size):
    sentencepiece = pytest.importorskip("sentencepiece")
    from transformers import AutoTokenizer, XLMRobertaTokenizer

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 20), model_writer=model, vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    sp = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(3, sp.get_piece_size())] + [("<mask>", 0.0)]
    XLMRobertaTokenizer(vocab=vocab).save_pretrained(tmp_path / "tok")
    return AutoTokenizer.from_pretrained(tmp_path / "tok")


@pytest.fixture(scope="module", params=[100, 300])
def tokenizer(request, tmp_path_factory):
    return _sp_tokenizer(tmp_path_factory.mktemp("tok"), request.param)


def _record(line, upos, ner):
    words = tokenize(line)
    assert len(words) == len(upos) == len(ner), words
    return {"words": words, "upos": upos, "ner": ner}


RECORDS = {
    SI: (["PROPN", "PROPN", "ADV", "ADJ", "VERB", "PUNCT"], ["B-LOC", "I-LOC", "O", "O", "O", "O"]),
    TA: (["PROPN", "NUM", "ADJ", "NOUN", "PUNCT", "NUM", "PUNCT"], ["B-LOC", "O", "O", "O", "O", "O", "O"]),
    EN: (["PROPN", "VERB", "DET", "NOUN", "ADP", "PROPN", "PROPN", "ADP", "NUM", "PUNCT", "ADV", "PUNCT", "PUNCT"],
         ["B-LOC", "O", "O", "O", "O", "B-LOC", "I-LOC", "O", "O", "O", "O", "O", "O"]),
}


def _text_of(pieces, start, end):
    return "".join(pieces[start:end]).replace(BOUNDARY, "")


@pytest.mark.parametrize("line", list(RECORDS))
def test_spans_cover_exactly_the_entity_characters(tokenizer, line):
    record = _record(line, *RECORDS[line])
    entry, unaligned = sentence_entry(tokenizer, line, record)
    assert unaligned == 0
    assert entry["ids"] == tokenizer(line, add_special_tokens=False)["input_ids"]
    pieces = tokenizer.convert_ids_to_tokens(entry["ids"])
    expected = []
    for start, end, kind in word_spans(record):
        expected.append(("".join(record["words"][start:end]), kind))
    got = [(_text_of(pieces, s, e), kind) for s, e, kind in entry["spans"]]
    assert sorted(got) == sorted(expected)
    for s, e, _ in entry["spans"]:
        assert 0 <= s < e <= len(entry["ids"])
        assert pieces[s] != BOUNDARY  # a lone boundary piece never starts an entity


def test_types_follow_the_design(tokenizer):
    record = _record(EN, *RECORDS[EN])
    kinds = [(" ".join(record["words"][s:e]), k) for s, e, k in word_spans(record)]
    assert ("Colombo", "NE") in kinds and ("Sri Lanka", "NE") in kinds
    assert ("capital", "NOUN") in kinds and ("became", "VERB") in kinds
    assert ("Colombo", "NOUN") not in kinds  # PROPN inside an NE is not a noun
    aux = {"words": ["is", "going"], "upos": ["AUX", "VERB"], "ner": ["O", "O"]}
    assert [k for *_, k in word_spans(aux)] == ["VERB"]
    assert [k for *_, k in word_spans(aux, verb_aux=True)] == ["VERB", "VERB"]


def test_zwj_and_combining_marks_stay_inside_their_word(tokenizer):
    record = _record(SI, *RECORDS[SI])
    entry, _ = sentence_entry(tokenizer, SI, record)
    pieces = tokenizer.convert_ids_to_tokens(entry["ids"])
    ne = [s for s in entry["spans"] if s[2] == "NE"][0]
    assert "\u200d" in _text_of(pieces, ne[0], ne[1])
    assert _text_of(pieces, ne[0], ne[1]) == "ශ්\u200dරීලංකාව"
    record = _record(TA, *RECORDS[TA])
    entry, _ = sentence_entry(tokenizer, TA, record)
    pieces = tokenizer.convert_ids_to_tokens(entry["ids"])
    nouns = [_text_of(pieces, s, e) for s, e, k in entry["spans"] if k == "NOUN"]
    assert nouns == ["நாடு"]  # the comma after it is not part of the noun


def test_long_words_split_into_many_pieces(tmp_path):
    tokenizer = _sp_tokenizer(tmp_path, 100)  # a tiny vocabulary splits words into many pieces
    line = "ශ්‍රී ජයවර්ධනපුර කෝට්ටේ නගරය."
    record = _record(line, ["PROPN", "PROPN", "PROPN", "NOUN", "PUNCT"], ["B-LOC", "I-LOC", "I-LOC", "O", "O"])
    entry, _ = sentence_entry(tokenizer, line, record)
    ne = [s for s in entry["spans"] if s[2] == "NE"][0]
    assert ne[1] - ne[0] >= 5
    pieces = tokenizer.convert_ids_to_tokens(entry["ids"])
    assert _text_of(pieces, ne[0], ne[1]) == "ශ්‍රීජයවර්ධනපුරකෝට්ටේ"


@pytest.mark.parametrize("line", list(RECORDS))
def test_piecewise_alignment_agrees_with_offset_mapping(tokenizer, line):
    record = _record(line, *RECORDS[line])
    fast, _ = sentence_entry(tokenizer, line, record)
    slow, _ = sentence_entry(tokenizer, line, record, use_offsets=False)
    assert fast == slow


def test_piece_offsets_recovers_after_unknown_piece():
    offsets = piece_offsets("ab ?? cd", ["▁ab", "<unk>", "▁cd"])
    assert offsets == [(0, 2), (3, 5), (6, 8)]


def test_word_char_spans_tolerate_spacing_and_missing_words():
    line = "Colombo, Sri Lanka."
    assert word_char_spans(line, ["Colombo", ",", "Sri", "Lanka", "."]) == [(0, 7), (7, 8), (9, 12), (13, 18), (18, 19)]
    assert word_char_spans(line, ["Colombo,", "SriLanka", "."]) == [(0, 8), (9, 18), (18, 19)]
    spans = word_char_spans(line, ["Colombo", "XYZ", ",", "Sri", "Lanka", "."])
    assert spans[1] is None and spans[2] == (7, 8)


def test_build_dictionary_stats_and_round_trip(tokenizer, tmp_path):
    lines = list(RECORDS)
    records = [_record(line, *RECORDS[line]) for line in lines]
    entries, stats = build_dictionary(tokenizer, lines, records)
    assert stats["sentences"] == 3 and stats["unaligned_words"] == 0
    assert stats["entities_per_sentence"]["NE"] == pytest.approx(4 / 3)
    assert 0 < stats["token_share"]["NE"] < stats["token_share_any"] <= 1
    path = tmp_path / "d.jsonl"
    write_dictionary(path, entries)
    assert read_dictionary(path) == entries
    assert dictionary_stats([]) ["sentences"] == 0
    with pytest.raises(ValueError, match="2 tagged sentences for 3 lines"):
        build_dictionary(tokenizer, lines, records[:2], source="x.jsonl")
