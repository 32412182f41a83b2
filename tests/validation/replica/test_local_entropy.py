"""Local-entropy enumeration, local energy, SBPI / BinaryConnect and the registered checks."""
import math

import numpy as np
import pytest

import phasekit as pk
from phasekit.theory.replica import local_entropy as _le  # noqa: F401  (registers the models)
from phasekit.validation.replica import local_entropy as vle
from phasekit.validation.replica import local_entropy_checks as chk
from phasekit.validation.replica.enumeration import count_solutions


def _brute(rows):
    n = rows.shape[1]
    idx = np.arange(1 << n)
    W = (1 - 2 * ((idx[:, None] >> np.arange(n)) & 1)).astype(np.float32)
    f = W @ rows.T
    return W, f.min(axis=1)


@pytest.mark.parametrize("n,p", [(5, 3), (9, 6), (17, 8)])
def test_solutions_match_brute_force(n, p):
    rng = np.random.default_rng(n)
    rows = vle._pm1(rng, (p, n)) * vle._pm1(rng, (p, 1))
    sol, marg = vle._solutions(rows)
    W, m = _brute(rows)
    np.testing.assert_array_equal(np.sort(sol), np.flatnonzero(m > 0))
    order = np.argsort(sol)
    np.testing.assert_array_equal(marg[order], m[m > 0].astype(np.int64))


def test_local_entropy_counts_partition_the_solutions():
    r = vle.enumerate_local_entropy(11, 0.6, 12, reference="typical", seed=3)
    assert r.n_sat >= 1
    np.testing.assert_array_equal(r.counts[:, 0], 1)          # the reference itself
    for i in range(r.n_sat):
        total = count_solutions(r.rows[i])[-1]
        assert r.counts[i].sum() == total
        assert np.all(r.rows[i] @ r.references[i] > 0)


def test_max_margin_reference_has_the_largest_margin():
    t = vle.enumerate_local_entropy(11, 0.5, 10, reference="typical", seed=1)
    m = vle.enumerate_local_entropy(11, 0.5, 10, reference="max_margin", seed=1)
    assert np.all(m.margins >= t.margins - 1e-12)
    for i in range(m.n_sat):
        _, mm = _brute(m.rows[i])
        assert m.margins[i] == pytest.approx(float(mm.max()) / math.sqrt(11), abs=1e-12)


def test_local_energy_is_zero_without_flips_and_half_for_all_flips():
    r = vle.enumerate_local_entropy(9, 0.5, 4, seed=2)
    e = vle.local_energy(r.references, r.rows, [0.0, 1.0], n_samples=3, rng=0)
    assert e[0] == 0.0 and e[1] == 1.0          # flipping every weight negates every field


def test_sbpi_and_binaryconnect_return_solutions():
    rng = np.random.default_rng(0)
    rows = vle._instances(101, 40, 6, rng)
    for alg in (vle.sbpi, vle.binaryconnect):
        r = alg(rows, rng=1)
        assert r.solved.mean() >= 0.8
        f = np.einsum("bpn,bn->bp", rows, r.weights.astype(np.float32))
        np.testing.assert_array_equal(np.all(f > 0, axis=1), r.solved)


def test_success_curve_binomial_errors_and_pooled_sbpi():
    a = [0.3, 0.9]
    c1 = vle.success_curve("sbpi", 51, a, 8, seed=4, max_sweeps=30)
    c2 = vle.success_curve("sbpi", 51, a, 8, seed=4, max_sweeps=30, workers=2)
    for c in (c1, c2):
        for s in c.success:
            assert s.error_of_mean == pytest.approx(math.sqrt(s.mean * (1 - s.mean) / 8), abs=1e-15)
        assert c.p[0] == 1.0 and c.p[1] < 0.5     # alpha = 0.9 > alpha_KM (finite N = 51: rare successes)
        assert 0.3 < c.threshold < 0.9
    b1 = vle.success_curve("binaryconnect", 51, [0.3], 4, seed=4, max_epochs=50)
    b2 = vle.success_curve("binaryconnect", 51, [0.3], 4, seed=4, max_epochs=50, workers=2)
    np.testing.assert_array_equal(b1.p, b2.p)       # same instances and streams per alpha


def test_sbpi_padded_batch_respects_pattern_counts():
    rng = np.random.default_rng(5)
    rows = vle._instances(51, 40, 4, rng).astype(np.int8)
    npat = np.array([10, 20, 30, 40])
    r = vle.sbpi(rows, n_patterns=npat, rng=0, max_sweeps=100)
    assert r.solved.all()
    for b in range(4):
        f = rows[b, :npat[b]].astype(np.float32) @ r.weights[b].astype(np.float32)
        assert np.all(f > 0)


def test_random_feature_sat_is_monotone():
    r = vle.random_feature_sat(11, 11, 2.0, 20, seed=0)
    assert r.p[0] == 1.0
    assert np.all(np.diff(r.p) <= 0)


def test_invalid_inputs():
    with pytest.raises(pk.InvalidParameterError, match="'n' parameter of enumerate_local_entropy"):
        vle.enumerate_local_entropy(22, 0.5, 2)
    with pytest.raises(pk.InvalidParameterError, match="'reference' parameter"):
        vle.enumerate_local_entropy(9, 0.5, 2, reference="median")
    with pytest.raises(pk.InvalidParameterError, match="'algorithm' parameter"):
        vle.success_curve("bp", 51, [0.5], 2)


def test_quick_checks_pass(tmp_path):
    r = chk.check_local_entropy(str(tmp_path / "le"), quick=True)
    assert r.passed, r.summary
    assert all(p.endswith(".png") for p in r.figures)
    g = chk.check_algorithmic_gap(str(tmp_path / "gap"), quick=True)
    assert g.passed, g.summary
    assert g.metrics["sbpi_threshold"] < chk.ALPHA_KM


def test_checks_are_registered():
    assert "local_entropy" in pk.list_checks() and "algorithmic_gap" in pk.list_checks()
    assert "perceptron.local_entropy" in pk.list_models()
