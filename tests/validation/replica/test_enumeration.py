"""Exhaustive enumeration: exact counts against an independent itertools brute force and closed forms."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from phasekit import InvalidParameterError
from phasekit.validation.replica import enumeration as E
from phasekit.validation.replica.enumeration import (count_solutions, enumerate_storage, enumerate_teacher_student,
                                                     version_space)

SEEDS = [0, 1, 7, 42, 99]


def brute_counts(x, y):
    """Independent reference: all 2^N vectors as a Python product, prefix counts by direct checks."""
    n = x.shape[1]
    w = np.array(list(itertools.product((-1, 1), repeat=n)), dtype=np.int64)
    alive = np.ones(len(w), bool)
    counts = [len(w)]
    for mu in range(x.shape[0]):
        alive &= y[mu] * (w @ x[mu]) > 0
        counts.append(int(alive.sum()))
    return np.array(counts)


def brute_version_space(x, t):
    n = x.shape[1]
    w = np.array(list(itertools.product((-1, 1), repeat=n)), dtype=np.int64)
    y = np.sign(x @ t)
    alive = np.ones(len(w), bool)
    counts, osums = [len(w)], [int((w @ t).sum())]
    for mu in range(x.shape[0]):
        alive &= np.sign(w @ x[mu]) == y[mu]
        counts.append(int(alive.sum()))
        osums.append(int((w[alive] @ t).sum()))
    return np.array(counts), np.array(osums)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 3, 5, 7, 9, 11])
@pytest.mark.parametrize("p", [0, 1, 5, 8, 9, 30, 75])
def test_storage_counts_match_brute_force(n, p, seed):
    rng = np.random.default_rng([seed, n, p])
    x = rng.choice([-1, 1], size=(p, n))
    y = rng.choice([-1, 1], size=p)
    np.testing.assert_array_equal(count_solutions(x.reshape(p, n), y), brute_counts(x, y))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 3, 5, 9, 11])
@pytest.mark.parametrize("p", [1, 7, 8, 20, 140])
def test_version_space_matches_brute_force(n, p, seed):
    rng = np.random.default_rng([seed, n, p, 1])
    x = rng.choice([-1, 1], size=(p, n))
    t = rng.choice([-1, 1], size=n)
    vs = version_space(x, t)
    c, o = brute_version_space(x, t)
    np.testing.assert_array_equal(vs.counts, c)
    np.testing.assert_array_equal(vs.overlap_sums, o)
    assert np.all(vs.counts >= 1)                        # the teacher is always consistent
    np.testing.assert_allclose(vs.mean_overlap[vs.counts == 1], 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("chunk_bits", [0, 1, 3, 6])
@pytest.mark.parametrize("overlaps", [False, True])
def test_weight_chunking_does_not_change_counts(chunk_bits, overlaps):
    # default chunks hold 2^16 rows, so N <= 17 never reaches the high-column loop: force it here
    rng = np.random.default_rng(3)
    for n in (3, 9, 13):
        rows = rng.choice([-1, 1], size=(40, n)).astype(np.float32)
        if overlaps:                                     # teacher = all ones, labels from it
            rows = rows * np.sign(rows.sum(axis=1))[:, None]
        ref = E._enumerate(np.ascontiguousarray(rows), overlaps)
        got = E._enumerate(np.ascontiguousarray(rows), overlaps, chunk_bits=chunk_bits)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    x = rng.choice([-1, 1], size=(25, 9))
    y = rng.choice([-1, 1], size=25)
    got = E._enumerate(np.ascontiguousarray((x * y[:, None]).astype(np.float32)), False, chunk_bits=chunk_bits)[0]
    np.testing.assert_array_equal(got, brute_counts(x, y))


@pytest.mark.parametrize("n", [1, 3, 5, 11, 15, 19, 21])
def test_closed_forms_p0_p1(n):
    rng = np.random.default_rng(n)
    x = rng.choice([-1, 1], size=(1, n))
    c = count_solutions(x, [rng.choice([-1, 1])])
    assert c[0] == 2 ** n                                # P = 0: every vector
    assert c[1] == 2 ** (n - 1)                          # P = 1, N odd: exactly one of ±W


def test_closed_form_identical_patterns():
    # P copies of one pattern with the same label: still exactly half the vectors
    x = np.ones((12, 7))
    np.testing.assert_array_equal(count_solutions(x), [128] + [64] * 12)
    # a pattern and its negative with the same label: no solution
    np.testing.assert_array_equal(count_solutions([[1, -1, 1], [-1, 1, -1]]), [8, 4, 0])


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_symmetries(seed):
    rng = np.random.default_rng(seed)
    x = rng.choice([-1, 1], size=(15, 11))
    y = rng.choice([-1, 1], size=15)
    c = count_solutions(x, y)
    np.testing.assert_array_equal(count_solutions(x, -y), c)              # W -> -W
    np.testing.assert_array_equal(count_solutions(x[:, rng.permutation(11)], y), c)   # relabel weights
    flips = rng.choice([-1, 1], size=11)
    np.testing.assert_array_equal(count_solutions(x * flips, y), c)       # gauge W_i -> s_i W_i
    assert np.all(np.diff(c) <= 0)


def test_storage_ensemble_fields():
    r = enumerate_storage(9, 1.0, 30, seed=5)
    assert r.counts.shape == (30, 10) and r.alpha.shape == (10,)
    np.testing.assert_allclose(r.alpha, np.arange(10) / 9, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.entropy[0], math.log(2), rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.p_sat[:2], 1.0, rtol=0, atol=0)
    assert np.all(np.diff(r.p_sat) <= 0)
    assert r.seed == 5 and r.n_instances == 30
    sat = r.counts[:, 5] > 0
    np.testing.assert_allclose(r.entropy[5], np.mean(np.log(r.counts[sat, 5])) / 9, rtol=1e-12, atol=0)
    np.testing.assert_allclose(r.entropy_sem[5], np.std(np.log(r.counts[sat, 5]) / 9, ddof=1) / np.sqrt(sat.sum()),
                               rtol=1e-12, atol=0)
    with pytest.raises(Exception):
        r.counts[0, 0] = 1                               # results are read-only
    with pytest.raises(Exception):
        r.n = 3                                          # frozen


def test_ensembles_reproducible_and_seed_recorded():
    a = enumerate_storage(7, 1.0, 10, seed=11)
    b = enumerate_storage(7, 1.0, 10, seed=11)
    np.testing.assert_array_equal(a.counts, b.counts)
    c = enumerate_storage(7, 1.0, 10, seed=None)
    assert isinstance(c.seed, int)
    np.testing.assert_array_equal(enumerate_storage(7, 1.0, 10, seed=c.seed).counts, c.counts)
    t = enumerate_teacher_student(7, 2.0, 10, seed=3)
    np.testing.assert_array_equal(t.counts, enumerate_teacher_student(7, 2.0, 10, seed=3).counts)


def test_teacher_student_ensemble():
    r = enumerate_teacher_student(9, 3.0, 40, seed=2)
    assert np.all(r.counts >= 1)
    np.testing.assert_allclose(r.r_mean[0], 0.0, rtol=0, atol=1e-15)
    assert np.all(np.diff(r.p_unique) >= 0)                  # counts only shrink with more patterns
    np.testing.assert_allclose(r.overlap[r.counts == 1], 1.0, rtol=0, atol=1e-15)
    assert r.r_mean[-1] > r.r_mean[5] > 0


def test_teacher_student_one_pattern_average():
    # E_{T, x} of the version-space mean overlap after one pattern, exact over all 8 x 8 (T, x) at N = 3
    n = 3
    tot, cnt = 0.0, 0
    for t in itertools.product((-1, 1), repeat=n):
        for x in itertools.product((-1, 1), repeat=n):
            c, o = brute_version_space(np.array([x]), np.array(t))
            tot += o[1] / (n * c[1])
            cnt += 1
    exact = tot / cnt
    np.testing.assert_allclose(exact, 0.25, rtol=0, atol=1e-15)
    r = enumerate_teacher_student(3, 1 / 3, 2000, seed=0)
    o = r.overlap[:, 1]                                  # x.T = ±3 or ±1: two gauge classes
    assert np.all(np.isclose(o, 0.5, rtol=0, atol=1e-12) | np.isclose(o, 1 / 6, rtol=0, atol=1e-12))
    assert abs(r.r_mean[1] - exact) <= 4 * r.r_sem[1]


@pytest.mark.parametrize("bad", [0, 2, 4, 26, 27, -1, 3.0, True, "5", None])
def test_bad_n(bad):
    with pytest.raises(InvalidParameterError, match=r"The 'n' parameter of enumerate_storage must be an odd int"):
        enumerate_storage(bad, 0.5, 2)
    with pytest.raises(InvalidParameterError, match=r"The 'n' parameter of enumerate_teacher_student"):
        enumerate_teacher_student(bad, 0.5, 2)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "x", None, True])
def test_bad_alpha(bad):
    with pytest.raises(InvalidParameterError, match=r"The 'alpha_max' parameter of enumerate_storage must be a "
                                                    r"float in the range \[0, inf\)\. Got"):
        enumerate_storage(5, bad, 2)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_instances(bad):
    with pytest.raises(InvalidParameterError, match="The 'n_instances' parameter of enumerate_storage"):
        enumerate_storage(5, 0.5, bad)


@pytest.mark.parametrize("bad", [-1, 2.5, True, "x"])
def test_bad_seed(bad):
    with pytest.raises(InvalidParameterError, match="The 'seed' parameter of enumerate_teacher_student"):
        enumerate_teacher_student(5, 0.5, 2, seed=bad)


def test_bad_patterns():
    with pytest.raises(InvalidParameterError, match="patterns"):
        count_solutions(np.ones((3, 4)))                 # even N
    with pytest.raises(InvalidParameterError, match="patterns"):
        count_solutions(np.ones((3, 27)))                # N too large
    with pytest.raises(InvalidParameterError, match="patterns"):
        count_solutions([[1, 0, 1]])                     # not ±1
    with pytest.raises(InvalidParameterError, match="labels"):
        count_solutions(np.ones((2, 3)), [1, 0])
    with pytest.raises(InvalidParameterError, match="labels"):
        count_solutions(np.ones((2, 3)), [1, 1, 1])
    with pytest.raises(InvalidParameterError, match="teacher"):
        version_space(np.ones((2, 3)), [1, 1])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-10, max_value=60).filter(lambda v: not (1 <= v <= 25 and v % 2 == 1)))
def test_property_invalid_n_always_rejected(n):
    with pytest.raises(InvalidParameterError):
        enumerate_storage(n, 0.3, 1)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=12).map(lambda k: 2 * k + 1), st.floats(min_value=0, max_value=3))
def test_property_valid_inputs_shapes(n, alpha):
    if n > 13:
        n = 13
    r = enumerate_storage(n, alpha, 2, seed=0)
    assert r.counts.shape == (2, int(math.floor(alpha * n + 1e-9)) + 1)
    assert np.all(r.counts[:, 0] == 2 ** n)


@pytest.mark.slow
def test_n25_closed_forms():
    c = count_solutions(np.ones((1, 25)))
    assert c.tolist() == [2 ** 25, 2 ** 24]
