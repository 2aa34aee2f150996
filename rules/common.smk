import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from lemflow.config_checks import check_config, validate_schema  # noqa: E402
from lemflow.errors import ConfigError, failed_job_messages, job_warnings  # noqa: E402
from lemflow import plan  # noqa: E402
from lemflow.code_deps import import_closure  # noqa: E402


def _check_workflow_config():
    """The project's own checks (not snakemake.utils.validate, which prints the first problem and the
    whole schema): every schema violation with its key path, then languages, scripts and paths;
    defaults filled in. One line per problem, then exit."""
    try:
        validate_schema(config, Path(workflow.basedir) / "config" / "schema.yaml")
        check_config(config, workflow.basedir)
    except ConfigError as err:
        files = ", ".join(str(f) for f in workflow.configfiles) or "none"
        print(f"Invalid configuration (config files: {files}); {len(err.problems)} problem(s):", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1)


_check_workflow_config()


# A failed job's `file:line: problem` (the last line of its log, see lemflow.errors.run_main) and the
# jobs' input warnings reach the console, also without a profile's show-failed-logs.
onsuccess:
    for message in job_warnings(log):
        print(message, file=sys.stderr)


onerror:
    for message in job_warnings(log):
        print(message, file=sys.stderr)
    for message in failed_job_messages(log):
        print(f"Error: {message}", file=sys.stderr)

# ----------------------------------------------------------------- paths and helpers
R = f"{config['results_dir']}/{config['run_name']}"
PYTHON = sys.executable
# Shell rules call `python`: the interpreter running Snakemake (its venv) comes first on PATH,
# for local jobs and for cluster jobs, which inherit the environment.
os.environ["PATH"] = os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "")])
# The command line, for the report's provenance (an environment variable, not a param, so that
# a different invocation does not rerun the report).
os.environ.setdefault("LEMFLOW_COMMAND", " ".join(["snakemake", *sys.argv[1:]]))
# Where models run (lemflow.device): the config's `device` unless LEMFLOW_DEVICE is already set.
# An environment variable, not a param: moving a run onto a GPU reruns nothing.
if config["device"] != "auto":
    os.environ.setdefault("LEMFLOW_DEVICE", config["device"])
SEED = int(config["seed"])
PAIRS = list(config["data"]["pairs"])




def script(name):
    return str(Path(workflow.basedir) / "workflow_scripts" / name)


def script_code(name):
    """Package source files that workflow script `name` runs: the import closure of its source
    (lemflow.code_deps), listed as the rule's inputs so that editing a module reruns exactly the
    jobs whose scripts import it, directly or not."""
    return list(import_closure(script(name), str(Path(workflow.basedir) / "src" / "lemflow")))


def pair_langs(pair):
    """'si-en' -> ['si', 'en']."""
    return pair.split("-")


def all_langs():
    return sorted({lang for pair in PAIRS for lang in pair_langs(pair)})


def as_json(obj):
    """Settings passed to a workflow script as one shell-quoted JSON argument (see `{params.settings:q}`)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def logpath(rule_name, *parts):
    return f"{os.path.join(R, 'logs', rule_name, *parts)}.log"


def benchpath(rule_name, *parts):
    return f"{os.path.join(R, 'benchmarks', rule_name, *parts)}.tsv"


def share_profile_settings(name, template):
    """Rule `name`, one of a family generated in a loop (e.g. one per pair), takes the set-threads
    and set-resources that the profile or command line gives `template`, so that profiles name the
    family once. Snakemake applies a name's own settings when it defines the rule (those still win
    here); this repeats that step with the family's."""
    from snakemake.resources import Resource

    settings = workflow.resource_settings
    generated = workflow.get_rule(name)
    threads = settings.overwrite_threads.get(template)
    if threads is not None and name not in settings.overwrite_threads:
        generated.resources["_cores"] = threads if isinstance(threads, Resource) else Resource("_cores", threads)
    if template in settings.overwrite_resources and name not in settings.overwrite_resources:
        generated.resources.update(settings.overwrite_resources[template])


# Final targets: every stage file registers a function returning its end products.
TARGET_FUNCTIONS = []


def register_targets(function):
    TARGET_FUNCTIONS.append(function)
    return function


def all_targets(wildcards):
    return [target for function in TARGET_FUNCTIONS for target in function()]


envvars:
    "PATH",


wildcard_constraints:
    pair=r"[a-z]{2,3}-[a-z]{2,3}|all",
    lang=r"[a-z]{2,3}",
    split=r"train|valid|test",
    base=r"[^/]+",
    strategy=r"[^/]+",


# ----------------------------------------------------------------- the experiment plan
# Which models are trained and which encoders are evaluated where: lemflow.plan (pure functions of
# the config, unit-tested); these wrappers pass the config. Each stage's own helpers are in
# rules/helpers/<stage>.smk, included by rules/<stage>.smk.
def strategy_settings(strategy):
    return plan.strategy_settings(config, strategy)


def model_pair(strategy, pair):
    return plan.model_pair(config, strategy, pair)


def evaluated_encoders(pair, task=None):
    return plan.evaluated_encoders(config, pair, task)


def trained_models():
    return plan.trained_models(config)


_WARNED = set()


def reference_strategy(configured, strategies, where):
    """plan.reference_strategy, with a warning (once per config key) when it falls back."""
    strategies = list(dict.fromkeys(strategies))
    chosen = plan.reference_strategy(configured, strategies)
    if chosen != configured and (where, configured) not in _WARNED:
        _WARNED.add((where, configured))
        print(f"WARNING: config {where}: {configured!r} is not evaluated in this run "
              f"(evaluated: {', '.join(strategies)}); comparing with {chosen!r} instead", file=sys.stderr)
    return chosen
