import json
import sys
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../config/schema.yaml")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from lemflow.config_checks import check_config  # noqa: E402

check_config(config, workflow.basedir)

# ----------------------------------------------------------------- paths and helpers
R = f"{config['results_dir']}/{config['run_name']}"
PYTHON = sys.executable
SEED = int(config["seed"])
PAIRS = list(config["data"]["pairs"])


def pkg(*modules):
    """Package source files a rule depends on: editing one reruns exactly its rules."""
    return [str(Path(workflow.basedir) / "src" / "lemflow" / m) for m in ("__init__.py", "io.py", "errors.py", *modules)]


def script(name):
    return str(Path(workflow.basedir) / "workflow_scripts" / name)


def pair_langs(pair):
    """'si-en' -> ['si', 'en']."""
    return pair.split("-")


def all_langs():
    return sorted({lang for pair in PAIRS for lang in pair_langs(pair)})


def as_json(obj):
    """Settings passed to a workflow script as one shell-quoted JSON argument (see `{params.settings:q}`)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def logpath(rule_name, *parts):
    return f"{R}/logs/{rule_name}/" + "/".join(parts) + ".log"


def benchpath(rule_name, *parts):
    return f"{R}/benchmarks/{rule_name}/" + "/".join(parts) + ".tsv"


# Final targets: every stage file registers a function returning its end products.
TARGET_FUNCTIONS = []


def register_targets(function):
    TARGET_FUNCTIONS.append(function)
    return function


def all_targets(wildcards):
    return [target for function in TARGET_FUNCTIONS for target in function()]


wildcard_constraints:
    pair=r"[a-z]{2,3}-[a-z]{2,3}|all",
    lang=r"[a-z]{2,3}",
    split=r"train|valid|test",
    base=r"[^/]+",
    strategy=r"[^/]+",


# ----------------------------------------------------------------- encoders
# An encoder is (base, strategy) evaluated on a pair. Strategy "base" is the untouched base
# encoder; a strategy with `joint: true` trains one model on every pair (model pair "all").
def strategy_settings(strategy):
    return config.get("strategies", {})[strategy]


def model_pair(strategy, pair):
    if strategy != "base" and strategy_settings(strategy).get("joint", False):
        return "all"
    return pair


def encoder_dir(base, strategy, pair):
    """Hugging Face directory of an encoder as used for evaluation on `pair`."""
    if strategy == "base":
        return f"{R}/base/{base}"
    return f"{R}/encoders/{base}/{strategy}/{model_pair(strategy, pair)}"


def evaluated_encoders(pair, task=None):
    """(base, strategy) pairs to evaluate on `pair` for `task` (mining, curation, sentiment):
    the untouched base of every listed base, then every trained strategy whose `encoders`
    entry covers this pair and task."""
    found = []
    for entry in config.get("encoders", []):
        if pair not in entry.get("pairs", PAIRS):
            continue
        if task is not None and task not in entry.get("tasks", [task]):
            continue
        for base in entry["bases"]:
            for strategy in ["base", *entry["strategies"]]:
                if (base, strategy) not in found:
                    found.append((base, strategy))
    return found


def trained_models():
    """(base, strategy, model_pair) of every model that continual pre-training must produce."""
    models = []
    for entry in config.get("encoders", []):
        for pair in entry.get("pairs", PAIRS):
            for base in entry["bases"]:
                for strategy in entry["strategies"]:
                    key = (base, strategy, model_pair(strategy, pair))
                    if key not in models:
                        models.append(key)
    return models
