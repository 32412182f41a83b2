r"""Exhaustive enumeration of binary perceptrons: storage and teacher–student.

All :math:`2^N` weight vectors :math:`W \in \{\pm1\}^N` are checked against ±1 patterns with a
float32 matrix product (exact: the fields are odd integers of magnitude at most ``N``; ``N`` odd
means no field is ever zero). The solution indicator is a product over patterns, so one sweep gives
the number of solutions for **every prefix** :math:`P' = 0, \dots, P` of the pattern list (the
cumulative-product trick of spec ``replica.md`` §10): a weight vector counts for :math:`P'` when its
first violated pattern has index :math:`\ge P'`.

Conventions: :math:`\alpha = P/N`; entropies in nats per weight; a pattern row ``y^mu xi^mu`` with
the label absorbed; ``W`` solves the row when ``W·(y xi) > 0``.

Implementation notes (why it runs near matrix-product speed):

* Only the :math:`2^{N-1}` vectors with ``W_N = +1`` are multiplied: the fields of ``-W`` are the
  negated fields of ``W``, so exactly one of ``±W`` survives the first pattern, and it survives
  exactly the leading run of patterns on which the sign of the field stays that of the first one.
* The first block of 8 patterns is handled for all vectors with one matmul into an ``(n, 8)`` float32
  buffer; the 8 comparison bytes of a row are read as one little-endian ``uint64``, the end of the
  leading run comes from a few bit operations (``x ^ (x << 8)``, ``x & -x``), and the histogram of
  run lengths from one sum of those one-hot words in blocks of 255 rows (no carries between
  bytes). Only the ~``2^{N-8}`` survivors of the first 8 patterns go on, as an explicit matrix,
  through the remaining patterns.
* Weights are produced in chunks of ``2^16`` rows whose low 16 columns are a fixed table and whose
  high columns follow a Gray code (one column rewritten per chunk); the work buffers are reused per
  thread. Memory stays at a few tens of MB for ``N = 25`` (the full ``2^21 × 21`` float32 matrix
  alone would be 176 MB).
* ``benchmarks/replica/bench_enumeration.py`` compares the time with the same float32 products alone.

References
----------
E. Gardner, B. Derrida, J. Phys. A 21, 271 (1988); W. Krauth, M. Mézard, J. Phys. France 50,
3057 (1989); G. Györgyi, Phys. Rev. A 41, 7097 (1990).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import threading

import numpy as np

from .._common import check_float, check_int, check_seed, fail_parameter, readonly

__all__ = ["count_solutions", "VersionSpace", "version_space", "StorageEnumeration",
           "TeacherStudentEnumeration", "enumerate_storage", "enumerate_teacher_student",
           "N_MAX"]

#: Largest ``N`` accepted (``2^25`` vectors: about a second per pattern set on two cores).
N_MAX = 25

_FIRST_BLOCK = 8                 # patterns of the all-vector pass: 8 comparison bytes = one uint64
_LATER_BLOCK = 64                # patterns per block for the survivors
_LOW_BITS = 16                   # rows per weight chunk = 2**_LOW_BITS (6 MB float32 at N = 25)
_ONES = np.uint64(0x0101010101010101)
_NOT_BYTE0 = np.uint64(0xFFFFFFFFFFFFFF00)


# ----------------------------------------------------------------------------- input checks
def _check_pm1_rows(patterns, where, name="patterns"):
    x = np.asarray(patterns)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] == 0:
        fail_parameter(name, where, "a 2-D array of shape (P, N) with entries ±1", f"array of shape {x.shape}")
    if x.size and not np.all((x == 1) | (x == -1)):
        fail_parameter(name, where, "a 2-D array of shape (P, N) with entries ±1", "an array with other entries")
    n = x.shape[1]
    if n > N_MAX or n % 2 == 0:
        fail_parameter(name, where, f"an array with an odd number of columns N in [1, {N_MAX}]",
              f"an array of shape {x.shape}")
    return x.astype(np.float32)


# ----------------------------------------------------------------------------- the kernel
@functools.lru_cache(maxsize=4)
def _weight_table(n_low):
    """(2**n_low, n_low) float32 table, Fortran order: row i has W_j = 1 - 2*bit_j(i). Read-only."""
    idx = np.arange(2 ** n_low, dtype=np.int32)
    tab = np.empty((2 ** n_low, n_low), np.float32, order="F")
    for j in range(n_low):
        tab[:, j] = 1 - 2 * ((idx >> j) & 1)
    tab.setflags(write=False)
    return tab


def _popcount_low(n_low):
    idx = np.arange(2 ** n_low, dtype=np.int64)
    return ((idx[:, None] >> np.arange(max(n_low, 1))) & 1).sum(axis=1).astype(np.int64)


def _lowest_change(v, nb, buf, tmp):
    """Where the leading run of equal bytes of each little-endian uint64 of ``v`` ends.

    Byte j of ``v`` is 1 when pattern j has a positive field; only bytes < nb count. On return
    ``buf`` holds ``2**(8r)`` for a run of length ``r < nb`` and 0 for a complete run (``r = nb``).
    """
    np.left_shift(v, np.uint64(8), out=buf)
    np.bitwise_xor(buf, v, out=buf)                  # byte j (j>=1): v_j xor v_{j-1}
    mask = _NOT_BYTE0 if nb == 8 else np.uint64(((1 << (8 * nb)) - 1) & 0xFFFFFFFFFFFFFF00)
    np.bitwise_and(buf, mask, out=buf)
    np.negative(buf, out=tmp)
    np.bitwise_and(buf, tmp, out=buf)                # lowest set bit (x & -x), or 0
    return buf


def _run_histogram(lb):
    """Number of rows whose run ends at byte r, r = 0..7, from ``lb`` (values 2**(8r) or 0).

    The words are one-hot in their bytes, so summing at most 255 of them never carries from one
    byte into the next: one reduction over ``(m, 255)`` blocks and a byte view give the histogram,
    far cheaper than a popcount and a ``bincount``.
    """
    m = lb.size // 255 * 255
    parts = [lb[:m].reshape(-1, 255).sum(axis=1, dtype=np.uint64)] if m else []
    if m < lb.size:
        parts.append(lb[m:].sum(dtype=np.uint64, keepdims=True))
    words = np.concatenate(parts).astype("<u8")
    return words.view(np.uint8).reshape(-1, 8).sum(axis=0, dtype=np.int64)


def _bitcount(x):
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    out = np.zeros(x.shape, np.uint8)                # numpy < 2.0 fallback (slower)
    y = x.copy()
    for _ in range(64):
        out += (y & np.uint64(1)).astype(np.uint8)
        y >>= np.uint64(1)
    return out


_LOCAL = threading.local()


def _work_buffers(n, n_low):
    """Per-thread work buffers, reused between calls (fresh 10 MB arrays cost page faults).

    ``wbuf`` is the (2**n_low, n) Fortran-order weight chunk with the low table in its first
    ``n_low`` columns and +1 in the last; the caller refills the high columns.
    """
    key = (n, n_low)
    cached = getattr(_LOCAL, "buffers", None)
    if cached is None or cached[0] != key:
        n_rows = 2 ** n_low
        wbuf = np.empty((n_rows, n), np.float32, order="F")   # high columns contiguous: cheap refill
        wbuf[:, :n_low] = _weight_table(n_low)
        wbuf[:, n - 1] = 1.0
        cached = (key, (wbuf, np.empty((n_rows, _FIRST_BLOCK), np.float32),
                        np.empty((n_rows, _FIRST_BLOCK), np.bool_), np.empty(n_rows, np.uint64),
                        np.empty(n_rows, np.uint64)))
        _LOCAL.buffers = cached
    return cached[1]


def _enumerate(rows, overlaps, chunk_bits=_LOW_BITS):
    """Counts (and summed teacher overlaps Σ_W Σ_i W_i) of solutions for every prefix of ``rows``.

    ``rows`` is a float32 (P, N) array of ±1 with labels absorbed. The teacher, when ``overlaps`` is
    true, is the all-ones vector (callers gauge-transform to that frame).
    """
    p_total, n = rows.shape
    counts = np.zeros(p_total + 1, np.int64)
    osums = np.zeros(p_total + 1, np.int64)
    counts[0] = 2 ** n                               # sum of overlaps at P'=0 is 0 by symmetry
    if p_total == 0:
        return counts, osums
    n_free = n - 1                                   # column n-1 is fixed to +1 (the ±W symmetry)
    n_low = min(chunk_bits, n_free)
    n_hi = n_free - n_low
    n_rows = 2 ** n_low
    wbuf, fields, pos, buf, tmp = _work_buffers(n, n_low)
    v = pos.view("<u8").reshape(n_rows)
    ov_low = (n_low - 2 * _popcount_low(n_low)) if overlaps else None   # Σ_{j<n_low} W_j

    nb = min(_FIRST_BLOCK, p_total)
    xfirst = np.zeros((n, _FIRST_BLOCK), np.float32)
    xfirst[:, :nb] = rows[:nb].T
    hist = np.zeros(9, np.int64)                     # rows by run length r = 1..nb
    ohist = np.zeros(9, np.int64)
    surv_idx, surv_hi, surv_sign, surv_ov = [], [], [], []
    hi_bits = np.arange(n_hi)
    prev = 0
    for step in range(2 ** n_hi):
        hi = step ^ (step >> 1)                      # Gray code: one high column changes per chunk
        hvals = 1 - 2 * ((hi >> hi_bits) & 1)
        if step == 0 and n_hi:
            wbuf[:, n_low:n - 1] = hvals.astype(np.float32)
        elif n_hi:
            j = (hi ^ prev).bit_length() - 1
            wbuf[:, n_low + j] = hvals[j]
        prev = hi
        np.matmul(wbuf, xfirst, out=fields)
        np.greater(fields, 0.0, out=pos)
        lb = _lowest_change(v, nb, buf, tmp)
        h = _run_histogram(lb)
        hist[1:nb] += h[1:nb]
        hist[nb] += n_rows - int(h.sum())
        if overlaps or p_total > nb:
            full = np.flatnonzero(lb == 0)           # rows where one of ±W passes all nb patterns
            sign = np.where(pos[full, 0], 1, -1).astype(np.int8)
        if overlaps:
            ov_hi = int(hvals.sum()) + 1                                # high columns and W_n = +1
            ov = ov_low + ov_hi
            sgn_all = 2 * (v & np.uint64(1)).astype(np.int64) - 1      # which of ±W survives
            np.subtract(lb, np.uint64(1), out=lb)                      # 2**(8r) - 1, or all ones
            run = np.minimum(_bitcount(lb) >> 3, nb)                    # run length r
            ohist += np.rint(np.bincount(run, weights=sgn_all * ov, minlength=9)).astype(np.int64)
            surv_ov.append(ov[full] * sign)
        if p_total > nb and full.size:
            surv_idx.append(full)
            surv_hi.append(np.repeat(hvals[None, :].astype(np.float32), full.size, axis=0))
            surv_sign.append(sign)
    # a row whose run has length r gives one solution (W or -W) for each prefix 1..r
    for r in range(1, nb + 1):
        counts[1:r + 1] += hist[r]
        osums[1:r + 1] += ohist[r]
    if p_total == nb:
        return counts, osums

    w = np.ones((sum(a.size for a in surv_idx), n), np.float32)        # the survivors, explicitly
    if surv_idx:
        idx = np.concatenate(surv_idx)
        w[:, :n_low] = np.take(_weight_table(n_low), idx, axis=0)
        w[:, n_low:n - 1] = np.concatenate(surv_hi)
        w *= np.concatenate(surv_sign)[:, None]
    ov = np.concatenate(surv_ov) if overlaps and surv_ov else np.zeros(w.shape[0], np.int64)
    start = nb
    while start < p_total and w.shape[0]:
        stop = min(start + _LATER_BLOCK, p_total)
        b = stop - start
        fail = (w @ rows[start:stop].T) < 0
        anyf = fail.any(axis=1)
        first = np.where(anyf, fail.argmax(axis=1), b)               # patterns passed in this block
        h = np.bincount(first, minlength=b + 1)
        alive_through = np.cumsum(h[::-1])[::-1]                      # #rows with first >= j
        counts[start + 1:stop + 1] += alive_through[1:]
        if overlaps:
            oh = np.bincount(first, weights=ov, minlength=b + 1)
            osums[start + 1:stop + 1] += np.rint(np.cumsum(oh[::-1])[::-1][1:]).astype(np.int64)
        keep = ~anyf
        w, ov = w[keep], ov[keep]
        start = stop
    return counts, osums


# ----------------------------------------------------------------------------- public single-instance API
def count_solutions(patterns, labels=None):
    r"""Number of binary weight vectors that store every prefix of a pattern list.

    .. math:: \mathcal N(P') = \#\{W \in \{\pm1\}^N : y^\mu\, W\cdot\xi^\mu > 0,\ \mu < P'\},
              \quad P' = 0, \dots, P.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
        Entries ±1; ``N`` odd, ``1 <= N <= 25``.
    labels : array_like, shape (P,), optional
        ±1 labels, absorbed into the rows; ``None`` means all +1.

    Returns
    -------
    counts : ndarray of int64, shape (P + 1,)
        ``counts[0] == 2**N``; non-increasing.

    Examples
    --------
    >>> import numpy as np
    >>> count_solutions(np.ones((1, 5)))         # P = 1: half of the 2^5 vectors
    array([32, 16])
    """
    rows = _labelled_rows(patterns, labels, "count_solutions")
    return _enumerate(rows, overlaps=False)[0]


def _labelled_rows(patterns, labels, where):
    rows = _check_pm1_rows(patterns, where)
    if labels is not None:
        y = np.asarray(labels).reshape(-1)
        if y.shape[0] != rows.shape[0] or not np.all((y == 1) | (y == -1)):
            fail_parameter("labels", where, f"an array of {rows.shape[0]} entries ±1", labels)
        rows = rows * y[:, None].astype(np.float32)
    return np.ascontiguousarray(rows)


@dataclasses.dataclass(frozen=True)
class VersionSpace:
    """Version space of a binary teacher, for every prefix ``P' = 0..P`` of the patterns.

    Attributes
    ----------
    counts : ndarray of int64, shape (P + 1,)
        Number of ``W`` consistent with the first ``P'`` teacher labels (always ``>= 1``).
    overlap_sums : ndarray of int64, shape (P + 1,)
        :math:`\\sum_W W\\cdot T` over the version space (exact integers).
    n : int
        Number of weights ``N``.
    """

    counts: np.ndarray
    overlap_sums: np.ndarray
    n: int

    @property
    def mean_overlap(self) -> np.ndarray:
        """Mean teacher overlap ``R = <W·T>/N`` over the version space, per prefix."""
        return self.overlap_sums / (self.n * self.counts)


def version_space(patterns, teacher):
    r"""Count the version space of a binary teacher and its mean overlap, for every prefix.

    Labels are :math:`y^\mu = \mathrm{sign}(T\cdot\xi^\mu)`; the version space after ``P'``
    patterns is :math:`\{W : \mathrm{sign}(W\cdot\xi^\mu) = y^\mu,\ \mu < P'\}`.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
        Entries ±1, ``N`` odd ``<= 25``.
    teacher : array_like, shape (N,)
        Entries ±1.

    Returns
    -------
    VersionSpace

    Examples
    --------
    >>> import numpy as np
    >>> vs = version_space(np.ones((2, 3)), np.ones(3))
    >>> vs.counts.tolist(), vs.mean_overlap.tolist()
    ([8, 4, 4], [0.0, 0.5, 0.5])
    """
    x = _check_pm1_rows(patterns, "version_space")
    t = np.asarray(teacher).reshape(-1)
    if t.shape[0] != x.shape[1] or not np.all((t == 1) | (t == -1)):
        fail_parameter("teacher", "version_space", f"an array of {x.shape[1]} entries ±1", teacher)
    # gauge: W' = W*T, x' = x*T makes the teacher all-ones and W·T = sum(W')
    xg = x * t.astype(np.float32)[None, :]
    y = np.where(xg.sum(axis=1) > 0, np.float32(1), np.float32(-1))
    rows = np.ascontiguousarray(xg * y[:, None])
    counts, osums = _enumerate(rows, overlaps=True)
    return VersionSpace(readonly(counts), readonly(osums), x.shape[1])


def _sem(x):
    """Standard error of the mean over axis 0 ignoring NaN (NaN where fewer than 2 values)."""
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    m = _nanmean(x)
    dev = np.where(ok, x - m, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (dev ** 2).sum(axis=0) / (n - 1)
        return np.where(n > 1, np.sqrt(var / n), np.nan)


def _nanmean(x):
    x = np.asarray(x, float)
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(ok, x, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)


# ----------------------------------------------------------------------------- ensembles
@dataclasses.dataclass(frozen=True)
class StorageEnumeration:
    r"""Storage of random ±1 patterns with random labels by binary perceptrons, exact counts.

    Each array over ``alpha`` has length ``P_max + 1`` (``alpha[k] = k/N``). Instances are i.i.d.;
    errors are standard errors over instances.

    Attributes
    ----------
    n : int
        Number of weights ``N``.
    alpha : ndarray
        ``P'/N`` for ``P' = 0..P_max``.
    counts : ndarray of int64, shape (n_instances, P_max + 1)
        Number of solutions of each instance for each prefix.
    entropy, entropy_sem : ndarray
        :math:`\langle \ln \mathcal N\rangle/N` over the SAT instances (``N > 0``) and its standard
        error; NaN where no instance (or only one, for the error) is SAT.
    p_sat, p_sat_sem : ndarray
        Fraction of SAT instances and its binomial standard error.
    n_sat : ndarray of int64
        Number of SAT instances.
    n_instances : int
    seed : int
        Root of the ``SeedSequence`` the instances were spawned from.
    """

    n: int
    alpha: np.ndarray
    counts: np.ndarray
    entropy: np.ndarray
    entropy_sem: np.ndarray
    p_sat: np.ndarray
    p_sat_sem: np.ndarray
    n_sat: np.ndarray
    n_instances: int
    seed: int


@dataclasses.dataclass(frozen=True)
class TeacherStudentEnumeration:
    r"""Version space of a Rademacher binary teacher on ±1 patterns, exact counts.

    Attributes
    ----------
    n : int
    alpha : ndarray
        ``P'/N`` for ``P' = 0..P_max``.
    counts : ndarray of int64, shape (n_instances, P_max + 1)
        Version-space sizes (``>= 1``: the teacher is always in it).
    overlap : ndarray, shape (n_instances, P_max + 1)
        Mean teacher overlap ``R = <W·T>/N`` over each version space (the Gibbs student's ``R``).
    r_mean, r_sem : ndarray
        Instance average of ``overlap`` and its standard error.
    p_unique, p_unique_sem : ndarray
        Fraction of instances whose version space is the teacher alone, binomial error.
    n_instances : int
    seed : int
    """

    n: int
    alpha: np.ndarray
    counts: np.ndarray
    overlap: np.ndarray
    r_mean: np.ndarray
    r_sem: np.ndarray
    p_unique: np.ndarray
    p_unique_sem: np.ndarray
    n_instances: int
    seed: int


def _p_max(n, alpha_max):
    return int(math.floor(alpha_max * n + 1e-9))


def _instances(seed, n_instances):
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_instances)]


def _pm1(rng, shape):
    return (1 - 2 * rng.integers(0, 2, size=shape, dtype=np.int8)).astype(np.float32)


def enumerate_storage(n, alpha_max, n_instances, *, seed=0):
    r"""Exact solution counts of the binary perceptron storage problem over random instances.

    For each instance, ``P_max = floor(alpha_max * n)`` patterns :math:`\xi^\mu \in \{\pm1\}^N` and
    labels :math:`y^\mu = \pm1` (uniform) are drawn; one enumeration sweep gives the number of
    solutions :math:`\mathcal N(P')` for every ``P' <= P_max``. The quenched entropy estimate is

    .. math:: s_N(\alpha) = \langle \ln \mathcal N \rangle_{\rm SAT} / N,

    to be compared with the RS entropy :math:`s(\alpha)` of ``perceptron.binary_storage``
    (κ = 0), which it approaches as :math:`N\to\infty` for :math:`\alpha < \alpha_{KM}`.

    Parameters
    ----------
    n : int
        Odd, ``1 <= n <= 25``.
    alpha_max : float
        Largest load, ``>= 0``.
    n_instances : int
        Number of independent pattern sets, ``>= 1``.
    seed : int or None
        Root seed (``SeedSequence(seed).spawn(n_instances)``); ``None`` draws one and records it.

    Returns
    -------
    StorageEnumeration

    Examples
    --------
    >>> r = enumerate_storage(7, 1.0, 20, seed=1)
    >>> r.counts.shape, int(r.counts[0, 0]), float(r.p_sat[1])
    ((20, 8), 128, 1.0)
    """
    where = "enumerate_storage"
    n = check_int(n, "n", where, 1, N_MAX, odd=True)
    alpha_max = check_float(alpha_max, "alpha_max", where)
    n_instances = check_int(n_instances, "n_instances", where, 1)
    seed = check_seed(seed, where)
    p_max = _p_max(n, alpha_max)
    counts = np.empty((n_instances, p_max + 1), np.int64)
    for i, rng in enumerate(_instances(seed, n_instances)):
        rows = _pm1(rng, (p_max, n)) * _pm1(rng, (p_max, 1))      # labels absorbed
        counts[i] = _enumerate(np.ascontiguousarray(rows), overlaps=False)[0]
    sat = counts > 0
    with np.errstate(divide="ignore"):
        ent = np.where(sat, np.log(np.maximum(counts, 1)) / n, np.nan)
    n_sat = sat.sum(axis=0)
    p = n_sat / n_instances
    return StorageEnumeration(
        n=n, alpha=readonly(np.arange(p_max + 1) / n), counts=readonly(counts),
        entropy=readonly(_nanmean(ent)), entropy_sem=readonly(_sem(ent)),
        p_sat=readonly(p), p_sat_sem=readonly(np.sqrt(p * (1 - p) / n_instances)),
        n_sat=readonly(n_sat), n_instances=n_instances, seed=seed)


def enumerate_teacher_student(n, alpha_max, n_instances, *, seed=0):
    r"""Exact version spaces of a Rademacher binary teacher over random ±1 instances.

    Teacher :math:`T` uniform on :math:`\{\pm1\}^N`, patterns uniform ±1, labels
    :math:`y = \mathrm{sign}(T\cdot\xi)`. For each prefix ``P'``: the version-space size, the mean
    overlap :math:`R = \langle W\cdot T\rangle/N` of a uniformly drawn consistent student (Gibbs /
    Bayes posterior; Nishimori: equal to the student–student overlap ``q``), and whether the teacher
    is the only consistent vector.

    The ``R ≈ 1`` state carries weight of order :math:`e^{-N s(\alpha)}` at finite ``N``, so compare
    ``r_mean`` with the poorly-generalising RS branch at small α (≲ 0.6) only.

    Parameters
    ----------
    n : int
        Odd, ``1 <= n <= 25``.
    alpha_max : float
        Largest load, ``>= 0``.
    n_instances : int
        ``>= 1``.
    seed : int or None
        Root seed; ``None`` draws one and records it.

    Returns
    -------
    TeacherStudentEnumeration

    Examples
    --------
    >>> r = enumerate_teacher_student(7, 2.0, 10, seed=0)
    >>> bool(r.r_mean[0] == 0.0), bool(r.p_unique[-1] >= r.p_unique[0])
    (True, True)
    """
    where = "enumerate_teacher_student"
    n = check_int(n, "n", where, 1, N_MAX, odd=True)
    alpha_max = check_float(alpha_max, "alpha_max", where)
    n_instances = check_int(n_instances, "n_instances", where, 1)
    seed = check_seed(seed, where)
    p_max = _p_max(n, alpha_max)
    counts = np.empty((n_instances, p_max + 1), np.int64)
    osums = np.empty((n_instances, p_max + 1), np.int64)
    for i, rng in enumerate(_instances(seed, n_instances)):
        teacher = _pm1(rng, n)
        x = _pm1(rng, (p_max, n))
        # same gauge as version_space(): the teacher becomes all-ones
        xg = x * teacher[None, :]
        y = np.where(xg.sum(axis=1) > 0, np.float32(1), np.float32(-1))
        counts[i], osums[i] = _enumerate(np.ascontiguousarray(xg * y[:, None]), overlaps=True)
    overlap = osums / (n * counts)
    unique = counts == 1
    pu = unique.mean(axis=0)
    return TeacherStudentEnumeration(
        n=n, alpha=readonly(np.arange(p_max + 1) / n), counts=readonly(counts),
        overlap=readonly(overlap), r_mean=readonly(overlap.mean(axis=0)),
        r_sem=readonly(_sem(overlap)), p_unique=readonly(pu),
        p_unique_sem=readonly(np.sqrt(pu * (1 - pu) / n_instances)),
        n_instances=n_instances, seed=seed)
