"""Saddle points: damped fixed-point iteration, Anderson acceleration and Newton/hybr polishing."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import scipy.optimize as so

from .._errors import InvalidParameterError
from ._results import SaddlePoint

__all__ = ["solve", "solve_batch", "damped_fixed_point", "as_model"]

_METHODS = ("auto", "fixed_point", "anderson", "newton", "hybr")


def as_model(model):
    """A model instance from an instance or a registered name."""
    if isinstance(model, str):
        from .._registry import get_model
        return get_model(model)
    return model


def damped_fixed_point(F, x0, *, damping=0.5, tol=1e-10, maxiter=2000, project=None, anderson=0):
    r"""Iterate :math:`x \leftarrow (1-\delta) F(x) + \delta x` until ``max|F(x)-x| < tol``.

    Parameters
    ----------
    F : callable
        Map of a 1-D array.
    damping : float in [0, 1)
        Weight ``delta`` of the old iterate (0 = plain iteration).
    project : callable, optional
        Keeps iterates in the domain (e.g. clips q into [0, 1)).
    anderson : int
        Memory of Anderson acceleration (0 = off).

    Returns
    -------
    x, converged, iterations, residual, message
    """
    if not 0 <= damping < 1:
        raise InvalidParameterError(
            f"The 'damping' parameter of damped_fixed_point must be a float in the range [0, 1). Got {damping!r} instead.")
    x = np.asarray(x0, dtype=float).copy()
    proj = project or (lambda y: y)
    X, R = [], []
    res = math.inf
    for it in range(1, maxiter + 1):
        fx = np.asarray(F(x), dtype=float)
        r = fx - x
        res = float(np.max(np.abs(r)))
        if not np.isfinite(res):
            return x, False, it, res, "non-finite residual (an order parameter left its domain?)"
        if res < tol:
            return fx if np.all(np.isfinite(fx)) else x, True, it, res, "converged"
        new = (1 - damping) * fx + damping * x
        if anderson:
            X.append(x.copy()); R.append(r.copy())
            if len(X) > anderson + 1:
                X.pop(0); R.pop(0)
            if len(X) >= 2:
                dR = np.diff(np.array(R), axis=0).T
                dX = np.diff(np.array(X), axis=0).T
                gamma, *_ = np.linalg.lstsq(dR, r, rcond=None)
                cand = x + (1 - damping) * r - (dX + (1 - damping) * dR) @ gamma
                if np.all(np.isfinite(cand)):
                    new = cand
        x = proj(new)
    return x, False, maxiter, res, f"no convergence in {maxiter} iterations (residual {res:.3g})"


def _projector(model):
    lo = np.array([p.low for p in model.order], dtype=float)
    hi = np.array([p.high for p in model.order], dtype=float)
    eps = 1e-14
    lo_in = np.where(np.isfinite(lo), lo + np.array([0 if p.closed in ("both", "left") else eps
                                                     for p in model.order]), -np.inf)
    hi_in = np.where(np.isfinite(hi), hi - np.array([0 if p.closed in ("both", "right") else eps
                                                     for p in model.order]), np.inf)
    return lambda x: np.clip(x, lo_in, hi_in)


def _newton(model, c, x, tol, maxiter, project):
    """Newton on grad phi = 0 with the symbolic Hessian, step halving to stay in the domain."""
    grad, hess = model.gradient_numeric, model.hessian_numeric
    g = grad(*c, *x)
    for it in range(1, maxiter + 1):
        if not np.all(np.isfinite(g)):
            return x, False, it, "non-finite gradient"
        try:
            step = np.linalg.solve(hess(*c, *x), -g)
        except np.linalg.LinAlgError:
            return x, False, it, "singular Hessian (at or near a spinodal?)"
        lam = 1.0
        gn = np.max(np.abs(g))
        for _ in range(30):
            xn = project(x + lam * step)
            gnew = grad(*c, *xn)
            if np.all(np.isfinite(gnew)) and np.max(np.abs(gnew)) < max(gn, 1e-300) * (1 - 1e-4 * lam) + 1e-300:
                break
            lam *= 0.5
        else:
            if np.max(np.abs(step)) < 1e-8 * max(1.0, np.max(np.abs(x))):
                return x, True, it, "converged (at the quadrature noise floor)"
            return x, False, it, "line search failed"
        x, g = xn, gnew
        if np.max(np.abs(lam * step)) < tol * max(1.0, np.max(np.abs(x))) or np.max(np.abs(g)) < 1e-15:
            return x, True, it, "converged"
    return x, False, maxiter, "Newton did not converge"


def _hybr(model, c, x, tol):
    grad, hess = model.gradient_numeric, model.hessian_numeric
    sol = so.root(lambda y: grad(*c, *y), x, jac=lambda y: hess(*c, *y), method="hybr",
                  options={"xtol": tol})
    return sol.x, bool(sol.success), int(sol.nfev), sol.message


def solve(model, params: Mapping[str, Any] | None = None, *, x0=None, branch=None, method=None,
          tol=None, maxiter=None, damping=None) -> SaddlePoint:
    r"""Solve a model's saddle-point (stationarity) equations at one parameter point.

    Parameters
    ----------
    model : EquilibriumModel or str
        A model instance or registered name (``phasekit list``).
    params : dict
        Control parameters; missing ones take their declared defaults. Validated against the
        declared domains (``InvalidParameterError`` otherwise).
    x0 : dict, optional
        Starting order parameters; default from the ``branch``.
    branch : str, optional
        Named branch of the model (e.g. ``"poor"``); selects the start and labels the result.
    method : {"auto", "fixed_point", "anderson", "newton", "hybr"}, optional
        ``auto`` (default): damped fixed-point iteration of the derived fixed-point form to
        ``1e-6``, then Newton with the symbolic Hessian to ``tol``; models without a fixed-point
        form go straight to Newton, falling back to ``scipy.optimize.root(method='hybr')``.
    tol : float, optional
        Tolerance on the residual (default 1e-10).
    maxiter : int, optional
        Iteration cap (default 5000 fixed-point / 100 Newton iterations).
    damping : float in [0, 1), optional
        Damping of the fixed-point iteration (default 0.5, or the model's ``damping`` attribute).

    Returns
    -------
    SaddlePoint
        ``converged`` is False (and ``message`` says why) when the tolerance was not reached:
        the numbers are then not to be trusted.
    """
    model = as_model(model)
    where = f"solve({model.name})"
    c_dict = model.validate_params(params, where)
    method = method or model.branch(branch).method or "auto"
    if method not in _METHODS:
        raise InvalidParameterError(
            f"The 'method' parameter of solve must be one of {', '.join(_METHODS)}. Got {method!r} instead.")
    tol = 1e-10 if tol is None else float(tol)
    if not tol > 0:
        raise InvalidParameterError(f"The 'tol' parameter of solve must be a float in the range (0, inf). Got {tol!r} instead.")
    damping = getattr(model, "damping", 0.5) if damping is None else damping
    br = model.branch(branch)
    c = [c_dict[n] for n in model.control_names]

    if br.fixed is not None:
        x = np.array([br.fixed[n] for n in model.order_names], dtype=float)
        phi = float(br.free_entropy)
        return _result(model, c_dict, x, phi, True, 0, 0.0, br.name, "exact", "exact branch value")

    start = model.start(c_dict, br.name)
    if x0 is not None:
        start.update(model.validate_order(x0, where))
    x = np.array([start[n] for n in model.order_names], dtype=float)
    project = _projector(model)
    x = project(x)
    iters, msg, ok = 0, "", False
    fp = model.fixed_point_numeric

    if method in ("auto", "fixed_point", "anderson") and fp is not None:
        F = lambda y: fp(*c, *y)  # noqa: E731
        if method == "auto":
            # a short accelerated run to get close, plain damping if Anderson overshoots (q -> 1);
            # Newton below finishes either way (and decides convergence)
            x_start = x
            x, ok, it, res, msg = damped_fixed_point(F, x_start, damping=damping, tol=1e-4, maxiter=100,
                                                     project=project, anderson=5)
            iters += it
            if not ok:
                x, ok, it, res, msg = damped_fixed_point(F, x_start, damping=damping, tol=1e-4,
                                                         maxiter=min(maxiter or 500, 500), project=project)
                iters += it
                if not np.all(np.isfinite(x)):
                    x = x_start
        else:
            x, ok, it, res, msg = damped_fixed_point(
                F, x, damping=damping, tol=tol, maxiter=maxiter or 5000, project=project,
                anderson=0 if method == "fixed_point" else 5)
            iters += it
            return _finish(model, c_dict, c, x, ok, iters, br.name, method, msg)
    if method in ("auto", "newton"):
        x1, ok, it, msg = _newton(model, c, x, tol, maxiter or 100, project)
        iters += it
        if ok or method == "newton":
            return _finish(model, c_dict, c, x1, ok, iters, br.name, "newton" if method == "newton" else "auto", msg)
    x2, ok, it, msg = _hybr(model, c, x, tol)
    iters += it
    return _finish(model, c_dict, c, project(x2), ok, iters, br.name, method, msg)


def _residual(model, c, x):
    fp = model.fixed_point_numeric
    if fp is not None:
        r = np.asarray(fp(*c, *x), dtype=float) - x
    else:
        r = np.asarray(model.gradient_numeric(*c, *x), dtype=float)
    return float(np.max(np.abs(r))) if np.all(np.isfinite(r)) else math.inf


def _finish(model, c_dict, c, x, ok, iters, branch, method, msg):
    res = _residual(model, c, x)
    tol_ok = res < 1e-7
    ok = bool(ok and tol_ok)
    if not tol_ok and "converged" in str(msg):
        msg = f"residual {res:.3g} above 1e-7"
    phi = float(model.phi_numeric(*c, *x))
    if not np.isfinite(phi):
        ok, msg = False, "non-finite free entropy"
    return _result(model, c_dict, x, phi, ok, iters, res, branch, method, str(msg))


def _result(model, c_dict, x, phi, ok, iters, res, branch, method, msg):
    c = [c_dict[n] for n in model.control_names]
    obs = {}
    if model.branch(branch).fixed is None:
        for k, f in model.observables_numeric.items():
            obs[k] = float(f(*c, *x, phi))
    else:
        obs = dict(getattr(model, "fixed_observables", lambda b, p: {})(branch, c_dict))
        obs.setdefault(model.entropy_observable, phi)
    return SaddlePoint(model=model.name, params=dict(c_dict),
                       order_parameters={n: float(v) for n, v in zip(model.order_names, x)},
                       free_entropy=float(phi), observables=obs, converged=bool(ok),
                       iterations=int(iters), residual=float(res), branch=branch, method=method,
                       message=msg)


def solve_batch(model, params, *, branch=None, tol=None, maxiter=None, damping=None, pre_tol=0.1):
    r"""Solve the saddle-point equations at many parameter points at once (vectorised).

    All points start from the ``branch`` start and are iterated together: damped fixed-point
    iteration of the derived fixed-point form to ``pre_tol``, then Newton steps on the fixed-point
    residual F(x) - x (forward-difference Jacobian; the symbolic Hessian for models without a
    fixed-point form), batched ``numpy.linalg.solve`` and a per-point step-halving line search. This is
    the fast path of :func:`~phasekit.solvers.sweep` and of learning curves; use
    :func:`~phasekit.solvers.continue_branch` to follow a metastable branch by warm starts.

    Parameters
    ----------
    model : EquilibriumModel or str
    params : dict
        Control parameters; values may be arrays (broadcast together) — missing ones take their
        defaults. Every value is validated against the declared domain.

    Returns
    -------
    dict
        ``values`` (order parameters, ``free_entropy`` and observables, arrays of the broadcast
        shape), ``converged``, ``residual``, ``iterations`` (arrays) and ``branch``.
    """
    model = as_model(model)
    where = f"solve_batch({model.name})"
    arrs = {}
    for k, v in dict(params or {}).items():
        arrs[k] = np.asarray(v, dtype=float)
    shape = np.broadcast_shapes(*(a.shape for a in arrs.values())) if arrs else ()
    flat = {k: np.broadcast_to(a, shape).ravel() for k, a in arrs.items()}
    npts = int(np.prod(shape)) if shape else 1
    # validate every point through the declared domains (vectorised check, scalar message)
    first = model.validate_params({k: v[0] for k, v in flat.items()}, where)
    for k, v in flat.items():
        p = next(p for p in model.control if p.name == k)
        bad = ~np.array([p.contains(float(x)) for x in v]) if v.size < 64 else ~_contains_vec(p, v)
        if bad.any():
            p.validate(v[np.flatnonzero(bad)[0]], where)
    c = [flat[n] if n in flat else np.full(npts, first[n]) for n in model.control_names]
    br = model.branch(branch)
    tol = 1e-10 if tol is None else float(tol)
    damping = getattr(model, "damping", 0.5) if damping is None else damping
    if br.fixed is not None:
        x = np.tile([br.fixed[k] for k in model.order_names], (npts, 1))
        phi = np.full(npts, float(br.free_entropy))
        conv = np.ones(npts, bool)
        res = np.zeros(npts)
        its = np.zeros(npts, int)
        obs = {}
        fo = getattr(model, "fixed_observables", None)
        if fo is not None:
            o = fo(br.name, first)
            obs = {k: np.full(npts, v) for k, v in o.items()}
        obs.setdefault(model.entropy_observable, phi)
        return _batch_out(model, shape, x, phi, obs, conv, res, its, br.name)
    start = model.start(first, br.name)
    x = np.tile([float(start[k]) for k in model.order_names], (npts, 1))
    project = _projector(model)
    x = project(x)
    its = np.zeros(npts, int)
    fp = model.fixed_point_numeric
    with np.errstate(all="ignore"):
        if fp is not None and br.method != "newton":
            active = np.ones(npts, bool)
            for it in range(min(maxiter or 300, 300)):
                if not active.any():
                    break
                idx = np.flatnonzero(active)
                fx = fp(*[ci[idx] for ci in c], *x[idx].T)
                r = np.max(np.abs(fx - x[idx]), axis=-1)
                x[idx] = project((1 - damping) * fx + damping * x[idx])
                its[idx] += 1
                active[idx[~(r > pre_tol)]] = False  # close enough, or NaN: Newton decides
        grad, hess = model.gradient_numeric, model.hessian_numeric
        if fp is not None:
            # Newton on the fixed-point residual R(x) = F(x) - x, Jacobian by forward differences
            # (n + 1 evaluations of F per step: cheaper than the symbolic Hessian of the channel)
            def resid_fn(ca, xa):
                return fp(*ca, *xa.T) - xa

            def jac_and_grad(ca, xa, r0=None):
                r0 = resid_fn(ca, xa) if r0 is None else r0
                J = np.empty(xa.shape + (xa.shape[-1],))
                for j in range(xa.shape[-1]):
                    hstep = 1e-7 * np.maximum(1.0, np.abs(xa[:, j]))
                    xp = xa.copy()
                    xp[:, j] += hstep
                    J[:, :, j] = (resid_fn(ca, xp) - r0) / hstep[:, None]
                return r0, J
        else:
            def jac_and_grad(ca, xa, r0=None):
                return (grad(*ca, *xa.T) if r0 is None else r0), hess(*ca, *xa.T)

            def resid_fn(ca, xa):
                return grad(*ca, *xa.T)
        active = np.ones(npts, bool)
        r_last = None  # residual at the accepted point, reused by the next step
        for it in range(maxiter or 60):
            if not active.any():
                break
            idx = np.flatnonzero(active)
            ca = [ci[idx] for ci in c]
            g, h = jac_and_grad(ca, x[idx], None if r_last is None else r_last[idx])
            step = _batched_solve(h, -g)
            gn = np.max(np.abs(g), axis=-1)
            lam = np.ones(idx.size)
            xn = project(x[idx] + lam[:, None] * step)
            accepted = np.zeros(idx.size, bool)
            for _ in range(30):
                gnew = resid_fn(ca, xn)
                ok = np.all(np.isfinite(gnew), axis=-1) & (np.max(np.abs(gnew), axis=-1) <= gn * (1 - 1e-4 * lam) + 1e-300)
                accepted |= ok
                if accepted.all():
                    break
                lam = np.where(accepted, lam, 0.5 * lam)
                xn = np.where(accepted[:, None], xn, project(x[idx] + lam[:, None] * step))
            small = np.max(np.abs(lam[:, None] * step), axis=-1) < tol * np.maximum(1, np.max(np.abs(xn), axis=-1))
            x[idx] = np.where(accepted[:, None], xn, x[idx])
            if r_last is None:
                r_last = np.full((npts, x.shape[1]), np.nan)
            r_last[idx] = np.where(accepted[:, None], gnew, g)
            its[idx] += 1
            done = (accepted & small) | ~accepted | ~np.all(np.isfinite(step), axis=-1)
            active[idx[done]] = False
        if fp is not None:
            resid = np.max(np.abs(fp(*c, *x.T) - x), axis=-1)
        else:
            resid = np.max(np.abs(grad(*c, *x.T)), axis=-1)
        resid = np.where(np.isfinite(resid), resid, np.inf)
        phi = np.broadcast_to(model.phi_numeric(*c, *x.T), (npts,)).astype(float)
        conv = (resid < 1e-7) & np.isfinite(phi)
        obs = {k: np.broadcast_to(f(*c, *x.T, phi), (npts,)).astype(float)
               for k, f in model.observables_numeric.items()}
    return _batch_out(model, shape, x, phi, obs, conv, resid, its, br.name)


def _contains_vec(p, v):
    lo_ok = v >= p.low if p.closed in ("both", "left") else v > p.low
    hi_ok = v <= p.high if p.closed in ("both", "right") else v < p.high
    return np.isfinite(v) & lo_ok & hi_ok


def _batched_solve(h, b):
    try:
        return np.linalg.solve(h, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full_like(b, np.nan)
        for i in range(b.shape[0]):
            try:
                out[i] = np.linalg.solve(h[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _batch_out(model, shape, x, phi, obs, conv, res, its, branch):
    values = {k: x[:, i].reshape(shape) for i, k in enumerate(model.order_names)}
    values["free_entropy"] = np.asarray(phi, dtype=float).reshape(shape)
    for k, v in obs.items():
        values.setdefault(k, np.asarray(v, dtype=float).reshape(shape))
    conv = np.asarray(conv, bool).reshape(shape)
    for k in values:  # never a silent wrong number: NaN where not converged
        values[k] = np.where(conv, values[k], np.nan)
    return {"values": values, "converged": conv, "residual": np.asarray(res, float).reshape(shape),
            "iterations": np.asarray(its, int).reshape(shape), "branch": branch}
