"""Pre-training seeds in encoder names.

``pretrain.seeds: N`` trains every (base, strategy, pair) N times. Seed index 0 keeps the
strategy's own name (so a one-seed run keeps its paths); seed index n > 0 is the strategy name
with ``@s<n>`` appended (``lem@s1``), which every downstream path and result carries. The
training seed of index n is ``config seed + SEED_STRIDE * n`` (masks, data order and the
initialisation of any new weights all follow it).
"""
from __future__ import annotations

import re

MARK = "@s"
SEED_STRIDE = 1009
_SEEDED = re.compile(r"^(?P<strategy>.+)@s(?P<index>[1-9][0-9]*)$")


def seeded_name(strategy: str, index: int) -> str:
    """'lem', 0 -> 'lem'; 'lem', 2 -> 'lem@s2'."""
    return strategy if int(index) == 0 else f"{strategy}{MARK}{int(index)}"


def split_seeded(name: str) -> tuple[str, int]:
    """'lem@s2' -> ('lem', 2); 'lem' -> ('lem', 0)."""
    match = _SEEDED.match(name)
    return (match["strategy"], int(match["index"])) if match else (name, 0)


def training_seed(config_seed: int, index: int) -> int:
    return int(config_seed) + SEED_STRIDE * int(index)
