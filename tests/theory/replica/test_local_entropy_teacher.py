"""Franz–Parisi local entropy of the Ising teacher–student perceptron.

Expected numbers: the reference state of ``perceptron.ising_teacher_margin`` (spec §5 values at
κ̃ = 0), the storage kernel of ``perceptron.local_entropy`` (a different code path), the binary
entropy at α = 0, and the independent Gauss–Legendre references of ``tests/_problems_tsfp.py``.
"""
import math
import time

import numpy as np
import pytest
import sympy as sp

import phasekit as pk
from phasekit.theory import compile_expr
from phasekit.theory.replica import local_entropy as le
from phasekit.theory.replica import local_entropy_teacher as lt

from ..._problems_tsfp import binary_entropy, tsfp_energetic_gl, tsfp_total_gl

S_BAYES_05 = 0.372133        # spec §5 [V]: alpha = 0.5 Bayes (kappa = 0) entropy, q = R = 0.293089
R_BAYES_05 = 0.293089


def _feasible_point(ref, d, dt=0.03, dR=0.04, extra=0.08, qhat=(0.5, 0.4, 0.9, 0.35)):
    qt, qth, Rt, _ = ref
    p = 1 - 2 * d
    t, R = qt + dt, Rt + dR
    need = R**2 + (t - R * Rt)**2 / (qt - Rt**2) + (p - t)**2 / (1 - qt)
    return np.array([need + extra, t, R, need * 1.3 + qhat[0], qhat[1], qhat[2], qhat[3]])


# ---------------------------------------------------------------- exact point p = q~
@pytest.mark.parametrize("a,kt", [(0.5, 0.0), (0.5, 0.3), (1.0, 0.0), (1.0, 0.1), (1.0, 0.3)])
def test_exact_point_is_the_reference_state(a, kt):
    # kappa_tilde = 0.3 lies above kappa_max(1.0) = 0.1174 (negative reference entropy): the identity
    # still holds formally; q~ = 0.868 there makes the quadrature residual larger (measured 8e-9)
    qt, qth, Rt, Rth, s_ref = lt.teacher_reference_state(a, kt)
    c = lt.teacher_local_entropy_curve(a, [(1 - qt) / 2], kappa=kt, kappa_tilde=kt)
    assert c.converged[0] and c.residual[0] < 5e-8
    assert c.entropy[0] == pytest.approx(s_ref, abs=1e-8)
    assert c.R[0] == pytest.approx(Rt, abs=1e-8)
    x = [c.order_parameters[k][0] for k in lt.ORDER_NAMES]
    np.testing.assert_allclose(x, [qt, qt, Rt, qth, qth, qth, Rth], rtol=0, atol=1e-7)


def test_exact_point_bayes_literature_values():
    c = lt.teacher_local_entropy_curve(0.5, [0.3534555])
    assert c.s_ref == pytest.approx(S_BAYES_05, abs=1e-6)
    assert c.entropy[0] == pytest.approx(S_BAYES_05, abs=1e-6)
    assert c.R[0] == pytest.approx(R_BAYES_05, abs=1e-5)


def test_exact_point_reached_from_perturbed_start():
    ref = lt.teacher_reference_state(0.5, 0.3)
    qt, qth, Rt, Rth, s = ref
    x0 = np.array([qt + 0.02, qt - 0.02, Rt + 0.02, qth * 1.1, qth * 0.9, qth * 1.05, Rth * 0.95])
    x, phi, g, dd, ok, _ = lt._newton(lt._kernel(), (0.5, 0.3, 0.3, (1 - qt) / 2), x0, ref[:4])
    assert ok and np.max(np.abs(g)) < 1e-9
    assert phi == pytest.approx(s, abs=1e-9)
    np.testing.assert_allclose(x, [qt, qt, Rt, qth, qth, qth, Rth], rtol=0, atol=1e-7)


# ---------------------------------------------------------------- the curve
@pytest.fixture(scope="module")
def bayes_curve():
    return lt.teacher_local_entropy_curve(0.5, np.linspace(0.005, 0.49, 30))


def test_curve_below_reference_entropy_with_maximum_at_typical_distance(bayes_curve):
    c = bayes_curve
    assert c.converged.all() and np.max(c.residual) < 1e-8
    assert np.max(c.entropy) <= c.s_ref + 1e-10
    i = int(np.flatnonzero(np.diff(np.sign(c.dS_dd)) != 0)[0])
    d_star = c.d[i] - c.dS_dd[i] * (c.d[i + 1] - c.d[i]) / (c.dS_dd[i + 1] - c.dS_dd[i])
    assert d_star == pytest.approx(c.d_typ, abs=2e-3)
    assert c.d_typ == pytest.approx((1 - R_BAYES_05) / 2, abs=1e-5)


def test_bayes_reference_teacher_is_another_posterior_sample(bayes_curve):
    # Nishimori: with kappa_tilde = 0 the teacher is exchangeable with the other references, t = R
    c = bayes_curve
    np.testing.assert_allclose(c.order_parameters["t"], c.R, rtol=0, atol=1e-7)
    np.testing.assert_allclose(c.order_parameters["that"], c.order_parameters["Rhat"], rtol=0, atol=1e-6)


def test_dS_dd_is_the_derivative_of_the_curve():
    c = lt.teacher_local_entropy_curve(0.5, [0.1 - 1e-4, 0.1, 0.1 + 1e-4], kappa_tilde=0.3, kappa=0.3)
    fd = (c.entropy[2] - c.entropy[0]) / 2e-4
    assert c.dS_dd[1] == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize("dv", [0.02, 0.2, 0.45])
def test_zero_load_is_binary_entropy(dv):
    c = lt.teacher_local_entropy_curve(0.0, [dv])
    assert c.converged[0]
    assert c.entropy[0] == pytest.approx(binary_entropy(dv), abs=1e-8)
    assert c.R[0] == 0.0


# ---------------------------------------------------------------- kernel vs independent references
def test_kernel_value_and_gradient_match_independent_quadrature():
    ref = lt.teacher_reference_state(0.7, 0.2)[:4]
    x = _feasible_point(ref, 0.17)
    c = (0.7, 0.1, 0.2, 0.17)
    phi, g, _, dd = lt._kernel().evaluate(c, x, ref)
    phi_r, g_r, dd_r = tsfp_total_gl(0.7, 0.1, 0.2, 0.17, x, ref)
    assert phi == pytest.approx(phi_r, rel=1e-7, abs=1e-10)
    np.testing.assert_allclose(g, g_r, rtol=1e-7, atol=1e-10)
    assert dd == pytest.approx(dd_r, rel=1e-7)
    assert lt._kernel().value(c, x, ref) == pytest.approx(phi, abs=1e-14)


def test_kernel_hessian_matches_finite_differences():
    k = lt._kernel()
    ref = lt.teacher_reference_state(0.6, 0.1)[:4]
    x = _feasible_point(ref, 0.15)
    c = (0.6, 0.0, 0.1, 0.15)
    _, g, h, _ = k.evaluate(c, x, ref)
    eps = 1e-5
    hn = np.array([(k.evaluate(c, x + eps * e, ref)[1] - k.evaluate(c, x - eps * e, ref)[1]) / (2 * eps)
                   for e in np.eye(7)])
    np.testing.assert_allclose(h, hn.T, rtol=0, atol=2e-7)
    np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-12)


def test_reduces_to_storage_without_teacher():
    # R = R~ = Rhat = Rhat~ = 0: the storage potential of perceptron.local_entropy (other code)
    qt, qth, _ = le.reference_state(0.5, 0.2)
    ref = (qt, qth, 0.0, 0.0)
    d = 0.2
    p = 1 - 2 * d
    t = qt + 0.02
    need = t**2 / qt + (p - t)**2 / (1 - qt)
    x5 = np.array([need + 0.1, t, 1.2, 0.5, 0.8])
    x7 = np.array([x5[0], x5[1], 0.0, x5[2], x5[3], x5[4], 0.0])
    c = (0.5, 0.05, 0.2, d)
    phi, g, h, dd = lt._kernel().evaluate(c, x7, ref)
    m = pk.get_model("perceptron.local_entropy")
    phi_s, g_s, h_s, dd_s = m.kernel.evaluate(c, x5, (qt, qth))
    assert phi == pytest.approx(phi_s, abs=1e-9)
    np.testing.assert_allclose(g[[0, 1, 3, 4, 5]], g_s, rtol=0, atol=1e-8)
    assert dd == pytest.approx(dd_s, abs=1e-8)
    # and the energetic value against the independent 4-D quadrature
    en = lt._kernel().energetic(0.05, ref, 0.2, d, x7)[0]
    assert en == pytest.approx(tsfp_energetic_gl(0.05, 0.2, d, x7[0], x7[1], 0.0, qt, 0.0)[0], abs=1e-9)


# ---------------------------------------------------------------- symbolic form
def test_symbolic_free_entropy_structure_and_exact_point():
    phi = lt.teacher_fp_free_entropy()
    assert set(lt.ORDER_SYMS) <= phi.free_symbols
    outer = -lt.phat * (1 - 2 * lt.d) + lt.that * lt.t - lt.qhat * (1 - lt.q) / 2 - lt.Rhat * lt.R
    sub = {lt.q: lt.qt, lt.t: lt.qt, lt.R: lt.Rt, lt.qhat: lt.qth, lt.that: lt.qth, lt.phat: lt.qth,
           lt.Rhat: lt.Rth, lt.d: (1 - lt.qt) / 2}
    assert sp.simplify(outer.subs(sub) + lt.qth * (1 - lt.qt) / 2 + lt.Rth * lt.Rt) == 0
    # at the exact point the student field A is the reference's common field: a2 = a3 = 0
    A = lt._field_A().subs(sub)
    assert sp.simplify(A - (lt.Rt * lt.v + sp.sqrt(lt.qt - lt.Rt**2) * lt.z0)) == 0
    grads = lt.teacher_fp_stationarity()
    assert len(grads) == 7 and all(g.has(lt.alpha) or g.has(lt.z) for g in grads[:3])


def test_entropic_term_matches_the_symbolic_free_entropy():
    phi = lt.teacher_fp_free_entropy()
    ent = [e for e in phi.args if e.has(lt.zt)]
    assert len(ent) == 1
    args = (lt.qth, lt.Rth, lt.qhat, lt.that, lt.phat, lt.Rhat)
    vals = (0.8, 0.5, 1.9, 0.6, 1.3, 0.3)
    f = compile_expr(ent[0], args, nodes={1: 0.05})
    g_sym = [compile_expr(sp.diff(ent[0], s), args, nodes={1: 0.05}) for s in args[2:]]
    v, g, _ = lt._kernel().entropic((0.0, vals[0], 0.0, vals[1]), np.array([0, 0, 0, *vals[2:]]))
    assert v == pytest.approx(float(f(*vals)), abs=1e-9)
    np.testing.assert_allclose(g, [float(gs(*vals)) for gs in g_sym], rtol=0, atol=1e-8)


# ---------------------------------------------------------------- physics: dense regions generalise better
@pytest.fixture(scope="module")
def typical_vs_dense():
    ds = [0.01, 0.05]
    return {a: (lt.teacher_local_entropy_curve(a, ds, kappa_tilde=0.0),
                lt.teacher_local_entropy_curve(a, ds, kappa_tilde="max")) for a in (0.5, 1.0)}


@pytest.mark.parametrize("a", [0.5, 1.0])
def test_high_margin_reference_neighbourhood_generalises_better(a, typical_vs_dense):
    typ, dense = typical_vs_dense[a]
    assert typ.converged.all() and dense.converged.all()
    assert dense.params["kappa_tilde"] == pytest.approx(lt.teacher_kappa_max(a), abs=1e-12)
    assert np.all(dense.R > typ.R + 0.02)
    assert np.all(dense.eps_gen < typ.eps_gen)
    assert np.all(dense.entropy > typ.entropy)         # the high-margin reference sits in a denser region


def test_typical_bayes_sample_is_isolated_at_alpha_one(typical_vs_dense):
    # S_FP < 0 at small d around a typical posterior sample (Huang-Kabashima picture), > 0 around
    # the max-margin reference
    typ, dense = typical_vs_dense[1.0]
    assert typ.entropy[0] < 0 < dense.entropy[0]


# ---------------------------------------------------------------- model, inputs, timing
def test_registered_model_solve_at_a_distance():
    r = pk.solve("perceptron.local_entropy_teacher", {"alpha": 0.5, "kappa_tilde": 0.3, "kappa": 0.3, "d": 0.2})
    c = lt.teacher_local_entropy_curve(0.5, [0.2], kappa=0.3, kappa_tilde=0.3)
    assert r.converged
    assert r.free_entropy == pytest.approx(c.entropy[0], abs=1e-8)
    assert r.observables["R"] == pytest.approx(c.R[0], abs=1e-8)
    assert r.observables["eps_gen"] == pytest.approx(math.acos(c.R[0]) / math.pi, abs=1e-8)


def test_invalid_parameters():
    with pytest.raises(pk.InvalidParameterError, match="'d' parameter"):
        lt.teacher_local_entropy_curve(0.5, [0.6])
    with pytest.raises(pk.InvalidParameterError, match="'alpha' parameter"):
        lt.teacher_local_entropy_curve(-0.1, [0.1])
    with pytest.raises(pk.InvalidParameterError, match="'kappa_tilde' parameter"):
        lt.teacher_local_entropy_curve(0.5, [0.1], kappa_tilde="min")
    with pytest.raises(pk.InvalidParameterError, match="'kappa' parameter"):
        lt.teacher_local_entropy_curve(0.5, [0.1], kappa=-1)


@pytest.mark.slow
def test_sixty_point_curve_timing():
    lt.teacher_local_entropy_curve(0.5, [0.3])
    t0 = time.perf_counter()
    c = lt.teacher_local_entropy_curve(0.5, np.linspace(0.005, 0.49, 60), kappa_tilde=0.3, kappa=0.3)
    el = time.perf_counter() - t0
    assert c.converged.all()
    assert el < 60          # measured ~12-15 s on a shared 2-core machine (target 10 s)
