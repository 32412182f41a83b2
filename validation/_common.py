"""Shared pieces of the simulations: estimate statistics, seeding, argument checks, figures."""
from __future__ import annotations

import dataclasses
import math
import numbers
import os

import numpy as np

from .._constraints import check_scalar, describe_interval, invalid_parameter
from .._errors import InvalidParameterError

__all__ = ["SimStats", "estimate", "binomial_estimate", "spawn_rngs", "figure", "save_figure", "write_csv",
           "write_table", "fail_parameter", "check_int", "check_float", "check_seed", "readonly"]


@dataclasses.dataclass(frozen=True)
class SimStats:
    """A simulated estimate: ``mean ± error_of_mean`` from ``n_samples`` independent samples.

    Theory and simulation are said to agree when ``|mean - theory| <= k*error_of_mean + allowance``
    with ``k`` and the finite-size ``allowance`` stated by the caller.
    """

    mean: float
    error_of_mean: float
    n_samples: int
    seed: int | None = None

    def agrees_with(self, value: float, *, k: float = 3.0, allowance: float = 0.0) -> bool:
        return bool(abs(self.mean - value) <= k * self.error_of_mean + allowance)


def estimate(samples, *, seed=None) -> SimStats:
    """Mean and standard error (ddof=1) of independent samples."""
    x = np.asarray(samples, dtype=float).ravel()
    n = x.size
    if n == 0:
        return SimStats(float("nan"), float("nan"), 0, seed)
    err = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return SimStats(float(x.mean()), err, int(n), seed)


def binomial_estimate(successes: int, trials: int, *, seed=None) -> SimStats:
    """Success fraction with its binomial standard error sqrt(p(1-p)/n)."""
    if trials <= 0:
        return SimStats(float("nan"), float("nan"), 0, seed)
    p = successes / trials
    return SimStats(float(p), float(np.sqrt(max(p * (1 - p), 0.0) / trials)), int(trials), seed)


def spawn_rngs(seed, n):
    """``n`` independent generators from one seed (``SeedSequence.spawn``)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def figure(nrows=1, ncols=1, **kw):
    """A matplotlib figure on the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    kw.setdefault("figsize", (4.8 * ncols, 3.6 * nrows))
    kw.setdefault("constrained_layout", True)
    return plt.subplots(nrows, ncols, **kw)


def save_figure(fig, out_dir, name) -> str:
    """Save ``fig`` as ``out_dir/name.png`` (dpi 120), close it, return the path."""
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_csv(out_dir, name, rows) -> str:
    """Write a list of dict rows to ``out_dir/name.csv`` (columns: union of keys in first-seen
    order; missing cells empty) and return the path."""
    import csv

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.csv")
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})
    return path


def write_table(path, header, rows) -> str:
    """Write ``rows`` (sequences) under the column names ``header`` to the CSV file ``path``; return it."""
    import csv

    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# --------------------------------------------------------------------------- argument checks
def fail_parameter(name, where, what, value):
    """Raise :class:`InvalidParameterError`: parameter ``name`` of ``where`` must be ``what``."""
    raise invalid_parameter(name, where, what, value)


def check_int(value, name, where, low, high=None, odd=False):
    """``int(value)`` if it is an int in [low, high] (odd if asked); see :func:`check_scalar`."""
    if not odd:
        return check_scalar(value, name, where, int, low, high)
    what = "an odd " + describe_interval(int, low, high)[3:]
    try:
        v = check_scalar(value, name, where, int, low, high)
    except InvalidParameterError:
        v = None
    if v is None or v % 2 == 0:
        fail_parameter(name, where, what, value)
    return v


def check_float(value, name, where, low=0.0, high=math.inf, closed="both"):
    """``float(value)`` if finite and in the interval (``closed``: both, left, right, neither)."""
    return check_scalar(value, name, where, float, low, high, closed)


def check_seed(seed, where):
    """A non-negative int seed; ``None`` draws one from fresh entropy."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        fail_parameter("seed", where, "a non-negative int or None", seed)
    return int(seed)


def readonly(a):
    """``a`` as an array that cannot be written to."""
    a = np.asarray(a)
    a.setflags(write=False)
    return a
