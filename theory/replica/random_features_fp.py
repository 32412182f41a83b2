r"""Franz–Parisi local entropy of the random-feature binary perceptron and its local-entropy
threshold :math:`\alpha_{LE}(\gamma)` — **a reconstruction [R]**.

Not the equations of Baldassi et al., PRE 106, 014116 (2022) (arXiv:2110.00683), which were not
available; derived here for the Gaussian-equivalent model of :mod:`phasekit.theory.replica.random_features`
(spec ``replica.md`` §8) with the Franz–Parisi construction of spec §7. sympy is the source of truth
for the latent log-det (:func:`latent_fp_entropy_derived`).

Model and conventions
---------------------
As in :mod:`~phasekit.theory.replica.random_features`: latent :math:`c\sim N(0,I_D)`, inputs
:math:`x = \mathrm{sign}(Fc/\sqrt D)`, teacher :math:`y = \mathrm{sign}(W_T\cdot c/\sqrt D)`, student
:math:`W\in\{\pm1\}^N`, :math:`\alpha = P/N`, :math:`\gamma = N/D`, :math:`\mu_1`,
:math:`\mu_*^2 = 1-\mu_1^2`; entropies in nats per weight; Hamming distance :math:`d = (1-p)/2`.

Derivation [R]
--------------
*Reference.* :math:`\tilde W` uniform among the solutions of margin :math:`\tilde\kappa`
(:math:`y\,\tilde W\cdot x/\sqrt N \ge \tilde\kappa`). Its RS state :math:`(\tilde q, \hat{\tilde q},
\tilde m, \tilde p_d, \tilde p)` extremises the free entropy of ``perceptron.random_features`` with the
margin put into the energetic term (:class:`RFMarginReference`),

.. math::
    G_E^{\tilde\kappa} = 2\int D\zeta\, H\Big(-\frac{\tilde M\zeta}{\sqrt{\tilde Q_1-\tilde M^2}}\Big)
        \ln H\Big(\frac{\tilde\kappa-\sqrt{\tilde Q_1}\zeta}{\sqrt{\tilde Q_0-\tilde Q_1}}\Big)

(:math:`\zeta\sqrt{\tilde Q_1}` is the common field of the reference replicas, :math:`H(-\tilde M\zeta/\cdot)`
the probability that the teacher field is positive given it; κ̃ = 0 is ``rf_energetic``).
:func:`rf_kappa_max` is the largest κ̃ with non-negative reference entropy.

*Counted solutions.* n → 0 references :math:`\tilde W^c`, r → 0 students :math:`W^a` attached to
:math:`\tilde W^1`. Weight overlaps as in §7: :math:`q` (student–student), :math:`p = 1-2d`
(student–own reference, fixed), :math:`t` (student–other references), conjugates
:math:`\hat q,\hat t,\hat p`. Latent overlaps (:math:`s = F^TW/\sqrt N`, divided by D): :math:`m`
(teacher), :math:`p_d` (self), :math:`p_s` (student–student), :math:`\pi` (student–own reference),
:math:`\tau` (student–other references). The fields ν (teacher), :math:`\tilde\lambda^c`,
:math:`\lambda^a` are jointly Gaussian with :math:`E\nu\lambda = M = \mu_1 m`,
:math:`E\lambda^2 = Q_0 = \mu_1^2p_d+\mu_*^2`, :math:`E\lambda^a\lambda^b = Q_1 = \mu_1^2p_s+\mu_*^2q`,
:math:`E\lambda\tilde\lambda^1 = P = \mu_1^2\pi+\mu_*^2p`, :math:`E\lambda\tilde\lambda^{c\ne1} =
T = \mu_1^2\tau+\mu_*^2 t` (and the reference's :math:`\tilde M,\tilde Q_0,\tilde Q_1`).

*Energetic term.* With y = +1 (factor 2, symmetry ν → −ν), :math:`\nu\ge0`,
:math:`\tilde a = \tilde M\nu + \sqrt{\tilde Q_1-\tilde M^2}\,z_0` the common reference field,
:math:`\tilde\lambda^1 = \tilde a + \sqrt{\tilde Q_0-\tilde Q_1}\,u_1` truncated at its margin
(:math:`u_1\ge\tilde u_0 = (\tilde\kappa-\tilde a)/\sqrt{\tilde Q_0-\tilde Q_1}`, normalised by
:math:`H(\tilde u_0)`: the factor :math:`H^{n-1}\to H^{-1}`), the student field is
:math:`\lambda^a = A + \sqrt{Q_0-Q_1}v_a`, with the Gaussian regression

.. math::
    A = M\nu + c_0z_0 + c_1u_1 + \sqrt{\sigma}\,z_1,\quad
    c_0 = \frac{T-\tilde MM}{\sqrt{\tilde Q_1-\tilde M^2}},\quad
    c_1 = \frac{P-T}{\sqrt{\tilde Q_0-\tilde Q_1}},\quad \sigma = Q_1-M^2-c_0^2-c_1^2,

.. math::
    G_{FP} = 2\int_0^\infty D\nu\int Dz_0\,\frac{1}{H(\tilde u_0)}\int_{\tilde u_0}^\infty Du_1
        \int Dz_1\,\ln H\Big(\frac{\kappa - A}{\sqrt{Q_0-Q_1}}\Big).

*Latent entropic cost.* Averaged over F the latent vectors :math:`(W_{T\tau}, \tilde s^c_\tau,
s^a_\tau)` are i.i.d. Gaussian with covariance :math:`\mathrm{diag}(1, C)`, C the two-level weight
overlap matrix; fixing their empirical covariance S costs the Wishart rate
:math:`\frac12\ln\det(S_{lat}-\mathbf m\mathbf m^T) - \frac12\ln\det C - \frac12\mathrm{tr}(C^{-1}S_{lat})
+ \frac{n+r}2`. For the two-level RS structure (reference 1, the n − 1 others, the r students) the
spectrum is: :math:`A_d-A_o` (multiplicity n − 2), :math:`B_d-B_o` (r − 1) and the three
eigenvalues of the 3×3 matrix acting on :math:`(e_1, \mathbf 1_{n-1}, \mathbf 1_r)`; sympy computes
the rate at symbolic (n, r) and :math:`L_{FP} = \partial_r\,\mathrm{rate}|_{r=0,n=0}`
(the :math:`r^0n^0` term vanishes, the :math:`r^0n^1` term is the reference's L). Closed form
(:func:`latent_fp_entropy_rs`, checked against the derivation), with :math:`\Delta = p_d-p_s`,
:math:`\tilde D = \tilde p_d-\tilde p`, :math:`e = 1-q`, :math:`\tilde e = 1-\tilde q`:

.. math::
    L_{FP} = \tfrac12\ln\frac{\Delta}{e} + \tfrac12 - \frac{\mathcal R}{2\tilde D^2\Delta e^2\tilde e^3},

:math:`\mathcal R` a polynomial (see the source). The Franz–Parisi potential is

.. math::
    S_{FP}(d) = \operatorname{extr}\Big\{-\hat pp + \hat tt - \frac{\hat q(1-q)}2
        + \int D\tilde z[1+\tanh(\sqrt{\hat{\tilde q}}\tilde z)]\int Dz\ln2\cosh\Big(
        \frac{\hat t}{\sqrt{\hat{\tilde q}}}\tilde z + \sqrt{\hat q-\frac{\hat t^2}{\hat{\tilde q}}}z
        + \hat p-\hat t\Big) + \frac1\gamma L_{FP} + \alpha G_{FP}\Big\}

over :math:`(q,t,\hat q,\hat t,\hat p,m,p_d,p_s,\pi,\tau)` (κ = 0 for the counted solutions).

Checks (tests): μ1 → 0 reproduces the storage FP of ``perceptron.local_entropy``; the exact point
:math:`p=\tilde q`, κ̃ = κ (student = one more reference) gives :math:`S_{FP}` = s of
``perceptron.random_features``; α = 0 gives the binary entropy of d.

Results (sign activation, κ = 0, monotone criterion, this implementation, xtol 2e-3)
------------------------------------------------------------------------------------
* γ = 0.01: α_LE = 0.7295 (i.i.d. data: 0.7291, ``local_entropy.alpha_le``), α_c = 0.8340.
* γ = 0.5: α_LE = 0.7632, α_c = 0.8811 (gap 0.118).
* γ = 1: α_LE = 0.8018, α_c = 0.9348 (gap 0.133).
* γ = 2: α_LE = 0.8866, α_c = 1.0563 (gap 0.170).
* At fixed ρ = P/D the critical widths solve γ α(γ) = ρ: γ_c(ρ) < γ_LE(ρ) (e.g. ρ = 0.4:
  γ_c = 0.456, γ_LE ≈ 0.52); wider networks are needed for the dense regions than for fitting.
* Typical reference, α = 0.5, γ = 1: S_FP(d_typ = 0.34948) = s = 0.339784 (exact point).
  Like the i.i.d. case, these are max-margin-reference proxies, not the large-deviation
  (robust-ensemble) thresholds.

Numerics: :math:`\nu\ge0` and :math:`u_1\ge\tilde u_0` by the tanh–sinh rule after
:math:`u = H^{-1}(UH(u_0))` (:func:`~phasekit.solvers._quadrature.truncated_nodes`), :math:`z_0, z_1`
by Gauss–Hermite, σ-derivatives by Gaussian integration by parts; Newton with the analytic Hessian,
continuation in d from the exact point.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.optimize as so
import scipy.special as sc
import sympy as sp

from ..._constraints import check_scalar
from ..._errors import InvalidParameterError, SaddlePointNotConverged
from .._model import Param
from .._symbolic import E, H, logH, mills
from ...solvers._newton import damped_newton
from ...solvers._quadrature import tanh_sinh, truncated_nodes
from .local_entropy import FPKernel, derivative_table
from .random_features import (RandomFeatureStorage, binary_entropic, feature_overlaps,
                              latent_entropy_rs, rf_thresholds)

__all__ = ["RFMarginReference", "rf_energetic_margin", "latent_fp_entropy_rs", "latent_fp_entropy_derived",
           "rf_fp_energetic_symbolic", "rf_reference_state", "rf_kappa_max", "RFLocalEntropyCurve",
           "rf_local_entropy_curve", "rf_le_criterion", "RFLocalEntropyTransition", "rf_alpha_le",
           "RFLEThresholds", "rf_le_thresholds", "rf_interpolation_alpha"]

# --------------------------------------------------------------------------- symbols
alpha, gam, mu1s, kt, kap = sp.symbols("alpha gamma mu1 kappa_tilde kappa", real=True)
q, t, p = sp.symbols("q t p", real=True)
qt = sp.Symbol("q_tilde", real=True)
mt, pdt, pt = sp.symbols("m_tilde pd_tilde p_tilde", real=True)
m, pd, ps, pi_, tau = sp.symbols("m pd ps pi tau", real=True)
zeta, nu, z0, u1, z1 = sp.symbols("zeta nu z_0 u_1 z_1", real=True)
LAT_ARGS = (q, t, m, pd, ps, pi_, tau)          # variables of L_FP that are order parameters
LAT_PARAMS = (p, qt, mt, pdt, pt)               # fixed: p and the reference state


# --------------------------------------------------------------------------- reference with margin
def rf_energetic_margin(M, Q0, Q1, kappa_t=kt, rho=1):
    r""":math:`2\int D\zeta\,H(-M\zeta/\sqrt{\rho Q_1-M^2})\ln H((\tilde\kappa-\sqrt{Q_1}\zeta)/\sqrt{Q_0-Q_1})`."""
    return 2 * E(H(-M * zeta / sp.sqrt(rho * Q1 - M**2)) * logH((kappa_t - sp.sqrt(Q1) * zeta) / sp.sqrt(Q0 - Q1)), zeta)


class RFMarginReference(RandomFeatureStorage):
    r"""[R] ``perceptron.random_features`` restricted to solutions of margin κ̃ (the reference of the
    Franz–Parisi potential): the energetic term is :func:`rf_energetic_margin`. κ̃ = 0 is the
    registered model. Not registered; pass an instance to :func:`phasekit.solve`."""

    name = "perceptron.random_features_margin"
    description = "[R] random-feature binary perceptron, solutions of margin kappa_tilde"
    control = RandomFeatureStorage.control + (
        Param("kappa_tilde", 0.0, math.inf, "left", 0.0, doc="margin of the solutions"),)

    def free_entropy(self):
        M, Q0, Q1 = self.overlaps()
        return binary_entropic() + latent_entropy_rs() / gam + alpha * rf_energetic_margin(M, Q0, Q1)

    @property
    def transitions(self):
        return ()


_REF_MODEL = RFMarginReference()


@functools.lru_cache(maxsize=512)
def rf_reference_state(alpha_value, gamma_value, mu1_value, kappa_tilde_value=0.0):
    r"""RS state of the reference: dict with ``q, qhat, m, p, pd`` and ``entropy`` (nats per weight),
    solved by :class:`RFMarginReference` with continuation in κ̃ from 0 when needed."""
    from ...solvers import solve
    a, g, mu, k = float(alpha_value), float(gamma_value), float(mu1_value), float(kappa_tilde_value)
    if a == 0:
        return {"q": 0.0, "qhat": 0.0, "m": 0.0, "p": 0.0, "pd": 1.0, "entropy": math.log(2.0), "converged": True}
    prm = {"alpha": a, "gamma": g, "mu1": mu, "kappa_tilde": k}
    x0, q_low = None, -math.inf
    if k > 0:       # continuation on a 0.05 ladder of margins; q must grow with the margin
        kl = max(0.0, round(math.ceil(k / 0.05 - 1e-9) * 0.05 - 0.05, 12))
        lower = rf_reference_state(a, g, mu, kl)
        if not lower["converged"]:
            return dict(lower, converged=False)
        x0 = {n: lower[n] for n in ("q", "qhat", "m", "p", "pd")}
        q_low = lower["q"]
    if k == 0 and a > 0.5:      # continuation on a 0.05 ladder of loads from 0.5; q grows with alpha
        al = max(0.5, round(math.ceil(a / 0.05 - 1e-9) * 0.05 - 0.05, 12))
        lower = rf_reference_state(al, g, mu, 0.0)
        if lower["converged"]:
            x0 = {n: lower[n] for n in ("q", "qhat", "m", "p", "pd")}
            q_low = lower["q"]
    r = solve(_REF_MODEL, prm, x0=x0, tol=1e-11)
    if (k > 0 or a > 0.5) and (not r.converged or r.order_parameters["q"] < q_low - 1e-9):
        out = dict(r.order_parameters, entropy=float(r.free_entropy), converged=False)
        return out
    out = dict(r.order_parameters)
    out["entropy"] = float(r.free_entropy)
    out["converged"] = bool(r.converged)
    return out


@functools.lru_cache(maxsize=256)
def rf_kappa_max(alpha_value, gamma_value, mu1_value=math.sqrt(2 / math.pi)):
    r"""Largest reference margin κ̃ with non-negative RS entropy at (α, γ), by ``brentq``; NaN when
    α is beyond the interpolation threshold (no zero-margin solutions)."""
    a, g, mu = float(alpha_value), float(gamma_value), float(mu1_value)

    def s(k):
        r = rf_reference_state(a, g, mu, k)
        if not r["converged"]:
            raise SaddlePointNotConverged(f"the reference state at alpha={a}, gamma={g}, kappa_tilde={k} "
                                          f"did not converge")
        return r["entropy"]
    if s(0.0) <= 0:
        return math.nan
    step = 0.05
    hi = step
    while s(hi) > 0:
        hi = round(hi + step, 12)
    return so.brentq(lambda k: s(round(k, 12)), hi - step, hi, xtol=1e-10)


# --------------------------------------------------------------------------- latent log-det (sympy)
def _two_level(Ad, Ao, Bd, Bo, X1, X2, n, r):
    K = sp.Matrix([[Ad, (n - 1) * Ao, r * X1], [Ao, Ad + (n - 2) * Ao, r * X2],
                   [X1, (n - 1) * X2, Bd + (r - 1) * Bo]])
    return K, Ad - Ao, Bd - Bo


@functools.lru_cache(maxsize=None)
def latent_fp_entropy_derived():
    r"""The two-level RS Wishart rate at symbolic (n, r), returned as ``(L_FP, L_ref, rate00)``:
    :math:`\partial_r` rate at r = 0, n = 0; :math:`\partial_n` rate at r = n = 0; and rate at
    r = n = 0 (zero). Unsimplified sympy expressions (fast to build)."""
    n, r = sp.symbols("n r")
    half = sp.Rational(1, 2)

    def logdet(M):
        K, ea, eb = _two_level(*M, n, r)
        return (n - 2) * sp.log(ea) + (r - 1) * sp.log(eb) + sp.log(K.det())

    def trprod(C, S):
        KC, ca, cb = _two_level(*C, n, r)
        KS, sa, sb = _two_level(*S, n, r)
        return (n - 2) * sa / ca + (r - 1) * sb / cb + (KC.inv() * KS).trace()

    C = (1, qt, 1, q, p, t)
    S = (pdt, pt, pd, ps, pi_, tau)
    Sm = (pdt - mt**2, pt - mt**2, pd - m**2, ps - m**2, pi_ - m * mt, tau - m * mt)
    rate = half * logdet(Sm) - half * logdet(C) - half * trprod(C, S) + (n + r) / 2
    lfp = sp.diff(rate, r).subs(r, 0).subs(n, 0)
    r0 = rate.subs(r, 0)
    return lfp, sp.diff(r0, n).subs(n, 0), r0.subs(n, 0)


@functools.lru_cache(maxsize=None)
def latent_fp_entropy_rs():
    r"""Closed form of :math:`L_{FP}` (module docstring) in the symbols
    ``q, t, p, q_tilde, m, pd, ps, pi, tau, m_tilde, pd_tilde, p_tilde``; equal to
    :func:`latent_fp_entropy_derived` (tested at random points)."""
    Dl, Dt, e, et = pd - ps, pdt - pt, 1 - q, 1 - qt
    R = (3*Dt**3*Dl*e*et*p**2 - 4*Dt**3*Dl*e*et*p*t + Dt**3*Dl*e*et*t**2 - 2*Dt**3*Dl*e*p**2
         + 4*Dt**3*Dl*e*p*t - 2*Dt**3*Dl*e*t**2 + 2*Dt**2*Dl**2*e*et**3 - Dt**2*Dl**2*et**3
         + 2*Dt**2*Dl**2*et**2*p**2 - 2*Dt**2*Dl**2*et**2*p*t - Dt**2*Dl**2*et*p**2
         + 2*Dt**2*Dl**2*et*p*t - Dt**2*Dl**2*et*t**2 - Dt**2*Dl*e**2*et**3 + Dt**2*Dl*e*et**3*ps
         + Dt**2*Dl*e*et**3 - 2*Dt**2*Dl*e*et**2*p**2 - 4*Dt**2*Dl*e*et**2*p*pi_
         + 2*Dt**2*Dl*e*et**2*p*t + 2*Dt**2*Dl*e*et**2*p*tau + 2*Dt**2*Dl*e*et**2*pi_*t
         + Dt**2*Dl*e*et*p**2*pt + Dt**2*Dl*e*et*p**2 - 2*Dt**2*Dl*e*et*p*pt*t + 2*Dt**2*Dl*e*et*p*pi_
         - 2*Dt**2*Dl*e*et*p*t - 2*Dt**2*Dl*e*et*p*tau + Dt**2*Dl*e*et*pt*t**2 - 2*Dt**2*Dl*e*et*pi_*t
         + Dt**2*Dl*e*et*t**2 + 2*Dt**2*Dl*e*et*t*tau + Dt**2*e**2*et**3*m**2 - Dt**2*e**2*et**3*ps
         - 2*Dt*e**2*et**3*m*mt*pi_ + 2*Dt*e**2*et**3*m*mt*tau + Dt*e**2*et**3*pi_**2
         - Dt*e**2*et**3*tau**2 + e**2*et**3*mt**2*pi_**2 - 2*e**2*et**3*mt**2*pi_*tau
         + e**2*et**3*mt**2*tau**2 - e**2*et**3*pt*pi_**2 + 2*e**2*et**3*pt*pi_*tau
         - e**2*et**3*pt*tau**2)
    half = sp.Rational(1, 2)
    return half * (sp.log(Dl / e) + 1) - R / (2 * Dt**2 * Dl * e**2 * et**3)


@functools.lru_cache(maxsize=None)
def _latent_numeric():
    L = latent_fp_entropy_rs()
    args = LAT_ARGS + LAT_PARAMS
    g = [sp.diff(L, v) for v in LAT_ARGS]
    h = [[sp.diff(gi, v) for v in LAT_ARGS] for gi in g]
    gp = sp.diff(L, p)
    f = sp.lambdify(args, [L, g, h, gp], modules="numpy", cse=True)
    return f


# --------------------------------------------------------------------------- energetic (sympy form)
def rf_fp_energetic_symbolic():
    r""":math:`G_{FP}` as a sympy expression (``E`` operators, truncated :math:`u_1` and :math:`\nu`
    as ``sympy.Integral``), symbols ``M, Q0, Q1, P, T, M_tilde, Q0_tilde, Q1_tilde, kappa, kappa_tilde``."""
    M, Q0, Q1, P, T, Mt, Q0t, Q1t = sp.symbols("M Q0 Q1 P T M_tilde Q0_tilde Q1_tilde", real=True)
    s0, s1 = sp.sqrt(Q1t - Mt**2), sp.sqrt(Q0t - Q1t)
    c0, c1 = (T - Mt * M) / s0, (P - T) / s1
    A = M * nu + c0 * z0 + c1 * u1 + sp.sqrt(Q1 - M**2 - c0**2 - c1**2) * z1
    u0 = (kt - Mt * nu - s0 * z0) / s1
    G = sp.exp(-u1**2 / 2) / sp.sqrt(2 * sp.pi)
    Gn = sp.exp(-nu**2 / 2) / sp.sqrt(2 * sp.pi)
    inner = E(logH((kap - A) / sp.sqrt(Q0 - Q1)), z1)
    trunc = sp.Integral(G * inner, (u1, u0, sp.oo)) / H(u0)
    return 2 * sp.Integral(Gn * E(trunc, z0), (nu, 0, sp.oo))


# --------------------------------------------------------------------------- numeric kernel
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


class _RFFPKernel:
    """Energetic term G_FP with gradient and Hessian in y = (M, Q0, Q1, P, T), vectorised on a
    (nu, z0, u1, z1) grid; the weight-level entropic term from local_entropy's kernel."""

    def __init__(self, *, h_nu=0.22, n_z0=24, h_u=0.2, n_z1=16):
        Asym, Dsym, xs, rs, Ls = sp.symbols("A Delta x_arg r_mills L_logH", real=True)
        F = logH((kap - Asym) / sp.sqrt(Dsym))
        keys = ((0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (1, 1), (2, 1), (0, 2))
        tab = derivative_table(F, Asym, Dsym, keys)
        arg = (kap - Asym) / sp.sqrt(Dsym)
        red = [e.subs({logH(arg): Ls}).subs({mills(arg): rs}).subs(Asym, kap - xs * sp.sqrt(Dsym)) for e in tab.values()]
        red = [e.subs({logH(xs): Ls, mills(xs): rs}) for e in red]
        if any(e.has(logH) or e.has(mills) for e in red):     # pragma: no cover
            raise RuntimeError("derivative table did not reduce")
        self._keys = list(tab)
        self._F = sp.lambdify((Dsym, xs, rs, Ls), red, modules=["numpy"], cse=True)
        from ...solvers._quadrature import gauss_hermite
        n0, lw0 = gauss_hermite(n_z0)
        n1, lw1 = gauss_hermite(n_z1)
        self._z0, self._w0 = n0[0], np.exp(lw0)
        self._z1, self._w1 = n1[0], np.exp(lw1)
        Un, Vn, wn = tanh_sinh(h_nu)
        self._nu = np.ravel(truncated_nodes(np.array(0.0), Un, Vn))      # nu >= 0; 2 int_0^inf Dnu = sum(w)
        self._wnu = wn
        self._U, self._V, self._wu = tanh_sinh(h_u)
        self._cache = {}
        self.entropic_kernel = FPKernel()

    def _grid(self, ref):
        Mt, Q0t, Q1t, ktv = ref
        key = ref
        if key not in self._cache:
            s0, s1 = math.sqrt(Q1t - Mt**2), math.sqrt(Q0t - Q1t)
            NU = self._nu[:, None]
            Z0 = self._z0[None, :]
            u0 = (ktv - Mt * NU - s0 * Z0) / s1                       # (nnu, n0)
            U1 = truncated_nodes(u0, self._U, self._V)                  # (nnu, n0, nu)
            W = self._wnu[:, None, None] * self._w0[None, :, None] * self._wu[None, None, :]
            self._cache = {key: (NU[..., None], Z0[..., None], U1, W, s0, s1)}
        return self._cache[key]

    def energetic(self, y, ref, kappa_v=0.0):
        """value, grad (5,), hess (5,5) in y = (M, Q0, Q1, P, T)."""
        M, Q0, Q1, P, T = y
        Mt = ref[0]
        NU, Z0, U1, W, s0, s1 = self._grid(ref)
        c0, c1 = (T - Mt * M) / s0, (P - T) / s1
        sig = Q1 - M**2 - c0**2 - c1**2
        Dl = Q0 - Q1
        if sig < -1e-13 or not Dl > 0:
            return math.nan, np.full(5, np.nan), np.full((5, 5), np.nan)
        a0 = M * NU + c0 * Z0 + c1 * U1                                  # (nnu, n0, nu)
        A = a0[..., None] + math.sqrt(max(sig, 0.0)) * self._z1
        with np.errstate(all="ignore"):
            xa = (kappa_v - A) / math.sqrt(Dl)
            La = sc.log_ndtr(-xa)
            ra = _SQRT_2_OVER_PI / sc.erfcx(xa * _SQRT_HALF)
            vals = self._F(Dl, xa, ra, La)
        Ev = {k: np.tensordot(np.broadcast_to(v, A.shape), self._w1, axes=([-1], [0]))
              for k, v in zip(self._keys, vals)}
        zero = np.zeros_like(a0)
        a_y = [NU - Mt * Z0 / s0 + zero, zero, zero, U1 / s1 + 0 * a0, Z0 / s0 - U1 / s1 + 0 * a0]
        s_y = [-2 * M + 2 * c0 * Mt / s0, 0.0, 1.0, -2 * c1 / s1, -2 * c0 / s0 + 2 * c1 / s1]
        s_yy = np.zeros((5, 5))
        s_yy[0, 0] = -2 - 2 * Mt**2 / s0**2
        s_yy[0, 4] = s_yy[4, 0] = 2 * Mt / s0**2
        s_yy[4, 4] = -2 / s0**2 - 2 / s1**2
        s_yy[3, 3] = -2 / s1**2
        s_yy[3, 4] = s_yy[4, 3] = 2 / s1**2
        D_y = [0.0, 1.0, -1.0, 0.0, 0.0]
        g1 = [Ev[(1, 0)], 0.5 * Ev[(2, 0)], Ev[(0, 1)]]
        h2 = [[Ev[(2, 0)], 0.5 * Ev[(3, 0)], Ev[(1, 1)]],
              [0.5 * Ev[(3, 0)], 0.25 * Ev[(4, 0)], 0.5 * Ev[(2, 1)]],
              [Ev[(1, 1)], 0.5 * Ev[(2, 1)], Ev[(0, 2)]]]
        val = float(np.sum(W * Ev[(0, 0)]))
        vy = [(a_y[i], s_y[i], D_y[i]) for i in range(5)]
        grad = np.array([float(np.sum(W * (g1[0] * vy[i][0] + g1[1] * vy[i][1] + g1[2] * vy[i][2])))
                         for i in range(5)])
        hess = np.zeros((5, 5))
        for i in range(5):
            for j in range(i, 5):
                out = g1[1] * s_yy[i, j]
                for k in range(3):
                    for l_ in range(3):
                        out = out + h2[k][l_] * vy[i][k] * vy[j][l_]
                hess[i, j] = hess[j, i] = float(np.sum(W * out))
        return val, grad, hess


@functools.lru_cache(maxsize=2)
def _kernel():
    return _RFFPKernel()


# order parameters of the FP saddle
NAMES = ("q", "t", "qhat", "that", "phat", "m", "pd", "ps", "pi", "tau")
_LAT_IDX = (0, 1, 5, 6, 7, 8, 9)


def _jacobian(mu1v, pv):
    """y = (M, Q0, Q1, P, T) = J x + c for x in NAMES order."""
    mus2 = 1 - mu1v**2
    J = np.zeros((5, 10))
    J[0, 5] = mu1v
    J[1, 6] = mu1v**2
    J[2, 7], J[2, 0] = mu1v**2, mus2
    J[3, 8] = mu1v**2
    J[4, 9], J[4, 1] = mu1v**2, mus2
    c = np.array([0.0, mus2, 0.0, mus2 * pv, 0.0])
    return J, c


class _Setup:
    """Everything fixed along a curve: controls and the reference state."""

    def __init__(self, a, g, mu, ktv, kappa_v=0.0):
        self.a, self.g, self.mu, self.kt, self.kappa = a, g, mu, ktv, kappa_v
        ref = rf_reference_state(a, g, mu, ktv)
        if not ref["converged"]:
            raise SaddlePointNotConverged(f"The reference state at alpha={a}, gamma={g}, kappa_tilde={ktv} did not "
                                          f"converge; the reference must lie inside its SAT phase.")
        self.ref = ref
        self.qt, self.qth = ref["q"], ref["qhat"]
        Mt, Q0t, Q1t = feature_overlaps(ref["m"], ref["pd"], ref["p"], ref["q"], mu)
        self.ref_y = (float(Mt), float(Q0t), float(Q1t), float(ktv))
        self.free = a == 0
        if self.free:
            self.x_exact = np.array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0], float)
        else:
            rp = ref["p"]
            self.x_exact = np.array([self.qt, self.qt, self.qth, self.qth, self.qth, ref["m"], ref["pd"],
                                     rp, rp, rp], float)

    def evaluate(self, x, dv):
        """phi, gradient (10,), Hessian (10, 10), dphi/dd."""
        x = np.asarray(x, float)
        pv = 1 - 2 * dv
        qq, tt, qh, th, ph = x[:5]
        qth_v = 1.0 if self.free else self.qth
        xe = x[:5] if not self.free else np.array([qq, 0.0, qh, 0.0, ph])
        ev, eg, eh = _kernel().entropic_kernel.entropic(qth_v, xe)
        phi = -ph * pv - qh * (1 - qq) / 2 + th * tt + ev
        g = np.zeros(10)
        hs = np.zeros((10, 10))
        g[0] = qh / 2
        g[1] = th
        g[2:5] = eg
        g[2] += -(1 - qq) / 2
        g[3] += tt
        g[4] += -pv
        hs[2:5, 2:5] = eh
        hs[0, 2] = hs[2, 0] = 0.5
        hs[1, 3] = hs[3, 1] = 1.0
        dd = 2 * ph
        ref = self.ref
        with np.errstate(all="ignore"):
            L, Lg, Lh, Lp = _latent_numeric()(*[x[i] for i in _LAT_IDX], pv, self.qt, ref["m"], ref["pd"], ref["p"])
        idx = np.array(_LAT_IDX)
        if self.free:       # alpha = 0: nothing moves the latent overlaps off L_FP's maximum
            L, Lg, Lh, Lp = 0.0, np.zeros(7), np.zeros((7, 7)), 0.0
        phi += L / self.g
        g[idx] += np.asarray(Lg, float) / self.g
        hs[np.ix_(idx, idx)] += np.asarray(Lh, float) / self.g
        dd += -2 * Lp / self.g
        if self.a > 0:
            J, c = _jacobian(self.mu, pv)
            y = J @ x + c
            v, gy, hy = _kernel().energetic(y, self.ref_y, self.kappa)
            phi += self.a * v
            g += self.a * (J.T @ gy)
            hs += self.a * (J.T @ hy @ J)
            dd += self.a * gy[3] * (-2 * (1 - self.mu**2))
        else:                                  # uniform references: t = that = 0 by symmetry
            g[1], g[3] = tt, th
            hs[1, :] = hs[:, 1] = 0.0
            hs[3, :] = hs[:, 3] = 0.0
            hs[1, 1] = hs[3, 3] = 1.0
            target = {5: 0.0, 6: 1.0, 7: qq, 8: pv, 9: 0.0}      # m, pd, ps, pi, tau (L_FP = 0)
            for i, v in target.items():
                g[i] = x[i] - v
                hs[i, :] = 0.0
                hs[:, i] = 0.0
                hs[i, i] = 1.0
            hs[7, 0] = -1.0
        return float(phi), g, hs, float(dd)

    def feasible(self, x, dv, margin=1e-10):
        x = np.array(x, float)
        if self.free:
            return x
        pv = 1 - 2 * dv
        J, c = _jacobian(self.mu, pv)
        M, Q0, Q1, P, T = J @ x + c
        Mt, Q0t, Q1t, _ = self.ref_y
        need = M**2 + (T - Mt * M)**2 / (Q1t - Mt**2) + (P - T)**2 / (Q0t - Q1t)
        if Q1 < need + margin:
            x[0] = min(x[0] + (need + margin - Q1) / (1 - self.mu**2), 1 - 1e-13)
        need_e = x[3]**2 / self.qth
        if x[2] < need_e + margin:
            x[2] = need_e + margin
        return x


# the P-derivative of G_FP (tanh-sinh over u1 >= u0) has a quadrature noise floor ~1e-6 at d < 0.005
# (q -> 1); S_FP is stationary, hence insensitive to first order, there
_NOISE_FLOOR = 1e-5


def _newton(st, dv, x, tol=1e-10, maxiter=40):
    """Damped Newton (:func:`~phasekit.solvers.damped_newton`); a point whose line search finds no
    descent is accepted at the quadrature noise floor of the gradient. Returns
    ``(x, phi, grad, dphi/dd, converged)``."""
    r = damped_newton(lambda y: st.evaluate(y, dv), st.feasible(x, dv), project=lambda y: st.feasible(y, dv),
                      tol=tol, maxiter=maxiter, max_halvings=14, noise_floor=_NOISE_FLOOR, step_tol=1e-12,
                      require_finite_value=True)
    return r.x, r.value, r.gradient, r.extra, r.converged


def _continue_to(st, hist, target, tol, max_sub=8):
    """Advance the continuation in ``hist`` (list of (d, x)) to ``target``, halving the step on failure."""
    from ...solvers._continuation import advance_path

    def correct(dt, pred):
        x, phi, g, dd, ok = _newton(st, dt, pred, tol)
        return x, ok, (phi, dd, float(np.max(np.abs(g))))

    ok, x, info = advance_path(hist, target, correct, max_fail=max_sub, jump_dims=2)
    return (True, (x, *info)) if ok else (False, None)


def _start_at_dtyp(st, d_typ, tol, n_steps=8):
    """Saddle point at p = q_tilde. Exact (the reference state) when kappa = kappa_tilde; otherwise
    a homotopy in the counted margin from kappa_tilde (exact) down to kappa."""
    x = st.x_exact.copy()
    if st.kt == st.kappa or st.free:
        return x
    target = st.kappa
    ks = np.linspace(st.kt, target, n_steps + 1)[1:]
    prev = [(st.kt, x.copy())]
    try:
        for kv in ks:
            st.kappa = float(kv)
            if len(prev) >= 2:
                (k0, x0), (k1, x1) = prev[-2], prev[-1]
                guess = x1 + (x1 - x0) * (kv - k1) / (k1 - k0)
            else:
                guess = prev[-1][1]
            xn, _, _, _, ok = _newton(st, d_typ, guess.copy(), tol)
            if not ok:
                xn, _, _, _, ok = _newton(st, d_typ, prev[-1][1].copy(), tol)
            if not ok:
                return None
            prev.append((kv, xn))
    finally:
        st.kappa = target
    return prev[-1][1]


@dataclasses.dataclass(frozen=True)
class RFLocalEntropyCurve:
    """S_FP(d) of the random-feature perceptron (nats per weight) on a grid of distances.

    Attributes: ``d``, ``entropy`` (NaN where not converged), ``dS_dd``, ``order_parameters`` (dict
    of arrays, names ``q, t, qhat, that, phat, m, pd, ps, pi, tau``), ``converged``, ``residual``,
    ``params`` (alpha, gamma, mu1, kappa, kappa_tilde), ``reference`` (RS state of the reference),
    ``q_tilde``, ``s_ref``, ``d_typ``, ``message``.
    """

    params: dict
    d: np.ndarray
    entropy: np.ndarray
    dS_dd: np.ndarray
    order_parameters: dict
    converged: np.ndarray
    residual: np.ndarray
    reference: dict
    q_tilde: float
    s_ref: float
    d_typ: float
    message: str = ""


def _check_mu(mu1, where):
    return math.sqrt(2 / math.pi) if mu1 is None else check_scalar(mu1, "mu1", where, float, 0, 1.0, closed="right")


def rf_local_entropy_curve(alpha_value, gamma_value, d, *, mu1=None, kappa_tilde=None, tol=1e-10,
                           _stop_on_negative_slope=False):
    r"""Franz–Parisi local entropy :math:`S_{FP}(d)` of the random-feature perceptron [R].

    Parameters
    ----------
    alpha_value : float
        α = P/N ≥ 0 (below the interpolation threshold).
    gamma_value : float
        γ = N/D > 0.
    d : array_like
        Distances in (0, 1/2).
    mu1 : float in (0, 1], optional
        Default √(2/π) (sign activation).
    kappa_tilde : float or "max", optional
        Reference margin: 0 (default, typical reference) or ``"max"`` (:func:`rf_kappa_max`).

    Returns
    -------
    RFLocalEntropyCurve
    """
    where = "rf_local_entropy_curve"
    a = float(alpha_value) if np.isscalar(alpha_value) else math.nan
    if not (math.isfinite(a) and a >= 0):
        raise InvalidParameterError(f"The 'alpha' parameter of {where} must be a float in the range [0, inf). "
                                    f"Got {alpha_value!r} instead.")
    g = check_scalar(gamma_value, "gamma", where, float, 0, closed="neither")
    mu = _check_mu(mu1, where)
    if kappa_tilde is None:
        ktv = 0.0
    elif isinstance(kappa_tilde, str) and kappa_tilde == "max":
        ktv = rf_kappa_max(a, g, mu)
        if not math.isfinite(ktv):
            raise InvalidParameterError(f"The 'alpha' parameter of {where} must lie below the interpolation "
                                        f"threshold for kappa_tilde='max'. Got {alpha_value!r} instead.")
    else:
        ktv = float(kappa_tilde)
        if not (math.isfinite(ktv) and ktv >= 0):
            raise InvalidParameterError(f"The 'kappa_tilde' parameter of {where} must be 'max' or a float in the "
                                        f"range [0, inf). Got {kappa_tilde!r} instead.")
    dv = np.asarray(d, float).ravel()
    if dv.size == 0 or not np.all((dv > 0) & (dv < 0.5)):
        raise InvalidParameterError(f"The 'd' parameter of {where} must be floats in the range (0, 0.5). "
                                    f"Got {d!r} instead.")
    st = _Setup(a, g, mu, ktv)
    d_typ = (1 - st.qt) / 2
    n = dv.size
    phi, dd, resid = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    X = np.full((n, 10), np.nan)
    conv = np.zeros(n, bool)
    order = np.argsort(dv)
    up = [i for i in order if dv[i] >= d_typ]
    down = [i for i in order[::-1] if dv[i] < d_typ]
    x_start = _start_at_dtyp(st, d_typ, tol)
    for seq in (up, down):
        if x_start is None:
            break
        hist = [(d_typ, x_start.copy())]
        for i in seq:
            ok, out = _continue_to(st, hist, dv[i], tol)
            if ok:
                X[i], phi[i], dd[i], resid[i] = out
                conv[i] = True
                if _stop_on_negative_slope and seq is down and dd[i] < 0:
                    break           # the monotone criterion is already decided (negative)
            else:
                break
    ops = {k: X[:, j] for j, k in enumerate(NAMES)}
    return RFLocalEntropyCurve({"alpha": a, "gamma": g, "mu1": mu, "kappa": 0.0, "kappa_tilde": ktv}, dv, phi,
                               dd, ops, conv, resid, dict(st.ref), st.qt, st.ref["entropy"], d_typ,
                               f"{int(conv.sum())}/{n} points converged")


# --------------------------------------------------------------------------- alpha_LE(gamma)
_LE_GRID = np.geomspace(0.002, 0.08, 24)
_LEAD_IN = (0.25, 0.18, 0.12)          # continuation stepping stones from d_typ (not in the criterion)


def rf_le_criterion(alpha_value, gamma_value, *, mu1=None, d_grid=None):
    r"""Local-entropy criterion at (α, γ), as :func:`~phasekit.theory.replica.local_entropy.le_criterion`
    (``"monotone"``): :math:`\min_d \partial S_{FP}/\partial d` over ``d_grid`` (default 24
    log-spaced distances in [0.002, 0.08]) around the max-margin reference
    :math:`\tilde\kappa = \kappa_{max}(\alpha,\gamma)` (:func:`rf_kappa_max`). Positive while
    S_FP(d) grows monotonically from d = 0. The continuation (from d_typ downwards) stops at the first
    negative slope: the value is then the minimum over the points computed (its sign is decided).
    Returns ``(value, curve)``; NaN if a point failed before the sign was decided, or α is beyond the
    interpolation threshold.
    """
    where = "rf_le_criterion"
    a = check_scalar(alpha_value, "alpha", where, float, 0, closed="neither")
    g = check_scalar(gamma_value, "gamma", where, float, 0, closed="neither")
    mu = _check_mu(mu1, where)
    grid = _LE_GRID if d_grid is None else np.asarray(d_grid, float)
    try:
        kmax = rf_kappa_max(a, g, mu)
    except RuntimeError:            # SaddlePointNotConverged: no reference, beyond the interpolation threshold
        kmax = math.nan
    if not math.isfinite(kmax):
        return math.nan, None
    full = np.concatenate([grid, [v for v in _LEAD_IN if v > grid.max()]])
    c = rf_local_entropy_curve(a, g, full, mu1=mu, kappa_tilde="max", _stop_on_negative_slope=True)
    sel = np.arange(grid.size)
    slopes = c.dS_dd[sel][c.converged[sel]]
    if slopes.size and np.min(slopes) < 0:       # decided: not monotone (remaining points not needed)
        return float(np.min(slopes)), c
    if not np.all(c.converged[sel]):
        return math.nan, c
    return float(np.min(c.dS_dd[sel])), c


@dataclasses.dataclass(frozen=True)
class RFLocalEntropyTransition:
    """α_LE(γ) of the random-feature perceptron [R]: ``value`` (NaN if not bracketed), ``gamma``,
    ``mu1``, the criterion values per α evaluated (``alphas``, ``criterion_values``), ``converged``,
    ``iterations`` (criterion evaluations), ``message``."""

    value: float
    gamma: float
    mu1: float
    alphas: np.ndarray
    criterion_values: np.ndarray
    converged: bool
    iterations: int
    message: str = ""


def rf_alpha_le(gamma_value, *, mu1=None, bracket=None, xtol=2e-3, d_grid=None) -> RFLocalEntropyTransition:
    r"""Local-entropy threshold :math:`\alpha_{LE}(\gamma)` [R]: ``brentq`` in α on
    :func:`rf_le_criterion` (largest α with S_FP(d) around the max-margin reference still growing
    monotonically at small d). Default ``bracket`` (0.55, 0.95·α_c(γ)) where α_c is the
    interpolation threshold at this γ (:func:`rf_interpolation_alpha`).
    """
    where = "rf_alpha_le"
    g = check_scalar(gamma_value, "gamma", where, float, 0, closed="neither")
    mu = _check_mu(mu1, where)
    check_scalar(xtol, "xtol", where, float, 0, closed="neither")
    if bracket is None:
        ac = rf_interpolation_alpha(g, mu1=mu)
        bracket = (0.55, 0.97 * ac)
    lo, hi = (float(b) for b in bracket)
    if not (0 < lo < hi):
        raise InvalidParameterError(f"The 'bracket' parameter of {where} must be a pair 0 < lo < hi. "
                                    f"Got {bracket!r} instead.")
    cache = {}

    def f(a):
        if a not in cache:
            cache[a] = rf_le_criterion(a, g, mu1=mu, d_grid=d_grid)[0]
        return cache[a]

    def pack(val, ok, msg):
        ks = np.array(sorted(cache))
        return RFLocalEntropyTransition(float(val), g, mu, ks, np.array([cache[k] for k in ks]), ok, len(cache), msg)

    flo, fhi = f(lo), f(hi)
    if not (flo > 0 > fhi):
        return pack(math.nan, False, f"no sign change on ({lo:.4g}, {hi:.4g}): criterion {flo:.4g}, {fhi:.4g}")
    try:
        root = so.brentq(f, lo, hi, xtol=xtol)
    except (ValueError, SaddlePointNotConverged) as exc:      # NaN criterion inside the bracket, no reference
        return pack(math.nan, False, f"brentq failed: {exc}")
    return pack(root, True, f"brentq on the monotone criterion, xtol={xtol}")


@functools.lru_cache(maxsize=64)
def rf_interpolation_alpha(gamma_value, *, mu1=None):
    r"""Interpolation threshold :math:`\alpha_c(\gamma)` at fixed γ: zero of the entropy of
    ``perceptron.random_features`` in α (``brentq``, continuation from α = 0.5)."""
    from ...solvers import solve
    from .random_features import RandomFeatureStorage
    g = check_scalar(gamma_value, "gamma", "rf_interpolation_alpha", float, 0, closed="neither")
    mu = _check_mu(mu1, "rf_interpolation_alpha")
    model = RandomFeatureStorage()
    last = {"x": None}

    def s(a):
        r = solve(model, {"alpha": a, "gamma": g, "mu1": mu}, x0=last["x"], tol=1e-11)
        if r.converged:
            last["x"] = r.order_parameters
        return r.free_entropy
    a = 0.6
    while s(a) > 0:
        a += 0.1
    return so.brentq(s, a - 0.1, a, xtol=1e-8)


@dataclasses.dataclass(frozen=True)
class RFLEThresholds:
    r"""Interpolation and local-entropy thresholds versus width at fixed :math:`\rho = P/D` [R].

    ``gammas`` (grid of N/D), ``alpha_le`` and ``alpha_c`` (α = P/N at each γ; NaN where not found),
    ``criterion`` (:func:`rf_le_criterion` at α = ρ/γ), ``converged`` (per grid point),
    ``gamma_c`` (interpolation, from :func:`~phasekit.theory.replica.random_features.rf_thresholds`),
    ``gamma_le`` (smallest width at which the dense regions around the max-margin reference exist,
    zero of the criterion along α = ρ/γ; NaN if not bracketed), ``success``, ``message``.
    """

    p_over_d: float
    mu1: float
    gammas: np.ndarray
    alphas: np.ndarray
    alpha_c: np.ndarray
    criterion: np.ndarray
    converged: np.ndarray
    gamma_c: float
    gamma_le: float
    success: bool
    message: str


def rf_le_thresholds(p_over_d, gammas, *, mu1=None, xtol=2e-3) -> RFLEThresholds:
    r"""At fixed data :math:`\rho = P/D`, walk the widths γ = N/D (α = ρ/γ): the local-entropy
    criterion at each grid point, α_c(γ) of the interpolation threshold, and the two critical widths
    :math:`\gamma_c(\rho)` (interpolation) and :math:`\gamma_{LE}(\rho) > \gamma_c(\rho)`
    (local entropy; ``brentq`` in γ on the criterion between the grid points where it changes sign).
    """
    where = "rf_le_thresholds"
    rho = check_scalar(p_over_d, "p_over_d", where, float, 0, closed="neither")
    mu = _check_mu(mu1, where)
    g = np.atleast_1d(np.asarray(gammas, dtype=float))
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise InvalidParameterError(f"The 'gammas' parameter of {where} must be a non-empty 1-D array of floats "
                                    f"in the range (0, inf). Got {gammas!r} instead.")
    g = np.sort(g)
    crit = np.array([rf_le_criterion(rho / gv, gv, mu1=mu)[0] for gv in g])
    ac = np.array([rf_interpolation_alpha(float(gv), mu1=mu) for gv in g])
    conv = np.isfinite(crit)
    thr = rf_thresholds(rho, g, mu1=mu)
    gamma_le, ok, msg = math.nan, False, "no sign change of the criterion on the grid"
    for a_, b_ in zip(range(g.size - 1), range(1, g.size)):
        if conv[a_] and conv[b_] and crit[a_] < 0 < crit[b_]:
            f = lambda gv: rf_le_criterion(rho / gv, gv, mu1=mu)[0]   # noqa: E731
            try:
                gamma_le = so.brentq(f, g[a_], g[b_], xtol=xtol)
                ok, msg = True, "brentq on the monotone criterion along alpha = rho/gamma"
            except (ValueError, SaddlePointNotConverged) as exc:
                msg = f"brentq failed: {exc}"
            break
    return RFLEThresholds(rho, mu, g, rho / g, ac, crit, conv, float(thr.gamma_c), float(gamma_le),
                          ok and bool(thr.success), msg)
