r"""Binary perceptron on random-feature ("hidden manifold") data: Gaussian-equivalent RS theory.

**Reconstruction [R].** These are *not* the equations of Baldassi, Lauditi, Malatesta, Pacelli,
Perugini, Zecchina, PRE 106, 014116 (2022) (arXiv:2110.00683), which were not available; they are
derived here (sympy is the source of truth, see :func:`latent_entropy_rs`) for the model of the
replica spec §8.

Model and conventions
---------------------
* Latent patterns :math:`c^\mu\in\mathbb R^D`, i.i.d. :math:`N(0, I_D)`, :math:`\mu = 1..P`; fixed
  features :math:`F\in\mathbb R^{N\times D}`, :math:`F_{i\tau}\sim N(0,1)`; inputs
  :math:`x^\mu = \sigma(Fc^\mu/\sqrt D)` with σ odd, :math:`E\sigma(g)^2 = 1` (sign).
* Teacher :math:`y^\mu = \mathrm{sign}(W_T\cdot c^\mu/\sqrt D)`, :math:`W_T` Gaussian,
  :math:`|W_T|^2 = D`. Student :math:`\mathrm{sign}(W\cdot x/\sqrt N)`, :math:`W\in\{\pm1\}^N`.
* Controls :math:`\alpha = P/N`, :math:`\gamma = N/D`, :math:`\mu_1 = E[g\sigma(g)]`,
  :math:`\mu_*^2 = 1-\mu_1^2`. Entropy :math:`s = N^{-1} E\ln\#\{\text{solutions}\}` in **nats per
  weight**; the interpolation (SAT/UNSAT) threshold is its zero.

Derivation
----------
*Gaussian equivalence* (Goldt et al. arXiv:2006.14709): :math:`x \approx \mu_1 Fc/\sqrt D + \mu_* \xi`,
:math:`\xi\sim N(0, I_N)`. With the latent projections :math:`s^a = F^TW^a/\sqrt N\in\mathbb R^D`
of the replicas :math:`a = 1..n`, the student fields :math:`\lambda^a = \mu_1 s^a\cdot c/\sqrt D
+ \mu_* W^a\cdot\xi/\sqrt N` and the teacher field :math:`\nu = W_T\cdot c/\sqrt D` are jointly
Gaussian over :math:`(c,\xi)` with :math:`E\nu^2 = \rho = 1`, :math:`E\lambda\nu = M = \mu_1 m`,
:math:`E\lambda^2 = Q_0 = \mu_1^2 p_d + \mu_*^2`, :math:`E\lambda^a\lambda^b = Q_1 = \mu_1^2 p + \mu_*^2 q`,
where :math:`q = W^a\cdot W^b/N`, :math:`p_d = |s^a|^2/D`, :math:`p = s^a\cdot s^b/D`,
:math:`m = s^a\cdot W_T/D` (RS). The energetic term is the mismatched teacher–student one,

.. math::
    G_E(M, Q_0, Q_1) = 2\int D\zeta\, H\Big(-\frac{M\zeta}{\sqrt{\rho Q_1 - M^2}}\Big)
        \ln H\Big(-\frac{\sqrt{Q_1}\,\zeta}{\sqrt{Q_0 - Q_1}}\Big).

*Entropic cost of the latent overlaps.* Averaged over F (jointly with the replicas), the vectors
:math:`(W_{T\tau}, s^1_\tau, \dots, s^n_\tau)`, :math:`\tau = 1..D`, are i.i.d. Gaussian with
covariance :math:`\Sigma = \mathrm{diag}(1, q_{ab})` given the :math:`W^a` (F is independent of
:math:`W_T`; the norm of :math:`W_T` is typical and costs nothing). Fixing their empirical covariance
:math:`\hat S = \begin{pmatrix}1 & m^T\\ m & p_{ab}\end{pmatrix}` is a Wishart large deviation of
speed D whose rate is the Gaussian relative entropy,

.. math::
    \frac1D\ln P(\hat S) \to -\mathrm{KL}\big(N(0,\hat S)\,\|\,N(0,\Sigma)\big)
    = \tfrac12\ln\det(p - mm^T) - \tfrac12\ln\det q - \tfrac12\operatorname{tr}(q^{-1}p) + \tfrac n2,

(equivalently, the Legendre transform of :math:`-\frac12\ln\det(I - \Sigma K)`, the Gaussian
integral over :math:`s` with conjugates :math:`K`). For RS matrices (sympy: log-det and inverse of
:math:`(a-b)I + b\,\mathbf 1\mathbf 1^T` at symbolic n, coefficient of :math:`n` as :math:`n\to0`):

.. math::
    L(q, p_d, p, m) = \frac12\Big[\ln\frac{p_d - p}{1-q} + \frac{p - m^2}{p_d - p} + 1
        - \frac{p_d + q}{1-q} + \frac{q\,(p_d - p)}{(1-q)^2}\Big] \le 0,

zero only at the typical point :math:`p_d = 1, p = q, m = 0`. Its weight per student weight is
:math:`D/N = 1/\gamma`. The free entropy per weight is

.. math::
    s(\alpha,\gamma,\mu_1) = \operatorname{extr}_{q,\hat q,m,p,p_d}\Big[-\frac{\hat q(1-q)}{2}
        + \int Dz\,\ln 2\cosh(\sqrt{\hat q}z) + \frac1\gamma L(q,p_d,p,m)
        + \alpha\,G_E(\mu_1 m,\ \mu_1^2p_d+\mu_*^2,\ \mu_1^2p+\mu_*^2q)\Big],

the conjugates of :math:`(p_d, p, m)` having been eliminated in closed form (the log-det).
Observables: ``entropy`` = s, ``eps_gen`` :math:`= \arccos(M/\sqrt{Q_0\rho})/\pi`.

Limits and the leading-order closure
------------------------------------
* :math:`\mu_1\to0`: :math:`G_E` no longer depends on :math:`(m,p,p_d)`, which sit at the maximum
  :math:`L = 0`; the binary storage problem at κ = 0 is recovered exactly
  (s = 0.314390 at α = 0.5, :math:`\alpha_c = 0.833079`).
* :math:`\gamma\to0` (:math:`D\gg N`): the weight :math:`1/\gamma` pins :math:`L = 0`, hence
  :math:`m = 0`: the labels look random to the student, storage again.
* Maximising L over :math:`(p_d, p)` alone at fixed :math:`(q, m)` gives :math:`p_d = 1+m^2`,
  :math:`p = q+m^2`, :math:`L = -m^2/(2(1-q))`; with :math:`m = \sqrt\gamma R` this is exactly the
  *leading-order closure* used before (:class:`RandomFeatureLeadingOrder`; its :math:`\hat R`
  extremisation gives the same :math:`-R^2/(2(1-q))`). The full theory also lets the energetic
  term move :math:`(p_d, p)`. Already at first order in γ this matters:
  :math:`s = s_{storage} + \gamma s_1 + O(\gamma^2)` with
  :math:`s_1 = -\frac{\alpha^2}{2} g^T H^{-1} g` (g: gradient of :math:`G_E` in
  :math:`(p_d, p, m)`, H: Hessian of L, both at the storage point); the closure keeps only the
  m-entry, :math:`s_1^{LO} = \frac{\alpha^2}{2}(1-q)g_m^2`. At α = 0.5, sign activation:
  :math:`s_1 = 0.0270`, :math:`s_1^{LO} = 0.0365`. The :math:`(p_d,p)` block of H is indefinite (p is
  an off-diagonal overlap, extremised in the n → 0 sense), and the response *lowers* s: the
  student shrinks the part of :math:`s` orthogonal to :math:`W_T` (:math:`p_d < 1 + m^2`), which
  raises :math:`M/\sqrt{Q_0}`. Thresholds: the full :math:`\alpha_c(\gamma)` lies slightly below the
  closure for γ ≲ 1.5 (0.8811 vs 0.8880 at γ = 0.5, 0.9348 vs 0.9405 at γ = 1) and above it for wider
  networks (1.0563 vs 1.0389 at γ = 2, 1.3259 vs 1.2141 at γ = 4, 1.8441 vs 1.5072 at γ = 8), where
  :math:`p_d` grows (the Wishart fluctuations of :math:`FF^T/D` let W align with the large singular
  directions of F).

References
----------
S. Goldt, M. Mézard, F. Krzakala, L. Zdeborová, PRX 10, 041044 (2020); S. Goldt et al.,
arXiv:2006.14709 (Gaussian equivalence); F. Gerace et al., arXiv:2002.09339; A. Manoel et al.,
arXiv:1701.06981; M. Gabrié et al., arXiv:1805.09785; C. Baldassi et al., PRE 106, 014116 (2022)
(arXiv:2110.00683; setting reconstructed, [R]).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.optimize as so
import sympy as sp

from ..._constraints import check_scalar
from ..._errors import InvalidParameterError, SaddlePointNotConverged
from ..._registry import register_model
from .._model import Branch, EquilibriumModel, Param, Transition
from .._symbolic import E, H, log2cosh, logH

__all__ = ["RandomFeatureStorage", "RandomFeatureLeadingOrder", "random_feature_constants",
           "latent_entropy_rs", "rf_energetic", "RFThresholds", "rf_thresholds", "feature_overlaps",
           "binary_entropic", "check_positive"]

# --------------------------------------------------------------------------- symbols
alpha, gam, mu1s = sp.symbols("alpha gamma mu1", real=True)
q, qhat, m, p, pd = sp.symbols("q qhat m p pd", real=True)
R_, Rhat = sp.symbols("R Rhat", real=True)
z, zeta = sp.symbols("z zeta", real=True)

ALPHA = Param("alpha", 0.0, math.inf, "left", 0.5, doc="load alpha = P/N")
GAMMA = Param("gamma", 0.0, math.inf, "neither", 1.0, doc="N/D (width over latent dimension)")
MU1 = Param("mu1", 0.0, 1.0, "right", math.sqrt(2 / math.pi),
            doc="linear Gaussian-equivalence coefficient mu1 (sign: sqrt(2/pi)); mu_*^2 = 1 - mu1^2")


def random_feature_constants(activation="sign"):
    r"""Gaussian-equivalence constants :math:`\mu_1 = E[g\sigma(g)]`,
    :math:`\mu_*^2 = E\sigma(g)^2 - \mu_1^2`; sign: :math:`\sqrt{2/\pi}`, :math:`\sqrt{1-2/\pi}`.

    For ``"tanh"`` (where :math:`E\sigma^2 \ne 1`) pass ``mu1 / sqrt(mu1**2 + mus**2)`` to the model,
    which assumes :math:`E\sigma^2 = 1` (the student's sign is invariant under rescaling x).
    """
    if activation == "sign":
        return math.sqrt(2 / math.pi), math.sqrt(1 - 2 / math.pi)
    if activation == "tanh":
        from scipy import integrate
        g = lambda x, f: f(x) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        mu1 = integrate.quad(lambda x: g(x, lambda y: y * math.tanh(y)), -12, 12)[0]
        m2 = integrate.quad(lambda x: g(x, lambda y: math.tanh(y) ** 2), -12, 12)[0]
        return mu1, math.sqrt(m2 - mu1**2)
    raise InvalidParameterError(f"The 'activation' parameter of random_feature_constants must be one of "
                                f"sign, tanh. Got {activation!r} instead.")


# --------------------------------------------------------------------------- derivation (sympy)
def _rs_logdet(a, b, n):
    """ln det of the n x n RS matrix (a - b) I + b 11^T."""
    return (n - 1) * sp.log(a - b) + sp.log(a - b + n * b)


def _rs_inverse(a, b, n):
    """(diagonal, off-diagonal) entries of the inverse of the RS matrix (a, b)."""
    off = -b / ((a - b) * (a - b + n * b))
    return 1 / (a - b) + off, off


def _rs_trace_product(A, B, n):
    """tr(A B) for RS matrices given as (diagonal, off-diagonal)."""
    return n * (A[0] * B[0] + (n - 1) * A[1] * B[1])


@functools.lru_cache(maxsize=None)
def latent_entropy_rs():
    r"""The RS entropic cost L(q, p_d, p, m) of the latent overlaps (per latent dimension,
    per replica, n → 0), derived in sympy from the Wishart large-deviation rate
    :math:`\frac12\ln\det(p-mm^T) - \frac12\ln\det q - \frac12\mathrm{tr}(q^{-1}p) + \frac n2`
    at symbolic n: the coefficient of n of its series at n = 0 (the n⁰ term vanishes identically).

    Returns a sympy expression in the symbols ``q, pd, p, m``.
    """
    n = sp.Symbol("n")
    half = sp.Rational(1, 2)
    rate = (half * _rs_logdet(pd - m**2, p - m**2, n) - half * _rs_logdet(1, q, n)
            - half * _rs_trace_product(_rs_inverse(1, q, n), (pd, p), n) + n / 2)
    ser = sp.expand(sp.series(rate, n, 0, 2).removeO())
    if sp.simplify(ser.coeff(n, 0)) != 0:       # pragma: no cover - a derivation error
        raise RuntimeError("latent_entropy_rs: the n^0 term does not vanish")
    lrs = ser.coeff(n, 1)
    # the readable form of the module docstring; sympy checks it is the same function
    readable = half * (sp.log((pd - p) / (1 - q)) + (p - m**2) / (pd - p) + 1 - (pd + q) / (1 - q)
                       + q * (pd - p) / (1 - q)**2)
    if sp.simplify(sp.expand_log(lrs - readable, force=True)) != 0:  # pragma: no cover
        raise RuntimeError("latent_entropy_rs: closed form and derivation disagree")
    return readable


def feature_overlaps(m_, pd_, p_, q_, mu1_):
    """Gaussian-equivalent overlaps (M, Q0, Q1) of the features from the latent overlaps (m, pd, p, q)."""
    mus2 = 1 - mu1_**2
    return mu1_ * m_, mu1_**2 * pd_ + mus2, mu1_**2 * p_ + mus2 * q_


def rf_energetic(M, Q0, Q1, rho=1):
    r""":math:`G_E(M,Q_0,Q_1) = 2\int D\zeta\,H(-M\zeta/\sqrt{\rho Q_1-M^2})\ln H(-\sqrt{Q_1}\zeta/\sqrt{Q_0-Q_1})`
    as a sympy expression (zero temperature, ρ = E ν²)."""
    return 2 * E(H(-M * zeta / sp.sqrt(rho * Q1 - M**2)) * logH(-sp.sqrt(Q1) * zeta / sp.sqrt(Q0 - Q1)), zeta)


def binary_entropic():
    """RS entropic term of binary weights, -qhat (1 - q)/2 + E ln 2cosh(sqrt(qhat) z), in sympy."""
    return -qhat * (1 - q) / 2 + E(log2cosh(sp.sqrt(qhat) * z), z)


# --------------------------------------------------------------------------- the model
def _start(params):
    g = params.get("gamma", 1.0)
    mu = params.get("mu1", 0.8)
    m0 = 0.25 * mu * g / math.sqrt(1 + g)          # m = O(gamma) for D >> N
    return {"q": 0.35, "qhat": 0.7, "m": m0, "p": 0.35 + m0**2, "pd": 1.0 + m0**2}


_TRANSITION = Transition("interpolation", "zero", along="alpha", branch="rs", observable="entropy",
                         search=(0.05, 2.5), doc="[R] zero entropy: SAT/UNSAT (interpolation) threshold")


@register_model("perceptron.random_features")
class RandomFeatureStorage(EquilibriumModel):
    r"""**Reconstruction [R]** (not the equations of Baldassi et al., PRE 106, 014116 (2022)):
    binary perceptron student on random-feature ("hidden manifold") data, Gaussian-equivalent RS
    with the full entropic cost of the latent projections.

    .. math::
        s = \operatorname{extr}_{q,\hat q,m,p,p_d}\Big[-\frac{\hat q(1-q)}{2}
            + \int Dz\,\ln 2\cosh(\sqrt{\hat q}z) + \frac1\gamma L(q,p_d,p,m)
            + \alpha\,G_E(\mu_1 m,\ \mu_1^2p_d+\mu_*^2,\ \mu_1^2p+\mu_*^2q)\Big]

    with :math:`L` from :func:`latent_entropy_rs` and :math:`G_E` from :func:`rf_energetic`; see the
    module docstring for the derivation, conventions (α = P/N, γ = N/D, nats per weight) and limits.

    Examples
    --------
    >>> import phasekit as pk
    >>> from phasekit.theory.replica import random_features as rf
    >>> r = pk.solve(rf.RandomFeatureStorage(), {"alpha": 0.5, "gamma": 1.0, "mu1": 1e-9})
    >>> round(r.free_entropy, 6)          # mu1 -> 0: binary storage, spec §3
    0.31439
    """

    description = ("[R] Binary perceptron on random-feature (hidden-manifold) data, Gaussian-equivalent RS "
                   "with the Wishart (log-det) cost of the latent overlaps")
    references = ("S. Goldt, M. Mezard, F. Krzakala, L. Zdeborova, PRX 10, 041044 (2020)",
                  "S. Goldt et al., arXiv:2006.14709 (Gaussian equivalence)",
                  "C. Baldassi et al., PRE 106, 014116 (2022) (model reconstructed, [R])")
    control = (ALPHA, GAMMA, MU1)
    order = (Param("q", 0.0, 1.0, "left", 0.35, doc="overlap of two solutions W.W'/N"),
             Param("qhat", 0.0, math.inf, "left", 0.7, doc="conjugate of q"),
             Param("m", -math.inf, math.inf, "neither", 0.1, doc="latent teacher overlap s.W_T/D, s = F^T W/sqrt(N)"),
             Param("p", -math.inf, math.inf, "neither", 0.4, doc="latent overlap of two solutions s.s'/D"),
             Param("pd", 0.0, math.inf, "neither", 1.0, doc="latent self-overlap |s|^2/D"))
    branches = (Branch("rs", _start, "replica-symmetric solution (Newton on the stationarity conditions)"),)
    nodes = {1: 121}

    def overlaps(self):
        """(M, Q0, Q1) of the Gaussian-equivalent fields as sympy expressions."""
        return feature_overlaps(m, pd, p, q, mu1s)

    def free_entropy(self):
        M, Q0, Q1 = self.overlaps()
        return binary_entropic() + latent_entropy_rs() / gam + alpha * rf_energetic(M, Q0, Q1)

    def observables(self):
        M, Q0, Q1 = self.overlaps()
        return {"entropy": self.phi_symbol, "eps_gen": sp.acos(M / sp.sqrt(Q0)) / sp.pi,
                "latent_cost": latent_entropy_rs() / gam}

    @property
    def transitions(self):
        return (_TRANSITION,)


class RandomFeatureLeadingOrder(EquilibriumModel):
    r"""The leading-order closure [R] (the previous ``perceptron.random_features``), for comparison:
    :math:`p_d = 1+\gamma R^2`, :math:`p = q+\gamma R^2`, :math:`m = \sqrt\gamma R`, i.e. the full
    theory with :math:`(p_d, p)` at the maximum of the entropic cost alone.

    .. math::
        s = \operatorname{extr}\Big[-\frac{\hat q(1-q)}{2} - \hat RR
            + \int Dz\,\ln 2\cosh(\sqrt{\hat q+\hat R^2}\,z) + \alpha G_E(M,Q_0,Q_1)\Big]

    Not registered; pass an instance to :func:`phasekit.solve`.
    """

    name = "perceptron.random_features_leading_order"
    description = "[R] leading-order closure of the random-feature binary perceptron"
    control = (ALPHA, GAMMA, MU1)
    order = (Param("q", 0.0, 1.0, "left", 0.3), Param("qhat", 0.0, math.inf, "left", 0.5),
             Param("R", -1.0, 1.0, "neither", 0.1, doc="overlap of W with v = F W_T/sqrt(D)"),
             Param("Rhat", -math.inf, math.inf, "neither", 0.1))
    branches = (Branch("rs", lambda prm: {"q": 0.3, "qhat": 0.5, "R": 0.05, "Rhat": 0.05}),)
    nodes = {1: 121}

    def overlaps(self):
        return feature_overlaps(sp.sqrt(gam) * R_, 1 + gam * R_**2, q + gam * R_**2, q, mu1s)

    def free_entropy(self):
        M, Q0, Q1 = self.overlaps()
        ent = -qhat * (1 - q) / 2 - Rhat * R_ + E(log2cosh(sp.sqrt(qhat + Rhat**2) * z), z)
        return ent + alpha * rf_energetic(M, Q0, Q1)

    def observables(self):
        M, Q0, Q1 = self.overlaps()
        return {"entropy": self.phi_symbol, "eps_gen": sp.acos(M / sp.sqrt(Q0)) / sp.pi}

    @property
    def transitions(self):
        return (_TRANSITION,)


# --------------------------------------------------------------------------- thresholds at fixed P/D
@dataclasses.dataclass(frozen=True)
class RFThresholds:
    r"""Interpolation threshold at fixed :math:`\rho = P/D` as a function of the width γ = N/D.

    Attributes
    ----------
    p_over_d : float
        :math:`\rho = P/D`.
    mu1 : float
    gamma_c : float
        Smallest width N/D with non-negative entropy (the data can be fitted), zero of
        :math:`s(\alpha = \rho/\gamma, \gamma)`; NaN when not bracketed.
    alpha_c : float
        :math:`\rho/\gamma_c = P/N` at the threshold.
    order_parameters : dict
        The saddle point at the threshold.
    gammas, alphas, entropy, eps_gen : numpy.ndarray
        The curve :math:`s(\gamma)` (nats per weight) on the grid, α = ρ/γ.
    converged : numpy.ndarray of bool
        Status per grid point.
    success : bool
        Threshold bracketed and refined with a converged saddle point.
    iterations : int
        Function evaluations of the root finder.
    residual : float
        |s| at the returned γ_c.
    message : str
    """

    p_over_d: float
    mu1: float
    gamma_c: float
    alpha_c: float
    order_parameters: dict
    gammas: np.ndarray
    alphas: np.ndarray
    entropy: np.ndarray
    eps_gen: np.ndarray
    converged: np.ndarray
    success: bool
    iterations: int
    residual: float
    message: str


def check_positive(v, name, where, hi=math.inf, hi_closed=False):
    """``float(v)`` if it lies in (0, hi) (or (0, hi]): :func:`phasekit._constraints.check_scalar`."""
    return check_scalar(v, name, where, float, 0, hi, closed="right" if hi_closed else "neither")


def rf_thresholds(p_over_d, gammas=None, *, mu1=None, model=None, tol=1e-10, xtol=1e-8):
    r"""Interpolation threshold versus width at fixed data :math:`\rho = P/D`.

    Along the path :math:`\alpha = \rho/\gamma` the entropy per weight
    :math:`s(\rho/\gamma, \gamma)` of ``perceptron.random_features`` is followed by continuation
    from wide networks (small α, s > 0) to narrow ones; :math:`\gamma_c` is its zero, the smallest
    N/D at which the P = ρD patterns can be fitted (RS, [R]).

    Parameters
    ----------
    p_over_d : float
        :math:`\rho = P/D > 0`.
    gammas : array_like, optional
        Grid of γ = N/D (> 0) for the curve; default 25 points geometric in
        :math:`[0.4\rho, 4\rho]`, clipped to :math:`\alpha = \rho/\gamma \le 3`. The threshold is
        searched on the grid plus a wide-network tail.
    mu1 : float in (0, 1], optional
        Default :math:`\sqrt{2/\pi}` (sign activation).
    model : EquilibriumModel, optional
        Default :class:`RandomFeatureStorage`; :class:`RandomFeatureLeadingOrder` for comparison.
    tol : float
        Saddle-point tolerance.
    xtol : float
        Tolerance of ``brentq`` on γ.

    Returns
    -------
    RFThresholds

    Examples
    --------
    >>> from phasekit.theory.replica.random_features import rf_thresholds
    >>> r = rf_thresholds(1.0, [1.0, 1.5, 2.0])
    >>> r.success and 1.0 < r.gamma_c < 1.2
    True
    """
    from ...solvers import solve
    where = "rf_thresholds"
    rho = check_scalar(p_over_d, "p_over_d", where, float, 0, closed="neither")
    mu = math.sqrt(2 / math.pi) if mu1 is None else check_scalar(mu1, "mu1", where, float, 0, 1.0, closed="right")
    check_scalar(tol, "tol", where, float, 0, closed="neither")
    check_scalar(xtol, "xtol", where, float, 0, closed="neither")
    model = RandomFeatureStorage() if model is None else model
    if gammas is None:
        gammas = np.geomspace(max(0.4 * rho, rho / 3.0), 4 * rho, 25)
    g = np.atleast_1d(np.asarray(gammas, dtype=float))
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise InvalidParameterError(f"The 'gammas' parameter of {where} must be a non-empty 1-D array of "
                                    f"floats in the range (0, inf). Got {gammas!r} instead.")
    grid = np.unique(np.concatenate([g, [2.5 * rho, 4.0 * rho, 8.0 * rho]]))[::-1]   # wide -> narrow

    def at(gv, x0):
        return solve(model, {"alpha": rho / gv, "gamma": gv, "mu1": mu}, x0=x0, tol=tol)

    sols, x0 = {}, None
    for gv in grid:
        r = at(gv, x0)
        if not r.converged and x0 is not None:
            r = at(gv, None)
        sols[gv] = r
        if r.converged:
            x0 = r.order_parameters
    # not UNSAT yet at the narrowest grid point: go on to narrower networks (alpha up to 6)
    gv = grid[-1]
    while x0 is not None and sols[grid[-1]].converged and sols[grid[-1]].free_entropy > 0 and rho / gv < 6.0:
        gv = gv / 1.25
        r = at(gv, x0)
        sols[gv] = r
        grid = np.append(grid, gv)
        if r.converged:
            x0 = r.order_parameters
    s_of = {gv: (r.free_entropy if r.converged else math.nan) for gv, r in sols.items()}

    gamma_c, op, res, its, ok = math.nan, {}, math.nan, 0, False
    msg = "no sign change of the entropy on the grid"
    pts = [gv for gv in grid if np.isfinite(s_of[gv])]           # decreasing gamma
    for a, b in zip(pts[:-1], pts[1:]):
        if s_of[a] > 0 >= s_of[b]:
            cache = {"x0": sols[a].order_parameters}
            count = [0]

            def f(gv):
                count[0] += 1
                r = at(gv, cache["x0"])
                if not r.converged:
                    raise SaddlePointNotConverged(r.message)
                cache["x0"], cache["last"] = r.order_parameters, r
                return r.free_entropy
            try:
                gamma_c = so.brentq(f, b, a, xtol=xtol, rtol=1e-12)
                last = at(gamma_c, cache["x0"])
                op, res, ok = dict(last.order_parameters), abs(last.free_entropy), bool(last.converged)
                msg = "converged" if ok else last.message
            except RuntimeError as exc:
                msg = f"saddle point failed while refining: {exc}"
            its = count[0]
            break
    order = np.argsort(grid)
    keep = np.isin(grid[order], g)
    gs = grid[order][keep]
    ent = np.array([s_of[v] for v in gs])
    eps = np.array([sols[v].observables.get("eps_gen", math.nan) if sols[v].converged else math.nan for v in gs])
    conv = np.array([bool(sols[v].converged) for v in gs])
    return RFThresholds(rho, mu, float(gamma_c), float(rho / gamma_c) if ok else math.nan, op, gs, rho / gs,
                        ent, eps, conv, ok, its, float(res), msg)
