"""`lemflow` command: checks a configuration before a run (schema + files + language codes)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def validate_config(path: str | Path, check_files: bool = True) -> dict:
    """Load a config YAML and validate it with the workflow's schema and checks."""
    import yaml
    from snakemake.utils import validate

    from .config_checks import check_config

    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    validate(config, str(REPO / "config" / "schema.yaml"))
    check_config(config, REPO, check_files=check_files)
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lemflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a config file against the schema and check its inputs")
    check.add_argument("config", nargs="?", default=str(REPO / "config.yaml"))
    check.add_argument("--no-files", action="store_true", help="do not check that input files exist")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        try:
            validate_config(args.config, check_files=not args.no_files)
        except Exception as err:  # schema errors come as WorkflowError, file errors as InputError
            print(f"{args.config}: invalid configuration:\n{err}", file=sys.stderr)
            return 1
        print(f"{args.config}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
