"""Independent references for the teacher–student Franz–Parisi potential
(``phasekit.theory.replica.local_entropy_teacher``), written from the formula in the task statement with
plain numpy/scipy — no phasekit code.

Quadrature here is deliberately different from the package kernel: Gauss–Legendre on finite
intervals in the *original* variables (teacher field v on [0, 9], z0, u1 on [u0, max(u0, 0) + 9],
z1), derivatives by direct differentiation of the integrand (d ln H(x) = -r(x) dx, with the
1/a3 terms kept), no Gaussian integration by parts, no change of variables.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

SQ2PI = math.sqrt(2 * math.pi)


def _gl(a, b, n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (b + a), 0.5 * (b - a) * w


def _gauss(x):
    return np.exp(-0.5 * x * x) / SQ2PI


def _mills(x):
    return math.sqrt(2 / math.pi) / special.erfcx(x / math.sqrt(2))


def tsfp_energetic_gl(kap, kt, d, q, t, R, q_tilde, R_tilde, *, n_v=40, n_z0=56, n_u=40, n_z1=56):
    r"""Energetic term (without α) and its derivatives in (q, t, R, d) by 4-D Gauss–Legendre.

    .. math:: 2\int_0^\infty Dv\int Dz_0\,H(\tilde u_0)^{-1}\int_{\tilde u_0}^\infty Du_1\int Dz_1
              \ln H\big((\kappa - A)/\sqrt{1-q}\big)

    Returns ``(value, grad)`` with ``grad = [d/dq, d/dt, d/dR, d/dd]``.
    """
    p = 1 - 2 * d
    c1 = math.sqrt(q_tilde - R_tilde**2)
    c2 = math.sqrt(1 - q_tilde)
    a1 = (t - R * R_tilde) / c1
    a2 = (p - t) / c2
    a3sq = q - R**2 - a1**2 - a2**2
    if a3sq <= 0:
        raise ValueError("infeasible point: a3^2 <= 0")
    a3 = math.sqrt(a3sq)
    # d a1, a2, a3 / d (q, t, R, d)
    da1 = np.array([0.0, 1 / c1, -R_tilde / c1, 0.0])
    da2 = np.array([0.0, -1 / c2, 0.0, -2 / c2])
    da3sq = np.array([1.0, 0.0, -2 * R, 0.0]) - 2 * a1 * da1 - 2 * a2 * da2
    da3 = da3sq / (2 * a3)
    s = math.sqrt(1 - q)
    ds = np.array([-1 / (2 * s), 0, 0, 0])
    vv, wv = _gl(0.0, 9.0, n_v)
    zz0, wz0 = _gl(-9.0, 9.0, n_z0)
    zz1, wz1 = _gl(-9.0, 9.0, n_z1)
    wz1 = wz1 * _gauss(zz1)
    val, grad = 0.0, np.zeros(4)
    xu, wu = np.polynomial.legendre.leggauss(n_u)
    for v, wvv in zip(vv, wv):
        u0 = (kt - R_tilde * v - c1 * zz0) / c2                          # (n_z0,)
        hi = np.maximum(u0, 0.0) + 9.0
        U = 0.5 * (hi - u0)[:, None] * xu + 0.5 * (hi + u0)[:, None]      # (n_z0, n_u)
        WU = 0.5 * (hi - u0)[:, None] * wu * _gauss(U) / special.ndtr(-u0)[:, None]
        A = (R * v + a1 * zz0[:, None, None] + a2 * U[:, :, None] + a3 * zz1)     # (n_z0, n_u, n_z1)
        x = (kap - A) / s
        L = special.log_ndtr(-x)
        r = math.sqrt(2 / math.pi) / special.erfcx(x / math.sqrt(2))
        W = (2 * wvv * _gauss(v)) * (wz0 * _gauss(zz0))[:, None, None] * WU[:, :, None] * wz1
        val += float(np.sum(W * L))
        for k in range(4):
            dA = (np.array([0.0, 0.0, v, 0.0])[k] + da1[k] * zz0[:, None, None] + da2[k] * U[:, :, None]
                  + da3[k] * zz1)
            dx = -dA / s - (kap - A) / s**2 * ds[k]
            grad[k] += float(np.sum(W * (-r * dx)))
    return val, grad


def tsfp_entropic_gl(qh, th, ph, Rh, qth, Rth, *, n=160, half_width=11.0):
    r"""Entropic term and its derivatives in (qhat, that, phat, Rhat) by 2-D Gauss–Legendre.

    .. math:: \int D\tilde z\sum_{\sigma=\pm1}\frac{e^{\sigma\tilde h}}{2\cosh\tilde h}\int Dz\,
              \ln2\cosh\big(\hat t\tilde z/\sqrt{\hat{\tilde q}} + \sqrt{\hat q-\hat t^2/\hat{\tilde q}}\,z
              + \sigma(\hat p-\hat t) + \hat R\big),\quad \tilde h = \sqrt{\hat{\tilde q}}\tilde z + \hat{\tilde R}
    """
    zg, wg = _gl(-half_width, half_width, n)
    wg = wg * _gauss(zg)
    zt, z = zg[:, None], zg[None, :]
    W = wg[:, None] * wg[None, :]
    sig2 = qh - th**2 / qth
    sg = math.sqrt(sig2)
    h = math.sqrt(qth) * zt + Rth
    val, grad = 0.0, np.zeros(4)
    for sgn in (1.0, -1.0):
        wt = 0.5 * (1 + sgn * np.tanh(h))
        y = th / math.sqrt(qth) * zt + sg * z + sgn * (ph - th) + Rh
        f = np.logaddexp(y, -y)
        tn = np.tanh(y)
        val += float(np.sum(W * wt * f))
        dy = [z / (2 * sg), zt / math.sqrt(qth) - th / qth * z / sg - sgn, sgn + 0 * z, 1.0 + 0 * z]
        for k in range(4):
            grad[k] += float(np.sum(W * wt * tn * dy[k]))
    return val, grad


def tsfp_total_gl(alpha, kap, kt, d, x, ref):
    """S_FP potential and its gradient in (q, t, R, qhat, that, phat, Rhat), plus d/dd, at a point
    ``x`` with reference ``ref = (q_tilde, qhat_tilde, R_tilde, Rhat_tilde)``."""
    q, t, R, qh, th, ph, Rh = x
    qt, qth, Rt, Rth = ref
    p = 1 - 2 * d
    en, eg = tsfp_energetic_gl(kap, kt, d, q, t, R, qt, Rt)
    sv, sgd = tsfp_entropic_gl(qh, th, ph, Rh, qth, Rth)
    phi = -ph * p + th * t - qh * (1 - q) / 2 - Rh * R + sv + alpha * en
    g = np.array([qh / 2 + alpha * eg[0], th + alpha * eg[1], -Rh + alpha * eg[2],
                  -(1 - q) / 2 + sgd[0], t + sgd[1], -p + sgd[2], -R + sgd[3]])
    return phi, g, 2 * ph + alpha * eg[3]


def binary_entropy(d):
    return -d * math.log(d) - (1 - d) * math.log1p(-d)
