r"""Simulations for the local entropy and the algorithmic gap of the binary perceptron.

* :func:`enumerate_local_entropy` — exhaustive enumeration (N ≤ 21): the number of solutions at
  each Hamming distance k from a reference solution, the reference drawn uniformly among the
  solutions (*typical*) or taken as the solution of largest margin (*max-margin*). Compare with
  the Franz–Parisi :math:`S_{FP}(d)` of ``perceptron.local_entropy`` (qualitatively: N is tiny).
* :func:`enumerate_teacher_overlap` — Ising teacher–student: the mean overlap with the teacher of
  the solutions at each distance from a typical (posterior) or a max-margin reference, against
  ``R(d)`` of ``perceptron.local_entropy_teacher``.
* :func:`local_energy` — training error after flipping a random fraction d of a solution's
  weights (Baldassi et al., PNAS 117, 161 (2020)): flat, wide minima rise slowly.
* :func:`sbpi` (stochastic belief-propagation-inspired, Baldassi–Braunstein–Brunel–Zecchina,
  PNAS 104, 11079 (2007)) and :func:`binaryconnect` (SGD on latent continuous weights with a sign
  forward pass, Courbariaux et al. 2015), both vectorised over instances.
* :func:`success_curve` — success probability versus α with binomial errors, and the α where it
  crosses 1/2 (the algorithmic threshold), to be put next to α_LE and α_KM.
* :func:`random_feature_sat` — [R] enumeration P(SAT) of a binary student on random-feature data
  x = sign(F c/√D), y = sign(W_T·c/√D) at small N.

Conventions: ±1 patterns (N odd, no zero field), labels absorbed into the rows, α = P/N, a
solution satisfies :math:`y^\mu W\cdot\xi^\mu > 0` for all μ; entropies in nats per weight.
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from ..._errors import InvalidParameterError
from .._common import binomial_estimate, check_float, check_int, check_seed
from ...solvers._pool import map_tasks, resolve_workers
from .enumeration import count_solutions

__all__ = ["LocalEntropyEnumeration", "enumerate_local_entropy", "local_energy", "AlgorithmRun", "sbpi",
           "binaryconnect", "SuccessCurve", "success_curve", "RandomFeatureSAT", "random_feature_sat",
           "TeacherOverlapEnumeration", "enumerate_teacher_overlap", "N_MAX_LOCAL"]

#: Largest N of the local-entropy enumeration (2^21 vectors).
N_MAX_LOCAL = 21
_CHUNK = 1 << 16


def _pm1(rng, shape):
    return (1 - 2 * rng.integers(0, 2, size=shape, dtype=np.int8)).astype(np.float32)


def _table(n):
    idx = np.arange(1 << n, dtype=np.int64)
    return (1 - 2 * ((idx[:, None] >> np.arange(n)) & 1)).astype(np.float32)


def _solutions(rows):
    """Indices (bit patterns: bit j set <=> W_j = -1) of all solutions and their minimal
    stability min_mu y xi.W (an integer). Fields are split into a low table (2^n_low rows) and a
    high table (2^n_high rows), f = f_low + f_high, so no matrix product runs per vector."""
    p, n = rows.shape
    if p == 0:
        idx = np.arange(1 << n, dtype=np.int64)
        return idx, np.full(idx.size, n, np.int64)
    n_low = min(n, 15)
    n_high = n - n_low
    f_low = _table(n_low) @ rows[:, :n_low].T            # (2^n_low, P)
    f_high = _table(n_high) @ rows[:, n_low:].T if n_high else np.zeros((1, p), np.float32)
    sol, marg = [], []
    base = np.arange(1 << n_low, dtype=np.int64)
    for j in range(f_high.shape[0]):
        m = (f_low + f_high[j]).min(axis=1)
        ok = m > 0
        sol.append(base[ok] | (j << n_low))
        marg.append(m[ok].astype(np.int64))
    return np.concatenate(sol), np.concatenate(marg)


def _enumeration_args(where, n, alpha, n_instances, seed, reference):
    """Validated (n, P, n_instances, seed) of an enumeration around a reference solution."""
    n = check_int(n, "n", where, 3, N_MAX_LOCAL, odd=True)
    alpha = check_float(alpha, "alpha", where)
    n_instances = check_int(n_instances, "n_instances", where, 1)
    seed = check_seed(seed, where)
    if reference not in ("typical", "max_margin"):
        raise InvalidParameterError(f"The 'reference' parameter of {where} must be one of typical, max_margin. "
                                    f"Got {reference!r} instead.")
    return n, int(round(alpha * n)), n_instances, seed


def _pick_reference(rng, margins, reference):
    """Index of the reference: a uniformly drawn solution, or one of largest margin (ties at random)."""
    if reference == "typical":
        return rng.integers(margins.size)
    best = np.flatnonzero(margins == margins.max())
    return best[rng.integers(best.size)]


@dataclasses.dataclass(frozen=True)
class LocalEntropyEnumeration:
    r"""Exact counts of solutions at each Hamming distance from a reference solution.

    Attributes
    ----------
    n, p : int
        Weights and patterns.
    reference : str
        ``"typical"`` or ``"max_margin"``.
    d : ndarray, shape (n + 1,)
        ``k / n``.
    counts : ndarray of int64, shape (n_instances, n + 1)
        Solutions at distance k from the reference (the reference itself at k = 0).
    s_loc, s_loc_sem : ndarray
        :math:`\langle \ln \mathcal N_k\rangle/N` over instances with :math:`\mathcal N_k > 0`, and its
        standard error (NaN where fewer than 2).
    frac_nonzero : ndarray
        Fraction of instances with at least one solution at distance k.
    margins : ndarray
        Margin :math:`\min_\mu y\xi\cdot W/\sqrt N` of each reference.
    references : ndarray of int8, shape (n_sat, n)
        The reference solutions (±1).
    rows : ndarray of float32, shape (n_sat, p, n)
        The SAT instances' patterns with labels absorbed (for :func:`local_energy`).
    n_instances, n_sat : int
        Instances drawn, SAT instances used.
    seed : int
    """

    n: int
    p: int
    reference: str
    d: np.ndarray
    counts: np.ndarray
    s_loc: np.ndarray
    s_loc_sem: np.ndarray
    frac_nonzero: np.ndarray
    margins: np.ndarray
    references: np.ndarray
    rows: np.ndarray
    n_instances: int
    n_sat: int
    seed: int


def enumerate_local_entropy(n, alpha, n_instances, *, reference="typical", seed=0):
    r"""Local entropy around a reference solution by exhaustive enumeration.

    .. math:: S_{loc}(k/N) = \frac1N \ln \#\{W \text{ solution} : d_H(W, \tilde W) = k\}

    Parameters
    ----------
    n : int
        Odd, ``3 <= n <= 21``.
    alpha : float
        Load; ``P = round(alpha * n)`` random ±1 patterns with random labels.
    n_instances : int
        Instances drawn (UNSAT ones are skipped and counted out of ``n_sat``).
    reference : {"typical", "max_margin"}
        Uniformly random solution, or the solution of largest margin (ties broken at random).
    seed : int

    Returns
    -------
    LocalEntropyEnumeration

    Examples
    --------
    >>> r = enumerate_local_entropy(9, 0.5, 5, seed=1)
    >>> int(r.counts[0, 0])
    1
    """
    where = "enumerate_local_entropy"
    n, p, n_instances, seed = _enumeration_args(where, n, alpha, n_instances, seed, reference)
    rows_out, margins, refs, pats = [], [], [], []
    for rng in [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_instances)]:
        rows = _pm1(rng, (p, n)) * _pm1(rng, (p, 1))
        sol, marg = _solutions(rows)
        if sol.size == 0:
            continue
        r = _pick_reference(rng, marg, reference)
        dist = _popcount(sol ^ sol[r])
        rows_out.append(np.bincount(dist, minlength=n + 1))
        margins.append(marg[r] / math.sqrt(n))
        refs.append((1 - 2 * ((int(sol[r]) >> np.arange(n)) & 1)).astype(np.int8))
        pats.append(rows)
    counts = np.array(rows_out, np.int64).reshape(-1, n + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = np.where(counts > 0, np.log(np.maximum(counts, 1)) / n, np.nan)
        ok = np.isfinite(ln)
        k = ok.sum(axis=0)
        mean = np.where(k > 0, np.nansum(ln, axis=0) / np.maximum(k, 1), np.nan)
        var = np.nansum((ln - mean) ** 2, axis=0) / np.maximum(k - 1, 1)
        sem = np.where(k > 1, np.sqrt(var / np.maximum(k, 1)), np.nan)
    frac = ok.mean(axis=0) if counts.shape[0] else np.full(n + 1, np.nan)
    return LocalEntropyEnumeration(n, p, reference, np.arange(n + 1) / n, counts, mean, sem, frac,
                                   np.array(margins), np.array(refs, np.int8).reshape(-1, n),
                                   np.array(pats, np.float32).reshape(-1, p, n), n_instances,
                                   counts.shape[0], seed)


@dataclasses.dataclass(frozen=True)
class TeacherOverlapEnumeration:
    r"""Overlap with the teacher of the solutions at each Hamming distance from a reference solution
    (Ising teacher–student, exhaustive enumeration).

    ``R`` (n_sat, n + 1): mean of :math:`W\cdot W^*/N` over the version-space solutions at distance k
    from the reference (NaN where there is none); ``counts`` the numbers of such solutions;
    ``R_mean``, ``R_sem``: average over instances (where defined) and its standard error;
    ``margins``: the references' margins :math:`\min_\mu y\xi\cdot W/\sqrt N`."""

    n: int
    p: int
    reference: str
    d: np.ndarray
    counts: np.ndarray
    R: np.ndarray
    R_mean: np.ndarray
    R_sem: np.ndarray
    margins: np.ndarray
    n_instances: int
    seed: int


def enumerate_teacher_overlap(n, alpha, n_instances, *, reference="typical", seed=0):
    r"""Mean overlap with the teacher of the solutions at Hamming distance k from a reference.

    Binary teacher :math:`W^*` (the gauge :math:`W^* = +1` is used: the patterns are i.i.d. ±1, so
    this loses nothing), ``P = round(alpha * n)`` ±1 patterns labelled :math:`\mathrm{sign}(W^*\cdot\xi)`;
    the version space is enumerated exactly and the reference is a uniformly drawn solution
    (``"typical"``, a Bayes-posterior sample) or the solution of largest margin (``"max_margin"``,
    ties broken at random). Compare with ``R(d)`` of
    :func:`phasekit.theory.replica.local_entropy_teacher.teacher_local_entropy_curve` (qualitatively: N ≤ 21).

    Parameters
    ----------
    n : int
        Odd, ``3 <= n <= 21``.
    alpha : float
        Load α = P/N.
    n_instances : int
    reference : {"typical", "max_margin"}
    seed : int

    Returns
    -------
    TeacherOverlapEnumeration
    """
    where = "enumerate_teacher_overlap"
    n, p, n_instances, seed = _enumeration_args(where, n, alpha, n_instances, seed, reference)
    counts, Rs, margins = [], [], []
    for rng in [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_instances)]:
        xi = _pm1(rng, (p, n))
        rows = xi * np.where(xi.sum(axis=1, keepdims=True) > 0, 1, -1).astype(np.float32)   # y = sign(W*.xi), W* = 1
        sol, marg = _solutions(rows)                      # never empty: the teacher (bits 0) solves
        pop = _popcount(sol)
        R = 1 - 2 * pop / n                               # W.W*/N with W* = +1: bit set <=> W_j = -1
        r = _pick_reference(rng, marg, reference)
        dist = _popcount(sol ^ sol[r])
        c = np.bincount(dist, minlength=n + 1)
        s = np.bincount(dist, weights=R, minlength=n + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            Rs.append(np.where(c > 0, s / np.maximum(c, 1), np.nan))
        counts.append(c)
        margins.append(marg[r] / math.sqrt(n))
    R = np.array(Rs)
    ok = np.isfinite(R)
    k = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(k > 0, np.nansum(R, axis=0) / np.maximum(k, 1), np.nan)
        var = np.nansum((R - mean) ** 2, axis=0) / np.maximum(k - 1, 1)
        sem = np.where(k > 1, np.sqrt(var / np.maximum(k, 1)), np.nan)
    return TeacherOverlapEnumeration(n, p, reference, np.arange(n + 1) / n, np.array(counts, np.int64), R, mean, sem,
                                     np.array(margins), n_instances, seed)


def _popcount(x):
    x = np.asarray(x, np.int64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    return np.array([bin(int(v)).count("1") for v in x.ravel()], np.int64).reshape(x.shape)


def local_energy(weights, rows, d_values, *, n_samples=50, rng=None):
    r"""Local energy :math:`\delta E(d)`: mean training-error fraction after flipping
    ``round(d N)`` randomly chosen weights of a solution (``n_samples`` random flip sets).

    Parameters
    ----------
    weights : array_like, shape (N,) or (B, N)
        ±1 solutions (a batch is averaged over).
    rows : array_like, shape (P, N) or (B, P, N)
        Patterns with labels absorbed.
    d_values : array_like
        Flip fractions in [0, 1].

    Returns
    -------
    ndarray
        ``delta_E`` for each d (averaged over samples and the batch).
    """
    rng = np.random.default_rng(rng)
    W = np.atleast_2d(np.asarray(weights, np.float32))
    X = np.asarray(rows, np.float32)
    if X.ndim == 2:
        X = np.broadcast_to(X, (W.shape[0],) + X.shape)
    b, n = W.shape
    out = []
    for dv in np.asarray(d_values, float):
        k = int(round(dv * n))
        errs = []
        for _ in range(n_samples):
            flip = np.argsort(rng.random((b, n)), axis=1)[:, :k]
            Wf = W.copy()
            np.put_along_axis(Wf, flip, -np.take_along_axis(Wf, flip, axis=1), axis=1)
            f = np.einsum("bpn,bn->bp", X, Wf)
            errs.append(float(np.mean(f <= 0)))
        out.append(float(np.mean(errs)))
    return np.array(out)


@dataclasses.dataclass(frozen=True)
class AlgorithmRun:
    """Outcome of an algorithm on a batch of instances: ``solved`` (bool per instance), ``weights``
    (±1, shape (B, N)), ``iterations`` (sweeps/epochs used per instance), ``seconds``."""

    algorithm: str
    n: int
    alpha: float
    solved: np.ndarray
    weights: np.ndarray
    iterations: np.ndarray
    seconds: float


def _instances(n, p, b, rng):
    return _pm1(rng, (b, p, n)) * _pm1(rng, (b, p, 1))


def sbpi(rows, *, n_patterns=None, max_sweeps=300, theta=1, p_s=0.3, k_states=101, rng=None, progress=False):
    r"""SBPI (Baldassi, Braunstein, Brunel, Zecchina, PNAS 104, 11079 (2007)), vectorised over a batch.

    Integer hidden states :math:`h_i \in \{-K, \dots, K\}` (odd, ``K = k_states``), weights
    :math:`W_i = \mathrm{sign}(h_i)`. Patterns are presented in random order; with the stability
    :math:`\Delta = y\,\xi\cdot W`: if :math:`\Delta \le 0`, :math:`h_i \mathrel{+}= 2y\xi_i` for all
    i; if :math:`0 < \Delta \le \theta`, with probability :math:`p_s` the same update but only
    for the synapses with :math:`y\xi_i h_i \ge 1` (reinforcing the correct, non-marginal ones;
    these updates never flip a weight). Defaults :math:`\theta = 1`, :math:`p_s = 0.3`, K = 101
    (tuned at N = 1001, α = 0.65, 400 sweeps: K = 101 solves 20/20 instances, K = 41 0/20; θ = 3–5,
    :math:`p_s = 0.1` or 1 solve fewer).
    An instance is solved after a sweep without an error update (W was then constant and every
    pattern had Δ > 0).

    Parameters
    ----------
    rows : ndarray, shape (B, P, N)
        ±1 patterns with labels absorbed (int8 or float); rows beyond ``n_patterns[b]`` are ignored.
    n_patterns : array_like of int, shape (B,), optional
        Number of patterns of each instance (different loads in one batch); default all P.
    progress : bool
        tqdm bar over sweeps.

    Returns
    -------
    AlgorithmRun
    """
    rng = np.random.default_rng(rng)
    X = np.ascontiguousarray(np.transpose(np.asarray(rows, np.int8), (1, 0, 2)))   # (P, B, N)
    p, b, n = X.shape
    npat = np.full(b, p) if n_patterns is None else np.asarray(n_patterns, int)
    theta = float(theta)
    t0 = time.perf_counter()
    h = (2 * rng.integers(0, 2, size=(b, n)) - 1).astype(np.float32)
    W = np.sign(h)
    sweeps = np.full(b, max_sweeps)
    solved = np.zeros(b, bool)
    live = np.ones(b, bool)
    it = range(max_sweeps)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc=f"SBPI N={n}, {b} instances", leave=False)
    for sweep in it:
        if not live.any():
            break
        had_error = np.zeros(b, bool)
        idx = np.flatnonzero(live)
        Wl, hl = W[idx], h[idx]
        npl = npat[idx]
        errl = np.zeros(idx.size, bool)
        for mu in rng.permutation(p):
            valid = npl > mu
            x = X[mu, idx].astype(np.float32)
            delta = np.einsum("bn,bn->b", x, Wl)
            err = (delta <= 0) & valid
            weak = (~err) & valid & (delta <= theta) & (rng.random(idx.size) < p_s)
            ib = np.flatnonzero(err | weak)
            if ib.size == 0:
                continue
            errl |= err
            xs, hs = x[ib], hl[ib]
            upd = err[ib, None] | (xs * hs >= 1)
            hs = np.where(upd, np.clip(hs + 2 * xs, -k_states, k_states), hs)
            hl[ib] = hs
            Wl[ib] = np.sign(hs)
        W[idx], h[idx] = Wl, hl
        had_error[idx] = errl
        ok = live & ~had_error
        solved |= ok
        sweeps[ok] = sweep + 1
        live &= ~ok
    return AlgorithmRun("sbpi", n, float(np.mean(npat)) / n, solved, W.astype(np.int8), sweeps,
                        time.perf_counter() - t0)


def binaryconnect(rows, *, max_epochs=400, lr=0.05, beta0=1.0, beta_growth=1.01, batch=None, rng=None):
    r"""BinaryConnect-style SGD on latent weights :math:`w\in[-1,1]^N` with a sign forward pass.

    Forward :math:`h^\mu = y\,\xi^\mu\cdot\mathrm{sign}(w)/\sqrt N`; cross-entropy loss
    :math:`\sum_\mu \ln(1+e^{-\beta h^\mu})` with an inverse temperature growing per epoch
    (:math:`\beta_t = \beta_0 g^t`, which focuses the late updates on the barely satisfied
    patterns, as in Baldassi et al., PRL 2020 "shaping the learning landscape"); straight-through
    gradient :math:`\partial L/\partial w_i = -\sum_\mu \sigma(-\beta h^\mu)\,y\xi^\mu_i/\sqrt N`;
    latent weights clipped to [-1, 1]; mini-batches of ``batch`` patterns (default P/10).
    Stops per instance at zero training error of :math:`\mathrm{sign}(w)`.

    Returns
    -------
    AlgorithmRun
    """
    rng = np.random.default_rng(rng)
    X = np.asarray(rows, np.float32)
    b, p, n = X.shape
    batch = max(1, p // 10) if batch is None else int(batch)
    t0 = time.perf_counter()
    w = (rng.random((b, n), dtype=np.float32) - 0.5) * 0.2
    solved = np.zeros(b, bool)
    epochs = np.full(b, max_epochs)
    active = np.arange(b)
    sq = np.float32(1 / math.sqrt(n))
    for ep in range(max_epochs):
        if active.size == 0:
            break
        beta = np.float32(beta0 * beta_growth ** ep)
        Xa, wa = X[active], w[active]
        perm = rng.permutation(p)
        for s in range(0, p, batch):
            xb = Xa[:, perm[s:s + batch], :]
            hb = np.einsum("bpn,bn->bp", xb, np.sign(wa)) * sq
            act = 1.0 / (1.0 + np.exp(np.clip(beta * hb, -50, 50)))
            g = np.einsum("bp,bpn->bn", act.astype(np.float32), xb) * sq
            wa = np.clip(wa + lr * g, -1, 1)
        w[active] = wa
        ok = np.all(np.einsum("bpn,bn->bp", Xa, np.sign(wa)) > 0, axis=1)
        solved[active[ok]] = True
        epochs[active[ok]] = ep + 1
        active = active[~ok]
    return AlgorithmRun("binaryconnect", n, p / n, solved, np.sign(w).astype(np.int8), epochs,
                        time.perf_counter() - t0)


_ALGOS = {"sbpi": sbpi, "binaryconnect": binaryconnect}


@dataclasses.dataclass(frozen=True)
class SuccessCurve:
    """Success probability of an algorithm versus α.

    ``success[i]`` is a :class:`SimStats` (binomial); ``threshold`` the α where the success
    crosses 1/2 (linear interpolation between the bracketing grid points) and ``threshold_err`` its
    uncertainty from the binomial errors (the α shift of the crossing under ±1σ).
    """

    algorithm: str
    n: int
    alphas: np.ndarray
    success: tuple
    iterations: tuple
    threshold: float
    threshold_err: float
    seed: int
    seconds: float

    @property
    def p(self):
        return np.array([s.mean for s in self.success])

    @property
    def p_err(self):
        return np.array([s.error_of_mean for s in self.success])


def _crossing(a, p, level=0.5):
    a, p = np.asarray(a, float), np.asarray(p, float)
    idx = np.flatnonzero((p[:-1] >= level) & (p[1:] < level))
    if idx.size == 0:
        return float("nan")
    i = idx[-1]
    return float(a[i] + (p[i] - level) * (a[i + 1] - a[i]) / (p[i] - p[i + 1]))


def _instance(n, p, p_pad, seed, i, j):
    """Instance j of load index i: ``SeedSequence([seed, i, j])``; int8 rows padded to p_pad."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, i, j]))
    out = np.zeros((p_pad, n), np.int8)
    out[:p] = (1 - 2 * rng.integers(0, 2, size=(p, n), dtype=np.int8)) * \
        (1 - 2 * rng.integers(0, 2, size=(p, 1), dtype=np.int8))
    return out


def _one_alpha(args):
    algorithm, n, i, a, n_instances, seed, batch, options = args
    rng = np.random.default_rng(np.random.SeedSequence([seed, i, 10 ** 6]))
    p = int(round(a * n))
    solved, its = [], []
    for s in range(0, n_instances, batch):
        bsz = min(batch, n_instances - s)
        rows = np.stack([_instance(n, p, p, seed, i, j) for j in range(s, s + bsz)])
        r = _ALGOS[algorithm](rows, rng=rng, **options)
        solved.append(r.solved)
        its.append(r.iterations)
    return np.concatenate(solved), np.concatenate(its)


def _sbpi_chunk(args):
    """All (alpha, instance) pairs of one worker in a single SBPI batch (loads padded)."""
    n, loads, pairs, seed, worker, options, progress = args
    p_pad = max(int(round(loads[i] * n)) for i, _ in pairs)
    rows = np.stack([_instance(n, int(round(loads[i] * n)), p_pad, seed, i, j) for i, j in pairs])
    npat = np.array([int(round(loads[i] * n)) for i, _ in pairs])
    r = sbpi(rows, n_patterns=npat, rng=np.random.default_rng(np.random.SeedSequence([seed, 7, worker])),
             progress=progress, **options)
    return r.solved, r.iterations


def success_curve(algorithm, n, alphas, n_instances, *, seed=0, progress=False, batch=50, workers=None,
                  n_jobs=None, **options):
    r"""Success probability of ``algorithm`` (``"sbpi"`` or ``"binaryconnect"``) versus α.

    Instances: ``P = round(α n)`` random ±1 patterns, random labels (``n`` odd); instance set i
    of α index i is seeded by ``SeedSequence([seed, i])`` (independent of ``workers``). Instances
    are processed in batches of ``batch`` (vectorised); ``workers > 1`` runs the α values in a
    process pool (``n_jobs`` is its deprecated name). ``options`` go to the algorithm. Returns a
    :class:`SuccessCurve` with binomial errors and the α at success 1/2 with its error.
    """
    if algorithm in _ALGOS:
        for a in np.asarray(alphas, float).ravel():
            check_float(a, "alphas", "success_curve")
        workers = resolve_workers("success_curve", workers, n_jobs=n_jobs)
        workers = 1 if workers is None else check_int(workers, "workers", "success_curve", 1)
        if algorithm == "sbpi":
            return _sbpi_curve(n, alphas, n_instances, seed, progress, workers, options)
        if workers > 1:
            return _success_curve_pool(algorithm, n, alphas, n_instances, seed, progress, batch, workers, options)
    return _success_curve(algorithm, n, alphas, n_instances, seed=seed, progress=progress, batch=batch,
                          **options)


def _sbpi_curve(n, alphas, n_instances, seed, progress, workers, options):
    """SBPI on every (alpha, instance) pair at once: one padded batch per worker process."""
    n = check_int(n, "n", "success_curve", 3, None, odd=True)
    n_instances = check_int(n_instances, "n_instances", "success_curve", 1)
    seed = check_seed(seed, "success_curve")
    alphas = np.asarray(alphas, float)
    t0 = time.perf_counter()
    pairs = [(i, j) for i in range(alphas.size) for j in range(n_instances)]
    chunks = [pairs[w::workers] for w in range(workers)]
    jobs = [(n, tuple(alphas), ch, seed, w, options, progress and w == 0) for w, ch in enumerate(chunks) if ch]
    outs = map_tasks(_sbpi_chunk, jobs, workers=workers, where="success_curve")
    solved = {pr: None for pr in pairs}
    for (n_, _, ch, *_rest), (sv, its) in zip(jobs, outs):
        for k, pr in enumerate(ch):
            solved[pr] = (bool(sv[k]), int(its[k]))
    results = []
    for i in range(alphas.size):
        sv = np.array([solved[(i, j)][0] for j in range(n_instances)])
        it = np.array([solved[(i, j)][1] for j in range(n_instances)])
        results.append((sv, it))
    return _finish_curve("sbpi", n, alphas, results, seed, time.perf_counter() - t0)


def _success_curve_pool(algorithm, n, alphas, n_instances, seed, progress, batch, workers, options):
    n = check_int(n, "n", "success_curve", 3, None, odd=True)
    n_instances = check_int(n_instances, "n_instances", "success_curve", 1)
    alphas = np.asarray(alphas, float)
    t0 = time.perf_counter()
    jobs = [(algorithm, n, i, float(a), n_instances, seed, batch, options) for i, a in enumerate(alphas)]
    results = map_tasks(_one_alpha, jobs, workers=workers, progress=progress,
                        desc=f"{algorithm} N={n} (alpha values)", where="success_curve")
    return _finish_curve(algorithm, n, alphas, results, seed, time.perf_counter() - t0)


def _finish_curve(algorithm, n, alphas, results, seed, seconds):
    stats = [binomial_estimate(int(s.sum()), s.size, seed=seed) for s, _ in results]
    iters = [it for _, it in results]
    pm = np.array([s.mean for s in stats])
    pe = np.array([s.error_of_mean for s in stats])
    thr = _crossing(alphas, pm)
    lo, hi = _crossing(alphas, np.clip(pm - pe, 0, 1)), _crossing(alphas, np.clip(pm + pe, 0, 1))
    err = float(np.nanmax(np.abs(np.array([lo, hi]) - thr))) if np.isfinite(thr) else float("nan")
    if np.isfinite(thr) and not np.isfinite(err):
        err = float(np.max(np.diff(alphas)))
    return SuccessCurve(algorithm, n, alphas, tuple(stats), tuple(iters), thr, err, seed, seconds)


def _success_curve(algorithm, n, alphas, n_instances, *, seed=0, progress=False, batch=50, **options):
    where = "success_curve"
    if algorithm not in _ALGOS:
        raise InvalidParameterError(f"The 'algorithm' parameter of {where} must be one of "
                                    f"{', '.join(_ALGOS)}. Got {algorithm!r} instead.")
    n = check_int(n, "n", where, 3, None, odd=True)
    n_instances = check_int(n_instances, "n_instances", where, 1)
    seed = check_seed(seed, where)
    alphas = np.asarray(alphas, float)
    t0 = time.perf_counter()
    it = enumerate(alphas)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(list(it), desc=f"{algorithm} N={n} (alpha values)", leave=False)
    results = [_one_alpha((algorithm, n, i, float(a), n_instances, seed, batch, options)) for i, a in it]
    return _finish_curve(algorithm, n, alphas, results, seed, time.perf_counter() - t0)


# --------------------------------------------------------------------------- random features [R]
@dataclasses.dataclass(frozen=True)
class RandomFeatureSAT:
    """P(SAT) of a binary student on random-feature data, per prefix ``P' = 0..P_max`` (exact
    enumeration), at one ``N`` and ``D``; ``p_sat`` a :class:`SimStats` per P'."""

    n: int
    d_latent: int
    alpha: np.ndarray
    p_sat: tuple
    n_instances: int
    seed: int

    @property
    def p(self):
        return np.array([s.mean for s in self.p_sat])

    @property
    def threshold(self):
        """α = P/N where P(SAT) crosses 1/2."""
        return _crossing(self.alpha, self.p)


def random_feature_sat(n, d_latent, alpha_max, n_instances, *, seed=0):
    r"""[R] Enumeration P(SAT) for x = sign(F c/√D), y = sign(W_T·c/√D) (Gaussian F, c, W_T),
    binary student sign(W·x), ``n`` odd ≤ 21; counted for every prefix of the pattern list."""
    where = "random_feature_sat"
    n = check_int(n, "n", where, 3, N_MAX_LOCAL, odd=True)
    d_latent = check_int(d_latent, "d_latent", where, 1)
    n_instances = check_int(n_instances, "n_instances", where, 1)
    seed = check_seed(seed, where)
    p_max = int(math.floor(alpha_max * n + 1e-9))
    sat = np.zeros((n_instances, p_max + 1), bool)
    for i, rng in enumerate(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_instances)):
        F = rng.standard_normal((n, d_latent))
        wt = rng.standard_normal(d_latent)
        c = rng.standard_normal((p_max, d_latent))
        x = np.where(c @ F.T >= 0, 1, -1)
        y = np.where(c @ wt >= 0, 1, -1)
        sat[i] = count_solutions(x, y) > 0
    stats = tuple(binomial_estimate(int(sat[:, k].sum()), n_instances, seed=seed) for k in range(p_max + 1))
    return RandomFeatureSAT(n, d_latent, np.arange(p_max + 1) / n, stats, n_instances, seed)
