"""NMT with fairseq to score a curated corpus: SentencePiece, fairseq-preprocess/train/generate.
Scoring (sacrebleu, paired bootstrap, the results table) is in ``lemflow.nmt_eval``, so that
editing it does not retrain any model.

fairseq lives in its own virtual environment (its hydra/omegaconf pins clash with
transformers): this module runs in the main environment and calls the fairseq console scripts
of that environment as subprocesses. ``fairseq_bin()`` finds them: ``$LEMFLOW_FAIRSEQ_BIN``,
else ``<repo>/.venv-fairseq/bin`` (created by ``scripts/setup-fairseq``).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from .errors import InputError

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
FAIRSEQ_ENV_VAR = "LEMFLOW_FAIRSEQ_BIN"

# The FLoRes v1 low-resource baseline (Guzmán et al. 2019), used by the LEM paper.
PAPER_MODEL = {"encoder_layers": 5, "decoder_layers": 5, "embed_dim": 512, "ffn_dim": 2048,
               "attention_heads": 2, "dropout": 0.4, "attention_dropout": 0.2, "activation_dropout": 0.2,
               "share_all_embeddings": True, "normalize_before": True}


def fairseq_bin() -> Path:
    return Path(os.environ.get(FAIRSEQ_ENV_VAR) or REPO / ".venv-fairseq" / "bin")


def check_fairseq(bin_dir: str | Path) -> Path:
    """Raise a clear error (before any training) when the fairseq environment is missing."""
    bin_dir = Path(bin_dir)
    missing = [tool for tool in ("fairseq-preprocess", "fairseq-train", "fairseq-generate")
               if not (bin_dir / tool).exists()]
    if missing:
        raise InputError(bin_dir, f"fairseq environment not found (missing {', '.join(missing)}): run "
                                  f"`scripts/setup-fairseq` (or `make setup-fairseq`), or point ${FAIRSEQ_ENV_VAR} "
                                  "at the bin/ folder of an environment with fairseq installed")
    return bin_dir


def fairseq_env() -> dict:
    env = dict(os.environ)
    # fairseq 0.12 checkpoints hold argparse Namespaces; torch >= 2.6 loads weights_only by default.
    env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    env.setdefault("OMP_NUM_THREADS", env.get("OMP_NUM_THREADS", "1"))
    env.pop("PYTHONPATH", None)  # the main env's packages must not leak into the fairseq env
    return env


def run_tool(command: list[str], log_handle=None) -> None:
    """Run one fairseq command; its output goes to ``log_handle`` (the rule's log)."""
    log.info("running: %s", " ".join(map(str, command)))
    result = subprocess.run([str(c) for c in command], env=fairseq_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if log_handle is not None:
        log_handle.write(result.stdout)
        log_handle.flush()
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise RuntimeError(f"{Path(command[0]).name} failed (exit {result.returncode}):\n{tail}")


# ------------------------------------------------------------------ SentencePiece
def train_spm(texts: Sequence[str], model_prefix: str | Path, vocab_size: int, seed: int,
              model_type: str = "unigram", character_coverage: float = 1.0) -> Path:
    """Joint SentencePiece model on ``texts``. ``hard_vocab_limit=False`` makes ``vocab_size``
    an upper bound, so a small curated corpus cannot make training fail."""
    import sentencepiece as spm

    model_prefix = Path(model_prefix)
    model_prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(texts)), model_prefix=str(model_prefix), vocab_size=vocab_size,
        model_type=model_type, character_coverage=character_coverage, hard_vocab_limit=False,
        # fairseq adds its own <s>, <pad>, </s>, <unk>: keep SPM's specials out of the pieces
        bos_id=-1, eos_id=-1, unk_id=0, num_threads=1, minloglevel=2)  # 1 thread: deterministic
    return model_prefix.with_suffix(".model")


def spm_encode(model_path: str | Path, lines: Sequence[str]) -> list[str]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(model_path))
    return [" ".join(processor.encode(line, out_type=str)) for line in lines]


# ------------------------------------------------------------------ fairseq commands
def preprocess_command(bin_dir, src: str, tgt: str, trainpref, validpref, destdir, testpref=None,
                       joined_dictionary: bool = True, workers: int = 1) -> list[str]:
    cmd = [Path(bin_dir) / "fairseq-preprocess", "--source-lang", src, "--target-lang", tgt,
           "--trainpref", trainpref, "--validpref", validpref, "--destdir", destdir,
           "--workers", str(workers), "--seed", "1"]
    if testpref is not None:
        cmd += ["--testpref", testpref]
    if joined_dictionary:
        cmd.append("--joined-dictionary")
    return [str(c) for c in cmd]


def train_command(bin_dir, data_dir, save_dir, src: str, tgt: str, model: dict, train: dict, seed: int,
                  cpu: bool = True) -> list[str]:
    """fairseq-train arguments for a Transformer with the given shape and optimisation settings."""
    m, t = model, train
    cmd = [Path(bin_dir) / "fairseq-train", data_dir, "--source-lang", src, "--target-lang", tgt,
           "--task", "translation", "--arch", "transformer",
           "--encoder-layers", m["encoder_layers"], "--decoder-layers", m["decoder_layers"],
           "--encoder-embed-dim", m["embed_dim"], "--decoder-embed-dim", m["embed_dim"],
           "--encoder-ffn-embed-dim", m["ffn_dim"], "--decoder-ffn-embed-dim", m["ffn_dim"],
           "--encoder-attention-heads", m["attention_heads"], "--decoder-attention-heads", m["attention_heads"],
           "--dropout", m["dropout"], "--attention-dropout", m["attention_dropout"],
           "--activation-dropout", m["activation_dropout"],
           "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", t["label_smoothing"],
           "--optimizer", "adam", "--adam-betas", "(0.9, 0.98)", "--clip-norm", t["clip_norm"],
           "--weight-decay", t["weight_decay"],
           "--lr-scheduler", "inverse_sqrt", "--warmup-updates", t["warmup_updates"],
           "--warmup-init-lr", "1e-07", "--lr", t["lr"],
           "--max-tokens", t["max_tokens"], "--update-freq", t["update_freq"],
           "--max-epoch", t["max_epoch"], "--save-dir", save_dir, "--seed", seed,
           "--validate-interval", t["validate_interval"], "--save-interval", t["validate_interval"],
           "--no-epoch-checkpoints", "--no-last-checkpoints", "--no-progress-bar",
           "--log-format", "simple", "--log-interval", t.get("log_interval", 50),
           "--num-workers", "0", "--required-batch-size-multiple", "1"]  # see generate_command
    if t.get("max_update"):
        cmd += ["--max-update", t["max_update"]]
    if t.get("patience", 0) > 0:
        cmd += ["--patience", t["patience"]]
    if m.get("share_all_embeddings", True):
        cmd.append("--share-all-embeddings")
    if m.get("normalize_before", True):
        cmd += ["--encoder-normalize-before", "--decoder-normalize-before"]
    if cpu:
        cmd.append("--cpu")
    return [str(c) for c in cmd]


def generate_command(bin_dir, data_dir, checkpoint, src: str, tgt: str, generate: dict, cpu: bool = True,
                     subset: str = "test") -> list[str]:
    cmd = [Path(bin_dir) / "fairseq-generate", data_dir, "--path", checkpoint, "--source-lang", src,
           "--target-lang", tgt, "--gen-subset", subset, "--beam", generate["beam"],
           "--lenpen", generate["lenpen"], "--batch-size", generate.get("batch_size", 64),
           "--remove-bpe", "sentencepiece", "--max-len-a", generate.get("max_len_a", 1.2),
           "--max-len-b", generate.get("max_len_b", 10), "--num-workers", "0", "--no-progress-bar",
           # fairseq-fixed 0.12.3.1 drops the sentences of a last batch that is not a multiple
           # of this (8 by default): 30 test sentences gave 24 hypotheses
           "--required-batch-size-multiple", "1"]
    if cpu:
        cmd.append("--cpu")
    return [str(c) for c in cmd]


_HYP = re.compile(r"^D-(\d+)\t[^\t]*\t(.*)$")


def parse_generate(output: str, expected: int) -> list[str]:
    """Detokenised hypotheses (``D-<id>`` lines of fairseq-generate) in test-set order."""
    hyps: dict[int, str] = {}
    for line in output.splitlines():
        match = _HYP.match(line)
        if match:
            hyps[int(match.group(1))] = match.group(2)
    missing = [i for i in range(expected) if i not in hyps]
    if missing or len(hyps) != expected:
        raise RuntimeError(f"fairseq-generate returned {len(hyps)} hypotheses for {expected} sentences "
                           f"(missing ids e.g. {missing[:5]})")
    return [hyps[i] for i in range(expected)]


# ------------------------------------------------------------------ the whole recipe
def _write(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line.replace("\n", " ") + "\n")


def train_model(model_dir: str | Path, src: str, tgt: str, train: tuple[Sequence[str], Sequence[str]],
                valid: tuple[Sequence[str], Sequence[str]], settings: dict, seed: int, bin_dir,
                work_dir: str | Path, log_handle=None, cpu: bool = True) -> Path:
    """SentencePiece (joint, trained on ``train``), fairseq-preprocess, fairseq-train.

    ``model_dir`` receives what translation needs: ``spm.model``, the dictionaries and
    ``checkpoint_best.pt``; binarised data and other checkpoints stay in ``work_dir``.
    """
    model_dir, work_dir = Path(model_dir), Path(work_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    spm_settings = settings["spm"]
    train_spm([*train[0], *train[1]], model_dir / "spm", spm_settings["vocab_size"], seed,
              spm_settings.get("model_type", "unigram"), spm_settings.get("character_coverage", 1.0))
    text_dir = work_dir / "spm"
    for split, (s_lines, t_lines) in (("train", train), ("valid", valid)):
        _write(text_dir / f"{split}.{src}", spm_encode(model_dir / "spm.model", s_lines))
        _write(text_dir / f"{split}.{tgt}", spm_encode(model_dir / "spm.model", t_lines))
    data_dir = work_dir / "data-bin"
    run_tool(preprocess_command(bin_dir, src, tgt, text_dir / "train", text_dir / "valid", data_dir), log_handle)
    save_dir = work_dir / "checkpoints"
    run_tool(train_command(bin_dir, data_dir, save_dir, src, tgt, settings["model"], settings["train"], seed, cpu),
             log_handle)
    shutil.copy2(save_dir / "checkpoint_best.pt", model_dir / "checkpoint_best.pt")
    for lang in (src, tgt):
        shutil.copy2(data_dir / f"dict.{lang}.txt", model_dir / f"dict.{lang}.txt")
    return model_dir


def translate(model_dir: str | Path, src: str, tgt: str, source_lines: Sequence[str], settings: dict, bin_dir,
              work_dir: str | Path, log_handle=None, cpu: bool = True, placeholder: Sequence[str] | None = None) -> list[str]:
    """Translate ``source_lines`` with a model from ``train_model`` (fairseq-generate, beam and
    length penalty from ``settings['generate']``); returns detokenised hypotheses in order.
    fairseq-generate needs a target side: ``placeholder`` (e.g. a reference) or the source."""
    model_dir, work_dir = Path(model_dir), Path(work_dir)
    text_dir = work_dir / "test-spm"
    _write(text_dir / f"test.{src}", spm_encode(model_dir / "spm.model", source_lines))
    _write(text_dir / f"test.{tgt}", spm_encode(model_dir / "spm.model", placeholder or source_lines))
    data_dir = work_dir / "test-bin"
    run_tool([str(Path(bin_dir) / "fairseq-preprocess"), "--source-lang", src, "--target-lang", tgt,
              "--testpref", str(text_dir / "test"), "--destdir", str(data_dir), "--workers", "1",
              "--srcdict", str(model_dir / f"dict.{src}.txt"), "--tgtdict", str(model_dir / f"dict.{tgt}.txt")],
             log_handle)
    result = subprocess.run(generate_command(bin_dir, data_dir, model_dir / "checkpoint_best.pt", src, tgt,
                                             settings["generate"], cpu),
                            env=fairseq_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if log_handle is not None:
        log_handle.write(result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"fairseq-generate failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return parse_generate(result.stdout, len(source_lines))
