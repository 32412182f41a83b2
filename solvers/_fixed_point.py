"""Saddle points: damped fixed-point iteration, Anderson acceleration and Newton/hybr polishing."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import scipy.optimize as so

from .._errors import InvalidParameterError
from ._results import SaddlePoint

__all__ = ["solve", "damped_fixed_point", "as_model"]

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
    method = method or "auto"
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
        pre_tol = 1e-4 if method == "auto" else tol
        x_start = x
        x, ok, it, res, msg = damped_fixed_point(
            F, x_start, damping=damping, tol=pre_tol, maxiter=maxiter or 5000, project=project,
            anderson=0 if method == "fixed_point" else 5)
        iters += it
        if not ok and method == "auto":  # Anderson can overshoot near q -> 1: plain damped iteration
            x, ok, it, res, msg = damped_fixed_point(
                F, x_start, damping=damping, tol=pre_tol, maxiter=maxiter or 5000, project=project)
            iters += it
        if method != "auto":
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
