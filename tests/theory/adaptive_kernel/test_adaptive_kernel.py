"""Adaptive-kernel theory of grokking (Rubin, Seroussi, Ringel 2024): symbolic reductions, the two
corrections of the printed paper, Monte-Carlo kernel coefficients, onsets, scaling invariance.

Expected numbers come from the paper (onsets, within 10 %), from Monte Carlo over x written here,
or from small independent re-implementations in this file (grid minimisation, fixed-point iteration),
never from the module under test.
"""
import math
import time

import numpy as np
import pytest
import sympy as sp

import phasekit as pk
from phasekit import InvalidParameterError
from phasekit.theory.adaptive_kernel import adaptive_kernel as AK

SQPI = math.sqrt(math.pi)


# ---------------------------------------------------------------- symbolic reductions
def test_stein_integrals_closed_forms():
    st = AK.stein_integrals()
    q, D = sp.Symbol("q", real=True), sp.Symbol("D", positive=True)
    assert sp.simplify(st["I0"] - 2 * q / (sp.sqrt(sp.pi) * sp.sqrt(D))) == 0
    assert sp.simplify(st["E_H3"] + 4 * q ** 3 / (sp.sqrt(sp.pi) * D ** sp.Rational(3, 2))) == 0
    assert sp.simplify(st["I1"] - 2 / sp.sqrt(sp.pi) * q / sp.sqrt(D) * (3 - 2 * q ** 2 / D)) == 0


def test_c11_is_four_not_two():
    M = AK.projected_kernel()
    assert M["c11"] == 4
    q, D = sp.Symbol("q", real=True), sp.Symbol("D", positive=True)
    assert sp.simplify(M["M13"] + 8 * q ** 4 / (sp.sqrt(6) * sp.pi * D ** 2)) == 0
    assert sp.simplify(M["M33"] - 8 * q ** 6 / (3 * sp.pi * D ** 3)) == 0


def test_order_parameter_action_follows_from_neuron_action():
    S = AK.order_parameter_action()
    assert sp.simplify(S - AK._S_spec()) == 0


def test_neuron_action_continuum_limit():
    # sum over mu,nu of tbar tbar phi phi = (sum_mu tbar phi)^2 -> n^2 E[tbar phi]^2
    S = AK.neuron_action(sp.erf, 3)
    h = sp.symbols("h_0:3", real=True)
    tb = sp.symbols("tbar_0:3", real=True)
    field = sum(t * sp.erf(x) for t, x in zip(tb, h))
    w2 = sp.Symbol("w2", nonnegative=True)
    assert sp.simplify(S - (AK.d_s * w2 / (2 * AK.sigma_w2) - AK.sigma_a2 / (2 * AK.N_s) * field ** 2)) == 0
    with pytest.raises(InvalidParameterError):
        AK.neuron_action(sp.erf, 0)


def test_self_consistency_normalisation():
    sc = AK.self_consistency()
    assert sc["kappa_form_equal"]
    # with the sigma^2/n prefactor nothing is learned without data (b -> 1); the printed form gives 0
    assert sc["n_to_zero"] == (1, 0)


def test_gfl_closed_forms_symbolic():
    g = AK.gfl_closed_forms()
    assert g["quadratic_coefficient_ok"] and g["m11_leading_ok"]
    # numeric GFL b solves the closed-form equation
    p = dict(AK.BASE_POINT, sigma2=0.25)
    sol = AK.cubic_gfl(p)
    u = p["n"] ** 2 * p["sigma_a2"] / (p["sigma2"] ** 2 * p["d"] * p["N"])
    kap = p["n"] * p["sigma_a2"] / p["sigma2"]
    val = g["b_equation"].subs({AK.b_s: sol["b"], AK.u_s: u, AK.kappa_s: kap, AK.sigma_w2: p["sigma_w2"], AK.d_s: p["d"]})
    assert abs(float(val)) < 1e-12


def test_gp_predictor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    K = X @ X.T + 0.1 * np.eye(30)
    y = rng.standard_normal(30)
    f, t = AK.gp_predictor(K, y, 0.5)
    np.testing.assert_allclose(f, K @ np.linalg.solve(K + 0.5 * np.eye(30), y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t, (y - f) / 0.5, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- Monte Carlo over x
def test_monte_carlo_kernel_coefficients():
    rng = np.random.default_rng(1)
    d, n = 6, 1_000_000
    w = rng.standard_normal(d) * 0.5
    q, s2 = w[0], float(w @ w)
    D = 1 + 2 * s2
    X = rng.standard_normal((n, d))
    z = X[:, 0]
    from scipy.special import erf
    e = erf(X @ w)
    for samples, exact in ((z * e, 2 / SQPI * q / math.sqrt(D)),
                           ((z ** 3 - 3 * z) * e, -4 / SQPI * q ** 3 / D ** 1.5),
                           (z ** 3 * e, 2 / SQPI * q / math.sqrt(D) * (3 - 2 * q * q / D))):
        m, se = samples.mean(), samples.std() / math.sqrt(n)
        assert abs(m - exact) < 4 * se
    # M11 = E[H1 erf]^2 = c11 q^2/(pi D): c11 = 4 (3 sigma), c11 = 2 is excluded
    m1 = (z * e).mean()
    se1 = (z * e).std() / math.sqrt(n)
    c11 = m1 ** 2 / (q * q / (math.pi * D))
    c11_err = 2 * abs(m1) * se1 / (q * q / (math.pi * D))
    assert abs(c11 - 4) < 4 * c11_err
    assert abs(c11 - 2) > 20 * c11_err
    # projected kernel Q13, Q33 with H3/sqrt(6)
    m3 = ((z ** 3 - 3 * z) * e).mean() / math.sqrt(6)
    np.testing.assert_allclose(m1 * m3, -8 * q ** 4 / (math.sqrt(6) * math.pi * D ** 2), rtol=0.02, atol=2e-4)
    np.testing.assert_allclose(m3 * m3, 8 * q ** 6 / (3 * math.pi * D ** 3), rtol=0.05, atol=2e-4)


# ---------------------------------------------------------------- independent d -> inf onset
def _indep_onset(p):
    """Bisection on sigma2 of min_q s(q) on the GFL solution; GFL b by bisection on the stable side."""
    sw, eps = p["sigma_w2"], p["eps"]
    qs = np.linspace(1e-3, 4, 40001)

    def gfl_b(s2):
        u = p["n"] ** 2 * p["sigma_a2"] / (s2 ** 2 * p["d"] * p["N"])
        kd = p["n"] * p["sigma_a2"] / s2 / p["d"]
        U = 4 * u * sw / (math.pi * (1 + 2 * sw))

        def resid(b):  # b - 1/(1 + kappa/d * 4 v0 d/(pi(1+2sw))), increasing on 0 < b < 1/sqrt(U)
            v0d = sw / (1 - U * b * b)
            return b - 1 / (1 + kd * 4 * v0d / (math.pi * (1 + 2 * sw)))

        lo, hi = 0.0, min(1.0, 1 / math.sqrt(U)) * (1 - 1e-12)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if resid(mid) < 0 else (lo, mid)
        return 0.5 * (lo + hi), u

    def gap(s2):
        b, u = gfl_b(s2)
        D = 1 + 2 * (sw + qs ** 2)
        s = qs ** 2 / (2 * sw) - 2 * u / math.pi * qs ** 2 / D * (b - 2 * eps * qs ** 2 / D) ** 2
        return s.min() + 1e-14

    lo, hi = 0.12, 0.25
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    s2 = 0.5 * (lo + hi)
    return s2, p["n"] ** 2 * p["sigma_a2"] / (s2 ** 2 * p["d"] * p["N"])


def test_base_point_onset_matches_paper_and_independent_solver():
    on = AK.cubic_onset(AK.BASE_POINT)
    assert 0.17 <= on["value"] <= 0.19
    assert 28 <= on["u_c"] <= 33
    assert on["u_c"] == pytest.approx(30.2, rel=0.1)
    s2, u = _indep_onset(AK.BASE_POINT)
    assert on["value"] == pytest.approx(s2, rel=1e-4)
    assert on["u_c"] == pytest.approx(u, rel=1e-3)
    tr = pk.find_transition("ak.cubic", "gmfl1_onset")
    assert tr.converged and tr.value == pytest.approx(on["value"], rel=1e-10)


def test_generic_zero_of_maxwell_gap_brackets_the_onset():
    on = AK.cubic_onset(AK.BASE_POINT)["value"]
    for s2, sign in ((on * 1.02, 1), (on * 0.98, -1)):
        r = pk.solve("ak.cubic", {"sigma2": s2})
        assert r.converged
        assert np.sign(r.observables["maxwell_gap"]) == sign


def test_mixed_phase_maxwell_construction_and_self_consistency():
    p = dict(AK.BASE_POINT, sigma2=0.15)
    st = AK.cubic_saddle(p)
    assert st.phase == "GMFL-I" and st.converged and st.p > 0
    sw, eps = p["sigma_w2"], p["eps"]
    qs = np.linspace(1e-3, 3, 300001)
    D = 1 + 2 * (sw + qs ** 2)
    s = qs ** 2 / (2 * sw) - 2 * st.u / math.pi * qs ** 2 / D * (st.b - 2 * st.c * qs ** 2 / D) ** 2
    assert abs(s.min()) < 1e-8                       # degenerate with q = 0
    assert qs[np.argmin(s)] == pytest.approx(st.q_star, abs=1e-3)
    # self-consistency re-assembled here
    Dq = 1 + 2 * (sw + st.q_star ** 2)
    y = st.q_star ** 2
    M = np.array([[4 * y / (math.pi * Dq), -8 * y * y / (math.sqrt(6) * math.pi * Dq ** 2)],
                  [-8 * y * y / (math.sqrt(6) * math.pi * Dq ** 2), 8 * y ** 3 / (3 * math.pi * Dq ** 3)]])
    v0d = sw / (1 - 4 * st.u * sw * st.b ** 2 / (math.pi * (1 + 2 * sw)))
    A = st.p_tilde * M
    A[0, 0] += st.kappa / p["d"] * 4 * v0d / (math.pi * (1 + 2 * sw))
    bc = np.linalg.solve(A + np.eye(2), [1, math.sqrt(6) * eps])
    np.testing.assert_allclose([st.b, st.c], [bc[0], bc[1] / math.sqrt(6)], rtol=1e-9, atol=1e-12)


def test_gfl_cubic_not_learned_and_kink_past_onset():
    on = AK.cubic_onset(AK.BASE_POINT)["value"]
    cv = AK.cubic_curve(np.linspace(on + 0.1005, on - 0.0595, 161))
    gfl = cv.sigma2 > on
    assert np.all(cv.phase[gfl] == "GFL") and np.all(cv.phase[~gfl] == "GMFL-I")
    np.testing.assert_allclose(cv.f3_over_eps[gfl], 0.0, atol=1e-15)
    assert np.all(np.diff(cv.f3_over_eps[~gfl]) > 0)          # rises as sigma2 decreases
    slope = np.diff(cv.f3_over_eps[~gfl][:5]) / np.diff(cv.sigma2[~gfl][:5])
    assert np.all(slope < -0.5)                                # finite slope at the onset: a kink
    assert np.all(cv.converged)


def test_scaling_invariance_of_d_infinity_equations():
    grid = np.linspace(0.3, 0.03, 60)
    ref = AK.cubic_curve(grid, AK.cubic_params(1.0))
    for beta in (0.125, 8.0):
        cv = AK.cubic_curve(grid, AK.cubic_params(beta))
        for k in ("b", "c", "p_tilde", "u", "f3_over_eps"):
            np.testing.assert_allclose(getattr(cv, k), getattr(ref, k), rtol=1e-9, atol=1e-12)
        # q_star in GFL is the location of a flat minimum of h (located to ~1e-8)
        np.testing.assert_allclose(cv.q_star, ref.q_star, rtol=1e-6, atol=1e-9)
        assert cv.sigma2_gmfl1 == pytest.approx(ref.sigma2_gmfl1, rel=1e-10)


def test_finite_d_approaches_d_infinity():
    for s2 in (0.3, 0.1):
        inf = AK.cubic_saddle(AK.cubic_params(1.0), sigma2=s2)
        big = AK.cubic_finite_d(AK.cubic_params(16.0), sigma2=s2)
        small = AK.cubic_finite_d(AK.cubic_params(1.0), sigma2=s2)
        assert big.converged and small.converged
        assert abs(big.f1 - inf.f1) < abs(small.f1 - inf.f1) + 1e-3
        assert abs(big.f1 - inf.f1) < 0.01
        assert abs(big.f3_over_eps - inf.f3_over_eps) < 0.03


def test_q_density_is_the_symbolic_action():
    # -log p(q) of cubic_q_density against the sympy action S(q) (order_parameter_action), lambdified
    # here, at the finite-d solution's (b, c) and at an arbitrary (b, c)
    p = AK.cubic_params(0.125, sigma2=0.12)
    th = AK.cubic_finite_d(p)
    u = p["n"] ** 2 * p["sigma_a2"] / (p["sigma2"] ** 2 * p["d"] * p["N"])
    S = AK.order_parameter_action()
    syms = {s.name: s for s in S.free_symbols}
    f = sp.lambdify([syms["q"], syms["b"], syms["c"]],
                    S.subs({syms["u"]: u, syms["d"]: p["d"], syms["sigma_w2"]: p["sigma_w2"]}), "numpy")
    for b, c in ((th.b, th.c), (0.3, -0.1)):
        q, neg_log_p, w = AK.cubic_q_density(p, b, c, perp_correction=False)
        ref = f(q, b, c)
        assert np.allclose(neg_log_p, ref - ref.min(), atol=1e-9 * max(1.0, np.abs(ref).max()))
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
    q, neg_log_p, _ = AK.cubic_q_density(p, th.b, th.c)
    assert np.allclose(neg_log_p, th.neg_log_p, atol=1e-12)


def test_continuation_curve_is_fast():
    grid = np.linspace(0.3, 0.02, 100)
    AK.cubic_curve(grid[:3])
    t = time.perf_counter()
    cv = AK.cubic_curve(grid)
    assert time.perf_counter() - t < 5.0
    assert cv.converged.all() and {"GFL", "GMFL-I"} <= set(cv.phase)


def test_generic_protocol_agrees_with_dedicated_solver():
    for s2 in (0.3, 0.15, 0.06):
        r = pk.solve("ak.cubic", {"sigma2": s2})
        st = AK.cubic_saddle(sigma2=s2)
        assert r.converged
        assert r.observables["f1"] == pytest.approx(st.f1, abs=1e-9)
        assert r.observables["f3_over_eps"] == pytest.approx(st.f3_over_eps, abs=1e-9)
        assert r.observables["p"] == pytest.approx(st.p, abs=1e-9)
    br = pk.continue_branch("ak.cubic", {}, along="sigma2", values=np.linspace(0.3, 0.03, 40))
    assert br.converged.all()


def test_gmfl2_absent_at_base_point_present_at_small_kappa():
    assert math.isnan(AK.cubic_gmfl2_onset(AK.BASE_POINT))
    tr = pk.find_transition("ak.cubic", "gmfl2_onset")
    assert not tr.converged
    # small d at fixed invariants: kappa = O(d) small, the droplets saturate (p -> 1)
    p = AK.cubic_params(1e-4)
    s2 = AK.cubic_gmfl2_onset(p)
    assert np.isfinite(s2) and s2 < AK.cubic_onset(p)["value"]
    st = AK.cubic_saddle(p, sigma2=0.8 * s2)
    assert st.phase == "GMFL-II" and st.p == 1.0


def test_invalid_parameters():
    with pytest.raises(InvalidParameterError, match="'sigma2' parameter of cubic_saddle"):
        AK.cubic_saddle(sigma2=-1.0)
    with pytest.raises(InvalidParameterError):
        AK.cubic_saddle(foo=1.0)
    with pytest.raises(InvalidParameterError):
        pk.solve("ak.cubic", {"n": 0})
    with pytest.raises(InvalidParameterError):
        AK.modular_solve(P=-3)


# ---------------------------------------------------------------- modular addition
def test_modular_saddles_and_onset_symbolic():
    sad = AK.modular_saddles()
    g, gam = AK.g_s, AK.gamma_s
    assert sp.simplify(sad["x_plus"] - (g + sp.sqrt(g ** 2 - gam)) / gam) == 0
    ex = AK.modular_onset_exprs()
    assert sp.simplify(ex["g_c"] - 2 * sp.sqrt(gam / 3)) == 0
    assert sp.simplify(ex["lambda_c"] - 3 * AK.sigma_a2 / gam) == 0


def test_modular_onsets_match_paper():
    on = AK.modular_onsets()
    assert on["sigma2_I"] == pytest.approx(0.227, rel=0.1)
    assert on["sigma2_II"] == pytest.approx(0.175, rel=0.1)
    assert on["a_II"] == pytest.approx(0.7, rel=0.1)
    for name, key in (("gmfl1_onset", "sigma2_I"), ("gmfl2_onset", "sigma2_II")):
        tr = pk.find_transition("ak.modular", name)
        assert tr.converged and tr.value == pytest.approx(on[key], rel=1e-12)


def test_modular_self_consistent_discrepancy_independent():
    # direct bisection of a = s2/(lam(a) + s2) written here
    P, N, sa, gam = 401.0, 1000.0, 2e-6, 1e-4

    def lam(a, s2):
        g = 2 * sa * a * a * P * P / (N * s2 * s2)
        if g * g < gam:
            return 0.0
        x = (g + math.sqrt(g * g - gam)) / gam
        S = P * (x - g * x * x + gam * x ** 3 / 3)
        return sa * x * x * (0.0 if S > 700 else 4 * math.exp(-S) / (1 + 4 * math.exp(-S)) if S > -700 else 1.0)

    for s2 in (0.3, 0.22, 0.2, 0.18, 0.15):
        lo, hi = 1e-9, 1.0
        if 1.0 * (lam(1.0, s2) + s2) - s2 <= 0:
            a = 1.0
        else:
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if mid * (lam(mid, s2) + s2) - s2 < 0 else (lo, mid)
            a = 0.5 * (lo + hi)
        assert AK.modular_solve(sigma2=s2).a == pytest.approx(a, abs=1e-9)
        r = pk.solve("ak.modular", {"sigma2": s2})
        assert r.converged and r.order_parameters["a"] == pytest.approx(a, abs=1e-9)
    # |a| from 1 down to about 0.7 across the two onsets
    on = AK.modular_onsets()
    assert AK.modular_solve(sigma2=1.02 * on["sigma2_I"]).a == 1.0
    assert AK.modular_solve(sigma2=on["sigma2_II"]).a == pytest.approx(0.7, rel=0.1)


def test_models_listed_with_params():
    m = pk.get_model("ak.cubic")
    assert set(m.control_names) == {"sigma2", "n", "d", "N", "sigma_a2", "sigma_w2", "eps"}
    assert {t.name for t in m.transitions} == {"gmfl1_onset", "gmfl2_onset"}
    mm = pk.get_model("ak.modular")
    assert {"sigma2", "N", "P", "sigma_a2", "gamma"} == set(mm.control_names)
    assert {t.name for t in mm.transitions} == {"gmfl1_onset", "gmfl2_onset"}
