"""One tagging pass, two NE sources: the tagger's NEs (lem_ne) and gold NEs (lem_gold)."""
from lemflow.gold_tags import with_gold_ner, without_gold_ner
from lemflow.tagging import Annotated, GoldIndex, tag_lines


class FixedTagger:
    """Tags every word NOUN, and the first word as a PER entity."""

    def tag(self, sentences):
        return ([["NOUN"] * len(s) for s in sentences],
                [["B-PER"] + ["O"] * (len(s) - 1) for s in sentences])


GOLD = GoldIndex([Annotated(["Kamal", "went", "to", "Colombo"], None, ["B-PER", "O", "O", "B-LOC"])])
LINES = ["Kamal went to Colombo", "the rain fell"]


def test_predicted_source_ignores_gold_ner_but_keeps_words():
    records, _ = tag_lines(LINES, FixedTagger(), without_gold_ner(GOLD))
    assert records[0]["words"] == ["Kamal", "went", "to", "Colombo"]
    assert records[0]["ner"] == ["B-PER", "O", "O", "O"]            # the tagger's
    auto, _ = tag_lines(LINES, FixedTagger(), GOLD)
    assert auto[0]["ner"] == ["B-PER", "O", "O", "B-LOC"]           # gold where present


def test_gold_version_replaces_only_the_ne_layer():
    records, _ = tag_lines(LINES, FixedTagger(), without_gold_ner(GOLD))
    gold_records, replaced = with_gold_ner(records, LINES, GOLD)
    assert replaced == 1
    assert gold_records[0]["ner"] == ["B-PER", "O", "O", "B-LOC"]
    assert gold_records[0]["upos"] == records[0]["upos"]            # same POS: same NOUN/VERB entities
    assert gold_records[1] == records[1]                            # no gold: the tagger's
    assert records[0]["ner"] == ["B-PER", "O", "O", "O"]            # input records untouched
