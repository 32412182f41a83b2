r"""Spherical perceptron simulations: Cover's counting theorem and the maximal margin.

Conventions (spec ``replica.md`` §2): patterns :math:`\xi^\mu \sim \mathcal N(0, I_N)`, labels
:math:`y^\mu = \pm1` uniform, :math:`\alpha = P/N`; weights on the sphere :math:`|w|^2 = N`; the
stability of a pattern is :math:`\Delta^\mu = y^\mu w\cdot\xi^\mu/\sqrt N`, and the margin of ``w``
is :math:`\kappa(w) = \min_\mu \Delta^\mu` (equivalently :math:`\min_\mu y^\mu \hat w\cdot\xi^\mu`
with :math:`\hat w` a unit vector).

* :func:`cover_probability` — Cover (1965), exact rational :math:`P_{\rm SAT}(N, P)`.
* :func:`lp_separable` / :func:`simulate_cover` — linear programming (HiGHS): the largest
  :math:`t` with :math:`y^\mu w\cdot\xi^\mu \ge t` in the box :math:`|w_i| \le 1` is positive iff
  the labels are separable by a hyperplane through the origin.
* :func:`max_margin` / :func:`simulate_max_margin` — the maximal margin
  :math:`\kappa^* = \max_{|w|^2=N} \kappa(w)`, to compare with Gardner's :math:`\kappa_{max}(\alpha)`,
  the inverse of :math:`\alpha_c(\kappa) = [\int_{-\kappa}^\infty Dt\,(t+\kappa)^2]^{-1}`.

Choosing a max-margin solver (``method``):

``"nnls"`` (default)
    Exact, finite. The hard-margin problem :math:`\min |v|` s.t. :math:`B v \ge 1` (rows
    :math:`B_\mu = y^\mu \xi^\mu`) is a least-distance program; Lawson & Hanson (1974, ch. 23) reduce
    it to one non-negative least-squares problem, solved by the active-set ``scipy.optimize.nnls``.
    :math:`\kappa^* = 1/|v^*|`; non-separable sets are detected exactly (zero NNLS residual).
``"adatron"``
    The AdaTron of Anlauf & Biehl (Europhys. Lett. 10, 687 (1989)): ascent on the dual
    :math:`D(a) = \sum_\mu a_\mu - \tfrac12 |B^\top a|^2`, :math:`a \ge 0`, here as a vectorised
    (parallel, Nesterov-accelerated, adaptively restarted) projected-gradient update with the
    classic per-pattern step :math:`1/|B_\mu|^2`. It stops on a **certified** gap: every
    :math:`a \ge 0` bounds :math:`\kappa^* \le \min(1/\sqrt{2 D(a)},\ |B^\top a|/\sum_\mu a_\mu)` and
    every ``w`` gives :math:`\kappa(w) \le \kappa^*`, so the bracket ``[kappa, kappa_upper]`` always
    contains the exact value. The primal margin converges like the square root of the dual error,
    so gaps below ~1e-7 are not reachable in double precision; the second bound tends to 0 when the
    set is not separable, which is reported once it falls below ``tol``.

References
----------
T. M. Cover, IEEE Trans. Electron. Comput. EC-14, 326 (1965); E. Gardner, J. Phys. A 21, 257
(1988); J. K. Anlauf, M. Biehl, Europhys. Lett. 10, 687 (1989); C. L. Lawson, R. J. Hanson,
*Solving Least Squares Problems* (1974), ch. 23.
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np

from .._common import check_float, check_int, check_seed, fail_parameter, readonly

__all__ = ["cover_count", "cover_probability", "lp_separable", "CoverSimulation", "simulate_cover",
           "MaxMarginResult", "max_margin", "MaxMarginSimulation", "simulate_max_margin"]


# ----------------------------------------------------------------------------- Cover
def cover_count(n, p):
    r"""Number of dichotomies of ``p`` points in general position in :math:`\mathbb R^n` that a
    hyperplane through the origin realises (Cover 1965):

    .. math:: C(P, N) = 2 \sum_{k=0}^{N-1} \binom{P-1}{k}, \qquad C(0, N) = 1.

    Exact Python integer.

    Examples
    --------
    >>> cover_count(2, 4), 2 ** 4
    (8, 16)
    """
    n = check_int(n, "n", "cover_count", 1)
    p = check_int(p, "p", "cover_count", 0)
    if p == 0:
        return 1
    return 2 * sum(math.comb(p - 1, k) for k in range(min(n, p)))


def cover_probability(n, p):
    r"""Exact probability that ``p`` random labellings of points in general position are linearly
    separable through the origin in dimension ``n``:

    .. math:: P_{\rm SAT}(N, P) = 2^{1-P} \sum_{k=0}^{N-1} \binom{P-1}{k}.

    Returns a :class:`fractions.Fraction`: 1 for ``p <= n`` and exactly 1/2 at ``p = 2n``.

    Examples
    --------
    >>> cover_probability(10, 20)
    Fraction(1, 2)
    """
    return Fraction(cover_count(n, p), 2 ** check_int(p, "p", "cover_probability", 0))


# ----------------------------------------------------------------------------- LP feasibility
def _gaussian_instance(rng, p, n):
    x = rng.standard_normal((p, n))
    y = np.where(rng.random(p) < 0.5, -1.0, 1.0)
    return x, y


def _rows(patterns, labels, where):
    x = np.asarray(patterns, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0 or not np.all(np.isfinite(x)):
        fail_parameter("patterns", where, "a finite 2-D array of shape (P, N)", f"array of shape {x.shape}")
    y = np.asarray(labels, dtype=float).reshape(-1)
    if y.shape[0] != x.shape[0] or not np.all((y == 1) | (y == -1)):
        fail_parameter("labels", where, f"an array of {x.shape[0]} entries ±1", labels)
    return y[:, None] * x


def lp_separable(patterns, labels):
    r"""Whether the labelled patterns are linearly separable through the origin (HiGHS LP).

    Solved as the bounded linear program

    .. math:: t^* = \max_{w, t}\ t \quad\text{s.t.}\quad y^\mu w\cdot\xi^\mu \ge t,\
              -1 \le w_i \le 1,\ t \le 1,

    which is always feasible (``w = 0, t = 0``) and bounded, so HiGHS never has to certify
    infeasibility (the plain feasibility form :math:`y^\mu w\cdot\xi^\mu \ge 1` can end in
    HiGHS status "unknown" near the boundary). Separable iff :math:`t^* > 10^{-9}\max|\xi|`.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    labels : array_like, shape (P,), entries ±1

    Returns
    -------
    bool

    Raises
    ------
    RuntimeError
        When HiGHS does not reach an optimum (status other than 0).

    Examples
    --------
    >>> lp_separable([[1.0, 0.0], [0.0, 1.0]], [1, -1])
    True
    """
    b = _rows(patterns, labels, "lp_separable")
    return _lp_margin(b) > 1e-9 * max(float(np.abs(b).max(initial=0.0)), 1e-300)


def _lp_margin(b):
    from scipy.optimize import linprog
    p, n = b.shape
    if p == 0:
        return 1.0
    c = np.zeros(n + 1)
    c[-1] = -1.0                                     # maximise t
    a_ub = np.hstack([-b, np.ones((p, 1))])          # t - y xi.w <= 0
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(p), bounds=[(-1.0, 1.0)] * n + [(None, 1.0)],
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog (highs) ended with status {res.status}: {res.message}")
    return float(res.x[-1])


@dataclasses.dataclass(frozen=True)
class CoverSimulation:
    """LP-feasibility estimate of :math:`P_{\\rm SAT}(N, P)` next to Cover's exact value.

    Attributes
    ----------
    n : int
    p : ndarray of int
        Numbers of patterns simulated.
    alpha : ndarray
        ``p / n``.
    n_separable : ndarray of int
        Separable instances out of ``n_samples`` at each ``p``.
    p_sat, p_sat_sem : ndarray
        Simulated fraction and its binomial standard error ``sqrt(p(1-p)/n_samples)``.
    p_cover : ndarray
        Cover's exact probability (as float).
    n_samples : int
    seed : int
    """

    n: int
    p: np.ndarray
    alpha: np.ndarray
    n_separable: np.ndarray
    p_sat: np.ndarray
    p_sat_sem: np.ndarray
    p_cover: np.ndarray
    n_samples: int
    seed: int

    @property
    def z_scores(self) -> np.ndarray:
        """``(p_sat - p_cover) / sigma`` with the binomial sigma of the exact probability
        (0 where that sigma is 0 and the simulation agrees exactly, inf where it does not)."""
        sig = np.sqrt(self.p_cover * (1 - self.p_cover) / self.n_samples)
        d = self.p_sat - self.p_cover
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sig > 0, d / np.where(sig > 0, sig, 1.0),
                            np.where(np.abs(d) < 1e-12, 0.0, np.inf))


def simulate_cover(n, p_values, n_samples, *, seed=0):
    r"""Fraction of random Gaussian pattern sets with random labels that are linearly separable.

    Parameters
    ----------
    n : int
        Dimension, ``>= 1``.
    p_values : sequence of int
        Numbers of patterns (``>= 0``).
    n_samples : int
        Independent instances per ``p``.
    seed : int or None
        Root seed (``SeedSequence(seed).spawn``, one stream per ``p``); ``None`` draws and records one.

    Returns
    -------
    CoverSimulation

    Examples
    --------
    >>> r = simulate_cover(5, [5, 10], 40, seed=0)
    >>> r.p_cover.tolist(), int(r.n_separable[0])
    ([1.0, 0.5], 40)
    """
    where = "simulate_cover"
    n = check_int(n, "n", where, 1)
    ps = [check_int(p, "p_values", where, 0) for p in np.atleast_1d(np.asarray(p_values, dtype=object))]
    if not ps:
        fail_parameter("p_values", where, "a non-empty sequence of ints >= 0", p_values)
    n_samples = check_int(n_samples, "n_samples", where, 1)
    seed = check_seed(seed, where)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(ps))]
    sep = np.zeros(len(ps), np.int64)
    for i, (p, rng) in enumerate(zip(ps, rngs)):
        for _ in range(n_samples):
            x, y = _gaussian_instance(rng, p, n)
            sep[i] += lp_separable(x, y)
    frac = sep / n_samples
    return CoverSimulation(
        n=n, p=readonly(np.array(ps)), alpha=readonly(np.array(ps) / n), n_separable=readonly(sep),
        p_sat=readonly(frac), p_sat_sem=readonly(np.sqrt(frac * (1 - frac) / n_samples)),
        p_cover=readonly(np.array([float(cover_probability(n, p)) for p in ps])),
        n_samples=n_samples, seed=seed)


# ----------------------------------------------------------------------------- max margin
@dataclasses.dataclass(frozen=True)
class MaxMarginResult:
    r"""Maximal-margin perceptron (no bias) of one pattern set.

    Attributes
    ----------
    w : ndarray, shape (N,)
        Weights on the sphere :math:`|w|^2 = N` (zeros when not separable).
    kappa : float
        Margin of ``w``: :math:`\min_\mu y^\mu w\cdot\xi^\mu/\sqrt N` (a certified lower bound of
        :math:`\kappa^*`; ``-inf`` when not separable).
    kappa_upper : float
        Certified upper bound of :math:`\kappa^*` (equal to ``kappa`` up to rounding for ``nnls``).
    separable : bool
    converged : bool
        ``kappa_upper - kappa <= tol`` (always true for ``nnls``).
    iterations : int
    n_support : int
        Patterns with a positive dual multiplier (support vectors).
    method : str
    message : str
    """

    w: np.ndarray
    kappa: float
    kappa_upper: float
    separable: bool
    converged: bool
    iterations: int
    n_support: int
    method: str
    message: str = ""


def max_margin(patterns, labels, *, method=None, tol=1e-6, maxiter=None):
    r"""Maximal margin :math:`\kappa^* = \max_{|w|^2 = N} \min_\mu y^\mu w\cdot\xi^\mu/\sqrt N`.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
    labels : array_like, shape (P,), entries ±1
    method : {None, "nnls", "adatron"}
        ``None`` means ``"nnls"`` (exact). See the module notes for the choice.
    tol : float
        ``adatron``: stop when the certified bracket ``kappa_upper - kappa <= tol``.
    maxiter : int, optional
        ``adatron``: iteration cap (default ``200 * P + 1000``); ``nnls``: passed on to scipy.

    Returns
    -------
    MaxMarginResult

    Examples
    --------
    >>> import numpy as np
    >>> r = max_margin(np.eye(3) * np.sqrt(3), [1, 1, 1])
    >>> round(r.kappa, 12)     # w = (1, 1, 1): each stability is 3/sqrt(3)/sqrt(3) = 1
    1.0
    """
    where = "max_margin"
    b = _rows(patterns, labels, where)
    if b.shape[0] == 0:
        fail_parameter("patterns", where, "an array with at least one pattern (P >= 1)", "P = 0")
    if method is None:
        method = "nnls"
    if method not in ("nnls", "adatron"):
        fail_parameter("method", where, "one of None, 'nnls', 'adatron'", method)
    tol = check_float(tol, "tol", where, 0.0, closed="neither")
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", where, 1)
    if method == "nnls":
        return _max_margin_nnls(b, maxiter)
    return _adatron(b, tol, maxiter)


def _finish(b, v, a, method, converged, iterations, message, upper=None):
    n = b.shape[1]
    norm = float(np.linalg.norm(v))
    w = v * (math.sqrt(n) / norm)
    kappa = float(np.min(b @ w) / math.sqrt(n))
    return MaxMarginResult(w=readonly(w), kappa=kappa,
                           kappa_upper=kappa if upper is None else float(upper), separable=True,
                           converged=converged, iterations=int(iterations),
                           n_support=int(np.count_nonzero(a > 0)), method=method, message=message)


def _not_separable(n, method, iterations, message):
    return MaxMarginResult(w=readonly(np.zeros(n)), kappa=-math.inf, kappa_upper=-math.inf,
                           separable=False, converged=True, iterations=int(iterations), n_support=0,
                           method=method, message=message)


def _max_margin_nnls(b, maxiter):
    """Least-distance programming (Lawson–Hanson ch. 23): min |v| s.t. B v >= 1 via one NNLS."""
    from scipy.optimize import nnls
    p, n = b.shape
    e = np.vstack([b.T, np.ones((1, p))])            # (N + 1, P)
    f = np.zeros(n + 1)
    f[-1] = 1.0
    u, _ = nnls(e, f, maxiter=maxiter if maxiter is not None else max(50 * p, 1000))
    r = e @ u - f
    if abs(r[-1]) < 1e-12 or np.linalg.norm(r) < 1e-12:
        return _not_separable(n, "nnls", 0, "not separable: NNLS residual vanishes")
    v = -r[:n] / r[-1]                               # min-norm solution of B v >= 1
    # |v| = 1/kappa*; KKT: a = u / (-r_N) are the AdaTron/SVM dual multipliers
    return _finish(b, v, u, "nnls", True, 0, "exact (least-distance programming via NNLS)")


def _adatron(b, tol, maxiter):
    """Vectorised AdaTron: Nesterov-accelerated projected dual ascent with a certified stop."""
    p, n = b.shape
    if maxiter is None:
        maxiter = 200 * p + 1000
    diag = np.einsum("ij,ij->i", b, b)              # |B_mu|^2 = C_mumu
    c = b @ b.T                                      # Gram matrix C = B B^T (P x P)
    # step 1/C_mumu as in the original AdaTron, scaled so the parallel update is stable:
    # largest eigenvalue of D^{-1/2} C D^{-1/2} bounds the admissible step
    dinv = 1.0 / diag
    lmax = float(np.linalg.eigvalsh(c * np.sqrt(dinv)[:, None] * np.sqrt(dinv)[None, :])[-1])
    eta = dinv / lmax
    a, ca, d_a = np.zeros(p), np.zeros(p), 0.0     # iterate, C a, dual objective D(a)
    y, cy, t = a, ca, 1.0                            # extrapolated point (Nesterov)
    kappa_lo, kappa_hi = -math.inf, math.inf
    converged, it = False, 0
    for it in range(1, maxiter + 1):
        a_new = np.maximum(0.0, y + eta * (1.0 - cy))     # AdaTron step, projected on a >= 0
        ca_new = c @ a_new
        d_new = float(a_new.sum() - 0.5 * (a_new @ ca_new))
        if d_new < d_a - 1e-14 * abs(d_a):          # adaptive restart (O'Donoghue & Candes 2015)
            y, cy, t = a, ca, 1.0
        else:
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            mom = (t - 1.0) / t_new
            y, cy = a_new + mom * (a_new - a), ca_new + mom * (ca_new - ca)
            a, ca, d_a, t = a_new, ca_new, max(d_new, d_a), t_new
        if it % 10 == 0:
            vnorm = math.sqrt(max(float(a @ ca), 0.0))   # |v|, v = B^T a; stabilities B v = C a
            # two certified upper bounds from any a >= 0: weak duality, and min_mu (B w)_mu <=
            # a.(B w)/sum(a) <= |B^T a|/sum(a) for unit w (tends to 0 when not separable)
            if d_a > 0:
                kappa_hi = min(kappa_hi, 1.0 / math.sqrt(2.0 * d_a))
            if a.sum() > 0:
                kappa_hi = min(kappa_hi, vnorm / float(a.sum()))
            if vnorm > 0:
                kappa_lo = float(ca.min() / vnorm)
            if kappa_lo > 0 and kappa_hi - kappa_lo <= tol:
                converged = True
                break
            if kappa_hi < tol:                       # kappa* < tol: no margin at this tolerance
                return _not_separable(n, "adatron", it, f"not separable at tol: kappa* <= {kappa_hi:.3g}")
    v = b.T @ a
    if not np.any(v):
        return _not_separable(n, "adatron", it, "no progress")
    msg = "certified gap reached" if converged else f"maxiter={maxiter} reached; gap {kappa_hi - kappa_lo:.3g}"
    return _finish(b, v, a, "adatron", converged, it, msg, upper=kappa_hi)


@dataclasses.dataclass(frozen=True)
class MaxMarginSimulation:
    """Maximal margins of random Gaussian pattern sets, several loads.

    Attributes
    ----------
    n : int
    alpha : ndarray
        Loads ``P/N`` (``P = round(alpha * n)``).
    kappa : ndarray, shape (n_alpha, n_samples)
        Maximal margin per instance (``-inf`` when not separable).
    kappa_mean, kappa_sem : ndarray
        Mean over separable instances and its standard error.
    n_separable : ndarray of int
    all_converged : bool
    n_samples : int
    seed : int
    method : str
    """

    n: int
    alpha: np.ndarray
    kappa: np.ndarray
    kappa_mean: np.ndarray
    kappa_sem: np.ndarray
    n_separable: np.ndarray
    all_converged: bool
    n_samples: int
    seed: int
    method: str


def simulate_max_margin(n, alphas, n_samples, *, seed=0, method=None, tol=1e-6):
    r"""Maximal margin of random instances at loads ``alphas``, to compare with
    :math:`\kappa_{max}(\alpha)` (Gardner 1988) as :math:`N \to \infty`.

    Parameters
    ----------
    n : int
        Dimension, ``>= 1``.
    alphas : sequence of float
        Loads ``> 0``; ``P = max(1, round(alpha * n))``.
    n_samples : int
    seed : int or None
    method : {None, "nnls", "adatron"}
    tol : float
        AdaTron certified-gap tolerance.

    Returns
    -------
    MaxMarginSimulation

    Examples
    --------
    >>> r = simulate_max_margin(50, [0.5], 4, seed=0)
    >>> bool(r.kappa_mean[0] > 0.8)
    True
    """
    where = "simulate_max_margin"
    n = check_int(n, "n", where, 1)
    als = [check_float(a, "alphas", where, 0.0, closed="neither") for a in np.atleast_1d(alphas)]
    n_samples = check_int(n_samples, "n_samples", where, 1)
    seed = check_seed(seed, where)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(als))]
    kap = np.empty((len(als), n_samples))
    conv = True
    for i, (al, rng) in enumerate(zip(als, rngs)):
        p = max(1, int(round(al * n)))
        for j in range(n_samples):
            x, y = _gaussian_instance(rng, p, n)
            r = max_margin(x, y, method=method, tol=tol)
            kap[i, j] = r.kappa
            conv &= r.converged
    ok = np.isfinite(kap)
    nsep = ok.sum(axis=1)
    mean = np.array([kap[i, ok[i]].mean() if nsep[i] else np.nan for i in range(len(als))])
    sem = np.array([kap[i, ok[i]].std(ddof=1) / math.sqrt(nsep[i]) if nsep[i] > 1 else np.nan
                    for i in range(len(als))])
    return MaxMarginSimulation(
        n=n, alpha=readonly(np.array(als)), kappa=readonly(kap), kappa_mean=readonly(mean),
        kappa_sem=readonly(sem), n_separable=readonly(nsep), all_converged=bool(conv),
        n_samples=n_samples, seed=seed, method=method or "nnls")
