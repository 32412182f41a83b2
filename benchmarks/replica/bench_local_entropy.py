"""Franz–Parisi local entropy and algorithm timings.

Run: ``python benchmarks/replica/bench_local_entropy.py [--full]``. Prints one JSON object.

* ``curve_60``: a full S_FP(d) curve, 60 distances in [0.002, 0.49], α = 0.5 typical reference
  (continuation from the exact point, Newton with the analytic Hessian); target <= 10 s.
* ``kernel_eval``: one evaluation of S_FP, its gradient and Hessian (energetic 3-D + entropic 2-D
  quadrature) versus the nested scipy-quad energetic term alone (``fp_energetic_reference``).
* ``alpha_le`` (``--full``): the local-entropy transition by brentq (~10 curves).
* ``success_curve``: SBPI, 10 α × 50 instances; N = 201 by default, N = 1001 with ``--full``
  (target <= 5 min on 2 cores, ``n_jobs=2``).
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from phasekit.theory.replica import local_entropy as le  # noqa: E402
from phasekit.validation.replica import local_entropy as vle  # noqa: E402


def main(full=False):
    res = {}
    le.local_entropy_curve(0.5, [0.3])                      # reference state + kernel build
    t = time.perf_counter()
    c = le.local_entropy_curve(0.5, np.linspace(0.002, 0.49, 60))
    res["curve_60_s"] = time.perf_counter() - t
    res["curve_60_converged"] = int(c.converged.sum())
    from phasekit import get_model
    model = get_model("perceptron.local_entropy")
    ref = le.reference_state(0.5, 0.0)
    x = np.array([0.6, 0.25, 1.5, 0.5, 1.2])
    t = time.perf_counter()
    for _ in range(20):
        model.kernel.evaluate((0.5, 0.0, 0.0, 0.2), x, ref[:2])
    res["kernel_eval_ms"] = 1e3 * (time.perf_counter() - t) / 20
    t = time.perf_counter()
    le.fp_energetic_reference(0.5, 0.0, 0.0, 0.2, 0.6, 0.25, ref[0])
    res["quad_energetic_only_ms"] = 1e3 * (time.perf_counter() - t)
    res["speedup_vs_quad"] = res["quad_energetic_only_ms"] / res["kernel_eval_ms"]
    if full:
        t = time.perf_counter()
        tr = le.alpha_le()
        res["alpha_le"] = tr.value
        res["alpha_le_s"] = time.perf_counter() - t
    n = 1001 if full else 201
    t = time.perf_counter()
    sc = vle.success_curve("sbpi", n, np.linspace(0.4, 0.85, 10), 50, seed=0, n_jobs=2, progress=full,
                           max_sweeps=400 if full else 150)
    res[f"success_curve_N{n}_s"] = time.perf_counter() - t
    res[f"sbpi_threshold_N{n}"] = sc.threshold
    res[f"sbpi_threshold_err_N{n}"] = sc.threshold_err
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main(full="--full" in sys.argv)
