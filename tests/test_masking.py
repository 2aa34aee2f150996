"""Property tests of the masking collators (MLM/TLM and LEM)."""
import torch
from hypothesis import given, settings, strategies as st

from lemflow.masking import ENTITY_TYPES, TYPE_ID, MaskingCollator

PAD, MASK, CLS, SEP, UNK = 1, 4, 0, 2, 3
SPECIALS = (CLS, PAD, SEP, UNK, MASK)
VOCAB = 500


def collator(**kw):
    base = dict(pad_token_id=PAD, mask_token_id=MASK, vocab_size=VOCAB, special_token_ids=SPECIALS, seed=7)
    base.update(kw)
    return MaskingCollator(**base)


@st.composite
def examples(draw, max_len=60):
    """A batch of sequences <s> tokens </s> with non-overlapping entity spans."""
    batch = []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, max_len))
        ids = [CLS] + draw(st.lists(st.integers(10, VOCAB - 1), min_size=n, max_size=n)) + [SEP]
        spans, pos = [], 1
        while pos < n + 1:
            gap = draw(st.integers(0, 4))
            size = draw(st.integers(1, 6))
            start = pos + gap
            end = min(start + size, n + 1)
            if start >= end:
                break
            spans.append((start, end, draw(st.sampled_from(ENTITY_TYPES))))
            pos = end
        batch.append({"input_ids": ids, "spans": spans})
    return batch


def entity_of(spans):
    """position -> (entity index, type)"""
    where = {}
    for i, (s, e, t) in enumerate(spans):
        for p in range(s, e):
            where[p] = (i, t)
    return where


@settings(max_examples=60, deadline=None)
@given(examples(), st.sampled_from([1, 2, 3, None]),
       st.sets(st.sampled_from(ENTITY_TYPES), min_size=1))
def test_lem_properties(batch, k, types):
    c = collator(strategy="lem", k=k, entity_types=tuple(sorted(types)))
    out = c(batch)
    chosen = out["labels"] != -100
    for row, example in enumerate(batch):
        n_maskable = len(example["input_ids"]) - 2
        budget = max(1, round(n_maskable * 0.15))
        where = entity_of(example["spans"])
        positions = chosen[row].nonzero().flatten().tolist()
        # every masked position lies in a selected entity; specials and padding never masked
        for p in positions:
            assert p in where and where[p][1] in types
            assert 0 < p < len(example["input_ids"]) - 1
        # budget: never exceeded; met exactly when enough entity tokens exist
        available = sum(
            (e - s) if k is None else min(k, e - s) for s, e, t in example["spans"] if t in types
        )
        assert len(positions) == min(budget, available)
        # at most k sub-words per entity (k = 1: never two of one entity)
        per_entity = {}
        for p in positions:
            per_entity[where[p][0]] = per_entity.get(where[p][0], 0) + 1
        if k is not None:
            assert all(v <= k for v in per_entity.values())
        # labels keep the original ids
        ids = torch.as_tensor(example["input_ids"])
        assert torch.equal(out["labels"][row, : len(ids)][chosen[row, : len(ids)]], ids[chosen[row, : len(ids)]])


@settings(max_examples=40, deadline=None)
@given(examples())
def test_random_masking_budget_and_specials(batch):
    c = collator(strategy="random")
    out = c(batch)
    for row, example in enumerate(batch):
        n = len(example["input_ids"])
        chosen = out["labels"][row] != -100
        assert int(chosen.sum()) == max(1, round((n - 2) * 0.15))
        assert not chosen[0] and not chosen[n - 1] and not chosen[n:].any()
        assert (out["attention_mask"][row, :n] == 1).all() and (out["attention_mask"][row, n:] == 0).all()


def test_top_up_fills_budget_with_random_tokens():
    batch = [{"input_ids": [CLS] + list(range(10, 110)) + [SEP], "spans": [(1, 2, "NE")]}]
    no_top = collator(strategy="lem")(batch)
    assert int((no_top["labels"] != -100).sum()) == 1
    c = collator(strategy="lem", top_up=True)
    out = c(batch)
    assert int((out["labels"] != -100).sum()) == 15
    summary = c.summary()
    assert abs(summary["share_top_up"] - 14 / 15) < 1e-9 and abs(summary["share_NE"] - 1 / 15) < 1e-9


def test_80_10_10_within_tolerance():
    batch = [{"input_ids": [CLS] + list(range(10, 210)) + [SEP], "spans": [(i, i + 1, "NOUN") for i in range(1, 201)]}]
    for strategy in ("random", "lem"):
        c = collator(strategy=strategy, mlm_probability=0.5)
        masked = replaced_mask = replaced_random = kept = 0
        for _ in range(300):
            out = c(batch)
            chosen = out["labels"] != -100
            original = torch.as_tensor(batch[0]["input_ids"])[None]
            masked += int(chosen.sum())
            replaced_mask += int((out["input_ids"][chosen] == MASK).sum())
            same = out["input_ids"][chosen] == original[chosen]
            kept += int(same.sum())
            replaced_random += int((~same & (out["input_ids"][chosen] != MASK)).sum())
        # 30,000 draws: 3 standard deviations of a share p is about 3*sqrt(p(1-p)/n) < 0.007
        assert abs(replaced_mask / masked - 0.8) < 0.01
        # a random replacement can draw the original id (1/500), counted as kept
        assert abs(replaced_random / masked - 0.1 * (1 - 1 / VOCAB)) < 0.01
        assert abs(kept / masked - (0.1 + 0.1 / VOCAB)) < 0.01


@settings(max_examples=20, deadline=None)
@given(examples(), st.sampled_from(["random", "lem"]))
def test_same_seed_same_masks(batch, strategy):
    a = collator(strategy=strategy, seed=11)(batch)
    b = collator(strategy=strategy, seed=11)(batch)
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["labels"], b["labels"])


def test_different_seed_different_masks():
    batch = [{"input_ids": [CLS] + list(range(10, 110)) + [SEP], "spans": [(i, i + 1, "NE") for i in range(1, 101)]}]
    a = collator(strategy="lem", seed=1)(batch)
    b = collator(strategy="lem", seed=2)(batch)
    assert not torch.equal(a["labels"], b["labels"])


def test_entity_types_are_respected_in_stats():
    batch = [{"input_ids": [CLS] + list(range(10, 70)) + [SEP],
              "spans": [(1, 3, "NE"), (5, 7, "VERB"), (9, 11, "NOUN"), (20, 22, "VERB"), (30, 31, "VERB")]}]
    c = collator(strategy="lem", entity_types=("VERB",))
    out = c(batch)
    chosen = (out["labels"][0] != -100).nonzero().flatten().tolist()
    assert len(chosen) == 3 and all(p in (5, 6, 20, 21, 30) for p in chosen)
    assert c.summary()["share_VERB"] == 1.0
    assert TYPE_ID["VERB"] == 2
