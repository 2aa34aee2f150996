"""Small I/O helpers shared by every stage: atomic writes and strict UTF-8 reading."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputError


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporaries that an interrupted (killed) earlier write of ``path`` left beside it:
    ``.<name>.<8 random characters>[<suffix>].tmp``, as :func:`atomic_path` and :func:`scratch_dir`
    name them. Snakemake never runs two jobs for one output at once, so whatever matches is stale."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[a-z0-9_]{{8}}[^/]*\.tmp$")
    stale = [entry for entry in path.parent.iterdir() if pattern.match(entry.name)]
    for entry in stale:
        _remove(entry)
    return stale


@contextlib.contextmanager
def scratch_dir(beside: str | os.PathLike, suffix: str = ".work") -> Iterator[Path]:
    """A scratch folder ``.<name>.<random><suffix>.tmp`` beside the output ``beside``, removed on
    exit; one left by a killed earlier run is removed first (not in the system temp folder, where
    nothing would ever clean it)."""
    beside = Path(beside)
    beside.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(beside)
    tmp = Path(tempfile.mkdtemp(prefix=f".{beside.name}.", suffix=suffix + ".tmp", dir=beside.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash or exception leaves no file at ``path`` that could pass for a complete output; a
    temporary left by a killed earlier run is removed first (:func:`remove_stale_temporaries`).
    Works for files and directories (the caller creates what it wants at the yielded path).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp = Path(tmp)
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8", **kwargs):
    """Open a temporary file for writing; it replaces ``path`` only when the block succeeds."""
    if "b" in mode:
        encoding = None
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=encoding, **kwargs) as handle:
            yield handle


def write_lines(path, lines: Iterable[str]) -> None:
    with atomic_open(path) as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")


def write_json(path, obj) -> None:
    with atomic_open(path) as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=2, sort_keys=False)
        handle.write("\n")


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_text_strict(path: str | os.PathLike) -> str:
    """Read a whole file as UTF-8; invalid bytes raise InputError naming the line."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file does not exist")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(path, f"invalid UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start})", line) from None


def numbered_blocks(text: str, skip_comments: bool = False) -> Iterator[list[tuple[int, str]]]:
    """Blocks of non-blank lines separated by blank lines (BIO, CoNLL-U), as lists of
    (1-based line number, line without its LF/CRLF end); a BOM is dropped. With
    ``skip_comments`` lines starting with '#' are left out (they still count for numbering)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    block: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            if block:
                yield block
                block = []
        elif not (skip_comments and line.startswith("#")):
            block.append((number, line))
    if block:
        yield block


def read_lines_strict(path: str | os.PathLike, allow_empty_file: bool = False) -> list[str]:
    """Lines of a UTF-8 text file without their line ends (LF or CRLF); BOM removed."""
    text = read_text_strict(path)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip() and not allow_empty_file:
        raise InputError(path, "file is empty")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
