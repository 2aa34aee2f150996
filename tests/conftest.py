import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_collection_modifyitems(config, items):
    if SHARED_DATA.exists():
        return
    skip = pytest.mark.skip(reason=f"needs the shared data at {SHARED_DATA}")
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def repo():
    return REPO


@pytest.fixture
def shared_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"needs {SHARED_DATA}")
    return SHARED_DATA
