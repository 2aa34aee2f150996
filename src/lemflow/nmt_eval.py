"""Scoring of the NMT stage: sacrebleu BLEU / chrF / spBLEU, the paired bootstrap, and the tidy
results table (curation precision/recall + NMT scores) with significance rows."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .plan import RANDOM_SYSTEM
from .errors import InputError

EMPTY_METRIC = "empty_hypotheses"  # share of empty translations per system (lower is better)

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
            if p_value is not None and name != names[0] and (list(dict(systems)[name]) == baseline_hyps
                                                               or result.score == results[0].score):
                # sacrebleu's (c + 1) / (n + 1) gives identical systems, or equal scores (e.g. two
                # systems at BLEU 0 on every resample), p ~ 1/(n+1): equal scores are no difference
                p_value = 1.0
            out[name][key] = {"score": result.score, "mean": result.mean, "ci": result.ci, "p_value": p_value}
    return out


# ------------------------------------------------------------------ results table
# seeds/reference_seeds: pre-training seeds in a test; se: of the difference (McNemar rows); pretrain_seed: set on a test of one pre-training
# seed of strategies that have several (the report compares those by their seeds, lemflow.report)
SIGNIFICANCE_COLUMNS = ["task", "dataset", "pair", "base", "strategy", "reference", "metric", "value",
                        "reference_value", "difference", "ci_low", "ci_high", "p_value", "significant", "seed",
                        "mcnemar_p", "seeds", "reference_seeds", "se", "pretrain_seed"]
RANDOM = RANDOM_SYSTEM  # (base, strategy) of the random-N baseline before it is paired with bases


def _baseline_for(system: tuple[str, str], systems, reference: str):
    """The system a selection is tested against: the same base with the reference strategy."""
    base, strategy = system
    if strategy == reference:
        return None
    return (base, reference) if (base, reference) in systems else None


def _runs_by_system(group: list[dict]) -> dict:
    """{(base, strategy): {pre-training seed index: entry}}: a seeded selection (``lem@s1``,
    lemflow.seeds) is run 1 of strategy ``lem``."""
    from .seeds import split_seeded

    out: dict = {}
    for entry in group:
        strategy, index = split_seeded(entry["strategy"])
        out.setdefault((entry["base"], strategy), {})[index] = entry
    return out


def _spread_random(by_system: dict) -> dict:
    """The random baseline belongs to no encoder: repeat it under every base that has encoder
    selections, so that each base's table has a random row to compare with (same numbers)."""
    if RANDOM not in by_system:
        return by_system
    bases = sorted({base for base, strategy in by_system if (base, strategy) != RANDOM})
    if not bases:
        return by_system
    out = {system: runs for system, runs in by_system.items() if system != RANDOM}
    for base in bases:
        out[(base, RANDOM[1])] = {i: {**entry, "base": base} for i, entry in by_system[RANDOM].items()}
    return out


def _seed_column(strategy: str, index: int):
    """The ``seed`` of a result row: the pre-training seed index; none for the random baseline."""
    return "" if strategy == RANDOM[1] else index


def nmt_results(entries: list[dict], references: dict, *, reference_strategy: str, n_samples: int,
                seed: int, alpha: float = 0.05) -> tuple[list[dict], list[dict]]:
    """Tidy result rows (curation precision/recall/F1 and NMT BLEU/chrF/spBLEU) and significance
    rows from the per-selection outputs.

    ``entries``: dicts with pair, n, base, strategy, selection (selection.json dict), scores
    (scores JSON dict), hyps (list of lines; scores and hyps None when NMT was not run); ``references``: {pair: {"name": ..., "refs":
    [[lines], ...]}}. The size N is part of ``dataset`` (``<test set>@top<N>``, ``noisy@top<N>``)
    because the tidy table has no column for it. The random baseline (``RANDOM``) is reported
    under every base, as strategy ``random``. A strategy name may carry a pre-training seed
    (``lem@s1``): its rows are strategy ``lem`` with ``seed`` = the seed index (the report pools
    seeds). BLEU/chrF intervals: sacrebleu paired bootstrap 95% CI around the resampled mean;
    significance: curation, the exact McNemar test on the keep/leave-out decisions pooled over
    the pre-training seeds both strategies have; NMT, the paired bootstrap p-value vs the same
    base's ``reference_strategy`` selection of the same pre-training seed (with several seeds on
    a side, one test per seed, marked ``pretrain_seed``: the report tests the pooled strategies
    over their seeds instead).
    """
    import math

    rows, significance = [], []
    groups: dict = {}
    for entry in entries:
        groups.setdefault((entry["pair"], int(entry["n"])), []).append(entry)
    for (pair, n), group in sorted(groups.items()):
        test = references[pair]
        dataset = f"{test['name']}@top{n}"
        by_system = _spread_random(_runs_by_system(group))
        for (base, strategy), runs in by_system.items():
            for index, entry in sorted(runs.items()):
                quality = entry["selection"]["sizes"].get(str(n), {})
                for metric, value in curation_metrics(quality).items():
                    rows.append({"task": "curation", "dataset": f"noisy@top{n}", "pair": pair, "base": base,
                                 "strategy": strategy, "metric": metric, "value": value,
                                 "ci_low": "", "ci_high": "", "seed": _seed_column(strategy, index)})
        significance += curation_mcnemar(by_system, n, pair, reference_strategy, alpha, seed)
        if any(entry.get("hyps") is None for entry in group):
            continue  # curation.nmt: false, the selections were not translated
        boot: dict = {}
        for index in sorted({i for runs in by_system.values() for i in runs}):
            at = {system: runs[index] for system, runs in by_system.items() if index in runs}
            boot.update(_nmt_bootstrap(at, index, by_system, significance, pair=pair, dataset=dataset, refs=test["refs"],
                                       reference_strategy=reference_strategy, n_samples=n_samples, seed=seed,
                                       alpha=alpha))
        for (base, strategy), runs in by_system.items():
            for index, entry in sorted(runs.items()):
                for metric in ("BLEU", "chrF", "spBLEU"):
                    if metric not in entry["scores"]:
                        continue
                    ci = boot.get(((base, strategy), index), {}).get(metric)
                    low = high = ""
                    if ci and ci["mean"] is not None and not math.isnan(ci["ci"]):
                        low, high = ci["mean"] - ci["ci"], ci["mean"] + ci["ci"]
                    rows.append({"task": "nmt", "dataset": dataset, "pair": pair, "base": base, "strategy": strategy,
                                 "metric": metric, "value": entry["scores"][metric], "ci_low": low, "ci_high": high,
                                 "seed": _seed_column(strategy, index)})
                rows.append({"task": "nmt", "dataset": dataset, "pair": pair, "base": base, "strategy": strategy,
                             "metric": EMPTY_METRIC, "value": empty_share(entry["hyps"]), "ci_low": "", "ci_high": "",
                             "seed": _seed_column(strategy, index)})
    return rows, significance


def _nmt_bootstrap(at: dict, index: int, by_system: dict, significance: list, *, pair, dataset, refs,
                   reference_strategy, n_samples, seed, alpha) -> dict:
    """sacrebleu paired bootstrap of the systems of one pre-training seed ``at`` ({system: entry}):
    one test per reference system (it covers the CIs of every compared system); appends the
    significance rows; returns {(system, index): metrics}."""
    systems = list(at)
    boot: dict = {}
    pending = list(systems)
    for ref_system in [s for s in systems if s[1] == reference_strategy]:
        compared = [s for s in systems if _baseline_for(s, systems, reference_strategy) == ref_system]
        result = paired_bootstrap((ref_system, at[ref_system]["hyps"]), [(s, at[s]["hyps"]) for s in compared],
                                  refs, n_samples, seed)
        for system, metrics in result.items():
            boot.setdefault((system, index), metrics)
            if system in pending:
                pending.remove(system)
            if system == ref_system:
                continue
            seeds, ref_seeds = len(by_system[system]), len(by_system[ref_system])
            for metric, res in metrics.items():
                ref_score = result[ref_system][metric]["score"]
                significance.append({
                    "task": "nmt", "dataset": dataset, "pair": pair, "base": system[0], "strategy": system[1],
                    "reference": f"{ref_system[0]}/{ref_system[1]}", "metric": metric, "value": res["score"],
                    "reference_value": ref_score, "difference": res["score"] - ref_score, "ci_low": "",
                    "ci_high": "", "p_value": res["p_value"], "significant": bool(res["p_value"] < alpha),
                    "seed": seed, "mcnemar_p": "", "seeds": 1, "reference_seeds": 1, "se": "",
                    "pretrain_seed": index if max(seeds, ref_seeds) > 1 else ""})
    for system in pending:  # no reference to compare with: bootstrap CI only
        boot[(system, index)] = paired_bootstrap((system, at[system]["hyps"]), [], refs, n_samples, seed)[system]
    return boot


def curation_metrics(quality: dict) -> dict:
    """Selection quality as result metrics: precision/recall/F1 of keeping clean pairs, the
    share of correct keep/leave-out decisions, and per noise kind the share of its pairs left
    out (``noise_recall_<kind>``)."""
    out = {m: quality[m] for m in ("precision", "recall", "f1") if quality.get(m) is not None}
    decisions = quality.get("decisions")
    if decisions:
        out["decision_accuracy"] = decisions.count("1") / len(decisions)
    total, kept = quality.get("total_by_label") or {}, quality.get("kept_by_label") or {}
    for label in sorted(total):
        if label not in ("clean", "unknown") and total[label]:
            out[f"noise_recall_{label}"] = 1.0 - kept.get(label, 0) / total[label]
    return out


def curation_mcnemar(by_system: dict, n: int, pair: str, reference_strategy: str, alpha: float, seed) -> list[dict]:
    """Exact McNemar test of every selection against the same base's ``reference_strategy``
    selection on the same noisy pool: paired per-pair keep/leave-out decisions (right or wrong).
    ``by_system``: {(base, strategy): {pre-training seed index: entry}}; seed n of a strategy is
    paired with seed n of the reference (the random baseline, one draw, with seed 0) and the
    discordant counts of every paired seed are added (lemflow.stats.mcnemar_pooled)."""
    from statistics import fmean

    from .stats import mcnemar_pooled, paired_proportion_se

    def flags(entry):
        decisions = entry["selection"]["sizes"].get(str(n), {}).get("decisions")
        return [c == "1" for c in decisions] if decisions else None

    systems = list(by_system)
    rows = []
    for system in systems:
        ref = _baseline_for(system, systems, reference_strategy)
        if ref is None or ref == system:
            continue
        paired = [(flags(by_system[system][i]), flags(by_system[ref][i]))
                  for i in sorted(set(by_system[system]) & set(by_system[ref]))]
        paired = [(a, b) for a, b in paired if a and b and len(a) == len(b)]
        if not paired:
            continue
        test = mcnemar_pooled(paired)
        value = fmean(sum(a) / len(a) for a, _ in paired)
        ref_value = fmean(sum(b) / len(b) for _, b in paired)
        rows.append({"task": "curation", "dataset": f"noisy@top{n}", "pair": pair, "base": system[0],
                     "strategy": system[1], "reference": f"{ref[0]}/{ref[1]}", "metric": "decision_accuracy",
                     "value": value, "reference_value": ref_value, "difference": value - ref_value, "ci_low": "",
                     "ci_high": "", "p_value": test["p_value"], "significant": bool(test["p_value"] < alpha),
                     "seed": seed, "mcnemar_p": test["p_value"], "seeds": len(paired), "reference_seeds": len(paired),
                     "se": paired_proportion_se(test["only_a"], test["only_b"], sum(len(a) for a, _ in paired)),
                     "pretrain_seed": ""})
    return rows


def empty_share(hyps: Sequence[str]) -> float:
    """Share of hypotheses that are empty: an undertrained model emits end-of-sentence first, and
    BLEU/chrF of such a system (and its "significant" differences) say nothing about its data."""
    return sum(not h.strip() for h in hyps) / len(hyps) if hyps else 0.0
