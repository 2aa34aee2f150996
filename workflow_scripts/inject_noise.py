#!/usr/bin/env python
"""Build the noisy corpus of one pair for curation: either read a given noisy corpus (and its
labels, if any), or inject labelled noise into the clean prepared training data.

Writes <out-prefix>.<src>, <out-prefix>.<tgt>, <out-prefix>.labels (one label per line:
`clean` or the noise kind; `unknown` for an unlabelled given corpus) and <out-prefix>.stats.json.
"""
from __future__ import annotations

import argparse
import json
import logging

from lemflow.io import read_lines_strict, write_json, write_lines
from lemflow.noise import NoiseSettings, inject_noise, label_counts

UNKNOWN = "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", required=True, help="src-tgt, e.g. si-en")
    parser.add_argument("--clean-prefix", help="clean corpus <prefix>.<src>/<prefix>.<tgt> to inject noise into")
    parser.add_argument("--third", nargs="*", default=[],
                        help="files of sentences in a language outside the pair (wrong-language noise)")
    parser.add_argument("--corpus", help="JSON {format, path, labels?}: a given noisy corpus (no injection)")
    parser.add_argument("--settings", required=True, help="JSON: curation.noise settings")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out-prefix", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    src, tgt = args.pair.split("-")

    if args.corpus:
        from lemflow.readers import read_parallel

        spec = json.loads(args.corpus)
        pairs = read_parallel({k: v for k, v in spec.items() if k != "labels"}, src, tgt)
        noisy_src, noisy_tgt = [s for s, _ in pairs], [t for _, t in pairs]
        if spec.get("labels"):
            labels = read_lines_strict(spec["labels"])
            if len(labels) != len(pairs):
                from lemflow.errors import InputError

                raise InputError(spec["labels"], f"{len(labels)} labels for {len(pairs)} pairs of {spec['path']}")
            for number, label in enumerate(labels, 1):
                if not label.strip() or "\t" in label:
                    from lemflow.errors import InputError

                    raise InputError(spec["labels"], f"bad label {label!r} (expected 'clean' or a noise kind)", number)
        else:
            labels = [UNKNOWN] * len(pairs)
        stats = {"source": spec, "injected": False}
    else:
        clean_src = read_lines_strict(f"{args.clean_prefix}.{src}")
        clean_tgt = read_lines_strict(f"{args.clean_prefix}.{tgt}")
        third = [line for path in args.third for line in read_lines_strict(path) if line.strip()]
        settings = NoiseSettings.from_dict(json.loads(args.settings))
        noisy_src, noisy_tgt, labels = inject_noise(clean_src, clean_tgt, settings, args.seed, third or None)
        stats = {"source": args.clean_prefix, "injected": True, "settings": settings.__dict__,
                 "third_language_files": args.third, "wrong_language_source": "third language" if third else
                 "shuffled tokens of another source sentence"}
    stats.update({"pairs": len(labels), "labels": label_counts(labels) if not args.corpus else
                  {label: labels.count(label) for label in sorted(set(labels))}})
    write_lines(f"{args.out_prefix}.{src}", noisy_src)
    write_lines(f"{args.out_prefix}.{tgt}", noisy_tgt)
    write_lines(f"{args.out_prefix}.labels", labels)
    write_json(f"{args.out_prefix}.stats.json", stats)
    logging.info("noisy corpus: %s", json.dumps(stats["labels"]))


if __name__ == "__main__":
    from lemflow.errors import run_main  # InputError -> one line file:line: problem, exit 1

    run_main(main)
