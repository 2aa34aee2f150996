"""Benchmark: n x n LASER margin mining (both directions) on synthetic 768-dim embeddings.

Prints, from one run: numpy's float32 matrix-multiply rate on this machine, the time of exact
mining (faiss flat, k-NN both directions + margin + candidates) as a multiple of the
matrix-multiply bound (2 directions x 2 n^2 d flops at numpy's rate), peak memory above the
embeddings themselves, and the approximate (IVF) mode's time and share of the exact mode's
mined pairs. Each mode runs in its own subprocess so peak memory (ru_maxrss) is its own.

    .venv/bin/python bench/mining.py                 # n = 10K and 100K
    .venv/bin/python bench/mining.py --sizes 10000   # quick

Synthetic data: 1,000 topic centres; x rows are noisy topic members; half of y are noisy
translations of x rows (the pairs to mine), half fresh topic members; y is shuffled.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DIM = 768
IVF_NLIST, IVF_NPROBE = 512, 4  # approximate mode: 512 k-means lists, 4 visited per query


def synthetic(n: int, seed: int = 0, dim: int = DIM):
    """(x, y, truth): unit rows; truth[i] = row of y that translates x[i], or -1."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def members(count):
        v = centres[rng.integers(0, len(centres), count)]
        v += 0.8 / np.sqrt(dim) * rng.standard_normal((count, dim), dtype=np.float32)
        return v

    x = members(n)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    half = n // 2
    y = np.empty_like(x)
    y[:half] = x[:half] + 0.5 / np.sqrt(dim) * rng.standard_normal((half, dim), dtype=np.float32)
    y[half:] = members(n - half)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    perm = rng.permutation(n)
    y = y[perm]
    truth = np.full(n, -1, dtype=np.int64)
    inverse = np.argsort(perm)
    truth[:half] = inverse[:half]
    return x, y, truth


def matmul_rate(seconds: float = 3.0) -> float:
    """numpy float32 GEMM rate (flop/s) on 4096 x 768 @ 768 x 8192 blocks (mining's shape)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4096, DIM), dtype=np.float32)
    b = rng.standard_normal((DIM, 8192), dtype=np.float32)
    a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
    return reps * 2 * 4096 * DIM * 8192 / (time.perf_counter() - start)


def _status_mib(field: str) -> float:
    """VmRSS (current) or VmHWM (peak) of this process, MiB (Linux)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def worker(data: str, index: str, threshold: float, out: str) -> None:
    from lemflow.mining import mine

    x, y, truth = np.load(f"{data}.x.npy"), np.load(f"{data}.y.npy"), np.load(f"{data}.truth.npy")
    n = len(x)
    reset_peak()
    base = _status_mib("VmRSS")
    options = {"nlist": IVF_NLIST, "nprobe": IVF_NPROBE, "seed": 0} if index == "ivf" else None
    start = time.perf_counter()
    mined = mine(x, y, k=4, candidates="max", index=index, index_options=options)
    elapsed = time.perf_counter() - start
    kept = mined.above(threshold)
    np.save(out, np.stack([kept.src, kept.tgt]))
    found = float(np.mean(truth[kept.src] == kept.tgt)) if len(kept) else 0.0
    print(json.dumps({"seconds": elapsed, "peak_mib": _status_mib("VmHWM"), "data_mib": base, "mined": len(kept),
                      "planted_precision": found, "planted_recall": float(np.sum(truth[kept.src] == kept.tgt)) / (n // 2)}))


def run_worker(data: str, index: str, threshold: float, out: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", index, "--data", data, "--threshold", str(threshold), "--out", out]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated n (default 10000,100000)")
    parser.add_argument("--threshold", type=float, default=1.06, help="margin threshold of the mined pairs")
    parser.add_argument("--approximate-from", type=int, default=100_000, help="also run IVF mode for n >= this")
    parser.add_argument("--worker", choices=["flat", "ivf"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.worker:
        worker(args.data, args.worker, args.threshold, args.out)
        return
    import faiss

    rate = matmul_rate()
    print(f"cores: {os.cpu_count()}  faiss threads: {faiss.omp_get_max_threads()}  "
          f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"numpy float32 matmul: {rate / 1e9:.1f} GFLOP/s")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            bound = 2 * (2.0 * n * n * DIM) / rate
            data = f"{tmp}/data{n}"
            for name, array in zip(("x", "y", "truth"), synthetic(n)):
                np.save(f"{data}.{name}.npy", array)
            exact = run_worker(data, "flat", args.threshold, f"{tmp}/flat{n}.npy")
            print(f"n={n:>7,} exact (flat, both directions): {exact['seconds']:8.1f} s = "
                  f"{exact['seconds'] / bound:.2f} x the matmul bound ({bound:.1f} s at the start rate); "
                  f"peak RSS {exact['peak_mib']:.0f} MiB, {exact['peak_mib'] - exact['data_mib']:.0f} MiB above the "
                  f"process before mining (embeddings + libraries); {exact['mined']:,} pairs >= {args.threshold} "
                  f"(planted recall {exact['planted_recall']:.3f}, precision {exact['planted_precision']:.3f})")
            if n >= args.approximate_from:
                approx = run_worker(data, "ivf", args.threshold, f"{tmp}/ivf{n}.npy")
                a = set(map(tuple, np.load(f"{tmp}/ivf{n}.npy").T.tolist()))
                e = set(map(tuple, np.load(f"{tmp}/flat{n}.npy").T.tolist()))
                share = len(a & e) / len(e) if e else float("nan")
                print(f"n={n:>7,} approximate (IVF {IVF_NLIST} lists, nprobe {IVF_NPROBE}): {approx['seconds']:8.1f} s = {exact['seconds'] / approx['seconds']:.1f}x "
                      f"faster than exact; peak RSS {approx['peak_mib']:.0f} MiB "
                      f"({approx['peak_mib'] - approx['data_mib']:.0f} above the process before mining); "
                      f"{share:.4f} of the exact mode's {len(e):,} mined pairs found ({approx['mined']:,} mined)")
    print(f"numpy float32 matmul at end: {matmul_rate() / 1e9:.1f} GFLOP/s; load average at end: "
          f"{os.getloadavg()[0]:.2f} (cores shared with other users: timings are upper bounds)")


if __name__ == "__main__":
    main()
