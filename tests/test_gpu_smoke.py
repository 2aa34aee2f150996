"""scripts/gpu-smoke at a tiny size on the CPU (scratch encoder, demo corpus, 2 steps per stage),
and its FLOP and MFU arithmetic."""
import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from lemflow import smoke  # noqa: E402

from conftest import REPO  # noqa: E402


def test_peaks_and_mfu():
    assert smoke.peak_bf16_flops("NVIDIA H200") == 989e12
    assert smoke.peak_bf16_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert smoke.peak_bf16_flops("NVIDIA H100 PCIe") == 756e12
    assert smoke.peak_bf16_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert smoke.peak_bf16_flops("NVIDIA A10G") == 70e12 and smoke.peak_bf16_flops("NVIDIA L40S") == 362e12
    assert smoke.peak_bf16_flops("") is None and smoke.mfu(1e9, 1e3, None) is None
    assert smoke.mfu(6e8, 1e5, 1e14) == pytest.approx(0.6)


def test_training_flops_of_bert_base():
    """BERT-base (85M matrix parameters in the body) at 128 tokens, head on 15% of 30,522 pieces."""
    from transformers import BertConfig

    config = BertConfig()  # hidden 768, 12 layers, FFN 3072
    flops = smoke.training_flops_per_token(config, 128, 0.15, 30522)
    body = 12 * (4 * 768 ** 2 + 2 * 768 * 3072)
    assert body == 84_934_656
    expected = 6 * (body + 2 * 12 * 768 * 128 + 0.15 * (768 ** 2 + 768 * 30522))
    assert flops == pytest.approx(expected) and 5.3e8 < flops < 5.8e8


def test_gpu_smoke_tiny_on_cpu(tmp_path):
    out = tmp_path / "smoke.json"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "gpu-smoke"), "--tiny", "--device", "cpu",
                           "--max-steps", "2", "--json", str(out)], capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "LEMFLOW_THREADS": "1", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "gpu-smoke summary" in proc.stdout
    results = json.loads(out.read_text())
    assert [(r["strategy"], r["stage"]) for r in results["stages"]] == [
        ("mlm_tlm", "mono"), ("mlm_tlm", "para"), ("lem", "mono"), ("lem", "para")]
    for row in results["stages"]:
        assert row["steps"] == 2 and row["tokens_per_second"] > 0 and row["flops_per_token"] > 0
        assert row["mfu"] is None and row["memory_kind"] == "CPU RSS" and row["peak_memory_gib"] > 0
    assert [r["encoder"] for r in results["mining"]] == ["base", "mlm_tlm", "lem"]
    for row in results["mining"]:
        assert row["sentences"] > 100 and 0 <= row["per_doc_recall"] <= 1 and row["sentences_per_second"] > 0
