r"""Effective theory of representation learning for addition (Liu et al. 2022, "Towards
Understanding Grokking", arXiv:2205.10343).

Digits :math:`0,\dots,p-1` get embeddings :math:`E_k`; the network sees :math:`E_i+E_j`. A
*parallelogram* is a pair of samples with equal sums, :math:`i+j=m+n`, realised when
:math:`E_i+E_j=E_m+E_n`. Each parallelogram is a row :math:`e_i+e_j-e_m-e_n` of the integer matrix
:math:`A`; the effective loss over the parallelograms :math:`P_0(D)` whose two samples are both in
the training set :math:`D` is

.. math::

    \ell_{\rm eff} = \frac{\ell_0}{Z_0},\qquad
    \ell_0 = \frac{1}{|P_0(D)|}\sum_{P_0(D)}|E_i+E_j-E_m-E_n|^2 = \frac{|A_D E|^2}{|P_0(D)|},
    \qquad Z_0 = \sum_k |E_k-\bar E|^2 .

Its zero set always contains the constant and linear vectors (nullity :math:`n_0\ge2`); the
linear structure :math:`E_k=a+kb` is the unique ground state iff :math:`n_0=2`. The grokking rate is
:math:`\lambda_3` of the Hessian (the first eigenvalue after the two zero modes).

Conventions
-----------
* Samples are unordered pairs ``(i, j)`` with ``i <= j``, in the order of the reference code
  (``for i in range(p): for j in range(i, p)``); there are ``p(p+1)/2`` of them and ``2p-1`` sums.
* Parallelograms are listed as ``(i, n, j, m)`` with ``i < j <= m < n`` and ``i + n = j + m``
  (the RQI set of the reference code); ``|P_0| = 70`` for ``p = 10``.
* The training fraction is ``r = |D| / (p(p+1)/2)``.
"""
from __future__ import annotations

import dataclasses
import itertools
from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import sympy as sp

from phasekit._constraints import check_scalar, invalid_parameter

__all__ = [
    "samples", "parallelograms", "parallelogram_matrix", "training_parallelograms",
    "full_charpoly", "SpectrumResult", "spectrum", "nullity", "has_linear_ground_state",
    "LinearStructureScan", "linear_structure_probability", "DeterminingSets",
    "minimal_determining_sets", "effective_loss", "effective_loss_grad", "effective_flow_step",
    "run_effective_flow", "EffectiveFlowResult", "predicted_decay_rate", "predicted_grokking_steps",
    "check_conservation_laws",
]


# --------------------------------------------------------------------------------------------
# combinatorics
# --------------------------------------------------------------------------------------------
def samples(p: int) -> np.ndarray:
    """All unordered samples ``(i, j)``, ``i <= j < p``, shape ``(p(p+1)/2, 2)``."""
    p = check_scalar(p, "p", "samples", int, 2)
    return np.array([(i, j) for i in range(p) for j in range(i, p)], dtype=int)


def parallelograms(p: int, *, with_samples: bool = False):
    """Parallelograms ``(i, n, j, m)``, ``i < j <= m < n``, ``i + n = j + m``.

    With ``with_samples=True`` also returns, for each, the indices (into :func:`samples`) of its
    outer sample ``(i, n)`` and inner sample ``(j, m)``.
    """
    p = check_scalar(p, "p", "parallelograms", int, 2)
    P, outer, inner = _parallelograms_cached(p)
    return (P, outer, inner) if with_samples else P


@lru_cache(maxsize=64)
def _parallelograms_cached(p):
    P = [(i, n, j, m) for i in range(p) for j in range(i + 1, p) for m in range(j, p)
         for n in range(m + 1, p) if i + n == j + m]
    P = np.array(P, dtype=int).reshape(-1, 4)
    S = samples(p)
    index = {tuple(s): k for k, s in enumerate(S)}
    outer = np.array([index[(i, n)] for i, n, j, m in P], dtype=int)
    inner = np.array([index[(j, m)] for i, n, j, m in P], dtype=int)
    for arr in (P, outer, inner):
        arr.flags.writeable = False
    return P, outer, inner


def _train_mask(p, train, where):
    n_s = p * (p + 1) // 2
    if train is None:
        return np.ones(n_s, dtype=bool)
    t = np.asarray(train)
    if t.dtype == bool:
        if t.shape != (n_s,):
            raise invalid_parameter("train", where, f"a boolean mask of length {n_s}", t.shape)
        return t.copy()
    t = t.astype(int).ravel()
    if t.size and (t.min() < 0 or t.max() >= n_s):
        raise invalid_parameter("train", where, f"sample indices in [0, {n_s})", train)
    mask = np.zeros(n_s, dtype=bool)
    mask[t] = True
    return mask


def training_parallelograms(p: int, train=None) -> np.ndarray:
    """Boolean mask over :func:`parallelograms` of ``P_0(D)``: both samples in ``train``.

    ``train`` is a boolean mask over :func:`samples` or an array of sample indices; ``None``
    means the full data set.
    """
    p = check_scalar(p, "p", "training_parallelograms", int, 2)
    _, outer, inner = parallelograms(p, with_samples=True)
    mask = _train_mask(p, train, "training_parallelograms")
    return mask[outer] & mask[inner]


def parallelogram_matrix(p: int, train=None) -> np.ndarray:
    """Integer matrix with rows ``e_i + e_n - e_j - e_m`` over ``P_0(D)``, shape ``(|P_0(D)|, p)``."""
    P = parallelograms(p)
    keep = training_parallelograms(p, train)
    A = np.zeros((P.shape[0], p), dtype=int)
    rows = np.arange(P.shape[0])
    np.add.at(A, (rows, P[:, 0]), 1)
    np.add.at(A, (rows, P[:, 1]), 1)
    np.add.at(A, (rows, P[:, 2]), -1)
    np.add.at(A, (rows, P[:, 3]), -1)
    return A[keep]


def full_charpoly(p: int = 10):
    """Exact characteristic polynomial of ``A^T A`` for the full data set, factored (sympy).

    Returns ``(factored_poly, lam, eigenvalues_sorted)`` where the eigenvalues are exact sympy
    roots when they are rational and floats otherwise. For ``p = 10``:
    ``lam**2 (lam - 30)(lam**2 - 87 lam + 1866)(lam**2 - 77 lam + 1430)(lam**3 - 126 lam**2 + 5263 lam - 72866)``.
    """
    p = check_scalar(p, "p", "full_charpoly", int, 2)
    A = sp.Matrix(parallelogram_matrix(p).tolist())
    lam = sp.symbols("lambda")
    M = A.T * A
    cp = M.charpoly(lam).as_expr()
    fac = sp.factor(cp)
    roots = []
    for f, mult in sp.factor_list(cp, lam)[1]:
        poly = sp.Poly(f, lam)
        rs = [r for r in sp.roots(poly) if r.is_Rational] if poly.degree() == 1 else \
            poly.nroots(n=30)
        roots.extend(list(rs) * mult)
    roots = sorted(roots, key=float)
    return fac, lam, roots


@dataclasses.dataclass(frozen=True)
class SpectrumResult:
    """Spectrum of ``A_D^T A_D`` for one training set.

    Attributes
    ----------
    eigenvalues : ndarray
        Ascending eigenvalues of ``A_D^T A_D`` (not normalised).
    n_parallelograms : int
        ``|P_0(D)|``.
    nullity : int
        Number of eigenvalues below ``tol`` (relative to 1; the matrix is integer).
    lambda3 : float
        Third eigenvalue of ``A_D^T A_D / |P_0(D)|`` (0 when ``nullity > 2`` or no parallelogram).
    """

    eigenvalues: np.ndarray
    n_parallelograms: int
    nullity: int
    lambda3: float


def spectrum(p: int, train=None, *, tol: float = 1e-8) -> SpectrumResult:
    """Eigenvalues, nullity and normalised ``lambda_3`` of ``A_D^T A_D``."""
    A = parallelogram_matrix(p, train).astype(float)
    M = A.T @ A
    ev = np.linalg.eigvalsh(M)
    n0 = int(np.sum(ev < tol))
    lam3 = float(ev[2] / A.shape[0]) if (A.shape[0] > 0 and n0 <= 2 and p > 2) else 0.0
    return SpectrumResult(ev, int(A.shape[0]), n0, lam3)


def nullity(p: int, train=None, *, tol: float = 1e-8) -> int:
    """Nullity ``n_0`` of ``A_D`` (``>= 2``: constant and linear vectors)."""
    return spectrum(p, train, tol=tol).nullity


def has_linear_ground_state(p: int, train=None) -> bool:
    """``n_0 == 2``: the linear structure ``E_k = a + k b`` is the unique zero of ``ell_eff``."""
    return nullity(p, train) == 2


@dataclasses.dataclass(frozen=True)
class LinearStructureScan:
    """Probability of a unique linear ground state versus training fraction.

    Attributes
    ----------
    p : int
    fractions : ndarray
        Training fractions ``|D|/(p(p+1)/2)`` actually used (rounded to integer sizes).
    sizes : ndarray of int
    probability, error : ndarray
        ``P(n_0 = 2)`` and its binomial standard error.
    lambda3_median, lambda3_q25, lambda3_q75 : ndarray
        Quantiles of ``lambda_3(A_D^T A_D/|P_0(D)|)`` (0 where ``n_0 > 2``).
    n_sets : int
    crossing : float
        Linear interpolation of the fraction where ``probability`` crosses 1/2 (nan if none).
    seed : int or None
    """

    p: int
    fractions: np.ndarray
    sizes: np.ndarray
    probability: np.ndarray
    error: np.ndarray
    lambda3_median: np.ndarray
    lambda3_q25: np.ndarray
    lambda3_q75: np.ndarray
    n_sets: int
    crossing: float
    seed: int | None


def _batched_spectra(p, masks):
    """Eigenvalues of A_D^T A_D for a batch of training masks (K, n_samples)."""
    P, outer, inner = parallelograms(p, with_samples=True)
    A = parallelogram_matrix(p).astype(float)
    outer_prods = np.einsum("ki,kj->kij", A, A).reshape(A.shape[0], -1)
    incl = (masks[:, outer] & masks[:, inner]).astype(float)
    M = (incl @ outer_prods).reshape(-1, p, p)
    return np.linalg.eigvalsh(M), incl.sum(axis=1)


def linear_structure_probability(p: int = 10, fractions=None, *, n_sets: int = 400,
                                 rng=None, tol: float = 1e-8) -> LinearStructureScan:
    """Monte Carlo over random training sets of ``P(n_0 = 2)`` and of ``lambda_3``.

    Examples
    --------
    >>> s = linear_structure_probability(10, [0.2, 1.0], n_sets=50, rng=0)
    >>> float(s.probability[-1])
    1.0
    """
    p = check_scalar(p, "p", "linear_structure_probability", int, 2)
    if isinstance(n_sets, bool) or not isinstance(n_sets, Integral) or n_sets < 1:
        raise invalid_parameter("n_sets", "linear_structure_probability", "an int >= 1", n_sets)
    seed = rng if isinstance(rng, (int, np.integer)) else None
    rng = np.random.default_rng(rng)
    n_s = p * (p + 1) // 2
    if fractions is None:
        fractions = np.linspace(0.1, 1.0, 19)
    fractions = np.asarray(fractions, float)
    if np.any(fractions <= 0) or np.any(fractions > 1):
        raise invalid_parameter("fractions", "linear_structure_probability", "in (0, 1]", fractions.tolist())
    sizes = np.clip(np.round(fractions * n_s).astype(int), 1, n_s)
    prob, err, med, q25, q75 = [], [], [], [], []
    for size in sizes:
        keys = rng.random((n_sets, n_s))
        idx = np.argsort(keys, axis=1)[:, :size]
        masks = np.zeros((n_sets, n_s), dtype=bool)
        np.put_along_axis(masks, idx, True, axis=1)
        ev, npar = _batched_spectra(p, masks)
        n0 = np.sum(ev < tol, axis=1)
        lam3 = np.where((n0 <= 2) & (npar > 0), ev[:, 2] / np.maximum(npar, 1), 0.0)
        pr = float(np.mean(n0 == 2))
        prob.append(pr)
        err.append(np.sqrt(pr * (1 - pr) / n_sets))
        med.append(np.median(lam3))
        q25.append(np.quantile(lam3, 0.25))
        q75.append(np.quantile(lam3, 0.75))
    prob = np.array(prob)
    fr_used = sizes / n_s
    crossing = float("nan")
    above = np.nonzero(prob >= 0.5)[0]
    if above.size and above[0] > 0:
        k = above[0]
        x0, x1, y0, y1 = fr_used[k - 1], fr_used[k], prob[k - 1], prob[k]
        crossing = float(x0 + (0.5 - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)
    elif above.size:
        crossing = float(fr_used[0])
    return LinearStructureScan(p, fr_used, sizes, prob, np.array(err), np.array(med),
                               np.array(q25), np.array(q75), int(n_sets), crossing, seed)


@dataclasses.dataclass(frozen=True)
class DeterminingSets:
    """Exhaustive count of training sets that fix the linear structure (``n_0 = 2``).

    Attributes
    ----------
    p : int
    counts : dict[int, int]
        Number of working training sets of each size.
    minimum_size : int
        Smallest size with a working set.
    minimal_sets : tuple
        The working sets of minimum size, as tuples of samples ``(i, j)``.
    """

    p: int
    counts: dict
    minimum_size: int
    minimal_sets: tuple


def minimal_determining_sets(p: int = 6, sizes=range(1, 9), *, chunk: int = 50_000,
                             tol: float = 1e-8) -> DeterminingSets:
    """Enumerate all training sets of the given sizes and count those with ``n_0 = 2``.

    For ``p = 6`` (21 samples) the minimum is 6 samples (3 sets); 129 sets of size 7 and 1594 of
    size 8 work. Cost grows like ``C(p(p+1)/2, size)``.
    """
    p = check_scalar(p, "p", "minimal_determining_sets", int, 2)
    n_s = p * (p + 1) // 2
    S = samples(p)
    counts, minimal = {}, ()
    min_size = -1
    for size in sizes:
        size = int(size)
        if size < 1 or size > n_s:
            raise invalid_parameter("sizes", "minimal_determining_sets", f"ints in [1, {n_s}]", size)
        count = 0
        good_sets = []
        it = itertools.combinations(range(n_s), size)
        while True:
            block = list(itertools.islice(it, chunk))
            if not block:
                break
            idx = np.array(block, dtype=int)
            masks = np.zeros((idx.shape[0], n_s), dtype=bool)
            np.put_along_axis(masks, idx, True, axis=1)
            ev, _ = _batched_spectra(p, masks)
            ok = np.sum(ev < tol, axis=1) == 2
            count += int(ok.sum())
            if min_size < 0 and ok.any():
                good_sets.extend(idx[ok].tolist())
        counts[size] = count
        if min_size < 0 and count > 0:
            min_size = size
            minimal = tuple(tuple(tuple(int(v) for v in S[k]) for k in s) for s in good_sets)
    return DeterminingSets(p, counts, min_size, minimal)


# --------------------------------------------------------------------------------------------
# effective loss and flow
# --------------------------------------------------------------------------------------------
def effective_loss(E, A) -> float:
    """``ell_eff = ell_0 / Z_0`` with ``ell_0 = |A E|^2/n_rows`` and centred ``Z_0``.

    ``E`` has shape ``(p,)`` or ``(p, d)``; ``A`` is a parallelogram matrix.
    """
    E = np.asarray(E, float)
    A = np.asarray(A, float)
    E2 = E.reshape(E.shape[0], -1)
    l0 = float(np.sum((A @ E2) ** 2)) / max(A.shape[0], 1)
    Z0 = float(np.sum((E2 - E2.mean(axis=0)) ** 2))
    return l0 / Z0


def effective_loss_grad(E, A, *, Z0=None):
    """Gradient of ``ell_0/Z_0`` (unnormalised ``ell_0 = |AE|^2``, as the reference flow).

    With ``Z0`` given it is held fixed in the prefactor (reference "Task 3"):
    ``grad = 2 A^T A E / Z0 - 2 ell_0 (E - mean E) / Z0^2``.
    """
    E = np.asarray(E, float)
    A = np.asarray(A, float)
    Ec = E - E.mean(axis=0)
    Z = float(np.sum(Ec ** 2)) if Z0 is None else float(Z0)
    AE = A @ E
    l0 = float(np.sum(AE ** 2))
    return 2 * (A.T @ AE) / Z - 2 * l0 * Ec / Z ** 2


def effective_flow_step(E, A, eta: float, *, Z0=None):
    """One Euler step ``E <- E - eta * grad`` of the effective flow."""
    return np.asarray(E, float) - eta * effective_loss_grad(E, A, Z0=Z0)


@dataclasses.dataclass(frozen=True)
class EffectiveFlowResult:
    """Trajectory of the reference effective flow ("Task 3").

    Attributes
    ----------
    loss : ndarray
        ``ell_0 = |A E|^2`` per step.
    E : ndarray
        Final embedding.
    sum_drift, Z0_drift : float
        Max |change| of ``sum_k E_k`` and of the centred ``Z_0`` along the trajectory.
    decay_rate : float
        Fitted late-time ``-d ln ell_0 / d step``.
    predicted_rate : float
        ``-2 ln(1 - 2 lambda_3 eta / Z0)`` (``≈ 4 lambda_3 eta / Z0``).
    eta, Z0 : float
    seed : int or None
    """

    loss: np.ndarray
    E: np.ndarray
    sum_drift: float
    Z0_drift: float
    decay_rate: float
    predicted_rate: float
    eta: float
    Z0: float
    seed: int | None


def predicted_decay_rate(lambda3: float, eta: float, Z0: float, *, exact: bool = True) -> float:
    """Asymptotic decay of ``ell_0`` per step: ``-2 ln(1 - 2 lambda3 eta/Z0)`` or ``4 lambda3 eta/Z0``."""
    x = 2 * lambda3 * eta / Z0
    return float(-2 * np.log1p(-x)) if exact else float(2 * x)


def predicted_grokking_steps(p: int = 10, train=None, *, eta: float = 1e-3, d: int = 1,
                             normalisation: str = "sum") -> float:
    r"""Predicted grokking time :math:`n_h = 1/(\lambda_3(H)\,\eta)` (Liu et al. Fig. 4c–d).

    ``H`` is the Hessian of :math:`\ell_{\rm eff}=\ell_0/Z_0` at a normalised embedding
    (:math:`Z_0=(p-1)d`, unit variance with ddof = 1), so :math:`H = 2A_D^\top A_D/(cZ_0)` on the
    non-zero modes with :math:`c=1` for ``normalisation='sum'`` (:math:`\ell_0=|A_DE|^2`, the
    reference effective flow, whose decay rate :math:`4\lambda_3\eta/Z_0` this reproduces) and
    :math:`c=|P_0(D)|` for ``'mean'`` (the spec's :math:`\ell_0` with the mean over
    parallelograms). Returns ``inf`` when the linear ground state is not unique. The observed
    step count is reported as about ``3 n_h``; the paper's normalisation is unverified.
    """
    p = check_scalar(p, "p", "predicted_grokking_steps", int, 2)
    if not isinstance(eta, Real) or eta <= 0:
        raise invalid_parameter("eta", "predicted_grokking_steps", "a float in the range (0, inf)", eta)
    if normalisation not in ("sum", "mean"):
        raise invalid_parameter("normalisation", "predicted_grokking_steps", "one of 'sum', 'mean'", normalisation)
    s = spectrum(p, train)
    if s.nullity != 2 or s.n_parallelograms == 0:
        return float("inf")
    lam3 = s.lambda3 * (s.n_parallelograms if normalisation == "sum" else 1)
    lam3_H = 2 * lam3 / ((p - 1) * d)
    return float(1.0 / (lam3_H * eta))


def run_effective_flow(p: int = 10, *, eta: float = 1e-3, steps: int = 3000, train=None,
                       rng=None, E0=None) -> EffectiveFlowResult:
    """Reference effective flow from a random normalised embedding, ``Z_0`` frozen.

    ``E <- E + eta (2 ell_0 E/Z0^2 - (2/Z0) A^T A E)``, ``ell_0 = |AE|^2``; with a normalised
    start (mean 0, ddof-1 std 1) ``Z0 = p - 1``.
    """
    p = check_scalar(p, "p", "run_effective_flow", int, 2)
    seed = rng if isinstance(rng, (int, np.integer)) else None
    A = parallelogram_matrix(p, train).astype(float)
    if E0 is None:
        E0 = np.random.default_rng(rng).uniform(-0.5, 0.5, p)
    E = np.asarray(E0, float).copy()
    E = (E - E.mean()) / E.std(ddof=1)
    Z0 = float(np.sum(E ** 2))
    s0 = float(E.sum())
    losses = np.empty(steps)
    sums = np.empty(steps)
    zs = np.empty(steps)
    for t in range(steps):
        AE = A @ E
        l0 = float(AE @ AE)
        losses[t] = l0
        sums[t] = E.sum()
        zs[t] = np.sum((E - E.mean()) ** 2)
        E = E + eta * (2 * l0 * E / Z0 ** 2 - 2 / Z0 * (A.T @ AE))
    lam3 = spectrum(p, train).eigenvalues[2]
    # late-time slope of ln ell_0 (last third, while above round-off)
    good = np.nonzero(losses > 1e-25)[0]
    tail = good[len(good) * 2 // 3:] if good.size > 10 else good
    rate = float(-np.polyfit(tail, np.log(losses[tail]), 1)[0]) if tail.size > 2 else float("nan")
    return EffectiveFlowResult(losses, E, float(np.max(np.abs(sums - s0))),
                               float(np.max(np.abs(zs - Z0))), rate,
                               predicted_decay_rate(lam3, eta, Z0), float(eta), Z0, seed)


def check_conservation_laws(p: int = 6, train=None):
    r"""Sympy proof that the flow :math:`\dot E = -\nabla(\ell_0/Z_0)` conserves :math:`\sum_k E_k`
    and :math:`Z_0=\sum_k(E_k-\bar E)^2`, via the Euler identity :math:`E\cdot\nabla\ell_0=2\ell_0`.

    Returns a :class:`phasekit.theory.effective_theory.geneft.SymbolicCheck`.
    """
    from .geneft import SymbolicCheck
    p = check_scalar(p, "p", "check_conservation_laws", int, 2)
    A = sp.Matrix(parallelogram_matrix(p, train).tolist())
    E = sp.Matrix(sp.symbols(f"E0:{p}", real=True))
    AE = A * E
    l0 = sp.expand((AE.T * AE)[0])
    Ebar = sum(E) / p
    Z0 = sp.expand(sum((e - Ebar) ** 2 for e in E))
    L = l0 / Z0
    grad = sp.Matrix([sp.diff(L, e) for e in E])
    Edot = -grad
    r_sum = sp.simplify(sum(Edot))
    r_Z = sp.simplify(sum(sp.diff(Z0, e) * Edot[k] for k, e in enumerate(E)))
    r_euler = sp.expand(sum(e * sp.diff(l0, e) for e in E) - 2 * l0)
    r_rows = sp.Matrix(A * sp.ones(p, 1))   # rows of A sum to zero
    ok = r_sum == 0 and r_Z == 0 and r_euler == 0 and r_rows.is_zero_matrix
    return SymbolicCheck(f"liu_conservation[p={p}]", bool(ok), sp.Tuple(r_sum, r_Z, r_euler),
                         "d(sum E)/dt = 0, dZ0/dt = 0, E.grad l0 = 2 l0, rows of A sum to 0")
