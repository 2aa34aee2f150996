"""``lemflow_base.json``: what lemflow records in every model directory it writes (its source,
whether its MLM head is fresh, the sentence prefix it asks for, its vocabulary trim, what it was
continued from). Every reader and writer goes through these functions."""
from __future__ import annotations

import json
from pathlib import Path

META_FILE = "lemflow_base.json"


def read_meta(model_dir: str | Path) -> dict:
    """The directory's metadata; {} for a model lemflow did not write. Bad JSON is an InputError."""
    from .errors import InputError
    from .io import read_text_strict

    path = Path(model_dir) / META_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(read_text_strict(path))
    except json.JSONDecodeError as err:
        raise InputError(path, f"invalid JSON: {err.msg}", err.lineno) from None


def write_meta(model_dir: str | Path, meta: dict) -> None:
    """Write the metadata into a model directory (callers write into their atomic temporary directory)."""
    (Path(model_dir) / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
