"""GenEFT statics numbers, symbolic identities and repon predictions (spec §7, checks 1–7)."""
import numpy as np
import pytest
from scipy import stats
from scipy.integrate import solve_ivp

from phasekit import InvalidParameterError
from phasekit.theory.effective_theory import geneft as g


# ----------------------------------------------------------------------------- statics
def test_mod3_description_lengths():
    d = g.description_length("equivalence", 30, k=3)
    np.testing.assert_allclose(d.exact, 39.75, rtol=0, atol=0.01)
    np.testing.assert_allclose(d.approx, 47.55, rtol=0, atol=0.01)
    assert d.aut_order == 3628800 ** 3 * 6
    np.testing.assert_allclose(float(d.exact_expr.evalf()), d.exact, rtol=1e-14, atol=0)


@pytest.mark.parametrize("relation,kw,exact,approx", [
    ("total_order", {}, np.log2(float(np.prod(np.arange(1, 31, dtype=float)))),
     30 * np.log2(30 / np.e)),
    ("bipartite", dict(a=10), np.log2(30045015), np.log2(30045015)),
    ("bipartite", dict(a=15), np.log2(155117520 / 2), np.log2(155117520 / 2)),
    ("symmetric", {}, 465.0, 465.0),
    ("generic", {}, 900.0, 900.0),
    ("equivalence", dict(k=5), None, 30 * np.log2(5)),
])
def test_description_length_families(relation, kw, exact, approx):
    d = g.description_length(relation, 30, **kw)
    if exact is not None:
        np.testing.assert_allclose(d.exact, exact, rtol=1e-12, atol=0)
    np.testing.assert_allclose(d.approx, approx, rtol=1e-12, atol=0)


@pytest.mark.parametrize("which,alpha,p_c,f_ub", [
    ("approx", 0.9, 0.1204, (0.872, 0.951, 0.993, 0.999)),
    ("approx", 0.99, 0.2407, (0.872, 0.951, 0.993, 0.999)),
    ("exact", 0.9, 0.1004, (0.894, 0.966, 0.997, 1.000)),
    ("exact", 0.99, 0.2008, (0.894, 0.966, 0.997, 1.000)),
])
def test_statics_table(which, alpha, p_c, f_ub):
    r = g.statics("equivalence", 30, k=3, alpha=alpha, which=which)
    np.testing.assert_allclose(r.p_c, p_c, rtol=0, atol=1e-3)
    np.testing.assert_allclose(r.f_ub, f_ub, rtol=0, atol=1e-3)
    np.testing.assert_allclose(g.revealed_fraction(r.N * r.p_c, r.b), alpha, rtol=1e-12, atol=0)


def test_generic_breakdown_and_large_b():
    assert g.statics("generic", 30, which="exact").p_c > 1
    b = np.array([10.0, 100.0, 1000.0])
    exact = 1 / (-np.log1p(-1 / b))
    np.testing.assert_allclose(exact - (b - 0.5 - 1 / (12 * b)), -1 / (24 * b ** 2),
                               rtol=0.2, atol=0)


def test_prior_values():
    assert g.positive_prior("equivalence", k=3) == pytest.approx(1 / 3)
    assert g.positive_prior("bipartite") == 0.5
    assert g.positive_prior("total_order") == pytest.approx(1 / 3)


@pytest.mark.parametrize("call", [
    lambda: g.description_length("equivalence", 30, k=7),
    lambda: g.description_length("nope"),
    lambda: g.description_length("bipartite", 30, a=30),
    lambda: g.critical_fraction(1.5, 47.5, 900),
    lambda: g.critical_fraction(0.9, 0.5, 900),
    lambda: g.statics(which="both"),
    lambda: g.collision_probability(),
    lambda: g.collision_probability_matrix(1.0, 3, 2),
])
def test_invalid_parameters(call):
    with pytest.raises(InvalidParameterError, match="parameter of"):
        call()


# ----------------------------------------------------------------------------- symbolic
@pytest.mark.parametrize("check", [
    g.check_pc_log_base, g.check_pc_series, g.check_conserved_C,
    lambda: g.check_two_repon_reduction(2, 2), lambda: g.check_two_repon_reduction(3, 2),
    lambda: g.check_matrix_invariant(2, 2), lambda: g.check_matrix_invariant(3, 2),
    lambda: g.check_matrix_invariant(1, 3), lambda: g.check_closed_r_equation(3, 2),
    g.check_separatrix_asymptotes, g.check_gaussian_cone, g.check_F_reduction,
    g.check_cluster_invariant,
])
def test_symbolic_identity(check):
    res = check()
    assert res.holds, (res.name, res.residual)


def test_statics_symbolic_pc_matches_numeric():
    s = g.statics_symbolic()
    m, b, N, alpha, ps = s["symbols"]
    val = float(s["p_c"].subs({b: 47.548875021634686, N: 900, alpha: 0.9}))
    np.testing.assert_allclose(val, g.critical_fraction(0.9, 47.548875021634686, 900),
                               rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------- arctan law
def test_F11_cdf_is_arctan():
    x = np.logspace(-3, 3, 50)
    np.testing.assert_allclose(stats.f.cdf(x, 1, 1), 2 / np.pi * np.arctan(np.sqrt(x)),
                               rtol=0, atol=1e-12)
    rho = np.logspace(-2, 2, 30)
    np.testing.assert_allclose(g.collision_probability_matrix(rho, 1, 1, sigma_a=1.3, sigma_c=0.7),
                               g.collision_probability(rho=rho, sigma_a=1.3, sigma_c=0.7),
                               rtol=0, atol=1e-12)


def test_arctan_identities():
    x = np.logspace(-2, 2, 25)
    np.testing.assert_allclose(g.collision_probability(rho=x) + g.collision_probability(rho=1 / x),
                               1.0, rtol=0, atol=1e-14)
    h = 1e-7
    np.testing.assert_allclose(g.collision_probability(rho=h, sigma_a=2.0) / h, 4 / np.pi,
                               rtol=1e-6, atol=0)
    # depends on the rates only through the ratio
    np.testing.assert_allclose(g.collision_probability(eta_A=0.01, eta_x=0.05),
                               g.collision_probability(5.0), rtol=1e-14, atol=0)


def test_quoted_eq13_does_not_reduce():
    q = g.quoted_eq13_probability(1.0, 1)
    np.testing.assert_allclose(q, 2 / np.pi * np.arctan(np.sqrt(1 / 8)), rtol=1e-14, atol=0)
    assert abs(q - g.collision_probability(1.0)) > 0.1
    # derived 1-vs-N law equals Eq. 12 with sigma_c = sigma/sqrt(2) at N = 1
    np.testing.assert_allclose(g.collision_probability_cluster(3.0),
                               g.collision_probability(3.0, sigma_c=1 / np.sqrt(2)),
                               rtol=1e-14, atol=0)


# ----------------------------------------------------------------------------- dynamics
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_solution_matches_solve_ivp(seed):
    rng = np.random.default_rng(seed)
    a0, c0 = rng.standard_normal(2)
    eA, ex = rng.uniform(0.1, 2.0, 2)
    sol = solve_ivp(g.two_repon_rhs, (0, 5.0), [a0, c0], args=(eA, ex), rtol=1e-11, atol=1e-13)
    a, c = g.two_repon_solution(a0, c0, eA, ex, 5.0)
    np.testing.assert_allclose([a, c], sol.y[:, -1], rtol=1e-7, atol=1e-10)
    pred = g.two_repon_prediction(a0, c0, eA, ex)
    a_inf, c_inf = g.two_repon_solution(a0, c0, eA, ex, 1e9)
    np.testing.assert_allclose([a_inf, c_inf], [pred.a_inf, pred.c_inf], rtol=1e-6, atol=1e-8)


def test_separatrix():
    pred = g.two_repon_prediction([1.0, 1.0], [0.999, 1.001], eta_A=0.5, eta_x=1.0)
    assert g.separatrix_slope(0.5, 1.0) == 1.0
    assert pred.collides.tolist() == [True, False]


@pytest.mark.parametrize("seed", range(5))
def test_matrix_criterion_equivalence(seed):
    rng = np.random.default_rng(seed)
    A0, r0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    for eta_x in (0.1, 1.0, 10.0):
        p = g.matrix_repon_prediction(A0, r0, 1.0, eta_x)
        assert p.collides == (p.criterion < eta_x / 2)
        if not p.collides:
            assert np.sum(p.eigenvalues < 0) == 1


def test_matrix_flow_conserves_Q():
    rng = np.random.default_rng(3)
    A0, r0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    y0 = np.concatenate([A0.ravel(), r0])
    sol = solve_ivp(g.matrix_repon_rhs, (0, 20), y0, args=(3, 2, 0.7, 1.3), rtol=1e-11,
                    atol=1e-13)
    AT, rT = sol.y[:6, -1].reshape(3, 2), sol.y[6:, -1]
    Q0 = g.matrix_repon_prediction(A0, r0, 0.7, 1.3).Q
    QT = g.matrix_repon_prediction(AT, rT, 0.7, 1.3).Q
    np.testing.assert_allclose(QT, Q0, rtol=0, atol=1e-8)
