"""Least-action ResNet training in numpy (spec least_action.md: T-B1, T-B2, T-B4, T-B5, T-B6,
gradient checks). Thresholds are the spec's; expected maps are closed forms from the theory
(Bures map, half-space projection), not values printed by the code."""
import itertools
import time

import numpy as np
import pytest

from phasekit import InvalidParameterError
from phasekit.theory.transport import transport as tt
from phasekit.validation.transport import transport as vt

E1 = (np.zeros(2), np.array([[1.0, 0.3], [0.3, 0.6]]),
      np.array([1.0, -0.5]), np.array([[2.0, 0.8], [0.8, 0.5]]))
E2 = dict(n_blocks=8, width=32, mu=50.0, w=(0.0, 1.0), b=2.0, margin=0.5, lr=3e-3)


# ---------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("kinetic", [True, False])
def test_linear_resnet_gradient_matches_finite_differences(kinetic):
    m0, S0, m1, S1 = E1
    theta = np.random.default_rng(0).standard_normal(8 * 6) * 0.5
    mult = (np.array([0.3, -1.0]), np.array([[1.0, 0.2], [0.2, -0.5]]))
    for mp in (None, mult):
        err = vt.gradient_check(lambda t: vt.linear_resnet_objective(
            t, m0, S0, m1, S1, 8, 10.0, kinetic=kinetic, multipliers=mp), theta)
        assert err < 1e-6


@pytest.mark.parametrize("loss", ["squared_hinge", "cross_entropy"])
def test_tanh_resnet_gradient_matches_finite_differences(loss):
    X, y = vt.make_two_blobs(24, rng=3)
    net = vt.TanhResNet(dim=2, width=5, n_blocks=3, n_replicas=2)
    theta = net.init([1, 2], 0.7)
    f = lambda t: net.loss_and_grad(t, X, y, w=(0.3, 1.0), b=0.4, margin=0.5,  # noqa: E731
                                    alpha=[0.7, 1.3], beta=[50.0, 2.0], loss=loss)[:2]
    assert vt.gradient_check(f, theta) < 1e-6


def test_replicas_are_independent_and_views_alias_theta():
    X, y = vt.make_two_blobs(20, rng=0)
    net2 = vt.TanhResNet(dim=2, width=4, n_blocks=2, n_replicas=2)
    net1 = vt.TanhResNet(dim=2, width=4, n_blocks=2, n_replicas=1)
    th2 = net2.init([5, 5], 0.5)
    th1 = net1.init([5], 0.5)
    for name, v in net2.views(th2).items():
        np.testing.assert_array_equal(v[0], v[1])              # same seed -> same network
        np.testing.assert_array_equal(v[0], net1.views(th1)[name][0])
    f2, g2, _ = net2.loss_and_grad(th2, X, y, w=(0, 1), b=0.0, margin=0.3, alpha=[1.0, 1.0])
    f1, g1, _ = net1.loss_and_grad(th1, X, y, w=(0, 1), b=0.0, margin=0.3)
    np.testing.assert_allclose(f2, 2 * f1, rtol=1e-13, atol=0)
    V = net2.views(th2)
    V["c"][1, 0, 0] = 7.0
    assert net2.views(th2)["c"][1, 0, 0] == 7.0


# ---------------------------------------------------------------------------------- E1
def test_linear_resnet_recovers_the_bures_map():
    """T-B1: kinetic term on -> Bures map, C = W2², constant energy, symmetric, < 10 s."""
    m0, S0, m1, S1 = E1
    t0 = time.process_time()
    f = vt.fit_linear_resnet(m0, S0, m1, S1, kinetic=True, rng=0)
    cpu = time.process_time() - t0
    assert f.converged
    assert f.rel_error < 1e-3
    assert abs(f.kinetic_energy - f.w2_squared) / f.w2_squared < 1e-3
    assert f.energy_cv < 1e-3
    assert f.asymmetry < 2e-3
    assert cpu < 10.0
    np.testing.assert_allclose(f.A_ot, tt.bures_map(m0, S0, m1, S1), rtol=0, atol=0)


def test_linear_resnet_uzawa_variant_meets_the_constraint():
    m0, S0, m1, S1 = E1
    f = vt.fit_linear_resnet(m0, S0, m1, S1, method="uzawa", rng=1)
    assert f.rel_error < 1e-3
    assert max(f.mean_residual, f.cov_residual) < 1e-6


def test_without_kinetic_term_the_brenier_map_is_not_selected():
    """T-B2: asymmetry > 0.1 or kinetic energy > 2 W2² in at least 2 of 3 seeds."""
    m0, S0, m1, S1 = E1
    hits = 0
    for s in range(3):
        f = vt.fit_linear_resnet(m0, S0, m1, S1, kinetic=False, rng=s)
        assert max(f.mean_residual, f.cov_residual) < 1e-6     # the constraint is still met
        hits += (f.asymmetry > 0.1) or (f.kinetic_energy > 2 * f.w2_squared)
    assert hits >= 2


# ---------------------------------------------------------------------------------- E2
@pytest.fixture(scope="module")
def two_blobs():
    return vt.make_two_blobs(400, rng=0)


def test_two_blob_resnet_learns_the_projection_map(two_blobs):
    """T-B4 (λ_kin = 1) and the 10 s performance budget of one run (CPU time)."""
    X, y = two_blobs
    t0 = time.process_time()
    res = vt.train_resnet(X, y, lam_kin=1.0, n_iter=6000, rng=0, **E2)
    cpu = time.process_time() - t0
    d = vt.transport_diagnostics(res.trajectories(X)[:, 0], y=y, w=E2["w"], b=E2["b"],
                                 margin=E2["margin"])
    np.testing.assert_allclose(d.ot_cost, tt.projection_ot_cost(X, y, E2["w"], E2["b"],
                                                                E2["margin"]), rtol=1e-12, atol=0)
    assert d.displacement_rel_error < 0.05
    assert d.direction_cosine > 0.995
    assert d.straightness > 0.995
    assert d.static_displacement < 0.15
    assert d.kinetic_rel_error < 0.1
    assert d.energy_cv < 0.05
    assert cpu < 10.0


def test_two_blob_control_without_kinetic_term(two_blobs):
    """T-B4 control (λ_kin = 0): displacement error > 0.5."""
    X, y = two_blobs
    res = vt.train_resnet(X, y, lam_kin=0.0, n_iter=6000, rng=0, **E2)
    d = vt.transport_diagnostics(res.trajectories(X)[:, 0], y=y, w=E2["w"], b=E2["b"],
                                 margin=E2["margin"], w2=False)
    assert d.max_violation < 0.05          # the task is solved ...
    assert d.displacement_rel_error > 0.5  # ... by a map far from the minimal-kinetic one


def test_two_blob_uzawa_schedule(two_blobs):
    """T-B5: LAP Uzawa, 12000 iterations: violation < 0.05, error < 0.02, λ_L non-decreasing
    and saturating (growth over the last quarter < 1/4 of the growth over the first)."""
    X, y = two_blobs
    res = vt.train_resnet(X, y, schedule="uzawa", lambda0=1.0, tau=20.0, uzawa_every=5,
                          n_iter=12000, rng=0, **E2)
    d = vt.transport_diagnostics(res.trajectories(X)[:, 0], y=y, w=E2["w"], b=E2["b"],
                                 margin=E2["margin"], w2=False)
    assert d.max_violation < 0.05
    assert d.displacement_rel_error < 0.02
    lam = res.lambda_history[:, 0]
    assert lam.size == 12000 // 5 + 1 and lam[0] == 1.0
    assert np.all(np.diff(lam) >= 0)
    q = lam.size // 4
    assert (lam[-1] - lam[-q - 1]) < 0.25 * (lam[q] - lam[0])


def test_cross_entropy_training_separates_and_moves_less_with_kinetic_term():
    """With CE and a fixed far classifier there is no finite minimiser; the kinetic term keeps the
    transport small while the task is solved."""
    X, y = vt.make_two_blobs(100, rng=1)
    res = vt.train_resnet(X, y, loss="cross_entropy", lam_kin=[1.0, 0.0], mu=20.0, n_iter=600,
                          rng=[0, 0], w=(0.0, 1.0), b=2.0, margin=0.0, lr=1e-2)
    acc = np.mean(res.predict(X) == y, axis=1)
    assert np.all(acc > 0.95)
    assert res.kinetic[0] < res.kinetic[1]


def test_w2_sorted_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X, tgt = rng.standard_normal((15, 1)), rng.exponential(size=15)
    net = vt.TanhResNet(dim=1, width=4, n_blocks=3, n_replicas=2)
    f = lambda t: net.loss_and_grad(t, X, None, w=None, b=0.0, alpha=[0.5, 1.0],  # noqa: E731
                                    beta=[3.0, 1.0], loss="w2_sorted_1d", target=tgt)[:2]
    assert vt.gradient_check(f, net.init([0, 1], 0.7)) < 1e-6


def test_one_dimensional_normal_to_exponential():
    """Optional spec check: N(0,1) -> Exp(1) with the sorted-sample W2 loss; the learned map is
    close to T(x) = -ln(1 - Phi(x)) on the central 90 % of quantiles (L2 error <= 0.05) and moves
    at constant speed (per-block CV < 0.05)."""
    from scipy import stats
    n = 200
    u = (np.arange(n) + 0.5) / n
    x0 = stats.norm.ppf(u)[:, None]
    res = vt.train_resnet(x0, None, loss="w2_sorted_1d", target=stats.expon.ppf(u), lam_kin=1.0,
                          mu=50.0, n_iter=3000, width=32, rng=0)
    path = res.trajectories(x0)[:, 0]
    central = (u > 0.05) & (u < 0.95)
    err = np.sqrt(np.mean((path[-1, central, 0]
                           - tt.normal_to_exponential_map(x0[central, 0])) ** 2))
    assert err < 0.05
    d = vt.transport_diagnostics(path, target=tt.normal_to_exponential_map(x0), w2=False)
    assert d.energy_cv < 0.05


# ---------------------------------------------------------------------------------- diagnostics
def test_w2_empirical_backends_agree_with_brute_force():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((6, 2)), rng.standard_normal((6, 2)) + 1
    brute = min(np.mean(np.sum((a - b[list(p)]) ** 2, 1)) for p in itertools.permutations(range(6)))
    np.testing.assert_allclose(vt.w2_empirical_squared(a, b), brute, rtol=1e-12, atol=0)
    u, v = rng.standard_normal(7), rng.exponential(size=7)
    brute1 = min(np.mean((u - v[list(p)]) ** 2) for p in itertools.permutations(range(7)))
    np.testing.assert_allclose(vt.w2_empirical_squared(u, v), brute1, rtol=1e-12, atol=0)
    np.testing.assert_allclose(vt.w2_empirical_squared(u, v, method="assignment"), brute1,
                               rtol=1e-12, atol=0)
    try:
        import ot  # noqa: F401
        has_pot = True
    except ImportError:
        has_pot = False
    if has_pot:
        np.testing.assert_allclose(vt.w2_empirical_squared(a, b, method="pot"), brute, rtol=1e-9,
                                   atol=0)
    else:
        with pytest.raises(InvalidParameterError, match="POT"):
            vt.w2_empirical_squared(a, b, method="pot")


def test_block_w2_on_the_exact_linear_resnet_is_a_constant_speed_geodesic():
    m0, S0, m1, S1 = E1
    net = tt.linear_resnet_from_ot(m0, S0, m1, S1, 8)
    x0 = np.random.default_rng(0).multivariate_normal(m0, S0, size=200)
    path = net.trajectories(x0)
    chord = np.sqrt(np.mean(np.sum((net.ot(x0) - x0) ** 2, 1)))
    np.testing.assert_allclose(vt.block_w2(path), np.full(8, chord / 8), rtol=1e-9, atol=0)
    d = vt.transport_diagnostics(path, target=net.ot(x0))
    np.testing.assert_allclose([d.displacement_rel_error, d.energy_cv], 0.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose([d.straightness, d.line_shape_score, d.direction_cosine, d.ot_score],
                               1.0, rtol=1e-9, atol=0)


def test_straightness_and_projection_diagnostics_on_constructed_paths():
    bent = np.array([[[0.0, 0.0]], [[1.0, 0.0]], [[1.0, 1.0]]])
    np.testing.assert_allclose(vt.straightness(bent), [np.sqrt(2) / 2], rtol=1e-14, atol=0)
    X, y = vt.make_two_blobs(50, rng=2)
    w, b, m = (0.0, 1.0), 2.0, 0.5
    T = tt.halfspace_projection_map(X, y, w, b, m)
    K = 4
    path = np.stack([X + (k / K) * (T - X) for k in range(K + 1)])
    d = vt.transport_diagnostics(path, y=y, w=w, b=b, margin=m, w2=False)
    np.testing.assert_allclose([d.displacement_rel_error, d.static_displacement, d.max_violation,
                                d.kinetic_rel_error, d.energy_cv], 0.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose([d.direction_cosine, d.straightness], 1.0, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------------- data
def test_data_generators():
    X, y = vt.make_moons(200, noise=0.0, rng=0)
    up = y > 0
    np.testing.assert_allclose(np.hypot(*X[up].T), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(X[~up, 0] - 1, X[~up, 1] - 0.5), 1.0, rtol=0, atol=1e-12)
    assert up.sum() == 100
    X, y = vt.make_circles(101, noise=0.0, factor=0.3, rng=0)
    np.testing.assert_allclose(np.hypot(*X[y > 0].T), 0.3, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(*X[y < 0].T), 1.0, rtol=0, atol=1e-12)
    X, y = vt.make_two_blobs(400, rng=0)
    np.testing.assert_allclose(X[y < 0].mean(0), [-1, 0], rtol=0, atol=0.1)
    np.testing.assert_allclose(X[y > 0].std(0), [0.3, 0.3], rtol=0.15, atol=0)


def test_public_boundary_validation():
    X, y = vt.make_two_blobs(10, rng=0)
    with pytest.raises(InvalidParameterError, match="'schedule' parameter"):
        vt.train_resnet(X, y, schedule="sgd")
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        vt.train_resnet(X, y, loss="mse")
    with pytest.raises(InvalidParameterError, match="labels"):
        vt.train_resnet(X, (y + 1) / 2)
    with pytest.raises(InvalidParameterError, match="'lam_kin' parameter"):
        vt.train_resnet(X, y, lam_kin=-1.0)
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        vt.fit_linear_resnet(*E1, method="newton")


# ---------------------------------------------------------------------------------- E3
def test_generalization_sweep_pairs_seeds_and_reports_statistics():
    sw = vt.generalization_sweep(n_train=(20,), lam_kins=(0.0, 0.3), n_seeds=3, init_stds=(0.1,),
                                 n_init_seeds=2, n_test=200, n_iter=300, seed=5)
    assert set(sw.accuracy) == {(20, 0.0), (20, 0.3)}
    np.testing.assert_allclose(sw.paired_gain[(20, 0.0)].mean, 0.0, rtol=0, atol=0)
    g = sw.raw_accuracy[(20, 0.3)] - sw.raw_accuracy[(20, 0.0)]
    np.testing.assert_allclose(sw.paired_gain[(20, 0.3)].mean, g.mean(), rtol=1e-12, atol=1e-15)
    assert sw.accuracy[(20, 0.3)].n_samples == 3 and sw.init_accuracy[0.1].n_samples == 2
    assert np.all(sw.raw_kinetic[(20, 0.3)] < sw.raw_kinetic[(20, 0.0)])


@pytest.mark.slow
def test_kinetic_regularisation_and_generalization_on_moons():
    """T-B6 (spec E3): N = 20, 20 paired seeds."""
    sw = vt.generalization_sweep(seed=0)
    N = 20
    assert sw.accuracy[(N, 0.03)].mean >= sw.accuracy[(N, 0.0)].mean - 0.01
    assert sw.init_accuracy[2.0].mean <= sw.init_accuracy[0.1].mean - 0.05
    k0 = sw.kinetic[(N, 0.0)].mean
    for lam in (0.03, 0.3, 3.0):
        assert sw.kinetic[(N, lam)].mean * 10 <= k0


# ---------------------------------------------------------------------------------- checks
def test_checks_are_registered():
    import phasekit
    from phasekit.validation.transport import transport_checks  # noqa: F401  (registers the checks)
    names = {"transport.gaussian", "transport.linear_resnet", "transport.resnet",
             "transport.generalization"}
    assert names <= set(phasekit.list_checks())


@pytest.mark.parametrize("name", ["transport.gaussian", "transport.linear_resnet"])
def test_fast_checks_pass_and_write_outputs(tmp_path, name):
    import os
    from phasekit import get_check
    from phasekit.validation.transport import transport_checks  # noqa: F401
    res = get_check(name).func(str(tmp_path), quick=True, seed=0)
    assert res.passed, res.summary
    assert res.figures and res.tables
    assert all(os.path.getsize(p) > 0 for p in res.figures + res.tables)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transport.resnet", "transport.generalization"])
def test_training_checks_pass_in_quick_mode(tmp_path, name):
    from phasekit import get_check
    from phasekit.validation.transport import transport_checks  # noqa: F401
    res = get_check(name).func(str(tmp_path), quick=True, seed=0)
    assert res.passed, res.summary
