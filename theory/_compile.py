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

__all__ = ["compile_expr", "refine_rules", "evaluate_mpmath", "NUMPY_FUNCTIONS", "MPMATH_FUNCTIONS"]



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


@functools.lru_cache(maxsize=1024)
def _build_numpy(expr, args):
    """Lambdify ``expr`` once; the quadrature rule is an argument of the returned evaluator, so
    refined rules (accuracy control) cost no new lambdify."""
    outer, enodes, dummies = _split(expr)
    outer_f = sp.lambdify(list(args) + dummies, outer, modules=[NUMPY_FUNCTIONS, "numpy", "scipy"],
                          cse=True)
    inner = []
    for node in enodes:
        vs = node.variables
        f = _build_numpy(node.integrand, tuple(args) + tuple(vs))
        scale = None if node.scale == 1 else sp.lambdify(list(args), node.scale,
                                                           modules=[NUMPY_FUNCTIONS, "numpy", "scipy"])
        inner.append((f, scale, len(vs)))

    def evaluate(rules, *vals):
        # raw evaluator: no conversion, no error-state handling (done once by the caller)
        if not inner:
            return outer_f(*vals)
        ex = [v[..., None] for v in vals]
        evs = []
        for f, scale_f, dim in inner:
            n = rule_for(rules, dim)
            if scale_f is None:
                z, w = _plain_rule(n, dim)
            else:
                s = np.broadcast_to(np.asarray(scale_f(*vals), dtype=float),
                                    np.broadcast_shapes(*(v.shape for v in vals)) if vals else ())
                z, w = scaled_rule(n, dim, s)
            evs.append(np.sum(w * f(rules, *ex, *z), axis=-1))
        return outer_f(*vals, *evs)

    return evaluate


class _Compiled:
    """A compiled expression on one rule: converts the arguments once and silences floating-point
    warnings once per call (the nested evaluators are raw)."""

    __slots__ = ("_ev", "_rules")

    def __init__(self, ev, rules):
        self._ev, self._rules = ev, rules

    def __call__(self, *vals):
        vals = [np.asarray(v, dtype=float) for v in vals]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            return self._ev(self._rules, *vals)


@functools.lru_cache(maxsize=64)
def _plain_rule(n, dim):
    z, w = scaled_rule(n, dim, None)
    w.setflags(write=False)
    return z, w


def rule_for(rules, dim):
    """The rule for an expectation over ``dim`` variables: from ``rules`` (a sorted tuple of
    ``(dim, spec)`` pairs), else :data:`~phasekit.solvers.DEFAULT_NODES`."""
    for d, spec in rules:
        if d == dim:
            return spec
    return DEFAULT_NODES.get(dim, 21)


def _rules_key(nodes):
    if isinstance(nodes, (int, float)):
        nodes = {1: nodes}
    return tuple(sorted((nodes or {}).items()))


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
        quadrature nodes live on a trailing axis that is summed out. The lambdified form is
        cached per expression; functions for other rules (:func:`refine_rules`) reuse it.
    """
    return _Compiled(_build_numpy(sp.sympify(expr), tuple(args)), _rules_key(nodes))


#: Node budget of the accuracy control: the largest refined rule per number of Gaussian variables.
REFINE_BUDGET = {1: 2 ** 15, 2: 2 ** 18, 3: 2 ** 18}


def refine_rules(nodes, level, *, dims=None, max_nodes=None):
    """The quadrature rules refined ``level`` times: trapezoidal steps halved, Gauss–Hermite node
    counts per dimension doubled (times 1.5 in three or more dimensions), for every dimension of
    :data:`DEFAULT_NODES` and ``nodes``.

    Returns ``None`` when a refined rule would exceed ``max_nodes`` points (default
    :data:`REFINE_BUDGET` per dimension: 32 768 nodes in 1-D, i.e. trapezoidal steps down to
    0.05/64) for any dimension in ``dims`` (the dimensions of the expectations a model uses;
    default: all), the node budget of the accuracy control.
    """
    base = dict(DEFAULT_NODES)
    base.update(dict(_rules_key(nodes)))
    for d in dims or ():
        base.setdefault(d, DEFAULT_NODES.get(d, 21))
    out = {}
    for dim, spec in base.items():
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            n = int(math.ceil(int(spec) * (2.0 if dim <= 2 else 1.5) ** level))
            size = n ** dim
        else:
            n = float(spec) / 2 ** level
            size = (2 * round(12.5 / n) + 1) ** dim
        budget = max_nodes if max_nodes is not None else REFINE_BUDGET.get(dim, 2 ** 18)
        if size > budget and level > 0:
            if dims is None or dim in dims:
                return None
            continue
        out[dim] = n
    return out


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
