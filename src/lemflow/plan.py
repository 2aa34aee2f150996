"""The experiment plan: which models are trained and which encoders are evaluated where.

Pure functions of the validated config dict (defaults filled in by config/schema.yaml), shared by
the rules (rules/*.smk) and unit-tested without Snakemake. An encoder is (base, strategy) evaluated
on a pair; strategy "base" is the untouched base encoder; a strategy with ``joint: true`` trains one
model on every pair (model pair "all"). With ``pretrain.seeds`` (or an entry's ``seeds``) N > 1,
pre-training run n > 0 of a strategy is the strategy ``<strategy>@s<n>`` (lemflow.seeds).
"""
from __future__ import annotations

from lemflow.seeds import seeded_name, split_seeded

UNTOUCHED = "base"  # the strategy name of an untouched base encoder
RANDOM_BASELINE = "random"  # the random-N curation baseline: its selection id (R/curation/random) and strategy name
RANDOM_SYSTEM = ("none", RANDOM_BASELINE)  # its (base, strategy) in the NMT manifest, before it is paired with bases
STAGE_SECTIONS = ("head", "mono", "para", "seeds")  # pretrain keys that are not shared by every stage


def pairs(config: dict) -> list[str]:
    return list(config["data"]["pairs"])


def strategy_settings(config: dict, strategy: str) -> dict:
    """strategies.<name> of a (possibly seeded, 'lem@s1') strategy name."""
    return config.get("strategies", {})[split_seeded(strategy)[0]]


def model_pair(config: dict, strategy: str, pair: str) -> str:
    """The pair a strategy's model for `pair` is trained on: "all" for a joint strategy."""
    if strategy != UNTOUCHED and strategy_settings(config, strategy).get("joint", False):
        return "all"
    return pair


def entry_strategies(config: dict, entry: dict) -> list[str]:
    """An `encoders` entry's strategies, each once per pre-training seed (lemflow.seeds)."""
    seeds = int(entry.get("seeds", config.get("pretrain", {}).get("seeds", 1)))
    return [seeded_name(strategy, n) for strategy in entry["strategies"] for n in range(seeds)]


def evaluated_encoders(config: dict, pair: str, task: str | None = None) -> list[tuple[str, str]]:
    """(base, strategy) pairs to evaluate on `pair` for `task` (mining, curation, sentiment):
    the untouched base of every listed base, then every trained strategy whose `encoders`
    entry covers this pair and task."""
    found = []
    for entry in config.get("encoders", []):
        if pair not in entry.get("pairs", pairs(config)):
            continue
        if task is not None and task not in entry.get("tasks", [task]):
            continue
        for base in entry["bases"]:
            for strategy in [UNTOUCHED, *entry_strategies(config, entry)]:
                if (base, strategy) not in found:
                    found.append((base, strategy))
    return found


def trained_models(config: dict) -> list[tuple[str, str, str]]:
    """(base, strategy, model_pair) of every model that continual pre-training must produce."""
    models = []
    for entry in config.get("encoders", []):
        for pair in entry.get("pairs", pairs(config)):
            for base in entry["bases"]:
                for strategy in entry_strategies(config, entry):
                    key = (base, strategy, model_pair(config, strategy, pair))
                    if key not in models:
                        models.append(key)
    return models


def dictionary_bases(config: dict) -> list[str]:
    """Every base named in `encoders` (each gets entity dictionaries and, when configured, an
    embedding prefix/layer choice)."""
    return sorted({base for entry in config.get("encoders", []) for base in entry["bases"]})


def uses_gold_tags(config: dict, strategy: str) -> bool:
    return strategy != UNTOUCHED and strategy_settings(config, strategy).get("tags", "tagger") == "gold"


def gold_tags_needed(config: dict) -> bool:
    """Whether any trained strategy masks with gold NEs (then rule tag_gold writes R/tags_gold)."""
    return any(uses_gold_tags(config, strategy) for _, strategy, _ in trained_models(config))


def stage_settings(config: dict, stage: str, base: str) -> dict:
    """The pretrain section for one stage of one base: base_encoders.<base>.pretrain.<stage>
    overrides pretrain.<stage> key by key (e.g. more data for a scratch model)."""
    pretrain = config.get("pretrain", {})
    own = config["base_encoders"][base].get("pretrain", {}).get(stage, {})
    merged = {**pretrain.get(stage, {}), **own}
    return {**{k: v for k, v in pretrain.items() if k not in STAGE_SECTIONS}, stage: merged}


def curation_pairs(config: dict) -> list[str]:
    curation = config.get("curation")
    if not curation:
        return []
    return list(curation.get("pairs") or pairs(config))


def curation_sizes(config: dict) -> list[int]:
    curation = config.get("curation")
    return [int(n) for n in curation["sizes"]] if curation else []


def curation_encoders(config: dict, pair: str) -> list[tuple[str, str]]:
    """(base, strategy) whose margin scores select data for `pair`: the encoders evaluated on
    the curation task, restricted to curation.strategies when given ("base" = untouched base;
    a plain strategy name selects every pre-training seed of it, ``lem`` -> lem, lem@s1, ...;
    ``<name>@s1`` names seed 1 alone)."""
    wanted = (config.get("curation") or {}).get("strategies")
    return [(base, strategy) for base, strategy in evaluated_encoders(config, pair, "curation")
            if wanted is None or strategy in wanted or split_seeded(strategy)[0] in wanted]


def curation_selections(config: dict, pair: str) -> list[str]:
    """Selection ids under R/curation/ and R/nmt/: '<base>/<strategy>' per encoder, 'random'."""
    selections = [f"{base}/{strategy}" for base, strategy in curation_encoders(config, pair)]
    if (config.get("curation") or {}).get("random_baseline", True):
        selections.append(RANDOM_BASELINE)
    return selections


def nmt_manifest(config: dict, root: str) -> list[dict]:
    """One entry per (pair, selection, N): where its selection report, scores and hypotheses are
    (under the run's results folder `root`)."""
    entries = []
    translate = runs_nmt(config)
    for pair in curation_pairs(config):
        tgt = pair.split("-")[1]
        for selection in curation_selections(config, pair):
            base, _, strategy = selection.partition("/")
            if selection == RANDOM_BASELINE:
                base, strategy = RANDOM_SYSTEM
            for n in curation_sizes(config):
                run = f"{root}/nmt/{selection}/{pair}/top{n}"
                entries.append({"pair": pair, "n": n, "base": base, "strategy": strategy,
                                "selection": f"{root}/curation/{selection}/{pair}/selection.json",
                                "scores": f"{run}/scores.json" if translate else None,
                                "hyp": f"{run}/hyp.{tgt}" if translate else None})
    return entries


def runs_nmt(config: dict) -> bool:
    """Whether curated selections are also scored by NMT (curation.nmt; CPU runs may leave it out:
    then R/nmt/results.csv holds the curation rows only)."""
    return bool((config.get("curation") or {}).get("nmt", True))


def reference_strategy(configured: str, strategies) -> str:
    """The strategy the others are compared with: ``configured`` when this run evaluates it,
    else the untouched base ("base"; else the first evaluated strategy)."""
    strategies = list(dict.fromkeys(strategies))
    if not strategies or configured in strategies:
        return configured
    return UNTOUCHED if UNTOUCHED in strategies else strategies[0]


def plan_problems(config: dict) -> list[str]:
    """Every name in the plan that the config does not define, one line each with its key:
    bases and strategies of `encoders`, curation's pairs and strategies, the transformer NER's
    and POS tagger's base. (An `encoders` pair outside data.pairs is left alone: configs cut down to fewer pairs
    keep the demo's entries and target single files.)"""
    problems = []
    bases = config.get("base_encoders") or {}
    strategies = config.get("strategies") or {}
    configured_pairs = list((config.get("data") or {}).get("pairs") or {})
    for i, entry in enumerate(config.get("encoders") or []):
        for base in entry.get("bases", []):
            if base not in bases:
                problems.append(f"config key encoders[{i}].bases: {base!r} is not a base encoder "
                                f"(base_encoders: {sorted(bases)})")
        for strategy in entry.get("strategies", []):
            if strategy not in strategies:
                problems.append(f"config key encoders[{i}].strategies: {strategy!r} is not a strategy "
                                f"(strategies: {sorted(strategies)})")
    curation = config.get("curation") or {}
    for pair in curation.get("pairs") or []:
        if pair not in configured_pairs:
            problems.append(f"config key curation.pairs: {pair} is not a configured pair (data.pairs: {configured_pairs})")
    if RANDOM_BASELINE in (curation.get("strategies") or []):
        problems.append(f"config key curation.strategies: {RANDOM_BASELINE!r} is the random baseline (curation.random_baseline)")
    tagging = config.get("tagging") or {}
    for backend, key in (("ner_backend", "transformer"), ("pos_backend", "transformer_pos")):
        if any((spec or {}).get(backend) == "transformer" for spec in (tagging.get("languages") or {}).values()):
            base = (tagging.get(key) or {}).get("base")
            if base not in bases:
                problems.append(f"config key tagging.{key}.base: must name one of base_encoders "
                                f"({sorted(bases)}), got {base!r}")
    return problems
