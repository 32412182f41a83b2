"""Transitions from scalar criteria: zero crossings, levels, free-entropy crossings, folds."""
from __future__ import annotations

import numpy as np
import scipy.optimize as so
import sympy as sp

from .._errors import InvalidParameterError
from ._continuation import continue_branch
from ._fixed_point import as_model, solve
from ._results import SOLVED_STATUSES, TransitionResult

__all__ = ["find_transition", "find_fold"]


def find_transition(model, name, params=None, *, tol=1e-10, n_scan=24, search=None) -> TransitionResult:
    r"""Locate a named transition of a model (``phasekit transition MODEL NAME``).

    The model declares each transition's criterion (:class:`~phasekit.theory.Transition`):

    * ``zero`` / ``level``: the branch is followed by continuation over ``search`` (``n_scan``
      points), the first sign change of ``observable - level`` is bracketed and refined by
      ``brentq``, each evaluation a saddle point warm-started from the nearest scan point;
    * ``crossing``: same on the difference of the free entropies of two branches;
    * ``fold``: the spinodal where the branch ends, from the augmented system
      :math:`\nabla\phi = 0,\ \det\nabla^2\phi = 0` (:func:`find_fold`);
    * ``closed_form``: the model's sympy expression evaluated at ``params``.

    Returns a :class:`TransitionResult`; ``converged=False`` with a message when the criterion
    has no sign change in the search range or a saddle point failed.
    """
    model = as_model(model)
    tr = model.transition(name)
    along = tr.along
    base = dict(params or {})
    base.pop(along, None)
    fixed = model.validate_params(dict(base, **{along: _probe(model, along)}), f"find_transition({model.name})")
    fixed.pop(along)
    lo, hi = search or tr.search or (None, None)

    if tr.kind == "closed_form":
        syms = {p.symbol: fixed[p.name] for p in model.control if p.name in fixed}
        expr = sp.sympify(tr.expr)
        val = float(sp.N(expr.subs(syms), 17))
        # an "implicit function" is a sympy Function subclass defined by a model whose evalf runs a
        # numeric solver (e.g. alpha_LE(kappa)); report it as such, not as a closed form
        implicit = any(not type(fn).__module__.startswith(("sympy", "phasekit.theory._symbolic"))
                       for fn in expr.atoms(sp.Function))
        return TransitionResult(name, val, along, fixed, bool(np.isfinite(val)), 0, 0.0, model.name,
                                tr.kind, {}, "implicit function evaluated by the model's numeric solver"
                                if implicit else "closed form derived in sympy")
    if tr.kind == "fold":
        return find_fold(model, fixed, along=along, branch=tr.branch, search=(lo, hi), n_scan=n_scan,
                         name=name)

    grid = np.linspace(lo, hi, n_scan)
    br = continue_branch(model, fixed, along=along, values=grid, branch=tr.branch)
    if tr.kind in ("zero", "level"):
        target = tr.level if tr.kind == "level" else 0.0
        key = tr.observable

        def crit_from(sp_res):
            return sp_res.observables[key] - target
        vals = br.values[key] - target
    elif tr.kind == "crossing":
        other = tr.other

        def crit_from(sp_res):
            return sp_res.free_entropy - solve(model, dict(fixed, **{along: sp_res.params[along]}),
                                               branch=other).free_entropy
        vals = np.array([br.values["free_entropy"][i] - solve(model, dict(fixed, **{along: g}), branch=other).free_entropy
                         if br.status[i] in SOLVED_STATUSES else np.nan for i, g in enumerate(grid)])
    else:
        raise InvalidParameterError(f"unknown transition kind {tr.kind!r}")

    ok = np.isfinite(vals)
    idx = np.flatnonzero(ok[:-1] & ok[1:] & (np.sign(vals[:-1]) != np.sign(vals[1:])))
    if idx.size == 0:
        return TransitionResult(name, float("nan"), along, fixed, False, 0, float("nan"), model.name, tr.kind,
                                {}, f"no sign change of the criterion on {along} in [{lo}, {hi}] "
                                    f"({int(ok.sum())}/{ok.size} branch points converged)")
    i = idx[0]
    names = model.order_names
    starts = {grid[j]: {n: br.values[n][j] for n in names} for j in (i, i + 1)}
    count = [0]
    last = {}

    def f(a):
        count[0] += 1
        near = min(starts, key=lambda g: abs(g - a))
        r = solve(model, dict(fixed, **{along: a}), x0=last.get("x", starts[near]), branch=tr.branch, tol=tol)
        if r.status not in SOLVED_STATUSES:
            raise _Fail(r.message)
        last["x"], last["r"] = r.order_parameters, r
        return crit_from(r)

    try:
        root, info = so.brentq(f, grid[i], grid[i + 1], xtol=tol, rtol=4 * np.finfo(float).eps,
                               full_output=True, disp=False)
    except _Fail as e:
        return TransitionResult(name, float("nan"), along, fixed, False, count[0], float("nan"), model.name,
                                tr.kind, {}, f"saddle point failed during the bracket search: {e}")
    r = solve(model, dict(fixed, **{along: root}), x0=last.get("x"), branch=tr.branch, tol=tol)
    crit = float(crit_from(r))
    ok = bool(info.converged and r.status in SOLVED_STATUSES)
    msg = f"brentq: {info.flag}; criterion at root {crit:.2e}"
    if r.status != "converged":
        msg += f"; the saddle point there is {r.status}: {r.message}"
    return TransitionResult(name, float(root), along, fixed, ok, count[0],
                            abs(crit), model.name, tr.kind, dict(r.order_parameters), msg,
                            status="converged" if ok else "not_converged", error_estimate=r.error_estimate)


class _Fail(RuntimeError):
    pass


def _probe(model, along):
    for p in model.control:
        if p.name == along:
            if p.default is not None:
                return p.default
            lo = p.low if np.isfinite(p.low) else 0.0
            return lo + 1.0 if not np.isfinite(p.high) else 0.5 * (lo + p.high)
    raise InvalidParameterError(f"unknown parameter {along!r} of model {model.name}")


def find_fold(model, params, *, along="alpha", branch=None, search=(None, None), n_scan=24, name="spinodal",
              tol=1e-11) -> TransitionResult:
    r"""Spinodal: where a branch of stationary points ends (saddle-node).

    The branch is followed along ``along`` over ``search``; from its last converged point the
    augmented system :math:`\{\nabla_x\phi(x,a) = 0,\ \det\nabla_x^2\phi(x,a) = 0\}` is solved for
    ``(x, a)`` with ``scipy.optimize.root`` (hybr). The Hessian is the symbolic one.
    """
    model = as_model(model)
    lo, hi = search
    grid = np.linspace(lo, hi, n_scan)
    names = model.order_names
    br = continue_branch(model, params, along=along, values=grid, branch=branch)
    good = np.flatnonzero(np.isin(br.status, SOLVED_STATUSES))
    if good.size == 0 or good[-1] == grid.size - 1:
        msg = "branch did not converge anywhere" if good.size == 0 else f"branch still exists at {along}={hi}"
        return TransitionResult(name, float("nan"), along, dict(params), False, 0, float("nan"), model.name,
                                "fold", {}, msg)
    # refine the end of the branch by bisection on existence, then Newton on the augmented system
    a_ok, a_bad = grid[good[-1]], grid[good[-1] + 1]
    x_ok = np.array([br.values[n][good[-1]] for n in names])
    count = 0
    for _ in range(12):
        mid = 0.5 * (a_ok + a_bad)
        r = solve(model, dict(params, **{along: mid}), x0=dict(zip(names, x_ok)), branch=branch)
        count += 1
        x = np.array([r.order_parameters[n] for n in names])
        if r.status in SOLVED_STATUSES and np.max(np.abs(x - x_ok)) < 0.25:
            a_ok, x_ok = mid, x
        else:
            a_bad = mid
    ci = model.control_names.index(along)
    cvals = [params.get(n, 0.0) for n in model.control_names]

    def hess_at(x, a):
        c = list(cvals)
        c[ci] = a
        return c, model.hessian_numeric(*c, *x)

    # fixed normalisation of det(H) from the first point of the branch (away from the fold)
    _, h0 = hess_at(np.array([br.values[n][good[0]] for n in names]), grid[good[0]])
    scale = max(float(np.max(np.abs(h0))), 1e-300) ** len(names)

    def F(y):
        x, a = y[:-1], y[-1]
        c, h = hess_at(x, a)
        return np.append(model.gradient_numeric(*c, *x), np.linalg.det(h) / scale)

    sol = so.root(F, np.append(x_ok, a_ok), method="hybr", options={"xtol": tol})
    count += int(sol.nfev)
    res = float(np.max(np.abs(sol.fun)))
    ok = bool(sol.success and res < 1e-8 and abs(sol.x[-1] - a_ok) <= abs(grid[1] - grid[0]))
    return TransitionResult(name, float(sol.x[-1]), along, dict(params), ok, count, res, model.name, "fold",
                            dict(zip(names, map(float, sol.x[:-1]))),
                            f"augmented system: {sol.message}; branch last found at {along}={a_ok:.6f}")
