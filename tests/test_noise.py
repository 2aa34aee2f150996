"""lemflow.noise: labelled noise injection is deterministic, labels match what was done."""
import pytest

from lemflow.errors import InputError
from lemflow.noise import CLEAN, KINDS, NoiseSettings, inject_noise, label_counts

SRC = [f"s{i} මම ගෙදර යනවා අද {i} වන දින" for i in range(200)]
TGT = [f"t{i} I go home today on day {i}" for i in range(200)]
THIRD = [f"நான் இன்று வீட்டுக்கு போகிறேன் {i}" for i in range(50)]


def test_same_seed_same_output_other_seed_differs():
    settings = NoiseSettings(rate=0.5)
    a = inject_noise(SRC, TGT, settings, seed=3, third=THIRD)
    assert a == inject_noise(SRC, TGT, settings, seed=3, third=THIRD)
    assert a != inject_noise(SRC, TGT, settings, seed=4, third=THIRD)


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 1.0])
def test_rate_and_clean_pairs_untouched(rate):
    src, tgt, labels = inject_noise(SRC, TGT, NoiseSettings(rate=rate), seed=1, third=THIRD)
    assert len(src) == len(tgt) == len(labels) == len(SRC)
    assert sum(label != CLEAN for label in labels) == round(rate * len(SRC))
    for i, label in enumerate(labels):
        if label == CLEAN:
            assert (src[i], tgt[i]) == (SRC[i], TGT[i])


def test_every_kind_does_what_its_label_says():
    src, tgt, labels = inject_noise(SRC, TGT, NoiseSettings(rate=0.9), seed=7, third=THIRD)
    counts = label_counts(labels)
    assert all(counts[kind] > 0 for kind in KINDS)
    for i, label in enumerate(labels):
        if label == "misaligned":
            assert src[i] == SRC[i] and tgt[i] != TGT[i] and tgt[i] in TGT
        elif label == "truncated":
            cut_src, cut_tgt = src[i] != SRC[i], tgt[i] != TGT[i]
            assert cut_src != cut_tgt  # exactly one side cut
            side, orig = (src[i], SRC[i]) if cut_src else (tgt[i], TGT[i])
            assert orig.startswith(side) and 0 < len(side.split()) < len(orig.split())
        elif label == "copy":
            assert tgt[i] == src[i] == SRC[i]
        elif label == "wrong_language":
            assert src[i] == SRC[i] and tgt[i] in THIRD
        elif label == "fragment":
            assert 1 <= len(src[i].split()) <= 2 and 1 <= len(tgt[i].split()) <= 2
            assert src[i] in SRC[i] and tgt[i] in TGT[i]
        elif label == "near_duplicate":
            j = TGT.index(tgt[i])
            assert j != i and labels[j] == CLEAN and src[i] != SRC[j]
            assert set(src[i].split()) <= set(SRC[j].split()) | {"."}


def test_wrong_language_without_third_is_word_salad_of_another_sentence():
    settings = NoiseSettings(rate=1.0, kinds={"wrong_language": 1})
    src, tgt, labels = inject_noise(SRC, TGT, settings, seed=2, third=None)
    assert set(labels) == {"wrong_language"}
    for i in range(len(SRC)):
        assert src[i] == SRC[i]
        assert sorted(tgt[i].split()) in [sorted(s.split()) for s in SRC[:i] + SRC[i + 1:]]


def test_misaligned_is_a_derangement():
    settings = NoiseSettings(rate=1.0, kinds={"misaligned": 1})
    _, tgt, _ = inject_noise(SRC, TGT, settings, seed=5)
    assert sorted(tgt) == sorted(TGT) and all(t != o for t, o in zip(tgt, TGT))


def test_settings_validation():
    with pytest.raises(InputError, match="unknown noise kinds"):
        NoiseSettings.from_dict({"kinds": {"typo": 1}})
    with pytest.raises(InputError, match="rate"):
        NoiseSettings.from_dict({"rate": 1.5})
    with pytest.raises(InputError, match="weight 0"):
        NoiseSettings.from_dict({"kinds": {"copy": 0}})
    assert NoiseSettings.from_dict({"truncate_keep": [0.1, 0.3]}).truncate_keep == (0.1, 0.3)


def test_length_mismatch_is_an_input_error():
    with pytest.raises(InputError, match="200 lines, target 3"):
        inject_noise(SRC, TGT[:3], NoiseSettings(), seed=0)
