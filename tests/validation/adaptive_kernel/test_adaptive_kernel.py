"""Posterior sampler of the two-layer erf network (Gibbs readout + MALA weights) and the ak checks.

Exact targets: erf (scipy), the Gaussian conditional of the readout (closed form), a one-neuron
posterior integrated on a grid, AR(1) autocorrelation times; the theory side of the short runs is
the paper's phase (GFL above the onset, mixed phase below).
"""
import math

import numpy as np
import pytest
import scipy.special as sc

from phasekit import InvalidParameterError
from phasekit.theory.adaptive_kernel import adaptive_kernel as AK
from phasekit.validation.adaptive_kernel import adaptive_kernel as V


def test_erf_fast_accuracy():
    h = np.linspace(-6, 6, 200001)
    np.testing.assert_allclose(V.erf_fast(h.copy()), sc.erf(h), rtol=0, atol=1.5e-7)
    h32 = h.astype(np.float32)
    np.testing.assert_allclose(V.erf_fast(h32.copy()), sc.erf(h), rtol=0, atol=1e-6)


def test_autocorr_time_ar1():
    rng = np.random.default_rng(3)
    for rho in (0.0, 0.5, 0.9):
        x = np.zeros(200_000)
        e = rng.standard_normal(x.size)
        for i in range(1, x.size):
            x[i] = rho * x[i - 1] + e[i]
        tau = V.autocorr_time(x)
        assert tau == pytest.approx((1 + rho) / (1 - rho), rel=0.12)


def test_chain_estimate_error_uses_ess():
    rng = np.random.default_rng(4)
    T, C, rho = 20000, 4, 0.9
    x = np.zeros((T, C))
    e = rng.standard_normal((T, C))
    for i in range(1, T):
        x[i] = rho * x[i - 1] + e[i]
    est = V.chain_estimate(x)
    true_err = math.sqrt((1 / (1 - rho ** 2)) * (1 + rho) / (1 - rho) / (T * C))
    assert est.error_of_mean == pytest.approx(true_err, rel=0.25)
    assert est.n_samples < T * C / 10


def _small_sampler(sigma2=0.3, N=3, n=40, d=3, seed=0, dtype="float64"):
    data = V.make_cubic_data(n, d, -0.3, seed=seed)
    cfg = V.SamplerConfig(sigma2=sigma2, N=N, sigma_a2=0.5, sigma_w2=0.5, step=0.3, dtype=dtype)
    return V.PosteriorSampler(cfg, data)


def test_gibbs_readout_matches_gaussian_conditional():
    s = _small_sampler()
    st = s.init_state(1, rng=0)
    Phi = sc.erf(s.data.X @ st.W[0].T)
    A = Phi.T @ Phi / 0.3 + (3 / 0.5) * np.eye(3)
    cov = np.linalg.inv(A)
    mean = cov @ Phi.T @ s.data.y / 0.3
    rng = np.random.default_rng(1)
    draws = []
    for _ in range(6000):
        s.gibbs(st, rng)
        draws.append(st.a[0].copy())
    draws = np.array(draws)
    se = np.sqrt(np.diag(cov) / len(draws))
    assert np.all(np.abs(draws.mean(0) - mean) < 4.5 * se)
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.1, atol=0.05 * np.max(np.diag(cov)))


def test_mala_samples_exact_one_neuron_conditional():
    # N = 1, d = 2, readout fixed: p(w) ∝ exp(-U(w)) on a grid vs MALA moments
    data = V.make_cubic_data(12, 2, -0.3, seed=5)
    cfg = V.SamplerConfig(sigma2=0.5, N=1, sigma_a2=1.0, sigma_w2=1.0, step=0.5, dtype="float64")
    s = V.PosteriorSampler(cfg, data)
    st = s.init_state(8, rng=2)
    st.a[:] = 1.3
    s._refresh(st)
    rng = np.random.default_rng(6)
    q1, q2 = [], []
    for k in range(12000):
        s.mala(st, rng)
        if k > 1000 and k % 5 == 0:
            q1.append(st.W[:, 0, 0].copy())
            q2.append(st.W[:, 0, 1].copy())
    q1, q2 = np.array(q1), np.array(q2)
    g = np.linspace(-3, 3, 601)
    W0, W1 = np.meshgrid(g, g, indexing="ij")
    H = np.einsum("nd,dij->nij", data.X, np.stack([W0, W1]))
    U = ((1.3 * sc.erf(H) - data.y[:, None, None]) ** 2).sum(0) / (2 * 0.5) + 2 * (W0 ** 2 + W1 ** 2) / 2
    p = np.exp(-(U - U.min()))
    p /= p.sum()
    for samples, exact in ((q1, (p * W0).sum()), (q2, (p * W1).sum()), (q1 ** 2, (p * W0 ** 2).sum()),
                           (q2 ** 2, (p * W1 ** 2).sum())):
        est = V.chain_estimate(samples)
        assert abs(est.mean - exact) < 4 * est.error_of_mean + 1e-3


def test_vectorised_forward_matches_per_neuron_loop():
    s = _small_sampler(N=5, n=30, d=4)
    st = s.init_state(3, rng=1)
    for c in range(3):
        f = sum(st.a[c, i] * sc.erf(s.data.X @ st.W[c, i]) for i in range(5))
        U = ((f - s.data.y) ** 2).sum() / (2 * 0.3) + 4 * (st.W[c] ** 2).sum() / (2 * 0.5)
        assert st.U[c] == pytest.approx(U, rel=1e-6)  # erf_fast: |error| <= 1.5e-7
        # gradient by finite differences on one coordinate
        i, j, h = 2, 1, 1e-6
        Wp = st.W[c].copy(); Wp[i, j] += h
        Wm = st.W[c].copy(); Wm[i, j] -= h
        def Uof(W):
            ff = sum(st.a[c, k] * sc.erf(s.data.X @ W[k]) for k in range(5))
            return ((ff - s.data.y) ** 2).sum() / (2 * 0.3) + 4 * (W ** 2).sum() / (2 * 0.5)
        assert st.G[c, i, j] == pytest.approx((Uof(Wp) - Uof(Wm)) / (2 * h), rel=1e-5, abs=1e-6)


def test_nngp_control_does_not_learn_cubic():
    p = AK.cubic_params(0.125, sigma2=0.1)
    data = V.make_cubic_data(int(p["n"]), int(round(p["d"])), p["eps"], seed=0)
    g1, g3 = V.nngp_ridge_control(data, p["sigma2"], p["sigma_a2"], p["sigma_w2"], n_test=10000)
    assert abs(g3.mean) < 0.03 and g1.mean > 0.2


def test_finite_n_reference_reduces_to_nngp_ridge():
    # u -> 0 (N -> inf at fixed sigma_a2): p(w) is the prior, so the finite-n reference is kernel ridge
    # regression with the closed-form arcsin NNGP kernel (independent code path, test-set Monte Carlo)
    p = AK.cubic_params(0.125, sigma2=0.1, N=1e12)
    data = V.make_cubic_data(int(p["n"]), int(round(p["d"])), p["eps"], seed=3)
    ref = V.finite_n_reference(p, data, n_features=20000, repeats=2, seed=1)
    g1, g3 = V.nngp_ridge_control(data, p["sigma2"], p["sigma_a2"], p["sigma_w2"], n_test=40000, seed=2)
    # random-feature kernel: relative error ~ 1/sqrt(M) per entry; 4 standard errors of both estimates
    assert ref.f1 == pytest.approx(g1.mean, abs=4 * math.hypot(g1.error_of_mean, ref.mc_error[0]) + 0.01)
    assert ref.f3_over_eps == pytest.approx(g3.mean, abs=4 * math.hypot(g3.error_of_mean, ref.mc_error[1]) + 0.01)
    with pytest.raises(InvalidParameterError):
        V.finite_n_reference(p, data, n_features=10)


def test_short_runs_land_on_both_sides_of_transition():
    # beta = 1/8 (n = 375, d = 53, N = 88); d->inf onset sigma2_c = 0.179
    p = AK.cubic_params(0.125)
    above = V.run_cubic_posterior(dict(p, sigma2=0.3), datasets=1, chains=2, steps=800, burn=400, thin=10, seed=11)
    below = V.run_cubic_posterior(dict(p, sigma2=0.08), datasets=1, chains=2, steps=800, burn=400, thin=10, seed=11)
    assert above.f3_over_eps["all"].mean < 0.06            # GFL: cubic not learned (theory 0.03 at d = 53)
    assert below.f3_over_eps["all"].mean > 0.12            # mixed phase: learned (theory 0.23)
    assert below.droplet_fraction["all"].mean > 2 * above.droplet_fraction["all"].mean
    assert below.f1["all"].mean > above.f1["all"].mean + 0.2
    for r in (above, below):
        assert 0.3 < r.acceptance < 0.95
        assert r.f3_over_eps["all"].n_samples >= 2 and np.isfinite(r.f3_over_eps["all"].tau)


def test_invalid_sampler_config():
    with pytest.raises(InvalidParameterError):
        V.SamplerConfig(sigma2=0.0, N=3, sigma_a2=1.0, sigma_w2=1.0)
    with pytest.raises(InvalidParameterError):
        V.SamplerConfig(sigma2=0.1, N=3, sigma_a2=1.0, sigma_w2=1.0, dtype="float16")
    with pytest.raises(InvalidParameterError):
        V.run_cubic_posterior(AK.cubic_params(0.125), datasets=0)


def test_modular_check_passes(tmp_path):
    from phasekit.validation.adaptive_kernel import adaptive_kernel_checks as K
    r = K.check_ak_modular(str(tmp_path))
    assert r.passed and r.metrics["sigma2_I"] == pytest.approx(0.227, rel=0.1)


@pytest.mark.slow
def test_cubic_check_quick(tmp_path):
    from phasekit.validation.adaptive_kernel import adaptive_kernel_checks as K
    r = K.check_ak_cubic(str(tmp_path), quick=True)
    assert r.passed, r.summary


@pytest.mark.slow
def test_cubic_long_comparison_beta_eighth(tmp_path):
    from phasekit.validation.adaptive_kernel import adaptive_kernel_checks as K
    rows = K.cubic_comparison_table(0.125, (0.3, 0.1), datasets=4, chains=2, steps=6000, burn=2000, thin=20, seed=0)
    for r in rows:
        assert abs(r["f1_sim"] - r["f1_theory"]) <= 3 * r["f1_err"] + K.ALLOWANCE["f1"]
        assert abs(r["f3_sim"] - r["f3_theory"]) <= 3 * r["f3_err"] + K.ALLOWANCE["f3_over_eps"]
        assert abs(r["nngp_f3"]) < 0.05
