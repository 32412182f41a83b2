"""Closed-form optimal transport behind least-action ResNets (spec least_action.md, T-B3).

Expected values come from outside the code under test: textbook closed forms (1-D and commuting
Gaussians, the W2 geodesic property, Brenier optimality among all maps with the right push-forward),
scipy's distribution functions, or scipy.optimize.
"""
import numpy as np
import pytest
import sympy as sp
from scipy import optimize, stats

from phasekit import InvalidParameterError
from phasekit.theory.transport import transport as tt

E1 = (np.zeros(2), np.array([[1.0, 0.3], [0.3, 0.6]]),
      np.array([1.0, -0.5]), np.array([[2.0, 0.8], [0.8, 0.5]]))


def _random_spd(rng, d):
    M = rng.standard_normal((d, d))
    return M @ M.T + 0.3 * np.eye(d)


# ---------------------------------------------------------------------------------- sympy
@pytest.fixture(scope="module")
def proofs():
    return tt.symbolic_proofs()


@pytest.mark.parametrize("key", ["mccann_step", "mccann_path", "block_velocity", "block_energy",
                                 "commuting_2x2", "quantile_map_1d", "w2_1d", "k_block_gap",
                                 "halfspace_projection"])
def test_symbolic_identity_is_exactly_zero(proofs, key):
    """T-B3: the B_k, c_k realise the McCann path with constant per-block energy = W2², 1-D
    Gaussian T and W2², the discrete-bound gap identity, the projection KKT condition."""
    res = proofs[key]
    if isinstance(res, sp.MatrixBase):
        assert res.is_zero_matrix is True, res
    else:
        assert res == 0, res


# ---------------------------------------------------------------------------------- Gaussian OT
def test_w2_gaussian_matches_textbook_cases():
    # 1-D: (m1 - m0)^2 + (s1 - s0)^2
    np.testing.assert_allclose(tt.w2_gaussian_squared([0.3], [[4.0]], [-1.0], [[0.25]]),
                               1.3 ** 2 + (0.5 - 2.0) ** 2, rtol=1e-14, atol=0)
    # commuting covariances: sum_i (r_i - s_i)^2 + |dm|^2
    S0, S1 = np.diag([1.0, 9.0]), np.diag([4.0, 1.0])
    np.testing.assert_allclose(tt.w2_gaussian_squared([0, 0], S0, [1, 2], S1),
                               (2 - 1) ** 2 + (1 - 3) ** 2 + 5.0, rtol=1e-14, atol=0)
    # N(0, I) -> N(0, 4I): A = 2I
    np.testing.assert_allclose(tt.bures_map([0, 0], np.eye(2), [0, 0], 4 * np.eye(2)),
                               2 * np.eye(2), rtol=0, atol=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_bures_map_is_symmetric_pd_pushforward(seed):
    rng = np.random.default_rng(seed)
    d = 3
    S0, S1 = _random_spd(rng, d), _random_spd(rng, d)
    A = tt.bures_map(np.zeros(d), S0, np.ones(d), S1)
    np.testing.assert_allclose(A, A.T, rtol=0, atol=1e-12)
    assert np.linalg.eigvalsh(A).min() > 0
    np.testing.assert_allclose(A @ S0 @ A, S1, rtol=1e-10, atol=1e-10)
    ot = tt.gaussian_ot(np.zeros(d), S0, np.ones(d), S1)
    np.testing.assert_allclose(ot.kinetic_energy(), ot.w2_squared, rtol=1e-10, atol=0)


@pytest.mark.parametrize("seed", range(3))
def test_brenier_map_beats_every_other_pushforward(seed):
    """Any A' = S1^{1/2} R S0^{-1/2} (R orthogonal) pushes N(m0,S0) to N(m1,S1); its cost
    tr((A'-I)S0(A'-I)^T) + |dm|^2 is never below W2² (equality for the Bures map)."""
    rng = np.random.default_rng(seed)
    m0, S0, m1, S1 = E1
    w2 = tt.w2_gaussian_squared(m0, S0, m1, S1)
    R1, R0i = tt.sqrtm_psd(S1), np.linalg.inv(tt.sqrtm_psd(S0))
    for _ in range(50):
        Q, _ = np.linalg.qr(rng.standard_normal((2, 2)))
        Ap = R1 @ Q @ R0i
        np.testing.assert_allclose(Ap @ S0 @ Ap.T, S1, rtol=1e-10, atol=1e-12)
        D = Ap - np.eye(2)
        assert np.trace(D @ S0 @ D.T) + np.sum((m1 - m0) ** 2) >= w2 - 1e-12


def test_mccann_interpolation_is_a_constant_speed_geodesic():
    m0, S0, m1, S1 = E1
    ot = tt.gaussian_ot(m0, S0, m1, S1)
    for t in (0.0, 0.25, 0.5, 0.9, 1.0):
        mt, St = ot.mccann(t)
        np.testing.assert_allclose(tt.w2_gaussian_squared(m0, S0, mt, St), t ** 2 * ot.w2_squared,
                                   rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ot.mccann(1.0)[1], S1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("K", [1, 3, 8])
def test_linear_resnet_realisation(K):
    m0, S0, m1, S1 = E1
    net = tt.linear_resnet_from_ot(m0, S0, m1, S1, K)
    np.testing.assert_allclose(net.composite(), net.ot.A, rtol=0, atol=1e-13)
    np.testing.assert_allclose(net.block_energies, np.full(K, net.ot.w2_squared),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(net.kinetic_energy, net.ot.w2_squared, rtol=1e-12, atol=0)
    x0 = np.random.default_rng(0).multivariate_normal(m0, S0, size=50)
    path = net.trajectories(x0)
    for k in range(K + 1):
        np.testing.assert_allclose(path[k], net.ot.mccann_points(x0, k / K), rtol=0, atol=1e-12)


def test_linear_resnet_realisation_in_three_dimensions():
    rng = np.random.default_rng(7)
    S0, S1 = _random_spd(rng, 3), _random_spd(rng, 3)
    net = tt.linear_resnet_from_ot(np.zeros(3), S0, rng.standard_normal(3), S1, 5)
    np.testing.assert_allclose(net.composite(), net.ot.A, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.block_energies.std(), 0.0, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------- 1-D maps
def test_quantile_maps_match_scipy():
    x = np.linspace(-3, 3, 41)
    T = tt.quantile_map_1d(stats.norm(1.0, 2.0).cdf, stats.norm(-0.5, 0.5).ppf)
    np.testing.assert_allclose(T(x), tt.gaussian_quantile_map_1d(1.0, 2.0, -0.5, 0.5)(x),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tt.normal_to_exponential_map(x),
                               stats.expon.ppf(stats.norm.cdf(x)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tt.w2_gaussian_1d_squared(1.0, 2.0, -0.5, 0.5), 1.5 ** 2 + 1.5 ** 2,
                               rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------------- K-block bound
def test_discrete_bound_and_equality_condition():
    rng = np.random.default_rng(1)
    K, n = 6, 30
    x0 = rng.standard_normal((n, 2))
    x1 = x0 + rng.standard_normal((n, 2))
    straight = np.stack([x0 + (k / K) * (x1 - x0) for k in range(K + 1)])
    b = tt.discrete_kinetic_energy(straight)
    np.testing.assert_allclose(b.gap, 0.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.kinetic_energy, np.mean(np.sum((x1 - x0) ** 2, 1)), rtol=1e-12,
                               atol=0)
    wiggly = straight.copy()
    wiggly[1:-1] += 0.1 * rng.standard_normal(wiggly[1:-1].shape)
    bw = tt.discrete_kinetic_energy(wiggly)
    assert bw.gap > 0
    np.testing.assert_allclose(bw.kinetic_energy - bw.chord_energy, bw.gap, rtol=1e-12, atol=0)
    np.testing.assert_allclose(bw.chord_energy, b.chord_energy, rtol=1e-12, atol=0)
    # uneven speed on a straight line also costs more
    s = np.array([0, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0])
    uneven = np.stack([x0 + sk * (x1 - x0) for sk in s])
    assert tt.discrete_kinetic_energy(uneven).gap > 0.1 * b.kinetic_energy


# ---------------------------------------------------------------------------------- projection
def test_projection_principle_matches_constrained_minimiser():
    rng = np.random.default_rng(2)
    w, b, m = np.array([0.6, 0.8]), 2.0, 0.5
    x = rng.standard_normal((8, 2)) * 2
    y = np.where(rng.random(8) < 0.5, -1.0, 1.0)
    T = tt.halfspace_projection_map(x, y, w, b, m)
    for i in range(8):
        res = optimize.minimize(lambda z: np.sum((z - x[i]) ** 2), x[i], method="SLSQP",
                                constraints=[{"type": "ineq",
                                              "fun": lambda z, i=i: y[i] * (w @ z + b) - m}],
                                options={"ftol": 1e-14})
        np.testing.assert_allclose(T[i], res.x, rtol=0, atol=1e-6)
    inside = y * (x @ w + b) >= m
    np.testing.assert_allclose(T[inside], x[inside], rtol=0, atol=0)
    np.testing.assert_allclose(y[~inside] * (T[~inside] @ w + b), m, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tt.projection_ot_cost(x, y, w, b, m),
                               np.mean(np.sum((T - x) ** 2, 1)), rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------------- validation
def test_invalid_inputs_raise_with_the_template():
    with pytest.raises(InvalidParameterError, match="positive definite"):
        tt.bures_map([0, 0], [[1, 0], [0, -1]], [0, 0], np.eye(2))
    with pytest.raises(InvalidParameterError, match="symmetric"):
        tt.w2_gaussian_squared([0, 0], [[1, 0.5], [0, 1]], [0, 0], np.eye(2))
    with pytest.raises(InvalidParameterError, match="'K' parameter"):
        tt.linear_resnet_from_ot([0], [[1.0]], [1], [[2.0]], 0)
    with pytest.raises(InvalidParameterError, match="labels"):
        tt.halfspace_projection_map(np.zeros((2, 2)), [0, 1], [0, 1], 0.0, 0.5)
