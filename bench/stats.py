#!/usr/bin/env python
"""Time lemflow.stats.cluster_bootstrap (paired, seeds x clusters) against the same statistic with
numpy's multinomial cluster draws, at a real-run size (gold pairs, documents, seeds, resamples);
prints seconds side by side and the ratio, and checks both give the same standard error."""
from __future__ import annotations

import argparse
import time

import numpy as np

from lemflow.stats import cluster_bootstrap


def multinomial_version(a, b, clusters, samples, seed):
    """Reference: clusters drawn by rng.multinomial (the obvious way), one batch."""
    _, codes = np.unique(clusters, return_inverse=True)
    c = codes.max() + 1
    sizes = np.bincount(codes, minlength=c).astype(float)
    sums_a = np.stack([np.bincount(codes, weights=r, minlength=c) for r in a])
    sums_b = np.stack([np.bincount(codes, weights=r, minlength=c) for r in b])
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, samples, 2000):
        m = min(2000, samples - start)
        w = rng.multinomial(c, np.full(c, 1.0 / c), size=m).astype(float)
        units = w @ sizes
        pa, pb = (w @ sums_a.T) / units[:, None], (w @ sums_b.T) / units[:, None]
        ia, ib = rng.integers(0, len(a), (m, len(a))), rng.integers(0, len(b), (m, len(b)))
        out.append(np.take_along_axis(pa, ia, 1).mean(1) - np.take_along_axis(pb, ib, 1).mean(1))
    return float(np.concatenate(out).std(ddof=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=5000, help="gold pairs")
    parser.add_argument("--clusters", type=int, default=2000, help="documents")
    parser.add_argument("--seeds", type=int, default=3, help="pre-training seeds per strategy")
    parser.add_argument("--samples", type=int, default=10000, help="bootstrap resamples")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    a = (rng.random((args.seeds, args.units)) < 0.70).astype(float)
    b = (rng.random((args.seeds, args.units)) < 0.68).astype(float)
    clusters = rng.integers(0, args.clusters, args.units)
    t = time.perf_counter()
    ours = cluster_bootstrap(a, b, clusters, samples=args.samples, seed=1)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    se_ref = multinomial_version(a, b, clusters, args.samples, 1)
    t_ref = time.perf_counter() - t
    print(f"{args.units} units, {args.clusters} clusters, {args.seeds} seeds, {args.samples} resamples")
    print(f"lemflow.stats.cluster_bootstrap  {t_ours:7.2f} s   SE {ours['se']:.5f}")
    print(f"multinomial reference            {t_ref:7.2f} s   SE {se_ref:.5f}")
    print(f"speed-up {t_ref / t_ours:.2f}x")


if __name__ == "__main__":
    main()
