"""One damped, projected Newton method for stationary points (every family uses this one)."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

__all__ = ["damped_newton", "NewtonResult"]


@dataclasses.dataclass(frozen=True)
class NewtonResult:
    """Outcome of :func:`damped_newton`.

    ``x`` the last accepted point, ``value``/``gradient``/``extra`` what ``evaluate`` returned
    there, ``converged`` whether ``max|gradient| < tol`` (or the noise-floor rule) held,
    ``iterations`` the Newton steps taken, ``message`` why it stopped.
    """

    x: np.ndarray
    value: Any
    gradient: np.ndarray
    extra: Any
    converged: bool
    iterations: int
    message: str


def damped_newton(evaluate: Callable, x0, *, project: Callable | None = None, tol: float = 1e-11,
                  maxiter: int = 40, max_halvings: int = 25, noise_floor: float | None = None,
                  step_tol: float | None = None, lstsq: bool = False, require_finite_value: bool = False,
                  hessian_out: list | None = None) -> NewtonResult:
    r"""Newton's method on :math:`\nabla\phi(x) = 0` with a step-halving line search on
    :math:`\max|\nabla\phi|` and a projection onto the domain.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x) -> (value, gradient, hessian, extra)``; ``value`` and ``extra`` are carried
        along (e.g. the free entropy and d phi/d d of a Franz–Parisi kernel) and may be ``None``.
    x0 : array_like
        Start; it is projected first.
    project : callable, optional
        Maps a trial point into the domain (clipping, feasibility repairs).
    tol : float
        Converged when ``max|gradient| < tol``.
    maxiter, max_halvings : int
        Newton steps, and step halvings per line search.
    noise_floor : float, optional
        When the line search finds no descent (the gradient is at the quadrature noise floor),
        or ``maxiter`` is reached, the point counts as converged if ``max|gradient| < noise_floor``
        (default: never).
    step_tol : float, optional
        Also converged when the accepted step is below ``step_tol * max(1, max|x|)`` and the
        gradient is below ``noise_floor``.
    lstsq : bool
        Use a least-squares step when the Hessian is singular (else stop).
    require_finite_value : bool
        A trial point must also have a finite ``value``.
    hessian_out : list, optional
        Receives the last Hessian evaluated (reused by the accuracy control of :func:`solve`).

    Returns
    -------
    NewtonResult
    """
    proj = project or (lambda y: y)
    floor = -1.0 if noise_floor is None else float(noise_floor)
    x = proj(np.array(x0, dtype=float, copy=True))
    value, g, h, extra = evaluate(x)

    def out(ok, it, msg):
        return NewtonResult(x, value, np.asarray(g), extra, bool(ok), it, msg)

    for it in range(maxiter):
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            return out(False, it, "non-finite gradient or Hessian")
        gn = float(np.max(np.abs(g)))
        if gn < tol:
            return out(True, it, "converged")
        if hessian_out is not None:
            hessian_out[:] = [h]
        try:
            step = np.linalg.solve(h, -g)
        except np.linalg.LinAlgError:
            if not lstsq:
                return out(False, it, "singular Hessian (at or near a spinodal?)")
            step = -np.linalg.lstsq(h, g, rcond=1e-12)[0]
        if not np.all(np.isfinite(step)):
            return out(False, it, "non-finite Newton step (singular Hessian?)")
        lam = 1.0
        for _ in range(max_halvings):
            xn = proj(x + lam * step)
            r = evaluate(xn)
            if (np.all(np.isfinite(r[1])) and (not require_finite_value or np.all(np.isfinite(r[0])))
                    and np.max(np.abs(r[1])) < gn * (1 - 1e-4 * lam) + 1e-300):
                break
            lam *= 0.5
        else:
            return out(gn < floor, it, "converged at the noise floor" if gn < floor else "line search failed")
        x = xn
        value, g, h, extra = r
        if step_tol is not None and np.max(np.abs(lam * step)) < step_tol * max(1.0, float(np.max(np.abs(x)))):
            if float(np.max(np.abs(g))) < max(floor, tol):
                return out(True, it + 1, "converged (step below step_tol)")
    gn = float(np.max(np.abs(g))) if np.all(np.isfinite(g)) else np.inf
    return out(gn < max(floor, tol), maxiter, "converged" if gn < max(floor, tol) else f"no convergence in {maxiter} steps")
