"""Pre-training examples from the prepared data and the entity dictionaries (both stages and the
head stage): one place that knows the corpus layout under R/data and R/dictionary/<base>."""
from __future__ import annotations

from pathlib import Path

import torch

from .io import read_lines_strict
from .entities import read_dictionary
from .pretraining import mono_example, mono_rows, pair_example, special_layout, subsample, tokenize_lines


def load_entries(tokenizer, with_entities: bool, dict_root, corpus: str, split: str, lang: str, text_file) -> list[dict]:
    """Dictionary entries of one corpus side (ids + entity spans) when ``with_entities``, else plain
    tokenisation of ``text_file`` (random masking needs no tags)."""
    if with_entities:
        return read_dictionary(Path(dict_root) / corpus / f"{split}.{lang}.jsonl" if corpus != "mono_indep"
                               else Path(dict_root) / "mono_indep" / f"{lang}.{split}.jsonl")
    return tokenize_lines(tokenizer, read_lines_strict(text_file, allow_empty_file=True))


def build_examples(tokenizer, *, stage: str, pairs, split: str, data_root, dictionary_root, with_entities: bool,
                   max_length: int, seed: int, mono_source: str = "dependent", max_examples: int = 0) -> list[dict]:
    """Training examples of every pair in ``pairs`` for ``stage`` (head | mono: single sentences;
    para: concatenated pairs); ``max_examples`` (> 0) is a seeded subsample per pair (so a joint
    model sees each pair's subsample that a pair model sees)."""
    layout = special_layout(tokenizer)
    data_root = Path(data_root)
    examples = []
    if stage in ("head", "mono") and mono_source == "independent":
        langs = sorted({lang for pair in pairs for lang in pair.split("-")})
        for lang in langs:
            entries = load_entries(tokenizer, with_entities, dictionary_root, "mono_indep", split, lang,
                                   data_root / "mono_indep" / f"{lang}.{split}.txt")
            examples += [mono_example(layout, e["ids"], e["spans"], max_length) for e in entries]
        order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed)).tolist()
        return subsample([examples[i] for i in order], max_examples, seed)
    for pair in pairs:
        pair_examples = []
        src, tgt = pair.split("-")
        sides = {lang: load_entries(tokenizer, with_entities, dictionary_root, pair, split, lang,
                                    data_root / pair / f"{split}.{lang}") for lang in (src, tgt)}
        if stage in ("head", "mono"):
            for lang, index in mono_rows(data_root / pair / f"mono.{split}.tsv"):
                e = sides[lang][index]
                pair_examples.append(mono_example(layout, e["ids"], e["spans"], max_length))
        else:
            for a, b in zip(sides[src], sides[tgt]):
                pair_examples.append(pair_example(layout, a["ids"], a["spans"], b["ids"], b["spans"], max_length))
        examples += subsample(pair_examples, max_examples, seed)
    return examples


def probe_pairs(data_root, pair: str, n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` prepared valid pairs of ``pair`` (the drift and dev P@1 probe set)."""
    src, tgt = pair.split("-")
    a = read_lines_strict(Path(data_root) / pair / f"valid.{src}", allow_empty_file=True)[:n]
    b = read_lines_strict(Path(data_root) / pair / f"valid.{tgt}", allow_empty_file=True)[:n]
    return a, b
