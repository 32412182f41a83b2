"""Overlay measured data on a model's theory curve: deviation in units of the error, chi^2, figure."""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os

import numpy as np
from scipy import stats

from .._errors import InvalidParameterError, SaddlePointNotConverged
from ._common import figure, save_figure, write_table

__all__ = ["Comparison", "read_measurements", "compare_data"]


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Theory-versus-data comparison.

    ``z = (y - theory)/err`` per point; ``chi2_per_point = mean(z^2)``; ``p_value`` of the chi^2
    statistic with ``n`` degrees of freedom (no parameter is fitted); ``flagged`` when
    ``p_value < alpha_level``.
    """

    model: str
    x: str
    y: str
    n: int
    chi2: float
    chi2_per_point: float
    p_value: float
    max_abs_z: float
    flagged: bool
    alpha_level: float
    figure: str
    table: str

    def to_dict(self):
        return dataclasses.asdict(self)


def read_measurements(path, columns):
    """Read CSV (header row) or JSON (list of records, or dict of equal-length lists) and return
    ``{column: float array}``; a one-line ``InvalidParameterError`` names the row and column of
    the first problem (missing column, non-numeric or NaN value, unequal lengths)."""
    if not os.path.isfile(path):
        raise InvalidParameterError(f"data file {path!r} does not exist")
    rows = None
    if path.lower().endswith(".json"):
        with open(path) as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as e:
                raise InvalidParameterError(f"{path}: not valid JSON ({e})") from None
        if isinstance(d, dict):
            for c in columns:
                if c not in d:
                    raise InvalidParameterError(f"{path}: missing column {c!r} (have {', '.join(map(str, d))})")
            lens = {c: len(d[c]) for c in columns}
            if len(set(lens.values())) > 1:
                raise InvalidParameterError(f"{path}: columns have unequal lengths {lens}")
            rows = [{c: d[c][i] for c in columns} for i in range(next(iter(lens.values())))]
        elif isinstance(d, list):
            rows = d
        else:
            raise InvalidParameterError(f"{path}: expected a list of records or a dict of columns")
    else:
        with open(path, newline="") as f:
            lines = [l for l in f if not l.startswith("#")]
        reader = csv.DictReader(lines)
        rows = list(reader)
        if reader.fieldnames is None:
            raise InvalidParameterError(f"{path}: empty file")
    out = {c: [] for c in columns}
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict):
            raise InvalidParameterError(f"{path}: row {i} is not a record")
        for c in columns:
            if c not in r or r[c] in (None, ""):
                raise InvalidParameterError(f"{path}: row {i}: missing value in column {c!r}")
            try:
                v = float(r[c])
            except (TypeError, ValueError):
                raise InvalidParameterError(f"{path}: row {i}, column {c!r}: {r[c]!r} is not a number") from None
            if not math.isfinite(v):
                raise InvalidParameterError(f"{path}: row {i}, column {c!r}: value is {v} (NaN/inf not allowed)")
            out[c].append(v)
    if not rows:
        raise InvalidParameterError(f"{path}: no data rows")
    return {c: np.array(v) for c, v in out.items()}


def compare_data(path, model, *, x, y, err=None, params=None, branch=None, out_dir="phasekit-results",
                 alpha_level=1e-3) -> Comparison:
    """Theory curve of ``model``'s observable ``y`` at the data's ``x`` values, against the data.

    Writes ``<out_dir>/compare_<model>_<y>.png`` (data with error bars over the theory curve, and a
    residual panel in units of the error) and ``.csv`` (x, y, err, theory, z, z^2). Nothing is
    written when the data or parameters are invalid.
    """
    from ..solvers._fixed_point import as_model, solve_batch

    m = as_model(model)
    cols = [x, y] + ([err] if err else [])
    data = read_measurements(path, cols)
    if x not in m.control_names:
        raise InvalidParameterError(f"--x {x!r} is not a control parameter of {m.name} ({', '.join(m.control_names)})")
    xp = next(p for p in m.control if p.name == x)
    for i, v in enumerate(data[x], start=1):
        if not xp.contains(v):
            raise InvalidParameterError(f"{path}: row {i}, column {x!r}: {v!r} is outside the domain {xp.interval()} of {x!r}")
    e = data[err] if err else None
    if e is not None:
        bad = np.flatnonzero(~(e > 0))
        if bad.size:
            raise InvalidParameterError(f"{path}: row {bad[0] + 1}, column {err!r}: errors must be > 0")
    fixed = dict(params or {})
    fixed.pop(x, None)
    m.validate_params(dict(fixed, **{x: float(data[x][0])}), f"compare({m.name})")
    res = solve_batch(m, dict(fixed, **{x: data[x]}), branch=branch)
    if y not in res["values"]:
        raise InvalidParameterError(f"--y {y!r} is not an observable of {m.name} ({', '.join(res['values'])})")
    theory = res["values"][y]
    if not res["converged"].all():
        i = int(np.flatnonzero(~res["converged"])[0])
        raise SaddlePointNotConverged(f"the theory did not converge at {x}={float(data[x][i])!r} (row {i + 1})")
    if e is None:
        e = np.full_like(theory, np.std(data[y] - theory, ddof=1) if theory.size > 1 else 1.0)
    zz = (data[y] - theory) / e
    chi2 = float(np.sum(zz**2))
    n = int(zz.size)
    p = float(stats.chi2.sf(chi2, n))
    os.makedirs(out_dir, exist_ok=True)
    stem = f"compare_{m.name.replace('.', '_')}_{y}"
    table = write_table(os.path.join(out_dir, stem + ".csv"), [x, y, "err", "theory", "z", "chi2"],
                        [[repr(float(v)) for v in row] for row in zip(data[x], data[y], e, theory, zz, zz**2)])
    xs = np.linspace(data[x].min(), data[x].max(), 200)
    curve = solve_batch(m, dict(fixed, **{x: xs}), branch=branch)["values"][y]
    fig, (ax, axr) = figure(2, 1, figsize=(5.2, 5.0), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot(xs, curve, "k-", label=f"theory ({m.name})")
    ax.errorbar(data[x], data[y], yerr=e, fmt="o", ms=4, capsize=2, label="data")
    ax.set_ylabel(y)
    ax.legend(fontsize=7)
    ax.set_title(f"chi2/point = {chi2 / n:.3g}, p = {p:.3g}" + ("  FLAGGED" if p < alpha_level else ""), fontsize=9)
    axr.axhline(0, color="k", lw=0.5)
    axr.errorbar(data[x], zz, yerr=np.ones_like(zz), fmt="o", ms=3)
    axr.set_ylabel("(data-theory)/err")
    axr.set_xlabel(x)
    fpath = save_figure(fig, out_dir, stem)
    return Comparison(m.name, x, y, n, chi2, chi2 / n, p, float(np.max(np.abs(zz))), bool(p < alpha_level),
                      alpha_level, fpath, table)
