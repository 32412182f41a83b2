"""Random-feature ("hidden manifold") binary perceptron, Gaussian-equivalent RS [R].

Expected numbers come from outside the code under test: the binary-storage values of the replica
spec §3 ([V]), an independent scipy evaluation of the latent entropic cost from the raw Gaussian
integral over s (conjugate form, Hubbard–Stratonovich, inner integral by ``quad``), an independent
scipy-quad evaluation of the whole free entropy (finite differences of it give the stationarity
test), and the small-γ expansion written here by hand.
"""
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

import phasekit as pk
from phasekit import InvalidParameterError
from phasekit.theory.replica import random_features as rf

S_EQ, Q_EQ, QHAT_EQ = 0.314390, 0.322385, 0.668035       # spec §3 [V], alpha = 0.5, kappa = 0
ALPHA_KM = 0.833079                                     # spec §3 [V]
MU_SIGN = math.sqrt(2 / math.pi)

# --------------------------------------------------------------- independent references (no phasekit)
_qs, _pds, _ps, _ms = sp.symbols("q pd p m")
# the KL rate of the Wishart large deviation, n -> 0 coefficient, written out by hand here
_L_HAND = sp.Rational(1, 2) * (sp.log((_pds - _ps) / (1 - _qs)) + (_ps - _ms**2) / (_pds - _ps) + 1
                               - (_pds + _qs) / (1 - _qs) + _qs * (_pds - _ps) / (1 - _qs)**2)
_L_NUM = sp.lambdify((_qs, _pds, _ps, _ms), _L_HAND)


def _gauss(f, lim=12.0):
    return integrate.quad(lambda x: f(x) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi), -lim, lim,
                          epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def _energetic_quad(M, Q0, Q1):
    a, b = M / math.sqrt(Q1 - M * M), math.sqrt(Q1 / (Q0 - Q1))
    return 2 * _gauss(lambda x: special.ndtr(a * x) * special.log_ndtr(b * x))


def _free_entropy_quad(alpha, gamma, mu1, q, qhat, m, p, pd):
    mus2 = 1 - mu1**2
    ent = -qhat * (1 - q) / 2 + _gauss(lambda x: np.logaddexp(math.sqrt(qhat) * x, -math.sqrt(qhat) * x))
    return ent + _L_NUM(q, pd, p, m) / gamma + alpha * _energetic_quad(mu1 * m, mu1**2 * pd + mus2,
                                                                       mu1**2 * p + mus2 * q)


def _latent_raw(q, pd, p, m, phd, ph, mh, n_outer=40):
    r"""L from the raw Gaussian integral, conjugate form:
    -phd pd/2 + ph p/2 - mh m + E_{z,B} ln E_u exp(A x^2/2 + B x), x = sqrt(q) z + sqrt(1-q) u,
    A = phd - ph, B ~ N(0, ph + mh^2) (t W_T-component and the HS field combined); u by quad."""
    zg, wg = np.polynomial.hermite_e.hermegauss(n_outer)
    wg = wg / wg.sum()
    A, sb, c1, d = phd - ph, math.sqrt(ph + mh**2), math.sqrt(q), math.sqrt(1 - q)
    tot = 0.0
    for zi, wi in zip(zg, wg):
        for bi, wb in zip(zg, wg):
            B, c = sb * bi, c1 * zi
            f = lambda u: math.exp(0.5 * A * (c + d * u)**2 + B * (c + d * u) - u * u / 2)  # noqa: E731
            tot += wi * wb * math.log(integrate.quad(f, -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
                                      / math.sqrt(2 * math.pi))
    return -0.5 * phd * pd + 0.5 * ph * p - mh * m + tot


@pytest.fixture(scope="module")
def model():
    return rf.RandomFeatureStorage()


@pytest.fixture(scope="module")
def saddle(model):
    r = pk.solve(model, {"alpha": 0.5, "gamma": 1.0, "mu1": MU_SIGN})
    assert r.converged
    return r


# --------------------------------------------------------------- derivation
def test_latent_entropy_matches_hand_formula_and_vanishes_at_typical_point():
    L = rf.latent_entropy_rs()
    sub = {sp.Symbol(n, real=True): s for n, s in zip(("q", "pd", "p", "m"), (_qs, _pds, _ps, _ms))}
    assert sp.simplify(sp.expand_log(L.xreplace(sub) - _L_HAND, force=True)) == 0
    assert sp.simplify(_L_HAND.subs({_pds: 1, _ps: _qs, _ms: 0})) == 0
    # maximising over (pd, p) alone gives the leading-order closure and its cost -m^2/(2(1-q))
    assert sp.simplify(_L_HAND.subs({_pds: 1 + _ms**2, _ps: _qs + _ms**2}) + _ms**2 / (2 * (1 - _qs))) == 0
    for v in (_pds, _ps):
        assert sp.simplify(sp.diff(_L_HAND, v).subs({_pds: 1 + _ms**2, _ps: _qs + _ms**2})) == 0


@pytest.mark.parametrize("n", [2, 3, 5])
def test_rs_wishart_rate_at_integer_n_against_numpy(n):
    # the finite-n rate the derivation expands: KL-type expression with explicit matrices
    q, pd, p, m = 0.3, 1.1, 0.45, 0.2
    Q = (1 - q) * np.eye(n) + q
    Pm = (pd - p) * np.eye(n) + p
    S = np.block([[np.ones((1, 1)), m * np.ones((1, n))], [m * np.ones((n, 1)), Pm]])
    Sig = np.block([[np.ones((1, 1)), np.zeros((1, n))], [np.zeros((n, 1)), Q]])
    kl = 0.5 * (np.trace(np.linalg.solve(Sig, S)) - (n + 1) + np.linalg.slogdet(Sig)[1] - np.linalg.slogdet(S)[1])
    nn = sp.Symbol("n")
    rate = (sp.Rational(1, 2) * rf._rs_logdet(pd - m**2, p - m**2, nn) - sp.Rational(1, 2) * rf._rs_logdet(1, q, nn)
            - sp.Rational(1, 2) * rf._rs_trace_product(rf._rs_inverse(1, q, nn), (pd, p), nn) + nn / 2)
    np.testing.assert_allclose(float(rate.subs(nn, n)), -kl, rtol=1e-12, atol=1e-14)


def test_latent_cost_from_raw_gaussian_integral(saddle):
    # conjugates from the envelope theorem of the closed form, then the raw integral (quad) must give
    # the same value and be stationary in the conjugates
    o = saddle.order_parameters
    pt = {_qs: o["q"], _pds: o["pd"], _ps: o["p"], _ms: o["m"]}
    phd = float(-2 * sp.diff(_L_HAND, _pds).subs(pt))
    ph = float(2 * sp.diff(_L_HAND, _ps).subs(pt))
    mh = float(-sp.diff(_L_HAND, _ms).subs(pt))
    args = (o["q"], o["pd"], o["p"], o["m"])
    L0 = _L_NUM(*args)
    np.testing.assert_allclose(_latent_raw(*args, phd, ph, mh), L0, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(saddle.observables["latent_cost"], L0 / 1.0, rtol=1e-12, atol=1e-14)
    h = 1e-4
    for e in np.eye(3):
        g = (_latent_raw(*args, *(np.array([phd, ph, mh]) + h * e), n_outer=24)
             - _latent_raw(*args, *(np.array([phd, ph, mh]) - h * e), n_outer=24)) / (2 * h)
        assert abs(g) < 1e-7


def test_free_entropy_against_quad_and_stationary_by_finite_differences(model, saddle):
    o = saddle.order_parameters
    names = ("q", "qhat", "m", "p", "pd")
    x = np.array([o[k] for k in names])
    c = (0.5, 1.0, MU_SIGN)
    np.testing.assert_allclose(saddle.free_entropy, _free_entropy_quad(*c, *x), rtol=1e-10, atol=1e-12)
    h = 1e-5
    for i in range(5):
        e = np.zeros(5)
        e[i] = h
        g = (_free_entropy_quad(*c, *(x + e)) - _free_entropy_quad(*c, *(x - e))) / (2 * h)
        assert abs(g) < 1e-7, names[i]
    # and the sympy gradient agrees with finite differences of the independent phi off the saddle
    y = x + np.array([0.05, -0.1, 0.03, 0.02, 0.04])
    grad = model.gradient_numeric(*c, *y)
    for i in range(5):
        e = np.zeros(5)
        e[i] = h
        fd = (_free_entropy_quad(*c, *(y + e)) - _free_entropy_quad(*c, *(y - e))) / (2 * h)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-6, atol=1e-8)


def test_observables(saddle):
    o = saddle.order_parameters
    M, Q0 = MU_SIGN * o["m"], MU_SIGN**2 * o["pd"] + 1 - MU_SIGN**2
    np.testing.assert_allclose(saddle.observables["eps_gen"], math.acos(M / math.sqrt(Q0)) / math.pi,
                               rtol=1e-12, atol=1e-14)
    assert 0 < saddle.observables["eps_gen"] < 0.5
    assert saddle.free_entropy > S_EQ            # labels correlated with the data: more solutions


# --------------------------------------------------------------- limits
def test_mu1_to_zero_is_binary_storage(model):
    r = pk.solve(model, {"alpha": 0.5, "gamma": 1.0, "mu1": 1e-9})
    assert r.converged
    o = r.order_parameters
    np.testing.assert_allclose([r.free_entropy, o["q"], o["qhat"]], [S_EQ, Q_EQ, QHAT_EQ], atol=1e-6)
    np.testing.assert_allclose([o["m"], o["p"] - o["q"], o["pd"] - 1], 0.0, atol=1e-8)
    tr = pk.find_transition(model, "interpolation", {"gamma": 1.0, "mu1": 1e-9})
    assert tr.converged
    np.testing.assert_allclose(tr.value, ALPHA_KM, atol=1e-5)


def _small_gamma_slope(alpha, mu1, q):
    """d s / d gamma at gamma = 0, by hand: s = s_storage + gamma * s1 with
    s1 = -alpha^2/2 g^T H^{-1} g, g = grad of G_E in (pd, p, m) at the storage point and H the
    Hessian of L there (sympy of the hand formula above); storage (q, qhat) from spec §3."""
    Q0, Q1 = 1.0, q                     # at pd = 1, p = q, m = 0 (E sigma^2 = 1)
    gfun = lambda q0, q1: _gauss(lambda x: special.log_ndtr(math.sqrt(q1 / (q0 - q1)) * x))  # noqa: E731
    h = 1e-5
    dQ0 = (gfun(Q0 + h, Q1) - gfun(Q0 - h, Q1)) / (2 * h)
    dQ1 = (gfun(Q0, Q1 + h) - gfun(Q0, Q1 - h)) / (2 * h)
    dM = 2 * _gauss(lambda x: x / math.sqrt(2 * math.pi * Q1) * special.log_ndtr(math.sqrt(Q1 / (Q0 - Q1)) * x))
    g = np.array([mu1**2 * dQ0, mu1**2 * dQ1, mu1 * dM])
    pt = {_qs: q, _pds: 1, _ps: q, _ms: 0}
    v = (_pds, _ps, _ms)
    H = np.array([[float(sp.diff(_L_HAND, a, b).subs(pt)) for b in v] for a in v])
    return -0.5 * alpha**2 * g @ np.linalg.solve(H, g), 0.5 * alpha**2 * g[2]**2 * (1 - q)


def test_gamma_to_zero_is_storage_with_hand_derived_slope(model):
    s1, s1_lo = _small_gamma_slope(0.5, MU_SIGN, Q_EQ)
    for gamma in (1e-3, 1e-2):
        r = pk.solve(model, {"alpha": 0.5, "gamma": gamma, "mu1": MU_SIGN})
        assert r.converged
        np.testing.assert_allclose((r.free_entropy - S_EQ) / gamma, s1, rtol=0.03 + 3 * gamma, atol=2e-6 / gamma)
    # the leading-order closure has only the m-response at this order; the (pd, p) response of the full
    # theory (an indefinite 2x2 block of H: p is an off-diagonal overlap) lowers the slope
    r = pk.solve(rf.RandomFeatureLeadingOrder(), {"alpha": 0.5, "gamma": 1e-3, "mu1": MU_SIGN})
    np.testing.assert_allclose((r.free_entropy - S_EQ) / 1e-3, s1_lo, rtol=0.03, atol=2e-3)
    assert s1_lo > s1 > 0


def test_interpolation_threshold_grows_with_width_and_tends_to_storage(model):
    vals = [pk.find_transition(model, "interpolation", {"gamma": g}).value for g in (0.01, 0.5, 2.0, 4.0)]
    assert vals[0] == pytest.approx(ALPHA_KM, abs=0.2 * 0.01)
    assert all(a < b for a, b in zip(vals, vals[1:]))


# --------------------------------------------------------------- thresholds at fixed P/D
def test_rf_thresholds_consistent_with_alpha_c(model):
    r = rf.rf_thresholds(1.0, [0.8, 1.0, 1.2, 1.5])
    assert r.success and r.converged.all()
    # structured labels are easier to fit than random ones: the threshold lies above the storage capacity
    assert r.alpha_c > ALPHA_KM + 0.05
    np.testing.assert_allclose(r.alpha_c * r.gamma_c, 1.0, rtol=1e-12)
    tr = pk.find_transition(model, "interpolation", {"gamma": r.gamma_c})
    np.testing.assert_allclose(tr.value, r.alpha_c, rtol=1e-7)
    # the curve: entropy changes sign at gamma_c and grows with the width
    assert np.all(np.diff(r.entropy) > 0)
    assert r.entropy[0] < 0 < r.entropy[-1]
    np.testing.assert_allclose(r.alphas, 1.0 / r.gammas, rtol=1e-14)


def test_rf_thresholds_grow_with_data():
    g = [rf.rf_thresholds(rho, [rho]).gamma_c for rho in (0.5, 2.0)]
    assert g[0] < g[1]


@pytest.mark.parametrize("kw,name", [({"p_over_d": 0.0}, "p_over_d"), ({"p_over_d": -1.0}, "p_over_d"),
                                     ({"p_over_d": 1.0, "gammas": [0.5, -1.0]}, "gammas"),
                                     ({"p_over_d": 1.0, "mu1": 1.5}, "mu1"),
                                     ({"p_over_d": float("nan")}, "p_over_d")])
def test_rf_thresholds_validates_inputs(kw, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of rf_thresholds"):
        rf.rf_thresholds(**kw)


def test_model_validates_gamma(model):
    with pytest.raises(InvalidParameterError, match="'gamma'"):
        pk.solve(model, {"alpha": 0.5, "gamma": 0.0})


def test_random_feature_constants():
    mu1, mus = rf.random_feature_constants("sign")
    np.testing.assert_allclose([mu1, mu1**2 + mus**2], [MU_SIGN, 1.0], rtol=0, atol=1e-15)
    mu1t, _ = rf.random_feature_constants("tanh")
    np.testing.assert_allclose(mu1t, _gauss(lambda x: 1 / np.cosh(x)**2), rtol=1e-9)   # E tanh' (Stein)
    with pytest.raises(InvalidParameterError, match="'activation'"):
        rf.random_feature_constants("relu")
