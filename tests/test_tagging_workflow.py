"""The tagging and dictionary rules through Snakemake on a tiny corpus: gold backend (en) and
lexicon backend (si), tagger report, entity dictionaries for a local tokenizer; a second run
does nothing and a changed annotation file retrains only that language's tagger."""
import csv
import json

import pytest
import yaml

from conftest import REPO, snakemake_output  # noqa: E402

EN = ["Kamal lives in Kandy.", "Nimal visits Galle today.", "The river flows to Colombo.",
      "Saman reads a book.", "Ravi builds a house in Jaffna."]
SI = ["කමල් මහනුවර ජීවත් වේ.", "නිමල් අද ගාල්ල බලයි.", "ගඟ කොළඹට ගලයි.", "සමන් පොතක් කියවයි.",
      "රවි යාපනයේ ගෙයක් හදයි."]
EN_UPOS = [["PROPN", "VERB", "ADP", "PROPN", "PUNCT"], ["PROPN", "VERB", "PROPN", "NOUN", "PUNCT"],
           ["DET", "NOUN", "VERB", "ADP", "PROPN", "PUNCT"], ["PROPN", "VERB", "DET", "NOUN", "PUNCT"],
           ["PROPN", "VERB", "DET", "NOUN", "ADP", "PROPN", "PUNCT"]]
EN_NER = [["B-PER", "O", "O", "B-LOC", "O"], ["B-PER", "O", "B-LOC", "O", "O"], ["O", "O", "O", "O", "B-LOC", "O"],
          ["B-PER", "O", "O", "O", "O"], ["B-PER", "O", "O", "O", "O", "B-LOC", "O"]]


def _write(tmp_path):
    from lemflow.conllu import write_training_conllu
    from lemflow.tagging import tokenize

    corpus = tmp_path / "corpus"
    (tmp_path / "corpus.en").write_text("\n".join(EN * 4) + "\n", encoding="utf-8")
    (tmp_path / "corpus.si").write_text("\n".join(SI * 4) + "\n", encoding="utf-8")
    words = [tokenize(line) for line in EN]
    write_training_conllu(list(zip(words, EN_UPOS)), tmp_path / "en.conllu")
    (tmp_path / "en.bio").write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(ws, ts))
                                                for ws, ts in zip(words, EN_NER)) + "\n", encoding="utf-8")
    lexicon = {"කමල්": "PROPN", "නිමල්": "PROPN", "සමන්": "PROPN", "රවි": "PROPN", "ගඟ": "NOUN", "පොතක්": "NOUN",
               "ගෙයක්": "NOUN", "කියවයි": "VERB", "හදයි": "VERB", "බලයි": "VERB", "ගලයි": "VERB"}
    (tmp_path / "si.pos.tsv").write_text("".join(f"{w}\t{t}\n" for w, t in lexicon.items()), encoding="utf-8")
    (tmp_path / "si.gaz.tsv").write_text("මහනුවර\tLOC\nගාල්ල\tLOC\nකොළඹට\tLOC\n", encoding="utf-8")
    (tmp_path / "si.heldout.bio").write_text("කමල් B-PER\nගාල්ල B-LOC\nබලයි O\n", encoding="utf-8")
    return corpus


def _tokenizer(path):
    sentencepiece = pytest.importorskip("sentencepiece")
    import io

    from transformers import XLMRobertaTokenizer

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter((EN + SI) * 10), model_writer=model,
                                             vocab_size=150, model_type="unigram", character_coverage=1.0,
                                             hard_vocab_limit=False, minloglevel=2)
    sp = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(3, sp.get_piece_size())] + [("<mask>", 0.0)]
    XLMRobertaTokenizer(vocab=vocab).save_pretrained(path)


def _snakemake(config, *targets):
    return snakemake_output("--configfile", config, "-c1", *targets, timeout=300)


def test_tagging_and_dictionary_rules(tmp_path):
    corpus = _write(tmp_path)
    config = yaml.safe_load((REPO / "config/shared.yaml").read_text(encoding="utf-8"))
    config = {k: config[k] for k in ("run_name", "seed", "data")}
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(corpus)}}
    config["data"]["prepare"].update(valid_fraction=0.2, test_fraction=0.1, dedupe=False)
    config["encoders"] = [{"bases": ["tiny"], "strategies": []}]
    # R/base/tiny is written below (a tokenizer only), so the base_encoder rule never runs
    config["base_encoders"] = {"tiny": {"source": "path", "path": str(tmp_path / "unused")}}
    (tmp_path / "unused").mkdir()  # the config check wants every configured path to exist
    config["tagging"] = {"languages": {
        "en": {"backend": "gold", "gold": [{"format": "conllu", "path": str(tmp_path / "en.conllu")},
                                           {"format": "bio", "path": str(tmp_path / "en.bio")}]},
        "si": {"backend": "lexicon", "lexicon": {"pos": str(tmp_path / "si.pos.tsv"), "gazetteer": str(tmp_path / "si.gaz.tsv")},
               "ner": {"heldout": [{"format": "bio", "path": str(tmp_path / "si.heldout.bio")}]}}}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "results" / config["run_name"]
    _tokenizer(out / "base" / "tiny")
    targets = [str(out / "tagging/report.json"), str(out / "dictionary/tiny/si-en/stats.json")]
    _snakemake(path, *targets)

    tags = [json.loads(line) for line in (out / "tags/si-en/train.en.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = (out / "data/si-en/train.en").read_text(encoding="utf-8").splitlines()
    assert len(tags) == len(lines) > 0
    for line, record in zip(lines, tags):
        gold = EN.index(line)
        assert record["upos"] == EN_UPOS[gold] and record["ner"] == EN_NER[gold]
    si_tags = [json.loads(x) for x in (out / "tags/si-en/train.si.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any("B-LOC" in r["ner"] for r in si_tags) and any("B-MISC" not in r["ner"] for r in si_tags)

    report = json.loads((out / "tagging/report.json").read_text(encoding="utf-8"))
    # the gazetteer knows the place but not the person: P = 1, R = 1/2
    assert report["si"]["backend"] == "lexicon" and report["si"]["ner_precision"] == 1.0
    assert report["si"]["ner_recall"] == 0.5
    assert report["en"]["note"].startswith("no held-out")
    rows = list(csv.DictReader((out / "tagging/results.csv").open(encoding="utf-8")))
    assert {(r["pair"], r["metric"]) for r in rows} == {("si", "ner_precision"), ("si", "ner_recall"), ("si", "ner_f1"),
                                                        ("en", "ner_gold_found_share")}
    # en: no NER model, so the PROPN fallback's share of the gold NEs of the corpus (gold backend)
    found = next(r for r in rows if r["metric"] == "ner_gold_found_share")
    assert found["strategy"] == "fallback:propn" and 0 <= float(found["value"]) <= 1
    assert report["en"]["corpus"]["fallback:propn"]["sentences"] == 5
    assert rows[0]["task"] == "tagging"

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out / "base" / "tiny")
    entries = [json.loads(x) for x in (out / "dictionary/tiny/si-en/train.en.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(entries) == len(lines)
    for line, entry in zip(lines, entries):
        assert entry["ids"] == tokenizer(line, add_special_tokens=False)["input_ids"]
        assert {kind for *_, kind in entry["spans"]} <= {"NE", "NOUN", "VERB"}
    stats = json.loads((out / "dictionary/tiny/si-en/stats.json").read_text(encoding="utf-8"))
    assert set(stats["files"]) == {"train.si", "train.en", "valid.si", "valid.en"}
    assert stats["files"]["train.en"]["entities_per_sentence"]["NE"] > 0

    # nothing to do the second time; an edited gazetteer retrains si only
    assert "Nothing to be done" in _snakemake(path, *targets)
    (tmp_path / "si.gaz.tsv").write_text("මහනුවර\tLOC\n", encoding="utf-8")
    log = _snakemake(path, *targets)
    assert "train_tagger" in log and "lang=si" in log and "lang=en" not in log
