"""Compile sympy expressions with Gaussian expectations to numpy (Gauss–Hermite) or mpmath."""
from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import scipy.special as sc
import sympy as sp

from ..solvers._quadrature import DEFAULT_NODES, scaled_rule
from ._symbolic import GaussE

__all__ = ["compile_expr", "evaluate_mpmath", "NUMPY_FUNCTIONS", "MPMATH_FUNCTIONS"]



_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


def _np_mills(x):
    # G(x)/H(x) = sqrt(2/pi) / erfcx(x/sqrt 2): one special-function call, no underflow at any x
    return _SQRT_2_OVER_PI / sc.erfcx(np.asarray(x, dtype=float) * _SQRT_HALF)


NUMPY_FUNCTIONS = {
    "H": lambda x: sc.ndtr(-np.asarray(x, dtype=float)),
    "logH": lambda x: sc.log_ndtr(-np.asarray(x, dtype=float)),
    "mills": _np_mills,
    "log2cosh": lambda x: np.logaddexp(x, -np.asarray(x, dtype=float)),
}


def _mp_H(x):
    return mpmath.erfc(x / mpmath.sqrt(2)) / 2


MPMATH_FUNCTIONS = {
    "H": _mp_H,
    "logH": lambda x: mpmath.log(_mp_H(x)),
    "mills": lambda x: mpmath.npdf(x) / _mp_H(x),
    "log2cosh": lambda x: abs(x) + mpmath.log1p(mpmath.exp(-2 * abs(x))) ,
}


def _top_level_expectations(expr):
    """GaussE nodes of expr not nested inside another GaussE."""
    found = []

    def walk(e):
        if isinstance(e, GaussE):
            if e not in found:
                found.append(e)
            return
        for a in e.args:
            walk(a)

    walk(expr)
    return found


def _split(expr):
    nodes = _top_level_expectations(expr)
    dummies = [sp.Dummy(f"E{i}") for i in range(len(nodes))]
    outer = expr.xreplace(dict(zip(nodes, dummies))) if nodes else expr
    return outer, nodes, dummies


@functools.lru_cache(maxsize=512)
def _compile_numpy(expr, args, nodes_per_dim):
    outer, enodes, dummies = _split(expr)
    outer_f = sp.lambdify(list(args) + dummies, outer, modules=[NUMPY_FUNCTIONS, "numpy", "scipy"],
                          cse=True)
    inner = []
    for node in enodes:
        vs = node.variables
        f = _compile_numpy(node.integrand, tuple(args) + tuple(vs), nodes_per_dim)
        scale = None if node.scale == 1 else sp.lambdify(list(args), node.scale,
                                                           modules=[NUMPY_FUNCTIONS, "numpy", "scipy"])
        n = dict(nodes_per_dim).get(len(vs), DEFAULT_NODES.get(len(vs), 21))
        fixed_rule = scaled_rule(n, len(vs), None) if scale is None else None
        inner.append((f, scale, len(vs), n, fixed_rule))

    def evaluate(*vals):
        vals = [np.asarray(v, dtype=float) for v in vals]
        ex = [v[..., None] for v in vals]
        evs = []
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            for f, scale_f, dim, n, rule in inner:
                if rule is None:
                    s = np.broadcast_to(np.asarray(scale_f(*vals), dtype=float),
                                        np.broadcast_shapes(*(v.shape for v in vals)) if vals else ())
                    rule = scaled_rule(n, dim, s)
                z, w = rule
                evs.append(np.sum(w * f(*ex, *z), axis=-1))
            return outer_f(*vals, *evs)

    return evaluate


def compile_expr(expr, args, *, nodes=None):
    """Compile a sympy expression (possibly with nested :class:`GaussE`) to a numpy function.

    Parameters
    ----------
    expr : sympy expression
    args : sequence of Symbol
        Positional arguments of the returned function.
    nodes : dict, int or float, optional
        Quadrature rule per number of variables of an expectation, e.g. ``{1: 0.05, 2: 61}``: an
        int is a Gauss–Hermite rule with that many nodes per dimension, a float the step of the
        trapezoidal rule (see :data:`phasekit.solvers.DEFAULT_NODES` on choosing). A bare int or
        float sets the 1-D rule.

    Returns
    -------
    callable
        ``f(*values)``; values broadcast against each other (vectorised over parameter grids), the
        quadrature nodes live on a trailing axis that is summed out. Compiled functions are cached.
    """
    if isinstance(nodes, (int, float)):
        nodes = {1: nodes}
    key = tuple(sorted((nodes or {}).items()))
    return _compile_numpy(sp.sympify(expr), tuple(args), key)


def _mp_expectation(func, dim, scale):
    c = 1.0 / float(scale) if scale is not None and float(scale) > 1 else 1.0
    pts = [-mpmath.inf, -8 * c, -c, 0, c, 8 * c, mpmath.inf]
    dens = mpmath.npdf
    if dim == 1:
        return mpmath.quad(lambda z: dens(z) * func(z), pts)
    if dim == 2:
        return mpmath.quad(lambda a, b: dens(a) * dens(b) * func(a, b), pts, pts)
    raise NotImplementedError("mpmath reference supports expectations over 1 or 2 variables")


def evaluate_mpmath(expr, values, *, dps=30):
    """High-precision reference value of ``expr`` at ``values`` (dict Symbol -> number) with mpmath.

    Expectations are integrated with ``mpmath.quad`` (tanh–sinh), split at ``±1/scale``; nesting
    is supported. Slow: for tests.
    """
    with mpmath.workdps(dps):
        vals = {k: mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v for k, v in values.items()}
        return _mp_eval(sp.sympify(expr), vals)


def _mp_eval(expr, vals):
    outer, enodes, dummies = _split(expr)
    syms = sorted(outer.free_symbols - set(dummies), key=str)
    ev = {}
    for node, d in zip(enodes, dummies):
        vs = node.variables
        scale = None if node.scale == 1 else _mp_eval(node.scale, vals)

        def func(*zs, _node=node, _vs=vs):
            v2 = dict(vals)
            v2.update(zip(_vs, zs))
            return _mp_eval(_node.integrand, v2)

        ev[d] = _mp_expectation(func, len(vs), scale)
    f = sp.lambdify(syms + dummies, outer, modules=[MPMATH_FUNCTIONS, "mpmath"])
    return f(*[vals[s] for s in syms], *[ev[d] for d in dummies])
