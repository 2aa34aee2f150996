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


# ------------------------------------------------------------------ shared helpers (import from conftest)
def run_snakemake(*args, check: bool = True, timeout: int = 600, env: dict | None = None):
    """Snakemake on this repository's workflow, in a subprocess with src/ on PYTHONPATH and one
    thread per job; ``check``: a failure raises with the tail of its output."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "LEMFLOW_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "snakemake", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(map(str, args))} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def snakemake_output(*args, **kwargs) -> str:
    """stdout and stderr of a successful run_snakemake."""
    proc = run_snakemake(*args, **kwargs)
    return proc.stdout + proc.stderr


def planned_rules(output: str) -> set[str]:
    """Rule names in the job-stats table of a dry run's output."""
    import re

    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+\s*$", table, flags=re.M)}


def tiny_encoder(path, words, *, seed: int = 0, hidden: int = 32, layers: int = 1, masked_lm: bool = False,
                 max_positions: int = 72, split_punctuation: bool = False):
    """A random XLM-R-architecture encoder (a masked LM when ``masked_lm``) with a word-level
    tokenizer over ``words`` (ids in that order after the five specials), saved to ``path``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaModel

    vocab = {token: i for i, token in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>", *dict.fromkeys(words)])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace() if split_punctuation else pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>")
    torch.manual_seed(seed)
    config = XLMRobertaConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers,
                              num_attention_heads=2, intermediate_size=2 * hidden,
                              max_position_embeddings=max_positions, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    (XLMRobertaForMaskedLM if masked_lm else XLMRobertaModel)(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# A tiny scratch base (XLM-R architecture, SentencePiece tokenizer, tied MLM decoder) built from
# these texts: the pre-training and MLM-head tests train on it.
SCRATCH_TEXTS = [f"word{i % 17} token{i % 5} piece{i % 11} ශ්\u200dරී லங்கா" for i in range(300)]
SCRATCH_SETTINGS = {"tokenizer": {"vocab_size": 80},
                    "model": {"layers": 1, "hidden": 32, "heads": 2, "intermediate": 64, "max_length": 32}}


@pytest.fixture(scope="session")
def scratch_base(tmp_path_factory):
    import torch

    from lemflow.base_encoder import build_scratch

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("base") / "scratch"
    build_scratch(SCRATCH_TEXTS, SCRATCH_SETTINGS, 3, out)
    return out
