"""Benchmark: the self-organized LUT network (reconstruction of Barland & Gil 2024, spec §3).

Timed:

* ``fit n=16 P=200``      one :class:`phasekit.validation.lut.lut_network.LUTNetwork` fit on the full
                          parity (issue budget: 2 s), median over seeds;
* ``predict 2^16``        prediction on all 65 536 inputs;
* ``scan point``          :func:`transition_scan` at n = 16, P = round(P_c) and round(1.5 P_c),
                          60 seeds, 2 processes (issue budget: 60 s per point);
* ``gf2 4000 trials``     :func:`simulate_gf2_learner` at n = 12, P = 14;
* ``reference``           a plain-Python implementation of the same greedy rule (dict-of-columns
                          decomposition charts, one candidate at a time), the way one writes it
                          first; it must choose among the same valid operations. Ratios are
                          ``time(reference) / time(phasekit)`` (> 1: phasekit is faster).

Run ``python benchmarks/lut/bench_lut.py [--seeds N] [--processes K] [--json PATH]``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from phasekit.theory.lut import lut as th
from phasekit.validation.lut import lut_network as ln

_PARTS = {name: (table, pairs) for name, table, pairs, _ in ln._PARTITIONS}


# ----------------------------------------------------------------------------------------------
# plain-Python reference of one greedy step (same rules, no vectorisation)
# ----------------------------------------------------------------------------------------------
def reference_candidates(V, lab, min_support):
    """All valid (kind, u, v, partition, support) of the state ``V`` (rows: distinct patterns)."""
    P, m = V.shape
    rows = [tuple(int(b) for b in r) for r in V]
    out = []
    for u in range(m):
        for v in range(u + 1, m):
            chart = {}
            for r, y in zip(rows, lab):
                key = tuple(b for j, b in enumerate(r) if j not in (u, v))
                chart.setdefault(key, {})[2 * r[u] + r[v]] = int(y)
            for name, (_, pairs) in _PARTS.items():
                agree = conflict = 0
                ok = True
                for a, b in pairs:
                    ag = sum(1 for c in chart.values() if a in c and b in c and c[a] == c[b])
                    cf = sum(1 for c in chart.values() if a in c and b in c and c[a] != c[b])
                    ok &= cf == 0 and ag >= min_support
                    agree += ag
                    conflict += cf
                if ok:
                    out.append(("split", u, v, name, agree))
    for u in range(m):
        chart = {}
        for r, y in zip(rows, lab):
            key = tuple(b for j, b in enumerate(r) if j != u)
            chart.setdefault(key, {})[r[u]] = int(y)
        ag = sum(1 for c in chart.values() if 0 in c and 1 in c and c[0] == c[1])
        cf = sum(1 for c in chart.values() if 0 in c and 1 in c and c[0] != c[1])
        if cf == 0 and ag >= min_support:
            out.append(("drop", u, -1, "drop", ag))
    return out


def reference_fit(X, y, min_support=1, rng=0):
    """Greedy 'support' fit with the reference step; returns the number of operations."""
    rng = np.random.default_rng(rng)
    V, lab = ln.LUTNetwork._dedupe(np.asarray(X, dtype=np.uint8), np.asarray(y, dtype=np.int8))
    ops = 0
    while V.shape[1] > 1:
        cand = reference_candidates(V, lab, min_support)
        if not cand:
            break
        best = max(c[4] for c in cand)
        kind, u, v, name, _ = [c for c in cand if c[4] == best][rng.integers(sum(c[4] == best for c in cand))]
        if kind == "split":
            hv = np.asarray(_PARTS[name][0], dtype=np.uint8)[2 * V[:, u] + V[:, v]]
            keep = [j for j in range(V.shape[1]) if j not in (u, v)]
            V = np.concatenate([V[:, keep], hv[:, None]], axis=1)
        else:
            V = V[:, [j for j in range(V.shape[1]) if j != u]]
        V, lab = ln.LUTNetwork._dedupe(V, lab)
        ops += 1
    return ops


def _same_candidates(n, P, seed):
    """The vectorised and the reference candidate sets agree at every step of a fit."""
    rng = np.random.default_rng(seed)
    X = ln.all_inputs(n)[rng.choice(2**n, P, replace=False)]
    y = rng.integers(0, 2, P) if seed % 2 else ln.parity(n)(X)
    # replay a fit step by step through the internal state
    net2 = ln.LUTNetwork(rng=seed)
    net2.n_features_in_ = n
    net2._nodes, net2._ops, net2._top = [], [], list(range(n))
    V, lab = net2._dedupe(X.astype(np.uint8), np.asarray(y, dtype=np.int8))
    r = np.random.default_rng(seed)
    while V.shape[1] > 1:
        c1 = net2._candidates(V, lab) or []
        fast = sorted((k, u, v, name, sup) for k, u, v, name, _, sup, _ in c1)
        ref = sorted(reference_candidates(V, lab, 1))
        if fast != ref:
            return False
        if not c1:
            break
        V, lab = net2._apply(V, lab, c1, r)
    return True


# ----------------------------------------------------------------------------------------------
def _time(f, repeat=1):
    ts = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    res = {}
    A16 = ln.all_inputs(16)
    f16 = ln.parity(16)
    y16 = f16(A16)

    fits, preds = [], []
    for s in range(5):
        idx = np.random.default_rng(s).choice(2**16, 200, replace=False)
        t, net = _time(lambda: ln.LUTNetwork(rng=s).fit(A16[idx], y16[idx]))
        fits.append(t)
        t, _ = _time(lambda: net.predict(A16))
        preds.append(t)
    res["fit_n16_P200_s"] = statistics.median(fits)
    res["fit_n16_P200_budget_ratio"] = res["fit_n16_P200_s"] / 2.0
    res["predict_65536_s"] = statistics.median(preds)

    for r in (1.0, 1.5):
        P = int(round(r * th.p_critical(16)))
        t, scan = _time(lambda: ln.transition_scan([16], Ps=[P], n_seeds=args.seeds,
                                                   processes=args.processes, progress=False))
        res[f"scan_point_n16_P{P}_{args.seeds}seeds_{args.processes}proc_s"] = t
        res[f"scan_point_n16_P{P}_budget_ratio"] = t / 60.0
        res[f"scan_point_n16_P{P}_p_perfect"] = scan.points[0].p_perfect.mean

    t, _ = _time(lambda: ln.simulate_gf2_learner(12, 14, n_trials=4000))
    res["gf2_4000_trials_s"] = t

    # reference comparison (plain Python), on problems it finishes in reasonable time
    for n, P in ((10, 40), (12, 60), (16, 200)):
        X = ln.all_inputs(n)[np.random.default_rng(0).choice(2**n, P, replace=False)]
        y = ln.parity(n)(X)
        t_fast, _ = _time(lambda: ln.LUTNetwork(rng=0).fit(X, y), repeat=3)
        t_ref, _ = _time(lambda: reference_fit(X, y, rng=0))
        res[f"reference_n{n}_P{P}_s"] = t_ref
        res[f"phasekit_n{n}_P{P}_s"] = t_fast
        res[f"ratio_reference_over_phasekit_n{n}_P{P}"] = t_ref / t_fast
    res["reference_candidates_agree"] = all(_same_candidates(n, P, s) for n, P, s in
                                            ((6, 20, 0), (6, 20, 1), (8, 40, 2), (8, 30, 3), (10, 50, 4)))

    w = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{w}}  {v:.4g}" if isinstance(v, float) else f"{k:<{w}}  {v}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return res


if __name__ == "__main__":
    main()
