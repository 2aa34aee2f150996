"""Masking strategies as a registry (lemflow.masking.STRATEGIES): the same masks as before for the
same seed, and a new strategy is a registry entry plus the schema enum, nothing else."""
import copy
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import masking_golden
from lemflow.config_checks import load_yaml_config, schema_problems, validate_schema
from lemflow.masking import STRATEGIES, MaskingCollator, MaskingStrategy, needs_entities, untyped
from lemflow.pretraining import MaskingSettings

from conftest import REPO  # noqa: E402
SCHEMA = REPO / "config" / "schema.yaml"


def schema_enum(schema: dict) -> list:
    return schema["properties"]["strategies"]["additionalProperties"]["properties"]["masking"]["enum"]


# --------------------------------------------------------------------------- same masks as before
GOLDEN = json.loads(masking_golden.GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(masking_golden.CASES))
def test_same_seed_same_masks_as_before_the_registry(name):
    """Masks, corruption and statistics of three consecutive batches equal those that masking.py
    gave before the registry (tests/data/masking_golden.json, captured at commit 91c71e7)."""
    expected = GOLDEN[name]
    assert expected["settings"] == masking_golden.CASES[name]
    got = masking_golden.run_case(expected["settings"])
    for i, (want, have) in enumerate(zip(expected["batches"], got["batches"])):
        for key in want:
            assert have[key] == want[key], f"{name}: batch {i} {key}"
    assert got["summary"] == expected["summary"]


# --------------------------------------------------------------------------- the registry
def test_schema_enum_is_the_registry():
    """The schema's `strategies.<name>.masking` enum lists exactly the registered strategies."""
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    assert schema_enum(schema) == list(STRATEGIES)
    assert needs_entities("lem") and not needs_entities("random")


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown masking strategy 'span'.*random, lem"):
        needs_entities("span")
    with pytest.raises(ValueError, match="unknown masking strategy 'span'"):
        MaskingCollator(pad_token_id=1, mask_token_id=4, vocab_size=50, strategy="span")


def test_masking_module_does_not_import_torch():
    """rules/helpers/pretrain.smk imports it while Snakemake parses the workflow: importing torch costs ~2 s."""
    code = "import sys, lemflow.masking as m; m.needs_entities('lem'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO / "src")})
    assert out.stdout.strip() == "False"


def test_no_masking_name_branches_outside_the_registry():
    """Nothing outside masking.py branches on the masking strategy's name (it asks the registry)."""
    files = [*(REPO / "rules").rglob("*.smk"), *(REPO / "workflow_scripts").glob("*.py"), REPO / "Snakefile",
             *(p for p in (REPO / "src" / "lemflow").rglob("*.py") if p.name != "masking.py")]
    branch = re.compile(r"""(==|!=|\bin\b).*["']lem["']|["']lem["']\s*(==|!=)""")
    offending = [f"{p.relative_to(REPO)}:{i}" for p in files
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if branch.search(line)]
    assert not offending


# --------------------------------------------------------------------------- a toy strategy
def every_other(batch):
    """The 1st, 3rd, 5th... maskable token of every row (no budget, no entities)."""
    chosen = batch.maskable & (batch.maskable.cumsum(dim=1) % 2 == 1)
    return chosen, untyped(chosen)


def entity_heads(batch):
    """The first sub-word of every selected entity."""
    starts, ends, types = batch.spans
    chosen = torch.zeros_like(batch.maskable)
    chosen_type = untyped(chosen)
    valid = (types >= 0) & (ends > starts) & (starts < chosen.shape[1])
    rows = torch.arange(len(starts))[:, None].expand_as(starts)
    chosen[rows[valid], starts[valid]] = True
    chosen_type[rows[valid], starts[valid]] = types[valid]
    chosen &= batch.maskable
    return chosen, chosen_type.masked_fill(~chosen, -1)


TOYS = {"every_other": MaskingStrategy(choose=every_other),
        "entity_heads": MaskingStrategy(choose=entity_heads, needs_entities=True)}


@pytest.fixture
def toys(monkeypatch):
    """The toy strategies registered (the only code a new strategy needs) for one test."""
    for name, strategy in TOYS.items():
        monkeypatch.setitem(STRATEGIES, name, strategy)
    return TOYS


@pytest.fixture
def toy_schema(tmp_path):
    """config/schema.yaml with the toy names added to the masking enum: the only other change."""
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    extended = copy.deepcopy(schema)
    schema_enum(extended).extend(TOYS)
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(extended, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def toy_config(schema_path):
    config = load_yaml_config(REPO / "config.yaml")
    config["strategies"].update({"toy_plain": {"masking": "every_other"},
                                 "toy_heads": {"masking": "entity_heads", "types": ["NE"]}})
    return validate_schema(config, schema_path)


def test_schema_accepts_a_toy_only_in_its_enum(toys, toy_schema):
    config = load_yaml_config(REPO / "config.yaml")
    config["strategies"]["toy_plain"] = {"masking": "every_other"}
    problems = schema_problems(config, SCHEMA)
    assert len(problems) == 1 and problems[0].startswith("config key strategies.toy_plain.masking:")
    assert schema_problems(config, toy_schema) == []


def uses_entities_of_the_rules(strategies: dict):
    """`uses_entities` as rules/helpers/pretrain.smk defines it, with `strategy_settings` over ``strategies``."""
    text = (REPO / "rules" / "helpers" / "pretrain.smk").read_text(encoding="utf-8")
    source = re.search(r"^def uses_entities\(.*?(?=^\S)", text, re.S | re.M).group(0)
    namespace = {"strategy_settings": strategies.__getitem__}
    exec(source, namespace)
    return namespace["uses_entities"]


def test_rules_ask_the_registry(toys, toy_schema):
    config = toy_config(toy_schema)
    uses_entities = uses_entities_of_the_rules(config["strategies"])
    assert uses_entities("toy_heads") and uses_entities("lem")
    assert not uses_entities("toy_plain") and not uses_entities("mlm_tlm")


PAD, MASK, CLS, SEP = 1, 4, 0, 2


def toy_collator(settings, seed=3):
    m = MaskingSettings.from_strategy(settings)
    return MaskingCollator(pad_token_id=PAD, mask_token_id=MASK, vocab_size=100, special_token_ids=(CLS, PAD, SEP, MASK),
                           strategy=m.masking, entity_types=m.types, k=m.k, top_up=m.top_up,
                           mlm_probability=m.mlm_probability, seed=seed)


def toy_batch():
    return [{"input_ids": [CLS] + list(range(10, 30)) + [SEP], "spans": [(1, 3, "NE"), (5, 6, "VERB"), (8, 11, "NE")]},
            {"input_ids": [CLS] + list(range(40, 47)) + [SEP], "spans": [(2, 4, "NOUN"), (6, 8, "NE")]}]


def test_toy_strategies_in_the_collator(toys, toy_schema):
    config = toy_config(toy_schema)
    plain = toy_collator(config["strategies"]["toy_plain"])
    out = plain(toy_batch())
    chosen = out["labels"] != -100
    assert chosen[0].nonzero().flatten().tolist() == list(range(1, 21, 2))
    assert chosen[1].nonzero().flatten().tolist() == [1, 3, 5, 7]
    original = torch.as_tensor(toy_batch()[0]["input_ids"])
    assert torch.equal(out["labels"][0][chosen[0]], original[chosen[0]])
    assert plain.summary()["share_masked"] == 14 / 27 and plain.summary()["share_top_up"] == 0
    again = toy_collator(config["strategies"]["toy_plain"])(toy_batch())
    assert torch.equal(again["input_ids"], out["input_ids"])  # seeded corruption

    heads = toy_collator(config["strategies"]["toy_heads"])  # types: [NE]
    out = heads(toy_batch())
    chosen = out["labels"] != -100
    assert chosen[0].nonzero().flatten().tolist() == [1, 8] and chosen[1].nonzero().flatten().tolist() == [6]
    assert heads.summary()["share_NE"] == 1.0


def load_pretrain_script():
    spec = importlib.util.spec_from_file_location("pretrain_script", REPO / "workflow_scripts" / "pretrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,share", [("toy_plain", None), ("toy_heads", "share_NE")])
def test_toy_strategy_pretraining_step(toys, toy_schema, tmp_path, name, share):
    """Two optimiser steps of workflow_scripts/pretrain.py with a toy strategy (in this process,
    where the toy is registered): the entity toy reads the entity dictionary, the other does not."""
    from test_pretrain import make_run

    config = toy_config(toy_schema)
    make_run(tmp_path, n_train=24, n_valid=8)
    if not needs_entities(config["strategies"][name]["masking"]):
        for f in (tmp_path / "dictionary").rglob("*.jsonl"):
            f.unlink()  # not read without entities
    settings = {"max_length": 32, "mlm_probability": 0.15, "precision": "fp32", "head_warmup_steps": 0, "freeze_embeddings": False,
                "mono": {"max_steps": 2, "batch_size": 8, "learning_rate": 1e-3, "eval_every": 2}}
    out = tmp_path / "mono"
    load_pretrain_script().main([
        "--stage", "mono", "--init", str(tmp_path / "base"), "--pairs", "si-en", "--data-root", str(tmp_path / "data"),
        "--dictionary-root", str(tmp_path / "dictionary"), "--strategy", json.dumps(config["strategies"][name]),
        "--settings", json.dumps(settings), "--seed", "1", "--out", str(out), "--metrics", f"{out}.metrics.json",
        "--loss", f"{out}.loss.tsv", "--work", f"{out}.work"])
    metrics = json.loads(Path(f"{out}.metrics.json").read_text())
    stats = metrics["masking_stats"]
    assert metrics["global_steps"] == 2 and (out / "model.safetensors").exists()
    if share:  # the dictionary's spans reached the toy: every masked token is an entity head of type NE
        assert stats[share] == 1.0
    else:  # every other token, far from the 15% budget that random masking would choose
        assert 0.5 <= stats["share_masked"] < 0.7 and stats["share_NE"] == 0
