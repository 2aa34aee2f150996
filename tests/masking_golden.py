"""Fixed inputs and collator settings whose masks are pinned in tests/data/masking_golden.json.

The JSON was written by :func:`capture` with src/lemflow/masking.py as of commit 91c71e7 (before
masking strategies became a registry); tests/test_masking_registry.py recomputes the masks with
the current code and compares them exactly. Do not regenerate it to make a failing test pass: a
difference means the same seed no longer gives the same masks.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "data" / "masking_golden.json"
PAD, MASK, CLS, SEP, UNK = 1, 4, 0, 2, 3
SPECIALS = (CLS, PAD, SEP, UNK, MASK)
VOCAB = 500
TYPES = ("NE", "NOUN", "VERB")

CASES = {
    "random": {"strategy": "random"},
    "random_p50_pad8": {"strategy": "random", "mlm_probability": 0.5, "pad_to_multiple_of": 8},
    "random_top_up_ignored": {"strategy": "random", "top_up": True},
    "lem_k1": {"strategy": "lem", "k": 1},
    "lem_k2_ne_verb": {"strategy": "lem", "k": 2, "entity_types": ["NE", "VERB"]},
    "lem_whole": {"strategy": "lem", "k": None},
    "lem_k1_top_up": {"strategy": "lem", "k": 1, "top_up": True},
    "lem_k3_noun_top_up_p30": {"strategy": "lem", "k": 3, "entity_types": ["NOUN"], "top_up": True,
                               "mlm_probability": 0.3},
}


def batches(n_batches: int = 3, seed: int = 123) -> list[list[dict]]:
    """Batches of `<s> ids </s>` with non-overlapping entity spans (some sequences without any,
    one without content, one span running past the end of its sequence)."""
    rng = random.Random(seed)
    out = []
    for b in range(n_batches):
        batch = []
        for i in range(6):
            n = 0 if (b, i) == (1, 2) else rng.randint(1, 45)
            ids = [CLS] + [rng.randrange(10, VOCAB) for _ in range(n)] + [SEP]
            spans, pos = [], 1
            while i != 3 and pos < n + 1:
                start = pos + rng.randint(0, 4)
                end = min(start + rng.randint(1, 6), n + 1)
                if start >= end:
                    break
                spans.append([start, end, rng.choice(TYPES)])
                pos = end
            if (b, i) == (2, 0) and spans:
                spans[-1][1] = n + 5  # past the end: clamped by the collator
            batch.append({"input_ids": ids, "spans": [tuple(s) for s in spans]})
        out.append(batch)
    return out


def run_case(settings: dict, seed: int = 5) -> dict:
    """Masks of every batch, in order, from one collator (so the generator stream is pinned too)."""
    from lemflow.masking import MaskingCollator

    kw = dict(settings)
    if "entity_types" in kw:
        kw["entity_types"] = tuple(kw["entity_types"])
    collator = MaskingCollator(pad_token_id=PAD, mask_token_id=MASK, vocab_size=VOCAB, special_token_ids=SPECIALS,
                               seed=seed, **kw)
    result = {"batches": []}
    for batch in batches():
        out = collator(batch)
        result["batches"].append({key: out[key].tolist() for key in ("input_ids", "attention_mask", "labels")})
    result["summary"] = collator.summary()
    return result


def capture(path: Path = GOLDEN) -> None:
    cases = {name: {"settings": settings, **run_case(settings)} for name, settings in CASES.items()}
    text = json.dumps(cases, separators=(",", ":"), sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
