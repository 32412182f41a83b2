"""Independent reference computations for the tests (and the benchmarks).

Everything here is written directly from the spec's formulas (shared/specs/replica.md) with
scipy.integrate.quad / mpmath — no phasekit code — so that the package is checked against an
implementation that shares nothing with it.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import scipy.optimize as so
from scipy import integrate, special

SQ2PI = math.sqrt(2 * math.pi)


def Dz(f, a=-np.inf, b=np.inf, points=()):
    g = lambda x: f(x) * math.exp(-0.5 * x * x) / SQ2PI  # noqa: E731
    edges = [a, *sorted(p for p in points if a < p < b), b]
    return sum(integrate.quad(g, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=500)[0]
               for lo, hi in zip(edges[:-1], edges[1:]))


def logH(x):
    return special.log_ndtr(-x)


def H(x):
    return special.ndtr(-x)


def mills(x):
    return math.exp(-0.5 * x * x - 0.5 * math.log(2 * math.pi) - logH(x))


def G(x):
    return math.exp(-0.5 * x * x) / SQ2PI


# ----- spherical storage (spec §2)
def gardner_capacity_mpmath(kappa, dps=30):
    with mpmath.workdps(dps):
        k = mpmath.mpf(kappa)
        inv = mpmath.quad(lambda t: (t + k) ** 2 * mpmath.npdf(t), [-k, mpmath.inf])
        return 1 / inv


# ----- binary storage (spec §3), quad-based RS solver
def binary_rs_quad(alpha, kappa=0.0, q0=0.3, qh0=0.5, tol=1e-12, damping=0.5, maxiter=5000):
    q, qh = q0, qh0
    for _ in range(maxiter):
        s = math.sqrt(qh)
        qn = Dz(lambda z: math.tanh(s * z) ** 2)
        u = lambda z: (kappa - math.sqrt(q) * z) / math.sqrt(1 - q)  # noqa: E731
        qhn = alpha / (1 - q) * Dz(lambda z: mills(u(z)) ** 2)
        if abs(qn - q) + abs(qhn - qh) < tol:
            q, qh = qn, qhn
            break
        q = damping * q + (1 - damping) * qn
        qh = damping * qh + (1 - damping) * qhn
    u = lambda z: (kappa - math.sqrt(q) * z) / math.sqrt(1 - q)  # noqa: E731
    s = (-qh * (1 - q) / 2 + Dz(lambda z: np.logaddexp(math.sqrt(qh) * z, -math.sqrt(qh) * z))
         + alpha * Dz(lambda z: logH(u(z))))
    return q, qh, s


# ----- spherical teacher (spec §4)
def gibbs_R_quad(alpha):
    def f(R):
        integ = Dz(lambda t: math.exp(-R * t * t / 2 - logH(-math.sqrt(R) * t)))
        return R / math.sqrt(1 - R) - alpha / math.pi * integ
    return so.brentq(f, 1e-12, 1 - 1e-12, xtol=1e-15, rtol=1e-15)


def glm_qhat_quad(q, alpha):
    """GLM form: qhat = (2 alpha/(1-q)) int Dxi G(theta xi)^2 / H(-theta xi), theta = sqrt(q/(1-q))."""
    th = math.sqrt(q / (1 - q))
    c = 1.0 / max(th, 1.0)
    return 2 * alpha / (1 - q) * Dz(lambda x: math.exp(-th * th * x * x - math.log(2 * math.pi) - logH(-th * x)),
                                    points=(-8 * c, -c, 0.0, c, 8 * c))


def gibbs_R_glm(alpha):
    return so.brentq(lambda q: q - (lambda qh: qh / (1 + qh))(glm_qhat_quad(q, alpha)), 1e-10, 1 - 1e-10, xtol=1e-15)


# ----- Ising teacher-student (spec §5)
def ising_F(q, alpha):
    """Composed map q -> q_prior(qhat(q)) with qhat = (alpha/(pi sqrt(1-q))) int Dt e^{-q t^2/2}/H(-sqrt(q) t)."""
    qh = alpha / (math.pi * math.sqrt(1 - q)) * Dz(
        lambda t: math.exp(-q * t * t / 2 - logH(-math.sqrt(q) * t)))
    s = math.sqrt(qh)
    return Dz(lambda z: math.tanh(s * z + qh)), qh


def ising_spinodal_quad():
    """alpha where min_{q} [F(q) - q] crosses 0 (spec §5)."""
    def g(alpha):
        r = so.minimize_scalar(lambda q: ising_F(q, alpha)[0] - q, bounds=(0.3, 0.97), method="bounded",
                               options={"xatol": 1e-10})
        return r.fun
    return so.brentq(g, 1.40, 1.60, xtol=1e-9)


def ising_entropy_quad(q, qh, alpha):
    th = math.sqrt(q / (1 - q))
    c = 1.0 / max(th, 1.0)
    psi = 2 * Dz(lambda x: H(-th * x) * logH(-th * x), points=(-8 * c, -c, 0.0, c, 8 * c))
    return (Dz(lambda z: np.logaddexp(math.sqrt(qh) * z + qh, -(math.sqrt(qh) * z + qh))) - qh / 2 - q * qh / 2
            + alpha * psi)


def ising_poor_branch_quad(alphas, tol=1e-10, damping=0.3, maxiter=100000, warm=True):
    """Reference learning curve of the Ising teacher-student poor branch: for each alpha, damped
    iteration of the composed map q <- F(q) (quad), warm-started from the previous alpha
    (``warm=True``) or from the uninformative state q = 1e-3 (``warm=False``)."""
    out, q = [], 1e-3
    for a in alphas:
        if not warm:
            q = 1e-3
        for _ in range(maxiter):
            qn, qh = ising_F(q, a)
            if abs(qn - q) < tol:
                q = qn
                break
            q = damping * q + (1 - damping) * qn
        out.append((q, ising_F(q, a)[1]))
    return out
