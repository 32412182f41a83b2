r"""Franz–Parisi local entropy of the binary perceptron, the local-entropy transition α_LE, the
Ising teacher–student margin variant (the random-feature student [R] is in
:mod:`phasekit.theory.replica.random_features`).

Conventions
-----------
* :math:`\alpha = P/N`; binary weights :math:`W\in\{\pm1\}^N`; entropies in **nats per weight**.
* Reference solution :math:`\tilde W` drawn uniformly among the solutions of margin
  :math:`\tilde\kappa` (typical reference: :math:`\tilde\kappa = \kappa`; atypical, high-margin
  proxy of arXiv:2107.01163: :math:`\tilde\kappa = \kappa_{max}(\alpha)`, the RS zero-entropy
  margin of ``perceptron.binary_storage``). Its RS order parameters :math:`\tilde q, \hat{\tilde q}`
  come from ``perceptron.binary_storage`` at :math:`(\alpha, \tilde\kappa)`.
* Hamming distance :math:`d = (1-p)/2`, :math:`p = W\cdot\tilde W/N`.

The Franz–Parisi potential (spec ``replica.md`` §7, RS)

.. math::
    S_{FP}(p) = \operatorname{extr}_{q,t,\hat q,\hat t,\hat p}\Big\{-\hat p p + \hat t t
        - \frac{\hat q(1-q)}{2}
        + \int D\tilde z\,[1+\tanh(\sqrt{\hat{\tilde q}}\tilde z)]\int Dz\,
          \ln 2\cosh\Big(\frac{\hat t}{\sqrt{\hat{\tilde q}}}\tilde z
          + \sqrt{\hat q - \hat t^2/\hat{\tilde q}}\,z + \hat p - \hat t\Big)
        + \alpha\int Dz_0\,\frac{1}{H(\tilde u_0)}\int_{\tilde u_0}^\infty Du_1\int Dz_1\,
          \ln H\Big(\frac{\kappa - A}{\sqrt{1-q}}\Big)\Big\},

:math:`\tilde u_0 = (\tilde\kappa - \sqrt{\tilde q} z_0)/\sqrt{1-\tilde q}`,
:math:`A = \frac{t}{\sqrt{\tilde q}} z_0 + \frac{p-t}{\sqrt{1-\tilde q}} u_1
+ \sqrt{q - t^2/\tilde q - (p-t)^2/(1-\tilde q)}\, z_1`.

How it is evaluated
-------------------
The free entropy is written with :func:`~phasekit.theory.E` (the truncated :math:`u_1` integral
as a ``sympy.Integral``); the stationarity conditions and the Hessian come from ``sympy.diff``
**of the integrands**, with Gaussian integration by parts over :math:`z` and :math:`z_1`
(:func:`~phasekit.theory.gaussian_ibp`), which removes the :math:`1/\sqrt{\cdot}` singularities
of the square roots at the exact point :math:`p=\tilde q` (where both vanish). The compiled
quadrature of ``compile_expr`` has no rule for a truncated Gaussian, so this module carries its
own numeric kernel (tied to the symbolic form by ``tests/theory/replica/test_local_entropy.py``): the
change of variables :math:`u_1 = H^{-1}(U\,H(\tilde u_0))`, :math:`U\in(0,1)`, turns
:math:`H(\tilde u_0)^{-1}\int_{\tilde u_0}^\infty Du_1 f(u_1)` into :math:`\int_0^1 dU\,f(u_1(U))`,
integrated by the tanh–sinh rule (exact on constants, so :math:`S_{FP}(\tilde q) = s_{eq}` holds
to rounding); :math:`z_0, z_1` by Gauss–Hermite, :math:`(\tilde z, z)` by the trapezoidal rule.

Curves :math:`S_{FP}(d)` are followed by continuation in ``d`` from the exact point
:math:`p = \tilde q` (:math:`q=t=\tilde q`, :math:`\hat q=\hat t=\hat p=\hat{\tilde q}`,
:math:`S_{FP}=s_{eq}`), see :func:`local_entropy_curve`.

Results (κ = 0, RS, this implementation)
----------------------------------------
* Typical reference, α = 0.5: :math:`S_{FP}(\tilde q) = s_{eq} = 0.3143901`, maximum at
  :math:`d_{typ} = 0.33881`, :math:`S_{FP}(0.002) = -0.0082 < 0` (isolated typical solutions).
* Max-margin reference :math:`\tilde\kappa = \kappa_{max}(\alpha)`: :math:`S_{FP}(d)` grows
  monotonically from d = 0 up to :math:`\alpha_{LE} = 0.7291` (criterion ``"monotone"``) and stays
  non-negative up to 0.7477 (``"positive"``). Both lie **below** the literature's 0.77–0.78, which
  comes from the large-deviation (robust-ensemble) analyses; the max-margin reference is
  only a proxy for the densest regions (it is not the reference of maximal local entropy), so a
  lower threshold is expected from it. The large-deviation computation itself is
  :mod:`phasekit.theory.replica.local_entropy_ld`: its transition at y = 5 is α_U = 0.7816 ± 0.0008, inside
  the literature's range (not converged in y).

References
----------
S. Franz, G. Parisi, J. Phys. I France 5, 1401 (1995); H. Huang, Y. Kabashima, PRE 90, 052813
(2014); C. Baldassi et al., PRL 115, 128101 (2015) (arXiv:1509.05753); PRL 127, 278301 (2021)
(arXiv:2107.01163); PRE 106, 014116 (2022) (arXiv:2110.00683).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.optimize as so
import scipy.special as sc
import sympy as sp

from ..._errors import InvalidParameterError, SaddlePointNotConverged
from ..._registry import register_model
from .._compile import NUMPY_FUNCTIONS
from .._model import Branch, EquilibriumModel, Param, Transition
from .._symbolic import E, G, H, log2cosh, logH, mills
from ...solvers._newton import damped_newton
from ...solvers._quadrature import tanh_sinh, truncated_nodes

__all__ = [
    "LocalEntropy", "IsingTeacherMargin", "KernelModel",
    "LocalEntropyCurve", "local_entropy_curve", "reference_state", "binary_kappa_max",
    "alpha_le", "le_criterion", "LocalEntropyTransition", "fp_energetic_reference",
    "FPKernel", "derivative_table",
]

#: Former private name (the rule now lives in :mod:`phasekit.solvers._quadrature`).
_tanh_sinh = tanh_sinh

# --------------------------------------------------------------------------- symbols
alpha, kappa, kt, d = sp.symbols("alpha kappa kappa_tilde d", real=True)
q, t, qhat, that, phat = sp.symbols("q t qhat that phat", real=True)
qt, qth = sp.symbols("q_tilde qhat_tilde", positive=True)
zt, z, z0, u1, z1 = sp.symbols("z_tilde z z_0 u_1 z_1", real=True)
p_sym = 1 - 2 * d

ALPHA = Param("alpha", 0.0, math.inf, "left", None, doc="load alpha = P/N")
KAPPA = Param("kappa", 0.0, math.inf, "left", 0.0, doc="margin of the counted solutions W")
KAPPA_T = Param("kappa_tilde", 0.0, math.inf, "left", 0.0, latex="kappa_tilde",
                doc="margin of the reference (kappa_tilde = kappa: typical; kappa_max: high-margin)")
DIST = Param("d", 0.0, 0.5, "neither", 0.1, doc="Hamming distance d = (1 - p)/2 from the reference")
ORDER = (
    Param("q", 0.0, 1.0, "left", 0.5, doc="overlap of two solutions at distance d"),
    Param("t", -1.0, 1.0, "neither", 0.3, doc="overlap with the other references"),
    Param("qhat", 0.0, math.inf, "left", 1.0, doc="conjugate of q"),
    Param("that", -math.inf, math.inf, "neither", 1.0, doc="conjugate of t"),
    Param("phat", -math.inf, math.inf, "neither", 1.0, doc="conjugate of p (Lagrange multiplier of d)"),
)
ORDER_SYMS = (q, t, qhat, that, phat)


def _u0():
    return (kt - sp.sqrt(qt) * z0) / sp.sqrt(1 - qt)


def _field_A():
    p = p_sym
    return (t / sp.sqrt(qt) * z0 + (p - t) / sp.sqrt(1 - qt) * u1
            + sp.sqrt(q - t**2 / qt - (p - t)**2 / (1 - qt)) * z1)


def _entropic_inner(teacher=False):
    """E_z ln 2cosh(...) of the student field, as a GaussE over z (z~ stays a free symbol)."""
    arg = that / sp.sqrt(qth) * zt + sp.sqrt(qhat - that**2 / qth) * z + phat - that
    if not teacher:
        return E(log2cosh(arg), z)
    # teacher gauge W* = +1: the HS field of the references is sqrt(qth) z~ + qth, the student
    # couples to the teacher through that; sigma = +-1 is the reference's own weight.
    base = that / sp.sqrt(qth) * zt + that + sp.sqrt(qhat - that**2 / qth) * z
    return (E(log2cosh(base + phat - that), z), E(log2cosh(base - phat + that), z))


def _entropic_weight(teacher=False):
    if not teacher:
        return 1 + sp.tanh(sp.sqrt(qth) * zt)
    h = sp.sqrt(qth) * zt + qth
    return ((1 + sp.tanh(h)) / 2, (1 - sp.tanh(h)) / 2)


def _energetic_inner(teacher=False):
    """E_{z_1} ln H((kappa - A)/sqrt(1-q)) as a GaussE over z_1."""
    return E(logH((kappa - _field_A()) / sp.sqrt(1 - q)), z1)


def fp_free_entropy_symbolic(teacher=False):
    r"""The Franz–Parisi free entropy as one sympy expression (spec §7), with ``d`` for p."""
    p = p_sym
    if not teacher:
        ent = E(_entropic_weight() * _entropic_inner(), zt)
        en = E(sp.Integral(G(u1) * _energetic_inner(), (u1, _u0(), sp.oo)) / H(_u0()), z0)
        outer = -phat * p + that * t - qhat * (1 - q) / 2
    else:
        (w1, w2), (f1, f2) = _entropic_weight(True), _entropic_inner(True)
        ent = E(w1 * f1 + w2 * f2, zt)
        en = 2 * E(sp.Integral(G(u1) * _energetic_inner(True), (u1, _u0(), sp.oo)), z0)
        outer = -phat * p - qhat * (1 - q) / 2
    return outer + ent + alpha * en


# --------------------------------------------------------------------------- numeric kernel
def derivative_table(f, arg, extra=None, orders=((0, 0), (1, 0), (2, 0), (3, 0), (4, 0))):
    """sympy derivatives d^n/d arg^n d^m/d extra^m of ``f`` for (n, m) in ``orders``."""
    out = {}
    for n, m in orders:
        e = sp.diff(f, arg, n) if n else f
        if m:
            e = sp.diff(e, extra, m)
        out[(n, m)] = e
    return out


def _lambdify(args, exprs):
    return sp.lambdify(args, list(exprs), modules=[NUMPY_FUNCTIONS, "numpy", "scipy"], cse=True)


_Asym = sp.Symbol("A", real=True)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_Msym = sp.Symbol("m", real=True)


class FPKernel:
    r"""Vectorised S_FP, gradient and Hessian in (q, t, qhat, that, phat), and dS_FP/dd.

    Both Gaussian-smoothed terms have the form :math:`\Phi(a, \sigma) = E_z F(a + \sqrt\sigma z)`
    with :math:`a` linear and :math:`\sigma` quadratic in the order parameters
    (:math:`\sigma = q - t^2/\tilde q - (p-t)^2/(1-\tilde q)` for the energetic term,
    :math:`\sigma = \hat q - \hat t^2/\hat{\tilde q}` for the entropic one). The derivatives in
    σ follow from Gaussian integration by parts (heat equation,
    :math:`\partial_\sigma\Phi = \tfrac12 E_z F''`), so the square roots — which vanish at the
    exact point p = q̃ — never appear in a denominator; the derivatives of F are taken by sympy.
    """

    # ``teacher=True`` (Nishimori reference, teacher as one more reference) is kept for study only:
    # its (t, that) direction is flat at the exact point (n -> 0 replicas at overlap t), so the
    # continuation does not determine t; it is not exposed.
    def __init__(self, teacher=False, *, n_z0=36, n_z1=24, h_u=0.16, h_ent=0.1, n_z=80):
        self.teacher = teacher
        F = logH((kappa - _Asym) / sp.sqrt(1 - q))
        tab = derivative_table(F, _Asym, q, ((0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (1, 1),
                                              (2, 1), (0, 2)))
        # every derivative is a polynomial in x = (kappa - A)/sqrt(1-q), r = mills(x), L = logH(x)
        # and 1/sqrt(1-q): evaluate the three special values once per node
        xs, rs, Ls = sp.symbols("x_arg r_mills L_logH", real=True)
        arg = (kappa - _Asym) / sp.sqrt(1 - q)
        red = [e.subs({logH(arg): Ls}).subs({mills(arg): rs}).subs(_Asym, kappa - xs * sp.sqrt(1 - q))
               for e in tab.values()]
        red = [e.subs({logH(xs): Ls, mills(xs): rs}) for e in red]
        if any(e.has(logH) or e.has(mills) or e.has(_Asym) for e in red):  # pragma: no cover
            raise RuntimeError("derivative table did not reduce to (x, r, L)")
        self._F_keys = list(tab)
        self._F_red = sp.lambdify((q, xs, rs, Ls), red, modules=["numpy"], cse=True)
        f = log2cosh(_Msym)
        ftab = derivative_table(f, _Msym)
        self._f = _lambdify((_Msym,), ftab.values())
        from ...solvers._quadrature import gauss_hermite
        n0, lw0 = gauss_hermite(n_z0)
        n1, lw1 = gauss_hermite(n_z1)
        nz, lwz = gauss_hermite(n_z)
        self._z0, self._w0 = n0[0], np.exp(lw0)
        self._z1, self._w1 = n1[0], np.exp(lw1)
        self._z, self._wz = nz[0], np.exp(lwz)
        self._U, self._V, self._wu = tanh_sinh(h_u)
        k = int(round(10.0 / h_ent))
        self._zt = h_ent * np.arange(-k, k + 1)
        wt = np.exp(-0.5 * self._zt**2)
        self._wt = wt / wt.sum()
        self._u1_cache = {}

    def _u1_grid(self, qt_v, kt_v):
        key = (qt_v, kt_v)
        if key not in self._u1_cache:
            u0 = (kt_v - math.sqrt(qt_v) * self._z0) / math.sqrt(1 - qt_v)
            self._u1_cache = {key: truncated_nodes(u0, self._U, self._V)}   # (n_z0, n_u)
        return self._u1_cache[key]

    # ---------------------------------------------------------------- Gaussian smoothing
    def _smooth_f(self, m, sig):
        """E_z f^(n)(m + sqrt(sig) z), n = 0..4, f = ln 2cosh; m any shape (z on a new last axis)."""
        arg = m[..., None] + math.sqrt(max(sig, 0.0)) * self._z
        vals = self._f(arg)
        return [np.tensordot(np.broadcast_to(v, arg.shape), self._wz, axes=([-1], [0])) for v in vals]

    def entropic(self, qth_v, x):
        """value, grad (3,), hess (3,3) in (qhat, that, phat) of the entropic expectation."""
        _, _, qh, th, ph = x
        sig = qh - th**2 / qth_v
        if sig < -1e-14:
            return math.nan, np.full(3, np.nan), np.full((3, 3), np.nan)
        sq = math.sqrt(qth_v)
        zt_ = self._zt
        if not self.teacher:
            branches = [((1 + np.tanh(sq * zt_)), th / sq * zt_ + ph - th, zt_ / sq - 1, 1.0)]
        else:
            h = sq * zt_ + qth_v
            base = th / sq * zt_ + th
            branches = [((1 + np.tanh(h)) / 2, base + ph - th, zt_ / sq, 1.0),
                        ((1 - np.tanh(h)) / 2, base - ph + th, zt_ / sq + 2.0, -1.0)]
        val, grad, hess = 0.0, np.zeros(3), np.zeros((3, 3))
        s_x = np.array([1.0, -2 * th / qth_v, 0.0])            # d sigma / d(qhat, that, phat)
        s_xx = np.zeros((3, 3))
        s_xx[1, 1] = -2 / qth_v
        for w, m, m_that, m_phat in branches:
            e0, e1, e2, e3, e4 = self._smooth_f(m, sig)
            W = w * self._wt
            mx = [np.zeros_like(zt_), np.broadcast_to(m_that, zt_.shape), np.full_like(zt_, m_phat)]
            val += float(W @ e0)
            for i in range(3):
                grad[i] += float(W @ (e1 * mx[i] + 0.5 * e2 * s_x[i]))
                for j in range(i, 3):
                    hij = (e2 * mx[i] * mx[j] + 0.5 * e3 * (mx[i] * s_x[j] + mx[j] * s_x[i])
                           + 0.25 * e4 * s_x[i] * s_x[j] + 0.5 * e2 * s_xx[i, j])
                    hess[i, j] += float(W @ hij)
        hess = np.triu(hess) + np.triu(hess, 1).T
        return val, grad, hess

    def energetic(self, kappa_v, qt_v, kt_v, d_v, x):
        """value, grad (q, t), hess (2,2) and d/dd of the energetic term (without alpha)."""
        qq, tt = x[0], x[1]
        p = 1 - 2 * d_v
        sig = qq - tt**2 / qt_v - (p - tt)**2 / (1 - qt_v)
        if sig < -1e-14 or not qq < 1:
            return math.nan, np.full(2, np.nan), np.full((2, 2), np.nan), math.nan
        u1g = self._u1_grid(qt_v, kt_v)                       # (n0, nu)
        Z0 = self._z0[:, None]
        a0 = tt / math.sqrt(qt_v) * Z0 + (p - tt) / math.sqrt(1 - qt_v) * u1g
        A = a0[..., None] + math.sqrt(max(sig, 0.0)) * self._z1
        with np.errstate(all="ignore"):
            xa = (kappa_v - A) / math.sqrt(1 - qq)
            La = sc.log_ndtr(-xa)
            ra = _SQRT_2_OVER_PI / sc.erfcx(xa * _SQRT_HALF)
            vals = self._F_red(qq, xa, ra, La)
        E = {k: np.tensordot(np.broadcast_to(v, A.shape), self._w1, axes=([-1], [0]))
             for k, v in zip(self._F_keys, vals)}
        W = self._w0[:, None] * self._wu[None, :]
        if self.teacher:   # teacher channel instead of the reference normalisation 1/H(u0)
            u0 = (kt_v - math.sqrt(qt_v) * self._z0) / math.sqrt(1 - qt_v)
            W = W * sc.ndtr(-u0)[:, None]
        # inner variables v = (a, sigma, q); Jacobians w.r.t. x in (q, t, d)
        a_x = [np.zeros_like(a0), Z0 / math.sqrt(qt_v) - u1g / math.sqrt(1 - qt_v),
               -2 * u1g / math.sqrt(1 - qt_v) + 0 * Z0]
        s_x = [1.0, -2 * tt / qt_v + 2 * (p - tt) / (1 - qt_v), 4 * (p - tt) / (1 - qt_v)]
        q_x = [1.0, 0.0, 0.0]
        s_xx = {(0, 0): 0.0, (0, 1): 0.0, (1, 1): -2 / qt_v - 2 / (1 - qt_v)}
        g1 = [E[(1, 0)], 0.5 * E[(2, 0)], E[(0, 1)]]
        h2 = [[E[(2, 0)], 0.5 * E[(3, 0)], E[(1, 1)]],
              [0.5 * E[(3, 0)], 0.25 * E[(4, 0)], 0.5 * E[(2, 1)]],
              [E[(1, 1)], 0.5 * E[(2, 1)], E[(0, 2)]]]

        def grad_x(i):
            return g1[0] * a_x[i] + g1[1] * s_x[i] + g1[2] * q_x[i]

        def hess_xy(i, j):
            vi, vj = (a_x[i], s_x[i], q_x[i]), (a_x[j], s_x[j], q_x[j])
            out = g1[1] * s_xx[(i, j)]
            for k in range(3):
                for m in range(3):
                    out = out + h2[k][m] * vi[k] * vj[m]
            return out

        val = float(np.sum(W * E[(0, 0)]))
        grad = np.array([float(np.sum(W * grad_x(i))) for i in range(2)])
        hess = np.array([[float(np.sum(W * hess_xy(min(i, j), max(i, j)))) for j in range(2)]
                         for i in range(2)])
        dd = float(np.sum(W * grad_x(2)))
        scale = 2.0 if self.teacher else 1.0
        return scale * val, scale * grad, scale * hess, scale * dd

    def evaluate(self, c, x, ref, *, want_hessian=True):
        """phi, grad (5,), hessian (5, 5), dphi/dd at control c = (alpha, kappa, kappa_tilde, d)."""
        a, kap, ktv, dv = c
        qt_v, qth_v = ref
        x = np.asarray(x, float)
        qq, tt, qh, th, ph = x
        p = 1 - 2 * dv
        free = a == 0 or qth_v == 0
        xe = x
        if free:                          # uniform references: t = that = 0 by symmetry
            qth_v = 1.0
            xe = np.array([qq, 0.0, qh, 0.0, ph])
        ev, eg, eh = self.entropic(qth_v, xe)
        teacher = self.teacher
        phi = -ph * p - qh * (1 - qq) / 2 + (0.0 if teacher else th * tt) + ev
        g = np.zeros(5)
        hs = np.zeros((5, 5))
        g[0] = qh / 2
        g[1] = 0.0 if teacher else th
        g[2:] = eg
        g[2] += -(1 - qq) / 2
        g[3] += 0.0 if teacher else tt
        g[4] += -p
        hs[2:, 2:] = eh
        hs[0, 2] = hs[2, 0] = 0.5
        if not teacher:
            hs[1, 3] = hs[3, 1] = 1.0
        dphi_dd = 2 * ph
        if a > 0:
            nv, ng, nh, nd = self.energetic(kap, qt_v, ktv, dv, x)
            phi += a * nv
            g[:2] += a * ng
            hs[:2, :2] += a * nh
            dphi_dd += a * nd
        if free:                          # stationarity replaced by t = 0, that = 0
            g[1], g[3] = tt, th
            hs[1, :] = hs[:, 1] = 0.0
            hs[3, :] = hs[:, 3] = 0.0
            hs[1, 1] = hs[3, 3] = 1.0
        return phi, g, hs, dphi_dd


# --------------------------------------------------------------------------- references
@functools.lru_cache(maxsize=256)
def reference_state(alpha_value, kappa_tilde_value=0.0, teacher=False):
    r"""RS state of the reference: ``(q_tilde, qhat_tilde, s_ref)``.

    Storage: ``perceptron.binary_storage`` at :math:`(\alpha, \tilde\kappa)` (``s_ref`` is the
    entropy of the margin-:math:`\tilde\kappa` solutions). Teacher: ``perceptron.ising_teacher``
    on the poorly generalising branch (:math:`\tilde q = R`). α = 0 gives ``(0, 0, ln 2)``.
    """
    from ...solvers import solve
    a = float(alpha_value)
    if a == 0:
        return 0.0, 0.0, math.log(2.0)
    if teacher:
        r = solve("perceptron.ising_teacher", {"alpha": a}, branch="poor")
    else:
        r = solve("perceptron.binary_storage", {"alpha": a, "kappa": float(kappa_tilde_value)})
    if not r.converged:
        raise SaddlePointNotConverged(
            f"The reference state at alpha={a}, kappa_tilde={kappa_tilde_value} did not converge "
            f"({r.message}); the reference must lie inside its SAT phase.")
    return r.order_parameters["q"], r.order_parameters["qhat"], r.free_entropy


@functools.lru_cache(maxsize=256)
def binary_kappa_max(alpha_value):
    r"""Binary-perceptron maximal margin :math:`\kappa_{max}(\alpha)`: the κ where the RS entropy
    of ``perceptron.binary_storage`` vanishes (spec §3), by ``brentq``."""
    from ...solvers import solve
    a = float(alpha_value)
    if not (0 < a < 0.8330786):
        raise InvalidParameterError(
            f"The 'alpha' parameter of binary_kappa_max must be a float in the range (0, alpha_KM(0)). "
            f"Got {alpha_value!r} instead.")
    last = {"x": None}

    def s(k):
        r = solve("perceptron.binary_storage", {"alpha": a, "kappa": k}, x0=last["x"])
        if r.converged:
            last["x"] = r.order_parameters
        return r.free_entropy

    hi = 0.25
    while s(hi) > 0:
        hi *= 2
    last["x"] = None
    return so.brentq(s, 0.0, hi, xtol=1e-12)


# --------------------------------------------------------------------------- models
class KernelModel(EquilibriumModel):
    """Base of the Franz–Parisi models whose free entropy, gradient and Hessian come from a numeric
    kernel (tied to the sympy free entropy by tests) instead of compiled sympy expressions.

    Subclasses provide ``kernel`` (``kernel.evaluate(c, x, ref)`` → ``(phi, grad, hess, dphi_dd)``
    at control ``c = (alpha, kappa, kappa_tilde, d)``) and ``reference(alpha, kappa_tilde)`` (the
    reference's RS state; its first ``n_ref`` entries go to the kernel).
    """

    n_ref = 2

    def _eval(self, *v):
        k = len(self.control) + len(self.order)
        arrs = np.broadcast_arrays(*[np.asarray(a, float) for a in v[:k]])
        shape = arrs[0].shape
        flat = [a.ravel() for a in arrs]
        out = []
        for i in range(flat[0].size):
            ci = tuple(float(f[i]) for f in flat[:4])
            xi = [float(f[i]) for f in flat[4:k]]
            ref = self.reference(ci[0], ci[2])[:self.n_ref]
            out.append(self.kernel.evaluate(ci, xi, ref))
        return shape, out

    def _part(self, j, tail=()):
        def f(*v):
            shape, out = self._eval(*v)
            return np.array([o[j] for o in out]).reshape(shape + tail)
        return f

    @functools.cached_property
    def phi_numeric(self):
        return self._part(0)

    @functools.cached_property
    def gradient_numeric(self):
        return self._part(1, (len(self.order),))

    @functools.cached_property
    def hessian_numeric(self):
        return self._part(2, (len(self.order),) * 2)

    @functools.cached_property
    def fixed_point(self):
        return None


class _FPBase(KernelModel):
    control = (ALPHA, KAPPA, KAPPA_T, DIST)
    order = ORDER
    teacher = False
    damping = 0.5

    def free_entropy(self):
        return fp_free_entropy_symbolic(self.teacher)

    @functools.cached_property
    def kernel(self):
        return FPKernel(self.teacher)

    def reference(self, alpha_value, kappa_tilde_value):
        return reference_state(float(alpha_value), 0.0 if self.teacher else float(kappa_tilde_value),
                               self.teacher)

    @functools.cached_property
    def observables_numeric(self):
        def ref_q(*v):
            return np.vectorize(lambda a, k: self.reference(a, k)[0])(v[0], v[2])

        def ref_s(*v):
            return np.vectorize(lambda a, k: self.reference(a, k)[2])(v[0], v[2])

        return {"entropy": lambda *v: np.asarray(v[9], float),
                "q_tilde": ref_q, "s_ref": ref_s,
                "d_typ": lambda *v: (1 - ref_q(*v)) / 2,
                "dS_dd": self._part(3),
                "R" if self.teacher else "t_overlap": lambda *v: np.asarray(v[5], float)}

    def observables(self):
        return {"entropy": self.phi_symbol}

    def exact_start(self, params):
        """The exact point p = q_tilde; when ``d`` is given, the solution continued to that d
        (so that :func:`phasekit.solve` starts on the branch)."""
        qt_v, qth_v, _ = self.reference(params["alpha"], params.get("kappa_tilde", 0.0))
        x = {"q": qt_v, "t": qt_v, "qhat": qth_v, "that": qth_v, "phat": qth_v}
        if params.get("d") is not None:
            c = local_entropy_curve(params["alpha"], [params["d"]], kappa_value=params.get("kappa", 0.0),
                                    kappa_tilde=params.get("kappa_tilde", 0.0))
            if c.converged[0]:
                x = {k: float(v[0]) for k, v in c.order_parameters.items()}
        return x


@register_model("perceptron.local_entropy")
class LocalEntropy(_FPBase):
    r"""Franz–Parisi local entropy :math:`S_{FP}(d)` of the binary perceptron around a reference
    solution of margin :math:`\tilde\kappa` (RS; spec §7).

    Control: ``alpha``, ``kappa`` (margin of the counted solutions), ``kappa_tilde`` (margin of the
    reference; ``kappa_tilde = kappa`` is the typical reference, :func:`binary_kappa_max` the
    high-margin one), ``d`` (Hamming distance). Order: ``q, t, qhat, that, phat``. The free entropy
    is :math:`S_{FP}` in nats per weight; ``dS_dd`` its derivative along d (envelope theorem).

    Solve a single point with :func:`phasekit.solve` only near a known solution (the branch start
    is the exact point :math:`p = \tilde q`); use :func:`local_entropy_curve` for curves.

    Examples
    --------
    >>> from phasekit.theory.replica.local_entropy import local_entropy_curve
    >>> c = local_entropy_curve(0.5, d=[0.3388075, 0.2])
    >>> round(float(c.entropy[0]), 6)
    0.31439
    """

    description = "Franz-Parisi local entropy of the binary perceptron around a (high-margin) reference"
    references = ("S. Franz, G. Parisi, J. Phys. I 5, 1401 (1995)",
                  "C. Baldassi et al., PRL 115, 128101 (2015); PRL 127, 278301 (2021)")
    branches = (Branch("exact", lambda p: LocalEntropy._start(p), "from the exact point p = q_tilde"),)

    @staticmethod
    def _start(p):
        from ..._registry import get_model
        return get_model("perceptron.local_entropy").exact_start(p)

    @property
    def transitions(self):
        return (Transition("alpha_LE", "closed_form", along="alpha", expr=AlphaLE(kappa),
                           doc="local-entropy transition: largest alpha where S_FP around the "
                               "max-margin reference stays positive at small d (numeric, see alpha_le)"),)


@register_model("perceptron.ising_teacher_margin")
class IsingTeacherMargin(EquilibriumModel):
    r"""Ising teacher–student perceptron: students uniform among the version-space solutions with
    margin κ (the high-margin proxy of dense regions, applied to the teacher–student problem).

    .. math::
        s(\alpha,\kappa) = \operatorname{extr}\Big[-\frac{\hat q(1-q)}{2} - \hat R R
            + \int Dz\,\ln 2\cosh(\sqrt{\hat q} z + \hat R)
            + 2\alpha\int Dz\,H\Big(-\frac{R z}{\sqrt{q-R^2}}\Big)
              \ln H\Big(\frac{\kappa-\sqrt q z}{\sqrt{1-q}}\Big)\Big]

    (binary teacher W*, labels sign(W*·ξ/√N); R = student–teacher overlap, q = student–student).
    κ = 0 is ``perceptron.ising_teacher`` (Nishimori q = R). ``eps`` = arccos(R)/π is the
    generalisation error of one such solution; it decreases with κ up to the largest margin with
    non-negative entropy (transition ``kappa_max``): high-margin — dense-region — solutions
    generalise better than typical ones.
    """

    description = "Ising teacher-student perceptron, students with margin kappa (dense-region proxy)"
    references = ("C. Baldassi et al., PRE 106, 014116 (2022)", "G. Gyorgyi, PRA 41, 7097 (1990)")
    control = (ALPHA, Param("kappa", 0.0, math.inf, "left", 0.0, doc="margin of the students"))
    order = (Param("q", 0.0, 1.0, "left", 0.3), Param("qhat", 0.0, math.inf, "left", 0.3),
             Param("R", -1.0, 1.0, "neither", 0.3, latex="R_t", doc="overlap with the teacher"),
             Param("Rhat", -math.inf, math.inf, "neither", 0.3, latex="Rhat_t"))
    conjugates = (("q", "qhat"), ("R", "Rhat"))
    branches = (Branch("poor", lambda p: {"q": 0.3, "qhat": 0.3, "R": 0.25, "Rhat": 0.3},
                       "poorly generalising RS branch"),)
    damping = 0.5

    def free_entropy(self):
        Rt, Rh = sp.Symbol("R_t", real=True), sp.Symbol("Rhat_t", real=True)
        x = sp.Symbol("xi", real=True)
        return (-qhat * (1 - q) / 2 - Rh * Rt + E(log2cosh(sp.sqrt(qhat) * x + Rh), x)
                + 2 * alpha * E(H(-Rt * x / sp.sqrt(q - Rt**2)) * logH((kappa - sp.sqrt(q) * x) / sp.sqrt(1 - q)), x))

    def observables(self):
        Rt = sp.Symbol("R_t", real=True)
        return {"entropy": self.phi_symbol, "R": Rt, "eps": sp.acos(Rt) / sp.pi}

    @property
    def transitions(self):
        return (Transition("kappa_max", "zero", along="kappa", branch="poor", observable="entropy",
                           search=(0.0, 2.0), doc="largest student margin with non-negative entropy"),)


# --------------------------------------------------------------------------- curves
@dataclasses.dataclass(frozen=True)
class LocalEntropyCurve:
    """S_FP along a grid of distances, followed by continuation from the exact point.

    Attributes: ``d`` (grid), ``entropy`` (S_FP, NaN where not converged), ``order_parameters``
    (dict of arrays), ``dS_dd``, ``converged``, ``residual``, ``params``, ``q_tilde``, ``s_ref``,
    ``d_typ``, ``model``, ``message``.
    """

    model: str
    params: dict
    d: np.ndarray
    entropy: np.ndarray
    dS_dd: np.ndarray
    order_parameters: dict
    converged: np.ndarray
    residual: np.ndarray
    q_tilde: float
    s_ref: float
    d_typ: float
    message: str = ""



def _feasible(x, c, ref, margin=1e-10):
    """Raise q and qhat just enough that both Gaussian variances sigma are >= 0."""
    x = np.array(x, float)
    qt_v, qth_v = ref
    if qth_v > 0 and c[0] > 0:
        p = 1 - 2 * c[3]
        need = x[1] ** 2 / qt_v + (p - x[1]) ** 2 / (1 - qt_v)
        if x[0] < need + margin:
            x[0] = min(need + margin, 1 - 1e-13)
        need_e = x[3] ** 2 / qth_v
        if x[2] < need_e + margin:
            x[2] = need_e + margin
    return x


def _newton(model, c, x, tol=1e-11, maxiter=40):
    """Damped Newton (:func:`~phasekit.solvers.damped_newton`) on the kernel's gradient, inside the
    feasible region; returns ``(x, phi, grad, dphi/dd, converged, iterations)``."""
    ref = model.reference(c[0], c[2])[:2]
    lo = np.array([0.0, -1.0, 0.0, -np.inf, -np.inf])
    hi = np.array([1 - 1e-13, 1.0, np.inf, np.inf, np.inf])
    r = damped_newton(lambda y: model.kernel.evaluate(c, y, ref), _feasible(x, c, ref),
                      project=lambda y: _feasible(np.clip(y, lo, hi), c, ref), tol=tol, maxiter=maxiter,
                      noise_floor=1e-9, require_finite_value=True)
    return r.x, r.value, r.gradient, r.extra, r.converged, r.iterations


def local_entropy_curve(alpha_value, d, *, kappa_value=0.0, kappa_tilde=None, tol=1e-11,
                        progress=False) -> LocalEntropyCurve:
    r"""Franz–Parisi local entropy :math:`S_{FP}(d)` on a grid of distances.

    Continuation in ``d`` from the exact point :math:`p=\tilde q` (:math:`d_{typ} = (1-\tilde q)/2`)
    towards both ends of the grid, each point by Newton's method with the symbolic Hessian from a
    secant prediction through the previous two points (small steps are inserted automatically
    when a point fails).

    Parameters
    ----------
    alpha_value : float
        Load α ≥ 0.
    d : array_like
        Distances in (0, 1/2), any order.
    kappa_value : float
        Margin κ of the counted solutions.
    kappa_tilde : float or "max", optional
        Reference margin; default κ (typical reference); ``"max"`` uses :func:`binary_kappa_max`.

    Returns
    -------
    LocalEntropyCurve
    """
    from ..._registry import get_model
    a = ALPHA.validate(alpha_value, "local_entropy_curve")
    kap = KAPPA.validate(kappa_value, "local_entropy_curve")
    if kappa_tilde is None:
        ktv = kap
    elif isinstance(kappa_tilde, str) and kappa_tilde == "max":
        ktv = binary_kappa_max(a)
    else:
        ktv = KAPPA_T.validate(kappa_tilde, "local_entropy_curve")
    dv = np.asarray(d, float).ravel()
    for x in dv:
        DIST.validate(x, "local_entropy_curve")
    model = get_model("perceptron.local_entropy")
    qt_v, qth_v, s_ref = model.reference(a, ktv)
    d_typ = (1 - qt_v) / 2
    x_exact = np.array([qt_v, qt_v, qth_v, qth_v, qth_v])
    if a == 0:
        x_exact = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    n = dv.size
    res = {k: np.full(n, np.nan) for k in ("phi", "dd", "resid")}
    X = np.full((n, 5), np.nan)
    conv = np.zeros(n, bool)
    order = np.argsort(dv)
    up = [i for i in order if dv[i] >= d_typ]
    down = [i for i in order[::-1] if dv[i] < d_typ]
    it = [("up", up), ("down", down)]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n, desc="S_FP(d)", leave=False)
    for _, seq in it:
        hist = [(d_typ, x_exact.copy())]
        for i in seq:
            target = dv[i]
            ok, xi = _continue_to(model, (a, kap, ktv), hist, target, tol)
            if ok:
                X[i] = xi[0]
                res["phi"][i], res["dd"][i], res["resid"][i] = xi[1], xi[2], xi[3]
                conv[i] = True
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    names = ("q", "t", "qhat", "that", "phat")
    ops = {k: X[:, j] for j, k in enumerate(names)}
    return LocalEntropyCurve(model.name, {"alpha": a, "kappa": kap, "kappa_tilde": ktv}, dv,
                             res["phi"], res["dd"], ops, conv, res["resid"], qt_v, s_ref, d_typ,
                             f"{int(conv.sum())}/{n} points converged")


def _continue_to(model, c3, hist, target, tol, max_sub=6):
    """Advance the continuation in ``hist`` to ``target``, halving the step on failure."""
    from ...solvers._continuation import advance_path

    def correct(dt, pred):
        x, phi, g, dd, ok, _ = _newton(model, (*c3, dt), pred, tol)
        return x, ok, (phi, dd, float(np.max(np.abs(g))))

    ok, x, info = advance_path(hist, target, correct, max_fail=max_sub * 4, jump_dims=2)
    return (True, (x, *info)) if ok else (False, None)


# --------------------------------------------------------------------------- alpha_LE
@dataclasses.dataclass(frozen=True)
class LocalEntropyTransition:
    """α_LE and the data that located it: ``value``, the criterion name and its value per α
    evaluated (``alphas``, ``criterion_values``)."""

    value: float
    kappa: float
    criterion: str
    alphas: np.ndarray
    criterion_values: np.ndarray
    converged: bool
    message: str = ""


_LE_GRID = np.geomspace(0.002, 0.08, 24)


def le_criterion(alpha_value, *, criterion="monotone", d_grid=None):
    r"""Criterion of the local-entropy transition at one α (κ = 0, max-margin reference).

    ``"monotone"``: :math:`\min_d \partial S_{FP}/\partial d` over ``d_grid`` (default 24
    log-spaced distances in [0.002, 0.08]); positive while S_FP(d) grows monotonically from d = 0
    (a dense region around the reference). ``"positive"``: :math:`\min_d S_{FP}(d)` on the same grid.
    Returns ``(value, curve)``.
    """
    a = ALPHA.validate(alpha_value, "le_criterion")
    if criterion not in ("monotone", "positive"):
        raise InvalidParameterError(f"The 'criterion' parameter of le_criterion must be one of monotone, "
                                    f"positive. Got {criterion!r} instead.")
    grid = _LE_GRID if d_grid is None else np.asarray(d_grid, float)
    c = local_entropy_curve(a, grid, kappa_tilde="max")
    if not np.all(c.converged):
        return float("nan"), c
    v = c.dS_dd if criterion == "monotone" else c.entropy
    return float(np.min(v)), c


def alpha_le(kappa_value=0.0, *, criterion="monotone", bracket=(0.70, 0.80), xtol=5e-4,
             d_grid=None) -> LocalEntropyTransition:
    r"""Local-entropy transition :math:`\alpha_{LE}` (κ = 0): the largest α where the Franz–Parisi
    entropy around the max-margin reference (:math:`\tilde\kappa=\kappa_{max}(\alpha)`) still grows
    monotonically with d near d → 0 (``criterion="monotone"``), or stays non-negative
    (``"positive"``); ``brentq`` on :func:`le_criterion` inside ``bracket``.

    The literature places the disappearance of the dense regions at ≈ 0.77–0.78
    (arXiv:1509.05753, 2107.01163; large-deviation / robust-ensemble analyses); the max-margin
    reference is a cheaper proxy and gives a lower value (see the module notes); the
    large-deviation transition is :func:`phasekit.theory.replica.local_entropy_ld.ld_alpha_u`.
    """
    kap = KAPPA.validate(kappa_value, "alpha_le")
    if kap != 0:
        raise InvalidParameterError(f"The 'kappa' parameter of alpha_le must be 0 (only kappa = 0 is "
                                    f"implemented). Got {kappa_value!r} instead.")
    lo, hi = bracket
    cache = {}

    def f(a):
        if a not in cache:
            cache[a] = le_criterion(a, criterion=criterion, d_grid=d_grid)[0]
        return cache[a]

    flo, fhi = f(lo), f(hi)
    ks = lambda: np.array(sorted(cache))  # noqa: E731
    if not (flo > 0 > fhi):
        return LocalEntropyTransition(float("nan"), kap, criterion, ks(), np.array([cache[k] for k in ks()]),
                                      False, f"no sign change on {bracket}: criterion {flo:.4g}, {fhi:.4g}")
    root = so.brentq(f, lo, hi, xtol=xtol)
    return LocalEntropyTransition(float(root), kap, criterion, ks(), np.array([cache[k] for k in ks()]),
                                  True, f"brentq on the '{criterion}' criterion, xtol={xtol}")


class AlphaLE(sp.Function):
    """Symbolic placeholder of α_LE(κ) for the model's transition table; ``evalf`` runs
    :func:`alpha_le` (numeric, not a closed form)."""

    nargs = 1

    def _eval_evalf(self, prec):
        k = float(self.args[0])
        return sp.Float(alpha_le(k).value, prec)


# --------------------------------------------------------------------------- energetic reference
def fp_energetic_reference(alpha_value, kappa_value, kappa_tilde_value, d_value, q_value, t_value,
                           q_tilde):
    r"""The Franz–Parisi energetic term by nested ``scipy.integrate.quad`` in the original variables
    (truncated :math:`u_1` integral, no change of variables) — a slow independent reference."""
    from scipy import integrate
    p = 1 - 2 * d_value
    c1 = math.sqrt(max(q_value - t_value**2 / q_tilde - (p - t_value)**2 / (1 - q_tilde), 0.0))
    sq = math.sqrt(1 - q_value)

    def inner(z0v, u1v):
        a = t_value / math.sqrt(q_tilde) * z0v + (p - t_value) / math.sqrt(1 - q_tilde) * u1v
        f = lambda zz: sc.log_ndtr(-(kappa_value - a - c1 * zz) / sq) * math.exp(-zz * zz / 2)  # noqa: E731
        return integrate.quad(f, -9, 9, epsabs=1e-12, limit=200)[0] / math.sqrt(2 * math.pi)

    def over_u1(z0v):
        u0 = (kappa_tilde_value - math.sqrt(q_tilde) * z0v) / math.sqrt(1 - q_tilde)
        f = lambda uu: inner(z0v, uu) * math.exp(-uu * uu / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        v = integrate.quad(f, u0, max(u0, 0) + 10, epsabs=1e-11, limit=200)[0]
        return v / sc.ndtr(-u0)

    g = lambda zz: over_u1(zz) * math.exp(-zz * zz / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return alpha_value * integrate.quad(g, -8, 8, epsabs=1e-10, limit=100)[0]
