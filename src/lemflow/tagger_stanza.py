"""Training stanza POS/NER models offline and loading any configured tagger backend.

Training calls stanza's own entry points (``stanza.models.tagger`` and
``stanza.models.ner_tagger``) in-process with ``--no_pretrain``: no word vectors, no
downloads. A tagger directory (``R/tagging/models/{lang}/``) holds ``backend.json`` and,
depending on the backend, ``pos.pt``/``ner.pt`` (+ an empty ``resources.json`` so that a
stanza Pipeline loads them without its model hub), ``gold.jsonl``, lexicon copies, and the
held-out annotations the tagger report scores (``heldout.jsonl``).
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from .conllu import write_training_conllu
from .errors import InputError
from .io import atomic_open, read_json, scratch_dir
from .tagging import (Annotated, GoldIndex, LexiconTagger, NullTagger, load_sources, read_lexicon, split_off,
                      to_bio)

log = logging.getLogger(__name__)

# Small networks, sized for the embedded demo on two cores; config (tagging.train.pos, tagging.train.ner) overrides them.
POS_DEFAULTS = {"max_steps": 300, "eval_interval": 100, "batch_size": 64, "hidden_dim": 64, "char_hidden_dim": 64,
                "word_emb_dim": 50, "char_emb_dim": 32, "tag_emb_dim": 16, "deep_biaff_hidden_dim": 64,
                "composite_deep_biaff_hidden_dim": 32, "transformed_dim": 64}
NER_DEFAULTS = {"max_steps": 300, "eval_interval": 100, "batch_size": 32, "hidden_dim": 64, "char_hidden_dim": 64,
                "word_emb_dim": 50, "char_emb_dim": 32}


def _options(settings: dict) -> list[str]:
    args: list[str] = []
    for key, value in sorted(settings.items()):
        if isinstance(value, bool):
            if value:
                args.append(f"--{key}")
        else:
            args += [f"--{key}", str(value)]
    return args


def _dev(train: list, fraction: float, seed: int) -> tuple[list, list]:
    """(train, dev) for stanza's model selection; tiny sets use the training set as dev."""
    kept, dev = split_off(train, fraction, seed) if len(train) >= 10 else (train, [])
    return (kept, dev) if dev else (train, train)


def train_pos(sentences: list[Annotated], out_file: Path, settings: dict, seed: int, dev_fraction: float = 0.1) -> dict:
    """Train a stanza UPOS tagger on (words, upos) sentences; returns training counts."""
    from stanza.models import tagger

    usable = [s for s in sentences if s.upos is not None]
    if not usable:
        raise ValueError("no UPOS-annotated sentences to train on")
    train, dev = _dev(usable, dev_fraction, seed)
    with scratch_dir(out_file) as tmp:  # beside the model (not /tmp): a killed run's is removed by the next
        write_training_conllu([(s.words, s.upos) for s in train], tmp / "train.conllu")
        write_training_conllu([(s.words, s.upos) for s in dev], tmp / "dev.conllu")
        options = {**POS_DEFAULTS, **settings}
        tagger.main(["--mode", "train", "--train_file", str(tmp / "train.conllu"), "--eval_file", str(tmp / "dev.conllu"),
                     "--output_file", str(tmp / "pred.conllu"), "--lang", "xx", "--shorthand", "xx_lemflow",
                     "--no_pretrain", "--fix_eval_interval", "--save_dir", str(tmp), "--save_name", "pos.pt",
                     "--seed", str(seed), *_options(options)])
        if not (tmp / "pos.pt").exists():
            raise RuntimeError("stanza's tagger saved no model")
        shutil.move(str(tmp / "pos.pt"), out_file)
    return {"train_sentences": len(train), "dev_sentences": len(dev)}


def train_ner(sentences: list[Annotated], out_file: Path, settings: dict, seed: int, dev_fraction: float = 0.1) -> dict:
    """Train a stanza NER tagger on (words, BIO) sentences; returns training counts."""
    from stanza.models import ner_tagger

    usable = [s for s in sentences if s.ner is not None]
    if not usable:
        raise ValueError("no NER-annotated sentences to train on")
    train, dev = _dev(usable, dev_fraction, seed)

    def as_json(items):
        return [[{"text": w, "ner": t} for w, t in zip(s.words, to_bio(s.ner))] for s in items]

    with scratch_dir(out_file) as tmp:
        (tmp / "train.json").write_text(json.dumps(as_json(train), ensure_ascii=False), encoding="utf-8")
        (tmp / "dev.json").write_text(json.dumps(as_json(dev), ensure_ascii=False), encoding="utf-8")
        options = {**NER_DEFAULTS, **settings}
        ner_tagger.main(["--mode", "train", "--train_file", str(tmp / "train.json"), "--eval_file", str(tmp / "dev.json"),
                         "--shorthand", "xx_lemflow", "--no_pretrain", "--scheme", "bio", "--save_dir", str(tmp),
                         "--save_name", "ner.pt", "--seed", str(seed), *_options(options)])
        if not (tmp / "ner.pt").exists():
            raise RuntimeError("stanza's NER tagger saved no model")
        shutil.move(str(tmp / "ner.pt"), out_file)
    return {"train_sentences": len(train), "dev_sentences": len(dev)}


# --------------------------------------------------------------------------- model directory
def _write_jsonl(path: Path, sentences: list[Annotated]) -> None:
    with atomic_open(path) as handle:
        for s in sentences:
            handle.write(json.dumps({"words": s.words, "upos": s.upos, "ner": s.ner}, ensure_ascii=False) + "\n")


def read_annotated(path: Path) -> list[Annotated]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                d = json.loads(line)
                out.append(Annotated(d["words"], d.get("upos"), d.get("ner")))
    return out


def build_tagger_dir(lang: str, spec: dict, settings: dict, seed: int, out_dir: Path) -> dict:
    """Everything the tag and report rules need for one language, in ``out_dir``.

    ``spec`` is ``tagging.languages.<lang>``; ``settings`` holds ``train`` (``pos``/``ner``
    stanza options, ``dev_fraction``). Annotation files are read (and validated) first, so a
    bad file stops the run before any training.
    """
    backend = spec.get("backend", "stanza")
    out_dir.mkdir(parents=True, exist_ok=True)
    info: dict = {"lang": lang, "backend": backend, "pos_model": None, "ner_model": None, "stanza_dir": None,
                  "lexicon": None, "gold": False, "training": {}}
    layers = {}
    for layer in ("pos", "ner"):
        cfg = spec.get(layer) or {}
        train = load_sources(cfg.get("train", []), lang)
        heldout = load_sources(cfg.get("heldout", []), lang)
        if not heldout and cfg.get("heldout_fraction", 0) > 0:
            train, heldout = split_off(train, cfg["heldout_fraction"], seed)
        layers[layer] = (train, heldout)
    gold = load_sources(spec.get("gold", []), lang) if backend == "gold" else []
    if backend == "gold" and not gold:
        raise InputError("config", f"tagging.languages.{lang}: backend 'gold' needs 'gold' annotation sources")
    pos_lex = read_lexicon(spec["lexicon"]["pos"]) if backend == "lexicon" else {}
    gazetteer = read_lexicon(spec["lexicon"]["gazetteer"]) if backend == "lexicon" and spec["lexicon"].get("gazetteer") else {}

    train_settings = settings.get("train", {})
    dev_fraction = float(train_settings.get("dev_fraction", 0.1))
    if backend == "stanza" and spec.get("stanza_dir"):
        info["stanza_dir"] = str(Path(spec["stanza_dir"]).resolve())
    elif backend in ("stanza", "gold"):
        pos_train, ner_train = layers["pos"][0], layers["ner"][0]
        if pos_train:
            info["training"]["pos"] = train_pos(pos_train, out_dir / "pos.pt", train_settings.get("pos", {}), seed, dev_fraction)
            info["pos_model"] = "pos.pt"
        if ner_train:
            info["training"]["ner"] = train_ner(ner_train, out_dir / "ner.pt", train_settings.get("ner", {}), seed, dev_fraction)
            info["ner_model"] = "ner.pt"
        if backend == "stanza" and not pos_train:
            raise InputError("config", f"tagging.languages.{lang}: backend 'stanza' needs pos.train sources or a stanza_dir")
        (out_dir / "resources.json").write_text("{}\n", encoding="utf-8")
    if backend == "gold":
        _write_jsonl(out_dir / "gold.jsonl", gold)
        info["gold"] = True
        info["gold_sentences"] = len(gold)
    if backend == "lexicon":
        (out_dir / "pos_lexicon.json").write_text(json.dumps(pos_lex, ensure_ascii=False), encoding="utf-8")
        (out_dir / "gazetteer.json").write_text(json.dumps(gazetteer, ensure_ascii=False), encoding="utf-8")
        info["lexicon"] = {"pos_entries": len(pos_lex), "gazetteer_entries": len(gazetteer)}
    heldout = [s for layer in ("pos", "ner") for s in layers[layer][1]]
    _write_jsonl(out_dir / "heldout.jsonl", heldout)
    info["heldout"] = {layer: len(layers[layer][1]) for layer in layers}
    info["fallback"] = spec.get("ner_fallback", settings.get("ner_fallback", "propn"))
    with atomic_open(out_dir / "backend.json") as handle:
        json.dump(info, handle, indent=2, ensure_ascii=False)
    return info


class StanzaTagger:
    """A stanza Pipeline over pretokenised sentences (pos and, when present, ner)."""

    def __init__(self, lang: str, model_dir: str | Path, pos_model: str | None, ner_model: str | None,
                 official: bool = False, batch_size: int = 256):
        import stanza

        model_dir = Path(model_dir)
        kwargs = dict(tokenize_pretokenized=True, download_method=None, dir=str(model_dir), logging_level="WARN",
                      pos_batch_size=batch_size, ner_batch_size=batch_size)
        if official:
            try:
                self.nlp = stanza.Pipeline(lang, processors="tokenize,pos,ner", **kwargs)
            except Exception:  # noqa: BLE001  -- stanza has no NER for many languages
                self.nlp = stanza.Pipeline(lang, processors="tokenize,pos", **kwargs)
        else:
            processors = "tokenize" + (",pos" if pos_model else "") + (",ner" if ner_model else "")
            extra = {}
            if pos_model:
                extra.update(pos_model_path=str(model_dir / pos_model), pos_pretrain_path=None)
            if ner_model:
                extra.update(ner_model_path=str(model_dir / ner_model), ner_pretrain_path=None)
            self.nlp = stanza.Pipeline(lang, processors=processors, allow_unknown_language=True, **kwargs, **extra)
        self.has_ner = "ner" in self.nlp.processors
        self.has_pos = "pos" in self.nlp.processors

    def tag(self, sentences):
        if not sentences:
            return [], []
        # stanza refuses empty sentences; tag them as empty.
        nonempty = [i for i, words in enumerate(sentences) if words]
        upos: list = [[] for _ in sentences]
        ner: list = [[] if self.has_ner else None for _ in sentences]
        if nonempty:
            doc = self.nlp([sentences[i] for i in nonempty])
            for i, sentence in zip(nonempty, doc.sentences):
                upos[i] = [w.upos or "X" for w in sentence.words]
                if self.has_ner:
                    ner[i] = to_bio([t.ner or "O" for t in sentence.tokens])
        return upos, ner


def load_gold_index(model_dir: str | Path) -> GoldIndex | None:
    """The gold annotations of a tagger directory (backend gold), or None."""
    model_dir = Path(model_dir)
    info = read_json(model_dir / "backend.json")
    return GoldIndex(read_annotated(model_dir / "gold.jsonl")) if info.get("gold") else None


def load_tagger(model_dir: str | Path, lang: str):
    """(tagger, gold index or None, NER fallback) of a tagger directory."""
    model_dir = Path(model_dir)
    info = read_json(model_dir / "backend.json")
    gold = load_gold_index(model_dir)
    if info.get("stanza_dir"):
        tagger = StanzaTagger(lang, info["stanza_dir"], None, None, official=True)
    elif info.get("pos_model") or info.get("ner_model"):
        tagger = StanzaTagger(lang, model_dir, info["pos_model"], info.get("ner_model"))
    elif info["backend"] == "lexicon":
        tagger = LexiconTagger(read_json(model_dir / "pos_lexicon.json"), read_json(model_dir / "gazetteer.json"))
    else:
        tagger = NullTagger()
    return tagger, gold, info.get("fallback", "propn")
