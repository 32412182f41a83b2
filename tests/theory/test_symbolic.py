"""The symbolic layer: special functions, Gaussian expectations, integration by parts, compilation."""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from phasekit.theory import E, G, GaussE, H, compile_expr, evaluate_mpmath, gaussian_ibp, log2cosh, logH, mills
from phasekit.theory._symbolic import expand_expectations

u, z, z2, a, s = sp.symbols("u z z2 a s", real=True)


@pytest.mark.parametrize("f", [H, logH, mills])
def test_derivatives_match_erfc_forms(f):
    # fdiff of each special function against the derivative of its erfc closed form
    lhs = sp.diff(f(u), u).rewrite(sp.erfc)
    rhs = sp.diff(f(u).rewrite(sp.erfc), u)
    for x in (-3, sp.Rational(-7, 10), 0, sp.Rational(13, 10), 4):
        assert float(sp.N((lhs - rhs).subs(u, x), 40)) == pytest.approx(0, abs=1e-30)


def test_second_derivative_of_logH_is_at_kernel():
    # spec check 5: d^2/du^2 ln H = r(u) (u - r(u)), exactly in sympy
    assert sp.simplify(sp.diff(logH(u), u, 2) - mills(u) * (u - mills(u))) == 0
    closed = sp.diff(sp.log(sp.erfc(u / sp.sqrt(2)) / 2), u, 2)
    kernel = (mills(u) * (u - mills(u))).rewrite(sp.erfc)
    for x in (-2, sp.Rational(1, 2), 3):
        assert float(sp.N((closed - kernel).subs(u, x), 40)) == pytest.approx(0, abs=1e-30)


def test_log2cosh_derivative():
    assert sp.diff(log2cosh(u), u) == sp.tanh(u)


def test_expectation_binds_its_variable_and_differentiates_under_the_integral():
    ex = E(sp.exp(a * z), z)
    assert ex.free_symbols == {a}
    assert isinstance(sp.diff(ex, a), GaussE)
    assert sp.diff(ex, a).integrand == z * sp.exp(a * z)
    assert ex.subs(z, 5) == ex
    assert E(a + 1, z) == a + 1  # a constant is its own expectation
    # closed forms: E[z^2] = 1, E[exp(a z)] = exp(a^2/2)
    assert E(z**2, z).integrate() == 1
    assert sp.simplify(ex.integrate() - sp.exp(a**2 / 2)) == 0


def test_integration_by_parts_is_exact():
    # E[z f(z)] = E[f'(z)]; E[z^2 f] = E[f] + E[z f'] = E[f] + E[f'']
    f = sp.tanh(a * z + 1)
    ibp = gaussian_ibp(E(z**2 * f, z))
    assert not any(isinstance(t, sp.Pow) and t.base == z for t in sp.preorder_traversal(ibp))
    fun = compile_expr(ibp - E(z**2 * f, z), (a,))
    np.testing.assert_allclose(fun(np.array([0.3, 1.0, 2.5])), 0, atol=1e-12)


def test_ibp_terminates_on_gaussian_factors():
    # d/dz exp(-a z^2) re-creates z: the rewrite must stop and remain an identity
    ex = E(z * sp.exp(-a * z**2) * sp.tanh(z), z)
    out = gaussian_ibp(ex)
    fun = compile_expr(out - ex, (a,))
    np.testing.assert_allclose(fun(np.array([0.5, 2.0])), 0, atol=1e-12)


def test_binary_entropic_stationarity_gives_tanh_squared():
    # d/dqhat [-qhat(1-q)/2 + E ln 2cosh(sqrt(qhat) z)] = 0  =>  q = E tanh^2 (after IBP)
    q, qh = sp.symbols("q qhat", positive=True)
    phi = -qh * (1 - q) / 2 + E(log2cosh(sp.sqrt(qh) * z), z)
    sol = sp.solve(gaussian_ibp(sp.diff(phi, qh)), q)[0]
    target = E(sp.tanh(sp.sqrt(qh) * z) ** 2, z)
    np.testing.assert_allclose(compile_expr(sol - target, (qh,))(np.array([0.1, 1.0, 7.0])), 0, atol=1e-13)


def test_dq_identity_matches_finite_differences():
    # spec §1 / check 6: d/dq E ln H(u) = -(1/(2(1-q))) E r(u)^2, u = (k - sqrt(q) z)/sqrt(1-q)
    q, k = sp.symbols("q kappa", real=True)
    uq = (k - sp.sqrt(q) * z) / sp.sqrt(1 - q)
    lhs = expand_expectations(gaussian_ibp(sp.diff(E(logH(uq), z), q)))
    assert sp.simplify(lhs + E(mills(uq) ** 2, z) / (2 * (1 - q))) == 0
    f = compile_expr(E(logH(uq), z), (q, k))
    d = compile_expr(-E(mills(uq) ** 2, z) / (2 * (1 - q)), (q, k))
    for qq, kk in [(0.3, 0.0), (0.6, 0.5), (0.8, 1.0)]:
        h = 1e-4  # fourth-order central difference: truncation ~ h^4 f^(5) ~ 1e-11, roundoff ~ 1e-11
        fd = (-f(qq + 2 * h, kk) + 8 * f(qq + h, kk) - 8 * f(qq - h, kk) + f(qq - 2 * h, kk)) / (12 * h)
        assert fd == pytest.approx(float(d(qq, kk)), abs=1e-8)


def test_change_of_variables_matches_quad_for_sharp_integrand():
    # spec check 17: int Dxi H(-s xi) ln H(-s xi) at s = 30, GH with t = s z vs high-precision quad
    ex = E(H(-s * z) * logH(-s * z), z, scale=s)
    val = float(compile_expr(ex, (s,))(30.0))
    with mpmath.workdps(30):
        ref = mpmath.quad(lambda x: mpmath.npdf(x) * mpmath.erfc(-30 * x / mpmath.sqrt(2)) / 2
                          * mpmath.log(mpmath.erfc(-30 * x / mpmath.sqrt(2)) / 2), [-mpmath.inf, -0.1, 0, 0.1, mpmath.inf])
    assert val == pytest.approx(float(ref), abs=1e-10)
    # without the change of variables, Gauss-Hermite with 201 nodes is badly wrong (the reason it exists)
    plain = float(compile_expr(E(H(-s * z) * logH(-s * z), z), (s,), nodes=201)(30.0))
    assert abs(plain - float(ref)) > 1e-3


def test_compile_vectorises_and_mpmath_agrees():
    ex = sp.log(1 + a**2) + E(logH(a + z) * sp.tanh(a * z), z) + E(sp.cos(a * z) ** 2, z)
    f = compile_expr(ex, (a,))
    grid = np.linspace(-1, 1.5, 7)
    out = f(grid)
    assert out.shape == grid.shape
    for x, v in zip(grid[[0, 3, 6]], out[[0, 3, 6]]):
        ref = float(evaluate_mpmath(ex, {a: x}, dps=20))
        assert v == pytest.approx(ref, abs=1e-11)


def test_two_dimensional_expectation_factorises():
    # E_{z,z2}[logH(a+z) cos(z2)^2] = E_z logH(a+z) * (1 + e^-2)/2 (closed form of E cos^2)
    f2 = compile_expr(E(logH(a + z) * sp.cos(z2) ** 2, z, z2), (a,))
    f1 = compile_expr(E(logH(a + z), z), (a,))
    x = np.array([-0.5, 0.7])
    np.testing.assert_allclose(f2(x), f1(x) * (1 + np.exp(-2)) / 2, rtol=1e-10)


def test_nested_expectations():
    # E_z0[ E_z1[(z0 + z1)^2] ] = 2
    z0, z1 = sp.symbols("z0 z1", real=True)
    ex = E(a * E((z0 + z1) ** 2, z1), z0)
    np.testing.assert_allclose(compile_expr(ex, (a,))(np.array([1.0, 3.0])), [2.0, 6.0], rtol=1e-12)


def test_gaussian_density_helper():
    assert sp.simplify(G(u) - sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi)) == 0
    assert float(H(sp.Integer(0))) == 0.5 and math.isclose(float(sp.N(H(1.0).rewrite(sp.erfc))), 0.15865525393145707)
