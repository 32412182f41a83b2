r"""Franz–Parisi local entropy of the Ising teacher–student perceptron, with the overlap with the
teacher along the curve: do dense regions generalise better than typical solutions?

Conventions
-----------
* :math:`\alpha = P/N`; binary teacher :math:`W^*` (gauge :math:`W^*=+1`), patterns
  :math:`\xi\sim N(0, I_N)`, labels :math:`y=\mathrm{sign}(W^*\cdot\xi/\sqrt N)`; entropies in
  **nats per weight**; :math:`H(x)=\int_x^\infty Dz`, :math:`Dz = e^{-z^2/2}dz/\sqrt{2\pi}`.
* Reference :math:`\tilde W` uniform among the version-space solutions with margin
  :math:`\tilde\kappa` (:math:`y\tilde\lambda\ge\tilde\kappa`); its RS state
  :math:`(\tilde q, \hat{\tilde q}, \tilde R, \hat{\tilde R}, s_{ref})` is that of
  ``perceptron.ising_teacher_margin`` at :math:`(\alpha,\tilde\kappa)`. :math:`\tilde\kappa = 0` is
  the Bayes posterior (Nishimori, :math:`\tilde q=\tilde R`); :math:`\tilde\kappa = \kappa_{max}(\alpha)`
  (zero entropy) is the high-margin proxy of the densest regions (arXiv:2107.01163).
* Counted students :math:`W`: solutions with margin κ at overlap :math:`p = 1-2d` with
  :math:`\tilde W^1`. Order parameters: :math:`q` (:math:`W\cdot W'`), :math:`t`
  (:math:`W\cdot\tilde W^{c\neq1}`), :math:`R` (:math:`W\cdot W^*`) and the conjugates
  :math:`\hat q, \hat t, \hat p, \hat R`. :math:`\varepsilon_{gen} = \arccos(R)/\pi`.

The Franz–Parisi potential (RS)

.. math::
    S_{FP}(p) = \operatorname{extr}\Big\{-\hat p p + \hat t t - \frac{\hat q(1-q)}{2} - \hat R R
      + \int D\tilde z\sum_{\tilde W=\pm1}\frac{e^{\tilde W\tilde h}}{2\cosh\tilde h}\int Dz\,
        \ln 2\cosh\Big(\frac{\hat t}{\sqrt{\hat{\tilde q}}}\tilde z + \sqrt{\hat q-\hat t^2/\hat{\tilde q}}\,z
        + (\hat p-\hat t)\tilde W + \hat R\Big)
      + 2\alpha\int_0^\infty Dv\int Dz_0\,\frac{1}{H(\tilde u_0)}\int_{\tilde u_0}^\infty Du_1\int Dz_1\,
        \ln H\Big(\frac{\kappa-A}{\sqrt{1-q}}\Big)\Big\},

:math:`\tilde h = \sqrt{\hat{\tilde q}}\tilde z + \hat{\tilde R}`,
:math:`\tilde u_0 = (\tilde\kappa-\tilde R v-\sqrt{\tilde q-\tilde R^2}z_0)/\sqrt{1-\tilde q}`,
:math:`A = Rv + a_1z_0 + a_2u_1 + a_3z_1`, :math:`a_1 = (t-R\tilde R)/\sqrt{\tilde q-\tilde R^2}`,
:math:`a_2 = (p-t)/\sqrt{1-\tilde q}`, :math:`a_3 = \sqrt{q-R^2-a_1^2-a_2^2}`
(teacher field :math:`v`, reference field
:math:`\tilde\lambda = \tilde Rv+\sqrt{\tilde q-\tilde R^2}z_0+\sqrt{1-\tilde q}u_1`, the label
sign absorbed by the gauge, hence :math:`2\int_0^\infty Dv`).

Derivation (checked here and in ``tests/theory/replica/test_local_entropy_teacher.py``): references
:math:`c=1..n\to0`, students :math:`a=1..m\to0` attached to :math:`\tilde W^1`; Hubbard–Stratonovich
on :math:`\tfrac{\hat{\tilde q}}2X^2+\hat tXY+\tfrac{\hat q}2Y^2`, :math:`X=\sum_c\tilde W^c`,
:math:`Y=\sum_aW^a`; the own reference couples with :math:`\hat p-\hat t`; :math:`(n-1)\to-1` turns
:math:`-\hat tt` into :math:`+\hat tt`. Reductions: :math:`R=\tilde R=\hat R=\hat{\tilde R}=0` gives the
storage potential of :mod:`~phasekit.theory.replica.local_entropy`; at :math:`p=\tilde q`, :math:`\kappa=\tilde\kappa`
the saddle is :math:`q=t=\tilde q`, :math:`R=\tilde R`, :math:`\hat q=\hat t=\hat p=\hat{\tilde q}`,
:math:`\hat R=\hat{\tilde R}` and :math:`S_{FP}=s_{ref}` (then :math:`a_2=a_3=0`).

Bayes reference (:math:`\tilde\kappa=0`)
-----------------------------------------
The teacher is then exchangeable with the references (Nishimori), so along the whole curve
:math:`t=R`, :math:`\hat t=\hat R` (the student cannot tell the teacher from another posterior
sample). On that plane the potential does not depend on the common value
(:math:`n-1` references plus the teacher are :math:`n\to0` replicas), so the Hessian vanishes on
the plane's tangent directions; it is nevertheless non-singular (smallest |eigenvalue| at the exact
point 0.15 at α = 0.5, 0.03 at α = 1), the saddle point is isolated and Newton's method converges
without imposing the symmetry. :math:`t=R` then comes out of the solution (checked to 1e-7 along
the curve in the tests), which is the consistency check of the Bayes case.

Results (κ = 0 counted students, RS, this implementation)
---------------------------------------------------------
Overlap with the teacher near the reference (d = 0.01 / 0.05):

* α = 0.5, Bayes reference (ε_ref = 0.4053): R = 0.2951 / 0.3021, S_FP = 0.0174 / 0.1106;
  max-margin reference κ̃ = 0.5892 (ε_ref = 0.3631): R = 0.4087 / 0.3830, S_FP = 0.0559 / 0.1777.
* α = 1.0, Bayes reference (ε_ref = 0.3105): R = 0.5627 / 0.5741, S_FP = −0.0238 / 0.0181
  (typical posterior samples are isolated at small d); max-margin κ̃ = 0.1174 (ε_ref = 0.2930):
  R = 0.6005 / 0.5975, S_FP = 0.0175 / 0.0485.

Solutions in the dense neighbourhood of a high-margin reference generalise better than those
around a typical one; far from the reference (d ≳ 0.2) the order reverses as R decays towards the
overlap of unrelated solutions.

How it is evaluated
-------------------
Symbolic: :func:`teacher_fp_free_entropy` (``E`` and ``sympy.Integral``), its gradient by
``sympy.diff`` (:func:`teacher_fp_stationarity`). Numeric kernel (:class:`TeacherFPKernel`):
the pair :math:`(v, z_0)` is rotated to the reference's common field
:math:`w=(\tilde Rv+\sqrt{\tilde q-\tilde R^2}z_0)/\sqrt{\tilde q}\sim N(0,1)` (Gauss–Hermite) and
the teacher field given :math:`w`, :math:`v = \rho w+\sqrt{1-\rho^2}\zeta`,
:math:`\rho=\tilde R/\sqrt{\tilde q}`, truncated at :math:`v>0` (weight :math:`2H(-\rho w/\sqrt{1-\rho^2})`,
nodes :func:`~phasekit.solvers._quadrature.truncated_nodes`, tanh–sinh); :math:`u_1` likewise;
:math:`z_1` Gauss–Hermite. At the exact point the integrand depends on :math:`w` only, which makes
:math:`S_{FP}=s_{ref}` hold to the accuracy of a 1-D rule. Derivatives in the Gaussian variances
come from the heat equation (no :math:`1/\sqrt{\cdot}` at the exact point, where both vanish).

References
----------
S. Franz, G. Parisi, J. Phys. I France 5, 1401 (1995); H. Huang, Y. Kabashima, PRE 90, 052813
(2014); C. Baldassi et al., PRL 115, 128101 (2015) (arXiv:1509.05753); PRL 127, 278301 (2021)
(arXiv:2107.01163); G. Györgyi, PRA 41, 7097 (1990).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.special as sc
import sympy as sp

from ..._errors import InvalidParameterError, SaddlePointNotConverged
from ..._registry import register_model
from .._model import Branch, Param
from .._symbolic import E, G, H, log2cosh, logH, mills
from ...solvers._newton import damped_newton
from ...solvers._quadrature import tanh_sinh, truncated_nodes
from .local_entropy import ALPHA, DIST, KernelModel

__all__ = ["TeacherLocalEntropy", "TeacherFPKernel", "TeacherLocalEntropyCurve", "teacher_local_entropy_curve",
           "teacher_reference_state", "teacher_kappa_max", "teacher_fp_free_entropy", "teacher_fp_stationarity"]

# --------------------------------------------------------------------------- symbols
alpha, kappa, kt, d = sp.symbols("alpha kappa kappa_tilde d", real=True)
q, t, R, qhat, that, phat, Rhat = sp.symbols("q t R qhat that phat Rhat", real=True)
qt, qth = sp.symbols("q_tilde qhat_tilde", positive=True)
Rt, Rth = sp.symbols("R_tilde Rhat_tilde", real=True)
zt, z, v, z0, u1, z1 = sp.symbols("z_tilde z v z_0 u_1 z_1", real=True)
p_sym = 1 - 2 * d
ORDER_SYMS = (q, t, R, qhat, that, phat, Rhat)
ORDER_NAMES = ("q", "t", "R", "qhat", "that", "phat", "Rhat")

KAPPA = Param("kappa", 0.0, math.inf, "left", 0.0, doc="margin of the counted students W")
KAPPA_T = Param("kappa_tilde", 0.0, math.inf, "left", 0.0, latex="kappa_tilde",
                doc="margin of the reference (0: Bayes posterior sample; kappa_max: dense-region proxy)")
ORDER = (
    Param("q", 0.0, 1.0, "left", 0.5, doc="overlap of two students at distance d"),
    Param("t", -1.0, 1.0, "neither", 0.3, doc="overlap with the other references"),
    Param("R", -1.0, 1.0, "neither", 0.3, doc="overlap with the teacher"),
    Param("qhat", 0.0, math.inf, "left", 1.0, doc="conjugate of q"),
    Param("that", -math.inf, math.inf, "neither", 1.0, doc="conjugate of t"),
    Param("phat", -math.inf, math.inf, "neither", 1.0, doc="conjugate of p (Lagrange multiplier of d)"),
    Param("Rhat", -math.inf, math.inf, "neither", 0.3, doc="conjugate of R"),
)


# --------------------------------------------------------------------------- symbolic form
def _u0():
    return (kt - Rt * v - sp.sqrt(qt - Rt**2) * z0) / sp.sqrt(1 - qt)


def _field_A():
    a1 = (t - R * Rt) / sp.sqrt(qt - Rt**2)
    a2 = (p_sym - t) / sp.sqrt(1 - qt)
    a3 = sp.sqrt(q - R**2 - a1**2 - a2**2)
    return R * v + a1 * z0 + a2 * u1 + a3 * z1


def teacher_fp_free_entropy():
    r"""The teacher–student Franz–Parisi free entropy as one sympy expression (``d`` stands for
    :math:`p = 1-2d`; reference symbols ``q_tilde, qhat_tilde, R_tilde, Rhat_tilde``)."""
    ht = sp.sqrt(qth) * zt + Rth
    base = that / sp.sqrt(qth) * zt + sp.sqrt(qhat - that**2 / qth) * z + Rhat
    ent = E((1 + sp.tanh(ht)) / 2 * E(log2cosh(base + phat - that), z)
            + (1 - sp.tanh(ht)) / 2 * E(log2cosh(base - phat + that), z), zt)
    inner = E(logH((kappa - _field_A()) / sp.sqrt(1 - q)), z1)
    u0 = _u0()
    en = sp.Integral(2 * G(v) * E(sp.Integral(G(u1) * inner, (u1, u0, sp.oo)) / H(u0), z0), (v, 0, sp.oo))
    outer = -phat * p_sym + that * t - qhat * (1 - q) / 2 - Rhat * R
    return outer + ent + alpha * en


def teacher_fp_stationarity():
    """``sympy.diff`` of :func:`teacher_fp_free_entropy` in ``(q, t, R, qhat, that, phat, Rhat)``."""
    phi = teacher_fp_free_entropy()
    return tuple(sp.diff(phi, x) for x in ORDER_SYMS)


# --------------------------------------------------------------------------- numeric kernel
_Asym = sp.Symbol("A", real=True)
_Msym = sp.Symbol("m", real=True)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_SIG_TOL = 1e-9
_F_ORDERS = ((0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (1, 1), (2, 1), (0, 2))


@functools.lru_cache(maxsize=1)
def _F_table():
    """d^n/dA^n d^m/dq^m ln H((kappa - A)/sqrt(1-q)) as numpy functions of (q, x, r(x), lnH(x))."""
    arg = (kappa - _Asym) / sp.sqrt(1 - q)
    F = logH(arg)
    xs, rs, Ls = sp.symbols("x_arg r_mills L_logH", real=True)
    red = []
    for n, m in _F_ORDERS:
        e = sp.diff(F, _Asym, n) if n else F
        e = sp.diff(e, q, m) if m else e
        e = e.subs({logH(arg): Ls}).subs({mills(arg): rs}).subs(_Asym, kappa - xs * sp.sqrt(1 - q))
        e = e.subs({logH(xs): Ls, mills(xs): rs})
        if e.has(logH) or e.has(mills) or e.has(_Asym):  # pragma: no cover
            raise RuntimeError("derivative table did not reduce to (x, r, L)")
        red.append(sp.simplify(e))
    return sp.lambdify((q, xs, rs, Ls), red, modules=["numpy"], cse=True)


@functools.lru_cache(maxsize=1)
def _f_table():
    """d^n/dm^n ln 2cosh(m), n = 0..4, in terms of m and tanh(m)."""
    th = sp.Symbol("th", real=True)
    out = [sp.diff(log2cosh(_Msym), _Msym, n).subs(sp.tanh(_Msym), th) for n in range(1, 5)]
    f = sp.lambdify((th,), out, modules=["numpy"], cse=True)
    return lambda m: [np.logaddexp(m, -m), *f(np.tanh(m))]


class TeacherFPKernel:
    r"""Vectorised :math:`S_{FP}`, gradient and Hessian in ``(q, t, R, qhat, that, phat, Rhat)``,
    and :math:`\partial S_{FP}/\partial d`, for the teacher–student Franz–Parisi potential.

    Both Gaussian-smoothed terms are :math:`\Phi(a,\sigma)=E_zF(a+\sqrt\sigma z)` with ``a`` linear
    and σ quadratic in the order parameters; σ-derivatives use :math:`\partial_\sigma\Phi =
    \tfrac12E_zF''` (a variance in (-1e-9, 0), reached at the exact point through quadrature
    rounding, is treated as 0). Quadrature:
    trapezoidal step ``h_w`` for the reference's common field w on [-9, 9] (it converges
    geometrically and, unlike Gauss–Hermite, does not degrade when the integrand sharpens as
    q̃ → 1), tanh–sinh steps ``h_v`` (teacher field given w, truncated at v > 0) and ``h_u`` (u1
    truncated at ũ0), ``n_z1`` Gauss–Hermite nodes for z1; entropic term: trapezoid step ``h_ent`` in z̃ and
    ``n_z`` Gauss–Hermite nodes in z.
    """

    def __init__(self, *, h_w=0.3, n_z1=16, h_v=0.25, h_u=0.22, h_ent=0.1, n_z=80):
        self._F = _F_table()
        self._f = _f_table()
        kw = int(9.0 / h_w)
        zw = h_w * np.arange(-kw, kw + 1)
        ww = np.exp(-0.5 * zw**2)
        self._w, self._ww = zw, ww / ww.sum()
        z1n, w1 = np.polynomial.hermite_e.hermegauss(n_z1)
        self._z1, self._w1 = z1n, w1 / w1.sum()
        zn, wz = np.polynomial.hermite_e.hermegauss(n_z)
        self._z, self._wz = zn, wz / wz.sum()
        self._Uv, self._Vv, self._wv = tanh_sinh(h_v)
        self._Uu, self._Vu, self._wu = tanh_sinh(h_u)
        k = int(round(10.0 / h_ent))
        self._zt = h_ent * np.arange(-k, k + 1)
        wt = np.exp(-0.5 * self._zt**2)
        self._wt = wt / wt.sum()
        self._grid_cache = {}

    # ---------------------------------------------------------------- energetic grids
    def _grid(self, qt_v, Rt_v, kt_v):
        key = (qt_v, Rt_v, kt_v)
        g = self._grid_cache.get(key)
        if g is None:
            w = self._w
            c1sq = qt_v - Rt_v**2
            rho = Rt_v / math.sqrt(qt_v)
            srho = math.sqrt(max(1 - rho * rho, 0.0))
            zeta0 = -rho * w / srho if srho > 0 else np.where(w > 0, -np.inf, np.inf)
            with np.errstate(all="ignore"):
                logP = math.log(2.0) + sc.log_ndtr(-zeta0)               # ln 2 P(v > 0 | w)
            zeta = truncated_nodes(zeta0, self._Uv, self._Vv)           # (n_w, n_v)
            V = rho * w[:, None] + srho * zeta
            u0 = (kt_v - math.sqrt(qt_v) * w) / math.sqrt(1 - qt_v)
            U = truncated_nodes(u0, self._Uu, self._Vu)                  # (n_w, n_u)
            W = (self._ww * np.exp(logP))[:, None, None] * self._wv[None, :, None] * self._wu[None, None, :]
            g = dict(w=w[:, None, None], V=V[:, :, None], U=U[:, None, :], W=W, c1sq=c1sq,
                     c2=math.sqrt(1 - qt_v))
            self._grid_cache = {key: g}
        return g

    def energetic(self, kappa_v, ref, kt_v, d_v, x, *, value=True):
        """value, grad (q, t, R), hess (3, 3) and d/dd of the energetic term (without alpha);
        ``value=False`` skips the value (NaN), the costliest special function."""
        qt_v, _, Rt_v, _ = ref
        qq, tt, RR = float(x[0]), float(x[1]), float(x[2])
        p = 1 - 2 * d_v
        g = self._grid(qt_v, Rt_v, kt_v)
        c1sq, c2 = g["c1sq"], g["c2"]
        sqt = math.sqrt(qt_v)
        dev = tt - RR * Rt_v
        sig = qq - RR**2 - dev**2 / c1sq - (p - tt)**2 / c2**2
        if sig < -_SIG_TOL or not qq < 1:
            return math.nan, np.full(3, np.nan), np.full((3, 3), np.nan), math.nan
        w, V, U = g["w"], g["V"], g["U"]
        A0 = (RR * qt_v - Rt_v * tt) / c1sq * V + sqt * dev / c1sq * w + (p - tt) / c2 * U
        A = A0[..., None] + math.sqrt(max(sig, 0.0)) * self._z1
        with np.errstate(all="ignore"):
            xa = (kappa_v - A) / math.sqrt(1 - qq)
            ra = _SQRT_2_OVER_PI / sc.erfcx(xa * _SQRT_HALF)
            vals = self._F(qq, xa, ra, sc.log_ndtr(-xa) if value else 0.0)
            Ek = dict(zip(_F_ORDERS, (np.broadcast_to(val, A.shape) @ self._w1 for val in vals)))
        Wt = g["W"]
        # Jacobians of (a, sigma, q) w.r.t. (q, t, R, d)
        a_x = [0.0, (sqt * w - Rt_v * V) / c1sq - U / c2, (qt_v * V - sqt * Rt_v * w) / c1sq, -2 * U / c2]
        s_x = [1.0, -2 * dev / c1sq + 2 * (p - tt) / c2**2, -2 * RR + 2 * Rt_v * dev / c1sq, 4 * (p - tt) / c2**2]
        q_x = [1.0, 0.0, 0.0, 0.0]
        s_xx = np.zeros((3, 3))
        s_xx[1, 1] = -2 / c1sq - 2 / c2**2
        s_xx[2, 2] = -2 - 2 * Rt_v**2 / c1sq
        s_xx[1, 2] = s_xx[2, 1] = 2 * Rt_v / c1sq
        g1 = (Ek[(1, 0)], 0.5 * Ek[(2, 0)], Ek[(0, 1)])
        h2 = ((Ek[(2, 0)], 0.5 * Ek[(3, 0)], Ek[(1, 1)]),
              (0.5 * Ek[(3, 0)], 0.25 * Ek[(4, 0)], 0.5 * Ek[(2, 1)]),
              (Ek[(1, 1)], 0.5 * Ek[(2, 1)], Ek[(0, 2)]))

        def wsum(arr):
            return float(np.sum(Wt * arr))

        val = wsum(Ek[(0, 0)]) if value else math.nan
        grads = [wsum(g1[0] * a_x[i] + g1[1] * s_x[i] + g1[2] * q_x[i]) for i in range(4)]
        hess = np.zeros((3, 3))
        for i in range(3):
            vi = (a_x[i], s_x[i], q_x[i])
            for j in range(i, 3):
                vj = (a_x[j], s_x[j], q_x[j])
                acc = g1[1] * s_xx[i, j]
                for k in range(3):
                    for m in range(3):
                        if isinstance(vi[k], float) and vi[k] == 0.0 or isinstance(vj[m], float) and vj[m] == 0.0:
                            continue
                        acc = acc + h2[k][m] * (vi[k] * vj[m])
                hess[i, j] = hess[j, i] = wsum(acc)
        return val, np.array(grads[:3]), hess, grads[3]

    # ---------------------------------------------------------------- entropic term
    def entropic(self, ref, x):
        """value, grad (4,), hess (4, 4) in (qhat, that, phat, Rhat) of the entropic expectation."""
        _, qth_v, _, Rth_v = ref
        qh, th, ph, Rh = (float(a) for a in x[3:7])
        sig = qh - th**2 / qth_v
        if sig < -_SIG_TOL:
            return math.nan, np.full(4, np.nan), np.full((4, 4), np.nan)
        sq = math.sqrt(qth_v)
        zt_ = self._zt
        tanh_h = np.tanh(sq * zt_ + Rth_v)
        s_x = np.array([1.0, -2 * th / qth_v, 0.0, 0.0])
        s_xx = np.zeros((4, 4))
        s_xx[1, 1] = -2 / qth_v
        val, grad, hess = 0.0, np.zeros(4), np.zeros((4, 4))
        ssig = math.sqrt(max(sig, 0.0))
        for sgn in (1.0, -1.0):
            wgt = 0.5 * (1 + sgn * tanh_h) * self._wt
            m = th / sq * zt_ + sgn * (ph - th) + Rh
            arg = m[:, None] + ssig * self._z
            e = [f @ self._wz for f in self._f(arg)]
            mx = [np.zeros_like(zt_), zt_ / sq - sgn, np.full_like(zt_, sgn), np.ones_like(zt_)]
            val += float(wgt @ e[0])
            for i in range(4):
                grad[i] += float(wgt @ (e[1] * mx[i] + 0.5 * e[2] * s_x[i]))
                for j in range(i, 4):
                    hij = (e[2] * mx[i] * mx[j] + 0.5 * e[3] * (mx[i] * s_x[j] + mx[j] * s_x[i])
                           + 0.25 * e[4] * s_x[i] * s_x[j] + 0.5 * e[2] * s_xx[i, j])
                    hess[i, j] += float(wgt @ hij)
        hess = np.triu(hess) + np.triu(hess, 1).T
        return val, grad, hess

    # ---------------------------------------------------------------- total
    def evaluate(self, c, x, ref, *, value=True):
        """``(phi, grad (7,), hessian (7, 7), dphi/dd)`` at control ``c = (alpha, kappa,
        kappa_tilde, d)``, order ``x = (q, t, R, qhat, that, phat, Rhat)`` and reference state
        ``ref = (q_tilde, qhat_tilde, R_tilde, Rhat_tilde)``; ``value=False`` returns phi = NaN
        (faster: used inside Newton's method)."""
        a, kap, ktv, dv = c
        x = np.asarray(x, float)
        qq, tt, RR, qh, th, ph, Rh = x
        p = 1 - 2 * dv
        free = a == 0 or ref[1] == 0
        xe = x
        if free:                 # uniform reference, teacher irrelevant: t = that = R = Rhat = 0
            ref = (0.0, 1.0, 0.0, 0.0)
            xe = np.array([qq, 0.0, 0.0, qh, 0.0, ph, 0.0])
        ev, eg, eh = self.entropic(ref, xe)
        phi = -ph * p + th * tt - qh * (1 - qq) / 2 - Rh * RR + ev
        g = np.zeros(7)
        hs = np.zeros((7, 7))
        g[0], g[1], g[2] = qh / 2, th, -Rh
        g[3:] = eg
        g[3] += -(1 - qq) / 2
        g[4] += tt
        g[5] += -p
        g[6] += -RR
        hs[3:, 3:] = eh
        hs[0, 3] = hs[3, 0] = 0.5
        hs[1, 4] = hs[4, 1] = 1.0
        hs[2, 6] = hs[6, 2] = -1.0
        dphi = 2 * ph
        if not free:
            nv, ng, nh, nd = self.energetic(kap, ref, ktv, dv, x, value=value)
            phi += a * nv
            g[:3] += a * ng
            hs[:3, :3] += a * nh
            dphi += a * nd
        else:
            for i in (1, 2, 4, 6):
                g[i] = x[i]
                hs[i, :] = hs[:, i] = 0.0
                hs[i, i] = 1.0
        return float(phi), g, hs, float(dphi)

    def value(self, c, x, ref):
        """phi only (no derivatives): the outer terms, the entropic and the energetic values."""
        a, kap, ktv, dv = c
        qq, tt, RR, qh, th, ph, Rh = (float(v) for v in x)
        if a == 0 or ref[1] == 0:
            return self.evaluate(c, x, ref)[0]
        phi = -ph * (1 - 2 * dv) + th * tt - qh * (1 - qq) / 2 - Rh * RR + self.entropic(ref, x)[0]
        qt_v, _, Rt_v, _ = ref
        g = self._grid(qt_v, Rt_v, ktv)
        c1sq, c2 = g["c1sq"], g["c2"]
        p = 1 - 2 * dv
        dev = tt - RR * Rt_v
        sig = qq - RR**2 - dev**2 / c1sq - (p - tt)**2 / c2**2
        if sig < -_SIG_TOL or not qq < 1:
            return math.nan
        A0 = ((RR * qt_v - Rt_v * tt) / c1sq * g["V"] + math.sqrt(qt_v) * dev / c1sq * g["w"]
              + (p - tt) / c2 * g["U"])
        A = A0[..., None] + math.sqrt(max(sig, 0.0)) * self._z1
        return float(phi + a * np.sum(g["W"] * (sc.log_ndtr(-(kap - A) / math.sqrt(1 - qq)) @ self._w1)))


# --------------------------------------------------------------------------- references
@functools.lru_cache(maxsize=256)
def teacher_reference_state(alpha_value, kappa_tilde_value=0.0):
    r"""RS state of the reference: ``(q_tilde, qhat_tilde, R_tilde, Rhat_tilde, s_ref)`` of
    ``perceptron.ising_teacher_margin`` at :math:`(\alpha, \tilde\kappa)` (poorly generalising
    branch). α = 0 gives ``(0, 0, 0, 0, ln 2)``."""
    from ...solvers import solve
    a = ALPHA.validate(alpha_value, "teacher_reference_state")
    k = KAPPA_T.validate(kappa_tilde_value, "teacher_reference_state")
    if a == 0:
        return 0.0, 0.0, 0.0, 0.0, math.log(2.0)
    r = solve("perceptron.ising_teacher_margin", {"alpha": a, "kappa": k})
    if not r.converged:
        raise SaddlePointNotConverged(
            f"The reference state of perceptron.ising_teacher_margin at alpha={a}, kappa_tilde={k} did not "
            f"converge ({r.message}); choose (alpha, kappa_tilde) on its poorly generalising RS branch.")
    o = r.order_parameters
    return o["q"], o["qhat"], o["R"], o["Rhat"], r.free_entropy


@functools.lru_cache(maxsize=64)
def teacher_kappa_max(alpha_value):
    r"""Largest reference margin with non-negative RS entropy, :math:`\kappa_{max}(\alpha)`: the
    ``kappa_max`` transition of ``perceptron.ising_teacher_margin`` (``phasekit.find_transition``)."""
    from ...solvers import find_transition
    a = ALPHA.validate(alpha_value, "teacher_kappa_max")
    if a == 0:
        raise InvalidParameterError("The 'alpha' parameter of teacher_kappa_max must be a float in the range "
                                    f"(0, inf). Got {alpha_value!r} instead.")
    tr = find_transition("perceptron.ising_teacher_margin", "kappa_max", {"alpha": a})
    if not tr.converged:
        raise SaddlePointNotConverged(f"kappa_max of perceptron.ising_teacher_margin at alpha={a} was not found "
                                      f"({tr.message}).")
    return float(tr.value)


def _resolve_kappa_tilde(kappa_tilde, a, where):
    if isinstance(kappa_tilde, str):
        if kappa_tilde != "max":
            raise InvalidParameterError(f"The 'kappa_tilde' parameter of {where} must be a float in the range "
                                        f"[0, inf) or 'max'. Got {kappa_tilde!r} instead.")
        return teacher_kappa_max(a)
    return KAPPA_T.validate(kappa_tilde, where)


# --------------------------------------------------------------------------- Newton + continuation
_NOISE = 1e-8          # gradient floor accepted when the line search stalls (quadrature rounding)
_LO = np.array([0.0, -1.0, -1.0, 0.0, -np.inf, -np.inf, -np.inf])
_HI = np.array([1 - 1e-13, 1.0, 1.0, np.inf, np.inf, np.inf, np.inf])


def _feasible(x, c, ref, margin=-0.5 * _SIG_TOL):
    """Raise q and qhat just enough that both Gaussian variances are >= 0."""
    x = np.clip(np.array(x, float), _LO, _HI)
    qt_v, qth_v, Rt_v, _ = ref
    if qth_v > 0 and c[0] > 0:
        p = 1 - 2 * c[3]
        need = x[2]**2 + (x[1] - x[2] * Rt_v)**2 / (qt_v - Rt_v**2) + (p - x[1])**2 / (1 - qt_v)
        if x[0] < need + margin:
            x[0] = min(need + margin, 1 - 1e-13)
        need_e = x[4]**2 / qth_v
        if x[3] < need_e + margin:
            x[3] = need_e + margin
    return x


def _newton(kernel, c, x, ref, tol=1e-11, maxiter=40):
    """Damped Newton (:func:`~phasekit.solvers.damped_newton`) on the gradient; returns
    ``(x, phi, grad, dphi/dd, converged, iterations)``."""
    r = damped_newton(lambda y: kernel.evaluate(c, y, ref, value=False), _feasible(x, c, ref),
                      project=lambda y: _feasible(y, c, ref), tol=tol, maxiter=maxiter, noise_floor=_NOISE,
                      lstsq=True)
    phi = kernel.value(c, r.x, ref) if r.converged else math.nan
    return r.x, phi, r.gradient, r.extra, r.converged, r.iterations


def _predict(hist, s):
    """Lagrange extrapolation through the last (up to) three points of ``hist`` to ``s``."""
    pts = hist[-3:] if len(hist) >= 3 else hist[-2:] if len(hist) >= 2 else hist[-1:]
    out = np.zeros_like(pts[-1][1])
    for i, (si, xi) in enumerate(pts):
        li = 1.0
        for j, (sj, _) in enumerate(pts):
            if j != i:
                li *= (s - sj) / (si - sj)
        out = out + li * xi
    return out


def _continue_to(kernel, c3, ref, hist, target, tol, max_fail=24, max_step=0.03):
    """Advance the continuation in ``hist`` (list of (d, x)) to ``target`` in steps of at most
    ``max_step``, halving a step on failure."""
    from ...solvers._continuation import advance_path

    def correct(dt, pred):
        x, phi, g, dd, ok, _ = _newton(kernel, (*c3, dt), pred, ref, tol)
        return x, ok, (phi, dd, float(np.max(np.abs(g))))

    ok, x, info = advance_path(hist, target, correct, predict=_predict, max_fail=max_fail, jump_dims=3,
                               max_step=max_step)
    return (True, (x, *info)) if ok else (False, None)


def _start_point(kernel, a, kap, ktv, ref, d_typ, tol):
    """Converged state at d = d_typ: the exact point when kappa = kappa_tilde, otherwise reached
    by continuation in kappa from it."""
    qt_v, qth_v, Rt_v, Rth_v = ref
    x_exact = np.array([qt_v, qt_v, Rt_v, qth_v, qth_v, qth_v, Rth_v])
    if a == 0:
        return np.zeros(7)
    x = x_exact
    if kap == ktv:
        x2, *_rest, ok, _ = _newton(kernel, (a, kap, ktv, d_typ), x, ref, tol)
        return x2 if ok else None
    ks = [ktv]
    hist = [(ktv, x)]
    todo = [kap]
    fails = 0
    while todo:
        k = todo[-1]
        if len(hist) >= 2:
            (k0, x0), (k1, x1) = hist[-2], hist[-1]
            pred = x1 + (x1 - x0) * (k - k1) / (k1 - k0)
        else:
            pred = hist[-1][1]
        xn, *_rest, ok, _ = _newton(kernel, (a, k, ktv, d_typ), pred, ref, tol)
        if ok:
            hist.append((k, xn))
            todo.pop()
            ks.append(k)
        else:
            fails += 1
            if fails > 20:
                return None
            todo.append(0.5 * (hist[-1][0] + k))
    return hist[-1][1]


@dataclasses.dataclass(frozen=True)
class TeacherLocalEntropyCurve:
    r"""Teacher–student :math:`S_{FP}(d)` and the overlap with the teacher along it.

    Attributes
    ----------
    d : ndarray
        Hamming distances from the reference (input order).
    entropy : ndarray
        :math:`S_{FP}(d)` in nats per weight (NaN where not converged).
    R : ndarray
        Overlap of the counted students with the teacher.
    eps_gen : ndarray
        Generalisation error :math:`\arccos(R)/\pi` of those students.
    dS_dd : ndarray
        :math:`\partial S_{FP}/\partial d` (envelope theorem).
    order_parameters : dict of ndarray
        ``q, t, R, qhat, that, phat, Rhat``.
    converged, residual : ndarray
        Per point: Newton converged; max-norm of the gradient.
    params : dict
        ``alpha, kappa, kappa_tilde`` (the resolved number when ``"max"`` was asked).
    q_tilde, R_tilde, s_ref, d_typ : float
        Reference state; :math:`d_{typ} = (1-\tilde q)/2`.
    eps_ref : float
        :math:`\arccos(\tilde R)/\pi`, generalisation error of the reference itself.
    """

    model: str
    params: dict
    d: np.ndarray
    entropy: np.ndarray
    R: np.ndarray
    eps_gen: np.ndarray
    dS_dd: np.ndarray
    order_parameters: dict
    converged: np.ndarray
    residual: np.ndarray
    q_tilde: float
    R_tilde: float
    s_ref: float
    d_typ: float
    eps_ref: float
    message: str = ""


def teacher_local_entropy_curve(alpha, d, *, kappa=0.0, kappa_tilde=0.0, tol=1e-11) -> TeacherLocalEntropyCurve:
    r"""Franz–Parisi local entropy of the Ising teacher–student perceptron and the students'
    overlap :math:`R` with the teacher, on a grid of distances from the reference.

    Continuation in ``d`` from :math:`d_{typ} = (1-\tilde q)/2` (the exact point
    :math:`S_{FP}=s_{ref}` when κ = κ̃; for κ ≠ κ̃ it is first followed in κ at :math:`d_{typ}`)
    towards both ends of the grid, each point by Newton's method with the Hessian of the kernel
    from a secant prediction (steps are halved automatically when a point fails).

    Parameters
    ----------
    alpha : float
        Load α = P/N ≥ 0.
    d : array_like
        Hamming distances in (0, 1/2), any order.
    kappa : float
        Margin κ ≥ 0 of the counted students (0: all version-space solutions).
    kappa_tilde : float or "max"
        Margin κ̃ ≥ 0 of the reference; 0 is a Bayes-posterior sample, ``"max"`` uses
        :func:`teacher_kappa_max` (largest margin with non-negative entropy).
    tol : float
        Newton tolerance on the max-norm of the gradient.

    Returns
    -------
    TeacherLocalEntropyCurve

    Examples
    --------
    >>> c = teacher_local_entropy_curve(0.5, [0.3534545, 0.05])
    >>> round(float(c.entropy[0]), 6), round(float(c.R[0]), 6)   # exact point: s_ref and R_tilde
    (0.372133, 0.293089)
    """
    a = ALPHA.validate(alpha, "teacher_local_entropy_curve")
    kap = KAPPA.validate(kappa, "teacher_local_entropy_curve")
    ktv = _resolve_kappa_tilde(kappa_tilde, a, "teacher_local_entropy_curve") if a > 0 else (
        0.0 if isinstance(kappa_tilde, str) else KAPPA_T.validate(kappa_tilde, "teacher_local_entropy_curve"))
    dv = np.atleast_1d(np.asarray(d, float)).ravel()
    for x in dv:
        DIST.validate(x, "teacher_local_entropy_curve")
    kernel = _kernel()
    qt_v, qth_v, Rt_v, Rth_v, s_ref = teacher_reference_state(a, ktv)
    ref = (qt_v, qth_v, Rt_v, Rth_v)
    d_typ = (1 - qt_v) / 2
    n = dv.size
    X = np.full((n, 7), np.nan)
    phi, dd, resid = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    conv = np.zeros(n, bool)
    x_start = _start_point(kernel, a, kap, ktv, ref, d_typ, tol)
    msg = ""
    if x_start is None:
        msg = "no converged start at d_typ; "
    else:
        order = np.argsort(dv, kind="stable")
        up = [i for i in order if dv[i] >= d_typ]
        down = [i for i in order[::-1] if dv[i] < d_typ]
        for seq in (up, down):
            hist = [(d_typ, x_start.copy())]
            for i in seq:
                ok, out = _continue_to(kernel, (a, kap, ktv), ref, hist, dv[i], tol)
                if ok:
                    X[i], phi[i], dd[i], resid[i] = out
                    conv[i] = True
                else:
                    break
    ops = {k: X[:, j] for j, k in enumerate(ORDER_NAMES)}
    Rv = X[:, 2]
    with np.errstate(invalid="ignore"):
        eps = np.arccos(np.clip(Rv, -1, 1)) / math.pi
    return TeacherLocalEntropyCurve(
        "perceptron.local_entropy_teacher", {"alpha": a, "kappa": kap, "kappa_tilde": ktv}, dv, phi, Rv, eps, dd,
        ops, conv, resid, qt_v, Rt_v, s_ref, d_typ, math.acos(max(-1.0, min(1.0, Rt_v))) / math.pi,
        msg + f"{int(conv.sum())}/{n} points converged")


@functools.lru_cache(maxsize=1)
def _kernel():
    return TeacherFPKernel()


# --------------------------------------------------------------------------- model
@register_model("perceptron.local_entropy_teacher")
class TeacherLocalEntropy(KernelModel):
    r"""Franz–Parisi local entropy of the Ising teacher–student perceptron (RS), with the overlap
    :math:`R` of the counted students with the teacher.

    Control: ``alpha``, ``kappa`` (margin of the counted students), ``kappa_tilde`` (margin of the
    reference: 0 = Bayes-posterior sample, :func:`teacher_kappa_max` = dense-region proxy), ``d``
    (Hamming distance). Order: ``q, t, R, qhat, that, phat, Rhat``. The free entropy is
    :math:`S_{FP}` in nats per weight; observables ``R``, ``eps_gen`` = arccos(R)/π, ``dS_dd``,
    ``q_tilde``, ``R_tilde``, ``s_ref``, ``d_typ``. For curves use :func:`teacher_local_entropy_curve`;
    :func:`phasekit.solve` starts from that curve's point (branch ``exact``).
    """

    description = "Franz-Parisi local entropy of the Ising teacher-student perceptron and the overlap with the teacher"
    references = ("S. Franz, G. Parisi, J. Phys. I 5, 1401 (1995)",
                  "C. Baldassi et al., PRL 115, 128101 (2015); PRL 127, 278301 (2021)",
                  "G. Gyorgyi, PRA 41, 7097 (1990)")
    control = (ALPHA, KAPPA, KAPPA_T, DIST)
    order = ORDER
    branches = (Branch("exact", lambda p: TeacherLocalEntropy._start(p),
                       "continued from the exact point p = q_tilde", method="newton"),)
    damping = 0.5
    n_ref = 4

    @staticmethod
    def _start(params):
        from ..._registry import get_model
        return get_model("perceptron.local_entropy_teacher").exact_start(params)

    def free_entropy(self):
        return teacher_fp_free_entropy()

    @property
    def kernel(self):
        return _kernel()

    def reference(self, alpha_value, kappa_tilde_value):
        return teacher_reference_state(float(alpha_value), float(kappa_tilde_value))

    @functools.cached_property
    def observables_numeric(self):
        def ref_part(j):
            return lambda *vals: np.vectorize(lambda a, k: self.reference(a, k)[j])(vals[0], vals[2])

        return {"entropy": lambda *vals: np.asarray(vals[11], float),
                "R": lambda *vals: np.asarray(vals[6], float),
                "eps_gen": lambda *vals: np.arccos(np.clip(np.asarray(vals[6], float), -1, 1)) / math.pi,
                "dS_dd": self._part(3), "q_tilde": ref_part(0), "R_tilde": ref_part(2), "s_ref": ref_part(4),
                "d_typ": lambda *vals: (1 - ref_part(0)(*vals)) / 2}

    def observables(self):
        return {"entropy": self.phi_symbol, "R": R, "eps_gen": sp.acos(R) / sp.pi}

    def exact_start(self, params):
        """The exact point p = q_tilde; when ``d`` is given, the curve's solution at that d."""
        a = params["alpha"]
        k_t = params.get("kappa_tilde", 0.0)
        qt_v, qth_v, Rt_v, Rth_v, _ = self.reference(a, k_t)
        x = dict(zip(ORDER_NAMES, (qt_v, qt_v, Rt_v, qth_v, qth_v, qth_v, Rth_v)))
        if params.get("d") is not None:
            c = teacher_local_entropy_curve(a, [params["d"]], kappa=params.get("kappa", 0.0), kappa_tilde=k_t)
            if c.converged[0]:
                x = {k: float(val[0]) for k, val in c.order_parameters.items()}
        return x
