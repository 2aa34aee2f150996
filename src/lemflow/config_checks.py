"""Checks of the configuration beyond the JSON schema, run when the Snakefile is parsed, so
that a wrong language code or a missing corpus stops the run before any stage starts."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError, InputError
from .languages import check_language, check_script_name, extra_language_codes, split_pair
from .plan import plan_problems
from .readers import parallel_input_files

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"


# --------------------------------------------------------------------------- YAML
def load_yaml_config(path: str | Path) -> dict:
    """A config file read with the safe YAML loader. A syntax error or an unsafe tag raises
    ConfigError ``file:line:column: problem`` (Snakemake only says the file is not valid YAML)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file does not exist"]) from None
    except UnicodeDecodeError as err:
        raise ConfigError([f"{path}: invalid UTF-8 at byte offset {err.start}"]) from None
    try:
        config = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(p for p in (err.context, err.problem) if p)
        if isinstance(err, yaml.constructor.ConstructorError) and "tag" in str(err.problem):
            problem += " (python/... and other unsafe tags are not allowed in a config)"
        raise ConfigError([f"{where}: {problem}"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{path}: {' '.join(str(err).split())}"]) from None
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError([f"{path}: a config must be a mapping of keys at top level, found {type(config).__name__}"])
    return config


# --------------------------------------------------------------------------- schema
def _key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def schema_problems(config: dict, schema_path: str | Path = SCHEMA) -> list[str]:
    """Every schema violation, one line each: ``config key <path>: <message>`` (no schema dump)."""
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        # an anyOf/oneOf failure is clearer through its closest sub-error
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        message = best.message
        if len(message) > 300:
            message = message[:300] + "..."
        problems.append(f"config key {_key_path(best.absolute_path)}: {message}")
    return list(dict.fromkeys(problems))


def validate_schema(config: dict, schema_path: str | Path = SCHEMA) -> dict:
    """Raise ConfigError listing every violation; else fill in the schema's defaults (in place)."""
    problems = schema_problems(config, schema_path)
    if problems:
        raise ConfigError(problems)
    from snakemake.utils import validate

    validate(config, str(schema_path), set_default=True)
    return config


def load_config(paths, overrides: dict | None = None, schema_path: str | Path = SCHEMA) -> dict:
    """The config as the workflow sees it: the files merged in order (later keys win, nested
    mappings merged, as Snakemake does), ``overrides`` on top, validated, defaults filled in."""
    from snakemake.utils import update_config

    config: dict = {}
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        update_config(config, load_yaml_config(path))
    if overrides:
        update_config(config, overrides)
    return validate_schema(config, schema_path)


# --------------------------------------------------------------------------- files and languages
def config_paths(config: dict) -> list[tuple[str, str, str]]:
    """(config key, path, kind) of every input the config names; kind: file, dir or any
    (a zip file or its unpacked folder)."""
    found: list[tuple[str, str, str]] = []

    def add(key, path, kind="file"):
        if path:
            found.append((key, str(path), kind))

    data = config.get("data", {})
    for pair, spec in (data.get("pairs") or {}).items():
        src, tgt = (pair.split("-") + ["", ""])[:2]
        kind = "any" if spec.get("format") == "multiner" else "file"
        for path in parallel_input_files(spec, src, tgt):
            add(f"data.pairs.{pair}.path", path, kind)
    for lang, path in (data.get("independent_mono") or {}).items():
        add(f"data.independent_mono.{lang}", path)
    for lang, spec in ((config.get("tagging") or {}).get("languages") or {}).items():
        key = f"tagging.languages.{lang}"
        add(f"{key}.stanza_dir", spec.get("stanza_dir"), "dir")
        for layer in ("pos", "ner"):
            for part in ("train", "heldout"):
                for i, source in enumerate((spec.get(layer) or {}).get(part, [])):
                    add(f"{key}.{layer}.{part}[{i}].path", source.get("path"),
                        "any" if source.get("format") == "multiner" else "file")
        for i, source in enumerate(spec.get("gold") or []):
            add(f"{key}.gold[{i}].path", source.get("path"), "any" if source.get("format") == "multiner" else "file")
        for name, path in (spec.get("lexicon") or {}).items():
            add(f"{key}.lexicon.{name}", path)
    for name, spec in (config.get("base_encoders") or {}).items():
        if spec.get("source") == "path":
            add(f"base_encoders.{name}.path", spec.get("path"), "dir")
        add(f"base_encoders.{name}.image", spec.get("image"))
    mining = config.get("mining") or {}
    for pair, sets in (mining.get("comparable") or {}).items():
        for dataset, folder in sets.items():
            add(f"mining.comparable.{pair}.{dataset}", folder, "dir")
    for pair, sets in (mining.get("parallel") or {}).items():
        for dataset, files in sets.items():
            for lang, path in files.items():
                add(f"mining.parallel.{pair}.{dataset}.{lang}", path)
    for pair, spec in ((config.get("curation") or {}).get("noisy") or {}).items():
        src, tgt = (pair.split("-") + ["", ""])[:2]
        for path in parallel_input_files(spec, src, tgt):
            add(f"curation.noisy.{pair}.path", path)
        add(f"curation.noisy.{pair}.labels", spec.get("labels"))
    nmt = config.get("nmt") or {}
    for pair, spec in (nmt.get("test_sets") or {}).items():
        add(f"nmt.test_sets.{pair}.source", spec.get("source"))
        for i, path in enumerate(spec.get("references") or []):
            add(f"nmt.test_sets.{pair}.references[{i}]", path)
    add("nmt.spbleu_model", nmt.get("spbleu_model"))
    for pair, spec in ((config.get("sentiment") or {}).get("pairs") or {}).items():
        for part in ("train", "dev", "test"):
            add(f"sentiment.pairs.{pair}.{part}", spec.get(part))
    return found


def path_problem(path: str, kind: str) -> str | None:
    """Why ``path`` cannot be read as a ``kind`` (file, dir, any), or None."""
    p = Path(path)
    if not p.exists():
        return {"file": "file does not exist", "dir": "folder does not exist"}.get(kind, "does not exist")
    if kind == "file" and not p.is_file():
        return "is a folder, expected a file" if p.is_dir() else "is not a regular file"
    if kind == "dir" and not p.is_dir():
        return "is a file, expected a folder"
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        return "is not readable (permissions)"
    return None


def config_languages(config: dict) -> list[tuple[str, str]]:
    """(config key, language code or pair) of every language the config names."""
    found = [(f"data.pairs.{pair}", pair) for pair in (config.get("data", {}).get("pairs") or {})]
    found += [(f"data.independent_mono.{lang}", lang) for lang in (config.get("data", {}).get("independent_mono") or {})]
    found += [(f"tagging.languages.{lang}", lang) for lang in ((config.get("tagging") or {}).get("languages") or {})]
    mining = config.get("mining") or {}
    for section in ("comparable", "parallel"):
        for pair, sets in (mining.get(section) or {}).items():
            found.append((f"mining.{section}.{pair}", pair))
            if section == "parallel":
                found += [(f"mining.parallel.{pair}.{d}.{lang}", lang) for d, files in sets.items() for lang in files]
    found += [(f"curation.noisy.{pair}", pair) for pair in ((config.get("curation") or {}).get("noisy") or {})]
    found += [(f"nmt.test_sets.{pair}", pair) for pair in ((config.get("nmt") or {}).get("test_sets") or {})]
    found += [(f"sentiment.pairs.{pair}", pair) for pair in ((config.get("sentiment") or {}).get("pairs") or {})]
    return found


def calibration_problems(config: dict) -> list[str]:
    """A mining threshold is calibrated on another comparable set of the same pair, never on the
    test set itself."""
    problems = []
    mining = config.get("mining") or {}
    for pair, sets in (mining.get("calibration") or {}).items():
        comparable = (mining.get("comparable") or {}).get(pair, {})
        for test, calibration in sets.items():
            where = f"config key mining.calibration.{pair}.{test}"
            if test == calibration:
                problems.append(f"{where}: a threshold may not be calibrated on the test set itself")
            for name in dict.fromkeys((test, calibration)):
                if name not in comparable:
                    problems.append(f"{where}: {name!r} is not a comparable set of {pair} "
                                    f"(mining.comparable.{pair}: {sorted(comparable)})")
    return problems


def config_problems(config: dict, check_files: bool = True) -> list[str]:
    """Every problem with the config's languages, scripts and (``check_files``) input paths,
    one line each."""
    problems = []
    extra_entries = config.get("extra_languages", []) or []
    extra = extra_language_codes(extra_entries)
    for i, entry in enumerate(extra_entries):
        if isinstance(entry, dict) and entry.get("script"):
            try:
                check_script_name(entry["script"], where=f"config key extra_languages[{i}].script")
            except InputError as err:
                problems.append(str(err))
    for key, code in config_languages(config):
        try:
            if "-" in code:
                split_pair(code, extra, where=f"config key {key}")
            else:
                check_language(code, extra, where=f"config key {key}")
        except InputError as err:
            problems.append(str(err))
    problems += calibration_problems(config)
    if check_files:
        for key, path, kind in config_paths(config):
            problem = path_problem(path, kind)
            if problem:
                problems.append(f"{path}: {problem} (config key {key})")
    return list(dict.fromkeys(problems))


def check_config(config: dict, basedir: str | Path = ".", check_files: bool = True) -> None:
    """Raise ConfigError listing every wrong language code, script name and (``check_files``)
    missing, unreadable or wrong-kind input path, and every name in the experiment plan that the
    config does not define (lemflow.plan.plan_problems), each with its config key.

    Relative paths are relative to the working directory Snakemake runs in (the repository
    root); ``basedir`` is accepted for callers that want to state it."""
    problems = [*config_problems(config, check_files), *plan_problems(config)]
    if problems:
        raise ConfigError(problems)


def exit_on_bad_yaml(path: str | Path) -> None:
    """For the Snakefile, before its ``configfile:``: a YAML error in ``path`` ends the run with
    ``file:line:column: problem`` (a missing file is left to Snakemake)."""
    import sys

    if not Path(path).exists():
        return
    try:
        load_yaml_config(path)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(1)
