"""The self-organized LUT network (a reconstruction of Barland & Gil 2024, spec §3) and its checks.

Statistical tests use ``PHASEKIT_TEST_SEED`` (default 0) so that they can be rerun with any seed;
their tolerances are the spec's (T-A2, T-A3, T-A4, T-A7) or 3 binomial standard errors.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasekit import InvalidParameterError
from phasekit.theory.lut import lut as th
from phasekit.validation.lut import lut_network as ln

SEED = int(os.environ.get("PHASEKIT_TEST_SEED", "0"))


# ---------------------------------------------------------------------------------------------
# T-A1: training error exactly zero after every operation (property test)
# ---------------------------------------------------------------------------------------------
@st.composite
def datasets(draw):
    n = draw(st.integers(1, 7))
    P = draw(st.integers(1, min(2**n, 40)))
    codes = draw(st.lists(st.integers(0, 2**n - 1), min_size=P, max_size=P, unique=True))
    labels = draw(st.lists(st.integers(0, 1), min_size=P, max_size=P))
    X = ((np.array(codes)[:, None] >> np.arange(n)) & 1).astype(np.uint8)
    y = np.array(labels, dtype=np.int8)
    # duplicates with consistent labels are allowed
    dup = draw(st.integers(0, 3))
    if dup:
        k = draw(st.lists(st.integers(0, P - 1), min_size=dup, max_size=dup))
        X, y = np.concatenate([X, X[k]]), np.concatenate([y, y[k]])
    return X, y


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets(), min_support=st.integers(0, 2), score=st.sampled_from(["support", "mdl"]),
       seed=st.integers(0, 2**31))
def test_training_error_is_zero_after_every_operation(data, min_support, score, seed):
    X, y = data
    seen = []

    def cb(net, op):
        np.testing.assert_array_equal(net.predict(X), y)
        assert op.m_after == net.n_top
        assert op.step == len(seen)
        seen.append(op)

    net = ln.LUTNetwork(min_support=min_support, score=score, rng=seed).fit(X, y, callback=cb)
    np.testing.assert_array_equal(net.predict(X), y)
    assert len(net.ops_log) == len(seen)
    n_splits = sum(op.kind == "split" for op in seen)
    assert net.n_hidden <= n_splits
    dropped_nodes = sum(op.kind == "drop" and op.inputs[0] >= X.shape[1] for op in seen)
    if dropped_nodes == 0:
        assert net.n_hidden == n_splits
    n_distinct = np.unique(X, axis=0).shape[0]
    assert net.description_length() <= n_distinct + 4 * net.n_hidden
    for op in seen:  # every merge witnessed min_support times per merged row pair
        assert op.support >= min_support * (3 if op.partition.startswith("and") else
                                             2 if op.partition == "xor" else 1)


def test_contradictory_training_data_is_rejected():
    X = np.array([[0, 1], [0, 1]])
    with pytest.raises(InvalidParameterError, match="two labels"):
        ln.LUTNetwork().fit(X, [0, 1])


@pytest.mark.parametrize("kw", [dict(min_support=-1), dict(score="entropy"), dict(max_ops=1.5)])
def test_invalid_hyperparameters(kw):
    with pytest.raises(InvalidParameterError, match=r"The '\w+' parameter of LUTNetwork must be"):
        ln.LUTNetwork(**kw)


def test_invalid_inputs_and_unfitted():
    with pytest.raises(InvalidParameterError):
        ln.LUTNetwork().fit(np.array([[0, 2]]), [0])
    with pytest.raises(InvalidParameterError):
        ln.LUTNetwork().fit(np.array([0, 1]), [0, 1])
    with pytest.raises(InvalidParameterError, match="not fitted"):
        ln.LUTNetwork().predict(np.zeros((1, 3)))
    net = ln.LUTNetwork().fit(np.eye(3, dtype=int), [0, 1, 1])
    with pytest.raises(InvalidParameterError):
        net.predict(np.zeros((2, 4), dtype=int))


# ---------------------------------------------------------------------------------------------
# structure on parity
# ---------------------------------------------------------------------------------------------
def test_full_parity_run_is_an_xor_tree_with_exact_description_length():
    n, P = 10, 80
    A = ln.all_inputs(n)
    f = ln.parity(n)
    rng = np.random.default_rng(SEED)
    idx = rng.choice(2**n, P, replace=False)
    net = ln.LUTNetwork(rng=rng).fit(A[idx], f(A[idx]))
    assert all(op.partition == "xor" and op.kind == "split" for op in net.ops_log)
    assert all(tab in ((0, 1, 1, 0),) for _, _, _, tab in net.hidden_nodes)
    if net.n_top == 1:  # completed: the single top variable is the full parity
        np.testing.assert_array_equal(net.predict(A), f(A))
        assert net.n_hidden == n - 1
        assert net.description_length() == th.description_length_structured(n) == 4 * (n - 1) + 2
        assert net.full_table_length() == 4 * (n - 1) + 2


def test_description_length_is_P_without_operations():
    n, P = 12, 10
    A = ln.all_inputs(n)
    idx = np.random.default_rng(SEED).choice(2**n, P, replace=False)
    net = ln.LUTNetwork(min_support=10**6).fit(A[idx], ln.parity(n)(A[idx]))
    assert net.ops_log == [] and net.n_hidden == 0
    assert net.description_length() == th.description_length_memorized(P) == P


def test_parity_never_accepts_a_wrong_merge_in_a_scan():
    scan = ln.transition_scan([8, 10], ratios=(0.5, 1.0, 2.0), n_seeds=20, seed=SEED, workers=1,
                              progress=False)
    assert all(p.all_xor for p in scan.points)


def test_refit_table_keeps_a_frozen_parity_structure():
    n = 8
    A, f = ln.all_inputs(n), ln.parity(n)
    net = ln.LUTNetwork(rng=SEED).fit(A, f(A))  # all inputs: completes for sure
    assert net.n_top == 1
    sub = np.array([0, 1])  # parities 0 and 1
    net.refit_table(A[sub], f(A[sub]))
    np.testing.assert_array_equal(net.predict(A), f(A))
    net.refit_table(A[[0, 3]], f(A[[0, 3]]))  # both even: the odd class is unseen -> majority
    assert np.mean(net.predict(A) == f(A)) == 0.5
    assert net.table_conflicts_ == 0


def test_unseen_patterns_get_majority_label_and_seen_mask():
    X = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0]])
    net = ln.LUTNetwork(max_ops=0).fit(X, [1, 1, 0])
    assert net.predict(np.array([[0, 1, 0]]))[0] == 1
    np.testing.assert_array_equal(net.seen_mask(np.array([[0, 0, 0], [0, 1, 0]])), [True, False])


# ---------------------------------------------------------------------------------------------
# targets and one run
# ---------------------------------------------------------------------------------------------
def test_all_inputs_and_targets():
    A = ln.all_inputs(3)
    assert A.shape == (8, 3) and A[5].tolist() == [1, 0, 1]
    np.testing.assert_array_equal(ln.parity(3)(A), A.sum(1) % 2)
    np.testing.assert_array_equal(ln.parity(3, S=[0, 2])(A), (A[:, 0] + A[:, 2]) % 2)
    t1 = ln.random_read_once(6, 8, rng=3)
    t2 = ln.random_read_once(6, 8, rng=3)
    assert t1 == t2 and len(t1.variables) == 6
    y = t1(ln.all_inputs(8))
    # read-once: the output depends on every chosen variable, on no other
    A8 = ln.all_inputs(8)
    for j in range(8):
        flipped = A8.copy()
        flipped[:, j] ^= 1
        assert np.any(t1(flipped) != y) == (j in t1.variables)
    xor_only = ln.random_read_once(5, 5, gates=("xor",), rng=1)
    np.testing.assert_array_equal(xor_only(ln.all_inputs(5)), ln.parity(5)(ln.all_inputs(5)))


def test_simulate_fit_exact_test_set_and_determinism():
    r1 = ln.simulate_fit(12, 60, seed=SEED, trial=3)
    r2 = ln.simulate_fit(12, 60, seed=SEED, trial=3)
    assert r1 == r2
    assert r1.exact and r1.n_test == 2**12 - 60
    assert r1.accuracy in (1.0,) or r1.accuracy < 0.999
    big = ln.simulate_fit(20, 300, seed=SEED, n_test=4000)
    assert not big.exact and 3900 < big.n_test <= 4000


def test_scan_is_independent_of_the_number_of_workers():
    a = ln.transition_scan([9], Ps=[20, 30], n_seeds=6, seed=SEED, workers=1, progress=False)
    b = ln.transition_scan([9], Ps=[20, 30], n_seeds=6, seed=SEED, workers=2, progress=False)
    assert [p.accuracies for p in a.points] == [p.accuracies for p in b.points]
    row = a.rows()[0]
    for key in ("acc_mean", "p_perfect", "mid_fraction", "bimodality", "binder", "p_success_theory"):
        assert key in row


def test_order_parameter_statistics():
    two = np.array([0.5] * 30 + [1.0] * 70)
    np.testing.assert_allclose(ln.bimodality_coefficient(two), 1.0, rtol=1e-12, atol=0)
    u = np.linspace(0, 1, 100001)
    np.testing.assert_allclose(ln.bimodality_coefficient(u), 5 / 9, rtol=1e-3, atol=0)
    assert math.isnan(ln.bimodality_coefficient(np.ones(5)))
    M = 2 * two - 1
    np.testing.assert_allclose(ln.binder_ratio(M), th.binder_two_state(0.7), rtol=1e-12, atol=0)
    assert ln.mid_fraction([0.5, 0.7, 0.9995, 1.0]) == 0.25


# ---------------------------------------------------------------------------------------------
# the spec's statistical checks
# ---------------------------------------------------------------------------------------------
def test_T_A2_nucleation_theory_at_n14():
    ratios = (0.75, 1.0, 1.25, 1.5)
    scan = ln.transition_scan([14], ratios=ratios, n_seeds=60, seed=SEED, progress=False)
    for r, p in zip(ratios, scan.points):
        assert p.P == round(r * th.p_critical(14))
        if r >= 1.0:
            assert abs(p.p_perfect.mean - th.p_success(14, p.P)) <= 0.15, (r, p.p_perfect)
        else:
            assert p.p_perfect.mean <= 0.35
        assert p.all_xor


def test_T_A3_exact_bimodality_at_n12():
    scan = ln.transition_scan([12], ratios=(1.0,), n_seeds=60, seed=SEED, progress=False)
    p = scan.points[0]
    acc = np.array(p.accuracies)
    assert p.P == round(th.p_critical(12))
    assert p.mid_fraction <= 0.10
    assert np.mean(acc >= 0.999) >= 0.20
    assert np.mean(acc <= 0.6) >= 0.20
    assert p.bimodality > 5 / 9


@pytest.mark.parametrize("P", [12, 14, 16])
def test_T_A4_gf2_full_rank_vs_simulation(P):
    sim = ln.simulate_gf2_learner(12, P, n_trials=4000, seed=SEED)
    exact = th.p_full_rank(12, P)
    assert abs(sim.full_rank.mean - exact) <= 0.03
    sd = math.sqrt(exact * (1 - exact) / 4000)
    assert abs(sim.full_rank.mean - exact) <= 4 * sd
    # exact bimodality: each trial's accuracy (all 2^12 inputs) is exactly 1/2 or 1
    assert set(sim.accuracy_values) <= {0.5, 1.0}
    assert abs(sim.error.mean - th.gf2_mean_error(12, P)) <= 4 * sim.error.error_of_mean + 1e-3
    counts = np.array(sim.rank_counts) / 4000
    law = th.rank_distribution(12, P)
    np.testing.assert_allclose(counts, law, atol=0.03, rtol=0)


def test_gf2_rank():
    assert ln.gf2_rank(np.eye(5, dtype=int)) == 5
    assert ln.gf2_rank(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]])) == 2
    assert ln.gf2_rank(np.zeros((3, 4), dtype=int)) == 0


def test_T_A7_hysteresis_loop():
    n = 12
    P_half = round(0.5 * th.p_critical(n))
    res = ln.hysteresis(n, up_ratio=1.5, P_down=(P_half, 3), n_seeds=60, seed=SEED, progress=False)
    assert res.up_success.mean >= 0.8
    N = res.frozen_success[0].n_samples
    for k, P in enumerate(res.P_down):
        fz = res.frozen_success[k].mean
        pth = th.p_frozen_success(P)
        assert abs(fz - pth) <= 3 * math.sqrt(pth * (1 - pth) / N) + 0.05, (P, fz, pth)
    fresh, pth = res.fresh_success[0].mean, th.p_success(n, P_half)
    assert abs(fresh - pth) <= 3 * math.sqrt(pth * (1 - pth) / N), (fresh, pth)
    # the loop: frozen structure perfect where a fresh fit fails
    assert res.frozen_success[0].mean == 1.0 and fresh <= 0.15


def test_topological_time_follows_measured_coverage():
    n, P = 14, round(1.5 * th.p_critical(14))
    res = ln.topological_trajectory(n, P, n_runs=8, seed=SEED, progress=False)
    assert res.n_successful >= 5
    for row in res.rows():
        assert abs(row["acc"] - (0.5 + 0.5 * row["coverage"])) <= 0.03
        assert abs(row["acc"] - row["acc_theory"]) <= 0.1
    assert res.accuracy[-1].mean == 1.0 and res.accuracy[0].mean < 0.52


# ---------------------------------------------------------------------------------------------
# performance (issue: n = 16, P = 200 in <= 2 s)
# ---------------------------------------------------------------------------------------------
def test_fit_n16_P200_within_two_seconds():
    A = ln.all_inputs(16)
    idx = np.random.default_rng(SEED).choice(2**16, 200, replace=False)
    y = ln.parity(16)(A[idx])
    t = time.perf_counter()
    net = ln.LUTNetwork(rng=SEED).fit(A[idx], y)
    acc = np.mean(net.predict(A) == ln.parity(16)(A))
    assert time.perf_counter() - t <= 2.0
    assert acc >= 0.5 - 0.01


# ---------------------------------------------------------------------------------------------
# the registered checks (quick mode)
# ---------------------------------------------------------------------------------------------
def test_checks_are_registered():
    from phasekit._registry import CHECKS
    from phasekit.validation.lut import lut_checks  # noqa: F401  (registers)
    for name in ("lut.parity_transition", "lut.bimodality", "lut.collapse", "lut.description_length",
                 "lut.hysteresis", "lut.dynamics", "lut.gf2", "lut.read_once"):
        assert name in CHECKS


def test_check_gf2_quick(tmp_path):
    from phasekit.validation.lut import lut_checks
    res = lut_checks.check_gf2(str(tmp_path), quick=True, seed=SEED)
    assert res.passed, res.summary
    assert all(os.path.isfile(p) for p in res.figures + res.tables)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["parity_transition", "bimodality", "collapse", "description_length",
                                  "hysteresis", "dynamics", "read_once"])
def test_checks_quick_mode(tmp_path, name):
    from phasekit.validation.lut import lut_checks
    t = time.perf_counter()
    res = getattr(lut_checks, f"check_{name}")(str(tmp_path), quick=True, seed=SEED)
    assert res.passed, res.summary
    assert all(os.path.isfile(p) for p in res.figures + res.tables)
    assert time.perf_counter() - t < 60


def test_vectorised_candidates_match_plain_python_reference():
    """The batched decomposition-chart statistics choose among exactly the operations that a
    plain-Python implementation of the spec's rules finds valid, at every step of a fit."""
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks", "lut", "bench_lut.py")
    assert os.path.isfile(path), "benchmarks/lut/bench_lut.py (the plain-Python reference) is part of the repo"
    spec = importlib.util.spec_from_file_location("_bench_lut", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for n, P, s in ((5, 12, SEED), (6, 20, SEED + 1), (7, 30, SEED + 2), (8, 40, SEED + 3)):
        assert mod._same_candidates(n, P, s)
