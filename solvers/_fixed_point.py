"""Saddle points: damped fixed-point iteration, Anderson acceleration and Newton/hybr polishing."""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import scipy.optimize as so

from .._errors import InvalidParameterError
from ._results import SOLVED_STATUSES, SaddlePoint

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


_RESIDUAL_OK = 1e-7   # a point counts as stationary when its residual is below this
_XTOL = 1e-8          # default accuracy target on the order parameters (quadrature error estimate)
_EDGE = 1e-12         # margin from an open end of an order-parameter domain
_MAX_RETRY = 32       # batch points retried one by one (robust starts) per solve_batch call


def _newton(num, c, x, tol, maxiter, project, last_hessian=None):
    """Newton on grad phi = 0 with the symbolic Hessian, step halving to stay in the domain.
    ``last_hessian`` (a list) receives the last Hessian evaluated (reused by the accuracy control)."""
    grad, hess = num.gradient, num.hessian
    g = grad(*c, *x)
    for it in range(1, maxiter + 1):
        if not np.all(np.isfinite(g)):
            return x, False, it, "non-finite gradient"
        if np.max(np.abs(g)) < 1e-15:
            return x, True, it, "converged"
        try:
            hx = hess(*c, *x)
            if last_hessian is not None:
                last_hessian[:] = [hx]
            step = np.linalg.solve(hx, -g)
        except np.linalg.LinAlgError:
            return x, False, it, "singular Hessian (at or near a spinodal?)"
        if not np.all(np.isfinite(step)):
            return x, False, it, "non-finite Newton step (singular Hessian?)"
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


def _hybr(num, c, x, tol):
    grad, hess = num.gradient, num.hessian
    with np.errstate(all="ignore"):
        sol = so.root(lambda y: grad(*c, *y), x, jac=lambda y: hess(*c, *y), method="hybr",
                      options={"xtol": tol})
    return sol.x, bool(sol.success), int(sol.nfev), sol.message


def solve(model, params: Mapping[str, Any] | None = None, *, x0=None, branch=None, method=None,
          tol=None, xtol=None, maxiter=None, damping=None) -> SaddlePoint:
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
        ``1e-4``, then Newton with the symbolic Hessian to ``tol``; models without a fixed-point
        form go straight to Newton, falling back to ``scipy.optimize.root(method='hybr')``.
        When the direct solve fails, the solution is continued from the lower end of the model's
        :meth:`~phasekit.theory.EquilibriumModel.homotopy_parameter` (``alpha`` → 0, starting
        there from ``x0`` or the branch start), where it is easy (robust start).
    tol : float, optional
        Tolerance on the stationarity residual (default 1e-10).
    xtol : float, optional
        Accuracy target on the order parameters (default 1e-8, relative to ``max(1, |x|)``): the
        solution is re-solved on refined quadrature rules (halved trapezoidal step, doubled
        Gauss–Hermite nodes) until two successive rules agree to ``xtol``, or the node budget
        is spent (``status="under_resolved"``). The estimate is ``error_estimate``.
    maxiter : int, optional
        Iteration cap (default 5000 fixed-point / 100 Newton iterations).
    damping : float in [0, 1), optional
        Damping of the fixed-point iteration (default 0.5, or the model's ``damping`` attribute).

    Returns
    -------
    SaddlePoint
        ``status`` is ``converged`` only when the point is stationary to ``tol``, inside the
        order-parameter domain, its error estimate is below ``xtol`` and the model's declared
        validity conditions hold; otherwise it says which of these failed and ``message`` why
        (e.g. ``"no RS solution: alpha = 2 > 2 alpha_c(kappa)/pi = 1.27324 (q -> 1)"``).
    """
    model = as_model(model)
    where = f"solve({model.name})"
    c_dict = model.validate_params(params, where)
    method = method or model.branch(branch).method or "auto"
    if method not in _METHODS:
        raise InvalidParameterError(
            f"The 'method' parameter of solve must be one of {', '.join(_METHODS)}. Got {method!r} instead.")
    tol = _positive(tol, 1e-10, "tol")
    xtol = _positive(xtol, _XTOL, "xtol")
    damping = getattr(model, "damping", 0.5) if damping is None else damping
    br = model.branch(branch)
    start = model.start(c_dict, br.name)
    if x0 is not None:
        start.update(model.validate_order(x0, where))
    c = [c_dict[n] for n in model.control_names]

    if br.fixed is not None:
        x = np.array([br.fixed[n] for n in model.order_names], dtype=float)
        phi = float(br.free_entropy)
        return _result(model, c_dict, x, phi, "converged", 0, 0.0, br.name, "exact", "exact branch value", 0.0)

    bad = _control_validity(model, c_dict)
    if bad is not None:
        return _nan_result(model, c_dict, bad[0], br.name, method, bad[1])

    x = np.array([start[n] for n in model.order_names], dtype=float)
    project = _projector(model)
    num = model.numerics(0)
    hess = []
    x, ok, iters, msg, how = _solve_point(model, num, c, project(x), method, tol, maxiter, damping, project, hess)
    if not ok and method in ("auto", "newton", "hybr"):
        xh, okh, ith, msgh = _homotopy(model, num, c_dict, br, tol, project, None if x0 is None else start)
        iters += ith
        if okh:
            x, ok, msg, how = xh, True, msgh, "continuation"
            hess = []
    return _finish(model, c_dict, c, x, ok, iters, br.name, how, msg, tol, xtol, project, hess)


def _positive(v, default, name):
    v = default if v is None else v
    try:
        v = float(v)
    except (TypeError, ValueError):
        v = float("nan")
    if not v > 0 or not np.isfinite(v):
        raise InvalidParameterError(f"The {name!r} parameter of solve must be a float in the range (0, inf). Got {v!r} instead.")
    return v


def _solve_point(model, num, c, x, method, tol, maxiter, damping, project, last_hessian=None):
    """The staged direct solve from ``x`` on the rule ``num``: (x, ok, iterations, message, method)."""
    iters, msg, ok = 0, "", False
    fp = num.fixed_point
    if method in ("auto", "fixed_point", "anderson") and fp is not None:
        F = lambda y: fp(*c, *y)  # noqa: E731
        with np.errstate(all="ignore"):
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
                return x, ok, iters + it, msg, method
    if method in ("auto", "newton"):
        with np.errstate(all="ignore"):
            x1, ok, it, msg = _newton(num, c, x, tol, maxiter or 100, project, last_hessian)
        iters += it
        if ok or method == "newton":
            return x1, ok, iters, msg, method
    x2, ok, it, msg = _hybr(num, c, x, tol)
    return project(x2), ok, iters + it, msg, method


def _homotopy(model, num, c_dict, br, tol, project, start=None):
    """Robust start: continue the solution from the lower end of the homotopy parameter (where it is
    easy, e.g. alpha -> 0) to the requested value, geometrically in the distance to that end. The
    path starts from ``start`` (the caller's ``x0``) or the branch start."""
    from ._continuation import advance_path
    name = model.homotopy_parameter()
    if name is None or name not in c_dict:
        return None, False, 0, ""
    p = next(p for p in model.control if p.name == name)
    target = c_dict[name]
    lo = p.low if np.isfinite(p.low) else None
    if lo is None or not target > lo:
        return None, False, 0, ""
    names = model.control_names
    k = names.index(name)
    c0 = [c_dict[n] for n in names]
    count = [0]

    def at(u):
        c = list(c0)
        c[k] = lo + math.exp(u)
        return c

    def correct(u, xp):
        x, ok, it, _ = _newton(num, at(u), project(xp), tol, 25, project)
        count[0] += it
        return x, ok and _residual(num, at(u), x) < _RESIDUAL_OK, None

    u_end = math.log(target - lo)
    u0 = u_end + math.log(1e-3)
    if start is None:
        start = model.start(dict(c_dict, **{name: lo + math.exp(u0)}), br.name)
    x = np.array([start[n] for n in model.order_names], dtype=float)
    x, ok, it, _, _ = _solve_point(model, num, at(u0), project(x), "auto", tol, None, getattr(model, "damping", 0.5),
                                  project)
    count[0] += it
    if not (ok and _residual(num, at(u0), x) < _RESIDUAL_OK):
        return None, False, count[0], ""
    hist = [(u0, x)]
    ok, x, _ = advance_path(hist, u_end, correct, max_step=0.35, max_fail=12, max_jump=np.inf)
    msg = f"converged by continuation from {name} = {lo + math.exp(u0):.3g} (direct solve failed)"
    return x, bool(ok), count[0], msg


def _residual(num, c, x):
    fp = num.fixed_point
    with np.errstate(all="ignore"):
        if fp is not None:
            r = np.asarray(fp(*c, *x), dtype=float) - x
        else:
            r = np.asarray(num.gradient(*c, *x), dtype=float)
    return float(np.max(np.abs(r))) if np.all(np.isfinite(r)) else math.inf


def _finish(model, c_dict, c, x, ok, iters, branch, method, msg, tol, xtol, project, hess=()):
    num = model.numerics(0)
    res = _residual(num, c, x)
    if not (ok and res < _RESIDUAL_OK):
        if ok:
            msg = f"residual {res:.3g} above {_RESIDUAL_OK:g}"
        with np.errstate(all="ignore"):
            phi = float(num.phi(*c, *x))
        return _result(model, c_dict, x, phi, "not_converged", iters, res, branch, method, str(msg), float("nan"))
    ca = [np.array([v], dtype=float) for v in c]
    jac0 = np.asarray(hess[0], dtype=float)[None] if len(hess) else None
    xr, err, level, acc, amsg = _refine(model, ca, x[None, :].copy(), xtol, tol, project, jac0)
    x, err, level = xr[0], float(err[0]), int(level[0])
    num = model.numerics(level)
    if level:
        res = _residual(num, c, x)
    with np.errstate(all="ignore"):
        phi = float(num.phi(*c, *x))
    status, why = _classify(model, c_dict, c, x, phi, bool(acc[0]), err, xtol, level, amsg[0])
    if status == "converged":
        why = "converged" + (f" (quadrature refined {level}x)" if level else "") + (f"; {msg}" if "continuation" in str(msg) else "")
        if not np.isfinite(err):
            why += f"; no quadrature error estimate ({amsg[0]})"
    if not np.isfinite(phi) and status in ("converged", "unstable"):
        status, why = "not_converged", "non-finite free entropy"
    return _result(model, c_dict, x, phi, status, iters, res, branch, method, why, err, level)


def _classify(model, c_dict, c, x, phi, acc_ok, err, xtol, level, amsg):
    """Status and reason of a stationary point: under_resolved, outside_domain, the model's validity
    conditions, else converged."""
    if not acc_ok:
        return "under_resolved", (f"quadrature error estimate {err:.2g} above xtol = {xtol:g} "
                                  f"at the node budget ({amsg})")
    edge = _edge_message(model, x)
    if edge:
        return "outside_domain", edge
    for v, lhs_f, rhs_f, _only in model.validity_numeric:
        with np.errstate(all="ignore"):
            lhs, rhs = float(lhs_f(*c, *x, phi)), float(rhs_f(*c, *x, phi))
        if not lhs < rhs:
            return v.status, _reason(model, v, c_dict, x, lhs, rhs)
    return "converged", ""


def _reason(model, v, c_dict, x, lhs, rhs):
    vals = dict(c_dict)
    vals.update(zip(model.order_names, map(float, x)))
    try:
        return v.reason.format(name=v.name, lhs=lhs, rhs=rhs, **vals)
    except (KeyError, IndexError, ValueError):
        return f"{v.name}: {lhs:.6g} >= {rhs:.6g}"


def _edge_message(model, x):
    for p, v in zip(model.order, x):
        if not np.isfinite(v):
            return f"order parameter {p.name} = {v} is not finite"
        for end, open_ in ((p.low, p.closed in ("right", "neither")), (p.high, p.closed in ("left", "neither"))):
            if np.isfinite(end) and open_ and abs(v - end) <= _EDGE * max(1.0, abs(end)):
                return (f"order parameter {p.name} = {v:.16g} at the open end of its domain {p.interval()} "
                        f"(the solution left the domain)")
    return ""


def _at_edge(model, x):
    """Rows of ``x`` that are non-finite or within the margin of an open end of the domain."""
    bad = ~np.all(np.isfinite(x), axis=-1)
    for j, p in enumerate(model.order):
        for end, open_ in ((p.low, p.closed in ("right", "neither")), (p.high, p.closed in ("left", "neither"))):
            if np.isfinite(end) and open_:
                bad |= np.abs(x[:, j] - end) <= _EDGE * max(1.0, abs(end))
    return bad


def _control_validity(model, c_dict):
    """(status, reason) of the first validity condition of the control parameters alone that fails."""
    c = [c_dict[n] for n in model.control_names]
    nan = [np.nan] * (len(model.order) + 1)
    for v, lhs_f, rhs_f, only in model.validity_numeric:
        if not only:
            continue
        with np.errstate(all="ignore"):
            lhs, rhs = float(lhs_f(*c, *nan)), float(rhs_f(*c, *nan))
        if not lhs < rhs:
            return v.status, _reason(model, v, c_dict, [np.nan] * len(model.order), lhs, rhs)
    return None


def _nan_result(model, c_dict, status, branch, method, msg):
    return SaddlePoint(model=model.name, params=dict(c_dict),
                       order_parameters={n: float("nan") for n in model.order_names}, free_entropy=float("nan"),
                       observables={k: float("nan") for k in model.observables_numeric}, converged=False,
                       iterations=0, residual=float("nan"), branch=branch, method=method, message=msg,
                       status=status, error_estimate=float("nan"))


def _result(model, c_dict, x, phi, status, iters, res, branch, method, msg, err, level=0):
    c = [c_dict[n] for n in model.control_names]
    obs = {}
    if model.branch(branch).fixed is None:
        for k, f in model.numerics(level).observables.items():
            with np.errstate(all="ignore"):
                obs[k] = float(f(*c, *x, phi))
    else:
        obs = dict(getattr(model, "fixed_observables", lambda b, p: {})(branch, c_dict))
        obs.setdefault(model.entropy_observable, phi)
    return SaddlePoint(model=model.name, params=dict(c_dict),
                       order_parameters={n: float(v) for n, v in zip(model.order_names, x)},
                       free_entropy=float(phi), observables=obs, converged=status == "converged",
                       iterations=int(iters), residual=float(res), branch=branch, method=method,
                       message=msg, status=status, error_estimate=float(err))


# --------------------------------------------------------------------------- vectorised machinery
def _system(num, project):
    """Residual and Jacobian of the equations on the rule ``num``, vectorised over points (rows of x):
    the fixed-point residual F(x) - x with a forward-difference Jacobian (n + 1 evaluations of F:
    cheaper than the symbolic Hessian of a channel) when the model has a fixed-point form, else
    grad phi and the symbolic Hessian."""
    fp = num.fixed_point
    if fp is not None:
        def resid(ca, xa):
            return fp(*ca, *xa.T) - xa

        def jac(ca, xa, r0=None):
            r0 = resid(ca, xa) if r0 is None else r0
            J = np.empty(xa.shape + (xa.shape[-1],))
            for j in range(xa.shape[-1]):
                h = 1e-7 * np.maximum(1.0, np.abs(xa[:, j]))
                xp = xa.copy()
                xp[:, j] += h
                xp = project(xp)
                hj = xp[:, j] - xa[:, j]
                back = np.abs(hj) < 0.5 * h          # at the upper end of the domain: step back
                if back.any():
                    xp[back, j] = xa[back, j] - h[back]
                    hj = xp[:, j] - xa[:, j]
                J[:, :, j] = (resid(ca, xp) - r0) / hj[:, None]
            return r0, J
    else:
        def resid(ca, xa):
            return num.gradient(*ca, *xa.T)

        def jac(ca, xa, r0=None):
            return (resid(ca, xa) if r0 is None else r0), num.hessian(*ca, *xa.T)
    return resid, jac


def _newton_batch(num, c, x, tol, maxiter, project):
    """Newton steps on the equations of ``_system`` for every row of ``x`` at once, with a per-point
    step-halving line search. Returns (x, iterations, J) with J the last Jacobian per point (NaN
    where none was evaluated), which the accuracy control reuses."""
    resid_fn, jac_fn = _system(num, project)
    npts = x.shape[0]
    its = np.zeros(npts, int)
    J_last = np.full(x.shape + (x.shape[-1],), np.nan)
    active = np.ones(npts, bool)
    r_last = None  # residual at the accepted point, reused by the next step
    for _ in range(maxiter):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        ca = [ci[idx] for ci in c]
        g, h = jac_fn(ca, x[idx], None if r_last is None else r_last[idx])
        J_last[idx] = h
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
            r_last = np.full(x.shape, np.nan)
        r_last[idx] = np.where(accepted[:, None], gnew, g)
        its[idx] += 1
        done = (accepted & small) | ~accepted | ~np.all(np.isfinite(step), axis=-1)
        active[idx[done]] = False
    return x, its, J_last


def _batch_residual(num, c, x):
    fp = num.fixed_point
    r = fp(*c, *x.T) - x if fp is not None else num.gradient(*c, *x.T)
    r = np.max(np.abs(np.broadcast_to(r, x.shape)), axis=-1)
    return np.where(np.isfinite(r), r, np.inf)


def _rule_size(model, level):
    from ..theory._compile import refine_rules, rule_for
    rules = refine_rules(model.nodes, level, dims=model.quadrature_dims) or {}
    size = 1
    for d in model.quadrature_dims:
        spec = rule_for(tuple(sorted(rules.items())), d)
        n = int(spec) if isinstance(spec, (int, np.integer)) else 2 * round(12.5 / float(spec)) + 1
        size = max(size, n ** d)
    return size


def _refine(model, c, x, xtol, tol, project, jac0=None, fixed_point_jac=False):
    """Accuracy control, vectorised over the rows of ``x`` (stationary on the model's own rule).

    On rule level L the solution's error is estimated by one Newton correction towards the
    equations on level L + 1, ``dx = -J_L^{-1} R_{L+1}(x)``; where ``max |dx| / max(1, |x|)`` is
    above ``xtol`` the point is re-solved on level L + 1 (from ``x + dx``) and estimated again,
    until the estimate is below ``xtol`` or the node budget is spent.

    ``jac0`` (points, n, n), optional: the Hessian of phi near ``x`` on the model's own rule (from
    the Newton iteration that found ``x``); the first estimate then uses the gradient,
    ``dx = -jac0^{-1} grad_1 phi(x)``, and costs one refined gradient evaluation. With
    ``fixed_point_jac=True`` ``jac0`` is the Jacobian of the equations of :func:`_system` (the
    batch Newton's) instead. Rows of ``jac0`` with NaN are recomputed.

    Returns (x, error_estimate, level, accurate, message): ``x`` on the rule ``level`` it was
    accepted on (or the last one tried), ``accurate`` False where the budget ran out.
    """
    npts = x.shape[0]
    err = np.full(npts, np.nan)
    level = np.zeros(npts, int)
    acc = np.ones(npts, bool)
    msg = np.full(npts, "", dtype=object)
    if model.numerics(1) is None:
        msg[:] = "hand kernel" if not model._compiled_from_sympy() else "node budget"
        return x, err, level, acc, msg
    active = np.arange(npts)
    L = 0
    while active.size:
        num_l, num_n = model.numerics(L), model.numerics(L + 1)
        if num_n is None:
            acc[active] = False
            msg[active] = f"{L} refinements"
            break
        chunk = max(1, int(4e6 // max(1, _rule_size(model, L + 1))))
        dx = np.full((active.size, x.shape[1]), np.nan)
        for s in range(0, active.size, chunk):
            sel = active[s:s + chunk]
            ca = [ci[sel] for ci in c]
            with np.errstate(all="ignore"):
                if L == 0 and jac0 is not None and np.all(np.isfinite(jac0[sel])):
                    rn = (_system(num_n, project)[0](ca, x[sel]) if fixed_point_jac
                          else num_n.gradient(*ca, *x[sel].T))
                    J = jac0[sel]
                else:
                    rn = _system(num_n, project)[0](ca, x[sel])
                    _, J = _system(num_l, project)[1](ca, x[sel])
                d = _batched_solve(J, -rn)
                # singular Jacobian: the change of the residual itself bounds the error to first order
                fin = np.all(np.isfinite(d), axis=-1)[:, None]
                tiny = np.max(np.abs(rn), axis=-1)[:, None] < 1e-15
                d = np.where(fin, d, np.where(tiny, 0.0, rn))
            dx[s:s + sel.size] = d
        e = np.max(np.abs(dx) / np.maximum(1.0, np.abs(x[active])), axis=-1)
        e = np.where(np.isfinite(e), e, np.inf)
        err[active] = e
        good = e < xtol
        hard = active[~good]
        if not hard.size:
            break
        if model.numerics(L + 2) is None:   # no rule left to estimate the next level's error
            acc[hard] = False
            msg[hard] = f"{L + 1} refinements"
            break
        xs = x[hard] + np.where(np.isfinite(dx[~good]), dx[~good], 0.0)
        xs = project(xs)
        ca = [ci[hard] for ci in c]
        chunk = max(1, int(4e6 // max(1, _rule_size(model, L + 1))))
        for s in range(0, hard.size, chunk):
            sl = slice(s, s + chunk)
            with np.errstate(all="ignore"):
                xs[sl], _, _ = _newton_batch(num_n, [a[sl] for a in ca], xs[sl], tol, 20, project)
        with np.errstate(all="ignore"):
            ok = _batch_residual(num_n, ca, xs) < _RESIDUAL_OK
            bad = np.flatnonzero(~ok)
            if bad.size:   # Newton from the old point instead of the corrected one
                xb, _, _ = _newton_batch(num_n, [a[bad] for a in ca], x[hard[bad]].copy(), tol, 20, project)
                okb = _batch_residual(num_n, [a[bad] for a in ca], xb) < _RESIDUAL_OK
                xs[bad[okb]], ok[bad[okb]] = xb[okb], True
        # last resort on the first refinement: the staged single-point solve from the old point
        for j in np.flatnonzero(~ok)[:_MAX_RETRY if L == 0 else 0]:
            cj = [a[j] for a in ca]
            xj, okj, *_ = _solve_point(model, num_n, cj, x[hard[j]].copy(), "auto", tol, None,
                                       getattr(model, "damping", 0.5), project)
            if okj and _residual(num_n, cj, xj) < _RESIDUAL_OK:
                xs[j], ok[j] = xj, True
        acc[hard[~ok]] = False
        msg[hard[~ok]] = f"the solve on refined rule {L + 1} failed"
        x[hard[ok]] = xs[ok]
        level[hard[ok]] = L + 1
        active = hard[ok]
        L += 1
    return x, err, level, acc, msg


def solve_batch(model, params, *, branch=None, tol=None, xtol=None, maxiter=None, damping=None, pre_tol=0.1):
    r"""Solve the saddle-point equations at many parameter points at once (vectorised).

    All points start from the ``branch`` start and are iterated together: damped fixed-point
    iteration of the derived fixed-point form to ``pre_tol``, then Newton steps on the fixed-point
    residual F(x) - x (forward-difference Jacobian; the symbolic Hessian for models without a
    fixed-point form), batched ``numpy.linalg.solve`` and a per-point step-halving line search.
    Points that fail are retried one by one with :func:`solve` (robust starts, at most 32 per
    call); every solved point then goes through the same accuracy control and validity checks
    as :func:`solve`. This is the fast path of :func:`~phasekit.solvers.sweep` and of learning
    curves; use :func:`~phasekit.solvers.continue_branch` to follow a metastable branch.

    Parameters
    ----------
    model : EquilibriumModel or str
    params : dict
        Control parameters; values may be arrays (broadcast together) — missing ones take their
        defaults. Every value is validated against the declared domain.
    tol, xtol : float, optional
        As in :func:`solve`.

    Returns
    -------
    dict
        ``values`` (order parameters, ``free_entropy`` and observables, arrays of the broadcast
        shape; NaN where the status is not ``converged`` or ``unstable``), ``status``,
        ``converged``, ``residual``, ``error_estimate``, ``iterations``, ``message`` (arrays)
        and ``branch``.
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
    tol = _positive(tol, 1e-10, "tol")
    xtol = _positive(xtol, _XTOL, "xtol")
    damping = getattr(model, "damping", 0.5) if damping is None else damping
    status = np.full(npts, "not_converged", dtype=object)
    message = np.full(npts, "", dtype=object)
    if br.fixed is not None:
        x = np.tile([br.fixed[k] for k in model.order_names], (npts, 1))
        phi = np.full(npts, float(br.free_entropy))
        status[:] = "converged"
        message[:] = "exact branch value"
        obs = {}
        fo = getattr(model, "fixed_observables", None)
        if fo is not None:
            o = fo(br.name, first)
            obs = {k: np.full(npts, v) for k, v in o.items()}
        obs.setdefault(model.entropy_observable, phi)
        return _batch_out(model, shape, x, phi, obs, status, np.zeros(npts), np.zeros(npts), np.zeros(npts, int),
                          message, br.name)
    project = _projector(model)
    num = model.numerics(0)
    # validity conditions of the control parameters alone: no computation there
    todo = np.ones(npts, bool)
    cdicts = None
    for v, lhs_f, rhs_f, only in model.validity_numeric:
        if not only:
            continue
        nan = [np.full(npts, np.nan)] * (len(model.order) + 1)
        with np.errstate(all="ignore"):
            lhs = np.broadcast_to(lhs_f(*c, *nan), (npts,))
            rhs = np.broadcast_to(rhs_f(*c, *nan), (npts,))
        fail = todo & ~(lhs < rhs)
        if fail.any():
            cdicts = cdicts or [None] * npts
            for i in np.flatnonzero(fail):
                cd = {n: float(ci[i]) for n, ci in zip(model.control_names, c)}
                status[i], message[i] = v.status, _reason(model, v, cd, [np.nan] * len(model.order), lhs[i], rhs[i])
            todo &= ~fail
    start = model.start(first, br.name)
    x = np.tile([float(start[k]) for k in model.order_names], (npts, 1)).astype(float)
    x = project(x)
    its = np.zeros(npts, int)
    fp = num.fixed_point
    idx_all = np.flatnonzero(todo)
    with np.errstate(all="ignore"):
        if fp is not None and br.method != "newton" and idx_all.size:
            active = todo.copy()
            for it in range(min(maxiter or 300, 300)):
                if not active.any():
                    break
                idx = np.flatnonzero(active)
                fx = fp(*[ci[idx] for ci in c], *x[idx].T)
                r = np.max(np.abs(fx - x[idx]), axis=-1)
                x[idx] = project((1 - damping) * fx + damping * x[idx])
                its[idx] += 1
                active[idx[~(r > pre_tol)]] = False  # close enough, or NaN: Newton decides
        if idx_all.size:
            xs, it2, J = _newton_batch(num, [ci[idx_all] for ci in c], x[idx_all], tol, maxiter or 60, project)
            jac_last = np.full(x.shape + (x.shape[-1],), np.nan)
            jac_last[idx_all] = J
            x[idx_all] = xs
            its[idx_all] += it2
        resid = np.full(npts, np.nan)
        if idx_all.size:
            resid[idx_all] = _batch_residual(num, [ci[idx_all] for ci in c], x[idx_all])
    solved = todo & (resid < _RESIDUAL_OK)
    # robust starts for the points the batch could not solve: the full single-point solve (its
    # accuracy control and validity checks included), taken as it is
    retry = np.flatnonzero(todo & ~solved)
    single = {}
    for i in retry[:_MAX_RETRY]:
        cd = {n: float(ci[i]) for n, ci in zip(model.control_names, c)}
        single[i] = r = solve(model, cd, branch=br.name, tol=tol, xtol=xtol)
        its[i] += r.iterations
        x[i] = [r.order_parameters[n] for n in model.order_names]
        status[i], message[i], resid[i] = r.status, r.message, r.residual
    for i in retry[_MAX_RETRY:]:
        message[i] = f"no convergence from the branch start (residual {resid[i]:.3g}; not retried)"
    # accuracy control, phi and observables on each point's accepted rule, then the validity checks
    err = np.full(npts, np.nan)
    level = np.zeros(npts, int)
    phi = np.full(npts, np.nan)
    obs = {k: np.full(npts, np.nan) for k in model.observables_numeric}
    for i, r in single.items():
        phi[i], err[i] = r.free_entropy, r.error_estimate
        for k in obs:
            obs[k][i] = r.observables.get(k, np.nan)
    sidx = np.flatnonzero(solved)
    if sidx.size:
        cs = [ci[sidx] for ci in c]
        jac0 = jac_last[sidx] if idx_all.size else None
        xs, e, lv, acc, amsg = _refine(model, cs, x[sidx].copy(), xtol, tol, project, jac0, fixed_point_jac=True)
        x[sidx], err[sidx], level[sidx] = xs, e, lv
        for L in np.unique(lv):
            sel = sidx[lv == L]
            nl = model.numerics(int(L))
            cl = [ci[sel] for ci in c]
            with np.errstate(all="ignore"):
                phi[sel] = np.broadcast_to(nl.phi(*cl, *x[sel].T), (sel.size,))
                if L:
                    resid[sel] = _batch_residual(nl, cl, x[sel])
                for k, f in nl.observables.items():
                    obs[k][sel] = np.broadcast_to(f(*cl, *x[sel].T, phi[sel]), (sel.size,))
        status[sidx] = "converged"
        bad_acc = sidx[~acc]
        status[bad_acc] = "under_resolved"
        for i, j in zip(bad_acc, np.flatnonzero(~acc)):
            message[i] = f"quadrature error estimate {err[i]:.2g} above xtol = {xtol:g} at the node budget ({amsg[j]})"
        for i in sidx[acc & _at_edge(model, x[sidx])]:
            status[i], message[i] = "outside_domain", _edge_message(model, x[i])
        ok_idx = sidx[acc & (status[sidx] == "converged")]
        for v, lhs_f, rhs_f, only in model.validity_numeric:
            if only or not ok_idx.size:
                continue
            cl = [ci[ok_idx] for ci in c]
            with np.errstate(all="ignore"):
                lhs = np.broadcast_to(lhs_f(*cl, *x[ok_idx].T, phi[ok_idx]), (ok_idx.size,))
                rhs = np.broadcast_to(rhs_f(*cl, *x[ok_idx].T, phi[ok_idx]), (ok_idx.size,))
            fail = ~(lhs < rhs)
            for j in np.flatnonzero(fail):
                i = ok_idx[j]
                cd = {n: float(ci[i]) for n, ci in zip(model.control_names, c)}
                status[i], message[i] = v.status, _reason(model, v, cd, x[i], lhs[j], rhs[j])
            ok_idx = ok_idx[~fail]
        nonfinite = sidx[~np.isfinite(phi[sidx])]
        status[nonfinite] = "not_converged"
        message[nonfinite] = "non-finite free entropy"
        conv = sidx[status[sidx] == "converged"]
        message[conv] = "converged"
        for i in conv[level[conv] > 0]:
            message[i] = f"converged (quadrature refined {level[i]}x)"
    return _batch_out(model, shape, x, phi, obs, status, resid, err, its, message, br.name)


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


def _batch_out(model, shape, x, phi, obs, status, res, err, its, message, branch):
    values = {k: x[:, i].reshape(shape) for i, k in enumerate(model.order_names)}
    values["free_entropy"] = np.asarray(phi, dtype=float).reshape(shape)
    for k, v in obs.items():
        values.setdefault(k, np.asarray(v, dtype=float).reshape(shape))
    status = np.asarray(status, dtype=object).reshape(shape)
    solved = np.isin(status, SOLVED_STATUSES)
    for k in values:  # never a silent wrong number: NaN where not a (flagged) stationary point
        values[k] = np.where(solved, values[k], np.nan)
    return {"values": values, "status": status, "converged": status == "converged",
            "residual": np.asarray(res, float).reshape(shape),
            "error_estimate": np.asarray(err, float).reshape(shape),
            "iterations": np.asarray(its, int).reshape(shape),
            "message": np.asarray(message, dtype=object).reshape(shape), "branch": branch}
