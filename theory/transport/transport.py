r"""Optimal transport behind least-action training of ResNets (Karkar et al. 2020).

Closed forms (numpy) and their symbolic proofs (sympy) for the least-action view of residual
networks: a ResNet of :math:`K` blocks :math:`x_{k+1} = x_k + h\,v_k(x_k)`, :math:`h = 1/K`, pushes
the data distribution forward; the kinetic energy :math:`C_K = h\sum_k \mathbb E\|v_k(x_k)\|^2` of
the network is bounded below by the squared Wasserstein distance between input and output, with
equality for the optimal-transport (Brenier) map realised on straight lines at constant speed.

Conventions
-----------
* ``W2`` is the quadratic Wasserstein distance; functions named ``*_squared`` return
  :math:`W_2^2` (squared Euclidean cost, no factor 1/2).
* The velocity of a block is its residual-branch output *before* the time step ``h`` (as in the
  authors' code, where a block returns ``x + timestep * z``).
* Gaussian maps act on the right of column vectors: :math:`T(x) = m_1 + A (x - m_0)`. Arrays of
  points have shape ``(n, d)`` and are mapped row-wise.
* Block ``k`` runs from time :math:`t_k = k/K` to :math:`t_{k+1}`.

Contents
--------
* :func:`bures_map`, :func:`w2_gaussian_squared`, :class:`GaussianOT` (with
  :meth:`GaussianOT.mccann`) — Bures–Wasserstein closed form.
* :func:`linear_resnet_from_ot` — the exact linear-ResNet realisation
  :math:`B_k = (A - I)((1 - t_k) I + t_k A)^{-1}`, :math:`c_k = (m_1 - m_0) - B_k m_k`.
* :func:`quantile_map_1d`, :func:`gaussian_quantile_map_1d`, :func:`normal_to_exponential_map`.
* :func:`discrete_kinetic_energy` — the K-block bound :math:`C_K \ge \mathbb E\|x_K-x_0\|^2`
  with its exact gap (the equality condition).
* :func:`halfspace_projection_map` — the projection principle for pointwise convex constraints.
* Symbolic proofs: :func:`symbolic_proofs` returns every residual, each of which simplifies to 0.

References
----------
S. Karkar, I. Ayed, E. de Bézenac, P. Gallinari, *A Principle of Least Action for the Training of
Neural Networks*, ECML-PKDD 2020, arXiv:2009.08372. Y. Brenier, CPAM 44 (1991); J.-D. Benamou and
Y. Brenier, Numer. Math. 84 (2000); R. McCann, Adv. Math. 128 (1997).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import sympy as sp

from phasekit._constraints import check_scalar
from phasekit._errors import InvalidParameterError

__all__ = [
    "GaussianOT", "LinearResNetOT", "KineticBound", "bures_map", "w2_gaussian_squared",
    "gaussian_ot", "linear_resnet_from_ot", "linear_resnet_moments", "quantile_map_1d",
    "gaussian_quantile_map_1d", "w2_gaussian_1d_squared", "normal_to_exponential_map",
    "discrete_kinetic_energy", "halfspace_projection_map", "projection_ot_cost",
    "sqrtm_psd", "symbolic_proofs",
]


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _vector(name, where, v, d=None):
    a = np.atleast_1d(np.asarray(v, dtype=float))
    if a.ndim != 1 or (d is not None and a.shape[0] != d) or not np.all(np.isfinite(a)):
        want = f"a finite vector of length {d}" if d is not None else "a finite vector"
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be {want}. Got shape {a.shape} instead.")
    return a


def _spd(name, where, S, d):
    a = np.atleast_2d(np.asarray(S, dtype=float))
    if a.shape != (d, d) or not np.all(np.isfinite(a)):
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be a finite {d}x{d} matrix. "
            f"Got shape {a.shape} instead.")
    if not np.allclose(a, a.T, rtol=1e-10, atol=1e-12):
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be a symmetric matrix. Got {a.tolist()} instead.")
    if np.linalg.eigvalsh(a).min() <= 0:
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be positive definite. Got {a.tolist()} instead.")
    return 0.5 * (a + a.T)


def sqrtm_psd(S):
    """Symmetric square root of a symmetric positive semi-definite matrix (via ``eigh``)."""
    S = np.asarray(S, dtype=float)
    w, U = np.linalg.eigh(0.5 * (S + S.T))
    return (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T


# --------------------------------------------------------------------------------------------
# Gaussian OT (Bures–Wasserstein)
# --------------------------------------------------------------------------------------------
def bures_map(m0, S0, m1, S1):
    r"""Linear part of the optimal-transport map between two Gaussians.

    .. math::
        A = \Sigma_0^{-1/2}\,(\Sigma_0^{1/2}\Sigma_1\Sigma_0^{1/2})^{1/2}\,\Sigma_0^{-1/2},
        \qquad T(x) = m_1 + A (x - m_0).

    :math:`A` is the unique symmetric positive-definite matrix with :math:`A\Sigma_0A = \Sigma_1`
    (Brenier: the OT map is the gradient of a convex function).

    Returns
    -------
    A : ndarray, shape (d, d)
    """
    m0 = _vector("m0", "bures_map", m0)
    d = m0.size
    _vector("m1", "bures_map", m1, d)
    S0 = _spd("S0", "bures_map", S0, d)
    S1 = _spd("S1", "bures_map", S1, d)
    R = sqrtm_psd(S0)
    Ri = np.linalg.inv(R)
    A = Ri @ sqrtm_psd(R @ S1 @ R) @ Ri
    return 0.5 * (A + A.T)


def w2_gaussian_squared(m0, S0, m1, S1):
    r"""Squared Wasserstein distance between :math:`N(m_0,\Sigma_0)` and :math:`N(m_1,\Sigma_1)`.

    .. math::
        W_2^2 = \|m_0 - m_1\|^2 + \operatorname{tr}\bigl(\Sigma_0 + \Sigma_1
        - 2(\Sigma_0^{1/2}\Sigma_1\Sigma_0^{1/2})^{1/2}\bigr).

    Examples
    --------
    >>> float(round(w2_gaussian_squared([0.0], [[1.0]], [1.0], [[4.0]]), 12))
    2.0
    """
    m0 = _vector("m0", "w2_gaussian_squared", m0)
    d = m0.size
    m1 = _vector("m1", "w2_gaussian_squared", m1, d)
    S0 = _spd("S0", "w2_gaussian_squared", S0, d)
    S1 = _spd("S1", "w2_gaussian_squared", S1, d)
    R = sqrtm_psd(S0)
    cross = sqrtm_psd(R @ S1 @ R)
    return float(np.sum((m0 - m1) ** 2) + np.trace(S0 + S1 - 2.0 * cross))


@dataclasses.dataclass(frozen=True)
class GaussianOT:
    """Optimal transport between two Gaussians (immutable description plus its closed form).

    Attributes
    ----------
    m0, S0, m1, S1 : ndarray
        Source and target means and covariances.
    A : ndarray, shape (d, d)
        Bures map (symmetric positive definite), ``T(x) = m1 + A (x - m0)``.
    w2_squared : float
        :math:`W_2^2` between the two Gaussians.
    """

    m0: np.ndarray
    S0: np.ndarray
    m1: np.ndarray
    S1: np.ndarray
    A: np.ndarray
    w2_squared: float

    @property
    def dim(self) -> int:
        return int(self.m0.size)

    def __call__(self, x):
        """Apply the OT map to points ``x`` of shape ``(n, d)`` or ``(d,)``."""
        x = np.asarray(x, dtype=float)
        return self.m1 + (x - self.m0) @ self.A.T

    def mccann(self, t):
        r"""McCann interpolant at time ``t``: mean and covariance of
        :math:`((1-t)\,\mathrm{id} + t\,T)_\#\rho_0` (the constant-speed W2 geodesic)."""
        t = float(t)
        M = (1.0 - t) * np.eye(self.dim) + t * self.A
        return (1.0 - t) * self.m0 + t * self.m1, M @ self.S0 @ M.T

    def mccann_points(self, x, t):
        """Particles of the McCann interpolation, ``(1-t) x + t T(x)``."""
        x = np.asarray(x, dtype=float)
        return (1.0 - t) * x + t * self(x)

    def kinetic_energy(self) -> float:
        r""":math:`\mathbb E\|T(x)-x\|^2 = \operatorname{tr}((A-I)\Sigma_0(A-I)^\top)+\|m_1-m_0\|^2`
        (equals :attr:`w2_squared`)."""
        D = self.A - np.eye(self.dim)
        return float(np.trace(D @ self.S0 @ D.T) + np.sum((self.m1 - self.m0) ** 2))


def gaussian_ot(m0, S0, m1, S1) -> GaussianOT:
    """Build a :class:`GaussianOT` (validated inputs, Bures map and W2²)."""
    A = bures_map(m0, S0, m1, S1)
    d = A.shape[0]
    return GaussianOT(np.asarray(m0, float).reshape(d), np.asarray(S0, float).reshape(d, d),
                      np.asarray(m1, float).reshape(d), np.asarray(S1, float).reshape(d, d), A,
                      w2_gaussian_squared(m0, S0, m1, S1))


@dataclasses.dataclass(frozen=True)
class LinearResNetOT:
    r"""Exact linear-ResNet realisation of the Gaussian OT map.

    Blocks :math:`x_{k+1} = x_k + h (B_k x_k + c_k)` with :math:`h = 1/K`,
    :math:`B_k = (A-I)((1-t_k)I + t_kA)^{-1}`, :math:`c_k = (m_1-m_0) - B_k m_k`,
    :math:`m_k = (1-t_k)m_0 + t_km_1`. Every particle moves on the straight McCann line at the
    constant velocity :math:`T(x_0)-x_0`, so each block carries the same kinetic energy
    :math:`\mathbb E\|v_k\|^2 = W_2^2`.

    Attributes
    ----------
    B : ndarray, shape (K, d, d)
    c : ndarray, shape (K, d)
    h : float
    block_energies : ndarray, shape (K,)
        :math:`\mathbb E\|v_k(x_k)\|^2` from the propagated moments.
    ot : GaussianOT
    """

    B: np.ndarray
    c: np.ndarray
    h: float
    block_energies: np.ndarray
    ot: GaussianOT

    @property
    def K(self) -> int:
        return int(self.B.shape[0])

    @property
    def kinetic_energy(self) -> float:
        """:math:`C_K = h\\sum_k \\mathbb E\\|v_k\\|^2`."""
        return float(self.h * np.sum(self.block_energies))

    def composite(self):
        """Composite linear part :math:`\\prod_k (I + hB_k)` (later blocks on the left)."""
        P = np.eye(self.B.shape[1])
        for Bk in self.B:
            P = (np.eye(P.shape[0]) + self.h * Bk) @ P
        return P

    def trajectories(self, x0):
        """Particle paths ``(K+1, n, d)`` of points ``x0`` (shape ``(n, d)``) through the blocks."""
        x = np.asarray(x0, dtype=float)
        out = [x]
        for Bk, ck in zip(self.B, self.c):
            x = x + self.h * (x @ Bk.T + ck)
            out.append(x)
        return np.stack(out)


def linear_resnet_moments(B, c, m0, S0, h):
    r"""Propagate mean and covariance through linear blocks.

    Returns ``(means (K+1, d), covs (K+1, d, d), energies (K,))`` with
    :math:`\mathbb E\|v_k\|^2 = \operatorname{tr}(B_kS_kB_k^\top) + \|B_km_k + c_k\|^2`.
    """
    B = np.asarray(B, float)
    c = np.asarray(c, float)
    m = np.asarray(m0, float).copy()
    S = np.asarray(S0, float).copy()
    d = m.size
    ms, Ss, es = [m], [S], []
    for Bk, ck in zip(B, c):
        u = Bk @ m + ck
        es.append(np.trace(Bk @ S @ Bk.T) + u @ u)
        P = np.eye(d) + h * Bk
        m = m + h * u
        S = P @ S @ P.T
        ms.append(m)
        Ss.append(S)
    return np.array(ms), np.array(Ss), np.array(es)


def linear_resnet_from_ot(m0, S0, m1, S1, K) -> LinearResNetOT:
    """The K-block linear ResNet whose flow is the McCann interpolation (see
    :class:`LinearResNetOT`).

    Examples
    --------
    >>> net = linear_resnet_from_ot([0, 0], [[1, .3], [.3, .6]], [1, -.5], [[2, .8], [.8, .5]], 8)
    >>> bool(np.allclose(net.composite(), net.ot.A))
    True
    """
    K = check_scalar(K, "K", "linear_resnet_from_ot", int, 1)
    ot = gaussian_ot(m0, S0, m1, S1)
    d, h = ot.dim, 1.0 / K
    I = np.eye(d)
    B = np.empty((K, d, d))
    c = np.empty((K, d))
    for k in range(K):
        t = k * h
        B[k] = (ot.A - I) @ np.linalg.inv((1.0 - t) * I + t * ot.A)
        mk = (1.0 - t) * ot.m0 + t * ot.m1
        c[k] = (ot.m1 - ot.m0) - B[k] @ mk
    _, _, e = linear_resnet_moments(B, c, ot.m0, ot.S0, h)
    return LinearResNetOT(B, c, h, e, ot)


# --------------------------------------------------------------------------------------------
# 1-D maps
# --------------------------------------------------------------------------------------------
def quantile_map_1d(F0: Callable, F1inv: Callable) -> Callable:
    r"""The 1-D OT map :math:`T = F_1^{-1}\circ F_0` (monotone rearrangement).

    In 1-D every monotone map is optimal, so any ResNet flow (which is monotone) is already an OT
    map: 1-D tests check constant speed, not the kinetic selection.
    """
    return lambda x: F1inv(F0(np.asarray(x, dtype=float)))


def gaussian_quantile_map_1d(m0, s0, m1, s1) -> Callable:
    """:math:`T(x) = m_1 + (s_1/s_0)(x - m_0)`, the 1-D Gaussian OT map."""
    if not (s0 > 0 and s1 > 0):
        raise InvalidParameterError(
            f"The 's0' and 's1' parameters of gaussian_quantile_map_1d must be floats in the range "
            f"(0, inf). Got {s0!r}, {s1!r} instead.")
    return lambda x: m1 + (s1 / s0) * (np.asarray(x, dtype=float) - m0)


def w2_gaussian_1d_squared(m0, s0, m1, s1) -> float:
    """:math:`W_2^2 = (m_1-m_0)^2 + (s_1-s_0)^2` between 1-D Gaussians."""
    return float((m1 - m0) ** 2 + (s1 - s0) ** 2)


def normal_to_exponential_map(x):
    r"""OT map from :math:`N(0,1)` to :math:`\mathrm{Exp}(1)`: :math:`T(x) = -\ln(1-\Phi(x))`."""
    from scipy.special import log_ndtr
    return -log_ndtr(-np.asarray(x, dtype=float))


# --------------------------------------------------------------------------------------------
# discrete K-block bound
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class KineticBound:
    r"""The discrete K-block bound :math:`C_K \ge \mathbb E\|x_K - x_0\|^2`.

    Per particle, with :math:`v_k = (x_{k+1}-x_k)/h` and :math:`\bar v = h\sum_k v_k =
    x_K - x_0`, the exact identity

    .. math:: h\sum_k\|v_k\|^2 - \|x_K-x_0\|^2 = h\sum_k \|v_k - \bar v\|^2 \ge 0

    gives the bound and its equality condition (constant step vector, straight line). With
    :math:`\mathbb E\|x_K-x_0\|^2 \ge W_2^2(\rho_0,\rho_K)` (equality iff the map is the Brenier
    map) it gives :math:`C_K \ge W_2^2`.

    Attributes
    ----------
    kinetic_energy : float
        :math:`C_K = h\sum_k \mathbb E\|v_k\|^2`.
    chord_energy : float
        :math:`\mathbb E\|x_K - x_0\|^2` (divided by ``h*K`` when the step is not ``1/K``).
    gap : float
        :math:`\mathbb E\,h\sum_k\|v_k-\bar v\|^2` (``kinetic_energy - chord_energy``).
    block_energies : ndarray, shape (K,)
    """

    kinetic_energy: float
    chord_energy: float
    gap: float
    block_energies: np.ndarray


def discrete_kinetic_energy(path, h=None) -> KineticBound:
    """Kinetic energy, chord energy and the exact gap of particle paths ``(K+1, n, d)``."""
    path = np.asarray(path, dtype=float)
    if path.ndim == 2:
        path = path[..., None]
    if path.ndim != 3 or path.shape[0] < 2:
        raise InvalidParameterError(
            "The 'path' parameter of discrete_kinetic_energy must be an array of shape (K+1, n, d) "
            f"with K >= 1. Got shape {path.shape} instead.")
    K = path.shape[0] - 1
    h = 1.0 / K if h is None else float(h)
    v = np.diff(path, axis=0) / h
    e = np.mean(np.sum(v ** 2, axis=-1), axis=1)
    chord = path[-1] - path[0]
    vbar = chord / (h * K)
    gap = float(np.mean(h * np.sum((v - vbar) ** 2, axis=(0, 2))))
    C = float(h * e.sum())
    # h sum_k |v_k|^2 - |x_K - x_0|^2 / (hK) = h sum_k |v_k - vbar|^2, vbar = (x_K - x_0)/(hK)
    return KineticBound(C, float(np.mean(np.sum(chord ** 2, axis=-1)) / (h * K)), gap, e)


# --------------------------------------------------------------------------------------------
# projection principle
# --------------------------------------------------------------------------------------------
def halfspace_projection_map(x, y, w, b, margin):
    r"""Minimal-kinetic map for the pointwise margin constraints of a fixed linear classifier.

    Point :math:`x_i` of label :math:`y_i\in\{-1,+1\}` must reach the convex set
    :math:`C_{y_i} = \{z: y_i(w\cdot z + b) \ge m\}`; the cheapest admissible map is the projection

    .. math:: T(x) = x + \frac{(m - y(w\cdot x + b))_+}{\|w\|^2}\, y\, w ,

    and points already inside do not move. Projections are not injective (points beyond the
    boundary collapse onto it): a ResNet realises them only approximately.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    if np.any(np.abs(np.abs(y) - 1.0) > 0):
        raise InvalidParameterError(
            f"The 'y' parameter of halfspace_projection_map must hold labels in {{-1, +1}}. Got "
            f"{np.unique(y)[:5].tolist()} instead.")
    s = y * (x @ w + b)
    step = np.clip(margin - s, 0.0, None) / (w @ w)
    return x + (step * y)[:, None] * w


def projection_ot_cost(x, y, w, b, margin) -> float:
    """:math:`C_{OT} = \\frac1N\\sum_i \\|T(x_i) - x_i\\|^2` for :func:`halfspace_projection_map`."""
    T = halfspace_projection_map(x, y, w, b, margin)
    return float(np.mean(np.sum((T - np.asarray(x, float)) ** 2, axis=1)))


# --------------------------------------------------------------------------------------------
# symbolic proofs
# --------------------------------------------------------------------------------------------
def _zero(expr):
    """Simplify a scalar or matrix sympy residual; return it (0 or zero matrix when proven)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: sp.simplify(sp.cancel(sp.expand(e))))
    return sp.simplify(sp.cancel(sp.expand(expr)))


def symbolic_proofs() -> dict:
    r"""Exact symbolic residuals of the identities this module relies on.

    Every value is a sympy expression (or matrix) that simplifies to zero. The 2-D proofs use a
    general symmetric :math:`A = \begin{pmatrix}a&b\\b&c\end{pmatrix}` and general vectors; since
    all the objects involved are rational functions of :math:`A`, the same algebra holds in any
    dimension.

    Keys
    ----
    ``mccann_step``
        :math:`(I+hB_k)M_k - M_{k+1}` with :math:`M_k=(1-t_k)I+t_kA`, :math:`t_{k+1}=t_k+h`:
        the blocks advance the McCann path by one step.
    ``mccann_path``
        :math:`x_{k+1} - x_0 - t_{k+1}(T(x_0)-x_0)` given :math:`x_k - x_0 = t_k(T(x_0)-x_0)`
        (induction step; with :math:`x_0` at :math:`t_0 = 0` this proves
        :math:`x_k - x_0 = t_k(T(x_0)-x_0)` for all k).
    ``block_velocity``
        :math:`v_k(x_k) - (T(x_0)-x_0)`: every particle has the same velocity in every block.
    ``block_energy``
        :math:`\mathbb E\|v_k\|^2 - W_2^2` with :math:`\Sigma_0 = S^2` (S symmetric),
        :math:`\Sigma_1 = A\Sigma_0A`, :math:`(\Sigma_0^{1/2}\Sigma_1\Sigma_0^{1/2})^{1/2} = SAS`.
    ``commuting_2x2``
        W2² of the diagonal (commuting) case minus :math:`\sum_i(r_i-s_i)^2 + \|\Delta m\|^2`.
    ``quantile_map_1d``
        :math:`F_1^{-1}(F_0(x)) - (m_1 + (s_1/s_0)(x-m_0))` for 1-D Gaussians (via erf, erfinv).
    ``w2_1d``
        :math:`\int (T(x)-x)^2\,dN(m_0,s_0^2) - [(m_1-m_0)^2 + (s_1-s_0)^2]`.
    ``k_block_gap``
        :math:`h\sum_k v_k^2 - (h\sum_k v_k)^2 - h\sum_k (v_k-\bar v)^2` for K = 3 symbolic scalar
        steps (the exact gap of the discrete bound; componentwise it holds in any dimension).
    ``halfspace_projection``
        Stationarity of :math:`\|z-x\|^2` on the boundary :math:`w\cdot z = c` at the projection
        (KKT residual, 2-D).
    """
    a, b, c = sp.symbols("a b c", real=True)
    t, h = sp.symbols("t h", real=True)
    A = sp.Matrix([[a, b], [b, c]])
    I = sp.eye(2)
    m0 = sp.Matrix(sp.symbols("m0_1 m0_2", real=True))
    m1 = sp.Matrix(sp.symbols("m1_1 m1_2", real=True))
    x0 = sp.Matrix(sp.symbols("x0_1 x0_2", real=True))
    M = lambda s: (1 - s) * I + s * A  # noqa: E731
    Bk = (A - I) * M(t).inv()
    mk = (1 - t) * m0 + t * m1
    ck = (m1 - m0) - Bk * mk
    T0 = m1 + A * (x0 - m0)
    xk = x0 + t * (T0 - x0)
    vk = Bk * xk + ck
    out = {
        "mccann_step": _zero((I + h * Bk) * M(t) - M(t + h)),
        "mccann_path": _zero(xk + h * vk - x0 - (t + h) * (T0 - x0)),
        "block_velocity": _zero(vk - (T0 - x0)),
    }
    # energy: E||v||^2 = tr((A-I) S0 (A-I)^T) + ||dm||^2 with S0 = S^2; W2^2 with Sigma1 = A S0 A
    p, q, r = sp.symbols("p q r", real=True)
    S = sp.Matrix([[p, q], [q, r]])
    S0 = S * S
    S1 = A * S0 * A
    dm = m1 - m0
    energy = ((A - I) * S0 * (A - I).T).trace() + (dm.T * dm)[0, 0]
    w2 = (dm.T * dm)[0, 0] + (S0 + S1 - 2 * S * A * S).trace()
    out["block_energy"] = _zero(energy - w2)
    # commuting (diagonal) 2x2 case, explicit square roots
    s1, s2, r1, r2 = sp.symbols("s1 s2 r1 r2", positive=True)
    Sig0 = sp.diag(s1 ** 2, s2 ** 2)
    Sig1 = sp.diag(r1 ** 2, r2 ** 2)
    R0 = sp.diag(sp.sqrt(Sig0[0, 0]), sp.sqrt(Sig0[1, 1]))
    mid = R0 * Sig1 * R0
    cross = sp.diag(sp.sqrt(mid[0, 0]), sp.sqrt(mid[1, 1]))
    w2c = (dm.T * dm)[0, 0] + (Sig0 + Sig1 - 2 * cross).trace()
    out["commuting_2x2"] = _zero(w2c - ((r1 - s1) ** 2 + (r2 - s2) ** 2 + (dm.T * dm)[0, 0]))
    # 1-D Gaussian quantile map and W2^2
    x, mu0, mu1 = sp.symbols("x mu0 mu1", real=True)
    sg0, sg1 = sp.symbols("sigma0 sigma1", positive=True)
    F0 = (1 + sp.erf((x - mu0) / (sg0 * sp.sqrt(2)))) / 2
    T1 = mu1 + sg1 * sp.sqrt(2) * sp.erfinv(2 * F0 - 1)
    T1_claim = mu1 + sg1 / sg0 * (x - mu0)
    out["quantile_map_1d"] = _zero(T1 - T1_claim)
    dens = sp.exp(-(x - mu0) ** 2 / (2 * sg0 ** 2)) / (sp.sqrt(2 * sp.pi) * sg0)
    w2_1d = sp.integrate((T1_claim - x) ** 2 * dens, (x, -sp.oo, sp.oo))
    out["w2_1d"] = _zero(w2_1d - ((mu1 - mu0) ** 2 + (sg1 - sg0) ** 2))
    # K-block gap identity, K = 3
    K = 3
    hh = sp.Rational(1, K)
    v = sp.symbols("v0:%d" % K, real=True)
    vbar = hh * sum(v)
    out["k_block_gap"] = _zero(hh * sum(vi ** 2 for vi in v) - vbar ** 2
                               - hh * sum((vi - vbar) ** 2 for vi in v))
    # projection onto {z: w.z >= cc}: z = x + (cc - w.x)_+ w/|w|^2; on the active side the
    # gradient of ||z-x||^2 is parallel to w and the constraint is tight
    w = sp.Matrix(sp.symbols("w1 w2", real=True))
    cc = sp.Symbol("cc", real=True)
    xs = sp.Matrix(sp.symbols("x_1 x_2", real=True))
    z = xs + (cc - (w.T * xs)[0, 0]) / (w.T * w)[0, 0] * w
    grad = 2 * (z - xs)
    lam = (grad.T * w)[0, 0] / (w.T * w)[0, 0]
    out["halfspace_projection"] = _zero(sp.Matrix.vstack(grad - lam * w,
                                                         sp.Matrix([(w.T * z)[0, 0] - cc])))
    return out
