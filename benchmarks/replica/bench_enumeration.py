"""Enumeration of all 2^N binary perceptrons at N = 21 against the machine's float32 matmul.

Target (issue 3): enumeration within 2x of numpy float32 matmul throughput for the same FLOPs.

Measured in one process, interleaved, best of ``--repeats``:

* ``t_enum``   -- :func:`phasekit.validation.replica.enumeration.count_solutions` on one random instance
                  (N = 21, P = 21 patterns, i.e. alpha = 1; counts for every prefix P' <= P).
* ``t_matmul`` -- the very same float32 matrix products alone (same shapes, same chunking, same
                  output buffers): the first 8 patterns against the 2^20 vectors with W_N = +1 in
                  chunks of 2^16 rows, then the survivors against the remaining patterns.
* ratio        -- ``t_enum / t_matmul`` = matmul throughput / enumeration throughput for the same
                  FLOPs (the target is <= 2): the median over interleaved (enumeration, matmul)
                  pairs, with quartiles, and the ratio of the best times.

Also printed, for context: the throughput of a large square sgemm (the machine's peak), and the
speed-up over a naive enumeration that multiplies all 2^N vectors by all P patterns.

Run: ``python benchmarks/replica/bench_enumeration.py [--n 21] [--alpha 1.0] [--repeats 15]``.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from phasekit.validation.replica import enumeration as E


def _instance(n, p, seed):
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1.0, 1.0], np.float32), size=(p, n))
    y = rng.choice(np.array([-1.0, 1.0], np.float32), size=p)
    return x, y


def _replay_matmuls(n, rows, counts, bufs):
    """The float32 products count_solutions performs, alone (same shapes and chunking)."""
    wbuf, xfirst, fields, later = bufs
    n_free = n - 1
    n_low = min(E._LOW_BITS, n_free)
    for _ in range(2 ** (n_free - n_low)):
        np.matmul(wbuf, xfirst, out=fields)
    for w, xb in later:
        w @ xb


def _setup_replay(n, rows, counts):
    p = rows.shape[0]
    n_low = min(E._LOW_BITS, n - 1)
    wbuf = np.empty((2 ** n_low, n), np.float32, order="F")
    wbuf[:, :n_low] = E._weight_table(n_low)
    wbuf[:, n_low:] = 1.0
    nb = min(E._FIRST_BLOCK, p)
    xfirst = np.zeros((n, E._FIRST_BLOCK), np.float32)
    xfirst[:, :nb] = rows[:nb].T
    fields = np.empty((2 ** n_low, E._FIRST_BLOCK), np.float32)
    later, flops = [], 2 * n * (2 ** (n - 1)) * E._FIRST_BLOCK
    start = nb
    rng = np.random.default_rng(0)
    while start < p and counts[start] > 0:
        stop = min(start + E._LATER_BLOCK, p)
        m = int(counts[start])                      # survivors entering this block
        w = rng.choice(np.array([-1.0, 1.0], np.float32), size=(m, n))
        later.append((w, np.ascontiguousarray(rows[start:stop].T)))
        flops += 2 * n * m * (stop - start)
        start = stop
    return (wbuf, xfirst, fields, later), flops


def _best(f, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=21)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    n, p = args.n, int(round(args.alpha * args.n))
    x, y = _instance(n, p, args.seed)
    rows = np.ascontiguousarray(x * y[:, None])
    counts = E.count_solutions(x, y)                 # warm-up (tables, caches)
    bufs, flops = _setup_replay(n, rows, counts)
    _replay_matmuls(n, rows, counts, bufs)

    t_enum, t_mm = [], []
    for _ in range(args.repeats):                    # interleaved pairs: both see the same machine state
        t_enum.append(_best(lambda: E.count_solutions(x, y), 1))
        t_mm.append(_best(lambda: _replay_matmuls(n, rows, counts, bufs), 1))
    te, tm = min(t_enum), min(t_mm)
    pair = np.array(t_enum) / np.array(t_mm)         # robust to load drifts on a shared machine
    r_med, r_lo, r_hi = float(np.median(pair)), float(np.quantile(pair, 0.25)), float(np.quantile(pair, 0.75))

    a = np.random.default_rng(1).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    t_sq = _best(lambda: a @ a, 3)
    peak = 2 * 2048 ** 3 / t_sq
    naive_flops = 2 * n * (2 ** n) * p
    w_naive = np.empty((2 ** 16, n), np.float32)
    w_naive[:] = 1.0
    x_naive = np.ascontiguousarray(rows.T)
    out_naive = np.empty((2 ** 16, p), np.float32)

    def naive():
        for _ in range(2 ** max(n - 16, 0)):
            np.matmul(w_naive, x_naive, out=out_naive)
    t_naive = _best(naive, args.repeats)

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"enumeration benchmark: N = {n}, P = {p} (alpha = {p / n:.3f}), seed {args.seed}, "
          f"OPENBLAS_NUM_THREADS={threads}, {os.cpu_count()} CPUs")
    print(f"  solutions for P' = {p}: {int(counts[-1])}; for P' = {p // 2}: {int(counts[p // 2])}")
    print(f"  enumeration (count_solutions)         : {te * 1e3:9.2f} ms   "
          f"{flops / te / 1e9:7.2f} GFLOP/s executed")
    print(f"  same float32 matmuls alone            : {tm * 1e3:9.2f} ms   {flops / tm / 1e9:7.2f} GFLOP/s")
    print(f"  RATIO enumeration / matmul (same FLOPs): {r_med:.2f}x median of {args.repeats} interleaved pairs "
          f"(quartiles {r_lo:.2f}-{r_hi:.2f}; best-of ratio {te / tm:.2f}x)   (target <= 2)")
    print(f"  context: square 2048^3 sgemm peak     : {peak / 1e9:7.2f} GFLOP/s "
          f"(enumeration at {flops / te / peak:.2f} of peak)")
    print(f"  context: naive full enumeration (2^N x P matmul only, no early exit or ±W pairing): "
          f"{t_naive * 1e3:.1f} ms -> this enumeration is {t_naive / te:.1f}x faster")
    print(f"  executed FLOPs {flops:.3e} vs naive {naive_flops:.3e}")
    return {"t_enum": te, "t_matmul": tm, "ratio": r_med, "ratio_best": te / tm, "gflops": flops / te / 1e9,
            "peak_gflops": peak / 1e9, "naive_speedup": t_naive / te}


if __name__ == "__main__":
    main()
