"""Data preparation: normalise, validate, filter, dedupe, split, and build the dependent
monolingual corpus. Pure functions; the workflow script only reads and writes."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError

ZWJ, ZWNJ = "\u200d", "\u200c"
_WHITESPACE = re.compile(r"\s+")
# Format characters that carry meaning in Sinhala/Tamil/Indic scripts and must survive.
_KEEP_FORMAT = {ZWJ, ZWNJ}


def _is_removable(char: str) -> bool:
    """Control (Cc) and format (Cf) characters, except ZWJ/ZWNJ; tabs and newlines become spaces."""
    category = unicodedata.category(char)
    if char in _KEEP_FORMAT:
        return False
    if char in "\t\n\r\x0b\x0c\x85\u2028\u2029":
        return False  # whitespace: collapsed below instead
    return category in ("Cc", "Cf", "Co", "Cs")


def normalise_text(text: str) -> str:
    """Unicode NFC, control/format characters removed (ZWJ and ZWNJ kept), whitespace collapsed.

    A ZWJ or ZWNJ left at a word edge by the removal of its neighbour is harmless and kept.
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if not _is_removable(ch))
    return _WHITESPACE.sub(" ", text).strip()


def removed_characters(texts) -> dict[str, int]:
    """What :func:`normalise_text` removes from ``texts``: ``{"U+200B ZERO WIDTH SPACE": n, ...}``,
    most frequent first."""
    from collections import Counter

    counts = Counter(ch for text in texts for ch in unicodedata.normalize("NFC", text) if _is_removable(ch))
    return {f"U+{ord(ch):04X} {unicodedata.name(ch, '<control>')}": n for ch, n in counts.most_common()}


def word_count(text: str) -> int:
    return len(text.split())


@dataclass
class PrepareSettings:
    min_words: int = 1
    max_words: int = 200
    max_length_ratio: float = 3.0
    dedupe: bool = True
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    min_script_share: float = 0.8
    pool_fraction: float = 0.0    # held out from pre-training: the curation stage's noisy pool

    @classmethod
    def from_dict(cls, d: dict) -> "PrepareSettings":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class PreparedPairs:
    splits: dict[str, list[tuple[str, str]]]
    stats: dict = field(default_factory=dict)


def length_ratio(a: str, b: str) -> float:
    """Character-length ratio, longer over shorter (>= 1)."""
    la, lb = max(len(a), 1), max(len(b), 1)
    return max(la, lb) / min(la, lb)


def filter_pairs(pairs: list[tuple[str, str]], settings: PrepareSettings) -> tuple[list[tuple[str, str]], dict]:
    """Normalise and filter; returns kept pairs and counts after each step."""
    counts = {"read": len(pairs)}
    pairs = [(normalise_text(s), normalise_text(t)) for s, t in pairs]
    pairs = [(s, t) for s, t in pairs if s and t]
    counts["after_empty"] = len(pairs)
    pairs = [
        (s, t)
        for s, t in pairs
        if settings.min_words <= word_count(s) <= settings.max_words
        and settings.min_words <= word_count(t) <= settings.max_words
    ]
    counts["after_length"] = len(pairs)
    pairs = [(s, t) for s, t in pairs if length_ratio(s, t) <= settings.max_length_ratio]
    counts["after_ratio"] = len(pairs)
    if settings.dedupe:
        seen: set[tuple[str, str]] = set()
        unique = []
        for pair in pairs:
            if pair not in seen:
                seen.add(pair)
                unique.append(pair)
        pairs = unique
    counts["after_dedupe"] = len(pairs)
    return pairs, counts


def split_indices(n: int, valid_fraction: float, test_fraction: float, seed: int,
                  pool_fraction: float = 0.0) -> dict[str, np.ndarray]:
    """Seeded split of range(n) into train/valid/test (each sorted, so file order is kept), and
    with ``pool_fraction`` > 0 a ``pool`` split taken from what would be train (valid and test
    are the same with or without it), which pre-training never reads."""
    order = np.random.default_rng(seed).permutation(n)
    n_valid = int(round(n * valid_fraction))
    n_test = int(round(n * test_fraction))
    if n >= 3:
        n_valid = max(n_valid, 1 if valid_fraction > 0 else 0)
        n_test = max(n_test, 1 if test_fraction > 0 else 0)
    test = np.sort(order[:n_test])
    valid = np.sort(order[n_test : n_test + n_valid])
    if pool_fraction > 0:
        n_pool = int(round(n * pool_fraction))
        pool = np.sort(order[n_test + n_valid : n_test + n_valid + n_pool])
        train = np.sort(order[n_test + n_valid + n_pool :])
        return {"train": train, "valid": valid, "test": test, "pool": pool}
    train = np.sort(order[n_test + n_valid :])
    return {"train": train, "valid": valid, "test": test}


def empty_splits(sizes: dict[str, int], fractions: dict[str, float]) -> list[str]:
    """Warnings for splits that asked for data (fraction > 0, or train) but got none."""
    return [f"the {name} split is empty: only {sum(sizes.values())} pairs survived the filters "
            f"({name} fraction {fractions.get(name, 1.0)})"
            for name, n in sizes.items() if n == 0 and fractions.get(name, 1.0) > 0]


def prepare_pairs(pairs: list[tuple[str, str]], settings: PrepareSettings, seed: int, source: str = "corpus") -> PreparedPairs:
    """Filter and split; ``stats`` holds the counts after each filter, the characters the
    normaliser removed (``removed_characters``) and ``warnings`` (empty splits, removed characters)."""
    removed = removed_characters(text for pair in pairs for text in pair)
    kept, counts = filter_pairs(pairs, settings)
    if not kept:
        raise InputError(source, f"no pair survived the filters (counts: {counts})")
    index = split_indices(len(kept), settings.valid_fraction, settings.test_fraction, seed, settings.pool_fraction)
    splits = {name: [kept[i] for i in idx] for name, idx in index.items()}
    counts.update({f"{name}_pairs": len(v) for name, v in splits.items()})
    warnings = empty_splits({name: len(v) for name, v in splits.items()},
                            {"valid": settings.valid_fraction, "test": settings.test_fraction, "pool": settings.pool_fraction})
    if removed:
        warnings.append(f"normalisation removed {sum(removed.values())} control/format characters "
                        f"({', '.join(f'{k}: {n}' for k, n in list(removed.items())[:5])})")
    stats = {"counts": counts, "removed_characters": {"total": sum(removed.values()), "by_character": removed},
             "warnings": warnings}
    return PreparedPairs(splits, stats)


def check_pair_scripts(pairs: list[tuple[str, str]], spec: dict, src: str, tgt: str, scripts: dict[str, str],
                       threshold: float) -> dict[str, float | None]:
    """Script check of both sides of a parallel corpus read from ``spec`` (format, path): raises
    InputError naming the file (line-numbered for text and tsv; the sentence for multiNER) when
    a side's share of letters in its language's script is below ``threshold``; returns the shares."""
    from .languages import check_script

    shares = {}
    for side, lang in enumerate((src, tgt)):
        lines = [pair[side] for pair in pairs]
        fmt, path = spec["format"], spec["path"]
        if fmt == "text":
            source, unit = f"{path}.{lang}", "line"
        elif fmt == "tsv":
            source, unit = f"{path} ({lang} column)", "line"
        else:
            source, unit = f"{path} ({lang} file)", "sentence"
        shares[lang] = check_script(lines, lang, scripts.get(lang), threshold, source, unit=unit)
    return shares


def dependent_mono(src_lines: list[str], tgt_lines: list[str], src: str, tgt: str, seed: int) -> list[tuple[str, int, str]]:
    """Both sides of the parallel data stacked and shuffled: (lang, line index, sentence)."""
    rows = [(src, i, s) for i, s in enumerate(src_lines)] + [(tgt, i, t) for i, t in enumerate(tgt_lines)]
    order = np.random.default_rng(seed).permutation(len(rows))
    return [rows[i] for i in order]


def prepare_mono(lines: list[str], settings: PrepareSettings, seed: int) -> tuple[dict[str, list[str]], dict]:
    """Independent monolingual corpus: normalise, drop empty/over-long, dedupe, train/valid split."""
    counts = {"read": len(lines)}
    counts["removed_characters"] = sum(removed_characters(lines).values())
    lines = [normalise_text(line) for line in lines]
    lines = [line for line in lines if line and settings.min_words <= word_count(line) <= settings.max_words]
    counts["after_length"] = len(lines)
    if settings.dedupe:
        lines = list(dict.fromkeys(lines))
    counts["after_dedupe"] = len(lines)
    index = split_indices(len(lines), settings.valid_fraction, 0.0, seed)
    splits = {name: [lines[i] for i in index[name]] for name in ("train", "valid")}
    counts.update({f"{name}_sentences": len(v) for name, v in splits.items()})
    return splits, counts
