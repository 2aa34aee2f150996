"""The pure helpers of the tagger experiment scripts (bench/tagging_pos.py, bench/ner_analysis.py):
paired accuracy comparison, entity outcomes, the F1 bootstrap and the label-consistency counts."""
import importlib.util

import pytest

from lemflow.tagging import Annotated

from conftest import REPO  # noqa: E402


def load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_accuracy_comparison():
    pos = load("tagging_pos")
    gold = [["NOUN", "VERB", "DET"], ["PROPN"]]
    right_a = pos.words_right(gold, [["NOUN", "VERB", "DET"], ["NOUN"]])
    right_b = pos.words_right(gold, [["NOUN", "NOUN", "DET"], ["PROPN"]])
    figures = pos.compare(right_a, right_b, samples=200)
    assert figures["words"] == 4 and figures["a"] == 0.75 and figures["b"] == 0.75 and figures["diff"] == 0
    assert (figures["only_a"], figures["only_b"]) == (1, 1)
    assert figures["diff_low"] <= 0 <= figures["diff_high"]
    same = pos.compare(right_a, right_a, samples=50)
    assert same["diff_low"] == same["diff_high"] == 0


def test_entity_outcomes_and_interval():
    analysis = load("ner_analysis")
    gold = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG", "B-MISC", "I-MISC"]]
    assert analysis.outcomes(gold, predicted) == {"gold_exact": 1, "gold_wrong_type": 1, "gold_overlap": 1,
                                                  "pred_correct": 1, "pred_overlap": 2}
    assert analysis.outcomes([["O", "B-LOC"]], [["B-PER", "O"]]) == {"gold_missed": 1, "pred_spurious": 1}
    low, high = analysis.f1_interval(gold * 5, gold * 5, samples=50)
    assert low == high == 1.0
    types = analysis.by_type(gold, predicted)
    assert types["PER"]["f1"] == 1.0 and types["LOC"]["recall"] == 0.0


def test_label_consistency_counts_unannotated_occurrences():
    analysis = load("ner_analysis")
    kandy = Annotated(["in", "Kandy", "."], ner=["O", "B-LOC", "O"])
    sentences = [kandy] * 3 + [Annotated(["Kandy", "Road"], ner=["O", "O"]),
                               Annotated(["Kandy"], ner=["B-ORG"]), Annotated(["."], ner=["B-MISC"])]
    c = analysis.label_consistency(sentences)
    # "kandy" is an entity 4 times (3 LOC, 1 ORG) and unannotated once; "." is a punctuation-only entity
    assert c["strings_with_several_types"] == 1 and c["majority_type_share"] == pytest.approx(3 / 4)
    assert c["punctuation_entities"] == 1 and c["frequent_strings"] == 1
    assert (c["occurrences_annotated"], c["occurrences_unannotated"]) == (4, 1)
    assert c["unannotated_share"] == pytest.approx(1 / 5) and c["most_unannotated"] == [("kandy", 1)]
