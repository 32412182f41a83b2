"""Spherical perceptron: Cover's exact formula, LP feasibility, exact and AdaTron maximal margins."""
import math
from fractions import Fraction

import numpy as np
import pytest

from phasekit import InvalidParameterError
from phasekit.validation.replica.spherical import (cover_count, cover_probability, lp_separable, max_margin,
                                                   simulate_cover, simulate_max_margin)

SEEDS = [0, 1, 2, 17, 99]


# ----------------------------------------------------------------------------- Cover, exact
@pytest.mark.parametrize("n", range(1, 80))
def test_cover_half_at_2n_exactly(n):
    assert cover_probability(n, 2 * n) == Fraction(1, 2)


def test_cover_closed_forms():
    for n in range(1, 15):
        assert cover_probability(n, 0) == 1
        for p in range(1, n + 1):
            assert cover_probability(n, p) == 1              # P <= N: every dichotomy
        assert cover_count(n, n + 1) == 2 ** (n + 1) - 2      # 2 * sum_{k<n} C(n, k)
    assert cover_count(1, 5) == 2                            # N = 1: only w = ±1
    assert cover_count(2, 3) == 6                            # 3 rays in the plane: 6 of 8
    assert isinstance(cover_probability(3, 7), Fraction)


def test_cover_recursion():
    # Cover's recursion C(P+1, N) = C(P, N) + C(P, N-1), with C(P, 0) = 0
    def c(p, n):
        return 0 if n == 0 else cover_count(n, p)
    for n in range(1, 12):
        for p in range(1, 30):
            assert c(p + 1, n) == c(p, n) + c(p, n - 1)


def test_cover_is_a_binomial_tail():
    # P(SAT)(N, P) = Prob[Binomial(P - 1, 1/2) <= N - 1], checked against scipy in floating point
    from scipy.stats import binom
    for n in range(1, 12):
        for p in range(1, 5 * n):
            np.testing.assert_allclose(float(cover_probability(n, p)), binom.cdf(n - 1, p - 1, 0.5),
                                       rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("bad", [(0, 3), (-1, 3), (2, -1), (2.0, 3), (2, 3.5), (True, 2)])
def test_cover_bad_input(bad):
    with pytest.raises(InvalidParameterError, match="parameter of cover_count must be an int"):
        cover_count(*bad)


# ----------------------------------------------------------------------------- LP feasibility
def test_lp_separable_small_cases():
    assert lp_separable([[1.0, 0.0], [0.0, 1.0]], [1, -1])
    assert not lp_separable([[1.0, 2.0], [-1.0, -2.0]], [1, 1])           # x and -x, same label
    assert lp_separable(np.zeros((0, 3)), np.zeros(0))
    # points on a line through 0 on both sides with labels alternating: not separable in 1-D
    assert not lp_separable([[1.0], [2.0], [-1.0]], [1, -1, 1])


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_lp_matches_cover_within_3_sigma(seed):
    cases = [(5, 10), (8, 12), (8, 20), (15, 30)]
    for n, p in cases:
        r = simulate_cover(n, [p], 120, seed=seed * 1000 + n)
        pc = float(cover_probability(n, p))
        sigma = math.sqrt(pc * (1 - pc) / 120)
        assert abs(r.p_sat[0] - pc) <= 3 * sigma + 1e-12, (n, p, r.p_sat[0], pc)
    r = simulate_cover(6, [3, 6], 20, seed=seed)                          # P <= N: always separable
    np.testing.assert_array_equal(r.n_separable, [20, 20])


def test_simulate_cover_fields():
    r = simulate_cover(4, [0, 4, 8], 10, seed=3)
    np.testing.assert_allclose(r.p_cover, [1.0, 1.0, 0.5], rtol=0, atol=0)
    np.testing.assert_allclose(r.alpha, [0, 1, 2], rtol=0, atol=0)
    assert r.seed == 3 and r.n_samples == 10
    np.testing.assert_array_equal(simulate_cover(4, [0, 4, 8], 10, seed=3).n_separable, r.n_separable)
    assert r.z_scores.shape == (3,)


# ----------------------------------------------------------------------------- max margin
def brute_margin_2d(x, y, n_angles=400_001):
    th = np.linspace(0, 2 * np.pi, n_angles)
    w = np.stack([np.cos(th), np.sin(th)], axis=1)      # unit vectors; kappa = min y w.x (N = 2: |w|^2 = 2)
    stab = (y[:, None] * (x @ w.T))
    return stab.min(axis=0).max()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", ["nnls", "adatron"])
def test_max_margin_2d_against_angle_scan(seed, method):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 2))
    y = np.sign(x @ np.array([1.0, 0.3]))                 # separable by construction
    r = max_margin(x, y, method=method, tol=1e-7)
    ref = brute_margin_2d(x, y)
    assert r.separable and r.converged
    np.testing.assert_allclose(r.kappa, ref, rtol=0, atol=2e-5)
    np.testing.assert_allclose(r.w @ r.w, 2.0, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.min(y * (x @ r.w)) / math.sqrt(2), r.kappa, rtol=1e-12, atol=1e-14)


def test_max_margin_hand_example():
    r = max_margin(np.eye(3) * math.sqrt(3), [1, 1, 1])
    np.testing.assert_allclose(r.kappa, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.w, [1, 1, 1], rtol=0, atol=1e-12)
    assert r.n_support == 3


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n,alpha", [(60, 0.5), (80, 1.0), (50, 1.6)])
def test_adatron_agrees_with_exact_solver(n, alpha, seed):
    rng = np.random.default_rng([seed, n])
    p = int(alpha * n)
    x = rng.standard_normal((p, n))
    y = rng.choice([-1.0, 1.0], size=p)
    ex = max_margin(x, y)
    ad = max_margin(x, y, method="adatron", tol=1e-6)
    assert ex.separable == ad.separable == lp_separable(x, y)
    if not ex.separable:                                 # happens at alpha = 1.6, N = 50 (P_SAT ~ 0.97)
        return
    assert ad.converged
    assert ad.kappa <= ex.kappa + 1e-9 <= ad.kappa_upper + 2e-9          # certified bracket
    np.testing.assert_allclose(ad.kappa, ex.kappa, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ad.w, ex.w, rtol=0, atol=1e-3 * math.sqrt(n))
    # optimality: at least one support vector sits on the margin, none below it
    stab = y * (x @ ex.w) / math.sqrt(n)
    np.testing.assert_allclose(stab.min(), ex.kappa, rtol=1e-12, atol=1e-12)
    assert np.sum(np.abs(stab - ex.kappa) < 1e-8) >= 1


@pytest.mark.parametrize("method", ["nnls", "adatron"])
def test_not_separable(method):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((90, 20))                    # alpha = 4.5 >> 2
    y = rng.choice([-1.0, 1.0], size=90)
    r = max_margin(x, y, method=method, tol=1e-4, maxiter=20000)
    assert not r.separable and r.kappa == -math.inf
    assert not lp_separable(x, y)


def test_max_margin_vs_gardner_n200_alpha1():
    from phasekit.theory.replica.perceptron import spherical_kappa_max
    r = simulate_max_margin(200, [1.0], 12, seed=4, method="adatron", tol=1e-4)
    assert r.all_converged
    assert abs(r.kappa_mean[0] - spherical_kappa_max(1.0)) <= 0.05      # spec check 16


def test_simulate_max_margin_fields_and_seed():
    a = simulate_max_margin(30, [0.5, 1.0], 3, seed=9)
    b = simulate_max_margin(30, [0.5, 1.0], 3, seed=9, method="adatron", tol=1e-8)
    np.testing.assert_allclose(a.kappa, b.kappa, rtol=0, atol=1e-7)    # same seed -> same instances
    assert a.kappa.shape == (2, 3) and a.seed == 9 and a.method == "nnls" and b.method == "adatron"
    assert np.all(a.kappa_mean[0] > a.kappa_mean[1])


@pytest.mark.parametrize("kw,match", [
    (dict(method="svm"), "method"), (dict(tol=0.0), "tol"), (dict(tol=-1), "tol"), (dict(maxiter=0), "maxiter")])
def test_max_margin_bad_options(kw, match):
    with pytest.raises(InvalidParameterError, match=f"The '{match}' parameter of max_margin"):
        max_margin(np.eye(3), [1, 1, 1], **kw)


def test_bad_patterns_labels():
    with pytest.raises(InvalidParameterError, match="labels"):
        max_margin(np.eye(3), [1, 0, 1])
    with pytest.raises(InvalidParameterError, match="patterns"):
        max_margin([[np.nan, 1.0]], [1])
    with pytest.raises(InvalidParameterError, match="patterns"):
        lp_separable(np.ones(3), [1])
    with pytest.raises(InvalidParameterError, match="alphas"):
        simulate_max_margin(10, [0.0], 2)
    with pytest.raises(InvalidParameterError, match="n_samples"):
        simulate_cover(10, [5], 0)
