"""GenEFT simulations: closure, repon ODE/GD runs, the numpy autoencoder (spec §7, 10–22)."""
import itertools

import numpy as np
import pytest

from phasekit.theory.effective_theory import geneft as tg
from phasekit.validation.effective_theory import geneft as vg


# ----------------------------------------------------------------------------- closure
def _brute_same(sizes, adj, k, cap):
    K = len(sizes)
    same, cnt = np.zeros((K, K)), 0
    for asg in itertools.product(range(k), repeat=K):
        asg = np.array(asg)
        if any(sizes[asg == q].sum() != cap for q in range(k)):
            continue
        eq = asg[:, None] == asg[None, :]
        if np.any(adj & eq):
            continue
        cnt += 1
        same += eq
    return same / cnt


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_importance_sampler_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    sizes = np.array([3, 2, 2, 1, 1, 1, 1, 1])       # n = 12, k = 3 classes of 4
    adj = np.zeros((8, 8), dtype=bool)
    for a, b in [(0, 1), (2, 3), (4, 5)]:
        adj[a, b] = adj[b, a] = True
    exact = _brute_same(sizes, adj, 3, 4)
    est, ess = vg._same_class_probability(sizes, adj, 3, 4, 20000, rng)
    np.testing.assert_allclose(est, exact, rtol=0, atol=0.03)
    assert ess > 1000


def test_closure_accuracy_bounds():
    r = vg.closure_accuracy(90, n_sets=3, method="closure", rng=0)
    assert 0.5 < r.accuracy.mean <= 1.0
    assert r.known_fraction.mean <= r.accuracy.mean
    np.testing.assert_allclose(r.f_ub_approx, 0.951, rtol=0, atol=1e-3)
    ex = vg.closure_accuracy(90, n_sets=3, method="exact", n_completions=1000, rng=0)
    assert ex.accuracy.mean >= r.accuracy.mean - 1e-12   # exact inference uses more information


# ----------------------------------------------------------------------------- repons
def test_ode_runs_conserve_C_and_match_fate():
    r = vg.ode_repon_runs(40, rng=0)
    assert r.max_C_drift < 1e-7
    assert r.n_agree == r.n_decided


def _well_separated(seed, n, threshold=0.5):
    rng = np.random.default_rng(seed)
    a0, c0 = rng.standard_normal(200), rng.standard_normal(200)
    keep = np.abs(a0 ** 2 / 2 - c0 ** 2) > threshold
    return a0[keep][:n], c0[keep][:n]


def test_gd_two_repon_asymptotes():
    a0, c0 = _well_separated(0, 6)
    r = vg.gd_two_repon(a0, c0, eta_A=1.0, eta_x=1.0, dt=1e-3, steps=40_000)
    assert r.max_error < 1e-3
    np.testing.assert_array_equal(r.collides_measured, r.collides_predicted)


@pytest.mark.parametrize("N", [2])
def test_gd_cluster_asymptotes(N):
    a0, c0 = _well_separated(1, 5)
    d0 = 2 * c0
    keep = np.abs(a0 ** 2 * (1 + 1 / N) - d0 ** 2) > 0.5
    r = vg.gd_cluster(a0[keep], d0[keep], N, dt=1e-3, steps=40_000)
    assert r.max_error < 1e-3
    np.testing.assert_array_equal(r.collides_measured, r.collides_predicted)


def test_gd_matrix_repon_fates():
    r = vg.gd_matrix_repon(8, d_o=3, d_e=2, dt=2e-3, steps=60_000, rng=0)
    np.testing.assert_array_equal(r.collides_measured, r.collides_predicted)


def test_collided_fraction_below_bound_and_rising():
    cf = vg.collided_fraction((0.25, 1.0, 4.0), (100.0, 400.0, 1e7), n_systems=1500, rng=0)
    noise = 3 * np.sqrt(cf.bound * (1 - cf.bound) / cf.n_systems)
    assert np.all(cf.fraction <= cf.bound[:, None] + noise[:, None])
    assert np.all(np.diff(cf.fraction, axis=1) >= -noise[:, None])
    assert np.all(np.abs(cf.fraction[:, -1] - cf.bound) <= 0.02 + noise)
    lag = cf.bound - cf.fraction[:, 1]
    assert lag[0] > lag[-1]       # lags most at small rho


# ----------------------------------------------------------------------------- networks
def test_adam_matches_reference_formula():
    rng = np.random.default_rng(0)
    p = rng.standard_normal(5)
    ref = p.copy()
    opt = vg.Adam([p], lr=0.01, weight_decay=0.1)
    m = np.zeros(5)
    v = np.zeros(5)
    for t in range(1, 6):
        g = rng.standard_normal(5)
        opt.step([g.copy()])
        ref = ref * (1 - 0.01 * 0.1)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref = ref - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", [1, 2, 3])
def test_autoencoder_gradients_finite_difference(mode):
    cfg = vg.AutoencoderConfig(mode=mode, depth=3, width=7, dtype="float64")
    rng = np.random.default_rng(mode)
    model = vg._AutoencoderModel(cfg, rng)
    i1, i2 = rng.integers(0, 30, 40), rng.integers(0, 30, 40)
    t = (i1 % 3 == i2 % 3).astype(float)
    loss, grads = model.loss_and_grads(i1, i2, t)
    params = [model.E] + model.Ws + model.bs
    h = 1e-6
    for P, G in zip(params, grads):
        for _ in range(3):
            idx = tuple(rng.integers(0, s) for s in P.shape)
            old = P[idx]
            P[idx] = old + h
            lp, _ = model.loss_and_grads(i1, i2, t)
            P[idx] = old - h
            lm, _ = model.loss_and_grads(i1, i2, t)
            P[idx] = old
            np.testing.assert_allclose(G[idx], (lp - lm) / (2 * h), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("st,se,label", [
    (None, None, "confusion"), (100, None, "memorization"), (100, 500, "generalization"),
    (100, 1100, "grokking"), (100, 1099, "generalization"),
])
def test_phase_label(st, se, label):
    assert vg.phase_label(st, se, 1000) == label


def test_generalizing_vs_memorizing_cells():
    gen = vg.train_autoencoder(eta_enc=3e-3, eta_dec=1e-3, steps=1500, rng=0)
    mem = vg.train_autoencoder(eta_enc=3e-4, eta_dec=3e-2, steps=1500, rng=0)
    assert gen.phase == "generalization", (gen.step_train, gen.step_test)
    assert mem.phase == "memorization", (mem.step_train, mem.step_test)
    assert vg.silhouette(gen.embedding, np.arange(30) % 3) > 0.3


def test_fit_boundary_slope_recovers_slope_one():
    lx, ly = np.meshgrid(np.linspace(-4, -2, 9), np.linspace(-4, -1, 13), indexing="ij")
    lab = ly - lx < 0.7
    np.testing.assert_allclose(vg.fit_boundary_slope(lx.ravel(), ly.ravel(), lab.ravel()), 1.0,
                               rtol=0, atol=0.1)
    assert np.isnan(vg.fit_boundary_slope([0, 1], [0, 1], [True, True]))


def test_phase_diagram_parallel_small():
    cfg = vg.AutoencoderConfig(steps=300, eval_every=20)
    pd = vg.lr_phase_diagram((3e-3,), (1e-3, 3e-2), config=cfg, workers=2)
    assert pd.phases.shape == (1, 2, 1)
    assert all(s == "ok" for s in pd.status.ravel())
    assert len(pd.to_rows()) == 2


def test_relations():
    for rel in ("mod3", "mod5", "greater", "bipartite"):
        R = vg.relation_labels(rel)
        assert R.shape == (30, 30)
    assert vg.relation_labels("mod3").mean() == pytest.approx(1 / 3)
    assert tg.positive_prior("equivalence", k=5) == pytest.approx(vg.relation_labels("mod5").mean())


@pytest.mark.slow
def test_phase_diagram_boundary_slope():
    """5x5 grid at 4000 steps (about 1 min on 2 cores): a G/M boundary of slope near 1."""
    pd = vg.lr_phase_diagram((1e-4, 3e-4, 1e-3, 3e-3, 1e-2), (3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
                             workers=2)
    assert 0.7 <= pd.slope <= 2.0        # measured 1.46 (seed 0)
    maj = pd.majority()
    assert maj[-1, 0] == "generalization" and maj[0, -1] == "memorization"
