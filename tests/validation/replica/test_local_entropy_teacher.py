"""Ising teacher–student overlap around a reference solution: enumeration against a brute-force count
written here, and the registered check (theory R(d) vs enumeration)."""

import numpy as np
import pytest

from phasekit import InvalidParameterError
from phasekit.validation.replica import local_entropy as V
from phasekit.validation.replica.local_entropy_checks import check_local_entropy_teacher


def _brute(n, alpha, n_instances, reference, seed):
    """Independent count: a plain loop over all 2^n weight vectors (vector x has W_j = -1 iff bit j of
    x is set, the enumeration's order, so the same random draw picks the same reference), the same
    instance generator (±1 patterns, teacher W* = +1, labels sign(W*.xi))."""
    p = int(round(alpha * n))
    out = []
    for rng in [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_instances)]:
        xi = (1 - 2 * rng.integers(0, 2, size=(p, n), dtype=np.int8)).astype(float)
        y = np.sign(xi.sum(axis=1))
        sols, margins = [], []
        for x in range(2 ** n):
            w = np.array([1 - 2 * ((x >> j) & 1) for j in range(n)], float)
            st = y * (xi @ w)
            if np.all(st > 0):
                sols.append(w)
                margins.append(st.min())
        sols, margins = np.array(sols), np.array(margins)
        if reference == "typical":
            ref = sols[rng.integers(len(sols))]
        else:
            best = np.flatnonzero(margins == margins.max())
            ref = sols[best[rng.integers(best.size)]]
        k = np.rint((n - sols @ ref) / 2).astype(int)
        R = sols.sum(axis=1) / n
        out.append([R[k == j].mean() if np.any(k == j) else np.nan for j in range(n + 1)])
    return np.array(out)


@pytest.mark.parametrize("reference", ["typical", "max_margin"])
def test_enumeration_matches_brute_force(reference):
    e = V.enumerate_teacher_overlap(7, 0.6, 12, reference=reference, seed=4)
    ref = _brute(7, 0.6, 12, reference, 4)
    assert np.array_equal(np.isnan(e.R), np.isnan(ref))
    assert np.allclose(e.R[np.isfinite(ref)], ref[np.isfinite(ref)], atol=1e-12)
    assert np.all(e.counts[:, 0] == 1)


def test_invalid_input():
    with pytest.raises(InvalidParameterError, match="'reference'"):
        V.enumerate_teacher_overlap(7, 0.5, 2, reference="best")
    with pytest.raises(InvalidParameterError, match="'n'"):
        V.enumerate_teacher_overlap(8, 0.5, 2)


def test_check_quick(tmp_path):
    res = check_local_entropy_teacher(str(tmp_path), quick=True, seed=0)
    assert res.passed, res.summary
    # theory at the exact point of the Bayes reference is perceptron.ising_teacher's R = 0.293089 (alpha = 0.5);
    # at d = 0.01 it has moved by less than 0.01
    assert res.metrics["R_bayes_d0.01"] == pytest.approx(0.293089, abs=0.01)
    # enumeration (N = 13, 150 instances) at the reference vs theory: finite-size allowance 0.05 + 2 s.e.
    assert res.metrics["enum_R_maxmargin_k0"] == pytest.approx(res.metrics["R_dense_d0.01"], abs=0.08)
