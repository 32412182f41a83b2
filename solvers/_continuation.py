"""Continuation along a control parameter with branch tracking."""
from __future__ import annotations

import numpy as np

from .._errors import InvalidParameterError
from ._fixed_point import as_model, solve
from ._results import SOLVED_STATUSES, BranchResult

__all__ = ["continue_branch", "advance_path"]


def advance_path(hist, target, correct, *, predict=None, max_fail=24, max_jump=0.3, jump_dims=2, max_step=None):
    """Extend a solution path to ``s = target``, halving steps that fail.

    Parameters
    ----------
    hist : list of (float, ndarray)
        The path so far, ``(s, x)`` pairs (at least one); accepted points are appended in place.
    target : float
    correct : callable
        ``correct(s, x_pred) -> (x, ok, info)``: the corrector (e.g. Newton's method) started from
        the prediction.
    predict : callable, optional
        ``predict(hist, s) -> x_pred``; default: secant through the last two points (the last point
        when there is one, or when the two are closer than 1e-6 in s).
    max_fail : int
        Failed corrections allowed before giving up.
    max_jump, jump_dims : float, int
        A corrected point is rejected (and the step halved) when it moves any of its first
        ``jump_dims`` entries by ``max_jump`` or more from the last point (branch jumping).
    max_step : float, optional
        Split the way to ``target`` into steps of at most this length first.

    Returns
    -------
    (ok, x, info) of the last corrected point (``x``, ``info`` None when not ``ok``).
    """
    s_last = hist[-1][0]
    n_sub = int(np.ceil(abs(target - s_last) / max_step)) if max_step else 1
    pending = [s_last + (target - s_last) * k / n_sub for k in range(n_sub, 0, -1)] if n_sub > 1 else [target]
    fails = 0
    while pending:
        s = pending[-1]
        if predict is not None:
            pred = predict(hist, s)
        elif len(hist) >= 2 and abs(hist[-1][0] - hist[-2][0]) > 1e-6:
            (s0, x0), (s1, x1) = hist[-2], hist[-1]
            pred = x1 + (x1 - x0) * (s - s1) / (s1 - s0)
        else:
            pred = hist[-1][1]
        x, ok, info = correct(s, np.array(pred, dtype=float, copy=True))
        if ok and np.max(np.abs(np.asarray(x) - hist[-1][1])[:jump_dims]) < max_jump:
            hist.append((s, x))
            pending.pop()
            if not pending:
                return True, x, info
        else:
            fails += 1
            if fails > max_fail:
                return False, None, None
            pending.append(0.5 * (hist[-1][0] + s))
    return False, None, None  # pragma: no cover


def continue_branch(model, params=None, *, along="alpha", values, branch=None, x0=None, tol=None,
                    method=None, jump_tol=0.25, progress=False) -> BranchResult:
    r"""Follow one solution branch along ``along`` over the grid ``values``.

    Each point starts from a secant prediction through the two previous converged points (the
    first from ``x0`` or the branch start). A point whose solution lands farther than
    ``jump_tol`` (max-abs over order parameters bounded in [0, 1]) from the prediction is
    counted as *lost*: the branch jumped (typically past a spinodal); it is marked
    ``converged=False`` and the next point restarts from the last good solution.

    Parameters
    ----------
    model : EquilibriumModel or str
    params : dict
        The other control parameters (fixed).
    along : str
        The control parameter varied.
    values : array_like
        Monotone 1-D grid of ``along``.
    branch : str, optional
        Model branch (e.g. ``"poor"``).

    Returns
    -------
    BranchResult
        Arrays of every order parameter, ``free_entropy`` and observable over ``values``.
    """
    model = as_model(model)
    if along not in model.control_names:
        raise InvalidParameterError(
            f"The 'along' parameter of continue_branch must be one of {', '.join(model.control_names)}. Got {along!r} instead.")
    vals = np.asarray(values, dtype=float).ravel()
    if vals.size == 0:
        raise InvalidParameterError("The 'values' parameter of continue_branch must be a non-empty 1-D grid.")
    base = dict(params or {})
    base.pop(along, None)
    names = list(model.order_names)
    bounded = np.array([np.isfinite(p.low) and np.isfinite(p.high) for p in model.order])
    rows, status, res, its, errs, msgs = [], [], [], [], [], []
    hist = []  # (param value, x) of converged points
    obs_names = None
    it = vals
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(vals, desc=f"{model.name} along {along}", leave=False)
    for v in it:
        p = dict(base, **{along: v})
        if len(hist) >= 2:
            (a0, x0_), (a1, x1_) = hist[-2], hist[-1]
            pred = x1_ + (x1_ - x0_) * (v - a1) / (a1 - a0) if a1 != a0 else x1_
            start = dict(zip(names, pred))
        elif hist:
            start = dict(zip(names, hist[-1][1]))
        else:
            start = dict(x0) if x0 else None
        if start is not None:
            start = {k: float(np.clip(s, pp.low if np.isfinite(pp.low) else -np.inf,
                                      np.nextafter(pp.high, -np.inf) if np.isfinite(pp.high) else np.inf))
                     for (k, s), pp in zip(start.items(), model.order)}
        r = solve(model, p, x0=start, branch=branch, tol=tol, method=method)
        x = np.array([r.order_parameters[n] for n in names])
        st, msg = r.status, r.message
        ok = st in SOLVED_STATUSES
        if ok and hist and bounded.any():
            ref = np.array([start[n] for n in names]) if start else hist[-1][1]
            if np.max(np.abs((x - ref)[bounded])) > jump_tol:
                ok, st, msg = False, "not_converged", f"branch lost: the solution jumped by more than {jump_tol:g}"
        if obs_names is None:
            obs_names = list(r.observables)
        row = dict(r.order_parameters, free_entropy=r.free_entropy, **r.observables)
        if not ok:
            row = {k: np.nan for k in row}
        else:
            hist.append((v, x))
        rows.append(row)
        status.append(st)
        msgs.append(msg)
        errs.append(r.error_estimate)
        res.append(r.residual)
        its.append(r.iterations)
    keys = names + ["free_entropy"] + [k for k in (obs_names or []) if k not in names]
    values_out = {k: np.array([row.get(k, np.nan) for row in rows], dtype=float) for k in keys}
    br = model.branch(branch).name
    status = np.array(status, dtype=object)
    conv = status == "converged"
    counts = ", ".join(f"{int(np.sum(status == k))} {k}" for k in dict.fromkeys(status) if k != "converged")
    first_bad = next((m for m, st in zip(msgs, status) if st != "converged"), "")
    return BranchResult(model=model.name, params=base, along=along, path=vals, values=values_out,
                        converged=conv, residual=np.array(res), iterations=np.array(its),
                        branch=br, message=f"{int(np.sum(conv))}/{vals.size} points converged"
                        + (f" ({counts}; first: {first_bad})" if counts else ""),
                        status=status, error_estimate=np.array(errs, dtype=float))
