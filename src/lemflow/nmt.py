"""NMT with fairseq to score a curated corpus: SentencePiece, fairseq-preprocess/train/generate,
sacrebleu BLEU / chrF / spBLEU and the paired bootstrap.

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


# ------------------------------------------------------------------ evaluation
def spbleu_model_path(configured: str | None = None) -> Path | None:
    """The FLoRes-101 SentencePiece model that defines spBLEU: a configured path, else the
    file sacrebleu would have downloaded into its cache. None when neither exists (no network
    at run time: spBLEU is then left out and the log says so)."""
    if configured:
        path = Path(configured)
        if not path.exists():
            raise InputError(path, "spBLEU model (config nmt.spbleu_model) does not exist")
        return path
    from sacrebleu.utils import SACREBLEU_DIR

    cached = Path(SACREBLEU_DIR) / "models" / "sacrebleu_tokenizer_spm.model"
    return cached if cached.exists() else None


class SpmTokenized:
    """Apply a SentencePiece model the way sacrebleu's flores101 tokenizer does (pieces joined
    by spaces), so that BLEU with ``tokenize='none'`` on the result is spBLEU."""

    def __init__(self, model_path):
        import sentencepiece as spm

        self.processor = spm.SentencePieceProcessor(model_file=str(model_path))

    def __call__(self, lines: Sequence[str]) -> list[str]:
        return [" ".join(self.processor.encode(line, out_type=str)) for line in lines]


def check_references(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> None:
    for number, ref in enumerate(refs):
        if len(ref) != len(hyps):
            raise ValueError(f"reference {number} has {len(ref)} lines for {len(hyps)} hypotheses")


def corpus_scores(hyps: Sequence[str], refs: Sequence[Sequence[str]], spbleu_model=None) -> dict:
    """BLEU, chrF (and spBLEU with ``spbleu_model``) with their sacrebleu signatures.
    ``refs`` is a list of reference streams (one list of lines per reference)."""
    from sacrebleu.metrics import BLEU, CHRF

    check_references(hyps, refs)
    bleu, chrf = BLEU(), CHRF()
    out = {"BLEU": bleu.corpus_score(list(hyps), [list(r) for r in refs]).score,
           "chrF": chrf.corpus_score(list(hyps), [list(r) for r in refs]).score,
           "signatures": {"BLEU": str(bleu.get_signature()), "chrF": str(chrf.get_signature())}}
    if spbleu_model is not None:
        tok = SpmTokenized(spbleu_model)
        spbleu = BLEU(tokenize="none")
        out["spBLEU"] = spbleu.corpus_score(tok(hyps), [tok(r) for r in refs]).score
        out["signatures"]["spBLEU"] = f"{spbleu.get_signature()}|spm:{Path(spbleu_model).name}"
    return out


def paired_bootstrap(baseline: tuple[str, Sequence[str]], systems: list[tuple[str, Sequence[str]]],
                     refs: Sequence[Sequence[str]], n_samples: int, seed: int) -> dict:
    """sacrebleu's paired bootstrap (``--paired-bs``) of each system against ``baseline`` for
    BLEU and chrF. Returns {system: {metric: {score, mean, ci, p_value}}}; the baseline's entry
    has p_value None. Seeded through SACREBLEU_SEED (sacrebleu's own mechanism)."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    for _, hyps in [baseline, *systems]:
        check_references(hyps, refs)
    old_seed = os.environ.get("SACREBLEU_SEED")
    # sacrebleu treats seed 0 as "unseeded" for the systems' resampling: use 1 instead.
    os.environ["SACREBLEU_SEED"] = str(seed or 1)
    try:
        test = PairedTest([(baseline[0], list(baseline[1])), *[(n, list(h)) for n, h in systems]],
                          {"BLEU": BLEU(), "chrF": CHRF()}, references=[list(r) for r in refs],
                          test_type="bs", n_samples=n_samples)
        _, scores = test()
    finally:
        if old_seed is None:
            os.environ.pop("SACREBLEU_SEED", None)
        else:
            os.environ["SACREBLEU_SEED"] = old_seed
    names = scores.pop("System")
    baseline_hyps = list(baseline[1])
    out: dict = {name: {} for name in names}
    for metric_name, results in scores.items():
        key = "chrF" if metric_name.lower().startswith("chrf") else "BLEU"
        for name, result in zip(names, results):
            p_value = result.p_value
            if p_value is not None and name != names[0] and list(dict(systems)[name]) == baseline_hyps:
                # sacrebleu's (c + 1) / (n + 1) gives identical systems p ~ 1/(n+1): not a difference
                p_value = 1.0
            out[name][key] = {"score": result.score, "mean": result.mean, "ci": result.ci, "p_value": p_value}
    return out


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


# ------------------------------------------------------------------ results table
RESULT_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "metric", "value", "ci_low", "ci_high", "seed"]
SIGNIFICANCE_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "reference", "metric", "value",
                        "reference_value", "difference", "ci_low", "ci_high", "p_value", "significant", "seed"]
RANDOM = ("none", "random")  # (base, strategy) of the random-N baseline in the tables


def _baseline_for(system: tuple[str, str], systems: list[tuple[str, str]], reference: str):
    """The system a selection is tested against: the same base with the reference strategy;
    the random baseline is tested against the reference strategy of the first base."""
    base, strategy = system
    if strategy == reference:
        return None
    if system == RANDOM:
        candidates = [s for s in systems if s[1] == reference]
        return candidates[0] if candidates else None
    return (base, reference) if (base, reference) in systems else None


def nmt_results(entries: list[dict], references: dict, *, reference_strategy: str, n_samples: int,
                seed: int, alpha: float = 0.05) -> tuple[list[dict], list[dict]]:
    """Tidy result rows (curation precision/recall/F1 and NMT BLEU/chrF/spBLEU) and significance
    rows from the per-selection outputs.

    ``entries``: dicts with pair, n, base, strategy, selection (selection.json dict), scores
    (scores JSON dict), hyps (list of lines); ``references``: {pair: {"name": ..., "refs":
    [[lines], ...]}}. The size N is part of ``dataset`` (``<test set>@top<N>``, ``noisy@top<N>``)
    because the tidy table has no column for it. BLEU/chrF intervals: sacrebleu paired bootstrap
    95% CI around the resampled mean; significance: paired bootstrap p-value vs the same base's
    ``reference_strategy`` selection.
    """
    import math

    rows, significance = [], []
    groups: dict = {}
    for entry in entries:
        groups.setdefault((entry["pair"], int(entry["n"])), []).append(entry)
    for (pair, n), group in sorted(groups.items()):
        test = references[pair]
        dataset = f"{test['name']}@top{n}"
        by_system = {(e["base"], e["strategy"]): e for e in group}
        systems = list(by_system)
        for (base, strategy), entry in by_system.items():
            quality = entry["selection"]["sizes"].get(str(n), {})
            for metric in ("precision", "recall", "f1"):
                value = quality.get(metric)
                if value is not None:
                    rows.append({"task": "curation", "dataset": f"noisy@top{n}", "pair": pair, "base": base,
                                 "strategy": strategy, "metric": metric, "value": value,
                                 "ci_low": "", "ci_high": "", "seed": seed if strategy == "random" else ""})
        # bootstrap: one paired test per reference system (covers CIs of every compared system)
        boot: dict = {}
        pending = list(systems)
        for ref_system in [s for s in systems if s[1] == reference_strategy]:
            compared = [s for s in systems if _baseline_for(s, systems, reference_strategy) == ref_system]
            result = paired_bootstrap((ref_system, by_system[ref_system]["hyps"]),
                                      [(s, by_system[s]["hyps"]) for s in compared], test["refs"], n_samples, seed)
            for system, metrics in result.items():
                boot.setdefault(system, metrics)
                if system in pending:
                    pending.remove(system)
                if system != ref_system:
                    for metric, res in metrics.items():
                        ref_score = result[ref_system][metric]["score"]
                        significance.append({
                            "task": "nmt", "dataset": dataset, "pair": pair, "base": system[0],
                            "strategy": system[1], "reference": f"{ref_system[0]}/{ref_system[1]}",
                            "metric": metric, "value": res["score"], "reference_value": ref_score,
                            "difference": res["score"] - ref_score, "ci_low": "", "ci_high": "",
                            "p_value": res["p_value"], "significant": bool(res["p_value"] < alpha), "seed": seed})
        for system in pending:  # no reference to compare with: bootstrap CI only
            boot[system] = paired_bootstrap((system, by_system[system]["hyps"]), [], test["refs"], n_samples,
                                            seed)[system]
        for (base, strategy), entry in by_system.items():
            for metric in ("BLEU", "chrF", "spBLEU"):
                if metric not in entry["scores"]:
                    continue
                ci = boot.get((base, strategy), {}).get(metric)
                low = high = ""
                if ci and ci["mean"] is not None and not math.isnan(ci["ci"]):
                    low, high = ci["mean"] - ci["ci"], ci["mean"] + ci["ci"]
                rows.append({"task": "nmt", "dataset": dataset, "pair": pair, "base": base, "strategy": strategy,
                             "metric": metric, "value": entry["scores"][metric], "ci_low": low, "ci_high": high,
                             "seed": seed})
    return rows, significance
