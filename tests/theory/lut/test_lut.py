"""Closed forms of the LUT-network theory (nucleation, GF(2) reference, scaling variables).

The theory is a reconstruction [R] for the LUT network of shared/specs/lut_network.md; these tests
check the algebra (sympy derivation, limits) and the exact GF(2) laws against enumeration.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from phasekit import InvalidParameterError
from phasekit.theory.lut import lut as th


# ---------------------------------------------------------------------------------------------
# sympy derivation
# ---------------------------------------------------------------------------------------------
def test_poisson_witness_probability_reduces_to_closed_form():
    d = th.derive_nucleation()
    assert d.residual == 0
    lam = d.lam
    assert sp.simplify(d.witness_probability - (1 - sp.exp(-lam / 2)) ** 2) == 0
    assert sp.simplify(d.leading_term - lam**2 / 4) == 0
    assert d.weibull_exponent == th.WEIBULL_EXPONENT == 4


@pytest.mark.parametrize("n", [4, 6, 10, 14, 16, 30])
def test_symbolic_p_critical_matches_numeric(n):
    d = th.derive_nucleation()
    np.testing.assert_allclose(float(d.p_critical.subs(d.n, n)), th.p_critical(n), rtol=1e-12, atol=0)
    np.testing.assert_allclose(th.p_critical(n), 2 ** ((n + 2) / 2) / math.comb(n, 2) ** 0.25,
                               rtol=1e-14, atol=0)


def test_witness_probability_numeric_matches_poisson_sum():
    # direct sum over N ~ Poisson(lam) of P(both types | N) = 1 - 2^(1-N) for N >= 1
    for lam in (0.01, 0.3, 2.0, 7.5):
        s = sum(math.exp(-lam) * lam**N / math.factorial(N) * (1 - 2.0 ** (1 - N)) for N in range(1, 120))
        np.testing.assert_allclose(th.witness_probability(lam), s, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# nucleation law
# ---------------------------------------------------------------------------------------------
def test_weibull_value_at_pc():
    for n in (8, 12, 16):
        np.testing.assert_allclose(th.p_success_weibull(n, th.p_critical(n)), 1 - math.exp(-1),
                                   rtol=1e-12, atol=0)


def test_p_success_approaches_weibull_shape_for_large_n():
    # the shape in x = P/P_c is n-independent in the limit; the leading correction is the
    # O(lambda) term of (1 - e^{-lambda/2})^2, lambda(P_c) = 2 / C(n,2)^(1/2) ~ 1/n
    xs = np.array([0.5, 1.0, 1.5])
    ns = (12, 20, 40, 80)
    devs = [np.max(np.abs(th.p_success(n, xs * th.p_critical(n)) - th.weibull_shape(xs))) for n in ns]
    assert all(b < a for a, b in zip(devs, devs[1:]))
    assert devs[-1] < 0.01
    scaled = [n * d for n, d in zip(ns, devs)]
    np.testing.assert_allclose(scaled[1:], scaled[-1], rtol=0.25, atol=0)


def test_p_success_basic_properties():
    P = np.arange(0, 400)
    p = th.p_success(14, P)
    assert p[0] == 0.0 and p[1] == 0.0
    assert np.all(np.diff(p) >= 0)
    assert p[-1] > 0.999
    assert isinstance(th.p_success(14, 83), float)
    np.testing.assert_allclose(th.p_success(14, 83), 0.5875, atol=5e-4, rtol=0)


def test_cascade_estimate_bounded_by_nucleation():
    for n in (10, 14, 16):
        P = np.linspace(2, 3 * th.p_critical(n), 50)
        c, s = th.p_success_cascade(n, P), th.p_success(n, P)
        below = P <= th.p_critical(n)
        assert np.all(c[below] <= s[below])  # growth only removes runs below P_c
        assert np.all(np.abs(c - s)[P >= 1.5 * th.p_critical(n)] < 0.02)
        assert c[-1] > 0.99


def test_mean_accuracy_and_coverage():
    np.testing.assert_allclose(th.mean_accuracy_local(14, 83), 0.5 + th.p_success(14, 83) / 2, rtol=1e-14, atol=0)
    np.testing.assert_allclose(th.coverage(0, 5), 1.0, atol=1e-15, rtol=0)
    np.testing.assert_allclose(th.coverage(3, 0), 0.0, atol=1e-15, rtol=0)
    np.testing.assert_allclose(th.coverage(3, 10), 1 - (7 / 8) ** 10, rtol=1e-13, atol=0)
    np.testing.assert_allclose(th.accuracy_topological(1, 2), 0.5 + 0.5 * 0.75, rtol=1e-13, atol=0)


# ---------------------------------------------------------------------------------------------
# finite-size scaling
# ---------------------------------------------------------------------------------------------
def test_scaling_variables():
    np.testing.assert_allclose(th.scaling_variable_local(16, 256), 0.5, rtol=1e-14, atol=0)
    np.testing.assert_allclose(th.scaling_variable_gf2(12, 18), 1.5, rtol=1e-14, atol=0)
    # a_c -> 1/2, widths shrink as 1/n
    for n in (10, 20, 200, 2000):  # a_c - 1/2 = 1/n - log2 C(n,2) / (4n)
        assert abs(th.a_critical(n) - 0.5) <= (1 + 0.5 * math.log2(n)) / n
    w = [n * th.transition_width_local(n) for n in (8, 16, 32)]
    np.testing.assert_allclose(w, w[0], rtol=1e-12, atol=0)
    wg = [n * th.transition_width_gf2(n) for n in (10, 20, 40)]
    np.testing.assert_allclose(wg, wg[-1], rtol=0.05, atol=0)


# ---------------------------------------------------------------------------------------------
# GF(2) reference
# ---------------------------------------------------------------------------------------------
def _enumerate_ranks(n, P):
    counts = [0] * (min(n, P) + 1)
    for rows in itertools.product(range(2**n), repeat=P):
        basis = {}
        for v in rows:
            while v:
                h = v.bit_length() - 1
                if h in basis:
                    v ^= basis[h]
                else:
                    basis[h] = v
                    break
        counts[len(basis)] += 1
    return counts


@pytest.mark.parametrize("n,P", [(n, P) for n in range(1, 5) for P in range(1, 5)])
def test_rank_law_matches_exhaustive_enumeration(n, P):
    counts = _enumerate_ranks(n, P)
    law = th.rank_distribution_exact(n, P)
    assert [Fraction(c, 2 ** (n * P)) for c in counts] == law


@pytest.mark.parametrize("n,P", [(3, 3), (5, 7), (12, 12), (12, 16), (16, 20)])
def test_full_rank_product_equals_rank_law(n, P):
    law = th.rank_distribution_exact(n, P)
    assert sum(law) == 1
    np.testing.assert_allclose(th.p_full_rank(n, P), float(law[n]), rtol=1e-12, atol=1e-300)


def test_full_rank_limits_and_values():
    assert th.p_full_rank(12, 11) == 0.0
    np.testing.assert_allclose(th.p_full_rank(12, 14), 0.77015, atol=5e-5, rtol=0)
    for j in (0, 2, 5):
        np.testing.assert_allclose(th.p_full_rank(60, 60 + j), th.p_full_rank_limit(j), rtol=1e-12, atol=0)
    np.testing.assert_allclose(th.p_full_rank_limit(0), 0.288788, atol=1e-6, rtol=0)


def test_gf2_mean_error_from_rank_law_by_enumeration():
    # exact: E[eps] = 1/2 (1 - E 2^{r-n}) averaged over all 3x4 matrices
    n, P = 3, 4
    counts = _enumerate_ranks(n, P)
    e = sum(Fraction(c, 2 ** (n * P)) * Fraction(1, 2) * (1 - Fraction(1, 2 ** (n - r))) for r, c in enumerate(counts))
    np.testing.assert_allclose(th.gf2_mean_error(n, P), float(e), rtol=1e-14, atol=0)
    assert th.gf2_success_probability(12, 40) > th.p_full_rank(12, 40) - 1e-15


def test_wrong_parity_accuracy_is_exactly_one_half():
    # exact bimodality: every non-trivial parity g xor f is balanced on {0,1}^n
    n = 8
    xs = np.arange(2**n)
    for d in range(1, 2**n):
        assert int(np.sum(np.bitwise_count(xs & d) & 1)) == 2 ** (n - 1)
    assert th.gf2_wrong_parity_accuracy(n) == 0.5
    # unseen-only: training points all agree, P of them among the 2^(n-1) agreeing inputs
    d, P = 0b1011, 20
    agree = xs[(np.bitwise_count(xs & d) & 1) == 0][:P]
    unseen = np.setdiff1d(xs, agree)
    acc = np.mean((np.bitwise_count(unseen & d) & 1) == 0)
    np.testing.assert_allclose(acc, th.gf2_wrong_parity_accuracy(n, P, unseen_only=True), rtol=1e-14, atol=0)


def test_gf2_entropy_and_description_lengths():
    np.testing.assert_allclose(th.gf2_entropy([0.0, 0.5, 1.0, 2.0]), [1.0, 0.5, 0.0, 0.0], atol=1e-15, rtol=0)
    assert th.description_length_structured(14) == 54
    assert th.description_length_memorized(83) == 83


def test_binder_two_state_and_hysteresis_predictions():
    for p in (0.1, 1 / 3, 0.7, 1.0):
        M = np.array([1.0] * int(1000 * p) + [0.0] * (1000 - int(1000 * p)))
        direct = 1 - np.mean(M**4) / (3 * np.mean(M**2) ** 2)
        np.testing.assert_allclose(th.binder_two_state(np.mean(M)), direct, rtol=1e-12, atol=1e-12)
    assert th.binder_two_state(0.2) < 0
    np.testing.assert_allclose(th.p_frozen_success([2, 3, 6]), [0.5, 0.75, 1 - 2**-5], rtol=1e-14, atol=0)
    np.testing.assert_allclose(th.p_fresh_success(12, 22), th.p_success(12, 22), rtol=1e-14, atol=0)
    np.testing.assert_allclose(th.p_success(12, 0.5 * th.p_critical(12)), 1 - math.exp(-1 / 16), atol=0.01, rtol=0)


@pytest.mark.parametrize("call", [
    lambda: th.p_success(1, 10), lambda: th.p_success(10, -1.0), lambda: th.p_critical(2.5),
    lambda: th.p_full_rank(4, -1), lambda: th.rank_distribution(0, 3), lambda: th.binder_two_state(0.0),
    lambda: th.transition_width_local(10, lo=0.9, hi=0.1), lambda: th.p_full_rank_limit(-1),
])
def test_invalid_parameters_raise_with_template(call):
    with pytest.raises(InvalidParameterError, match=r"The '\w+' parameter of \w+ must be"):
        call()
