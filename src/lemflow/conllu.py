"""A small, strict CoNLL-U reader and a sanitising writer (for stanza's training tools).

Only what tagging needs is kept: the syntactic words (multi-word token ranges and empty nodes
are skipped) with their UPOS. Every problem raises :class:`lemflow.errors.InputError` naming
the file and the line.
"""
from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .io import atomic_open, numbered_blocks, read_text_strict

UPOS_TAGS = frozenset(
    "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()
)


def parse_conllu(text: str, source: str) -> list[tuple[list[str], list[str]]]:
    """Sentences of a CoNLL-U text as (words, upos) lists; CRLF and a BOM are tolerated.

    Checked: 10 tab-separated columns, word ids 1..n in order within a sentence, a non-empty
    form, a UPOS from the Universal POS tag set.
    """
    sentences: list[tuple[list[str], list[str]]] = []
    for block in numbered_blocks(text, skip_comments=True):
        words: list[str] = []
        upos: list[str] = []
        for number, line in block:
            cols = line.split("\t")
            if len(cols) != 10:
                raise InputError(source, f"expected 10 tab-separated CoNLL-U columns, found {len(cols)}", number)
            ident = cols[0]
            if "-" in ident or "." in ident:
                continue  # multi-word token range or empty node: the syntactic words follow
            if not ident.isdigit():
                raise InputError(source, f"bad word id {ident!r}", number)
            if int(ident) != len(words) + 1:
                raise InputError(source, f"word id {ident} out of order (expected {len(words) + 1})", number)
            form, tag = cols[1], cols[3]
            if not form.strip():
                raise InputError(source, "empty word form", number)
            if tag not in UPOS_TAGS:
                raise InputError(source, f"unknown UPOS tag {tag!r}", number)
            words.append(form.replace(" ", "_"))
            upos.append(tag)
        if words:
            sentences.append((words, upos))
    if not sentences:
        raise InputError(source, "no sentences found (empty CoNLL-U file)")
    return sentences


def read_conllu(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """Read a CoNLL-U file (see :func:`parse_conllu`)."""
    return parse_conllu(read_text_strict(path), str(path))


def write_training_conllu(sentences, path: str | Path) -> None:
    """Write (words, upos) sentences as minimal valid CoNLL-U.

    stanza's tagger scores its dev set with the UD evaluation script, which insists on a
    well-formed tree; the tagger ignores heads, so every word hangs off the first one.
    """
    with atomic_open(path) as handle:
        for index, (words, upos) in enumerate(sentences):
            handle.write(f"# sent_id = {index + 1}\n")
            for i, (word, tag) in enumerate(zip(words, upos), start=1):
                head, rel = (0, "root") if i == 1 else (1, "dep")
                handle.write(f"{i}\t{word}\t_\t{tag}\t_\t_\t{head}\t{rel}\t_\t_\n")
            handle.write("\n")
