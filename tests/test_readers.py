import csv
import zipfile

import pytest

from lemflow import readers
from lemflow.errors import InputError

SI = "ශ්\u200dරී ලංකා රජය"  # ශ්‍රී keeps its ZWJ
TA = "இலங்கை அரசாங்கம்"


def write(path, text, mode="w"):
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_parallel_text_roundtrip(tmp_path):
    write(tmp_path / "c.si", f"{SI}\nදෙවන වාක්‍යය\n")
    write(tmp_path / "c.en", "Sri Lanka government\nsecond sentence\n")
    pairs = readers.read_parallel_text(tmp_path / "c", "si", "en")
    assert pairs == [(SI, "Sri Lanka government"), ("දෙවන වාක්‍යය", "second sentence")]
    assert "\u200d" in pairs[0][0]


def test_parallel_text_crlf_and_bom(tmp_path):
    write(tmp_path / "c.ta", "\ufeff" + TA + "\r\nஇரண்டு\r\n")
    write(tmp_path / "c.en", "one\r\ntwo\r\n")
    assert readers.read_parallel_text(tmp_path / "c", "ta", "en") == [(TA, "one"), ("இரண்டு", "two")]


def test_parallel_text_misaligned(tmp_path):
    write(tmp_path / "c.si", "a\nb\nc\n")
    write(tmp_path / "c.en", "a\nb\n")
    with pytest.raises(InputError) as err:
        readers.read_parallel_text(tmp_path / "c", "si", "en")
    msg = str(err.value)
    assert "c.en:3" in msg and "misaligned" in msg and "3 lines" in msg


def test_invalid_utf8_names_line(tmp_path):
    write(tmp_path / "c.si", b"good\nbad \xff byte\n")
    write(tmp_path / "c.en", "a\nb\n")
    with pytest.raises(InputError, match=r"c\.si:2: invalid UTF-8"):
        readers.read_parallel_text(tmp_path / "c", "si", "en")


def test_empty_file(tmp_path):
    write(tmp_path / "c.si", "")
    write(tmp_path / "c.en", "a\n")
    with pytest.raises(InputError, match="file is empty"):
        readers.read_parallel_text(tmp_path / "c", "si", "en")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        readers.read_parallel_text(tmp_path / "nothing", "si", "en")


def test_tsv_pairs(tmp_path):
    write(tmp_path / "p.tsv", f"{SI}\tSri Lanka\nx\ty\n")
    assert readers.read_parallel_tsv(tmp_path / "p.tsv")[0] == (SI, "Sri Lanka")
    write(tmp_path / "bad.tsv", "a\tb\nonly one field\n")
    with pytest.raises(InputError, match=r"bad\.tsv:2: expected 2 tab-separated fields"):
        readers.read_parallel_tsv(tmp_path / "bad.tsv")


BIO = "Ministry B-ORG\r\nof I-ORG\r\nHealth I-ORG\r\nopened O\r\n. O\r\n\r\nColombo B-LOC\r\nC  I-PER \r\n"


def test_bio_crlf(tmp_path):
    sentences = readers.read_bio(write(tmp_path / "x.bio", BIO))
    assert sentences[0] == (["Ministry", "of", "Health", "opened", "."], ["B-ORG", "I-ORG", "I-ORG", "O", "O"])
    assert sentences[1] == (["Colombo", "C"], ["B-LOC", "I-PER"])


@pytest.mark.parametrize("bad,line", [("word X-PER\n", 1), ("a O\nb B-\n", 2), ("a O\nlonely\n", 2)])
def test_bio_illegal(tmp_path, bad, line):
    with pytest.raises(InputError, match=rf"x\.bio:{line}:"):
        readers.read_bio(write(tmp_path / "x.bio", bad))


def test_bio_type_restriction(tmp_path):
    with pytest.raises(InputError, match="illegal entity type"):
        readers.read_bio(write(tmp_path / "x.bio", "a B-DATE\n"), allowed_types={"PER", "LOC", "ORG", "MISC"})


def test_multiner_zip_and_folder(tmp_path):
    files = {
        "Final_English.txt": "Sri B-LOC\r\nLanka I-LOC\r\n\r\nHello O\r\n",
        "Final_Sinhala.txt": "ශ්\u200dරී B-LOC\r\nලංකා I-LOC\r\n\r\nආයුබෝවන් O\r\n",
        "Final_Tamil.txt": "இலங்கை B-LOC\r\n\r\nவணக்கம் O\r\n",
    }
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, text in files.items():
            z.writestr(f"nerannotateddatasets/{name}", text.encode("utf-8"))
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, text in files.items():
        write(folder / name, text)
    for path in (archive, folder):
        assert readers.read_multiner(path, "si")[0] == (["ශ්\u200dරී", "ලංකා"], ["B-LOC", "I-LOC"])
        assert readers.read_multiner_parallel(path, "si", "ta") == [("ශ්\u200dරී ලංකා", "இலங்கை"), ("ආයුබෝවන්", "வணக்கம்")]
    with pytest.raises(InputError, match="no file for language 'fr'"):
        readers.read_multiner(archive, "fr")


def _comparable(tmp_path, gold):
    root = tmp_path / "si-en" / "News"
    root.mkdir(parents=True)
    write(root / "si.tsv", "si_10_0\tපළමු\nsi_10_1\tදෙවන\nsi_11_0\tතෙවන\n")
    write(root / "en.tsv", "en_10_0\tfirst\nen_10_1\tsecond\nen_12_0\tother\n")
    write(root / "gold.tsv", gold)
    return root


def test_comparable_compact(tmp_path):
    root = _comparable(tmp_path, "si_10_0\ten_10_0\nSi_10_1\ten_10_1\n")
    corpus = readers.read_comparable(root, "si", "en")
    assert corpus.gold == [("si_10_0", "en_10_0"), ("si_10_1", "en_10_1")]
    assert corpus.documents(1) == {"10": ["si_10_0", "si_10_1"], "11": ["si_11_0"]}
    assert corpus.comparable_documents() == ["10"]
    assert readers.doc_id("si_1_2_3") == "1_2"


def test_comparable_bad_gold(tmp_path):
    root = _comparable(tmp_path, "si_10_0\ten_10_0\nsi_10_9\ten_10_1\n")
    with pytest.raises(InputError, match=r"gold\.tsv:2: gold id 'si_10_9' does not exist"):
        readers.read_comparable(root, "si", "en")
    corpus = readers.read_comparable(root, "si", "en", skip_bad_gold=True)
    assert corpus.gold == [("si_10_0", "en_10_0")] and corpus.skipped_gold[0][0] == 2


def test_comparable_original_layout(tmp_path):
    root = tmp_path / "orig"
    (root / "Sinhala").mkdir(parents=True)
    (root / "English").mkdir()
    write(root / "Sinhala" / "10", "0\tපළමු\n1\tදෙවන\n")
    write(root / "English" / "10", "0\tfirst\n1\tsecond\n")
    write(root / "gold.tsv", "si_10_1\ten_10_1\n")
    corpus = readers.read_comparable(root, "si", "en")
    assert corpus.sentences1 == {"si_10_0": "පළමු", "si_10_1": "දෙවන"}
    assert corpus.gold == [("si_10_1", "en_10_1")]


def test_sentiment_csv_multiline(tmp_path):
    path = tmp_path / "s.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["text", "label"])
        w.writerow(["supiri, ela\nnice one", "Positive"])
        w.writerow(['he said "meka hodai"', "Neutral"])
    frame = readers.read_sentiment_csv(path, allowed_labels={"Positive", "Neutral", "Negative"})
    assert list(frame.label) == ["Positive", "Neutral"]
    assert frame.text[0] == "supiri, ela\nnice one"


def test_sentiment_csv_errors(tmp_path):
    path = write(tmp_path / "s.csv", "text,label\nfine,Positive\n\"oops,\n")
    with pytest.raises(InputError, match=r"s\.csv:\d+"):
        readers.read_sentiment_csv(path)
    path = write(tmp_path / "t.csv", "text,label\nfine,Happy\n")
    with pytest.raises(InputError, match=r"t\.csv:2: unknown label 'Happy'"):
        readers.read_sentiment_csv(path, allowed_labels={"Positive"})
    path = write(tmp_path / "u.csv", "sentence,polarity\nfine,Positive\n")
    with pytest.raises(InputError, match="header must name"):
        readers.read_sentiment_csv(path)


@pytest.mark.shared
def test_shared_multiner(shared_data):
    path = shared_data / "multiner" / "nerannotateddatasets.zip"
    for lang in ("en", "si", "ta"):
        segments = readers.read_multiner(path, lang)
        assert len(segments) == 3836
    pairs = readers.read_multiner_parallel(path, "si", "en")
    assert any("\u200d" in s for s, _ in pairs[:200])


@pytest.mark.shared
def test_shared_comparable(shared_data):
    for pair in ("si-en", "ta-en", "si-ta"):
        a, b = pair.split("-")
        for source in ("Army_news", "Hiru"):
            corpus = readers.read_comparable(shared_data / "comparable" / pair / source, a, b, skip_bad_gold=True)
            assert len(corpus.gold) >= 290
            assert len(corpus.skipped_gold) <= 3
            assert len(corpus.sentences1) > 4000
