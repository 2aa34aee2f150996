"""Readers for every input format the workflow accepts.

Each reader validates while it reads and raises :class:`lemflow.errors.InputError` naming the
file, the line and the problem, so that bad input stops the run before any long stage.

Formats:
- line-aligned plain text: ``<prefix>.<src>`` and ``<prefix>.<tgt>``;
- TSV pairs: ``src<TAB>tgt`` per line;
- BIO (multiNER style): ``token TAG`` per line, blank line between sentences, LF or CRLF;
- the multiNER zip (``Final_{English,Sinhala,Tamil}.txt``) or a folder holding those files;
- comparable corpora: the compact form (``<lang>.tsv`` with ``<lang>_<docid>_<n><TAB>sentence``
  and ``gold.tsv``) and the original layout (one file per document under ``<Language>/<docid>``,
  lines ``id<TAB>sentence``, gold file of id pairs);
- sentiment CSV ``text,label`` (quoted multi-line fields).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .io import numbered_blocks, read_lines_strict, read_text_strict

BIO_TAG = re.compile(r"^(O|[BI]-[A-Za-z][A-Za-z_]*)$")

# multiNER file names use language names.
MULTINER_FILES = {"en": "Final_English.txt", "si": "Final_Sinhala.txt", "ta": "Final_Tamil.txt"}
LANGUAGE_NAMES = {"en": "English", "si": "Sinhala", "ta": "Tamil"}


# --------------------------------------------------------------------------- parallel text
def read_parallel_text(prefix: str | Path, src: str, tgt: str) -> list[tuple[str, str]]:
    """Pairs from line-aligned ``<prefix>.<src>`` / ``<prefix>.<tgt>``."""
    src_path, tgt_path = Path(f"{prefix}.{src}"), Path(f"{prefix}.{tgt}")
    src_lines = read_lines_strict(src_path)
    tgt_lines = read_lines_strict(tgt_path)
    if len(src_lines) != len(tgt_lines):
        shorter = src_path if len(src_lines) < len(tgt_lines) else tgt_path
        raise InputError(
            shorter,
            f"misaligned parallel files: {src_path} has {len(src_lines)} lines, "
            f"{tgt_path} has {len(tgt_lines)}",
            line=min(len(src_lines), len(tgt_lines)) + 1,
        )
    return list(zip(src_lines, tgt_lines))


def read_parallel_tsv(path: str | Path) -> list[tuple[str, str]]:
    """Pairs from a ``src<TAB>tgt`` file; every line must have exactly two fields."""
    pairs = []
    for number, line in enumerate(read_lines_strict(path), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise InputError(path, f"expected 2 tab-separated fields (src, tgt), found {len(fields)}", number)
        pairs.append((fields[0], fields[1]))
    return pairs


def read_mono_text(path: str | Path) -> list[str]:
    """One sentence per line (blank lines kept; the normaliser drops them)."""
    return read_lines_strict(path)


# --------------------------------------------------------------------------- BIO / multiNER
def parse_bio(text: str, source: str, allowed_types: set[str] | None = None) -> list[tuple[list[str], list[str]]]:
    """Sentences of ``token TAG`` lines separated by blank lines. CRLF tolerated.

    The token is everything before the last whitespace-separated field (multiNER has a few
    lines with trailing or doubled spaces). Tags must match BIO; with ``allowed_types`` the
    entity type must be one of them.
    """
    sentences: list[tuple[list[str], list[str]]] = []
    for block in numbered_blocks(text):
        tokens, tags = [], []
        for number, line in block:
            parts = line.split()
            if len(parts) < 2:
                raise InputError(source, f"expected 'token TAG', found {line.strip()!r}", number)
            tag = parts[-1]
            if not BIO_TAG.match(tag):
                raise InputError(source, f"illegal BIO tag {tag!r} (expected O, B-TYPE or I-TYPE)", number)
            if allowed_types is not None and tag != "O" and tag[2:] not in allowed_types:
                raise InputError(source, f"illegal entity type in tag {tag!r} (allowed: {sorted(allowed_types)})", number)
            tokens.append(" ".join(parts[:-1]))
            tags.append(tag)
        sentences.append((tokens, tags))
    if not sentences:
        raise InputError(source, "no sentences found (empty BIO file)")
    return sentences


def read_bio(path: str | Path, allowed_types: set[str] | None = None) -> list[tuple[list[str], list[str]]]:
    """Read a BIO file (see :func:`parse_bio`)."""
    return parse_bio(read_text_strict(path), str(path), allowed_types)


def _multiner_member(path: Path, lang: str) -> tuple[str, str]:
    """(text, source name) of the multiNER file for ``lang`` in a zip or a folder."""
    if lang not in MULTINER_FILES:
        raise InputError(path, f"multiNER has no file for language {lang!r} (it holds {sorted(MULTINER_FILES)})")
    name = MULTINER_FILES[lang]
    if path.is_dir():
        candidates = sorted(path.rglob(name))
        if not candidates:
            raise InputError(path, f"no {name} in this folder")
        return read_text_strict(candidates[0]), str(candidates[0])
    if not path.exists():
        raise InputError(path, "file does not exist")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(path, "not a zip file (expected the multiNER zip or a folder)") from None
    with archive:
        members = [m for m in archive.namelist() if m.rsplit("/", 1)[-1] == name]
        if not members:
            raise InputError(path, f"the zip holds no {name}")
        data = archive.read(members[0])
    source = f"{path}!{members[0]}"
    try:
        return data.decode("utf-8"), source
    except UnicodeDecodeError as err:
        raise InputError(source, "invalid UTF-8", data.count(b"\n", 0, err.start) + 1) from None


def read_multiner(path: str | Path, lang: str) -> list[tuple[list[str], list[str]]]:
    """Segments of one language of the multiNER corpus: list of (tokens, BIO tags)."""
    text, source = _multiner_member(Path(path), lang)
    return parse_bio(text, source, allowed_types={"PER", "LOC", "ORG", "MISC"})


def read_multiner_parallel(path: str | Path, src: str, tgt: str) -> list[tuple[str, str]]:
    """Parallel pairs from multiNER: segment i of every language is the same text."""
    src_segments = read_multiner(path, src)
    tgt_segments = read_multiner(path, tgt)
    if len(src_segments) != len(tgt_segments):
        raise InputError(path, f"multiNER segment counts differ: {src} {len(src_segments)}, {tgt} {len(tgt_segments)}")
    return [(" ".join(s[0]), " ".join(t[0])) for s, t in zip(src_segments, tgt_segments)]


def read_parallel(spec: dict, src: str, tgt: str) -> list[tuple[str, str]]:
    """Pairs for a config entry ``{format: text|tsv|multiner, path: ..., limit: N}``."""
    fmt, path = spec["format"], spec["path"]
    if fmt == "text":
        pairs = read_parallel_text(path, src, tgt)
    elif fmt == "tsv":
        pairs = read_parallel_tsv(path)
    elif fmt == "multiner":
        pairs = read_multiner_parallel(path, src, tgt)
    else:
        raise InputError(path, f"unknown parallel format {fmt!r} (text, tsv, multiner)")
    if spec.get("limit"):
        pairs = pairs[: int(spec["limit"])]
    return pairs


def parallel_input_files(spec: dict, src: str, tgt: str) -> list[str]:
    """Files a config entry reads (rule inputs, so that editing one reruns its stages)."""
    if spec["format"] == "text":
        return [f"{spec['path']}.{src}", f"{spec['path']}.{tgt}"]
    return [spec["path"]]


# --------------------------------------------------------------------------- comparable corpora
SENTENCE_ID = re.compile(r"^(?P<lang>[a-z]{2,3})_(?P<doc>.+)_(?P<n>\d+)$")


def doc_id(sentence_id: str) -> str:
    """'si_100624_3' -> '100624' (document ids may themselves contain underscores)."""
    match = SENTENCE_ID.match(sentence_id)
    if not match:
        raise ValueError(f"not a comparable-corpus sentence id: {sentence_id!r} (expected <lang>_<docid>_<n>)")
    return match.group("doc")


@dataclass
class ComparableCorpus:
    """Sentences of both sides (id -> text, in file order) and gold (id1, id2) pairs."""

    lang1: str
    lang2: str
    sentences1: dict[str, str] = field(default_factory=dict)
    sentences2: dict[str, str] = field(default_factory=dict)
    gold: list[tuple[str, str]] = field(default_factory=list)
    skipped_gold: list[tuple[int, str]] = field(default_factory=list)

    def documents(self, side: int) -> dict[str, list[str]]:
        """docid -> sentence ids of one side (1 or 2)."""
        sentences = self.sentences1 if side == 1 else self.sentences2
        docs: dict[str, list[str]] = {}
        for sid in sentences:
            docs.setdefault(doc_id(sid), []).append(sid)
        return docs

    def comparable_documents(self) -> list[str]:
        """Document ids present on both sides."""
        second = set(self.documents(2))
        return [d for d in self.documents(1) if d in second]

    def gold_documents(self) -> list[str]:
        """Document ids (either side) holding a gold pair, in first-seen order."""
        return list(dict.fromkeys(doc_id(sid) for pair in self.gold for sid in pair))

    def restricted(self, documents) -> "ComparableCorpus":
        """The corpus kept to ``documents`` (both sides; gold pairs with both sentences kept)."""
        keep = set(documents)
        first = {sid: t for sid, t in self.sentences1.items() if doc_id(sid) in keep}
        second = {sid: t for sid, t in self.sentences2.items() if doc_id(sid) in keep}
        gold = [(a, b) for a, b in self.gold if a in first and b in second]
        return ComparableCorpus(self.lang1, self.lang2, first, second, gold, list(self.skipped_gold))


def _read_id_tsv(path: Path, lang: str) -> dict[str, str]:
    sentences: dict[str, str] = {}
    for number, line in enumerate(read_lines_strict(path), start=1):
        if not line.strip():
            continue
        parts = line.split("\t", 1)
        if len(parts) != 2:
            raise InputError(path, "expected '<id><TAB><sentence>'", number)
        sid, text = parts[0].strip(), parts[1]
        match = SENTENCE_ID.match(sid)
        if not match:
            raise InputError(path, f"bad sentence id {sid!r} (expected {lang}_<docid>_<n>)", number)
        if match.group("lang") != lang:
            raise InputError(path, f"sentence id {sid!r} is not of language {lang!r}", number)
        if sid in sentences:
            raise InputError(path, f"duplicate sentence id {sid!r}", number)
        sentences[sid] = text
    return sentences


def _normalise_id(sid: str) -> str:
    """Gold files in the wild write 'Si_1_2' or 'En_1_2': the language prefix is lower-cased."""
    head, sep, rest = sid.partition("_")
    return head.lower() + sep + rest if sep else sid


def _read_gold(path: Path, sentences1: dict, sentences2: dict, lang1: str, lang2: str,
               skipped: list | None = None) -> list[tuple[str, str]]:
    """Gold (id1, id2) pairs. An id that exists in neither side raises InputError, unless
    ``skipped`` is a list: then the line is recorded there as (line, problem) and skipped
    (the real comparable corpora hold a few typos such as 'ta_52579_2<TAB>ta_52579_0')."""
    gold = []
    for number, line in enumerate(read_lines_strict(path, allow_empty_file=True), start=1):
        if not line.strip():
            continue
        parts = line.strip().split("\t")
        if len(parts) != 2:
            raise InputError(path, "expected '<id1><TAB><id2>'", number)
        a, b = (_normalise_id(p.strip()) for p in parts)
        if a in sentences2 and b in sentences1 and a not in sentences1:
            a, b = b, a  # gold written in the other language order
        problem = None
        if a not in sentences1:
            problem = f"gold id {a!r} does not exist in the {lang1} sentences"
        elif b not in sentences2:
            problem = f"gold id {b!r} does not exist in the {lang2} sentences"
        if problem:
            if skipped is None:
                raise InputError(path, problem, number)
            skipped.append((number, problem))
            continue
        gold.append((a, b))
    return gold


def _read_original_layout(root: Path, lang: str) -> dict[str, str]:
    """One file per document under ``root/<Language>/<docid>``, lines ``id<TAB>sentence``.

    Ids in those files may be bare sentence numbers; they are rewritten as ``<lang>_<docid>_<n>``.
    """
    folder = None
    for name in (LANGUAGE_NAMES.get(lang, lang), lang):
        for candidate in (root / name, root / name.lower(), root / name.capitalize()):
            if candidate.is_dir():
                folder = candidate
                break
        if folder:
            break
    if folder is None:
        raise InputError(root, f"no folder for language {lang!r} (expected {LANGUAGE_NAMES.get(lang, lang)}/ or {lang}/)")
    sentences: dict[str, str] = {}
    for doc_file in sorted(p for p in folder.iterdir() if p.is_file()):
        doc = doc_file.stem
        for number, line in enumerate(read_lines_strict(doc_file, allow_empty_file=True), start=1):
            if not line.strip():
                continue
            parts = line.split("\t", 1)
            if len(parts) != 2:
                raise InputError(doc_file, "expected '<id><TAB><sentence>'", number)
            raw_id, text = parts[0].strip(), parts[1]
            sid = raw_id if SENTENCE_ID.match(raw_id) else f"{lang}_{doc}_{raw_id}"
            if sid in sentences:
                raise InputError(doc_file, f"duplicate sentence id {sid!r}", number)
            sentences[sid] = text
    return sentences


def read_comparable(path: str | Path, lang1: str, lang2: str, skip_bad_gold: bool = False) -> ComparableCorpus:
    """A comparable corpus with gold alignment, compact or original layout (detected).

    With ``skip_bad_gold`` a gold line naming a missing id is recorded in
    ``corpus.skipped_gold`` instead of raising."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(root, "comparable corpus folder does not exist")
    compact1, compact2 = root / f"{lang1}.tsv", root / f"{lang2}.tsv"
    if compact1.exists() or compact2.exists():
        s1, s2 = _read_id_tsv(compact1, lang1), _read_id_tsv(compact2, lang2)
    else:
        s1, s2 = _read_original_layout(root, lang1), _read_original_layout(root, lang2)
    gold_files = [root / "gold.tsv"] if (root / "gold.tsv").exists() else sorted(
        p for p in root.iterdir() if p.is_file() and "gold" in p.name.lower()
    )
    if not gold_files:
        raise InputError(root, "no gold alignment file (gold.tsv)")
    skipped: list | None = [] if skip_bad_gold else None
    gold = _read_gold(gold_files[0], s1, s2, lang1, lang2, skipped)
    return ComparableCorpus(lang1, lang2, s1, s2, gold, skipped or [])


# --------------------------------------------------------------------------- sentiment CSV
def _unterminated_quote(text: str, line: int) -> bool:
    """Whether the CSV record starting on ``line`` (1-based) opens a quote that the file never closes."""
    rest = "".join(text.splitlines(keepends=True)[line - 1:])
    try:
        next(csv.reader(io.StringIO(rest, newline=""), strict=True), None)
    except csv.Error as err:
        return "unexpected end of data" in str(err)
    return False


def read_sentiment_csv(path: str | Path, allowed_labels: set[str] | None = None):
    """``text,label`` CSV (header required; quoted multi-line fields) as a pandas DataFrame."""
    import pandas as pd

    text = read_text_strict(path)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        raise InputError(path, "file is empty")
    if not text.strip():
        raise InputError(path, f"file holds only whitespace ({len(text)} characters, no header, no rows)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as err:
        raise InputError(path, f"CSV error: {err}", 1) from None
    header = [h.strip().lower() for h in header]
    if "text" not in header or "label" not in header:
        raise InputError(path, f"header must name the columns text and label, found {header}", 1)
    ti, li = header.index("text"), header.index("label")
    rows = []
    line = reader.line_num + 1
    try:
        for record in reader:
            # errors name the record's first line (a quoted field may span lines)
            line, next_line = line, reader.line_num + 1
            if not record or all(not f.strip() for f in record):
                line = next_line
                continue
            if len(record) != len(header):
                if _unterminated_quote(text, line):
                    raise InputError(path, "unterminated quoted field: the quote opened in this record is never "
                                           f"closed, so lines {line}-{reader.line_num} were read as one field", line)
                raise InputError(path, f"expected {len(header)} fields, found {len(record)}", line)
            label = record[li].strip()
            if not label:
                raise InputError(path, "empty label", line)
            if allowed_labels is not None and label not in allowed_labels:
                raise InputError(path, f"unknown label {label!r} (allowed: {sorted(allowed_labels)})", line)
            rows.append((record[ti], label))
            line = next_line
    except csv.Error as err:
        raise InputError(path, f"CSV error: {err}", line) from None
    if not rows:
        raise InputError(path, "no rows")
    return pd.DataFrame(rows, columns=["text", "label"])
