"""The new MLM head trained on cached features (lemflow.head_training), the drift probe
(lemflow.drift) and frozen embeddings in a pre-training stage."""
import json

import numpy as np
import pytest
import torch

from lemflow.drift import DriftProbe, knn_overlap, mean_cosine, p_at_1, read_drift_rows
from lemflow.head_training import (HeadSettings, cache_features, draw_plan, head_loss, mask_draws,
                                   trainable_head_parameters, train_head)
from lemflow.masking import MaskingCollator
from lemflow.pretraining import MaskingSettings, StageSettings, _mlm_head, mono_example, special_layout, train_stage

from conftest import SCRATCH_TEXTS as TEXTS  # noqa: E402


@pytest.fixture
def scratch(scratch_base):
    return scratch_base


def examples_of(tok, texts):
    """Mono examples whose second word is an NE span (so LEM masking has entities to choose)."""
    layout = special_layout(tok)
    out = []
    for text in texts:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        first = len(tok(text.split()[0], add_special_tokens=False)["input_ids"])
        out.append(mono_example(layout, ids, [(first, first + 1, "NE")], 32))
    return out


def collators(tok, seed=0):
    return {"random": MaskingCollator.from_tokenizer(tok, strategy="random", seed=seed),
            "lem": MaskingCollator.from_tokenizer(tok, strategy="lem", entity_types=("NE",), top_up=True, seed=seed + 1)}


def test_draw_plan_alternates_and_falls_back_to_random():
    assert draw_plan(4, True) == ["random", "lem", "random", "lem"]
    assert draw_plan(3, False) == ["random"] * 3


def test_mask_draws_masks_every_example_once_per_draw(scratch):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    examples = examples_of(tok, TEXTS[:20])
    masked = mask_draws(examples, collators(tok), draw_plan(4, True))
    assert len(masked) == 80 and [m["kind"] for m in masked[::20]] == ["random", "lem", "random", "lem"]
    for m, e in zip(masked, examples * 4):
        assert len(m["input_ids"]) == len(e["input_ids"])
        chosen = m["labels"] != -100
        assert chosen.any()
        assert torch.equal(m["labels"][chosen], torch.as_tensor(e["input_ids"])[chosen])
    # the LEM draws choose the NE span first (its position is masked in every LEM copy)
    for m, e in zip(masked[20:40], examples):
        start = e["spans"][0][0]
        assert m["labels"][start] != -100


def test_cached_features_are_the_frozen_bodys_hidden_states(scratch):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    model = AutoModelForMaskedLM.from_pretrained(scratch)
    masked = mask_draws(examples_of(tok, TEXTS[:12]), collators(tok), draw_plan(2, True))
    cached = cache_features(model, masked, batch_size=5)
    n_positions = sum(int((m["labels"] != -100).sum()) for m in masked)
    assert cached["features"].shape == (n_positions, 32) and len(cached["labels"]) == n_positions
    assert set(cached["kind"].tolist()) == {0, 1}
    # one example alone gives the same states (padding in a batch changes nothing)
    one = masked[0]
    with torch.no_grad():
        hidden = model.base_model(input_ids=one["input_ids"][None]).last_hidden_state[0]
    expected = hidden[one["labels"] != -100]
    rows = [i for i in range(n_positions)]
    matches = [torch.allclose(cached["features"][i:i + len(expected)], expected, atol=1e-5)
               for i in rows[: n_positions - len(expected) + 1]]
    assert any(matches)


def test_train_head_lowers_dev_loss_and_touches_nothing_else(scratch):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    model = AutoModelForMaskedLM.from_pretrained(scratch)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train = cache_features(model, mask_draws(examples_of(tok, TEXTS[:200]), collators(tok, 0), draw_plan(4, True)))
    valid = cache_features(model, mask_draws(examples_of(tok, TEXTS[200:260]), collators(tok, 9), draw_plan(2, True)))
    curve = train_head(model, train, valid, HeadSettings(batch_size=128, learning_rate=5e-3, max_epochs=6, patience=2), seed=1)
    assert curve[0]["epoch"] == 0 and curve[0]["train_loss"] == ""
    assert {"dev_loss_random", "dev_loss_lem"} <= set(curve[0])
    best = min(row["dev_loss"] for row in curve)
    assert best < 0.9 * curve[0]["dev_loss"]
    # the kept head is the best epoch's
    assert head_loss(_mlm_head(model), valid["features"], valid["labels"]) == pytest.approx(best, rel=1e-5)
    after = model.state_dict()
    trained = {id(p) for p in trainable_head_parameters(model)}
    for name, param in model.named_parameters():
        if id(param) not in trained:
            assert torch.equal(before[name], after[name]), name
    assert not torch.equal(before["lm_head.dense.weight"], after["lm_head.dense.weight"])
    assert model.get_input_embeddings().weight.requires_grad  # restored


def test_train_head_is_seeded(scratch):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    heads = []
    for _ in range(2):
        model = AutoModelForMaskedLM.from_pretrained(scratch)
        train = cache_features(model, mask_draws(examples_of(tok, TEXTS[:60]), collators(tok), draw_plan(2, True)))
        train_head(model, train, train, HeadSettings(batch_size=64, max_epochs=2), seed=4)
        heads.append(model.lm_head.dense.weight.clone())
    assert torch.equal(*heads)


def test_drift_measures_on_known_cases():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert mean_cosine(x, x) == pytest.approx(1.0)
    assert knn_overlap(x, x, 5) == 1.0
    assert p_at_1(x, x) == 1.0
    y = x[rng.permutation(30)]
    assert p_at_1(x, y) < 0.2
    assert knn_overlap(x, -x, 5) == 1.0  # a sign flip keeps every pairwise cosine
    z = rng.normal(size=(30, 8)).astype(np.float32)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    assert knn_overlap(x, z, 5) < 0.5  # unrelated spaces share few neighbours


def test_frozen_embeddings_and_the_drift_curve(scratch, tmp_path):
    """freeze_embeddings keeps the word embeddings (= the tied decoder) while the body trains; the
    drift probe measures at step 0, every `every` steps and the kept model."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(scratch)
    examples = examples_of(tok, TEXTS[:64])
    probe = DriftProbe(scratch, TEXTS[:20], TEXTS[20:40], neighbours=5, max_length=32)
    stage = StageSettings(max_steps=4, batch_size=16, learning_rate=1e-2, warmup=0, eval_every=2, patience=5)
    metrics = train_stage(init_model=scratch, train_examples=examples, valid_examples=examples[:16],
                          masking=MaskingSettings(masking="random"), stage=stage, out_dir=tmp_path / "out",
                          work_dir=tmp_path / "work", seed=0, freeze_embeddings=True, drift=(probe, 2))
    before, after = AutoModelForMaskedLM.from_pretrained(scratch), AutoModelForMaskedLM.from_pretrained(tmp_path / "out")
    assert torch.equal(before.get_input_embeddings().weight, after.get_input_embeddings().weight)
    assert not torch.equal(before.roberta.encoder.layer[0].attention.self.query.weight,
                           after.roberta.encoder.layer[0].attention.self.query.weight)
    steps = [row["step"] for row in metrics["drift_rows"]]
    assert steps == [0, 2, 4, "best"]
    assert metrics["drift_rows"][0]["mean_cosine"] == pytest.approx(1.0, abs=1e-5)
    assert metrics["drift_rows"][0]["knn5_overlap"] == 1.0
    assert metrics["drift_rows"][-1]["mean_cosine"] < 1.0
    assert metrics["freeze_embeddings"] is True and metrics["final_drift"] == {k: v for k, v in metrics["drift_rows"][-1].items() if k != "step"}
    assert read_drift_rows(tmp_path / "work" / "drift.jsonl")[0]["step"] == 0
    assert json.loads((tmp_path / "out" / "training_metrics.json").read_text())["freeze_embeddings"] is True
