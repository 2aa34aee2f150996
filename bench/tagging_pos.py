#!/usr/bin/env python
"""UPOS on the UD treebanks: the transformer token classifier (lemflow.tagger_transformer, scheme
UPOS) against the stanza POS tagger, on the same held-out sentences, per language side by side.

    .venv/bin/python bench/tagging_pos.py --config config/shared.yaml --base results/shared/base/e5 \
        [--models results/shared/tagging/models] [--settings '{"train_layers": 6, "epochs": 10}'] \
        [--per-language] [--out /tmp/pos] [--threads 1]

The split is the workflow's: each language's ``tagging.languages.<lang>.pos`` train sources, its
``heldout`` sources or else the seeded ``heldout_fraction`` of train held out (the stanza tagger
directory's ``heldout.jsonl`` holds the same sentences: checked), ``tagging.train.dev_fraction``
of the rest as the dev set (model selection). One model for every language (and with
--per-language also one per language). stanza's accuracy is that of the trained tagger directory
(``--models``/<lang>, train_tagger's output) on the same sentences. Per language: words, both
accuracies, a 95% interval of the difference (sentence bootstrap) and the words only one of
the two gets right. Settings: ``tagging.transformer_pos`` of the config, else ``tagging.transformer``'s
(base/joint aside), overridden by --settings.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def words_right(gold, predicted):
    return [[g == p for g, p in zip(gs, ps, strict=True)] for gs, ps in zip(gold, predicted, strict=True)]


def compare(right_a, right_b, samples=2000, seed=0) -> dict:
    """Accuracy of A and B on the same words, a sentence-bootstrap 95% interval of A - B, and the
    words only A (only B) gets right."""
    n = sum(len(s) for s in right_a)
    acc_a = sum(map(sum, right_a)) / n
    acc_b = sum(map(sum, right_b)) / n
    rng = random.Random(seed)
    diffs = []
    for _ in range(samples):
        pick = [rng.randrange(len(right_a)) for _ in right_a]
        words = sum(len(right_a[i]) for i in pick)
        diffs.append((sum(sum(right_a[i]) for i in pick) - sum(sum(right_b[i]) for i in pick)) / max(1, words))
    diffs.sort()
    only_a = sum(a and not b for sa, sb in zip(right_a, right_b) for a, b in zip(sa, sb))
    only_b = sum(b and not a for sa, sb in zip(right_a, right_b) for a, b in zip(sa, sb))
    return {"words": n, "a": acc_a, "b": acc_b, "diff": acc_a - acc_b,
            "diff_low": diffs[int(0.025 * samples)], "diff_high": diffs[int(0.975 * samples) - 1],
            "only_a": only_a, "only_b": only_b}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "config/shared.yaml"))
    parser.add_argument("--base", required=True, help="base encoder directory (R/base/<name>)")
    parser.add_argument("--models", default=None, help="stanza tagger directories (default R/tagging/models of --config)")
    parser.add_argument("--langs", nargs="*", default=None, help="default: every language with pos annotations")
    parser.add_argument("--settings", default="{}", help="JSON overriding the transformer settings")
    parser.add_argument("--per-language", action="store_true", help="also one model per language")
    parser.add_argument("--out", default=None, help="keep the trained models here (default: a temporary directory)")
    parser.add_argument("--json", default=None, help="write the figures here")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch
    import yaml

    from lemflow import tagger_transformer as tt
    from lemflow.tagger_stanza import load_tagger, read_annotated

    torch.set_num_threads(args.threads)
    config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    tagging = config["tagging"]
    seed = int(config.get("seed", 0))
    models = Path(args.models or Path(config.get("results_dir", "results")) / config["run_name"] / "tagging" / "models")
    settings = {k: v for k, v in tagging.get("transformer", {}).items() if k not in ("base", "joint")}
    settings.update({k: v for k, v in tagging.get("transformer_pos", {}).items() if k not in ("base", "joint")})
    settings.update(json.loads(args.settings))
    settings.setdefault("dev_fraction", tagging.get("train", {}).get("dev_fraction", 0.1))
    threads = settings.pop("threads", None)
    langs = args.langs or [lang for lang, spec in tagging["languages"].items() if (spec.get("pos") or {}).get("train")]
    data = {lang: tt.split_data(tagging["languages"][lang], lang, seed, float(settings["dev_fraction"]), "pos")
            for lang in langs}
    for lang, parts in data.items():
        stanza_heldout = [s for s in read_annotated(models / lang / "heldout.jsonl") if s.upos is not None]
        if [s.words for s in stanza_heldout] != [s.words for s in parts["heldout"]]:
            raise SystemExit(f"{lang}: the held-out sentences differ from {models / lang}/heldout.jsonl")
        print(f"{lang}: train {len(parts['train'])}, dev {len(parts['dev'])}, held-out {len(parts['heldout'])} "
              f"sentences ({sum(len(s.words) for s in parts['heldout'])} words)")
    print(f"settings: {settings} (threads {args.threads}; config threads {threads})")
    out_root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="pos_"))
    runs = {"joint": langs}
    if args.per_language:
        runs.update({lang: [lang] for lang in langs})
    stanza = {}
    for lang in langs:
        tagger, _gold, _fallback = load_tagger(models / lang, lang)
        stanza[lang] = tagger.tag([s.words for s in data[lang]["heldout"]])[0]
    results = {"settings": settings, "seed": seed, "config": args.config, "models": {}, "languages": {}}
    for name, group in runs.items():
        info = tt.train(args.base, {lang: data[lang] for lang in group}, settings, seed, out_root / name,
                        progress=False, scheme=tt.UPOS)
        results["models"][name] = {k: info[k] for k in ("steps", "best_step", "dev_accuracy", "dev", "history",
                                                       "train_seconds", "train_cpu_seconds", "sizes")}
        print(f"model {name}: best step {info['best_step']} of {info['steps']}, dev accuracy "
              f"{ {lang: round(s['accuracy'], 4) for lang, s in info['dev'].items()} }, {info['train_seconds']:.0f} s "
              f"(CPU {info['train_cpu_seconds']:.0f} s)")
        tagger = tt.TransformerPOS(out_root / name)
        for lang in group:
            heldout = data[lang]["heldout"]
            gold = [s.upos for s in heldout]
            predicted = tagger.tag([s.words for s in heldout])[0]
            figures = compare(words_right(gold, predicted), words_right(gold, stanza[lang]))
            results["languages"].setdefault(lang, {"sentences": len(heldout), "words": figures["words"],
                                                   "stanza": figures["b"]})[name] = figures
    print(f"\n{'lang':<5}{'sent':>6}{'words':>7}{'stanza':>9}" + "".join(f"{name:>10}" for name in runs)
          + f"{'joint - stanza [95% CI]':>28}{'only joint / only stanza right':>33}")
    for lang, entry in results["languages"].items():
        row = f"{lang:<5}{entry['sentences']:>6}{entry['words']:>7}{entry['stanza']:>9.4f}"
        row += "".join(f"{entry[name]['a']:>10.4f}" if name in entry else f"{'':>10}" for name in runs)
        joint = entry["joint"]
        row += f"{joint['diff']:>+10.4f} [{joint['diff_low']:+.3f}, {joint['diff_high']:+.3f}]"
        row += f"{joint['only_a']:>20} / {joint['only_b']}"
        print(row)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
