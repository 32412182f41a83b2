"""Franz–Parisi local entropy of the random-feature binary perceptron [R].

Expected numbers come from outside the code under test: the storage Franz–Parisi potential of
``phasekit.theory.replica.local_entropy`` (an independent implementation, and spec §7 [V]: S_FP(q̃) = s_eq
= 0.314390, d_typ = 0.3388 at α = 0.5), the RS entropy of ``perceptron.random_features`` (exact
point), the binary entropy (α = 0), explicit numpy log-dets of the two-level replica matrices at
integer (n, r), and a nested ``scipy.integrate.quad`` evaluation of the energetic term written
here (no phasekit quadrature).
"""
import math

import numpy as np
import pytest
from scipy import integrate, special

import phasekit as pk
from phasekit import InvalidParameterError
from phasekit.theory.replica import random_features as rf
from phasekit.theory.replica import random_features_fp as fp
from phasekit.theory.replica.local_entropy import local_entropy_curve

S_EQ, D_TYP = 0.314390, 0.3388            # spec §7 [V], alpha = 0.5, kappa = 0
ALPHA_LE_IID = 0.7291                     # local_entropy.alpha_le (monotone criterion), i.i.d. data
MU = math.sqrt(2 / math.pi)


# --------------------------------------------------------------- independent references
def _energetic_quad(M, Q0, Q1, P, T, Mt, Q0t, Q1t, kappa_t, kappa=0.0):
    """G_FP by nested scipy quad over (nu >= 0, z0, u1 >= u0); z1 by 80-point Gauss–Hermite_e."""
    zh, wh = np.polynomial.hermite_e.hermegauss(80)
    wh = wh / wh.sum()
    s0, s1 = math.sqrt(Q1t - Mt**2), math.sqrt(Q0t - Q1t)
    c0, c1 = (T - Mt * M) / s0, (P - T) / s1
    sig = math.sqrt(max(Q1 - M**2 - c0**2 - c1**2, 0.0))
    dl = math.sqrt(Q0 - Q1)
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731

    def over_u1(nu, z0):
        u0 = (kappa_t - Mt * nu - s0 * z0) / s1
        f = lambda u: phi(u) * float(wh @ special.log_ndtr(-(kappa - M * nu - c0 * z0 - c1 * u - sig * zh) / dl))  # noqa: E731
        return integrate.quad(f, u0, max(u0, 0.0) + 9, epsabs=1e-10, limit=100)[0] / special.ndtr(-u0)

    def over_z0(nu):
        return integrate.quad(lambda z: phi(z) * over_u1(nu, z), -8, 8, epsabs=1e-9, limit=100)[0]

    return 2 * integrate.quad(lambda nu: phi(nu) * over_z0(nu), 0, 8.5, epsabs=1e-8, limit=100)[0]


def _binary_entropy(d):
    return -d * math.log(d) - (1 - d) * math.log(1 - d)


# --------------------------------------------------------------- latent log-det
def test_two_level_spectrum_matches_numpy_logdet():
    """The spectral decomposition behind the two-level RS log-det, at integer (n, r)."""
    Ad, Ao, Bd, Bo, X1, X2 = 1.3, 0.4, 1.1, 0.5, 0.35, 0.2
    for n, r in ((4, 3), (5, 2)):
        N = n + r
        C = np.empty((N, N))
        C[:n, :n] = Ao
        C[n:, n:] = Bo
        np.fill_diagonal(C[:n, :n], Ad)
        np.fill_diagonal(C[n:, n:], Bd)
        C[n:, 0] = C[0, n:] = X1
        C[n:, 1:n] = X2
        C[1:n, n:] = X2
        K, ea, eb = fp._two_level(Ad, Ao, Bd, Bo, X1, X2, n, r)
        ld = (n - 2) * math.log(ea) + (r - 1) * math.log(eb) + math.log(float(K.det()))
        np.testing.assert_allclose(ld, np.linalg.slogdet(C)[1], rtol=1e-12, atol=1e-12)
        # and the trace tr(C^-1 S) for a second matrix of the same structure
        S = C + np.diag(np.r_[np.full(n, 0.2), np.full(r, 0.1)])
        Ks, sa, sb = fp._two_level(Ad + 0.2, Ao, Bd + 0.1, Bo, X1, X2, n, r)
        tr = (n - 2) * sa / ea + (r - 1) * sb / eb + float((K.inv() * Ks).trace())
        np.testing.assert_allclose(tr, np.trace(np.linalg.solve(C, S)), rtol=1e-12, atol=1e-12)


def test_latent_closed_form_equals_derivation_and_limits():
    lfp, lref, r00 = fp.latent_fp_entropy_derived()
    closed = fp.latent_fp_entropy_rs()
    rng = np.random.default_rng(1)
    syms = dict(q=fp.q, t=fp.t, p=fp.p, q_tilde=fp.qt, m=fp.m, pd=fp.pd, ps=fp.ps, pi=fp.pi_, tau=fp.tau,
                m_tilde=fp.mt, pd_tilde=fp.pdt, p_tilde=fp.pt)
    for _ in range(3):
        v = {syms["q_tilde"]: 0.3 + 0.2 * rng.random(), syms["m_tilde"]: 0.2 * rng.random(),
             syms["pd_tilde"]: 1.0 + 0.1 * rng.random(), syms["p_tilde"]: 0.45, syms["q"]: 0.6,
             syms["t"]: 0.3, syms["p"]: 0.5, syms["m"]: 0.15, syms["pd"]: 1.05, syms["ps"]: 0.62,
             syms["pi"]: 0.52, syms["tau"]: 0.33}
        np.testing.assert_allclose(float(closed.subs(v)), float(lfp.subs(v)), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(float(r00.subs(v)), 0.0, atol=1e-12)
        # the n-coefficient is the one-level cost L of random_features
        L1 = rf.latent_entropy_rs().subs({rf.q: v[syms["q_tilde"]], rf.pd: v[syms["pd_tilde"]],
                                          rf.p: v[syms["p_tilde"]], rf.m: v[syms["m_tilde"]]})
        np.testing.assert_allclose(float(lref.subs(v)), float(L1), rtol=1e-10, atol=1e-12)
        # exact point: the student is one more reference -> L_FP = L of the reference
        ex = dict(v)
        ex.update({syms["q"]: v[syms["q_tilde"]], syms["t"]: v[syms["q_tilde"]], syms["p"]: v[syms["q_tilde"]],
                   syms["m"]: v[syms["m_tilde"]], syms["pd"]: v[syms["pd_tilde"]], syms["ps"]: v[syms["p_tilde"]],
                   syms["pi"]: v[syms["p_tilde"]], syms["tau"]: v[syms["p_tilde"]]})
        np.testing.assert_allclose(float(closed.subs(ex)), float(L1), rtol=1e-10, atol=1e-12)
    # typical point (no latent information): L_FP = 0
    typ = {fp.qt: 0.4, fp.mt: 0, fp.pdt: 1, fp.pt: 0.4, fp.q: 0.7, fp.t: 0.35, fp.p: 0.6, fp.m: 0, fp.pd: 1,
           fp.ps: 0.7, fp.pi_: 0.6, fp.tau: 0.35}
    np.testing.assert_allclose(float(closed.subs(typ)), 0.0, atol=1e-12)


# --------------------------------------------------------------- energetic term
def test_energetic_kernel_matches_nested_quad_and_its_gradient():
    rng = np.random.default_rng(7)
    Mt, Q0t, Q1t, kt = 0.25, 0.95, 0.45, 0.3
    M, Q0, Q1, P, T = 0.2, 0.97, 0.7, 0.55, 0.3
    M += 0.01 * rng.standard_normal()
    K = fp._kernel()
    v, g, h = K.energetic((M, Q0, Q1, P, T), (Mt, Q0t, Q1t, kt))
    ref = _energetic_quad(M, Q0, Q1, P, T, Mt, Q0t, Q1t, kt)
    np.testing.assert_allclose(v, ref, rtol=0, atol=2e-6)
    # gradient and Hessian (integration by parts) against central differences of the kernel value
    y0 = np.array([M, Q0, Q1, P, T])
    eps = 1e-5
    for i in range(5):
        e = np.zeros(5)
        e[i] = eps
        vp, gp, _ = K.energetic(tuple(y0 + e), (Mt, Q0t, Q1t, kt))
        vm, gm, _ = K.energetic(tuple(y0 - e), (Mt, Q0t, Q1t, kt))
        np.testing.assert_allclose(g[i], (vp - vm) / (2 * eps), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(h[i], (gp - gm) / (2 * eps), rtol=1e-4, atol=1e-5)


def test_reference_margin_model_at_zero_margin_is_random_features():
    r0 = pk.solve(rf.RandomFeatureStorage(), {"alpha": 0.5, "gamma": 1.0})
    ref = fp.rf_reference_state(0.5, 1.0, MU, 0.0)
    np.testing.assert_allclose(ref["entropy"], r0.free_entropy, rtol=0, atol=1e-10)
    assert fp.rf_reference_state(0.5, 1.0, MU, 0.3)["entropy"] < ref["entropy"]


# --------------------------------------------------------------- Franz–Parisi limits
def test_mu1_to_zero_is_storage_franz_parisi():
    d = [0.3388075, 0.3, 0.2, 0.1, 0.05]
    c = fp.rf_local_entropy_curve(0.5, 1.0, d, mu1=1e-7)
    c0 = local_entropy_curve(0.5, d)
    assert c.converged.all()
    np.testing.assert_allclose(c.entropy, c0.entropy, rtol=0, atol=2e-7)
    np.testing.assert_allclose(c.entropy[0], S_EQ, rtol=0, atol=2e-6)
    np.testing.assert_allclose(c.d_typ, D_TYP, rtol=0, atol=1e-4)
    np.testing.assert_allclose(c.dS_dd, c0.dS_dd, rtol=0, atol=1e-5)


def test_exact_point_is_random_features_entropy():
    r0 = pk.solve(rf.RandomFeatureStorage(), {"alpha": 0.5, "gamma": 1.0})
    dt = (1 - r0.order_parameters["q"]) / 2
    c = fp.rf_local_entropy_curve(0.5, 1.0, [dt, dt - 0.02, dt + 0.02])
    assert c.converged.all()
    np.testing.assert_allclose(c.entropy[0], r0.free_entropy, rtol=0, atol=1e-9)
    assert np.all(c.entropy[1:] < c.entropy[0])            # S_FP maximal at the typical distance
    np.testing.assert_allclose(c.order_parameters["m"][0], r0.order_parameters["m"], atol=1e-8)


def test_alpha_zero_is_binary_entropy():
    d = np.array([0.05, 0.2, 0.4])
    c = fp.rf_local_entropy_curve(0.0, 2.0, d)
    np.testing.assert_allclose(c.entropy, [_binary_entropy(x) for x in d], rtol=0, atol=1e-8)


def test_max_margin_reference_criterion_positive_at_half():
    v, c = fp.rf_le_criterion(0.5, 1.0)
    assert c.converged.all() and v > 0
    assert np.all(np.diff(c.entropy[:24]) > 0)             # growing from d = 0.002 to 0.08
    assert c.params["kappa_tilde"] == pytest.approx(fp.rf_kappa_max(0.5, 1.0))


def test_invalid_parameters():
    with pytest.raises(InvalidParameterError, match="'gamma' parameter of rf_local_entropy_curve"):
        fp.rf_local_entropy_curve(0.5, 0.0, [0.1])
    with pytest.raises(InvalidParameterError, match="'d' parameter"):
        fp.rf_local_entropy_curve(0.5, 1.0, [0.6])
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        fp.rf_local_entropy_curve(-1.0, 1.0, [0.1])
    with pytest.raises(InvalidParameterError, match="'mu1' parameter"):
        fp.rf_alpha_le(1.0, mu1=1.5)
    with pytest.raises(InvalidParameterError, match="'gammas' parameter"):
        fp.rf_le_thresholds(1.0, [-1.0])


# --------------------------------------------------------------- thresholds (slow)
@pytest.mark.slow
def test_small_gamma_gives_iid_alpha_le():
    r = fp.rf_alpha_le(0.01, bracket=(0.70, 0.76))     # ~4 min
    assert r.converged
    np.testing.assert_allclose(r.value, ALPHA_LE_IID, rtol=0, atol=0.01)


@pytest.mark.slow
def test_alpha_le_below_interpolation_threshold():
    r = fp.rf_alpha_le(1.0)
    assert r.converged
    assert 0.7 < r.value < fp.rf_interpolation_alpha(1.0)


@pytest.mark.slow
def test_le_thresholds_at_fixed_p_over_d():
    # rho = 0.4: gamma * alpha_c(gamma) = 0.4 at gamma_c ~ 0.456; alpha_LE(0.5) = 0.763 -> gamma_LE ~ 0.52
    r = fp.rf_le_thresholds(0.4, [0.48, 0.6])
    assert r.success
    assert 0.44 < r.gamma_c < 0.47
    assert r.gamma_c < r.gamma_le
    assert 0.50 < r.gamma_le < 0.55
