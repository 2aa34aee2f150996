"""Two NE sources from one tagging pass: the tagger's NEs and the gold NE annotations.

The `lem_gold` strategy (tagger quality question) masks with gold NEs where `lem_ne` masks with
the trained tagger's; both read tags made by the same tagging pass, so that UPOS (and therefore
NOUN/VERB entities) are identical and only the NE layer differs.
"""
from __future__ import annotations

from .tagging import Annotated, GoldIndex, to_bio


def without_gold_ner(gold: GoldIndex) -> GoldIndex:
    """The gold index keeping words (and gold UPOS) but not gold NER: the tagger's NEs are used."""
    return GoldIndex(Annotated(list(a.words), a.upos, None) for a in gold.by_key.values())


def with_gold_ner(records: list[dict], lines: list[str], gold: GoldIndex) -> tuple[list[dict], int]:
    """Copies of tagged ``records`` (one per line) whose NER is the gold annotation wherever the
    line has gold NER over the same words; returns (records, number of sentences replaced)."""
    out, replaced = [], 0
    for record, line in zip(records, lines, strict=True):
        found = gold.lookup(line)
        if found is not None and found.ner is not None and len(found.words) == len(record["words"]):
            record = {**record, "ner": to_bio(found.ner)}
            replaced += 1
        out.append(record)
    return out, replaced
