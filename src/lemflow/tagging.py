"""POS (UPOS) and NER tagging of corpus sentences: annotation sources, backends, evaluation.

Backends (per language, ``tagging.languages.<lang>.backend`` in config):

- ``stanza``: stanza POS and NER models trained offline with stanza's own training tools
  (:mod:`lemflow.tagger_stanza`), or official stanza models from a local directory;
- ``gold``: existing annotations (CoNLL-U for UPOS, BIO or multiNER for NER) of the corpus
  sentences, matched to prepared lines by normalised text (prepare normalises, filters,
  dedupes and splits, so line numbers cannot be used). A layer the gold files lack, and lines
  they do not cover, are tagged by the language's stanza models when it has any;
- ``lexicon``: a POS lexicon (``word<TAB>UPOS``) and a gazetteer (``entity words<TAB>TYPE``,
  longest match first).

Fallback (documented in README): when a language has no NER model and no gold NER, every
maximal run of PROPN words counts as one named entity (type ``MISC``).

A tagged sentence is ``{"words": [...], "upos": [...], "ner": [...]}`` with BIO NER tags.
"""
from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

from .conllu import read_conllu
from .errors import InputError
from .io import atomic_open, read_lines_strict
from .prepare import normalise_text
from .readers import read_bio, read_multiner

BACKENDS = ("stanza", "gold", "lexicon")
FALLBACK_TYPE = "MISC"


# --------------------------------------------------------------------------- words
def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


_SPACE = re.compile(r"\S+")


def tokenize(line: str) -> list[str]:
    """Words of a prepared line: whitespace split, then leading and trailing punctuation split
    off one character at a time (``"Colombo,"`` -> ``Colombo`` ``,``; ``"(2019)."`` ->
    ``(`` ``2019`` ``)`` ``.``). Inner punctuation stays (``10,000``, ``U.S``, ``e-mail``);
    ZWJ/ZWNJ and combining marks are not punctuation and stay inside their word.
    Concatenating the words gives back the line without its spaces.
    """
    words: list[str] = []
    for match in _SPACE.finditer(line):
        chunk = match.group()
        lead: list[str] = []
        trail: list[str] = []
        start, end = 0, len(chunk)
        while start < end and _is_punct(chunk[start]):
            lead.append(chunk[start])
            start += 1
        while end > start and _is_punct(chunk[end - 1]):
            trail.append(chunk[end - 1])
            end -= 1
        words.extend(lead)
        if start < end:
            words.append(chunk[start:end])
        words.extend(reversed(trail))
    return words


def sentence_key(text: str) -> str:
    """Matching key of a sentence: normalised like prepare, spaces removed, case folded
    (tokenisation of gold files and of prepared lines may differ in spacing only)."""
    return "".join(normalise_text(text).split()).casefold()


# --------------------------------------------------------------------------- BIO helpers
def to_bio(tags: Sequence[str]) -> list[str]:
    """BIO from BIO/BIOES/IOB1 tags (S- -> B-, E- -> I-; an I- that does not continue an
    entity of its type starts one)."""
    out: list[str] = []
    previous = "O"
    for tag in tags:
        if tag in ("O", "", "_") or tag is None:
            out.append("O")
            previous = "O"
            continue
        prefix, _, kind = tag.partition("-")
        if not kind:
            prefix, kind = "B", tag
        if prefix in ("S", "B"):
            new = f"B-{kind}"
        elif prefix in ("I", "E", "M"):
            new = f"I-{kind}" if previous != "O" and previous[2:] == kind else f"B-{kind}"
        else:
            new = f"B-{kind}"
        out.append(new)
        previous = new
    return out


def bio_entities(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entities of BIO tags as (start word, end word exclusive, type); lenient like conlleval
    (an I- without a matching predecessor starts an entity)."""
    entities: list[tuple[int, int, str]] = []
    start, kind = None, None
    for i, tag in enumerate(list(to_bio(tags)) + ["O"]):
        if tag == "O" or tag.startswith("B-"):
            if start is not None:
                entities.append((start, i, kind))
                start, kind = None, None
            if tag.startswith("B-"):
                start, kind = i, tag[2:]
    return entities


def propn_fallback(upos: Sequence[str]) -> list[str]:
    """NER tags when no NER model exists: every maximal PROPN run is one ``MISC`` entity."""
    tags: list[str] = []
    for i, tag in enumerate(upos):
        if tag == "PROPN":
            tags.append(f"I-{FALLBACK_TYPE}" if i > 0 and upos[i - 1] == "PROPN" else f"B-{FALLBACK_TYPE}")
        else:
            tags.append("O")
    return tags


# --------------------------------------------------------------------------- annotations
@dataclass
class Annotated:
    """One annotated sentence; a layer the source does not have is None."""

    words: list[str]
    upos: list[str] | None = None
    ner: list[str] | None = None


def load_source(spec: dict, lang: str) -> list[Annotated]:
    """Sentences of one annotation source ``{format: conllu|bio|multiner, path}``."""
    fmt, path = spec.get("format"), spec.get("path")
    if fmt == "conllu":
        return [Annotated(words, upos=upos) for words, upos in read_conllu(path)]
    if fmt == "bio":
        return [Annotated(words, ner=to_bio(tags)) for words, tags in read_bio(path)]
    if fmt == "multiner":
        return [Annotated(words, ner=list(tags)) for words, tags in read_multiner(path, spec.get("lang", lang))]
    raise InputError(path or "config", f"unknown annotation format {fmt!r} (expected conllu, bio or multiner)")


def load_sources(specs: Iterable[dict], lang: str) -> list[Annotated]:
    return [sentence for spec in specs for sentence in load_source(spec, lang)]


def split_off(sentences: list, fraction: float, seed: int) -> tuple[list, list]:
    """(kept, held out): a seeded random ``fraction`` of the sentences held out (at least one
    when the fraction is positive and there are two or more sentences)."""
    if fraction <= 0 or len(sentences) < 2:
        return list(sentences), []
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    n_out = min(len(sentences) - 1, max(1, round(fraction * len(sentences))))
    out = set(order[:n_out])
    kept = [s for i, s in enumerate(sentences) if i not in out]
    held = [s for i, s in enumerate(sentences) if i in out]
    return kept, held


class GoldIndex:
    """Gold annotations by sentence key; layers from several sources of one sentence merge
    (e.g. UPOS from a CoNLL-U file, NER from a BIO file of the same sentences)."""

    def __init__(self, sentences: Iterable[Annotated]):
        self.by_key: dict[str, Annotated] = {}
        for sentence in sentences:
            key = sentence_key(" ".join(sentence.words))
            found = self.by_key.get(key)
            if found is None:
                self.by_key[key] = Annotated(list(sentence.words), sentence.upos, sentence.ner)
            elif len(found.words) == len(sentence.words):
                found.upos = found.upos or sentence.upos
                found.ner = found.ner or sentence.ner

    def lookup(self, line: str) -> Annotated | None:
        return self.by_key.get(sentence_key(line))

    def __len__(self) -> int:
        return len(self.by_key)


# --------------------------------------------------------------------------- lexicon backend
def read_lexicon(path: str | Path) -> dict[str, str]:
    """``word<TAB>TAG`` lines (``#`` comments and blank lines skipped)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(read_lines_strict(path, allow_empty_file=True), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError(path, f"expected 'entry<TAB>TAG', found {line!r}", number)
        entries[normalise_text(parts[0])] = parts[1].strip()
    return entries


class Tagger(Protocol):
    has_ner: bool

    def tag(self, sentences: list[list[str]]) -> tuple[list[list[str]], list[list[str] | None]]:
        """UPOS and BIO NER (None where the tagger has no NER) of pretokenised sentences."""


class LexiconTagger:
    """UPOS by lexicon lookup (exact, then case-folded; unknown words ``X``, punctuation
    ``PUNCT``, numbers ``NUM``); NER by longest gazetteer match."""

    def __init__(self, pos: dict[str, str], gazetteer: dict[str, str]):
        self.pos = pos
        self.pos_folded = {k.casefold(): v for k, v in pos.items()}
        self.gazetteer = {tuple(k.casefold().split()): v for k, v in gazetteer.items()}
        self.max_len = max((len(k) for k in self.gazetteer), default=0)
        self.has_ner = bool(gazetteer)

    def _upos(self, word: str) -> str:
        if word in self.pos:
            return self.pos[word]
        if word.casefold() in self.pos_folded:
            return self.pos_folded[word.casefold()]
        if all(_is_punct(c) for c in word):
            return "PUNCT"
        if any(c.isdigit() for c in word) and all(c.isdigit() or _is_punct(c) for c in word):
            return "NUM"
        return "X"

    def _ner(self, words: list[str]) -> list[str]:
        folded = [w.casefold() for w in words]
        tags = ["O"] * len(words)
        i = 0
        while i < len(words):
            for n in range(min(self.max_len, len(words) - i), 0, -1):
                kind = self.gazetteer.get(tuple(folded[i:i + n]))
                if kind:
                    tags[i] = f"B-{kind}"
                    for j in range(i + 1, i + n):
                        tags[j] = f"I-{kind}"
                    i += n
                    break
            else:
                i += 1
        return tags

    def tag(self, sentences):
        upos = [[self._upos(w) for w in words] for words in sentences]
        ner = [self._ner(words) if self.has_ner else None for words in sentences]
        return upos, ner


class NullTagger:
    """No model: UPOS ``X`` everywhere, no NER (used for gold-only languages' uncovered lines)."""

    has_ner = False

    def tag(self, sentences):
        return [["X"] * len(words) for words in sentences], [None] * len(sentences)


# --------------------------------------------------------------------------- tagging
def complete(upos: list[str], ner: list[str] | None, fallback: str) -> list[str]:
    """NER tags of a sentence: the model's/gold's, else the PROPN fallback (or all O)."""
    if ner is not None:
        return to_bio(ner)
    return propn_fallback(upos) if fallback == "propn" else ["O"] * len(upos)


def tag_lines(lines: Sequence[str], tagger: Tagger, gold: GoldIndex | None = None, fallback: str = "propn",
              batch_size: int = 256, progress: bool = False) -> tuple[list[dict], dict]:
    """Tag prepared lines. Gold sentences (when given) provide words and whatever layers they
    have; the tagger fills the rest. Returns (records, counts)."""
    records: list[dict | None] = [None] * len(lines)
    todo: list[tuple[int, list[str], Annotated | None]] = []
    counts = {"sentences": len(lines), "gold_matched": 0, "fallback_ner": 0, "words": 0}
    for i, line in enumerate(lines):
        found = gold.lookup(line) if gold is not None else None
        if found is not None:
            counts["gold_matched"] += 1
            if found.upos is not None and found.ner is not None:
                records[i] = {"words": found.words, "upos": found.upos, "ner": to_bio(found.ner)}
                continue
            todo.append((i, found.words, found))
        else:
            todo.append((i, tokenize(line), None))
    iterator = range(0, len(todo), batch_size)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="tagging", unit="batch")
    for start in iterator:
        batch = todo[start:start + batch_size]
        upos_list, ner_list = tagger.tag([words for _, words, _ in batch]) if batch else ([], [])
        for (i, words, found), upos, ner in zip(batch, upos_list, ner_list):
            if found is not None and found.upos is not None:
                upos = found.upos
            if found is not None and found.ner is not None:
                ner = found.ner
            if ner is None:
                counts["fallback_ner"] += 1
            records[i] = {"words": list(words), "upos": list(upos), "ner": complete(upos, ner, fallback)}
    counts["words"] = sum(len(r["words"]) for r in records)
    return records, counts


def write_tags(path: str | Path, records: Iterable[dict]) -> None:
    with atomic_open(path) as handle:
        for record in records:
            handle.write(json.dumps({"words": record["words"], "upos": record["upos"], "ner": record["ner"]},
                                    ensure_ascii=False))
            handle.write("\n")


def read_tags(path: str | Path) -> list[dict]:
    """Tagged sentences of a tags JSONL file, validated (same lengths, BIO tags)."""
    records = []
    for number, line in enumerate(read_lines_strict(path, allow_empty_file=True), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(path, f"invalid JSON: {err.msg}", number) from None
        if not isinstance(record, dict) or not all(isinstance(record.get(k), list) for k in ("words", "upos", "ner")):
            raise InputError(path, "expected an object with lists 'words', 'upos', 'ner'", number)
        n = len(record["words"])
        if len(record["upos"]) != n or len(record["ner"]) != n:
            raise InputError(path, f"words/upos/ner lengths differ ({n}/{len(record['upos'])}/{len(record['ner'])})", number)
        for tag in record["ner"]:
            if not (tag == "O" or (len(tag) > 2 and tag[0] in "BI" and tag[1] == "-")):
                raise InputError(path, f"illegal BIO tag {tag!r}", number)
        records.append(record)
    return records


# --------------------------------------------------------------------------- evaluation
def upos_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    total = correct = 0
    for g, p in zip(gold, predicted, strict=True):
        if len(g) != len(p):
            raise ValueError("gold and predicted sentence lengths differ")
        total += len(g)
        correct += sum(a == b for a, b in zip(g, p))
    return correct / total if total else float("nan")


def ner_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Entity-level precision/recall/F1 (exact span and type, conlleval style)."""
    tp = n_gold = n_pred = 0
    for g, p in zip(gold, predicted, strict=True):
        gold_entities, pred_entities = set(bio_entities(g)), set(bio_entities(p))
        tp += len(gold_entities & pred_entities)
        n_gold += len(gold_entities)
        n_pred += len(pred_entities)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "gold_entities": n_gold,
            "predicted_entities": n_pred, "correct_entities": tp}


def evaluate_tagger(tagger: Tagger, heldout: Sequence[Annotated], fallback: str = "propn") -> dict:
    """UPOS accuracy and entity-level NER scores of a tagger on held-out gold sentences
    (tagged from their gold words). NER comes from the tagger's NER or, without one, from
    the documented fallback, whose quality is then what gets measured."""
    result: dict = {}
    pos = [s for s in heldout if s.upos is not None]
    if pos:
        predicted, _ = tagger.tag([s.words for s in pos])
        result["upos_accuracy"] = upos_accuracy([s.upos for s in pos], predicted)
        result["upos_sentences"] = len(pos)
        result["upos_words"] = sum(len(s.words) for s in pos)
    ner = [s for s in heldout if s.ner is not None]
    if ner:
        upos, predicted = tagger.tag([s.words for s in ner])
        predicted = [complete(u, p, fallback) for u, p in zip(upos, predicted)]
        scores = ner_scores([to_bio(s.ner) for s in ner], predicted)
        result.update({f"ner_{k}": v for k, v in scores.items()})
        result["ner_sentences"] = len(ner)
        result["ner_source"] = "model" if tagger.has_ner else f"fallback:{fallback}"
    return result
