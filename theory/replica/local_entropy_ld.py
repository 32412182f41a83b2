r"""Large-deviation ("robust ensemble") local entropy of the binary perceptron and its transition
:math:`\alpha_U` (κ = 0, replica-symmetric, reference constrained to be a solution).

Model
-----
Binary weights :math:`W\in\{\pm1\}^N`, :math:`P=\alpha N` Gaussian patterns with random labels,
:math:`X(W)=\prod_\mu\theta(y^\mu W\cdot\xi^\mu/\sqrt N)` (margin 0). For a reference
:math:`\tilde W` let :math:`\mathcal N(\tilde W,d)=\sum_W X(W)\,\delta(W\cdot\tilde W-(1-2d)N)`.
The large-deviation partition function (Baldassi, Ingrosso, Lucibello, Saglietti, Zecchina,
PRL 115, 128101 (2015), arXiv:1509.05753)

.. math:: Z(d,y)=\sum_{\tilde W}X(\tilde W)\,\mathcal N(\tilde W,d)^y

weights every reference solution by its local entropy; :math:`y\to\infty` selects the references
of maximal local entropy. :math:`\Phi(d,y)=\lim N^{-1}\mathbb E\ln Z`, the local entropy of the
selected references :math:`S_I=\partial_y\Phi`, the complexity (log-number of such references)
:math:`\Sigma=\Phi-yS_I`.

Replicated computation (derivation)
-----------------------------------
:math:`\mathbb E Z^n`: n references :math:`\tilde W^a`, each with y replicas :math:`W^{ai}`
(integer y, continued analytically). RS overlaps (per N): :math:`\tilde W^a\cdot\tilde W^b=Q`,
:math:`\tilde W^a\cdot W^{ai}=p=1-2d` (fixed), :math:`\tilde W^a\cdot W^{bi}=T` (a ≠ b),
:math:`W^{ai}\cdot W^{aj}=q_1` (i ≠ j), :math:`W^{ai}\cdot W^{bj}=q_0` (a ≠ b); conjugates
:math:`\hat Q,\hat p,\hat T,\hat q_1,\hat q_0`. With :math:`X_a=\tilde W^a`,
:math:`Y_a=\sum_i W^{ai}` the site exponent is

.. math::
    \tfrac{\hat Q}{2}(\textstyle\sum_a X_a)^2+\hat T(\sum_a X_a)(\sum_b Y_b)
    +\tfrac{\hat q_0}{2}(\sum_a Y_a)^2
    +\sum_a\big[(\hat p-\hat T)X_aY_a+\tfrac{\hat q_1-\hat q_0}{2}Y_a^2\big]
    -\tfrac{n\hat Q}{2}-\tfrac{ny\hat q_1}{2}.

A two-dimensional common Hubbard–Stratonovich field :math:`(\tilde z,z)` decouples the groups
(:math:`h_X=\sqrt{\hat Q}\tilde z`, :math:`h_Y=\frac{\hat T}{\sqrt{\hat Q}}\tilde z
+\sqrt{\hat q_0-\hat T^2/\hat Q}\,z`) and a group field :math:`z_1` the :math:`Y_a^2` term. The
energetic term uses the same structure for the pre-activations: common
:math:`(z_0,z_0')`, group :math:`(u_1,z_1)`, individual :math:`v`:
:math:`\tilde\lambda=\sqrt Q z_0+\sqrt{1-Q}\,u_1`,
:math:`\lambda=A+\sqrt{1-q_1}v`,
:math:`A=\frac{T}{\sqrt Q}z_0+\sqrt{q_0-\frac{T^2}{Q}}z_0'+\frac{p-T}{\sqrt{1-Q}}u_1
+\sqrt{q_1-q_0-\frac{(p-T)^2}{1-Q}}\,z_1`. With :math:`n(n-1)\to-n` (n → 0) the RS result is

.. math::
    \Phi(d,y)=\operatorname{extr}\Big\{\frac{\hat Q(Q-1)}{2}-y\hat p p+y\hat T T
      -\frac{y\hat q_1[(y-1)q_1+1]}{2}+\frac{y^2\hat q_0q_0}{2}+G_S+\alpha G_E\Big\},

.. math::
    G_S=\int D\tilde z\,Dz\,\ln\int Dz_1\sum_{X=\pm1}e^{Xh_X}
        \big[2\cosh\big(h_Y+\sqrt{\hat q_1-\hat q_0}\,z_1+(\hat p-\hat T)X\big)\big]^y,

.. math::
    G_E=\int Dz_0\,Dz_0'\,\ln\int_{u_0}^{\infty}Du_1\int Dz_1\,
        H\Big(-\frac{A}{\sqrt{1-q_1}}\Big)^y,\qquad u_0=-\frac{\sqrt Q z_0}{\sqrt{1-Q}}.

The lower limit :math:`u_0` is the reference constraint :math:`\tilde\lambda\ge0` (reference is a
solution). The *unconstrained* variant of the PRL (reference any point of the hypercube) drops it
(:math:`u_0\to-\infty`); it is not implemented here.

Stationarity. Entropic side, with :math:`\langle\cdot\rangle` the group measure
:math:`\propto Dz_1\,e^{Xh_X}[2\cosh g_X]^y` over :math:`(X,z_1)`, :math:`m=\tanh g_X`:
:math:`Q=\mathbb E\langle X\rangle^2`, :math:`p=\mathbb E\langle Xm\rangle` (fixes
:math:`\hat p`), :math:`T=\mathbb E\langle X\rangle\langle m\rangle`,
:math:`q_1=\mathbb E\langle m^2\rangle`, :math:`q_0=\mathbb E\langle m\rangle^2`. Energetic side:
:math:`\hat Q=-2\alpha\partial_QG_E`, :math:`\hat T=-\alpha\partial_TG_E/y`,
:math:`\hat q_1=2\alpha\partial_{q_1}G_E/(y(y-1))`, :math:`\hat q_0=-2\alpha\partial_{q_0}G_E/y^2`
(derivatives of the quadrature by central differences; y = 1 is degenerate and refused).
By the envelope theorem :math:`S_I=\partial_y\Phi` at fixed order parameters:

.. math::
    S_I=-\hat pp+\hat TT-\frac{\hat q_1[(2y-1)q_1+1]}{2}+y\hat q_0q_0
        +\mathbb E\langle\ln2\cosh g_X\rangle+\alpha\,\mathbb E\langle\ln H(-A/\sqrt{1-q_1})\rangle.

Limits: y → 0 gives :math:`\Phi\to s_{eq}` (reference entropy, ``perceptron.binary_storage``) and
:math:`S_I\to S_{FP}` of the typical reference (:math:`q_0,\hat q_0` drop out; :math:`z,z_1`
merge into the field of variance :math:`\hat q_1-\hat T^2/\hat Q`); α = 0 gives
:math:`S_I=-d\ln d-(1-d)\ln(1-d)` for every y. The bookkeeping (HS decomposition and the
n → 0 constants) is checked against brute-force enumeration at integer n, y by sympy in the tests.

Numerics: Gauss–Hermite for :math:`\tilde z,z,z_1,z_0,z_0'`, the truncated :math:`u_1` integral
by the map :math:`u_1=H^{-1}(UH(u_0))` with a tanh–sinh rule in U (as in
:mod:`phasekit.theory.replica.local_entropy`); the outer :math:`(\tilde z, z)` rule needs ~80 nodes
(features of width ~1/(y|p̂−T̂|)); energetic derivatives by central differences of the quadrature.
Curves start from the exact stationary point at :math:`d_{typ}=(1-\tilde q)/2` (all overlaps
:math:`\tilde q`, all conjugates :math:`\hat{\tilde q}`: Φ = (1 + y) s_eq, S_I = s_eq for every
y — the y replicas are then just more typical solutions) and are continued in d by Newton/Broyden.

Results (κ = 0, RS, finite y; the y → ∞ limit was not derived)
-------------------------------------------------------------
* y → 0 (extrapolated from y = 0.05, 0.1): Φ → s_eq = 0.31439 and S_I(0.25) → S_FP(0.25) of
  :mod:`phasekit.theory.replica.local_entropy` within 2e-4 (tests).
* α = 0.5, y = 5: S_I(d) = 0.0396, 0.0707, 0.0968, 0.1296, 0.1569, 0.1874, 0.2340, 0.2888 at
  d = 0.01, 0.02, 0.03, 0.045, 0.06, 0.08, 0.12, 0.2; Σ ∈ [0.21, 0.27] > 0 (monotone, positive:
  dense regions, unlike the typical-reference S_FP which is negative at small d).
* α = 0.7, y = 5: S_I = 0.0119, 0.0237, 0.0398, 0.0512, 0.0644, 0.0756, 0.0888 at d = 0.005,
  0.01, 0.02, 0.03, 0.045, 0.06, 0.08 (Σ ≥ 0.033). y = 10: S_I(0.01) = 0.0355 but Σ < 0 for
  d ≤ 0.045; Σ = 0 prescription at d = 0.02: y* = 6.67, S_I = 0.0456.
* Transition, y = 5 (``ld_alpha_u(y=5, bracket=(0.76, 0.81), xtol=3e-3)``, grid
  d = 0.01, 0.02, 0.03, 0.045, 0.06, 0.08): **α_U(y=5) = 0.7816 ± 0.0008** (sign change between
  0.7809 and 0.7824; brentq returned 0.7824) — min slope 0.657 (α = 0.70),
  0.371 (0.76), 0.242 (0.7735), 0.194 (0.7775), 0.169 (0.7790), 0.134 (0.7809), then −0.036 at
  0.7824 (S_I(0.03) < S_I(0.02): a genuine dip); at 0.7857, 0.794, 0.81 the branch continued
  from d_typ no longer reaches d < 0.045 (criterion −1). Σ < 0 at d ≤ 0.045 there: y = 5 is
  above the physical y*.
* Σ = 0 prescription (:func:`ld_sigma_zero`), α = 0.76: y* = 4.31, 4.01, 4.30, 5.41, 10.65 and
  S_I = 0.0113, 0.0181, 0.0245, 0.0332, 0.0502 at d = 0.01, 0.02, 0.03, 0.045, 0.08 (d = 0.06 not
  converged): monotone. α = 0.78: y* = 3.29, 3.05, 3.97, 5.32, 7.69 and S_I = 0.0024, 0.0063,
  0.0181, 0.0247, 0.0329 at d = 0.01, 0.02, 0.045, 0.06, 0.08 (d = 0.03 not converged): still
  monotone but S_I(0.01) is almost 0.
* y = 3, α = 0.7824: monotone (min slope 0.31), S_I(0.01) = 5e-5, Σ ≈ 0 at small d; so α_U
  depends on y (above 0.7824 at y = 3, 0.7816 at y = 5) and is not converged in y.
* y = 10: monotone on [0.01, 0.08] at α = 0.75 (min slope 0.29); at α = 0.76–0.78 the curve
  flattens (slope 0.03 at d = 0.03–0.045 for α = 0.78) and the continuation loses the branch
  below d ≈ 0.017–0.03, path-dependently (numerical, not resolved): α_U at y ≥ 10 not located.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.optimize as so
import scipy.special as sc

from ..._constraints import check_array, check_scalar, invalid_parameter
from ..._errors import InvalidParameterError
from ...solvers._quadrature import tanh_sinh, truncated_nodes

__all__ = ["LDState", "ld_local_entropy", "ld_curve", "LDCurve", "ld_criterion", "ld_alpha_u",
           "LDTransition", "ld_free_entropy_terms", "ld_sigma_zero"]

NAMES = ("Q", "T", "q1", "q0", "Qhat", "phat", "That", "q1hat", "q0hat")


# --------------------------------------------------------------------------- quadrature
@functools.lru_cache(maxsize=16)
def _gh(n):
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def _log2cosh(x):
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2 * ax))


@dataclasses.dataclass(frozen=True)
class _Grid:
    n_ent: int = 80        # z~ and z (outer, entropic): features of width ~1/(y|phat-That|)
    n_z1: int = 30         # group field, entropic
    n_z0: int = 20         # z0, z0' (outer, energetic)
    n_e1: int = 16         # z1 (group, energetic)
    h_u: float = 0.25      # tanh-sinh step for u1


# --------------------------------------------------------------------------- terms
def _entropic(xh, y, grid):
    """G_S, dG_S/dy and the entropic averages (Q, p, T, q1, q0) at conjugates xh."""
    Qh, ph, Th, q1h, q0h = xh
    zo, wo = _gh(grid.n_ent)
    z1, w1 = _gh(grid.n_z1)
    if Qh > 0:
        c = Th / math.sqrt(Qh)
        s = q0h - Th**2 / Qh
    else:
        c, s = 0.0, q0h
    if s < -1e-12 or q1h - q0h < -1e-12:
        return None
    s = math.sqrt(max(s, 0.0))
    dh = math.sqrt(max(q1h - q0h, 0.0))
    hX = math.sqrt(max(Qh, 0.0)) * zo[:, None] + 0 * zo[None, :]          # (zt, z)
    hY = c * zo[:, None] + s * zo[None, :]
    g0 = hY[..., None] + dh * z1                                          # (zt, z, z1)
    gp, gm = g0 + (ph - Th), g0 - (ph - Th)
    Lp, Lm = _log2cosh(gp), _log2cosh(gm)
    lw = np.log(w1)
    ap = hX[..., None] + y * Lp + lw
    am = -hX[..., None] + y * Lm + lw
    mx = np.maximum(ap.max(-1), am.max(-1))[..., None]
    ep, em = np.exp(ap - mx), np.exp(am - mx)
    Zg = ep.sum(-1) + em.sum(-1)
    lnZ = np.log(Zg) + mx[..., 0]
    ep, em = ep / Zg[..., None], em / Zg[..., None]
    mp, mm = np.tanh(gp), np.tanh(gm)
    X = (ep - em).sum(-1)
    M = (ep * mp + em * mm).sum(-1)
    XM = (ep * mp - em * mm).sum(-1)
    M2 = (ep * mp**2 + em * mm**2).sum(-1)
    LL = (ep * Lp + em * Lm).sum(-1)
    W = wo[:, None] * wo[None, :]
    E = lambda a: float(np.sum(W * a))  # noqa: E731
    return dict(G=E(lnZ), dG_dy=E(LL), Q=E(X**2), p=E(XM), T=E(X * M), q1=E(M2), q0=E(M**2))


def _energetic(o, p, y, grid, kappa=0.0, want_dy=False):
    """G_E (and dG_E/dy) at overlaps o = (Q, T, q1, q0); None outside the feasible domain."""
    Q, T, q1, q0 = o
    if not (0 < Q < 1 and q1 < 1):
        return None
    sc_ = q0 - T**2 / Q
    sg = q1 - q0 - (p - T)**2 / (1 - Q)
    if sc_ < -1e-12 or sg < -1e-12:
        return None
    z0, w0 = _gh(grid.n_z0)
    z1, w1 = _gh(grid.n_e1)
    U, V, wu = tanh_sinh(grid.h_u)
    u0 = (kappa - math.sqrt(Q) * z0) / math.sqrt(1 - Q)
    u1 = truncated_nodes(u0, U, V)                                        # (z0, U)
    lnHu0 = sc.log_ndtr(-u0)
    a = (T / math.sqrt(Q) * z0)[:, None, None, None] \
        + math.sqrt(max(sc_, 0.0)) * z0[None, :, None, None] \
        + ((p - T) / math.sqrt(1 - Q) * u1)[:, None, :, None] \
        + math.sqrt(max(sg, 0.0)) * z1[None, None, None, :]                # (z0, z0', U, z1)
    L = sc.log_ndtr(-(kappa - a) / math.sqrt(1 - q1))
    lw = np.log(wu)[None, None, :, None] + np.log(w1)[None, None, None, :]
    e = y * L + lw
    mx = e.max(axis=(2, 3), keepdims=True)
    pe = np.exp(e - mx)
    Zg = pe.sum(axis=(2, 3))
    lnZ = np.log(Zg) + mx[..., 0, 0] + lnHu0[:, None]
    W = w0[:, None] * w0[None, :]
    G = float(np.sum(W * lnZ))
    if not want_dy:
        return G
    dy = float(np.sum(W * (pe * L).sum(axis=(2, 3)) / Zg))
    return G, dy


def _energetic_grad(Q, T, sc_, sg, p, y, grid, kappa=0.0, h=1e-5):
    """Gradient of G_E in (Q, T, q1, q0), by finite differences in the variables
    (Q, T, s_c, s_g) (s_c = q0 - T^2/Q, s_g = q1 - q0 - (p-T)^2/(1-Q)); one-sided (second order)
    in a variance that is within 2h of zero, so the quadrature never sees a negative variance."""
    def f(v):
        Qv, Tv, a, b = v
        q0 = a + Tv**2 / Qv
        q1 = q0 + b + (p - Tv)**2 / (1 - Qv)
        return _energetic((Qv, Tv, q1, q0), p, y, grid, kappa)

    v0 = np.array([Q, T, max(sc_, 0.0), max(sg, 0.0)])
    gv = np.zeros(4)
    f0 = None
    for i in range(4):
        e = np.zeros(4)
        e[i] = h
        if i >= 2 and v0[i] < 2 * h:
            if f0 is None:
                f0 = f(v0)
            f1, f2 = f(v0 + e), f(v0 + 2 * e)
            if f0 is None or f1 is None or f2 is None:
                return None
            gv[i] = (-3 * f0 + 4 * f1 - f2) / (2 * h)
        else:
            fp, fm = f(v0 + e), f(v0 - e)
            if fp is None or fm is None:
                return None
            gv[i] = (fp - fm) / (2 * h)
    gQ, gT, gsc, gsg = gv
    return np.array([gQ + gsc * T**2 / Q**2 - gsg * (p - T)**2 / (1 - Q)**2,
                     gT - 2 * gsc * T / Q + 2 * gsg * (p - T) / (1 - Q),
                     gsg, gsc - gsg])


def _outer(x, p, y):
    """The overlap-conjugate term of Φ (n -> 0 limit, incl. the HS diagonal constants) and its
    y-derivative."""
    Q, T, q1, q0, Qh, ph, Th, q1h, q0h = map(float, x)
    phi0 = Qh * (Q - 1) / 2 - y * ph * p + y * Th * T - y * q1h * ((y - 1) * q1 + 1) / 2 \
        + y * y * q0h * q0 / 2
    dphi0 = -ph * p + Th * T - q1h * ((2 * y - 1) * q1 + 1) / 2 + y * q0h * q0
    return phi0, dphi0


def ld_free_entropy_terms(x, alpha, d, y, *, grid=None):
    r"""Φ, S_I = ∂Φ/∂y (at fixed order parameters) and the pieces, at order parameters ``x``
    (Q, T, q1, q0, Qhat, phat, That, q1hat, q0hat) — no extremisation. Returns a dict
    (``None`` outside the domain)."""
    grid = grid or _Grid()
    Q, T, q1, q0, Qh, ph, Th, q1h, q0h = map(float, x)
    p = 1 - 2 * d
    ent = _entropic((Qh, ph, Th, q1h, q0h), y, grid)
    if ent is None:
        return None
    if alpha > 0:
        en = _energetic((Q, T, q1, q0), p, y, grid, want_dy=True)
        if en is None:
            return None
        GE, dGE = en
    else:
        GE, dGE = 0.0, 0.0
    phi0, dphi0 = _outer(x, p, y)
    phi = phi0 + ent["G"] + alpha * GE
    S = dphi0 + ent["dG_dy"] + alpha * dGE
    return dict(phi=phi, S_I=S, G_S=ent["G"], G_E=GE, dGS_dy=ent["dG_dy"], dGE_dy=dGE, ent=ent)


def _from_v(v, d):
    """Internal unknowns v = (Q, T, s_c, s_g, Qhat, phat, That, shat, dhat) -> order parameters
    (Q, T, q1, q0, Qhat, phat, That, q1hat, q0hat); variances clipped at 0."""
    Q, T, a, b, Qh, ph, Th, sh, dh = v
    p = 1 - 2 * d
    a, b, sh, dh = max(a, 0.0), max(b, 0.0), max(sh, 0.0), max(dh, 0.0)
    q0 = a + T**2 / Q
    q1 = q0 + b + (p - T)**2 / (1 - Q)
    q0h = sh + (Th**2 / Qh if Qh > 0 else 0.0)
    return np.array([Q, T, q1, q0, Qh, ph, Th, q0h + dh, q0h])


def _to_v(x, d):
    Q, T, q1, q0, Qh, ph, Th, q1h, q0h = x
    p = 1 - 2 * d
    a = q0 - T**2 / Q
    return np.array([Q, T, a, q1 - q0 - (p - T)**2 / (1 - Q), Qh, ph, Th,
                     q0h - (Th**2 / Qh if Qh > 0 else 0.0), q1h - q0h])


def _residual(v, alpha, d, y, grid):
    """Stationarity residual (9,) at internal unknowns v, scaled to O(1)."""
    Q, T, a, b, Qh, ph, Th, sh, dh = v
    if not (0 < Q < 1) or Qh < 0:
        return np.full(9, 1e3)
    x = _from_v(v, d)
    _, _, q1, q0, _, _, _, q1h, q0h = x
    if not q1 < 1:
        return np.full(9, 1e3)
    p = 1 - 2 * d
    ent = _entropic((Qh, ph, Th, q1h, q0h), y, grid)
    if ent is None:
        return np.full(9, 1e3)
    r = np.empty(9)
    r[0] = Q - ent["Q"]
    r[1] = T - ent["T"]
    r[2] = q1 - ent["q1"] + min(b, 0.0)      # pushes a clipped variance back to 0
    r[3] = q0 - ent["q0"] + min(a, 0.0)
    r[4] = p - ent["p"]
    if alpha > 0:
        g = _energetic_grad(Q, T, a, b, p, y, grid)
        if g is None:
            return np.full(9, 1e3)
        tgt = np.array([-2 * alpha * g[0], -alpha * g[1] / y, 2 * alpha * g[2] / (y * (y - 1)),
                        -2 * alpha * g[3] / y**2])
    else:
        tgt = np.zeros(4)
    hats = np.array([Qh, Th, q1h, q0h])
    r[5:] = (hats - tgt) / (1 + np.abs(tgt))
    r[7] += min(dh, 0.0)
    r[8] += min(sh, 0.0)
    return r


# --------------------------------------------------------------------------- solver
def _fd_jacobian(v, r0, alpha, d, y, grid, h=1e-6):
    J = np.empty((9, 9))
    for i in range(9):
        e = np.zeros(9)
        e[i] = h * max(1.0, abs(v[i]))
        J[:, i] = (_residual(v + e, alpha, d, y, grid) - r0) / e[i]
    return J


def _solve_point(v0, alpha, d, y, grid, tol=1e-9, J=None, maxiter=14):
    """Newton's method with a finite-difference Jacobian refreshed only when Broyden updates stop
    reducing the residual. Returns (v, residual, converged, J)."""
    v = np.array(v0, float)
    r = _residual(v, alpha, d, y, grid)
    fresh = J is None
    if J is None:
        J = _fd_jacobian(v, r, alpha, d, y, grid)
    stall = 0
    for _ in range(maxiter):
        res = float(np.max(np.abs(r)))
        if res < tol:
            return v, res, True, J
        try:
            step = np.linalg.solve(J, -r)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(J, -r, rcond=None)[0]
        lam = 1.0
        for _ in range(8):
            vn = v + lam * step
            rn = _residual(vn, alpha, d, y, grid)
            if np.max(np.abs(rn)) < res * (1 - 1e-4 * lam):
                break
            lam *= 0.5
        else:
            if fresh:
                return v, res, False, J
            J = _fd_jacobian(v, r, alpha, d, y, grid)
            fresh = True
            continue
        s_ = vn - v
        J = J + np.outer(rn - r - J @ s_, s_) / (s_ @ s_)
        fresh = False
        stall = stall + 1 if np.max(np.abs(rn)) > 0.5 * res else 0
        v, r = vn, rn
        if stall >= 3:
            J = _fd_jacobian(v, r, alpha, d, y, grid)
            fresh, stall = True, 0
    res = float(np.max(np.abs(r)))
    return v, res, res < tol, J


@functools.lru_cache(maxsize=64)
def _reference(alpha):
    from .local_entropy import reference_state
    return reference_state(float(alpha), 0.0)


def _continue(alpha, y, d_targets, grid, tol=1e-9, max_halvings=3, callback=None):
    """Continuation in d from the exact point d_typ = (1 - q~)/2 (all overlaps q~, all conjugates
    q~hat, Φ = (1 + y) s_eq, S_I = s_eq) through ``d_targets`` (monotone away from d_typ)."""
    qt, qth, _ = _reference(alpha)
    d_typ = (1 - qt) / 2
    if alpha == 0:
        v_start = np.array([0.5, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    else:
        v_start = _to_v(np.array([qt] * 4 + [qth] * 5), d_typ)
    hist = [(d_typ, v_start)]
    out = []
    J = None
    for dt in d_targets:
        pending, fails = [dt], 0
        ok_final = None
        while pending:
            dc = pending[-1]
            if len(hist) >= 2:
                (d0, v0), (d1, v1) = hist[-2], hist[-1]
                pred = v1 + (v1 - v0) * (dc - d1) / (d1 - d0)
            else:
                pred = hist[-1][1].copy()
            v, res, ok, J = _solve_point(pred, alpha, dc, y, grid, tol, J)
            if ok:
                hist.append((dc, v))
                pending.pop()
                if not pending:
                    ok_final = (v, res, True)
                    if callback is not None:
                        callback(dc, v, res)
            else:
                fails += 1
                if fails > max_halvings * 2 or abs(dc - hist[-1][0]) < 2e-3:
                    ok_final = (v, res, False)
                    break
                pending.append(0.5 * (hist[-1][0] + dc))
        out.append((dt, *ok_final))
        if not ok_final[2]:
            break
    return out


# --------------------------------------------------------------------------- public API
def _check_alpha(a, fn):
    return check_scalar(a, "alpha", fn, float, 0, 0.833079, closed="left",
                        hint="(the reference must exist: below the binary capacity)")


def _check_y(y, fn):
    what = "a float in the range (0, 1000] away from 1 (|y - 1| >= 1e-3; y = 1 is degenerate)"
    try:
        yv = check_scalar(y, "y", fn, float, 0, 1e3, closed="right")
    except InvalidParameterError:
        raise invalid_parameter("y", fn, what, y) from None
    if abs(yv - 1.0) < 1e-3:
        raise invalid_parameter("y", fn, what, y)
    return yv


def _check_d(d, fn):
    dv = check_array(d, "d", fn, 0, 0.5, closed="neither").ravel()
    if dv.size == 0:
        raise invalid_parameter("d", fn, "a non-empty float array in the range (0, 0.5)", d)
    return dv


@dataclasses.dataclass(frozen=True)
class LDState:
    """One saddle point of the large-deviation free entropy.

    Attributes
    ----------
    alpha, d, y : float
        Controls.
    phi : float
        Φ(d, y) (nats per weight).
    S_I : float
        Local entropy of the selected references, ∂Φ/∂y.
    complexity : float
        Σ = Φ − y S_I (log-number of selected references per weight).
    order_parameters : dict
        Q, T, q1, q0, Qhat, phat, That, q1hat, q0hat.
    converged : bool
    residual : float
        Max-norm of the (scaled) stationarity conditions.
    """

    alpha: float
    d: float
    y: float
    phi: float
    S_I: float
    complexity: float
    order_parameters: dict
    converged: bool
    residual: float


@dataclasses.dataclass(frozen=True)
class LDCurve:
    """S_I(d) at fixed (α, y) by continuation from d_typ; arrays aligned with ``d`` (NaN where
    not converged). ``states`` holds the :class:`LDState` per distance (None if not reached)."""

    alpha: float
    y: float
    d: np.ndarray
    S_I: np.ndarray
    phi: np.ndarray
    complexity: np.ndarray
    converged: np.ndarray
    residual: np.ndarray
    states: tuple
    d_typ: float


def _state(alpha, d, y, v, res, ok, grid):
    x = _from_v(v, d)
    f = ld_free_entropy_terms(x, alpha, d, y, grid=grid)
    return LDState(alpha, float(d), y, float(f["phi"]), float(f["S_I"]), float(f["phi"] - y * f["S_I"]),
                   dict(zip(NAMES, map(float, x))), bool(ok), float(res))


def _path(d_typ, dv):
    """Continuation targets: the requested distances plus bridging points every <= 0.05."""
    pts = set(map(float, dv))
    lo, hi = float(np.min(dv)), float(np.max(dv))
    for a, b in ((min(lo, d_typ), d_typ), (d_typ, max(hi, d_typ))):
        n = int(math.ceil((b - a) / 0.05))
        pts.update(np.linspace(a, b, n + 1)[1:-1].tolist() if n > 1 else [])
    pts.discard(d_typ)
    down = sorted([p for p in pts if p < d_typ], reverse=True)
    up = sorted([p for p in pts if p > d_typ])
    return down, up


def ld_curve(alpha, d, y, *, tol=1e-9, grid=None, progress=False) -> LDCurve:
    r"""Large-deviation local entropy :math:`S_I(d)` at fixed (α, y), κ = 0, reference a solution.

    Continuation in d from the exact point :math:`d_{typ}=(1-\tilde q)/2` (all overlaps
    :math:`\tilde q`, all conjugates :math:`\hat{\tilde q}`; there
    :math:`\Phi=(1+y)s_{eq}` and :math:`S_I=s_{eq}` for every y), bridging points inserted
    every 0.05; each point by Newton/Broyden on the stationarity conditions.

    Parameters
    ----------
    alpha : float
        Load in [0, 0.833079).
    d : array_like
        Distances in (0, 1/2).
    y : float
        Large-deviation exponent, y > 0, y ≠ 1.
    tol : float
        Tolerance on the scaled stationarity residual.

    Returns
    -------
    LDCurve
    """
    a = _check_alpha(alpha, "ld_curve")
    yv = _check_y(y, "ld_curve")
    dv = _check_d(d, "ld_curve")
    grid = grid or _Grid()
    qt = _reference(a)[0] if a > 0 else 0.0
    d_typ = (1 - qt) / 2
    found = {}
    states = []

    def cb(dc, v, res):
        found[dc] = (v, res)
        if progress:
            print(f"  alpha={a} y={yv} d={dc:.4f} residual={res:.1e}", flush=True)

    if a == 0:       # no energetic term: all conjugates but phat vanish; phat from p = <X m>
        states = []
        for dd in dv:
            p = 1 - 2 * dd
            ph = so.brentq(lambda h: _entropic((0.0, h, 0.0, 0.0, 0.0), yv, grid)["p"] - p, -30, 30,
                           xtol=1e-14)
            e = _entropic((0.0, ph, 0.0, 0.0, 0.0), yv, grid)
            x = np.array([e["Q"], e["T"], e["q1"], e["q0"], 0.0, ph, 0.0, 0.0, 0.0])
            f = ld_free_entropy_terms(x, 0.0, dd, yv, grid=grid)
            states.append(LDState(0.0, float(dd), yv, float(f["phi"]), float(f["S_I"]),
                                  float(f["phi"] - yv * f["S_I"]),
                                  dict(zip(NAMES, map(float, x))), True, abs(e["p"] - p)))
        down, up = [], []
    else:
        down, up = _path(d_typ, dv)
    for seq in (down, up):
        if seq:
            _continue(a, yv, seq, grid, tol, callback=cb)
    for dd in dv if a > 0 else ():
        if float(dd) in found:
            v, res = found[float(dd)]
            states.append(_state(a, float(dd), yv, v, res, True, grid))
        elif abs(dd - d_typ) < 1e-14:
            v = _to_v(np.array([qt] * 4 + [_reference(a)[1]] * 5), d_typ) if a > 0 else None
            states.append(_state(a, d_typ, yv, v, 0.0, True, grid) if v is not None else None)
        else:
            states.append(None)
    get = lambda k: np.array([getattr(s, k) if s is not None else np.nan for s in states])  # noqa: E731
    conv = np.array([s is not None and s.converged for s in states])
    return LDCurve(a, yv, dv, get("S_I"), get("phi"), get("complexity"), conv, get("residual"),
                   tuple(states), d_typ)


def ld_local_entropy(alpha, d, y, *, tol=1e-9, grid=None) -> LDState:
    r"""Large-deviation local entropy at one point (α, d, y) (see :func:`ld_curve`).

    Returns
    -------
    LDState
        Φ, S_I = ∂Φ/∂y, Σ = Φ − yS_I, order parameters, convergence flag and residual.

    Examples
    --------
    >>> from phasekit.theory.replica.local_entropy_ld import ld_local_entropy
    >>> s = ld_local_entropy(0.0, 0.1, 5.0)
    >>> round(s.S_I, 6)        # binary entropy of d at alpha = 0
    0.325083
    """
    a = _check_alpha(alpha, "ld_local_entropy")
    yv = _check_y(y, "ld_local_entropy")
    dv = _check_d(d, "ld_local_entropy")
    if dv.size != 1:
        raise InvalidParameterError(f"The 'd' parameter of ld_local_entropy must be a scalar in (0, 0.5). "
                                    f"Got {d!r} instead.")
    c = ld_curve(a, dv, yv, tol=tol, grid=grid)
    s = c.states[0]
    if s is None:
        return LDState(a, float(dv[0]), yv, math.nan, math.nan, math.nan, {}, False, math.nan)
    return s


_U_GRID = np.array([0.01, 0.02, 0.03, 0.045, 0.06, 0.08])


def ld_criterion(alpha, y, *, criterion="monotone", d_grid=None, grid=None):
    r"""Criterion of the large-deviation local-entropy transition at one (α, y).

    ``"monotone"``: min over consecutive grid points of the finite-difference slope
    :math:`\Delta S_I/\Delta d` (default grid: 6 distances in [0.01, 0.08]); positive while
    :math:`S_I(d)` grows monotonically at small d. ``"positive"``: :math:`\min_d S_I`.
    If the branch continued from :math:`d_{typ}` does not reach the whole grid (it ends at a
    turning point in d, observed as Σ approaches 0 at large α), the value is ``-1.0`` (no dense
    region connected to the reference at this y; ``brentq`` then converges to the α where the
    branch stops reaching the grid). Returns ``(value, curve)``.
    """
    if criterion not in ("monotone", "positive"):
        raise InvalidParameterError(f"The 'criterion' parameter of ld_criterion must be one of monotone, "
                                    f"positive. Got {criterion!r} instead.")
    grid_d = _U_GRID if d_grid is None else _check_d(d_grid, "ld_criterion")
    grid_d = np.sort(grid_d)
    c = ld_curve(alpha, grid_d, y, grid=grid)
    if not np.all(c.converged):
        return -1.0, c
    if criterion == "monotone":
        v = np.diff(c.S_I) / np.diff(c.d)
    else:
        v = c.S_I
    return float(np.min(v)), c


@dataclasses.dataclass(frozen=True)
class LDTransition:
    """α_U at fixed y: ``value``, ``converged``, the α evaluated and the criterion values."""

    value: float
    y: float
    criterion: str
    alphas: np.ndarray
    criterion_values: np.ndarray
    converged: bool
    message: str = ""


def ld_alpha_u(*, y=5.0, criterion="monotone", bracket=(0.76, 0.81), xtol=2e-3, d_grid=None,
               grid=None) -> LDTransition:
    r"""α_U: the largest α where the large-deviation local entropy :math:`S_I(d)` at exponent y
    still grows monotonically at small d (``brentq`` on :func:`ld_criterion` inside ``bracket``).
    A lost branch counts as −1 (see :func:`ld_criterion`), so the root may sit at the α where the
    continuation stops reaching the grid; ``criterion_values`` tells which. Slow: one criterion
    evaluation is 1–5 minutes on one core. Measured: α_U(y=5) ∈ (0.7809, 0.7824) with
    bracket (0.76, 0.81).

    Returns
    -------
    LDTransition
    """
    yv = _check_y(y, "ld_alpha_u")
    lo, hi = bracket
    _check_alpha(lo, "ld_alpha_u"), _check_alpha(hi, "ld_alpha_u")
    cache = {}

    def f(a):
        if a not in cache:
            cache[a] = ld_criterion(a, yv, criterion=criterion, d_grid=d_grid, grid=grid)[0]
        return cache[a]

    flo, fhi = f(lo), f(hi)
    ks = lambda: np.array(sorted(cache))  # noqa: E731
    vals = lambda: np.array([cache[k] for k in ks()])  # noqa: E731
    if not (flo > 0 > fhi):
        return LDTransition(float("nan"), yv, criterion, ks(), vals(), False,
                            f"no sign change on {bracket}: criterion {flo:.4g}, {fhi:.4g}")
    root = so.brentq(f, lo, hi, xtol=xtol)
    return LDTransition(float(root), yv, criterion, ks(), vals(), True,
                        f"brentq on the '{criterion}' criterion, xtol={xtol}")


# --------------------------------------------------------------------------- Σ = 0 prescription
def ld_sigma_zero(alpha, d, *, y_start=5.0, y_max=40.0, y_min=0.05, tol=1e-9, grid=None):
    r"""The Σ = 0 prescription: at each distance the largest y with non-negative complexity,
    :math:`y^*(d)` with :math:`\Sigma(d,y^*)=0` (references of that local entropy still exist),
    and :math:`S_I(d,y^*)`. Continuation in y at fixed d from the branch of :func:`ld_curve` at
    ``y_start`` (geometric steps, then a secant/bisection on Σ). Where Σ > 0 up to ``y_max``,
    ``y_star = inf`` and the ``y_max`` values are returned (the large-y prescription applies).

    Returns
    -------
    dict with arrays ``d``, ``y_star``, ``S_I``, ``converged``.
    """
    a = _check_alpha(alpha, "ld_sigma_zero")
    if a == 0:
        raise InvalidParameterError("The 'alpha' parameter of ld_sigma_zero must be in (0, 0.833079) "
                                    "(at alpha = 0 the complexity is ln 2 for every y). Got 0.0 instead.")
    yv = _check_y(y_start, "ld_sigma_zero")
    dv = _check_d(d, "ld_sigma_zero")
    grid = grid or _Grid()
    base = ld_curve(a, dv, yv, tol=tol, grid=grid)
    ys, Ss, ok = np.full(dv.size, np.nan), np.full(dv.size, np.nan), np.zeros(dv.size, bool)

    def solve(dd, y, v, J):
        v2, res, good, J2 = _solve_point(v, a, dd, y, grid, tol, J)
        if not good:
            return None
        f = ld_free_entropy_terms(_from_v(v2, dd), a, dd, y, grid=grid)
        return v2, J2, f["phi"] - y * f["S_I"], f["S_I"]

    for k, (dd, st) in enumerate(zip(dv, base.states)):
        if st is None:
            continue
        v = _to_v(np.array([st.order_parameters[n] for n in NAMES]), dd)
        cur = (yv, v, None, st.complexity, st.S_I)
        up = st.complexity > 0
        fac = 1.25 if up else 0.8
        prev = None
        while True:
            y_new = cur[0] * fac
            if (up and y_new > y_max) or (not up and y_new < y_min):
                break
            if abs(y_new - 1.0) < 0.05:
                y_new = 1.05 if up else 0.95
            r = None
            for _ in range(4):
                r = solve(dd, y_new, cur[1], cur[2])
                if r is not None:
                    break
                y_new = 0.5 * (y_new + cur[0])
            if r is None:
                break
            prev, cur = cur, (y_new, r[0], r[1], r[2], r[3])
            if (cur[3] > 0) != up:
                break
        if prev is not None and (cur[3] > 0) != up:
            lo_, hi_ = prev, cur            # Σ changes sign between them: secant-bisection in y
            for it in range(40):
                s_lo, s_hi = lo_[3], hi_[3]
                y_mid = (lo_[0] - s_lo * (hi_[0] - lo_[0]) / (s_hi - s_lo) if it % 2 == 0
                         else 0.5 * (lo_[0] + hi_[0]))
                r = solve(dd, y_mid, lo_[1], lo_[2])
                if r is None:
                    break
                mid = (y_mid, r[0], r[1], r[2], r[3])
                if abs(mid[3]) < 1e-8 or abs(hi_[0] - lo_[0]) < 1e-6 * mid[0]:
                    lo_ = hi_ = mid
                    break
                if (mid[3] > 0) == (s_lo > 0):
                    lo_ = mid
                else:
                    hi_ = mid
            if lo_ is hi_:
                ys[k], Ss[k], ok[k] = lo_[0], lo_[4], True
        elif up and cur[3] > 0:
            ys[k], Ss[k], ok[k] = math.inf, cur[4], cur[0] * 1.25 > y_max
    return dict(d=dv, y_star=ys, S_I=Ss, converged=ok)
