"""Perceptron replica models against literature values and independent quad/mpmath computations.

Every expected number comes from the replica spec's literature/verified table or from the
independent implementations in tests/_problems.py (scipy quad / mpmath, no phasekit code).
"""
import math

import numpy as np
import pytest
import sympy as sp

import phasekit as pk
from phasekit.theory import E, compile_expr, expand_expectations, gaussian_ibp
from phasekit.theory.replica import perceptron as P
from phasekit.theory.replica.perceptron import alpha, kappa, q, qhat, z

from ..._problems import (Dz, binary_rs_quad, gardner_capacity_mpmath, gibbs_R_glm, gibbs_R_quad, glm_qhat_quad,
                          ising_entropy_quad, ising_F, ising_spinodal_quad, mills)


# ---------------------------------------------------------------- spherical storage
def test_capacity_closed_form_is_two_at_zero_margin_in_sympy():
    assert sp.simplify(P.spherical_capacity_expr().subs(kappa, 0)) == 2


@pytest.mark.parametrize("k,target", [(0.0, 2.0), (0.5, 0.9612050528), (1.0, 0.5195722296)])
def test_gardner_capacity_literature(k, target):
    assert float(P.spherical_capacity(k)) == pytest.approx(target, abs=1e-8)
    tr = pk.find_transition("perceptron.spherical_storage", "capacity", {"kappa": k})
    assert tr.converged and tr.value == pytest.approx(target, abs=1e-8)


@pytest.mark.parametrize("k", [0.25, 1.5, 2.0])
def test_gardner_capacity_against_mpmath(k):
    assert float(P.spherical_capacity(k)) == pytest.approx(float(gardner_capacity_mpmath(k)), rel=1e-12)


def test_capacity_numerically_from_q_to_one():
    # The RS saddle point itself: q -> 1 as alpha -> alpha_c(kappa); from the saddle equation
    # alpha(q) = q / ((1-q) E r(u)^2) at q = 1 - eps (quad), extrapolated in eps.
    for k in (0.0, 0.5):
        def alpha_of(eps):
            qq = 1 - eps
            u = lambda t: (k - math.sqrt(qq) * t) / math.sqrt(eps)  # noqa: E731
            return qq / (eps * Dz(lambda t: mills(u(t)) ** 2, points=(k / math.sqrt(qq),)))
        # alpha(eps) = alpha_c + c1 eps + c2 eps^1.5 + ... (boundary layer of width sqrt(eps)):
        # Richardson on three points
        e = np.array([1e-3, 1e-4, 1e-5])
        A = np.stack([np.ones(3), e, e**1.5], axis=1)
        extrap = np.linalg.solve(A, [alpha_of(x) for x in e])[0]
        assert extrap == pytest.approx(float(P.spherical_capacity(k)), abs=1e-6)
        # and the package's solver follows q -> 1 there
        res = pk.solve("perceptron.spherical_storage", {"alpha": 0.98 * float(P.spherical_capacity(k)), "kappa": k})
        assert res.converged and res.order_parameters["q"] > 0.9


def test_spherical_fixed_point_is_stationarity():
    m = pk.get_model("perceptron.spherical_storage")
    g = m.gradient_numeric
    for a_, k_ in [(0.5, 0.0), (1.5, 0.0), (0.4, 0.7)]:
        r = pk.solve(m, {"alpha": a_, "kappa": k_})
        assert r.converged
        assert abs(float(g(a_, k_, r.order_parameters["q"])[0])) < 1e-9


def test_kappa_max_inverts_capacity():
    np.testing.assert_allclose(P.spherical_capacity(P.spherical_kappa_max(np.array([0.5, 1.0, 1.9]))),
                               [0.5, 1.0, 1.9], rtol=1e-10)
    assert P.spherical_kappa_max(2.0) == pytest.approx(0.0, abs=1e-10)


# ---------------------------------------------------------------- binary storage
def test_binary_rs_point_literature_and_quad():
    r = pk.solve("perceptron.binary_storage", {"alpha": 0.5})
    assert r.converged and r.residual < 1e-10
    assert r.order_parameters["q"] == pytest.approx(0.322385, abs=1e-6)
    assert r.order_parameters["qhat"] == pytest.approx(0.668035, abs=1e-6)
    assert r.free_entropy == pytest.approx(0.314390, abs=1e-6)
    assert r.observables["entropy"] == r.free_entropy
    q_ref, qh_ref, s_ref = binary_rs_quad(0.5)
    assert r.order_parameters["q"] == pytest.approx(q_ref, abs=1e-9)
    assert r.free_entropy == pytest.approx(s_ref, abs=1e-9)


def test_binary_rs_other_margin_against_quad():
    r = pk.solve("perceptron.binary_storage", {"alpha": 0.3, "kappa": 0.6})
    q_ref, qh_ref, s_ref = binary_rs_quad(0.3, 0.6)
    assert r.order_parameters["q"] == pytest.approx(q_ref, abs=1e-9)
    assert r.order_parameters["qhat"] == pytest.approx(qh_ref, abs=1e-8)
    assert r.free_entropy == pytest.approx(s_ref, abs=1e-9)


def test_binary_fixed_point_form_matches_spec_equations():
    # derived: q = 1 - E sech^2 (IBP of d/dqhat) and qhat = alpha E r^2/(1-q)  vs spec: q = E tanh^2
    m = pk.get_model("perceptron.binary_storage")
    F = m.fixed_point_numeric
    for a_, k_, qq, qh in [(0.5, 0.0, 0.3, 0.7), (0.8, 0.4, 0.6, 2.0)]:
        fq, fqh = F(a_, k_, qq, qh)
        assert fq == pytest.approx(Dz(lambda t: math.tanh(math.sqrt(qh) * t) ** 2), abs=1e-10)  # GH-201 accuracy
        u = lambda t: (k_ - math.sqrt(qq) * t) / math.sqrt(1 - qq)  # noqa: E731
        assert fqh == pytest.approx(a_ / (1 - qq) * Dz(lambda t: mills(u(t)) ** 2), rel=1e-11)


def test_krauth_mezard_capacity():
    tr = pk.find_transition("perceptron.binary_storage", "capacity")
    assert tr.converged and tr.value == pytest.approx(0.833079, abs=1e-5)


def test_binary_capacity_at_positive_margin_against_quad():
    tr = pk.find_transition("perceptron.binary_storage", "capacity", {"kappa": 0.5})
    assert tr.converged
    # the independent quad solver gives zero entropy at the located alpha, and s changes sign there
    assert binary_rs_quad(tr.value, 0.5, tol=1e-13)[2] == pytest.approx(0.0, abs=1e-9)
    assert binary_rs_quad(tr.value - 1e-4, 0.5)[2] > 0 > binary_rs_quad(tr.value + 1e-4, 0.5)[2]
    # and kappa_max at fixed alpha is the same zero-entropy line read the other way
    km = pk.find_transition("perceptron.binary_storage", "kappa_max", {"alpha": tr.value})
    assert km.value == pytest.approx(0.5, abs=1e-6)


def test_q_to_one_point_is_four_over_pi():
    assert sp.simplify(P.binary_q_to_one_expr().subs(kappa, 0) - 4 / sp.pi) == 0
    tr = pk.find_transition("perceptron.binary_storage", "q_to_one")
    assert tr.value == pytest.approx(4 / math.pi, abs=1e-12)
    # numerically: the RS equations parametrised by eps = 1-q give alpha(eps) -> 4/pi
    def alpha_of(eps):
        import scipy.optimize as so
        qq = 1 - eps
        sech2 = lambda y: 4 * math.exp(-2 * abs(y)) / (1 + math.exp(-2 * abs(y))) ** 2  # noqa: E731
        from scipy import integrate

        def e_sech2(x):  # E sech^2(sqrt(x) t) in the variable y = sqrt(x) t
            sx = math.sqrt(x)
            f = lambda y: math.exp(-y * y / (2 * x)) / math.sqrt(2 * math.pi) * sech2(y) / sx  # noqa: E731
            return sum(integrate.quad(f, lo, hi, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                       for lo, hi in ((-np.inf, -30), (-30, 0), (0, 30), (30, np.inf)))
        qh = so.brentq(lambda x: 1 - e_sech2(x) - qq, 1.0, 1e14, xtol=1e-6, rtol=1e-13)
        u = lambda t: (-math.sqrt(qq) * t) / math.sqrt(eps)  # noqa: E731
        return qh * (1 - qq) / Dz(lambda t: mills(u(t)) ** 2, points=(0.0,))
    e1, e2 = 1e-6, 5e-7
    a1, a2 = alpha_of(e1), alpha_of(e2)
    assert abs(a1 - 4 / math.pi) < 1e-2
    extrap = (math.sqrt(e1) * a2 - math.sqrt(e2) * a1) / (math.sqrt(e1) - math.sqrt(e2))
    assert extrap == pytest.approx(4 / math.pi, abs=1e-4)


def test_at_function_below_one_up_to_capacity_and_crossing_beyond():
    br = pk.continue_branch("perceptron.binary_storage", along="alpha", values=np.linspace(0.05, 0.833, 15))
    assert br.converged.all()
    assert np.all(br["at_function"] < 1)
    at = pk.find_transition("perceptron.binary_storage", "at_instability")
    assert at.converged and 0.833079 < at.value < 4 / math.pi
    # independent AT value at the located point: alpha (1-q)^-2 E[(r(u)(u-r(u)))^2] E sech^4 = 1
    qq, qh = at.order_parameters["q"], at.order_parameters["qhat"]
    u = lambda t: -math.sqrt(qq) * t / math.sqrt(1 - qq)  # noqa: E731
    sech2 = lambda y: 4 * math.exp(-2 * abs(y)) / (1 + math.exp(-2 * abs(y))) ** 2  # noqa: E731
    lhs = (at.value / (1 - qq) ** 2 * Dz(lambda t: (mills(u(t)) * (u(t) - mills(u(t)))) ** 2)
           * Dz(lambda t: sech2(math.sqrt(qh) * t) ** 2))
    assert lhs == pytest.approx(1.0, abs=1e-8)


# ---------------------------------------------------------------- spherical teacher
@pytest.mark.parametrize("a_,R,eg,eb", [(0.5, 0.280326, 0.409558, 0.322395), (1.0, 0.486264, 0.338359, 0.254373),
                                         (2.0, 0.728298, 0.240312, 0.174534)])
def test_gibbs_and_bayes_learning_curve(a_, R, eg, eb):
    r = pk.solve("perceptron.spherical_teacher", {"alpha": a_})
    assert r.converged
    assert r.order_parameters["q"] == pytest.approx(R, abs=1e-6)
    assert r.observables["eps_gibbs"] == pytest.approx(eg, abs=1e-6)
    assert r.observables["eps_bayes"] == pytest.approx(eb, abs=1e-6)
    assert r.order_parameters["q"] == pytest.approx(gibbs_R_quad(a_), abs=1e-9)


def test_glm_form_gives_same_R():
    for a_ in (0.5, 1.0, 3.0):
        r = pk.solve("perceptron.spherical_teacher", {"alpha": a_})
        assert r.order_parameters["q"] == pytest.approx(gibbs_R_glm(a_), abs=1e-8)


def test_large_alpha_asymptotes():
    r = pk.solve("perceptron.spherical_teacher", {"alpha": 1000.0})
    assert r.converged
    assert 1000 * r.observables["eps_gibbs"] == pytest.approx(0.62466, abs=1e-4)
    assert 1000 * r.observables["eps_bayes"] == pytest.approx(0.44170, abs=1e-4)


# ---------------------------------------------------------------- Ising teacher-student
def test_ising_teacher_point():
    r = pk.solve("perceptron.ising_teacher", {"alpha": 0.5}, branch="poor")
    assert r.converged
    qq, qh = r.order_parameters["q"], r.order_parameters["qhat"]
    assert qq == pytest.approx(0.293089, abs=1e-5)
    assert r.free_entropy == pytest.approx(0.372133, abs=1e-5)
    assert r.observables["bits"] == pytest.approx(0.536874, abs=1e-5)
    assert r.observables["eps_gibbs"] == pytest.approx(0.405317, abs=1e-5)
    assert qh == pytest.approx(0.393670, abs=1e-5)
    assert r.free_entropy == pytest.approx(ising_entropy_quad(qq, qh, 0.5), abs=1e-10)


def test_nishimori_identity_on_the_solution():
    # spec check 10: E tanh(sqrt(r) z + r) = E tanh^2(sqrt(r) z + r) at the saddle point
    for a_ in (0.5, 1.2):
        r = pk.solve("perceptron.ising_teacher", {"alpha": a_}, branch="poor")
        qh = r.order_parameters["qhat"]
        t1 = Dz(lambda t: math.tanh(math.sqrt(qh) * t + qh))
        t2 = Dz(lambda t: math.tanh(math.sqrt(qh) * t + qh) ** 2)
        assert t1 == pytest.approx(t2, abs=1e-10)
        assert r.order_parameters["q"] == pytest.approx(t1, abs=1e-10)


def test_perfect_branch_has_zero_entropy():
    r = pk.solve("perceptron.ising_teacher", {"alpha": 2.0}, branch="perfect")
    assert r.free_entropy == 0.0 and r.order_parameters["q"] == 1.0 and r.observables["eps_gibbs"] == 0.0
    # the free entropy itself tends to 0 (f = -ln 2) along q = E tanh(sqrt(r) z + r), r -> oo
    m = pk.get_model("perceptron.ising_teacher")
    vals = []
    for r in (10.0, 20.0, 40.0):
        qq = Dz(lambda t: math.tanh(math.sqrt(r) * t + r))
        v = float(m.phi_numeric(2.0, qq, r))
        assert v == pytest.approx(ising_entropy_quad(qq, r, 2.0), abs=1e-9)  # sharp channel: scale hint
        vals.append(abs(v))
    # phi ~ -c sqrt(1-q) -> 0 (1-q = 4e-10 at r = 40)
    assert vals[0] > vals[1] > vals[2] and vals[2] < 1e-4


def test_first_order_transition():
    tr = pk.find_transition("perceptron.ising_teacher", "first_order")
    assert tr.converged and tr.value == pytest.approx(1.24468, abs=1e-4)
    qq, qh = tr.order_parameters["q"], tr.order_parameters["qhat"]
    assert ising_entropy_quad(qq, qh, tr.value) == pytest.approx(0.0, abs=1e-9)


def test_spinodal_against_independent_criterion():
    tr = pk.find_transition("perceptron.ising_teacher", "spinodal")
    assert tr.converged
    assert tr.value == pytest.approx(ising_spinodal_quad(), abs=1e-6)
    assert tr.value > 1.24468 and tr.value < 1.6


def test_unstable_branch_merges_with_the_poor_one_at_the_spinodal():
    # three RS branches for alpha_1st < alpha < alpha_sp: poor (stable), unstable, perfect (q = 1)
    a_sp = ising_spinodal_quad()
    gaps = []
    for a_ in (1.0, 1.3, a_sp - 3e-3):
        poor = pk.solve("perceptron.ising_teacher", {"alpha": a_}, branch="poor")
        uns = pk.solve("perceptron.ising_teacher", {"alpha": a_}, branch="unstable")
        assert poor.converged and uns.converged and uns.method == "newton"
        qp, qu = poor.order_parameters["q"], uns.order_parameters["q"]
        assert qp < qu < 1
        # both are fixed points of the spec's composed map q -> F(q) (independent quad)
        assert ising_F(qu, a_)[0] == pytest.approx(qu, abs=1e-9)
        assert uns.free_entropy < poor.free_entropy
        gaps.append(qu - qp)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.05 and gaps[0] > 0.3


def test_annealed_transition():
    assert P.ising_annealed_transition() == pytest.approx(1.448, abs=1e-3)
    assert P.annealed_ising_teacher(1.0, 3.0) == pytest.approx(0.0, abs=1e-15)


def test_closed_form_channel_conjugate_is_the_derivative():
    # the fast closed form qhat(q) used in the fixed-point form equals 2 alpha dPsi_out/dq from sympy
    derived = expand_expectations(gaussian_ibp(2 * alpha * sp.diff(P.teacher_channel(), q)))
    f = compile_expr(derived - P.teacher_channel_conjugate(), (alpha, q))
    qs = np.array([0.05, 0.3, 0.6, 0.9, 0.99])
    np.testing.assert_allclose(f(1.3, qs), 0, atol=1e-10)
    # and the spec's GLM form (2 alpha/(1-q)) int G(theta xi)^2/H(-theta xi), by quad
    for qq in (0.3, 0.9):
        assert float(compile_expr(P.teacher_channel_conjugate(), (alpha, q))(1.3, qq)) == pytest.approx(
            glm_qhat_quad(qq, 1.3), rel=1e-10)


def test_nishimori_reduction_symbolic():
    # On the Nishimori line d phi/d qhat = 0 reduces to q = E tanh (using E tanh = E tanh^2):
    m = pk.get_model("perceptron.ising_teacher")
    fq = m.fixed_point[q]
    s_ = sp.sqrt(qhat) * z + qhat
    reduced = fq.subs({sp.tanh(s_) ** 2: sp.tanh(s_)})
    assert sp.simplify(expand_expectations(reduced) - E(sp.tanh(s_), z)) == 0
    f = compile_expr(fq - (2 * E(sp.tanh(s_), z) - E(sp.tanh(s_) ** 2, z)), (qhat,))
    np.testing.assert_allclose(f(np.array([0.2, 1.0, 3.0])), 0, atol=1e-12)
