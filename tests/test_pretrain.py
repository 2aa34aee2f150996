"""Base encoder, example building, masked-only loss, and the pre-training stage (incl. resume after a kill)."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lemflow.base_encoder import build_scratch
from lemflow.pretraining import (
    masked_only_mlm_loss,
    mono_example,
    pair_example,
    special_layout,
    truncate_pair,
)

from conftest import REPO  # noqa: E402
WORDS_SI = ["ශ්\u200dරී", "ලංකා", "රජය", "කොළඹ", "ගුරුවරු", "පාසල", "ගියා", "ආවා", "අමාත්\u200dයාංශය", "වාර්තාව"]
WORDS_EN = ["Sri", "Lanka", "government", "Colombo", "teachers", "school", "went", "came", "ministry", "report"]


def make_run(root: Path, n_train=200, n_valid=30, seed=0):
    """Prepared data, a scratch base and an entity dictionary in the workflow's layout."""
    rng = random.Random(seed)
    data = root / "data" / "si-en"
    data.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("valid", n_valid)):
        si, en = [], []
        for _ in range(n):
            idx = [rng.randrange(10) for _ in range(rng.randint(3, 12))]
            si.append(" ".join(WORDS_SI[i] for i in idx))
            en.append(" ".join(WORDS_EN[i] for i in idx))
        (data / f"{split}.si").write_text("\n".join(si) + "\n", encoding="utf-8")
        (data / f"{split}.en").write_text("\n".join(en) + "\n", encoding="utf-8")
        rows = [f"si\t{i}\t{s}" for i, s in enumerate(si)] + [f"en\t{i}\t{s}" for i, s in enumerate(en)]
        rng.shuffle(rows)
        (data / f"mono.{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    texts = (data / "train.si").read_text(encoding="utf-8").splitlines() + (data / "train.en").read_text(encoding="utf-8").splitlines()
    build_scratch(texts, {"tokenizer": {"vocab_size": 100},
                          "model": {"layers": 1, "hidden": 32, "heads": 2, "intermediate": 64, "max_length": 32}}, 0, root / "base")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(root / "base")
    d = root / "dictionary" / "si-en"
    d.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid"):
        for lang in ("si", "en"):
            out = []
            for line in (data / f"{split}.{lang}").read_text(encoding="utf-8").splitlines():
                ids = tok(line, add_special_tokens=False)["input_ids"]
                spans = [[i, i + 1, ["NE", "NOUN", "VERB"][i % 3]] for i in range(0, len(ids), 2)]
                out.append(json.dumps({"ids": ids, "spans": spans}))
            (d / f"{split}.{lang}.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    return tok


@pytest.fixture(scope="module")
def run_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain")
    tok = make_run(root)
    return root, tok


def test_scratch_tokenizer_round_trip_keeps_zwj(run_root):
    root, tok = run_root
    from transformers import AutoTokenizer

    again = AutoTokenizer.from_pretrained(root / "base")
    text = "ශ්\u200dරී ලංකා Colombo"
    assert again(text)["input_ids"] == tok(text)["input_ids"]
    assert "\u200d" in tok.decode(tok(text, add_special_tokens=False)["input_ids"])
    meta = json.loads((root / "base" / "lemflow_base.json").read_text())
    assert meta["source"] == "scratch" and (root / "base" / "model_card.md").exists()


def test_layout_and_examples(run_root):
    _, tok = run_root
    layout = special_layout(tok)
    a = tok("ශ්\u200dරී ලංකා රජය", add_special_tokens=False)["input_ids"]
    b = tok("Sri Lanka government", add_special_tokens=False)["input_ids"]
    assert layout["pair_prefix"] + a + layout["pair_between"] + b + layout["pair_suffix"] == tok(
        "ශ්\u200dරී ලංකා රජය", "Sri Lanka government")["input_ids"]
    ex = pair_example(layout, a, [[0, 1, "NE"]], b, [[1, 2, "NOUN"]], max_length=64)
    (s0, e0, t0), (s1, e1, t1) = ex["spans"]
    assert ex["input_ids"][s0:e0] == a[0:1] and ex["input_ids"][s1:e1] == b[1:2]
    mono = mono_example(layout, a, [[len(a) - 1, len(a), "VERB"]], max_length=64)
    assert mono["input_ids"][mono["spans"][0][0]] == a[-1]
    cut = mono_example(layout, a, [[len(a) - 1, len(a), "VERB"]], max_length=len(a) + 1)
    assert cut["spans"] == [] and len(cut["input_ids"]) == len(a) + 1


def test_truncate_pair_longest_first():
    assert truncate_pair(3, 4, 10) == (3, 4)
    assert truncate_pair(2, 20, 10) == (2, 8)
    assert truncate_pair(20, 3, 10) == (7, 3)
    assert truncate_pair(20, 20, 10) == (5, 5)


@pytest.mark.parametrize("arch", ["xlmr", "bert"])
def test_masked_only_loss_equals_full_loss(arch):
    from transformers import BertConfig, BertForMaskedLM, XLMRobertaConfig, XLMRobertaForMaskedLM

    torch.manual_seed(0)
    kw = dict(vocab_size=300, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
              max_position_embeddings=40)
    model = (XLMRobertaForMaskedLM(XLMRobertaConfig(**kw)) if arch == "xlmr" else BertForMaskedLM(BertConfig(**kw))).eval()
    ids = torch.randint(5, 300, (3, 20))
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0
    labels = torch.full_like(ids, -100)
    labels[0, 3], labels[1, 5], labels[2, 7], labels[2, 8] = 11, 12, 13, 14
    full = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    ours = masked_only_mlm_loss(model, ids, mask, labels)
    assert torch.allclose(full, ours, atol=1e-5)


SETTINGS = {"max_length": 32, "mlm_probability": 0.15, "precision": "fp32", "head_warmup_steps": 0, "freeze_embeddings": False,
            "mono": {"epochs": 2, "batch_size": 16, "learning_rate": 1e-3, "eval_every": 20, "patience": 3},
            "para": {"epochs": 2, "batch_size": 16, "learning_rate": 1e-3, "patience": 2}}


def pretrain_cmd(root, stage, init, out, strategy, settings=SETTINGS):
    return [sys.executable, str(REPO / "workflow_scripts" / "pretrain.py"), "--stage", stage, "--init", str(init),
            "--pairs", "si-en", "--data-root", str(root / "data"), "--dictionary-root", str(root / "dictionary"),
            "--strategy", json.dumps(strategy), "--settings", json.dumps(settings), "--seed", "3",
            "--out", str(out), "--metrics", str(out) + ".metrics.json", "--loss", str(out) + ".loss.tsv",
            "--work", str(out) + ".work", "--tag", json.dumps({"strategy": "t"})]


def env():
    return dict(os.environ, LEMFLOW_THREADS="1", PYTHONPATH=str(REPO / "src"))


def test_two_stages_lem_then_para(run_root, tmp_path):
    root, _ = run_root
    strategy = {"masking": "lem", "types": ["NE", "VERB"], "k": 1}
    subprocess.run(pretrain_cmd(root, "mono", root / "base", tmp_path / "mono", strategy), check=True, env=env(),
                   capture_output=True)
    metrics = json.loads((tmp_path / "mono.metrics.json").read_text())
    assert metrics["best_eval_loss"] < metrics["initial_eval_loss"]
    assert metrics["masking_stats"]["share_NOUN"] == 0.0 and metrics["masking_stats"]["share_NE"] > 0
    assert metrics["tokens_per_second"] > 0
    assert not (tmp_path / "mono.work").exists()
    loss = (tmp_path / "mono.loss.tsv").read_text().splitlines()
    assert loss[0].startswith("step\tepoch\tloss\teval_loss") and len(loss) > 3
    subprocess.run(pretrain_cmd(root, "para", tmp_path / "mono", tmp_path / "para", strategy), check=True, env=env(),
                   capture_output=True)
    para = json.loads((tmp_path / "para.metrics.json").read_text())
    assert para["init_model"] == str(tmp_path / "mono") and para["train_examples"] == 200
    assert (tmp_path / "para" / "model.safetensors").exists()


@pytest.mark.parametrize("group_by_length", [False, True], ids=["random-order", "length-grouped"])
def test_resume_after_kill(run_root, tmp_path, group_by_length):
    root, _ = run_root
    settings = json.loads(json.dumps(SETTINGS))
    settings["mono"].update({"max_steps": 100, "eval_every": 20, "patience": 1000, "group_by_length": group_by_length})
    cmd = pretrain_cmd(root, "mono", root / "base", tmp_path / "m", {"masking": "random"}, settings)
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = tmp_path / "m.work"
    deadline = time.time() + 240
    while time.time() < deadline and len(list(work.glob("checkpoint-*"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    checkpoints = sorted(int(p.name.split("-")[1]) for p in work.glob("checkpoint-*"))
    assert checkpoints, "no checkpoint was written before the kill"
    assert not (tmp_path / "m").exists()  # nothing half-written looks complete
    rerun = subprocess.run(cmd, env=env(), capture_output=True, text=True)  # same settings: it resumes
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    metrics = json.loads((tmp_path / "m.metrics.json").read_text())
    assert metrics["resumed_from"] is not None
    assert int(metrics["resumed_from"].split("-")[1]) >= checkpoints[0]
    assert metrics["global_steps"] == metrics["planned_steps"]
    steps = [int(line.split("\t")[0]) for line in (tmp_path / "m.loss.tsv").read_text().splitlines()[1:]]
    assert steps[0] == 1 and steps == sorted(steps)  # the curve spans the killed and the resumed run

    # resume equals uninterrupted: the collator's generator (and the global RNGs) came back from
    # the checkpoint, so the same masks, dropout and data order give the same weights and losses
    straight = pretrain_cmd(root, "mono", root / "base", tmp_path / "u", {"masking": "random"}, settings)
    subprocess.run(straight, env=env(), check=True, capture_output=True)
    from safetensors.torch import load_file

    resumed, uninterrupted = load_file(tmp_path / "m" / "model.safetensors"), load_file(tmp_path / "u" / "model.safetensors")
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        assert torch.equal(resumed[name], uninterrupted[name]), name
    rows = lambda name: [line.split("\t")[:4] for line in (tmp_path / name).read_text().splitlines()[1:]]
    assert rows("m.loss.tsv") == rows("u.loss.tsv")
    # the starting dev loss survives the kill (kept in the work folder), so a resumed stage states it
    straight_metrics = json.loads((tmp_path / "u.metrics.json").read_text())
    assert metrics["initial_eval_loss"] == straight_metrics["initial_eval_loss"] is not None


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(run_root, tmp_path):
    """The multi-GPU path (--nproc > 1 relaunches under torchrun) with 2 CPU processes (gloo):
    both ranks train on their shard, rank 0 alone writes the model and the metrics."""
    root, _ = run_root
    settings = json.loads(json.dumps(SETTINGS))
    settings["mono"].update({"max_steps": 12, "eval_every": 6, "batch_size": 8})
    cmd = pretrain_cmd(root, "mono", root / "base", tmp_path / "ddp", {"masking": "lem", "types": ["NE"], "k": 1},
                       settings) + ["--nproc", "2"]
    proc = subprocess.run(cmd, env=dict(env(), LEMFLOW_DEVICE="cpu", OMP_NUM_THREADS="1"), capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads((tmp_path / "ddp.metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["device"] == "cpu"
    assert metrics["global_steps"] == 12 and metrics["best_eval_loss"] < metrics["initial_eval_loss"]
    assert (tmp_path / "ddp" / "model.safetensors").exists() and not (tmp_path / "ddp.work").exists()
