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


def test_tag_gold_script_derives_the_gold_copy_from_the_tagger_tags(tmp_path):
    """workflow_scripts/tag_gold.py: its own job (adding a gold-NE strategy re-tags nothing)."""
    import json
    import runpy
    import sys

    import pytest

    from lemflow.tagging import read_tags, write_tags

    model = tmp_path / "model"
    model.mkdir()
    (model / "backend.json").write_text(json.dumps({"backend": "gold", "gold": True}))
    (model / "gold.jsonl").write_text(json.dumps({"words": GOLD.lookup(LINES[0]).words, "upos": None,
                                                  "ner": ["B-PER", "O", "O", "B-LOC"]}) + "\n")
    text = tmp_path / "train.si"
    text.write_text("\n".join(LINES) + "\n")
    records, _ = tag_lines(LINES, FixedTagger(), without_gold_ner(GOLD))
    write_tags(tmp_path / "train.si.jsonl", records)
    out = tmp_path / "gold" / "train.si.jsonl"
    out.parent.mkdir()
    argv = ["tag_gold.py", "--model", str(model), "--inputs", str(text), "--tags", str(tmp_path / "train.si.jsonl"),
            "--outputs", str(out)]
    script = str(__import__("pathlib").Path(__file__).parents[1] / "workflow_scripts" / "tag_gold.py")
    old_argv, sys.argv = sys.argv, argv
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        assert stop.code in (0, None)
    finally:
        sys.argv = old_argv
    assert read_tags(out) == with_gold_ner(records, LINES, GOLD)[0]
    # a tags file that does not match its text is refused, naming the file
    (tmp_path / "short.jsonl").write_text(json.dumps(records[0]) + "\n")
    sys.argv = [*argv[:6], str(tmp_path / "short.jsonl"), "--outputs", str(tmp_path / "x.jsonl")]
    try:
        with pytest.raises(SystemExit) as stop:
            runpy.run_path(script, run_name="__main__")
        assert stop.value.code == 2
    finally:
        sys.argv = old_argv
    assert not (tmp_path / "x.jsonl").exists()
