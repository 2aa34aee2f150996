"""Labelled noise injection: turn a clean parallel corpus into a noisy one whose noise is known.

Web-mined bitext (CCAligned, NLLB, ...) is dirty in a few typical ways; each kind below mimics
one of them. A configured share (``rate``) of the pairs is replaced in place by noise of a
kind drawn with the configured weights; every line keeps a label (``clean`` or the kind) so
that curation can be scored by precision/recall. Same inputs and seed -> same output.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .errors import InputError

CLEAN = "clean"
KINDS = ("misaligned", "truncated", "copy", "wrong_language", "fragment", "near_duplicate")


@dataclass
class NoiseSettings:
    rate: float = 0.5
    kinds: dict = field(default_factory=lambda: {kind: 1.0 for kind in KINDS})
    truncate_keep: tuple = (0.2, 0.5)   # share of the words kept by a truncation
    fragment_words: int = 2             # fragments are 1..fragment_words words per side

    @classmethod
    def from_dict(cls, d: dict) -> "NoiseSettings":
        d = dict(d)
        d.pop("third_language", None)  # where wrong-language sentences come from: the caller's concern
        if "truncate_keep" in d:
            d["truncate_keep"] = tuple(d["truncate_keep"])
        settings = cls(**d)
        unknown = set(settings.kinds) - set(KINDS)
        if unknown:
            raise InputError("config curation.noise.kinds", f"unknown noise kinds {sorted(unknown)}; known: {list(KINDS)}")
        if not 0 <= settings.rate <= 1:
            raise InputError("config curation.noise.rate", f"rate must be in [0, 1], got {settings.rate}")
        if settings.rate > 0 and not any(w > 0 for w in settings.kinds.values()):
            raise InputError("config curation.noise.kinds", "every noise kind has weight 0 but rate > 0")
        return settings


def _words(text: str) -> list[str]:
    return text.split()


def truncate(text: str, rng: random.Random, keep: tuple[float, float]) -> str:
    """Keep only a leading share of the words (at least one), as a cut-off crawl would."""
    words = _words(text)
    n = max(1, int(round(len(words) * rng.uniform(*keep))))
    if n >= len(words) and len(words) > 1:
        n = len(words) - 1
    return " ".join(words[:n])


def fragment(text: str, rng: random.Random, max_words: int) -> str:
    """A very short run of words from somewhere inside the sentence (menus, buttons, captions)."""
    words = _words(text)
    n = rng.randint(1, max(1, min(max_words, len(words))))
    start = rng.randrange(0, max(1, len(words) - n + 1))
    return " ".join(words[start:start + n])


def shuffled_tokens(text: str, rng: random.Random) -> str:
    """Word salad: the words of a sentence in random order (used as a 'wrong language' stand-in
    when no third language is available: right script, but no translation of anything)."""
    words = _words(text)
    rng.shuffle(words)
    return " ".join(words)


def near_duplicate(text: str, rng: random.Random) -> str:
    """A copy of ``text`` with one small edit (a dropped word, or doubled final punctuation), as
    boilerplate repeated with trivial changes across a crawl."""
    words = _words(text)
    if len(words) > 2 and rng.random() < 0.5:
        del words[rng.randrange(len(words))]
        return " ".join(words)
    return text + (text[-1] if text and not text[-1].isalnum() else " .")


def inject_noise(src: list[str], tgt: list[str], settings: NoiseSettings, seed: int,
                 third: list[str] | None = None) -> tuple[list[str], list[str], list[str]]:
    """Return (noisy_src, noisy_tgt, labels), same length as the input.

    ``round(rate * n)`` pairs, chosen uniformly, are replaced; each gets a kind drawn with the
    ``kinds`` weights. Misaligned pairs swap targets among themselves in a derangement (so no
    pair keeps its own translation); near duplicates copy another *clean* pair with one edit;
    wrong-language targets come from ``third`` (sentences of a language outside the pair)
    when given, else are word salad of another source sentence.
    """
    if len(src) != len(tgt):
        raise InputError("noise input", f"source has {len(src)} lines, target {len(tgt)}")
    n = len(src)
    rng = random.Random(seed)
    noisy_src, noisy_tgt = list(src), list(tgt)
    labels = [CLEAN] * n
    n_noise = int(round(settings.rate * n))
    if n_noise == 0:
        return noisy_src, noisy_tgt, labels
    chosen = sorted(rng.sample(range(n), n_noise))
    kinds = [kind for kind in KINDS if settings.kinds.get(kind, 0) > 0]
    weights = [settings.kinds[kind] for kind in kinds]
    assigned = rng.choices(kinds, weights=weights, k=n_noise)
    chosen_set = set(chosen)
    clean_indices = [i for i in range(n) if i not in chosen_set]

    misaligned = [i for i, kind in zip(chosen, assigned) if kind == "misaligned"]
    if len(misaligned) == 1:  # one pair cannot be misaligned with itself: take a target from elsewhere
        i = misaligned[0]
        others = [j for j in range(n) if tgt[j] != tgt[i]]
        if others:
            noisy_tgt[i] = tgt[rng.choice(others)]
    elif misaligned:
        # A cyclic shift over a random order is a derangement: every pair gets another's target.
        order = list(misaligned)
        rng.shuffle(order)
        for a, b in zip(order, order[1:] + order[:1]):
            noisy_tgt[a] = tgt[b]
    for i, kind in zip(chosen, assigned):
        labels[i] = kind
        if kind == "truncated":
            if rng.random() < 0.5:
                noisy_tgt[i] = truncate(tgt[i], rng, settings.truncate_keep)
            else:
                noisy_src[i] = truncate(src[i], rng, settings.truncate_keep)
        elif kind == "copy":
            noisy_tgt[i] = src[i]
        elif kind == "wrong_language":
            if third:
                noisy_tgt[i] = third[rng.randrange(len(third))]
            else:
                j = rng.randrange(n - 1)
                j = j + 1 if j >= i else j
                noisy_tgt[i] = shuffled_tokens(src[j] if n > 1 else src[i], rng)
        elif kind == "fragment":
            noisy_src[i] = fragment(src[i], rng, settings.fragment_words)
            noisy_tgt[i] = fragment(tgt[i], rng, settings.fragment_words)
        elif kind == "near_duplicate":
            pool = clean_indices or [j for j in range(n) if j != i] or [i]
            j = pool[rng.randrange(len(pool))]
            noisy_src[i] = near_duplicate(src[j], rng)
            noisy_tgt[i] = tgt[j]
    return noisy_src, noisy_tgt, labels


def label_counts(labels: list[str]) -> dict[str, int]:
    counts = {CLEAN: 0, **{kind: 0 for kind in KINDS}}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts
