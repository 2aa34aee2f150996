import unicodedata

from hypothesis import given, strategies as st

from lemflow.prepare import (
    PrepareSettings,
    dependent_mono,
    filter_pairs,
    normalise_text,
    prepare_mono,
    prepare_pairs,
    split_indices,
)

SHRI = "ශ්\u200dරී"


def test_normalise_keeps_zwj_zwnj_and_combining_marks():
    text = f"  {SHRI}\tලංකා\u200b\x07 கொழும்பு\u200c  "
    out = normalise_text(text)
    assert out == f"{SHRI} ලංකා கொழும்பு\u200c"
    assert "\u200d" in out
    # Tamil vowel sign O is decomposable: NFC recomposes it.
    decomposed = "\u0b95\u0bc6\u0bbe"  # க + ெ + ா
    assert normalise_text(decomposed) == unicodedata.normalize("NFC", decomposed) == "\u0b95\u0bca"


def test_normalise_whitespace_and_controls():
    assert normalise_text("a\u00a0 b\r\nc\x00d\ufeff") == "a b cd"


@given(st.text())
def test_normalise_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert once == once.strip()
    assert "  " not in once


def test_filters_count_each_step():
    pairs = [("a b", "x y"), ("", "x"), ("a " * 50, "x"), ("short", "a much much longer sentence here"),
             ("a b", "x y"), ("c d", "z w")]
    s = PrepareSettings(min_words=1, max_words=10, max_length_ratio=3.0, dedupe=True)
    kept, counts = filter_pairs(pairs, s)
    assert kept == [("a b", "x y"), ("c d", "z w")]
    assert counts == {"read": 6, "after_empty": 5, "after_length": 4, "after_ratio": 3, "after_dedupe": 2}


def test_split_is_seeded_disjoint_and_complete():
    a = split_indices(100, 0.1, 0.2, seed=7)
    b = split_indices(100, 0.1, 0.2, seed=7)
    c = split_indices(100, 0.1, 0.2, seed=8)
    assert all((a[k] == b[k]).all() for k in a)
    assert any((a[k] != c[k]).any() for k in a if len(a[k]) == len(c[k]))
    union = sorted(int(i) for k in a for i in a[k])
    assert union == list(range(100))
    assert (len(a["valid"]), len(a["test"]), len(a["train"])) == (10, 20, 70)


def test_prepare_pairs_and_mono():
    pairs = [(f"si {i} {SHRI}", f"en {i}") for i in range(50)]
    prepared = prepare_pairs(pairs, PrepareSettings(valid_fraction=0.1, test_fraction=0.1), seed=3)
    assert sum(len(v) for v in prepared.splits.values()) == 50
    train = prepared.splits["train"]
    mono = dependent_mono([s for s, _ in train], [t for _, t in train], "si", "en", seed=3)
    assert len(mono) == 2 * len(train)
    assert {lang for lang, _, _ in mono} == {"si", "en"}
    for lang, i, text in mono:
        assert text == (train[i][0] if lang == "si" else train[i][1])
    assert mono != sorted(mono, key=lambda r: (r[0] != "si", r[1]))  # shuffled


def test_prepare_mono():
    lines = ["a b", "a b", "", "c d", "e f g"] * 3
    splits, counts = prepare_mono(lines, PrepareSettings(valid_fraction=0.34), seed=1)
    assert counts["after_dedupe"] == 3
    assert sorted(splits["train"] + splits["valid"]) == ["a b", "c d", "e f g"]


def test_pool_is_disjoint_from_pretraining_splits():
    """The curation pool (pool_fraction) holds pairs no pre-training split has; valid and test
    are the same as without a pool, and pool + train is the old train."""
    from lemflow.prepare import PrepareSettings, prepare_pairs

    pairs = [(f"src sentence {i}", f"tgt sentence {i}") for i in range(200)]
    with_pool = prepare_pairs(pairs, PrepareSettings(pool_fraction=0.25), seed=5).splits
    without = prepare_pairs(pairs, PrepareSettings(), seed=5).splits
    pool = set(with_pool["pool"])
    assert len(pool) == 50
    for split in ("train", "valid"):  # what pre-training reads
        assert not pool & set(with_pool[split])
        assert not {s for s, _ in pool} & {s for s, _ in with_pool[split]}
        assert not {t for _, t in pool} & {t for _, t in with_pool[split]}
    assert with_pool["valid"] == without["valid"] and with_pool["test"] == without["test"]
    assert sorted(with_pool["train"] + with_pool["pool"]) == sorted(without["train"])
    assert "pool" not in without
