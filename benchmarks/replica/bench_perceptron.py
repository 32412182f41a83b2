"""Perceptron replica solvers: timings as ratios against scipy-quad references run in the same process.

Run: ``python benchmarks/replica/bench_perceptron.py [--full]``. Prints one JSON object.

* saddle point: binary storage at alpha = 0.5 to 1e-10 (phasekit ``solve``) vs a quad-based damped
  iteration (tests/_problems.binary_rs_quad); target <= 5 ms per saddle point.
* learning curve: Ising teacher-student, 50 alpha values in [0.05, 1.45], both branches
  (``solve_batch``; the perfect branch is exact) vs quad-based damped iteration of the 1-D composed
  map from the uninformative state ("cold", the notebook baseline) and warm-started along alpha
  ("warm"), at equal accuracy (max |dq| reported); target ratio >= 100.
* diagram: 100 x 100 (alpha, kappa) binary storage sweep on 2 processes (``--full``; target < 60 s).
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests"))

import numpy as np  # noqa: E402

import phasekit as pk  # noqa: E402
from phasekit.solvers import solve_batch, sweep  # noqa: E402
import _problems as ref  # noqa: E402


def best_of(f, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def main(full=False):
    res = {}
    pk.solve("perceptron.binary_storage", {"alpha": 0.5})  # derive + compile once
    t_pk, r = best_of(lambda: pk.solve("perceptron.binary_storage", {"alpha": 0.5}), 20)
    t_ref, (q, qh, s) = best_of(lambda: ref.binary_rs_quad(0.5, tol=1e-12), 3)
    res["saddle_point_ms"] = 1e3 * t_pk
    res["saddle_point_ratio_vs_quad"] = t_ref / t_pk
    res["saddle_point_abs_diff_q"] = abs(r.order_parameters["q"] - q)

    alphas = np.linspace(0.05, 1.45, 50)
    solve_batch("perceptron.ising_teacher", {"alpha": alphas[:2]}, branch="poor")
    def ours():
        poor = solve_batch("perceptron.ising_teacher", {"alpha": alphas}, branch="poor")
        perfect = solve_batch("perceptron.ising_teacher", {"alpha": alphas}, branch="perfect")
        return poor, perfect
    t_pk, (poor, perfect) = best_of(ours, 3)
    t_ref, curve = best_of(lambda: ref.ising_poor_branch_quad(alphas, warm=False), 1)
    t_warm, _ = best_of(lambda: ref.ising_poor_branch_quad(alphas, warm=True), 1)
    res["ising_curve_s"] = t_pk
    # reference 1: the notebook baseline, damped iteration from the uninformative state per alpha
    res["ising_curve_ratio_vs_quad_cold"] = t_ref / t_pk
    # reference 2: a smarter quad solver, 1-D composed map warm-started along alpha
    res["ising_curve_ratio_vs_quad_warm"] = t_warm / t_pk
    res["ising_curve_max_abs_diff_q"] = float(np.max(np.abs(poor["values"]["q"] - np.array([c[0] for c in curve]))))
    res["ising_curve_all_converged"] = bool(poor["converged"].all() and perfect["converged"].all())

    if full:
        grid = {"alpha": np.linspace(0.02, 1.2, 100), "kappa": np.linspace(0.0, 1.0, 100)}
        t0 = time.perf_counter()
        sw = sweep("perceptron.binary_storage", grid, workers=2, progress=False)
        res["diagram_100x100_s"] = time.perf_counter() - t0
        res["diagram_converged_fraction"] = float(sw.converged.mean())
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main(full="--full" in sys.argv)
