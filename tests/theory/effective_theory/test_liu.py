"""Liu et al. effective theory: parallelograms, spectrum, ground states, effective flow
(spec §7, checks 8, 9, 13, 14, 15)."""
import numpy as np
import pytest
import sympy as sp

from phasekit import InvalidParameterError
from phasekit.theory.effective_theory import liu as L


def test_counts():
    S = L.samples(10)
    assert S.shape == (55, 2)
    assert len(set(S.sum(axis=1))) == 19
    assert L.parallelograms(10).shape == (70, 4)
    assert L.samples(6).shape == (21, 2)
    assert L.parallelograms(6).shape == (13, 4)
    P = L.parallelograms(10)
    np.testing.assert_array_equal(P[:, 0] + P[:, 1], P[:, 2] + P[:, 3])
    assert np.all((P[:, 0] < P[:, 2]) & (P[:, 2] <= P[:, 3]) & (P[:, 3] < P[:, 1]))


def test_matrix_rows_sum_to_zero():
    A = L.parallelogram_matrix(10)
    np.testing.assert_array_equal(A.sum(axis=1), 0)
    lin = np.arange(10)
    np.testing.assert_array_equal(A @ lin, 0)


def test_charpoly_p10():
    fac, lam, roots = L.full_charpoly(10)
    want = (lam ** 2 * (lam - 30) * (lam ** 2 - 87 * lam + 1866) * (lam ** 2 - 77 * lam + 1430)
            * (lam ** 3 - 126 * lam ** 2 + 5263 * lam - 72866))
    assert sp.expand(fac - want) == 0
    assert roots[0] == 0 and roots[1] == 0 and roots[2] == 30
    s = L.spectrum(10)
    assert s.nullity == 2 and s.n_parallelograms == 70
    np.testing.assert_allclose(s.lambda3, 3 / 7, rtol=1e-12, atol=0)


def test_nullity_and_linear_ground_state():
    assert L.has_linear_ground_state(10)
    assert L.nullity(10, np.arange(10)) > 2          # a few samples: many ground states
    assert L.spectrum(10, np.arange(10)).lambda3 == 0.0


def test_minimal_sets_p6():
    ds = L.minimal_determining_sets(6, range(4, 8))
    assert ds.minimum_size == 6
    assert ds.counts == {4: 0, 5: 0, 6: 3, 7: 129}
    assert ((0, 4), (0, 5), (1, 3), (1, 4), (2, 2), (2, 3)) in ds.minimal_sets


def test_linear_structure_probability():
    s = L.linear_structure_probability(10, [0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 1.0],
                                       n_sets=400, rng=0)
    assert s.probability[0] == 0 and s.probability[-1] == 1
    assert abs(s.crossing - 0.4) <= 0.05
    np.testing.assert_allclose(s.lambda3_median[-1], 3 / 7, rtol=1e-12, atol=0)
    assert np.all(np.diff(s.lambda3_median) >= -1e-12)


def test_conservation_laws_sympy():
    assert L.check_conservation_laws(6).holds


@pytest.mark.parametrize("seed", [0, 1])
def test_conservation_along_flow(seed):
    A = L.parallelogram_matrix(10).astype(float)
    E = np.random.default_rng(seed).standard_normal(10)
    Z = np.sum((E - E.mean()) ** 2)
    s = E.sum()
    for _ in range(200):  # small steps: exact conservation is a property of the continuous flow
        E = E - 1e-6 * L.effective_loss_grad(E, A)
    np.testing.assert_allclose(E.sum(), s, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.sum((E - E.mean()) ** 2), Z, rtol=1e-8, atol=0)


def test_effective_flow_decay_rate():
    r = L.run_effective_flow(10, eta=1e-3, steps=3000, rng=0)
    np.testing.assert_allclose(r.decay_rate, 4 * 30 * 1e-3 / 9, rtol=0.01, atol=0)
    np.testing.assert_allclose(r.predicted_rate, -2 * np.log(1 - 2 * 30 * 1e-3 / 9), rtol=1e-12,
                               atol=0)
    assert r.sum_drift < 1e-10


def test_predicted_grokking_steps():
    n_h = L.predicted_grokking_steps(10, eta=1e-3, normalisation="mean")
    np.testing.assert_allclose(n_h, 1 / (2 * (3 / 7) / 9 * 1e-3), rtol=1e-10, atol=0)
    # 'sum' is the time constant of the reference flow: 1/n_h = half the l0 decay rate
    n_s = L.predicted_grokking_steps(10, eta=1e-3)
    np.testing.assert_allclose(2 / n_s, 4 * 30 * 1e-3 / 9, rtol=1e-12, atol=0)
    assert L.predicted_grokking_steps(10, np.arange(5)) == float("inf")


def test_invalid():
    with pytest.raises(InvalidParameterError):
        L.samples(1)
    with pytest.raises(InvalidParameterError):
        L.parallelogram_matrix(10, np.array([99]))
    with pytest.raises(InvalidParameterError):
        L.linear_structure_probability(10, [1.5])
