"""`lemflow` command: checks a configuration before a run (schema + files + language codes)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def validate_config(path: str | Path, check_files: bool = True) -> dict:
    """Load a config YAML (safe loader) and validate it with the workflow's schema and checks;
    raises ConfigError listing every problem (YAML errors with line and column)."""
    from .config_checks import check_config, load_config

    config = load_config(path, schema_path=REPO / "config" / "schema.yaml")
    check_config(config, REPO, check_files=check_files)
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="lemflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a config file: YAML, schema (every violation), language codes "
                                                "and scripts, and every input path (exists, readable, file or folder)")
    check.add_argument("config", nargs="?", default=str(REPO / "config.yaml"))
    check.add_argument("--no-files", action="store_true", help="do not check that input files exist")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        from .errors import ConfigError, InputError

        try:
            validate_config(args.config, check_files=not args.no_files)
        except InputError as err:  # ConfigError included: one line per problem
            problems = err.problems if isinstance(err, ConfigError) else [str(err)]
            print(f"{args.config}: invalid configuration ({len(problems)} problem{'s' * (len(problems) > 1)}):",
                  file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"{args.config}: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
