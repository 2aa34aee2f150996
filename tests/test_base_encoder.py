"""Base encoder sources (scratch, path) and the MLM-head warm-up of a fresh head."""
import json

import pytest
import torch

from lemflow.base_encoder import build_base_encoder, build_scratch, copy_local
from lemflow.errors import InputError
from lemflow.masking import MaskingCollator
from lemflow.pretraining import MaskingSettings, StageSettings, mono_example, special_layout, train_stage

from conftest import SCRATCH_SETTINGS as SMALL, SCRATCH_TEXTS as TEXTS  # noqa: E402


@pytest.fixture
def scratch(scratch_base):
    return scratch_base


def test_scratch_base_layout_and_seeded_init(scratch, tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    assert tok.convert_ids_to_tokens([0, 1, 2, 3]) == ["<s>", "<pad>", "</s>", "<unk>"]
    assert tok.convert_ids_to_tokens(len(tok) - 1) == "<mask>"
    meta = json.loads((scratch / "lemflow_base.json").read_text())
    assert meta["source"] == "scratch" and meta["fresh_mlm_head"] is False
    assert "hidden 32, 2 heads" in (scratch / "model_card.md").read_text()
    again = tmp_path / "again"
    build_scratch(TEXTS, SMALL, 3, again)  # same seed, same weights
    a, b = AutoModelForMaskedLM.from_pretrained(scratch), AutoModelForMaskedLM.from_pretrained(again)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_path_source_copies_a_local_model(scratch, tmp_path):
    from transformers import AutoModelForMaskedLM

    summary = build_base_encoder({"source": "path", "path": str(scratch)}, tmp_path / "copy")
    assert summary == {"source": "path", "trim_vocab": False}
    assert AutoModelForMaskedLM.from_pretrained(tmp_path / "copy").config.hidden_size == 32
    # the scratch base's own metadata is kept
    assert json.loads((tmp_path / "copy" / "lemflow_base.json").read_text())["source"] == "scratch"


def test_bad_sources_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        copy_local(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(InputError, match="unknown base encoder source"):
        build_base_encoder({"source": "hub"}, tmp_path / "out2")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out2").exists()


def test_head_warmup_freezes_the_body(scratch, tmp_path):
    """With head_warmup_steps >= the steps run, only the MLM head moves (the tied decoder = the
    body's embeddings stays too)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    layout = special_layout(tok)
    examples = [mono_example(layout, tok(t, add_special_tokens=False)["input_ids"], [], 32) for t in TEXTS[:64]]
    stage = StageSettings(max_steps=4, batch_size=16, learning_rate=1e-2, warmup=0, eval_every=4, patience=5)
    train_stage(init_model=scratch, train_examples=examples, valid_examples=examples[:16],
                masking=MaskingSettings(masking="random"), stage=stage, out_dir=tmp_path / "out",
                work_dir=tmp_path / "work", seed=0, head_warmup_steps=10)
    before, after = AutoModelForMaskedLM.from_pretrained(scratch), AutoModelForMaskedLM.from_pretrained(tmp_path / "out")
    for (name, x), y in zip(before.state_dict().items(), after.state_dict().values()):
        if name.startswith("roberta."):
            assert torch.equal(x, y), name
    assert not torch.equal(before.lm_head.dense.weight, after.lm_head.dense.weight)
    assert json.loads((tmp_path / "out" / "lemflow_base.json").read_text())["fresh_mlm_head"] is False


def test_collator_from_scratch_tokenizer_never_masks_specials(scratch):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    collator = MaskingCollator.from_tokenizer(tok, mlm_probability=0.5, seed=1)
    batch = collator([{"input_ids": tok(t)["input_ids"]} for t in TEXTS[:20]])
    specials = torch.isin(torch.as_tensor([tok(t)["input_ids"][0] for t in TEXTS[:1]]), torch.tensor(tok.all_special_ids))
    assert specials.all()
    assert (batch["labels"][:, 0] == -100).all()  # <s> never chosen
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()
