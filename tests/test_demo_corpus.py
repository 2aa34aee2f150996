"""Consistency checks of the embedded demo corpus (resources/demo), and of its generator."""
from __future__ import annotations

import importlib.util
import re
import unicodedata

import pandas as pd
import pytest

from conftest import REPO  # noqa: E402
DEMO = REPO / "resources" / "demo"
LANGS = ("en", "si", "ta")
PAIRS = (("si", "en"), ("ta", "en"), ("si", "ta"))
UD = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
      "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}
ZWJ = "\u200d"
SRI = "ශ්" + ZWJ + "රී"          # ශ්‍රී: SHA, AL-LAKUNA, ZWJ, RA, II
SRI_BROKEN = "ශ්රී"               # the same without ZWJ
TAMIL_MARKS = re.compile("[\u0bbe-\u0bcd\u0bd7]")
SPLITS = [f"{lang}.{split}" for lang in LANGS for split in ("train", "heldout")] + \
         [f"parallel.{lang}" for lang in LANGS]


def read_lines(path):
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def read_conllu(path):
    sents, cur, meta = [], [], {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            if cur:
                sents.append((meta, cur))
            cur, meta = [], {}
        elif line.startswith("#"):
            k, _, v = line[1:].partition("=")
            meta[k.strip()] = v.strip()
        else:
            cols = line.split("\t")
            assert len(cols) == 10, (path, line)
            cur.append(cols)
    if cur:
        sents.append((meta, cur))
    return sents


def read_bio(path):
    sents, cur = [], []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            if cur:
                sents.append(cur)
            cur = []
        else:
            tok, tag = line.split(" ")
            cur.append((tok, tag))
    if cur:
        sents.append(cur)
    return sents


def tokens_of(line):
    """README rule: split on spaces; a final '.' or ',' of a word is its own token."""
    out = []
    for w in line.split(" "):
        if len(w) > 1 and w[-1] in ".,":
            out += [w[:-1], w[-1]]
        else:
            out.append(w)
    return out


def all_text_files():
    return [p for p in DEMO.rglob("*") if p.is_file() and p.suffix in {".en", ".si", ".ta", ".conllu",
                                                                         ".bio", ".tsv", ".csv"}]


def test_parallel_aligned():
    lines = {lang: read_lines(DEMO / "parallel" / f"demo.{lang}") for lang in LANGS}
    assert len(lines["en"]) >= 360
    assert len({len(v) for v in lines.values()}) == 1
    for lang, ls in lines.items():
        assert all(ls), lang
        assert all(6 <= len(line.split()) <= 30 for line in ls), lang
        assert len(set(ls)) == len(ls), f"duplicate {lang} lines"
    # no two sentences differ only in their numbers
    masked = {re.sub(r"\d+", "#", line) for line in lines["en"]}
    assert len(masked) == len(lines["en"])


def test_nfc_and_no_stray_whitespace():
    for p in all_text_files():
        text = p.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), p
        assert "\r" not in text and "\t\t" not in text, p


def test_sinhala_zwj():
    si = (DEMO / "parallel" / "demo.si").read_text(encoding="utf-8")
    si += (DEMO / "lexicon" / "si.gazetteer.tsv").read_text(encoding="utf-8")
    assert SRI in si
    assert SRI_BROKEN not in si
    assert ZWJ in (DEMO / "annotations" / "si.train.conllu").read_text(encoding="utf-8")
    # conjuncts written with ZWJ (rakaransaya, yansaya) never lose it
    for word in ("ප්‍රදේශ", "අමාත්‍ය", "දිස්ත්‍රික්", "ක්‍රීඩා", "වෛද්‍ය", "ආරක්‍ෂක", "ත්‍රිකුණාමල"):
        assert word in si, word
        assert word.replace(ZWJ, "") not in si, word
    # ZWJ only ever follows the al-lakuna (virama) inside a conjunct
    for p in all_text_files():
        text = p.read_text(encoding="utf-8")
        for m in re.finditer(ZWJ, text):
            assert text[m.start() - 1] == "\u0dca", (p, text[m.start() - 5:m.start() + 5])


def test_tamil_combining_marks():
    for p in (DEMO / "parallel" / "demo.ta", DEMO / "annotations" / "ta.train.bio"):
        text = p.read_text(encoding="utf-8")
        assert "\u0bcd" in text  # pulli
        words = [w for w in re.findall(r"[\u0b80-\u0bff]+", text)]
        assert sum(bool(TAMIL_MARKS.search(w)) for w in words) > 0.8 * len(words)
        # a combining mark never starts a word
        assert not any(unicodedata.category(w[0]) == "Mc" or unicodedata.category(w[0]) == "Mn"
                       for w in words)


@pytest.mark.parametrize("stem", SPLITS)
def test_conllu_bio_agree(stem):
    conllu = read_conllu(DEMO / "annotations" / f"{stem}.conllu")
    bio = read_bio(DEMO / "annotations" / f"{stem}.bio")
    assert len(conllu) == len(bio) > 0
    ids = set()
    for (meta, rows), bsent in zip(conllu, bio):
        assert meta["sent_id"] not in ids
        ids.add(meta["sent_id"])
        forms = [r[1] for r in rows]
        assert forms == [t for t, _ in bsent]
        assert tokens_of(meta["text"]) == forms
        for i, r in enumerate(rows, 1):
            assert r[0] == str(i) and r[3] in UD and r[6].isdigit()
            assert (r[6], r[7]) == (("0", "root") if i == 1 else ("1", "dep"))


@pytest.mark.parametrize("stem", SPLITS)
def test_bio_valid(stem):
    for sent in read_bio(DEMO / "annotations" / f"{stem}.bio"):
        prev = "O"
        for _, tag in sent:
            assert re.fullmatch(r"O|[BI]-(PER|LOC|ORG|MISC)", tag), tag
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:], sent
            prev = tag


def test_parallel_annotations_match_lines():
    for lang in LANGS:
        lines = read_lines(DEMO / "parallel" / f"demo.{lang}")
        conllu = read_conllu(DEMO / "annotations" / f"parallel.{lang}.conllu")
        assert [m["text"] for m, _ in conllu] == lines
        assert [[r[1] for r in rows] for _, rows in conllu] == [tokens_of(line) for line in lines]


def test_annotation_sets_disjoint_from_parallel():
    for lang in LANGS:
        par = set(read_lines(DEMO / "parallel" / f"demo.{lang}"))
        texts = {}
        for split in ("train", "heldout"):
            texts[split] = {m["text"] for m, _ in read_conllu(DEMO / "annotations" / f"{lang}.{split}.conllu")}
            assert not texts[split] & par
        assert not texts["train"] & texts["heldout"]
        assert 150 <= len(texts["train"]) and 40 <= len(texts["heldout"])


def test_entities_and_pos_balance():
    """Every language has every entity type and the content POS the masking relies on."""
    for lang in LANGS:
        tags = [t for s in read_bio(DEMO / "annotations" / f"parallel.{lang}.bio") for _, t in s]
        for ent in ("PER", "LOC", "ORG", "MISC"):
            assert f"B-{ent}" in tags, (lang, ent)
        upos = [r[3] for _, rows in read_conllu(DEMO / "annotations" / f"{lang}.train.conllu") for r in rows]
        for u in ("NOUN", "PROPN", "VERB", "NUM", "ADJ"):
            assert upos.count(u) > 20, (lang, u)


def test_lexicon_files():
    for lang in LANGS:
        pos = [line.split("\t") for line in read_lines(DEMO / "lexicon" / f"{lang}.pos.tsv")]
        assert len(pos) > 200 and all(len(r) == 2 and r[1] in UD for r in pos)
        assert len({w for w, _ in pos}) == len(pos)
        gaz = [line.split("\t") for line in read_lines(DEMO / "lexicon" / f"{lang}.gazetteer.tsv")]
        assert len(gaz) > 50 and all(len(r) == 2 and r[1] in {"PER", "LOC", "ORG", "MISC"} for r in gaz)
        assert {t for _, t in gaz} == {"PER", "LOC", "ORG", "MISC"}


@pytest.mark.parametrize("l1,l2", PAIRS)
def test_comparable(l1, l2):
    d = DEMO / "comparable" / f"{l1}-{l2}" / "DemoNews"
    sides = {}
    for lang in (l1, l2):
        sides[lang] = {}
        for line in read_lines(d / f"{lang}.tsv"):
            sid, text = line.split("\t")
            assert re.fullmatch(rf"{lang}_\d+_\d+", sid) and text.strip() == text and text
            assert sid not in sides[lang]
            sides[lang][sid] = text
    gold = [line.split("\t") for line in read_lines(d / "gold.tsv")]
    assert 80 <= len(gold) <= 130
    a_ids, b_ids = [a for a, _ in gold], [b for _, b in gold]
    assert len(set(a_ids)) == len(a_ids) and len(set(b_ids)) == len(b_ids)
    for a, b in gold:
        assert a in sides[l1] and b in sides[l2]
        assert a.split("_")[1] == b.split("_")[1]  # same document
    # non-parallel material on both sides, and documents without a counterpart
    assert len(sides[l1]) > len(gold) and len(sides[l2]) > len(gold)
    docs = {lang: {s.split("_")[1] for s in sides[lang]} for lang in (l1, l2)}
    assert docs[l1] - docs[l2] and docs[l2] - docs[l1]
    # comparable sentences are not demo.* lines, nor demo.* lines with other numbers
    for lang in (l1, l2):
        mask = lambda texts: {re.sub(r"\d+", "#", t) for t in texts}  # noqa: E731
        assert not mask(sides[lang].values()) & mask(read_lines(DEMO / "parallel" / f"demo.{lang}"))


ALLOWED = {"si-en": {"Positive", "Negative", "Neutral", "Conflict"},
           "ta-en": {"Positive", "Negative", "Mixed_feelings", "unknown_state", "not-Tamil"}}


@pytest.mark.parametrize("pair", sorted(ALLOWED))
def test_sentiment_csv(pair):
    frames = {}
    for split in ("train", "dev", "test"):
        df = pd.read_csv(DEMO / "sentiment" / pair / f"{split}.csv", keep_default_na=False)
        assert list(df.columns) == ["text", "label"]
        assert set(df["label"]) == ALLOWED[pair], (pair, split)
        assert (df["text"].str.len() > 0).all()
        frames[split] = df
    n = {k: len(v) for k, v in frames.items()}
    assert 180 <= sum(n.values()) <= 260
    assert n["train"] > 2.5 * n["dev"] and abs(n["dev"] - n["test"]) <= 6
    texts = pd.concat(frames.values())["text"]
    assert texts.is_unique
    assert texts.str.contains("\n").any()  # some multi-line quoted comments


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_demo_corpus", REPO / "scripts" / "make_demo_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generator_reproduces_committed_files(tmp_path):
    gen = _load_generator()
    gen.main(["--out", str(tmp_path)])
    committed = sorted(p.relative_to(DEMO) for p in all_text_files())
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == produced
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (DEMO / rel).read_bytes(), rel


def test_generator_templates_are_distinct_and_bounded():
    gen = _load_generator()
    assert len(TEMPLATES := gen.TEMPLATES) >= 40
    shapes = {re.sub(r"\{\w+\}", "{}", t[0]) for t in TEMPLATES}
    assert len(shapes) == len(TEMPLATES)


def test_project_readers_accept_demo():
    """The demo files load with lemflow's own readers (the formats the workflow consumes)."""
    from lemflow import readers, tagging
    from lemflow.conllu import read_conllu as lemflow_conllu

    for l1, l2 in PAIRS:
        corpus = readers.read_comparable(DEMO / "comparable" / f"{l1}-{l2}" / "DemoNews", l1, l2)
        assert len(corpus.gold) >= 80 and not corpus.skipped_gold
    for stem in SPLITS:
        bio = readers.read_bio(DEMO / "annotations" / f"{stem}.bio")
        conllu = lemflow_conllu(DEMO / "annotations" / f"{stem}.conllu")
        assert [w for w, _ in bio] == [w for w, _ in conllu]
    for pair, labels in ALLOWED.items():
        for split in ("train", "dev", "test"):
            assert len(readers.read_sentiment_csv(DEMO / "sentiment" / pair / f"{split}.csv", labels)) > 20
    assert len(readers.read_parallel({"format": "text", "path": str(DEMO / "parallel" / "demo")}, "si", "ta")) >= 360
    # the lexicon backend tags the demo's heldout sentences with its own files
    for lang in LANGS:
        tagger = tagging.LexiconTagger(tagging.read_lexicon(DEMO / "lexicon" / f"{lang}.pos.tsv"),
                                       tagging.read_lexicon(DEMO / "lexicon" / f"{lang}.gazetteer.tsv"))
        sents = read_conllu(DEMO / "annotations" / f"{lang}.heldout.conllu")
        words = [[r[1] for r in rows] for _, rows in sents]
        upos, _ = tagger.tag(words)
        gold = [r[3] for _, rows in sents for r in rows]
        acc = sum(p == g for p, g in zip((u for s in upos for u in s), gold)) / len(gold)
        assert acc > 0.9, (lang, acc)
