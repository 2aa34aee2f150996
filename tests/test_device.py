"""The device helper: CUDA when present (mocked), CPU otherwise; bf16 only where supported."""
import pytest

torch = pytest.importorskip("torch")

from lemflow import device as dev


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch):
    monkeypatch.delenv("LEMFLOW_DEVICE", raising=False)
    monkeypatch.delenv("LEMFLOW_PRECISION", raising=False)


def test_auto_picks_cuda_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dev.resolve_device("auto").type == "cuda"


def test_auto_picks_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dev.resolve_device("auto").type == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA device"):
        dev.resolve_device("cuda")


def test_environment_overrides_config(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LEMFLOW_DEVICE", "cpu")
    assert dev.resolve_device("cuda").type == "cpu"
    monkeypatch.setenv("LEMFLOW_PRECISION", "fp32")
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: True)
    assert dev.resolve_precision("auto", torch.device("cpu")) == "fp32"


def test_auto_precision_follows_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: True)
    assert dev.resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: False)
    assert dev.resolve_precision("auto", cpu) == "fp32"
    assert dev.resolve_precision("fp16", cpu) == "fp32"  # no fp16 autocast on CPU
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert dev.resolve_precision("auto", torch.device("cuda")) == "bf16"
    with pytest.raises(ValueError, match="precision must be"):
        dev.resolve_precision("int8", cpu)


def test_bf16_autocast_runs_a_linear_layer_on_cpu():
    layer = torch.nn.Linear(4, 3)
    with dev.autocast(torch.device("cpu"), "bf16"):
        out = layer(torch.ones(2, 4))
    assert out.dtype == torch.bfloat16
    with dev.autocast(torch.device("cpu"), "fp32"):
        assert layer(torch.ones(2, 4)).dtype == torch.float32
