"""Checks of the configuration beyond the JSON schema, run when the Snakefile is parsed, so
that a wrong language code or a missing corpus stops the run before any stage starts."""
from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .languages import check_language, split_pair
from .readers import parallel_input_files


def check_config(config: dict, basedir: str | Path = ".", check_files: bool = True) -> None:
    """Raise InputError naming the config key (and file) that is wrong.

    Relative paths are relative to the working directory Snakemake runs in (the repository
    root); ``basedir`` is accepted for callers that want to state it."""
    extra = frozenset(config.get("extra_languages", []))
    data = config["data"]
    for pair, spec in data["pairs"].items():
        src, tgt = split_pair(pair, extra, where=f"config data.pairs.{pair}")
        if check_files:
            for path in parallel_input_files(spec, src, tgt):
                if not Path(path).exists():
                    raise InputError(path, f"file does not exist (config data.pairs.{pair}.path)")
    for lang, path in (data.get("independent_mono") or {}).items():
        check_language(lang, extra, where=f"config data.independent_mono.{lang}")
        if check_files and not Path(path).exists():
            raise InputError(path, f"file does not exist (config data.independent_mono.{lang})")
    mining = config.get("mining") or {}
    for pair, sets in (mining.get("calibration") or {}).items():
        comparable = (mining.get("comparable") or {}).get(pair, {})
        for test, calibration in sets.items():
            where = f"config mining.calibration.{pair}.{test}"
            if test == calibration:
                raise ValueError(f"{where}: a threshold may not be calibrated on the test set itself")
            for name in (test, calibration):
                if name not in comparable:
                    raise ValueError(f"{where}: {name!r} is not a comparable set of {pair} "
                                     f"(mining.comparable.{pair}: {sorted(comparable)})")
