"""The entity dictionary: for every sentence, the sub-word spans of its linguistic entities.

A tagged sentence (words, UPOS, BIO NER; :mod:`lemflow.tagging`) gives word spans of type
NE (every BIO entity), NOUN (UPOS NOUN, and PROPN outside an NE) and VERB (UPOS VERB, plus
AUX when configured). Words are located in the prepared line by their characters (spaces
ignored), and character spans are mapped to sub-word positions through the tokenizer's
offset mapping, so the mapping is exact whatever the tokenizer does to the text (SentencePiece
``▁``, Sinhala ZWJ, Tamil combining marks, digits and punctuation split into single pieces).

A piece that is only the word-boundary marker ``▁`` (SentencePiece emits it on its own before
many Sinhala/Tamil words and digits) carries no content of the word: it is not part of any
entity span, so LEM never spends an entity's masked sub-word on it.

``ids`` of a record are exactly ``tokenizer(line, add_special_tokens=False)["input_ids"]``.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from .entities import ENTITY_TYPES
from .prepare import normalise_text
from .tagging import bio_entities

BOUNDARY = "\u2581"


def word_char_spans(line: str, words: Sequence[str]) -> list[tuple[int, int] | None]:
    """Character span ``[start, end)`` of each word in ``line`` (None when a word cannot be
    found: e.g. a gold token that prepare normalised differently).

    Words are matched on the line's non-space characters in order, so spacing differences
    between the tagger's words and the line do not matter.
    """
    positions = [i for i, ch in enumerate(line) if not ch.isspace()]
    compact = "".join(line[i] for i in positions)
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for word in words:
        found = None
        for candidate in dict.fromkeys(("".join(word.split()), "".join(normalise_text(word).split()))):
            if not candidate:
                continue
            if compact.startswith(candidate, cursor):
                found = cursor
            else:
                at = compact.find(candidate, cursor)
                # only a short skip (a character dropped from a gold token), never a far jump
                found = at if 0 <= at <= cursor + 2 else None
            if found is not None:
                spans.append((positions[found], positions[found + len(candidate) - 1] + 1))
                cursor = found + len(candidate)
                break
        if found is None:
            spans.append(None)
    return spans


def word_spans(record: dict, verb_aux: bool = False) -> list[tuple[int, int, str]]:
    """Entity word spans ``(start word, end word exclusive, type)`` of a tagged sentence."""
    spans: list[tuple[int, int, str]] = []
    inside_ne = [False] * len(record["words"])
    for start, end, _kind in bio_entities(record["ner"]):
        spans.append((start, end, "NE"))
        for i in range(start, end):
            inside_ne[i] = True
    verbs = {"VERB", "AUX"} if verb_aux else {"VERB"}
    for i, tag in enumerate(record["upos"]):
        if tag == "NOUN" or (tag == "PROPN" and not inside_ne[i]):
            spans.append((i, i + 1, "NOUN"))
        elif tag in verbs:
            spans.append((i, i + 1, "VERB"))
    return spans


def char_to_token(offsets: Sequence[tuple[int, int]], pieces: Sequence[str], length: int) -> list[int]:
    """Index of the sub-word covering each character (-1: none, e.g. a space); lone ``▁``
    pieces are skipped so that a character belongs to the piece that carries it."""
    owner = [-1] * length
    for index, ((start, end), piece) in enumerate(zip(offsets, pieces)):
        if end <= start or not piece.replace(BOUNDARY, ""):
            continue
        for c in range(start, min(end, length)):
            if owner[c] == -1:
                owner[c] = index
    return owner


def piece_offsets(line: str, pieces: Sequence[str]) -> list[tuple[int, int]]:
    """Offsets for tokenizers without an offset mapping (slow SentencePiece/WordPiece):
    walk the pieces along the line. A piece that does not occur where expected (``<unk>``,
    normalised characters) spans the text up to the next piece's match."""
    offsets: list[tuple[int, int]] = []
    cursor = 0
    texts = [p.replace(BOUNDARY, "").removeprefix("##") for p in pieces]
    for index, text in enumerate(texts):
        while cursor < len(line) and line[cursor].isspace():
            cursor += 1
        if text and line.startswith(text, cursor):
            offsets.append((cursor, cursor + len(text)))
            cursor += len(text)
            continue
        if not text:
            offsets.append((cursor, cursor))
            continue
        nxt = next((t for t in texts[index + 1:] if t), None)
        end = line.find(nxt, cursor + 1) if nxt else len(line)
        end = len(line) if end < 0 else end
        while end > cursor and line[end - 1].isspace():
            end -= 1
        offsets.append((cursor, max(end, cursor + 1)))
        cursor = max(end, cursor + 1)
    return offsets


def encode(tokenizer, line: str, use_offsets: bool = True) -> tuple[list[int], list[tuple[int, int]], list[str]]:
    """(ids, offsets, pieces) of a line, ids exactly as training tokenises it. Offsets come from
    the fast tokenizer's offset mapping, else (or with ``use_offsets=False``) from a piece-wise
    alignment of the pieces to the line."""
    if use_offsets and getattr(tokenizer, "is_fast", False):
        enc = tokenizer(line, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
        pieces = tokenizer.convert_ids_to_tokens(ids)
    else:
        ids = list(tokenizer(line, add_special_tokens=False)["input_ids"])
        pieces = tokenizer.convert_ids_to_tokens(ids)
        offsets = piece_offsets(line, pieces)
    return ids, offsets, pieces


def sentence_entry(tokenizer, line: str, record: dict, verb_aux: bool = False,
                   use_offsets: bool = True) -> tuple[dict, int]:
    """Dictionary record ``{"ids", "spans"}`` of one line, and the number of its words that
    could not be located in the line."""
    ids, offsets, pieces = encode(tokenizer, line, use_offsets)
    owner = char_to_token(offsets, pieces, len(line))
    chars = word_char_spans(line, record["words"])
    spans: list[list] = []
    for start, end, kind in word_spans(record, verb_aux):
        located = [chars[i] for i in range(start, end) if chars[i] is not None]
        if not located:
            continue
        tokens = [owner[c] for a, b in located for c in range(a, b) if owner[c] >= 0]
        if tokens:
            span = [min(tokens), max(tokens) + 1, kind]
            if span not in spans:
                spans.append(span)
    spans.sort(key=lambda s: (s[0], s[1], ENTITY_TYPES.index(s[2])))
    return {"ids": ids, "spans": spans}, sum(c is None for c in chars)


def build_dictionary(tokenizer, lines: Sequence[str], records: Sequence[dict], verb_aux: bool = False,
                     source: str = "", progress: bool = False, use_offsets: bool = True) -> tuple[list[dict], dict]:
    """Dictionary records of aligned (line, tagged sentence) pairs, and their statistics."""
    if len(lines) != len(records):
        from .errors import InputError

        raise InputError(source or "tags", f"{len(records)} tagged sentences for {len(lines)} lines")
    iterator: Iterable = zip(lines, records)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(lines), desc="dictionary", unit="sent")
    entries, unaligned = [], 0
    for line, record in iterator:
        entry, missing = sentence_entry(tokenizer, line, record, verb_aux, use_offsets)
        entries.append(entry)
        unaligned += missing
    stats = dictionary_stats(entries)
    stats["unaligned_words"] = unaligned
    stats["words"] = sum(len(r["words"]) for r in records)
    return entries, stats


def dictionary_stats(entries: Sequence[dict]) -> dict:
    """Entities per sentence and share of sub-word tokens inside each type (and any type)."""
    n = len(entries)
    tokens = sum(len(e["ids"]) for e in entries)
    counts: Counter = Counter()
    inside: Counter = Counter()
    inside_any = 0
    empty = 0
    for entry in entries:
        covered = {kind: set() for kind in ENTITY_TYPES}
        for start, end, kind in entry["spans"]:
            counts[kind] += 1
            covered[kind].update(range(start, end))
        for kind in ENTITY_TYPES:
            inside[kind] += len(covered[kind])
        inside_any += len(set().union(*covered.values()))
        empty += not entry["spans"]
    return {
        "sentences": n,
        "tokens": tokens,
        "entities_per_sentence": {k: (counts[k] / n if n else 0.0) for k in ENTITY_TYPES},
        "token_share": {k: (inside[k] / tokens if tokens else 0.0) for k in ENTITY_TYPES},
        "token_share_any": inside_any / tokens if tokens else 0.0,
        "sentences_without_entities": empty,
    }
