"""The shared damped, projected Newton method (closed-form problems)."""
import numpy as np

from phasekit.solvers import damped_newton


def quartic(x):
    # phi = sum(x^4/4 - x) : stationary at x = 1 (closed form), Hessian diag(3 x^2)
    return float(np.sum(x**4 / 4 - x)), x**3 - 1, np.diag(3 * x**2), "extra"


def test_converges_to_the_closed_form_stationary_point():
    r = damped_newton(quartic, [3.0, -2.0, 0.5], tol=1e-13)
    assert r.converged and r.message == "converged"
    np.testing.assert_allclose(r.x, 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(r.value, -0.75 * 3, rtol=0, atol=1e-13)
    assert r.extra == "extra"


def test_projection_keeps_iterates_in_the_domain():
    seen = []

    def ev(x):
        seen.append(x.copy())
        return quartic(x)

    r = damped_newton(ev, [0.05], project=lambda y: np.clip(y, 0.01, 10.0), tol=1e-12)
    assert r.converged
    assert min(float(np.min(s)) for s in seen) >= 0.01


def test_singular_hessian_stops_or_uses_least_squares():
    def flat(x):  # phi = (x0 - 2)^2 / 2, no dependence on x1: singular Hessian
        return 0.5 * (x[0] - 2) ** 2, np.array([x[0] - 2, 0.0]), np.array([[1.0, 0.0], [0.0, 0.0]]), None

    r = damped_newton(flat, [0.0, 1.0])
    assert not r.converged and "singular" in r.message
    r = damped_newton(flat, [0.0, 1.0], lstsq=True)
    assert r.converged
    np.testing.assert_allclose(r.x, [2.0, 1.0], atol=1e-14)


def test_noise_floor_accepts_a_stalled_line_search():
    rng = np.random.default_rng(0)

    def noisy(x):  # gradient known only to 1e-7: no descent below that level
        return 0.0, x - 1 + 1e-7 * rng.standard_normal(x.shape), np.eye(x.size), None

    assert not damped_newton(noisy, [0.0, 0.0], tol=1e-12).converged
    r = damped_newton(noisy, [0.0, 0.0], tol=1e-12, noise_floor=1e-6)
    assert r.converged
    np.testing.assert_allclose(r.x, 1.0, atol=1e-6)
