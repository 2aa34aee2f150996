"""The transformer tagger backends (lemflow.tagger_transformer) on a tiny scratch encoder: labels
(BIO NER and UPOS schemes), first-sub-word encoding with whole-word chunks, training with early
stopping on dev entity F1 / dev accuracy, tagging, and the rules (train_ner_transformer and
train_pos_transformer -> tag -> tagger report) through Snakemake."""
import csv
import json
import random

import pytest
import yaml

from lemflow import tagger_transformer as tt
from lemflow.tagging import Annotated, bio_entities

from conftest import REPO, run_snakemake  # noqa: E402
NAMES = ["Kamal", "Nimal", "Saman", "Ravi", "Sunil", "Anura"]
PLACES = ["Kandy", "Galle", "Colombo", "Jaffna", "Matara", "Badulla"]
VERBS = ["lives", "works", "sleeps", "waits"]
UPOS_OF = {"in": "ADP", "In": "ADP", ",": "PUNCT", ".": "PUNCT", "Perera": "PROPN",
           **{w: "PROPN" for w in NAMES + PLACES}, **{w: "VERB" for w in VERBS}}


def sentences(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name, place, verb = rng.choice(NAMES), rng.choice(PLACES), rng.choice(VERBS)
        if rng.random() < 0.5:
            out.append(Annotated([name, verb, "in", place, "."], ner=["B-PER", "O", "O", "B-LOC", "O"]))
        else:
            out.append(Annotated(["In", place, ",", name, "Perera", verb, "."],
                                 ner=["O", "B-LOC", "O", "B-PER", "I-PER", "O", "O"]))
    return out


def pos_sentences(n, seed):
    return [Annotated(s.words, upos=[UPOS_OF[w] for w in s.words]) for s in sentences(n, seed)]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    from lemflow.base_encoder import build_scratch

    out = tmp_path_factory.mktemp("tiny") / "base"
    texts = [" ".join(s.words) for s in sentences(200, 1)]
    build_scratch(texts, {"tokenizer": {"vocab_size": 80},
                          "model": {"layers": 1, "hidden": 32, "heads": 2, "intermediate": 64, "max_length": 32}}, 0, out)
    return out


def test_labels_and_chunks():
    assert tt.LABELS[0] == "O" and len(tt.LABELS) == 9
    ids = tt.label_ids(["B-PER", "I-PER", "O", "S-LOC", "B-DATE", "I-ORG"])
    assert tt.tags_of(ids) == ["B-PER", "I-PER", "O", "B-LOC", "B-MISC", "B-ORG"]
    assert tt.chunk_words([2, 2, 2, 5, 1], 4) == [(0, 2), (2, 3), (3, 4), (4, 5)]
    assert tt.chunk_words([], 4) == [(0, 0)]


def test_label_schemes():
    assert tt.SCHEMES == {"ner": tt.NER, "upos": tt.UPOS}
    assert tt.NER.labels == tt.LABELS and tt.NER.info_file == "ner.json" and tt.NER.metric == "f1"
    assert tt.NER.ids(["B-PER", "S-LOC", "B-DATE"]) == tt.label_ids(["B-PER", "S-LOC", "B-DATE"])
    assert tt.NER.tags(tt.NER.ids(["I-PER", "O"])) == ["B-PER", "O"]
    assert len(tt.UPOS.labels) == 17 and tt.UPOS.info_file == "pos.json" and tt.UPOS.metric == "accuracy"
    ids = tt.UPOS.ids(["NOUN", "VERB", "NOT-A-TAG"])
    assert tt.UPOS.tags(ids) == ["NOUN", "VERB", "X"] and tt.UPOS.labels[tt.UPOS.default] == "X"
    assert tt.NER.labels[tt.NER.default] == "O"
    assert tt.UPOS.score([["NOUN", "VERB"], ["X"]], [["NOUN", "NOUN"], ["X"]]) == {"accuracy": 2 / 3, "words": 3}
    assert tt.UPOS.gold(Annotated(["a"], upos=["DET"])) == ["DET"] and tt.NER.gold(Annotated(["a"], ner=["S-PER"])) == ["B-PER"]


def test_encode_first_subword_and_chunks(tiny_base):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_base))
    words = ["Kamal", "Pereraxyz", "lives", "in", "Kandy", "."]
    tags = ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    whole = tt.encode(tokenizer, [words], [tags], max_length=64)
    assert len(whole) == 1
    example = whole[0]
    assert example["input_ids"][0] == tokenizer.cls_token_id and example["input_ids"][-1] == tokenizer.sep_token_id
    labelled = [(i, l) for i, l in enumerate(example["labels"]) if l != tt.IGNORE]
    assert [i for i, _ in labelled] == example["first"]          # one label per word, on its first piece
    assert tt.tags_of([l for _, l in labelled]) == tags
    pieces = tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    assert example["input_ids"][1:-1] == pieces
    # a short max_length cuts the sentence into chunks of whole words, none lost
    chunks = tt.encode(tokenizer, [words], [tags], max_length=6)
    assert len(chunks) > 1 and all(len(c["input_ids"]) <= 6 for c in chunks)
    covered = [c["word_offset"] + w for c in chunks for w in range(len(c["first"]))]
    assert covered == list(range(len(words)))
    assert sum(l != tt.IGNORE for c in chunks for l in c["labels"]) == len(words)


def test_length_batches_cover_every_example_once():
    import torch

    lengths = [5, 1, 9, 3, 7, 2, 8]
    batches = tt.length_batches(lengths, 3, torch.Generator().manual_seed(0), bucket=2)
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert tt.length_batches(lengths, 3) == [[1, 5, 3], [0, 4, 6], [2]]


def test_train_tag_and_select_by_dev_f1(tiny_base, tmp_path):
    data = {"en": {"train": sentences(48, 2), "dev": sentences(12, 3)}}
    settings = {"epochs": 8, "batch_size": 4, "learning_rate": 3e-3, "head_learning_rate": 1e-2, "max_length": 16,
                "patience": 8, "precision": "fp32", "device": "cpu", "eval_every": 12}
    info = tt.train(tiny_base, data, settings, 5, tmp_path / "ner", progress=False)
    history = info["history"]
    assert info["dev_f1"] == max(h["dev_f1"] for h in history) > 0.8
    assert info["best_step"] in [h["step"] for h in history]
    assert json.loads((tmp_path / "ner" / "ner.json").read_text())["languages"] == ["en"]
    tagger = tt.TransformerNER(tmp_path / "ner")
    test = sentences(20, 4)
    predicted = tagger.ner([s.words for s in test] + [[]])
    assert predicted[-1] == [] and [len(p) for p in predicted[:-1]] == [len(s.words) for s in test]
    found = sum(len(set(bio_entities(p)) & set(bio_entities(s.ner))) for p, s in zip(predicted, test))
    assert found / sum(len(bio_entities(s.ner)) for s in test) > 0.8
    upos, ner = tt.WithNER(_Pos(), tagger).tag([test[0].words])
    assert upos == [["NOUN"] * len(test[0].words)] and ner == [predicted[0]]
    # seeded: the same run gives the same model
    again = tt.train(tiny_base, data, settings, 5, tmp_path / "ner2", progress=False)
    assert [h["dev_f1"] for h in again["history"]] == [h["dev_f1"] for h in history]


def test_train_upos_tag_and_select_by_dev_accuracy(tiny_base, tmp_path):
    """The same classifier with the UPOS scheme: pos.json, dev accuracy, TransformerPOS, and
    WithNER putting another tagger's NEs beside its UPOS."""
    data = {"en": {"train": pos_sentences(48, 2), "dev": pos_sentences(12, 3)}}
    settings = {"epochs": 6, "batch_size": 4, "learning_rate": 3e-3, "head_learning_rate": 1e-2, "max_length": 16,
                "patience": 6, "precision": "fp32", "device": "cpu", "eval_every": 12}
    info = tt.train(tiny_base, data, settings, 5, tmp_path / "pos", progress=False, scheme=tt.UPOS)
    assert info["scheme"] == "upos" and info["labels"] == list(tt.UPOS_TAGS)
    assert info["dev_accuracy"] == max(h["dev_accuracy"] for h in info["history"]) > 0.9
    assert info["train_cpu_seconds"] > 0
    assert (tmp_path / "pos" / "pos.json").exists() and not (tmp_path / "pos" / "ner.json").exists()
    tagger = tt.TransformerPOS(tmp_path / "pos")
    assert tagger.scheme is tt.UPOS and not tagger.has_ner
    test = pos_sentences(20, 4)
    upos, ner = tagger.tag([s.words for s in test] + [[]])
    assert upos[-1] == [] and ner == [None] * 21
    right = sum(p == g for u, s in zip(upos, test) for p, g in zip(u, s.upos))
    assert right / sum(len(s.words) for s in test) > 0.9
    combined = tt.WithNER(tagger, _Ner())
    assert combined.has_ner and combined.tag([test[0].words]) == ([upos[0]], [["O"] * len(test[0].words)])


class _Ner:
    has_ner = True

    def tag(self, sentences):
        return [["X"] * len(words) for words in sentences], [["O"] * len(words) for words in sentences]


def test_cached_frozen_layers_match_the_full_model(tiny_base, tmp_path):
    """train_layers: the top layers from cached lower hidden states give the full model's logits."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from lemflow.base_encoder import build_scratch

    build_scratch([" ".join(s.words) for s in sentences(50, 1)],
                  {"tokenizer": {"vocab_size": 80}, "model": {"layers": 3, "hidden": 32, "heads": 2, "intermediate": 64,
                                                              "max_length": 32}}, 0, tmp_path / "deep")
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path / "deep"))
    model = AutoModelForTokenClassification.from_pretrained(str(tmp_path / "deep"), num_labels=len(tt.LABELS)).eval()
    examples = tt.encode(tokenizer, [s.words for s in sentences(6, 9)], None, 32)
    top = tt.TopLayers(model, 2)
    cache = tt.cache_lower(top, examples, tokenizer.pad_token_id, 4, torch.device("cpu"), "fp32")
    hidden, mask = tt.pad_hidden(cache)
    inputs = tt.collate(examples, tokenizer.pad_token_id)
    with torch.no_grad():
        full = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
        cached = top.logits(hidden, mask)
    real = inputs["attention_mask"].bool()
    assert torch.allclose(full[real], cached[real], atol=1e-5)
    # training with train_layers: only the top layer and the head change
    data = {"en": {"train": sentences(24, 2), "dev": sentences(8, 3)}}
    info = tt.train(tmp_path / "deep", data, {"epochs": 2, "batch_size": 8, "train_layers": 1, "precision": "fp32",
                                              "device": "cpu"}, 1, tmp_path / "ner", progress=False)
    assert abs(info["dev"]["en"]["f1_full_forward"] - info["dev"]["en"]["f1"]) < 1e-9
    trained = AutoModelForTokenClassification.from_pretrained(str(tmp_path / "ner" / "model"))
    before, after = model.state_dict(), trained.state_dict()
    layer = "base_model.encoder.layer" if any(k.startswith("base_model") for k in after) else "roberta.encoder.layer"
    changed = {k for k in after if k in before and not torch.equal(before[k], after[k])}
    assert changed and all(".layer.2." in k or k.startswith("classifier") for k in changed), (layer, sorted(changed)[:5])


class _Pos:
    has_ner = False

    def tag(self, sentences):
        return [["NOUN"] * len(words) for words in sentences], [None] * len(sentences)


def test_split_ner_data_holds_out_like_stanza(tmp_path):
    from lemflow.tagging import load_sources, split_off

    path = tmp_path / "en.bio"
    path.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.ner)) for s in sentences(40, 7)) + "\n",
                    encoding="utf-8")
    spec = {"ner": {"train": [{"format": "bio", "path": str(path)}], "heldout_fraction": 0.1}}
    parts = tt.split_ner_data(spec, "en", 13, 0.1)
    _, heldout = split_off(load_sources(spec["ner"]["train"], "en"), 0.1, 13)   # what build_tagger_dir holds out
    assert [s.words for s in parts["heldout"]] == [s.words for s in heldout]
    assert (len(parts["train"]), len(parts["dev"]), len(parts["heldout"])) == (32, 4, 4)


def test_split_pos_data_holds_out_like_stanza(tmp_path):
    """The pos layer: the held-out UD sentences are build_tagger_dir's, the dev set stanza's."""
    from lemflow.conllu import write_training_conllu
    from lemflow.tagger_stanza import _dev
    from lemflow.tagging import load_sources, split_off

    path = tmp_path / "en.conllu"
    write_training_conllu([(s.words, s.upos) for s in pos_sentences(40, 7)], path)
    spec = {"pos": {"train": [{"format": "conllu", "path": str(path)}], "heldout_fraction": 0.2}}
    parts = tt.split_data(spec, "en", 13, 0.1, "pos")
    kept, heldout = split_off(load_sources(spec["pos"]["train"], "en"), 0.2, 13)
    train, dev = _dev(kept, 0.1, 13)
    for ours, theirs in ((parts["heldout"], heldout), (parts["train"], train), (parts["dev"], dev)):
        assert [s.words for s in ours] == [s.words for s in theirs]
    assert (len(parts["train"]), len(parts["dev"]), len(parts["heldout"])) == (29, 3, 8)
    assert all(s.upos is not None for part in parts.values() for s in part)
    with pytest.raises(ValueError, match="ner"):
        tt.split_data(spec, "en", 13, 0.1, "ner")


def test_transformer_backend_through_the_rules(tiny_base, tmp_path):
    """train_ner_transformer + train_pos_transformer -> tag (NEs, and en's UPOS, from the transformers)
    -> tagger report with both backends of each layer."""
    import shutil

    from lemflow.conllu import write_training_conllu

    rows = sentences(40, 11)
    corpus = tmp_path / "corpus"
    for lang in ("en", "si"):
        (tmp_path / f"corpus.{lang}").write_text("\n".join(" ".join(s.words) for s in rows) + "\n", encoding="utf-8")
        (tmp_path / f"{lang}.bio").write_text(
            "\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.ner)) for s in rows) + "\n", encoding="utf-8")
    (tmp_path / "pos.tsv").write_text("".join(f"{w}\tPROPN\n" for w in NAMES + PLACES), encoding="utf-8")
    write_training_conllu([(s.words, s.upos) for s in pos_sentences(60, 12)], tmp_path / "en.conllu")
    config = yaml.safe_load((REPO / "config/shared.yaml").read_text(encoding="utf-8"))
    config = {k: config[k] for k in ("run_name", "seed", "data")}
    config["results_dir"] = str(tmp_path / "results")
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": str(corpus)}}
    config["data"]["prepare"].update(valid_fraction=0.1, test_fraction=0.1, dedupe=False, min_script_share=0)  # synthetic Latin "si"
    config["encoders"] = [{"bases": ["tiny"], "strategies": []}]
    config["base_encoders"] = {"tiny": {"source": "path", "path": str(tiny_base)}}
    language = {"backend": "lexicon", "lexicon": {"pos": str(tmp_path / "pos.tsv")}, "ner_backend": "transformer",
                "ner": {"train": [{"format": "bio", "path": "X"}], "heldout_fraction": 0.2}}
    config["tagging"] = {
        "transformer": {"base": "tiny", "epochs": 10, "batch_size": 4, "learning_rate": 3e-3, "head_learning_rate": 1e-2,
                        "max_length": 16, "precision": "fp32", "device": "cpu"},
        "languages": {lang: {**language, "ner": {**language["ner"], "train": [{"format": "bio", "path": str(tmp_path / f"{lang}.bio")}]}}
                      for lang in ("en", "si")}}
    config["tagging"]["languages"]["si"]["ner_backend"] = "stanza"      # si: the lexicon's (no) NER, fallback
    # en: UPOS from a transformer POS tagger trained on UD-style annotations (20% held out)
    config["tagging"]["transformer_pos"] = config["tagging"]["transformer"]
    config["tagging"]["languages"]["en"].update(
        pos_backend="transformer", pos={"train": [{"format": "conllu", "path": str(tmp_path / "en.conllu")}],
                                        "heldout_fraction": 0.2})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "results" / config["run_name"]
    shutil.copytree(tiny_base, out / "base" / "tiny")
    run_snakemake("--configfile", path, "-c1", out / "tagging/ner_backends.csv", out / "tags/si-en/train.en.jsonl",
                  out / "tags/si-en/train.si.jsonl", timeout=300)
    assert (out / "tagging/transformer/joint/ner.json").exists()
    assert json.loads((out / "tagging/transformer_pos/joint/pos.json").read_text())["languages"] == ["en"]
    tags = [json.loads(x) for x in (out / "tags/si-en/train.en.jsonl").read_text(encoding="utf-8").splitlines()]
    # the transformer's NEs (PER/LOC), not the fallback's PROPN runs (MISC)
    assert sum("B-PER" in t["ner"] or "B-LOC" in t["ner"] for t in tags) > len(tags) / 2
    # en's UPOS from the transformer POS tagger (the lexicon knows only names and places: never VERB)
    assert sum("VERB" in t["upos"] for t in tags) > len(tags) / 2
    si_tags = [json.loads(x) for x in (out / "tags/si-en/train.si.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all("VERB" not in t["upos"] for t in si_tags)   # si: still the lexicon's
    pos_table = {r["pos_backend"]: r for r in csv.DictReader((out / "tagging/pos_backends.csv").open(encoding="utf-8"))}
    assert set(pos_table) == {"lexicon", "transformer"} and {r["language"] for r in pos_table.values()} == {"en"}
    assert pos_table["transformer"]["used_for_tags"] == "True" and pos_table["transformer"]["heldout_sentences"] == "12"
    assert float(pos_table["transformer"]["upos_accuracy"]) > float(pos_table["lexicon"]["upos_accuracy"])
    table = list(csv.DictReader((out / "tagging/ner_backends.csv").open(encoding="utf-8")))
    backends = {(r["language"], r["ner_backend"]): r for r in table}
    assert set(backends) == {("en", "fallback:propn"), ("en", "transformer"), ("si", "fallback:propn")}
    assert backends[("en", "transformer")]["used_for_tags"] == "True"
    assert float(backends[("en", "transformer")]["heldout_f1"]) > float(backends[("en", "fallback:propn")]["heldout_f1"])
    report = json.loads((out / "tagging/report.json").read_text(encoding="utf-8"))
    assert report["en"]["ner_backend"] == "transformer" and report["si"]["ner_backend"] == "fallback:propn"
    assert report["en"]["pos_backend"] == "transformer"
    assert report["en"]["upos_accuracy"] == report["en"]["pos"]["transformer"] > report["en"]["pos"]["lexicon"]
