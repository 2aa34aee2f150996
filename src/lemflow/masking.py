"""Masking collators: MLM/TLM (random) and LEM (linguistic entity masking).

In the shape of transformers' ``DataCollatorForLanguageModeling``: a callable that turns a list
of examples into a padded batch with ``labels``; every choice is a vectorised tensor operation
driven by one seeded ``torch.Generator`` (no Python loop per token).

An example is a dict with ``input_ids`` (special tokens included) and, for LEM, ``spans``: a list
of ``(start, end, type)`` sub-word spans over ``input_ids`` (end exclusive; type one of
:data:`ENTITY_TYPES`). Per sequence, LEM picks entities of the selected types in random order and
from each ``k`` sub-words (uniformly, without replacement; ``k=None`` = the whole entity) until
``mlm_probability`` of the maskable tokens are chosen (exactly, the last entity contributing only
what is left of the budget). With too few entity tokens it masks fewer, unless ``top_up`` fills
the rest with random tokens. Chosen positions are corrupted 80% ``<mask>`` / 10% random / 10% kept.

Masking strategies (config ``strategies.<name>.masking``) are the entries of :data:`STRATEGIES`;
a new one is an entry there plus its name in the enum of config/schema.yaml. The workflow asks
:func:`needs_entities` whether a strategy's examples carry entity spans (then pre-training reads
the entity dictionaries). torch is imported on first use, not with this module: Snakemake imports
it while parsing the workflow (``uses_entities`` in rules/common.smk).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .entities import ENTITY_TYPES


class _TorchOnFirstUse:
    """Stands for the torch module until first used, then replaces itself with it."""

    def __getattr__(self, name):
        import torch as module

        globals()["torch"] = module
        return getattr(module, name)


torch = _TorchOnFirstUse()

TYPE_ID = {name: i for i, name in enumerate(ENTITY_TYPES)}


def _pad(sequences: list[list[int]], value: int, multiple: int | None = None) -> torch.Tensor:
    length = max((len(s) for s in sequences), default=0)
    if multiple:
        length = ((length + multiple - 1) // multiple) * multiple
    out = torch.full((len(sequences), length), value, dtype=torch.long)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return out


def pad_spans(batch_spans: list[list], selected_types: set[int] | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spans of a batch as padded (B, S) tensors: start, end, type (-1 = padding/unselected)."""
    width = max((len(s) for s in batch_spans), default=0)
    starts = torch.zeros((len(batch_spans), max(width, 1)), dtype=torch.long)
    ends = torch.zeros_like(starts)
    types = torch.full_like(starts, -1)
    for i, spans in enumerate(batch_spans):
        if not spans:
            continue
        t = torch.as_tensor([[s, e, TYPE_ID[ty] if isinstance(ty, str) else int(ty)] for s, e, ty in spans], dtype=torch.long)
        starts[i, : len(t)], ends[i, : len(t)], types[i, : len(t)] = t[:, 0], t[:, 1], t[:, 2]
    if selected_types is not None:
        keep = torch.zeros_like(types, dtype=torch.bool)
        for type_id in selected_types:
            keep |= types == type_id
        types = torch.where(keep, types, torch.full_like(types, -1))
    return starts, ends, types


def _rank(scores: torch.Tensor) -> torch.Tensor:
    """Rank of every element along the last dim (0 = smallest), ties broken by position."""
    return scores.argsort(dim=-1).argsort(dim=-1)


def budget_for(maskable: torch.Tensor, probability: float) -> torch.Tensor:
    """Tokens to choose per sequence: round(p × maskable), at least 1 where anything is maskable."""
    count = maskable.sum(dim=1)
    budget = torch.round(count.double() * probability).long()
    return torch.where(count > 0, budget.clamp(min=1), budget)


def choose_random(maskable: torch.Tensor, budget: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Exactly ``budget[b]`` maskable positions per row, uniformly at random."""
    scores = torch.rand(maskable.shape, generator=generator)
    scores = scores.masked_fill(~maskable, 2.0)
    return (_rank(scores) < budget[:, None]) & maskable


def choose_entities(
    maskable: torch.Tensor,
    starts: torch.Tensor,
    ends: torch.Tensor,
    types: torch.Tensor,
    budget: torch.Tensor,
    k: int | None,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """LEM selection. Returns (chosen positions (B, L) bool, type of each chosen position (B, L), -1 elsewhere).

    Entities (type >= 0, non-empty, inside the sequence) are visited in a random order; each
    contributes ``min(k, length)`` sub-words (all of them when ``k`` is None) until the budget is
    met; the entity that reaches the budget contributes only what is left of it.
    """
    batch, length = maskable.shape
    ends = ends.clamp(max=length)
    sizes = (ends - starts).clamp(min=0)
    valid = (types >= 0) & (sizes > 0)
    per_entity = sizes if k is None else sizes.clamp(max=k)
    per_entity = torch.where(valid, per_entity, torch.zeros_like(per_entity))

    # Random order of entities; invalid ones last.
    order_scores = torch.rand(types.shape, generator=generator).masked_fill(~valid, 2.0)
    order = order_scores.argsort(dim=1)
    in_order = per_entity.gather(1, order)
    before = in_order.cumsum(dim=1) - in_order
    take_in_order = (budget[:, None] - before).clamp(min=0).minimum(in_order)
    take = torch.zeros_like(take_in_order).scatter(1, order, take_in_order)

    # Within each entity, `take` distinct sub-words uniformly at random.
    width = int(sizes.max().item()) if sizes.numel() else 0
    chosen = torch.zeros_like(maskable)
    chosen_type = torch.full(maskable.shape, -1, dtype=torch.long)
    if width == 0:
        return chosen, chosen_type
    offsets = torch.arange(width)
    positions = starts[:, :, None] + offsets  # (B, S, W)
    inside = offsets < sizes[:, :, None]
    keys = torch.rand(positions.shape, generator=generator).masked_fill(~inside, 2.0)
    picked = (_rank(keys) < take[:, :, None]) & inside
    positions = positions.clamp(max=length - 1)
    rows = torch.arange(batch)[:, None, None].expand_as(positions)
    chosen[rows[picked], positions[picked]] = True
    chosen_type[rows[picked], positions[picked]] = types[:, :, None].expand_as(positions)[picked]
    chosen &= maskable
    chosen_type = chosen_type.masked_fill(~chosen, -1)
    return chosen, chosen_type


# --------------------------------------------------------------------------- strategies
@dataclass(frozen=True)
class MaskingBatch:
    """What a strategy chooses from: one padded batch."""

    input_ids: torch.Tensor   # (B, L)
    maskable: torch.Tensor    # (B, L) bool: real tokens that are not special tokens
    budget: torch.Tensor      # (B,) positions to choose per row (see budget_for)
    spans: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None  # pad_spans of the selected types; None = no entities
    k: int | None             # sub-words per chosen entity (None = whole entity)
    generator: torch.Generator


@dataclass(frozen=True)
class MaskingStrategy:
    """One masking strategy.

    choose: batch -> (chosen positions (B, L) bool, entity type id of each chosen position
        (B, L), -1 where none); draws only from ``batch.generator``, vectorised.
    needs_entities: examples carry entity spans (``batch.spans``), so pre-training reads the
        entity dictionaries.
    top_up: the collator's ``top_up`` option applies: an unmet budget is filled with random
        positions, counted in ``share_top_up``.
    """

    choose: Callable[[MaskingBatch], tuple[torch.Tensor, torch.Tensor]]
    needs_entities: bool = False
    top_up: bool = False


def untyped(chosen: torch.Tensor) -> torch.Tensor:
    """Entity types of positions chosen without entities: -1 everywhere."""
    return torch.full(chosen.shape, -1, dtype=torch.long)


def _choose_random(batch: MaskingBatch) -> tuple[torch.Tensor, torch.Tensor]:
    chosen = choose_random(batch.maskable, batch.budget, batch.generator)
    return chosen, untyped(chosen)


def _choose_lem(batch: MaskingBatch) -> tuple[torch.Tensor, torch.Tensor]:
    starts, ends, types = batch.spans
    return choose_entities(batch.maskable, starts, ends, types, batch.budget, batch.k, batch.generator)


STRATEGIES: dict[str, MaskingStrategy] = {
    "random": MaskingStrategy(choose=_choose_random),  # MLM (mono) / TLM (para)
    "lem": MaskingStrategy(choose=_choose_lem, needs_entities=True, top_up=True),
}


def masking_strategy(name: str) -> MaskingStrategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown masking strategy {name!r} (known: {', '.join(STRATEGIES)})") from None


def needs_entities(name: str) -> bool:
    """Whether masking strategy ``name`` needs entity spans (the rules and pretrain.py ask this)."""
    return masking_strategy(name).needs_entities


@dataclass
class MaskingCollator:
    """Collator of one masking strategy: MLM/TLM (``strategy='random'``), LEM (``'lem'``), or any
    other entry of :data:`STRATEGIES`.

    Args:
        pad_token_id, mask_token_id, vocab_size: from the tokenizer.
        special_token_ids: ids never masked (specials); padding is never masked either.
        strategy: a key of STRATEGIES ('random' = MLM / TLM, 'lem').
        entity_types: LEM entity types to mask (subset of NE, NOUN, VERB).
        k: sub-words per chosen entity (1 = the method; None = whole entity).
        mlm_probability: share of maskable tokens to choose.
        top_up: fill an unmet budget with random non-entity tokens (strategies with ``top_up``: LEM).
        seed: seeds the collator's own generator.
    """

    pad_token_id: int
    mask_token_id: int
    vocab_size: int
    special_token_ids: tuple[int, ...] = ()
    strategy: str = "random"
    entity_types: tuple[str, ...] = ENTITY_TYPES
    k: int | None = 1
    mlm_probability: float = 0.15
    top_up: bool = False
    mask_replace_prob: float = 0.8
    random_replace_prob: float = 0.1
    pad_to_multiple_of: int | None = None
    seed: int = 0
    stats: dict = field(default_factory=dict, init=False)

    def __post_init__(self):
        self._masking = masking_strategy(self.strategy)
        unknown = set(self.entity_types) - set(ENTITY_TYPES)
        if unknown:
            raise ValueError(f"unknown entity types {sorted(unknown)} (known: {ENTITY_TYPES})")
        if self.k is not None and self.k < 1:
            raise ValueError("k must be >= 1 or None (whole entity)")
        self.generator = torch.Generator().manual_seed(self.seed)
        self._special = torch.as_tensor(sorted(set(self.special_token_ids) | {self.pad_token_id}), dtype=torch.long)
        self._selected = {TYPE_ID[t] for t in self.entity_types}
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"sequences": 0, "tokens": 0, "maskable": 0, "masked": 0, "top_up": 0, **{f"masked_{t}": 0 for t in ENTITY_TYPES}}

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "MaskingCollator":
        return cls(
            pad_token_id=tokenizer.pad_token_id,
            mask_token_id=tokenizer.mask_token_id,
            vocab_size=len(tokenizer),
            special_token_ids=tuple(tokenizer.all_special_ids),
            **kwargs,
        )

    def select(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, batch_spans: list | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Positions to predict (B, L) and the entity type of each (-1 = random choice)."""
        maskable = attention_mask.bool() & ~torch.isin(input_ids, self._special)
        budget = budget_for(maskable, self.mlm_probability)
        spans = None
        if self._masking.needs_entities:
            spans = pad_spans(batch_spans or [[] for _ in range(len(input_ids))], self._selected)
        chosen, chosen_type = self._masking.choose(MaskingBatch(input_ids, maskable, budget, spans, self.k, self.generator))
        if self.top_up and self._masking.top_up:
            missing = (budget - chosen.sum(dim=1)).clamp(min=0)
            extra = choose_random(maskable & ~chosen, missing, self.generator)
            chosen |= extra
        return chosen, chosen_type

    def corrupt(self, input_ids: torch.Tensor, chosen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """80/10/10 corruption of the chosen positions; labels are -100 elsewhere."""
        labels = input_ids.masked_fill(~chosen, -100)
        draw = torch.rand(input_ids.shape, generator=self.generator)
        to_mask = chosen & (draw < self.mask_replace_prob)
        to_random = chosen & (draw >= self.mask_replace_prob) & (draw < self.mask_replace_prob + self.random_replace_prob)
        corrupted = input_ids.masked_fill(to_mask, self.mask_token_id)
        random_ids = torch.randint(self.vocab_size, input_ids.shape, generator=self.generator)
        corrupted = torch.where(to_random, random_ids, corrupted)
        return corrupted, labels

    def __call__(self, examples: list[dict]) -> dict:
        input_ids = _pad([e["input_ids"] for e in examples], self.pad_token_id, self.pad_to_multiple_of)
        lengths = torch.as_tensor([len(e["input_ids"]) for e in examples])
        attention_mask = (torch.arange(input_ids.shape[1])[None, :] < lengths[:, None]).long()
        if "labels" in examples[0]:
            # Already masked (a fixed validation set): pad only.
            labels = _pad([e["labels"] for e in examples], -100, self.pad_to_multiple_of)
            return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        spans = [e.get("spans", []) for e in examples] if self._masking.needs_entities else None
        chosen, chosen_type = self.select(input_ids, attention_mask, spans)
        corrupted, labels = self.corrupt(input_ids, chosen)
        self._update_stats(attention_mask, input_ids, chosen, chosen_type)
        return {"input_ids": corrupted, "attention_mask": attention_mask, "labels": labels}

    def _update_stats(self, attention_mask, input_ids, chosen, chosen_type):
        maskable = attention_mask.bool() & ~torch.isin(input_ids, self._special)
        s = self.stats
        s["sequences"] += int(input_ids.shape[0])
        s["tokens"] += int(attention_mask.sum())
        s["maskable"] += int(maskable.sum())
        s["masked"] += int(chosen.sum())
        for name, type_id in TYPE_ID.items():
            s[f"masked_{name}"] += int((chosen_type == type_id).sum())
        if self._masking.top_up:
            s["top_up"] += int((chosen & (chosen_type < 0)).sum())

    def summary(self) -> dict:
        """Masking statistics so far: share masked, and the share of masked tokens from each type."""
        s = self.stats
        masked = max(s["masked"], 1)
        out = {
            "sequences": s["sequences"],
            "share_masked": s["masked"] / max(s["maskable"], 1),
            "share_top_up": s["top_up"] / masked,
        }
        for name in ENTITY_TYPES:
            out[f"share_{name}"] = s[f"masked_{name}"] / masked
        return out
