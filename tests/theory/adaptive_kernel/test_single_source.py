"""The cubic adaptive-kernel numerics are compiled from the one sympy derivation
(:func:`order_parameter_action`, :func:`projected_kernel`): tie every compiled function to its
symbolic form at random points (seed from env PHASEKIT_TEST_SEED, default 0), and the symbolic
forms to the printed formulas of the module docstring (written out here, independently)."""
import math
import os

import numpy as np
import pytest
import sympy as sp

from phasekit.theory.adaptive_kernel import adaptive_kernel as AK

SEED = int(os.environ.get("PHASEKIT_TEST_SEED", "0"))


def _points(n=25):
    rng = np.random.default_rng(SEED)
    return [dict(y=rng.uniform(0, 8), b=rng.uniform(-1, 1.5), c=rng.uniform(-1, 1), u=rng.uniform(0.05, 5),
                 sw=rng.uniform(0.05, 2), swp=rng.uniform(0.05, 2)) for _ in range(n)]


def _ev(expr, pt):
    sub = {AK.y_s: pt["y"], AK.q_s: math.sqrt(pt["y"]), AK.b_s: pt["b"], AK.c_s: pt["c"], AK.u_s: pt["u"],
           AK.sigma_w2: pt["sw"], AK.wperp2_s: pt["swp"]}
    return float(sp.N(expr.subs(sub), 30))


def test_symbolic_forms_follow_from_the_derived_action():
    e = AK.cubic_sym()
    S = AK._order_parameter_action_perp()
    q, y = AK.q_s, AK.y_s
    assert sp.simplify(e["s"] - S / AK.d_s) == 0
    assert sp.simplify(e["h"].subs(y, q ** 2) - S / (AK.d_s * q ** 2)) == 0
    assert sp.simplify(e["dh"] - sp.diff(e["h"], y)) == 0
    assert sp.simplify(e["curv"] - 2 * AK.sigma_w2 * e["h"].subs({y: 0, AK.wperp2_s: AK.sigma_w2})) == 0
    assert sp.simplify(e["curv"] - (1 - e["U"] * AK.b_s ** 2)) == 0
    # printed forms (module docstring), typed here as the oracle
    sw, u, b, c = AK.sigma_w2, AK.u_s, AK.b_s, AK.c_s
    D = 1 + 2 * (AK.wperp2_s + y)
    assert sp.simplify(e["h"] - (1 / (2 * sw) - 2 * u / sp.pi * (b - 2 * c * y / D) ** 2 / D)) == 0
    assert sp.simplify(e["M11"] - 4 * y / (sp.pi * D)) == 0
    assert sp.simplify(e["M13"] + 8 * y ** 2 / (sp.sqrt(6) * sp.pi * D ** 2)) == 0
    assert sp.simplify(e["M33"] - 8 * y ** 3 / (3 * sp.pi * D ** 3)) == 0
    assert sp.simplify(e["U"] - 4 * u * sw / (sp.pi * (1 + 2 * sw))) == 0
    assert sp.simplify(e["m11_slope"] - 4 / (sp.pi * (1 + 2 * sw))) == 0


def test_compiled_numerics_match_symbolic_at_random_points():
    e = AK.cubic_sym()
    num = AK._cubic_num()
    for pt in _points():
        y, b, c, u, sw, swp = (pt[k] for k in ("y", "b", "c", "u", "sw", "swp"))
        q = math.sqrt(y)
        assert num["s"](q, b, c, u, sw, swp) == pytest.approx(_ev(e["s"], pt), rel=1e-12, abs=1e-13)
        assert num["h"](y, b, c, u, sw, swp) == pytest.approx(_ev(e["h"], pt), rel=1e-12, abs=1e-13)
        assert num["dh"](y, b, c, u, sw, swp) == pytest.approx(_ev(e["dh"], pt), rel=1e-12, abs=1e-13)
        assert num["curv"](b, u, sw) == pytest.approx(_ev(e["curv"], pt), rel=1e-12, abs=1e-13)
        assert num["U"](u, sw) == pytest.approx(_ev(e["U"], pt), rel=1e-12)
        assert num["m11_slope"](sw) == pytest.approx(_ev(e["m11_slope"], pt), rel=1e-12)
        for k, v in zip(("M11", "M13", "M33"), num["M"](y, swp)):
            assert v == pytest.approx(_ev(e[k], pt), rel=1e-12, abs=1e-15)
        # the hand kernel _h (kept for speed) is the symbolic h, also at |w_perp|^2 != sigma_w^2
        assert AK._h(y, b, c, u, sw, swp) == pytest.approx(_ev(e["h"], pt), rel=1e-12, abs=1e-13)
        assert AK._h(np.array([y]), b, c, u, sw, swp)[0] == pytest.approx(_ev(e["h"], pt), rel=1e-12, abs=1e-13)
        # the module's private entry points are these functions at |w_perp|^2 = sigma_w^2
        pt0 = dict(pt, swp=sw)
        assert AK._h(y, b, c, u, sw) == pytest.approx(_ev(e["h"], pt0), rel=1e-12, abs=1e-13)
        assert num["dh0"](y, b, c, u, sw) == pytest.approx(_ev(e["dh"], pt0), rel=1e-12, abs=1e-13)
        assert AK._dh(y, b, c, u, sw) == pytest.approx(_ev(e["dh"], pt0), rel=1e-12, abs=1e-13)
        assert AK._curv(b, u, sw) == pytest.approx(_ev(e["curv"], pt0), rel=1e-12, abs=1e-13)


def test_compiled_numerics_vectorise():
    num = AK._cubic_num()
    y = np.linspace(0, 10, 7)
    h = num["h"](y, 0.3, -0.2, 1.1, 0.5, 0.5)
    assert h.shape == y.shape
    np.testing.assert_allclose(h, [num["h"](float(v), 0.3, -0.2, 1.1, 0.5, 0.5) for v in y], rtol=1e-15)
    M = num["M"](y, 0.5)
    assert all(np.shape(m) == y.shape for m in M)


def test_cubic_action_and_q_density_use_the_derived_action():
    rng = np.random.default_rng(SEED + 1)
    p = AK.cubic_params(0.125, sigma2=0.12)
    u = p["n"] ** 2 * p["sigma_a2"] / (p["sigma2"] ** 2 * p["d"] * p["N"])
    S = AK._order_parameter_action_perp()
    swp = p["sigma_w2"] * (p["d"] - 1) / p["d"]
    for _ in range(3):
        b, c = rng.uniform(-0.5, 1.0), rng.uniform(-0.5, 0.5)
        sub = {AK.b_s: b, AK.c_s: c, AK.u_s: u, AK.sigma_w2: p["sigma_w2"]}
        # finite-d density with |w_perp|^2 = sigma_w^2 (d - 1)/d inside D
        f = sp.lambdify([AK.q_s], S.subs({**sub, AK.d_s: p["d"], AK.wperp2_s: swp}), "numpy")
        q, neg_log_p, w = AK.cubic_q_density(p, b, c)
        ref = f(q)
        np.testing.assert_allclose(neg_log_p, ref - ref.min(), atol=1e-9 * max(1.0, np.abs(ref).max()))
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        # S(q)/d at |w_perp|^2 = sigma_w^2, high precision
        qs = rng.uniform(-3, 3, 5)
        Sd = S.subs({**sub, AK.d_s: 1, AK.wperp2_s: p["sigma_w2"]})
        np.testing.assert_allclose(AK.cubic_action(qs, b, c, dict(p)),
                                   [float(sp.N(Sd.subs(AK.q_s, v), 30)) for v in qs], rtol=1e-12, atol=1e-13)


def test_stein_projections_match_symbolic_at_random_points():
    st = AK.stein_integrals()
    D = sp.Symbol("D", positive=True)
    rng = np.random.default_rng(SEED + 2)
    q = rng.uniform(-3, 3, 20)
    Dv = 1 + 2 * (q ** 2 + rng.uniform(0, 3, 20))
    e1, e3 = AK.stein_projections(q, Dv)
    for k in range(q.size):
        sub = {AK.q_s: q[k], D: Dv[k]}
        assert e1[k] == pytest.approx(float(sp.N(st["I0"].subs(sub), 30)), rel=1e-13)
        assert e3[k] == pytest.approx(float(sp.N(st["E_H3"].subs(sub), 30)), rel=1e-13)


def test_self_consistency_residual_is_the_derived_equation():
    # the zero of the compiled residuals is self_consistency()'s (kappa <M> + I)^{-1} [1, sqrt6 eps]
    r1, r2 = AK.cubic_sym()["sc_residual"]
    sc = AK.self_consistency()
    m11, m13, m33 = sp.symbols("m11 m13 m33", real=True)
    b_k, c_k = sc["kappa_form"]
    A = {AK.A11_s: AK.kappa_s * m11, AK.A13_s: AK.kappa_s * m13, AK.A33_s: AK.kappa_s * m33}
    sol = {AK.b_s: b_k, AK.c_s: c_k}
    assert sp.simplify(r1.subs(A).subs(sol)) == 0
    assert sp.simplify(r2.subs(A).subs(sol)) == 0
    f = AK._cubic_num()["sc"]
    rng = np.random.default_rng(SEED + 3)
    for _ in range(10):
        v = rng.uniform(-1, 1, 6)
        sub = dict(zip((AK.b_s, AK.c_s, AK.eps_s, AK.A11_s, AK.A13_s, AK.A33_s), v))
        got = f(*v)
        assert got[0] == pytest.approx(float(r1.subs(sub)), rel=1e-13, abs=1e-14)
        assert got[1] == pytest.approx(float(r2.subs(sub)), rel=1e-13, abs=1e-14)
