"""One tiny end-to-end run of the whole DAG (prepare → tagging → dictionary → base → MLM/TLM and
LEM pre-training → mining, curation + NMT, sentiment → report) on a slice of the demo corpus,
then: a second run has nothing to do, and an edited input reruns only what depends on it."""
import copy
import os
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_snakemake  # noqa: E402
FAIRSEQ_BIN = Path(os.environ.get("LEMFLOW_FAIRSEQ_BIN") or REPO / ".venv-fairseq" / "bin")
D = "resources/demo"


def tiny_config(results_dir: Path, with_nmt: bool) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config = copy.deepcopy(config)
    config["run_name"] = "tiny"
    config["results_dir"] = str(results_dir)
    config["data"]["pairs"] = {"si-en": {"format": "text", "path": f"{D}/parallel/demo", "limit": 160}}
    config["data"]["prepare"].update(valid_fraction=0.15, test_fraction=0.2)
    config["tagging"]["languages"] = {
        lang: {
            "backend": "lexicon",
            "lexicon": {"pos": f"{D}/lexicon/{lang}.pos.tsv", "gazetteer": f"{D}/lexicon/{lang}.gazetteer.tsv"},
            "pos": {"heldout": [{"format": "conllu", "path": f"{D}/annotations/{lang}.heldout.conllu"}]},
            "ner": {"heldout": [{"format": "bio", "path": f"{D}/annotations/{lang}.heldout.bio"}]},
        }
        for lang in ("si", "en")
    }
    config["base_encoders"] = {"scratch": {"source": "scratch", "tokenizer": {"vocab_size": 600},
                                           "model": {"layers": 1, "hidden": 32, "heads": 2, "intermediate": 64,
                                                     "max_length": 48}}}
    config["encoders"] = [{"bases": ["scratch"], "strategies": ["mlm_tlm", "lem"]}]
    config["pretrain"].update(max_length=48)
    config["pretrain"]["mono"] = {"epochs": 1, "batch_size": 32, "learning_rate": 1e-3, "patience": 1}
    config["pretrain"]["para"] = {"epochs": 1, "batch_size": 32, "learning_rate": 1e-3, "patience": 1}
    config["mining"]["comparable"] = {"si-en": {"DemoNews": f"{D}/comparable/si-en/DemoNews"}}
    config["mining"]["calibration"] = {}  # one comparable set: no calibration set, so no F1
    config["mining"]["bootstrap"] = {"samples": 100, "confidence": 0.95}
    config["sentiment"]["pairs"] = {"si-en": config["sentiment"]["pairs"]["si-en"]}
    config["sentiment"]["seeds"] = 1
    config["sentiment"]["training"].update(epochs=1, max_length=32)
    if with_nmt:
        config["curation"].update(pairs=["si-en"], sizes=[50])
        config["data"]["prepare"]["pool_fraction"] = 0.35  # 56 held-out pool pairs for top-50
        config["nmt"]["train"].update(max_update=20, max_epoch=20, validate_interval=10)
        config["nmt"]["spm"] = {"vocab_size": 300}
        config["nmt"]["bootstrap_samples"] = 100
    else:
        config.pop("curation", None)
        config.pop("nmt", None)
    return config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    with_nmt = (FAIRSEQ_BIN / "fairseq-train").exists()
    config = tiny_config(root / "results", with_nmt)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = run_snakemake("--configfile", path, "-c2", "--show-failed-logs", check=False, timeout=1500)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return path, root / "results" / "tiny", with_nmt


def test_report_has_every_task(tiny_run):
    _, out, with_nmt = tiny_run
    report = (out / "report" / "RESULTS.md").read_text(encoding="utf-8")
    for section in ("## tagging", "## mining", "## sentiment", *(("## nmt", "## curation") if with_nmt else ())):
        assert section in report, f"{section} missing from RESULTS.md"
    assert "| scratch | lem |" in report
    assert list((out / "report").rglob("*.png")), "the report has no plots"
    for encoder in ("mlm_tlm", "lem"):
        assert (out / "encoders" / "scratch" / encoder / "si-en" / "model.safetensors").exists()
    import pandas as pd

    mining = pd.read_csv(out / "mining" / "results.csv")
    assert {"base", "mlm_tlm", "lem"} <= set(mining["strategy"])
    sentiment = pd.read_csv(out / "sentiment" / "results.csv")
    assert set(sentiment["metric"]) >= {"macro_f1", "accuracy"}


def test_second_run_does_nothing_and_edits_rerun_downstream_only(tiny_run, tmp_path):
    path, out, _ = tiny_run
    again = run_snakemake("--configfile", path, "-c2", "-n", check=False)
    assert "Nothing to be done" in again.stdout + again.stderr, (again.stdout + again.stderr)[-3000:]
    # Editing the sentiment data reruns sentiment and the report, not pre-training or mining.
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    dev = tmp_path / "dev.csv"
    dev.write_text((REPO / D / "sentiment" / "si-en" / "dev.csv").read_text(encoding="utf-8").replace("Positive\n", "Positive\n", 1)
                   + '"extra row, supiri",Positive\n', encoding="utf-8")
    config["sentiment"]["pairs"]["si-en"]["dev"] = str(dev)
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    plan = run_snakemake("--configfile", edited, "-c2", "-n", "--quiet", "rules", check=False)
    text = plan.stdout + plan.stderr
    assert "sentiment_split" in text and "report" in text, text[-3000:]
    for rule in ("pretrain_mono", "pretrain_para", "base_encoder", "mining_embed_si_en", "tag"):
        assert f"\n{rule} " not in text and f" {rule}\n" not in text, text[-3000:]
