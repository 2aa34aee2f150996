"""The callers of lemflow.device pass the device through: with a (mocked) CUDA device, embedding,
curation scoring, sentiment fine-tuning and pre-training move the model and every batch onto it
and run under the resolved precision; on a CPU they run there (bf16 too)."""
import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from lemflow import device as devices  # noqa: E402
from conftest import tiny_encoder  # noqa: E402
from test_embedding import WORDS  # noqa: E402

CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return tiny_encoder(tmp_path_factory.mktemp("wiring") / "tiny", WORDS, layers=2)


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch believes it has a bf16-capable CUDA device; moving a module or a tensor there is
    recorded and leaves it on the CPU (so the computation still runs)."""
    moves = {"modules": [], "tensors": []}
    module_to, tensor_to = torch.nn.Module.to, torch.Tensor.to

    def fake_module_to(self, *args, **kwargs):
        target = args[0] if args else kwargs.get("device")
        if isinstance(target, torch.device) and target.type == "cuda":
            moves["modules"].append(type(self).__name__)
            return self
        return module_to(self, *args, **kwargs)

    def fake_tensor_to(self, *args, **kwargs):
        target = args[0] if args else kwargs.get("device")
        if isinstance(target, (torch.device, str)) and torch.device(target).type == "cuda":
            moves["tensors"].append(tuple(self.shape))
            return self
        return tensor_to(self, *args, **kwargs)

    monkeypatch.delenv("LEMFLOW_DEVICE", raising=False)
    monkeypatch.delenv("LEMFLOW_PRECISION", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Fake GPU")
    monkeypatch.setattr(torch.nn.Module, "to", fake_module_to)
    monkeypatch.setattr(torch.Tensor, "to", fake_tensor_to)
    autocasts = []
    monkeypatch.setattr(devices, "autocast", lambda device, precision: autocasts.append((device.type, precision))
                        or devices.contextlib.nullcontext())
    moves["autocast"] = autocasts
    return moves


def test_embed_moves_model_and_batches_to_the_device(encoder_dir, fake_cuda):
    from lemflow.embedding import embed

    vectors = embed(encoder_dir, ["the army news", "rain", "a soldier in the village"], batch_size=2,
                    precision="auto")
    assert vectors.shape[0] == 3 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert fake_cuda["modules"] and len(fake_cuda["tensors"]) >= 2 * 2  # input ids + mask of 2 batches
    assert fake_cuda["autocast"] == [("cuda", "bf16")]


def test_curation_scoring_passes_device_and_precision(encoder_dir, fake_cuda):
    from lemflow.curation import score_pairs

    scores = score_pairs(encoder_dir, ["the army", "rain", "a road"], ["the army", "rain", "school"], k=2,
                         precision="bf16")
    assert scores.shape == (3,) and fake_cuda["modules"]
    assert fake_cuda["autocast"] == [("cuda", "bf16"), ("cuda", "bf16")]


def test_sentiment_fine_tune_runs_on_the_device(encoder_dir, fake_cuda):
    from lemflow.sentiment import fine_tune

    frame = pd.DataFrame({"text": ["the army", "rain", "a road", "school"] * 3, "label": ["a", "b"] * 6})
    out = fine_tune(encoder_dir, {"train": frame, "dev": frame, "test": frame}, ["a", "b"],
                    {"epochs": 1, "batch_size": 4, "max_length": 8, "precision": "auto"}, seed=0, progress=False,
                    log=lambda *a: None)
    assert out["device"] == "cuda" and out["precision"] == "bf16" and out["gpu"] == "Fake GPU"
    assert "XLMRobertaForSequenceClassification" in fake_cuda["modules"]
    assert len(fake_cuda["tensors"]) >= 3  # labels, class weights, batches
    assert set(fake_cuda["autocast"]) == {("cuda", "bf16")} and len(fake_cuda["autocast"]) >= 3 + 2


def test_pretraining_hands_device_and_precision_to_the_trainer(tmp_path, fake_cuda, monkeypatch):
    import transformers

    from lemflow.base_encoder import build_scratch
    from lemflow.pretraining import MaskingSettings, StageSettings, train_stage

    build_scratch(["a b c d", "b c d e", "c d e f"] * 4, {"tokenizer": {"vocab_size": 20},
                  "model": {"layers": 1, "hidden": 16, "heads": 2, "intermediate": 32, "max_length": 16}}, 0,
                  tmp_path / "base")
    seen = {}

    class Stop(Exception):
        pass

    def fake_arguments(**kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(transformers, "TrainingArguments", fake_arguments)
    examples = [{"input_ids": [0, 5, 6, 7, 2], "spans": []}] * 4
    for setting, expected in (("auto", {"bf16": True, "fp16": False, "use_cpu": False}),
                              ("fp16", {"bf16": False, "fp16": True, "use_cpu": False})):
        with pytest.raises(Stop):
            train_stage(init_model=tmp_path / "base", train_examples=examples, valid_examples=examples,
                        masking=MaskingSettings(), stage=StageSettings(), out_dir=tmp_path / "out",
                        work_dir=tmp_path / "work", seed=0, precision=setting)
        assert {k: seen[k] for k in expected} == expected
    monkeypatch.setenv("LEMFLOW_DEVICE", "cpu")  # the profile switch wins over the config
    monkeypatch.setenv("LEMFLOW_PRECISION", "fp32")
    with pytest.raises(Stop):
        train_stage(init_model=tmp_path / "base", train_examples=examples, valid_examples=examples,
                    masking=MaskingSettings(), stage=StageSettings(), out_dir=tmp_path / "out",
                    work_dir=tmp_path / "work", seed=0, precision="bf16", device="cuda")
    assert (seen["use_cpu"], seen["bf16"], seen["fp16"]) == (True, False, False)


def test_bf16_embedding_on_cpu_is_close_to_fp32(encoder_dir, monkeypatch):
    from lemflow.embedding import embed

    monkeypatch.delenv("LEMFLOW_PRECISION", raising=False)
    sentences = ["the army news today", "ශ්\u200dරී ලංකා president met a soldier", "rain and school"]
    fp32 = embed(encoder_dir, sentences, device="cpu", precision="fp32")
    bf16 = embed(encoder_dir, sentences, device="cpu", precision="bf16")
    assert bf16.dtype == np.float32 and not np.array_equal(fp32, bf16)  # it did run in bf16
    assert (fp32 * bf16).sum(axis=1).min() > 0.99
    json.dumps(devices.describe(torch.device("cpu"), "bf16"))  # what a metrics file records
