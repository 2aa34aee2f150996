"""The entity dictionary's contract, shared by the stage that writes it (lemflow.dictionary) and
the pre-training that reads it (lemflow.pretraining, lemflow.masking): the entity types and the
JSONL file, one ``{"ids": [...], "spans": [[start, end, type], ...]}`` per sentence."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

ENTITY_TYPES = ("NE", "NOUN", "VERB")


def write_dictionary(path: str | Path, entries: Iterable[dict]) -> None:
    from .io import atomic_open

    with atomic_open(path) as handle:
        for entry in entries:
            handle.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")


def read_dictionary(path: str | Path) -> list[dict]:
    """Every entry of a dictionary file; bad UTF-8 or JSON is an InputError naming the line."""
    from .errors import InputError
    from .io import read_lines_strict

    entries = []
    for number, line in enumerate(read_lines_strict(path, allow_empty_file=True), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise InputError(path, f"invalid JSON: {err.msg}", number) from None
    return entries
