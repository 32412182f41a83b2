"""Large-deviation (robust-ensemble) local entropy of the binary perceptron.

References used here are independent of the code under test: the spec value s_eq (replica.md §3),
the binary entropy at alpha = 0, brute-force enumeration / symbolic covariances (sympy), scipy
adaptive quadrature of the written formula, and the Franz–Parisi curve of the separate module
``phasekit.theory.replica.local_entropy`` (a different derivation and kernel).
"""
import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

import phasekit as pk
from phasekit.theory.replica import local_entropy_ld as ld

S_EQ = 0.314390          # spec §3 [V], alpha = 0.5, kappa = 0
Q_TILDE = 0.322385


def h2(d):
    return -d * math.log(d) - (1 - d) * math.log1p(-d)


# ---------------------------------------------------------------- symbolic bookkeeping
def test_hubbard_stratonovich_decomposition_matches_enumeration():
    """n = 2 references with y = 2 replicas each: for every one of the 64 spin configurations,
    the Gaussian average of the HS form (exact: E e^{c.z} = e^{|c|^2/2}) times the diagonal
    constants equals the direct replicated exponent."""
    Qh, ph, Th, q1h, q0h = sp.symbols("Qh ph Th q1h q0h", positive=True)
    n, y = 2, 2
    for cfg in itertools.product((-1, 1), repeat=n * (1 + y)):
        X = cfg[:n]
        W = [cfg[n + a * y: n + (a + 1) * y] for a in range(n)]
        Y = [sum(w) for w in W]
        direct = (Qh * X[0] * X[1] + ph * sum(X[a] * Y[a] for a in range(n))
                  + Th * sum(X[a] * Y[b] for a in range(n) for b in range(n) if a != b)
                  + q1h * sum(w[0] * w[1] for w in W)
                  + q0h * sum(W[0][i] * W[1][j] for i in range(y) for j in range(y)))
        c_zt = sp.sqrt(Qh) * sum(X) + Th / sp.sqrt(Qh) * sum(Y)
        c_z = sp.sqrt(q0h - Th**2 / Qh) * sum(Y)
        c_z1 = [sp.sqrt(q1h - q0h) * Y[a] for a in range(n)]
        hs = (sp.Rational(1, 2) * (c_zt**2 + c_z**2 + sum(c**2 for c in c_z1))
              + (ph - Th) * sum(X[a] * Y[a] for a in range(n)) - n * Qh / 2 - n * y * q1h / 2)
        assert sp.simplify(sp.expand(hs - direct)) == 0


def test_n_to_zero_constants_match_module():
    n, y = sp.symbols("n y")
    Q, T, q1, q0, p, Qh, ph, Th, q1h, q0h = sp.symbols("Q T q1 q0 p Qh ph Th q1h q0h")
    conj = -(Qh * Q * n * (n - 1) / 2 + ph * p * n * y + Th * T * n * (n - 1) * y
             + q1h * q1 * n * y * (y - 1) / 2 + q0h * q0 * n * (n - 1) / 2 * y**2)
    diag = -n * Qh / 2 - n * y * q1h / 2
    phi0 = sp.limit(sp.expand((conj + diag) / n), n, 0)
    vals = dict(Q=0.41, T=0.33, q1=0.72, q0=0.38, p=0.6, Qh=0.5, ph=0.7, Th=0.3, q1h=0.6, q0h=0.4)
    sub = {sp.Symbol(k): v for k, v in vals.items()}
    x = [vals[k] for k in ("Q", "T", "q1", "q0", "Qh", "ph", "Th", "q1h", "q0h")]
    for yv in (0.3, 3.0, 17.0):
        got, dgot = ld._outer(x, vals["p"], yv)
        assert got == pytest.approx(float(phi0.subs(sub).subs(y, yv)), abs=1e-13)
        assert dgot == pytest.approx(float(sp.diff(phi0, y).subs(sub).subs(y, yv)), abs=1e-13)


def test_energetic_field_representation_has_rs_covariance():
    Q, T, q1, q0, p = sp.symbols("Q T q1 q0 p", positive=True)
    z0, z0p, u1, u2, z1, z2, v1, v2 = sp.symbols("z0 z0p u1 u2 z1 z2 v1 v2")
    gauss = (z0, z0p, u1, u2, z1, z2, v1, v2)

    def A(u, z):
        return (T / sp.sqrt(Q) * z0 + sp.sqrt(q0 - T**2 / Q) * z0p + (p - T) / sp.sqrt(1 - Q) * u
                + sp.sqrt(q1 - q0 - (p - T)**2 / (1 - Q)) * z)

    lt1 = sp.sqrt(Q) * z0 + sp.sqrt(1 - Q) * u1
    lt2 = sp.sqrt(Q) * z0 + sp.sqrt(1 - Q) * u2
    l11 = A(u1, z1) + sp.sqrt(1 - q1) * v1          # reference 1, replica 1
    l12 = A(u1, z1) + sp.sqrt(1 - q1) * v2          # reference 1, replica 2 (shares u1, z1)
    l21 = A(u2, z2) + sp.sqrt(1 - q1) * v1.subs(v1, sp.Symbol("w"))

    def cov(a, b):
        syms = gauss + (sp.Symbol("w"),)
        ca = [sp.diff(a, s) for s in syms]
        cb = [sp.diff(b, s) for s in syms]
        return sp.simplify(sum(x * y for x, y in zip(ca, cb)))

    assert sp.simplify(cov(lt1, lt1) - 1) == 0
    assert sp.simplify(cov(l11, l11) - 1) == 0
    assert sp.simplify(cov(lt1, lt2) - Q) == 0
    assert sp.simplify(cov(lt1, l11) - p) == 0
    assert sp.simplify(cov(lt1, l21) - T) == 0
    assert sp.simplify(cov(l11, l12) - q1) == 0
    assert sp.simplify(cov(l11, l21) - q0) == 0


# ---------------------------------------------------------------- exact point and limits
@pytest.mark.parametrize("y", [0.3, 5.0, 20.0])
def test_exact_point_all_overlaps_equal_reference(y):
    """d = d_typ, all overlaps q~ and conjugates q~hat is stationary for every y, with
    Phi = (1 + y) s_eq and S_I = s_eq (1 + y equivalent typical solutions)."""
    qt, qth, s_eq = ld._reference(0.5)
    assert qt == pytest.approx(Q_TILDE, abs=1e-6) and s_eq == pytest.approx(S_EQ, abs=1e-6)
    d = (1 - qt) / 2
    x = np.array([qt] * 4 + [qth] * 5)
    r = ld._residual(ld._to_v(x, d), 0.5, d, y, ld._Grid())
    assert np.max(np.abs(r)) < 1e-6
    f = ld.ld_free_entropy_terms(x, 0.5, d, y)
    assert f["phi"] == pytest.approx((1 + y) * S_EQ, abs=2e-6 * (1 + y))
    assert f["S_I"] == pytest.approx(S_EQ, abs=2e-6)


@pytest.mark.parametrize("y", [0.5, 5.0, 40.0])
@pytest.mark.parametrize("d", [0.02, 0.1, 0.3])
def test_alpha_zero_binary_entropy(y, d):
    s = ld.ld_local_entropy(0.0, d, y)
    assert s.converged
    assert s.S_I == pytest.approx(h2(d), abs=1e-10)
    assert s.complexity == pytest.approx(math.log(2), abs=1e-10)


def test_small_y_limit_matches_franz_parisi_and_seq():
    """y -> 0: Phi -> s_eq and S_I -> S_FP(d) of the typical reference (independent module),
    by linear extrapolation from y = 0.05, 0.1 (error O(y^2))."""
    from phasekit.theory.replica.local_entropy import local_entropy_curve
    d = 0.25
    c1 = ld.ld_curve(0.5, [d], 0.05)
    c2 = ld.ld_curve(0.5, [d], 0.1)
    assert c1.converged.all() and c2.converged.all()
    s_fp = float(local_entropy_curve(0.5, [d]).entropy[0])
    s0 = 2 * c1.S_I[0] - c2.S_I[0]
    assert s0 == pytest.approx(s_fp, abs=2e-4)
    assert c1.S_I[0] == pytest.approx(s_fp, abs=5e-3)        # already close at y = 0.05
    phi0 = 2 * c1.phi[0] - c2.phi[0]                           # Phi(y) = s_eq + y S_I + O(y^2)
    assert phi0 == pytest.approx(S_EQ, abs=2e-5)


# ---------------------------------------------------------------- independent quadrature
X_TEST = dict(Q=0.45, T=0.38, q1=0.70, q0=0.40, Qh=0.5, ph=0.7, Th=0.3, q1h=0.6, q0h=0.4)
D_TEST, Y_TEST = 0.2, 3.0


def _gauss(z):
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def test_entropic_term_against_nested_quad():
    v = X_TEST
    y = Y_TEST
    c, s = v["Th"] / math.sqrt(v["Qh"]), math.sqrt(v["q0h"] - v["Th"]**2 / v["Qh"])
    dh, k = math.sqrt(v["q1h"] - v["q0h"]), v["ph"] - v["Th"]

    def inner(zt, z):
        hx, hy = math.sqrt(v["Qh"]) * zt, c * zt + s * z

        def f(z1):
            g = hy + dh * z1
            return _gauss(z1) * sum(math.exp(X * hx + y * math.log(2 * math.cosh(g + k * X)))
                                    for X in (-1, 1))
        return math.log(integrate.quad(f, -12, 12, epsabs=1e-11, epsrel=1e-10)[0])

    ref = integrate.dblquad(lambda z, zt: _gauss(zt) * _gauss(z) * inner(zt, z), -7.5, 7.5, -7.5, 7.5,
                            epsabs=1e-8)[0]
    got = ld._entropic((v["Qh"], v["ph"], v["Th"], v["q1h"], v["q0h"]), y, ld._Grid())["G"]
    assert got == pytest.approx(ref, abs=1e-7)


def test_energetic_term_against_independent_quadrature():
    """Outer z0 by adaptive scipy quad; z0', u1 (on [u0, u0 + 14], no change of variables) and z1 by
    Gauss–Legendre tensor rules — different nodes and no truncated-normal map."""
    v = X_TEST
    y, p = Y_TEST, 1 - 2 * D_TEST
    Q, T, q1, q0 = v["Q"], v["T"], v["q1"], v["q0"]
    sc_ = math.sqrt(q0 - T**2 / Q)
    sg = math.sqrt(q1 - q0 - (p - T)**2 / (1 - Q))
    xl, wl = special.roots_legendre(64)
    zp, wzp = 8 * xl, 8 * wl * np.exp(-32 * xl**2) / math.sqrt(2 * math.pi)
    z1, wz1 = zp, wzp

    def f(z0):
        u0 = -math.sqrt(Q) * z0 / math.sqrt(1 - Q)
        u1 = u0 + 7 * (xl + 1)
        wu = 7 * wl * np.exp(-0.5 * u1**2) / math.sqrt(2 * math.pi)
        A = (T / math.sqrt(Q) * z0 + sc_ * zp[:, None, None] + (p - T) / math.sqrt(1 - Q) * u1[None, :, None]
             + sg * z1[None, None, :])
        Hy = np.exp(y * special.log_ndtr(A / math.sqrt(1 - q1)))
        inner = np.einsum("abc,b,c->a", Hy, wu, wz1)
        return _gauss(z0) * float(wzp @ np.log(inner))

    ref = integrate.quad(f, -9, 9, epsabs=1e-10, limit=200)[0]
    got = ld._energetic((Q, T, q1, q0), p, y, ld._Grid())
    assert got == pytest.approx(ref, abs=2e-6)


@pytest.fixture(scope="module")
def saddle():
    return ld.ld_curve(0.5, [0.25], 5.0)


def test_stationarity_by_finite_differences_of_phi(saddle):
    """At a converged saddle (alpha = 0.5, y = 5, d = 0.25), central differences of Phi in every
    order parameter vanish (the update formulas are the gradient of the written Phi)."""
    c = saddle
    assert c.converged.all()
    x0 = np.array([c.states[0].order_parameters[k] for k in ld.NAMES])
    h = 1e-5
    for i in range(9):
        e = np.zeros(9)
        e[i] = h
        fp = ld.ld_free_entropy_terms(x0 + e, 0.5, 0.25, 5.0)["phi"]
        fm = ld.ld_free_entropy_terms(x0 - e, 0.5, 0.25, 5.0)["phi"]
        assert (fp - fm) / (2 * h) == pytest.approx(0.0, abs=2e-5), ld.NAMES[i]


@pytest.mark.slow
def test_S_I_is_dphi_dy(saddle):
    """S_I (envelope formula) equals the total derivative of the extremised Phi in y."""
    h = 0.02
    cp = ld.ld_curve(0.5, [0.25], 5.0 + h)
    cm = ld.ld_curve(0.5, [0.25], 5.0 - h)
    c0 = saddle
    assert (cp.phi[0] - cm.phi[0]) / (2 * h) == pytest.approx(c0.S_I[0], abs=1e-5)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("kw,name", [
    (dict(alpha=-0.1, d=0.1, y=5.0), "alpha"), (dict(alpha=0.9, d=0.1, y=5.0), "alpha"),
    (dict(alpha=0.5, d=0.0, y=5.0), "d"), (dict(alpha=0.5, d=0.6, y=5.0), "d"),
    (dict(alpha=0.5, d=0.1, y=1.0), "y"), (dict(alpha=0.5, d=0.1, y=-2.0), "y"),
])
def test_bad_input(kw, name):
    with pytest.raises(pk.InvalidParameterError, match=f"'{name}' parameter"):
        ld.ld_local_entropy(**kw)


def test_bad_criterion():
    with pytest.raises(pk.InvalidParameterError, match="'criterion' parameter"):
        ld.ld_criterion(0.5, 5.0, criterion="nope")


# ---------------------------------------------------------------- slow: physics numbers
@pytest.mark.slow
def test_monotone_at_alpha_07_y5():
    """alpha = 0.7, y = 5: S_I(d) grows monotonically on [0.01, 0.08] (dense region)."""
    v, c = ld.ld_criterion(0.7, 5.0)
    assert c.converged.all() and v > 0.3


@pytest.mark.slow
def test_sigma_zero_prescription_point():
    """Sigma(d, y*) = 0 at the returned y* (alpha = 0.7, d = 0.02: y* ~ 6.67)."""
    r = ld.ld_sigma_zero(0.7, [0.02])
    assert r["converged"][0] and 5 < r["y_star"][0] < 10
    s = ld.ld_local_entropy(0.7, 0.02, float(r["y_star"][0]))
    assert s.complexity == pytest.approx(0.0, abs=1e-6)
    assert s.S_I == pytest.approx(r["S_I"][0], abs=1e-8)
