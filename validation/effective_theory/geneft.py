r"""Simulations that test GenEFT: Monte-Carlo closure, repon dynamics, and the autoencoder.

* :func:`closure_accuracy` — the exact-inference accuracy reachable from ``m`` training pairs of an
  equivalence relation (closure plus the best guess over consistent completions), compared with the
  balls-in-buckets bound ``f_UB``.
* :func:`ode_repon_runs`, :func:`gd_two_repon`, :func:`gd_matrix_repon`, :func:`gd_cluster`,
  :func:`collided_fraction` — Eq. 10 / Eq. 8 integrated with ``solve_ivp`` and plain gradient
  descent on linear decoders, against the conserved quantities and the arctan law.
* :func:`train_autoencoder` — the GenEFT knowledge-graph autoencoder (encoder ``E ∈ R^{n×d}``,
  combiner, tanh MLP decoder, BCE) in numpy with hand-written backprop and Adam/AdamW with separate
  encoder/decoder rates; :func:`phase_label`; :func:`lr_phase_diagram` runs an
  ``(eta_enc, eta_dec)`` grid over ``workers`` processes or a Dask ``scheduler`` (any
  ``concurrent.futures.Executor`` too) with a tqdm bar, and :func:`fit_boundary_slope` fits the
  generalization/memorization boundary in log-lr space.

Threads: set ``OPENBLAS_NUM_THREADS=1`` before importing numpy for single-run speed; the parallel
grid sets it for its worker processes.

Decoder depth convention: ``depth`` counts the *linear layers* of the decoder (depth 3 = two tanh
hidden layers of width 50 + a linear read-out, like the ``NET`` of Liu et al.); depth 1 is a linear
decoder. Initialisation (unspecified in GenEFT, recorded in every result): encoder
``N(0, enc_init**2)`` with ``enc_init = 1`` (torch ``nn.Embedding``), decoder
``U(±1/sqrt(fan_in))`` for weights and biases (torch ``nn.Linear``).
"""
from __future__ import annotations

import dataclasses
import math
from numbers import Integral

import numpy as np

from phasekit._constraints import invalid_parameter
from phasekit.solvers._pool import map_tasks, renamed, resolve_workers
from phasekit.theory.effective_theory import geneft as _th

from .._common import SimStats, binomial_estimate, estimate

__all__ = [
    "equivalence_labels", "relation_labels", "ClosureResult", "closure_accuracy",
    "ODERunsResult", "ode_repon_runs", "GDReponResult", "gd_two_repon", "gd_matrix_repon",
    "gd_cluster", "CollidedFraction", "collided_fraction",
    "Adam", "AutoencoderConfig", "TrainingRun", "phase_label", "first_crossing",
    "train_autoencoder", "PhaseDiagram", "lr_phase_diagram", "fit_boundary_slope",
    "silhouette", "PHASES", "seed_of", "init_mlp", "mlp_forward", "mlp_backward", "run_grid",
    "assemble_phase_diagram",
]

PHASES = ("generalization", "grokking", "memorization", "confusion")


def seed_of(rng):
    """The seed recorded for ``rng``: the int itself, else None (a Generator was passed)."""
    return int(rng) if isinstance(rng, (int, np.integer)) else None


# ============================================================================================
# relations and the Monte-Carlo closure
# ============================================================================================
def equivalence_labels(n: int = 30, k: int = 3) -> np.ndarray:
    """``R[x1, x2] = [x1 ≡ x2 (mod k)]`` as an ``(n, n)`` 0/1 array."""
    x = np.arange(n)
    return (x[:, None] % k == x[None, :] % k).astype(np.int8)


def relation_labels(relation: str = "mod3", n: int = 30, *, a: int = 10) -> np.ndarray:
    """Labels of the GenEFT relations: ``'mod3'``, ``'mod5'``, ``'greater'`` (``x1 < x2``),
    ``'bipartite'`` (exactly one of x1, x2 in the first ``a`` symbols)."""
    x = np.arange(n)
    if relation in ("mod3", "mod5"):
        return equivalence_labels(n, int(relation[-1]))
    if relation == "greater":
        return (x[:, None] < x[None, :]).astype(np.int8)
    if relation == "bipartite":
        s = x < a
        return (s[:, None] ^ s[None, :]).astype(np.int8)
    raise invalid_parameter("relation", "relation_labels", "one of 'mod3', 'mod5', 'greater', 'bipartite'", relation)


class _UnionFind:
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _same_class_probability(sizes, adj, k, cap, n_samples, rng):
    """Sequential importance sampling (Knuth's estimator) of P(component i ~ component j).

    Components (largest first) are assigned to one of ``k`` labelled classes of capacity ``cap``
    uniformly among the allowed classes; the weight is the product of the numbers of choices, so
    weighted averages are averages over the uniform distribution on consistent completions.
    """
    K = len(sizes)
    order = np.argsort(-np.asarray(sizes), kind="stable")
    cls = -np.ones((n_samples, K), dtype=np.int64)
    capacity = np.full((n_samples, k), cap, dtype=np.int64)
    logw = np.zeros(n_samples)
    alive = np.ones(n_samples, dtype=bool)
    for c in order:
        nbrs = np.nonzero(adj[c])[0]
        allowed = capacity >= sizes[c]
        if nbrs.size:
            assigned = cls[:, nbrs]
            for q in range(k):
                allowed[:, q] &= ~np.any(assigned == q, axis=1)
        cnt = allowed.sum(axis=1)
        alive &= cnt > 0
        cnt_safe = np.maximum(cnt, 1)
        logw += np.log(cnt_safe)
        u = rng.random(n_samples) * cnt_safe
        cum = np.cumsum(allowed, axis=1)
        choice = np.argmax(cum > u[:, None], axis=1)
        choice = np.where(alive, choice, 0)
        cls[:, c] = choice
        capacity[np.arange(n_samples), choice] -= np.where(alive, sizes[c], 0)
    if not alive.any():
        return None, 0
    lw = np.where(alive, logw, -np.inf)
    w = np.exp(lw - lw.max())
    w /= w.sum()
    same = np.zeros((K, K))
    for q in range(k):
        ind = (cls == q).astype(float)
        same += (ind * w[:, None]).T @ ind
    ess = 1.0 / np.sum(w ** 2)
    return same, ess


@dataclasses.dataclass(frozen=True)
class ClosureResult:
    """Exact-inference accuracy from ``m`` training pairs of an equivalence relation.

    Attributes
    ----------
    n, k, m : int
    fraction : float
        ``m / n**2``.
    accuracy : SimStats
        Over ``n_sets`` random training sets: ``(known + sum_u max(p_u, 1-p_u))/N``.
    known_fraction : SimStats
        Fraction of the ``N`` pairs fixed by closure (reflexivity, symmetry, transitivity, and
        the negative constraints).
    f_ub_approx, f_ub_exact : float
        The balls-in-buckets bound at the same ``m`` with the approximate and the exact ``b``.
    min_ess : float
        Smallest effective sample size of the importance sampler over the sets.
    seed : int or None
    """

    n: int
    k: int
    m: int
    fraction: float
    accuracy: SimStats
    known_fraction: SimStats
    f_ub_approx: float
    f_ub_exact: float
    min_ess: float
    seed: int | None


def closure_accuracy(m: int, *, n: int = 30, k: int = 3, n_sets: int = 10,
                     n_completions: int = 4000, method: str = "exact",
                     rng=None) -> ClosureResult:
    """Monte-Carlo closure (GenEFT App. D) for equivalence mod ``k`` on ``n`` symbols.

    ``method='exact'`` (spec §2.3) counts consistent completions with ``k`` classes of known
    equal size, which uses the class sizes and the negative constraints; ``method='closure'``
    only closes the positive pairs under reflexivity, symmetry and transitivity, marks pairs
    between components joined by a negative example as known, and guesses the prior
    ``max(1/k, 1-1/k)`` elsewhere. The exact method is far stronger: at ``n = 30, k = 3`` it
    usually determines the whole relation from ``m ≈ 90`` pairs.

    For each of ``n_sets`` random training sets of ``m`` ordered pairs (drawn without replacement
    from the ``N = n**2``): union–find the positive pairs; negative pairs become "different class"
    constraints between components; the chance ``p_u`` that an undetermined pair is positive is
    the fraction of consistent completions (components into ``k`` classes of size ``n/k``) in
    which it is, estimated by sequential importance sampling with ``n_completions`` draws.
    """
    where = "closure_accuracy"
    N = n * n
    if isinstance(m, bool) or not isinstance(m, Integral) or not 0 <= m <= N:
        raise invalid_parameter("m", where, f"an int in [0, {N}]", m)
    if n % k:
        raise invalid_parameter("k", where, f"a divisor of n={n}", k)
    if method not in ("exact", "closure"):
        raise invalid_parameter("method", where, "one of 'exact', 'closure'", method)
    seed = seed_of(rng)
    rng = np.random.default_rng(rng)
    R = equivalence_labels(n, k)
    accs, knowns, esss = [], [], []
    for _ in range(n_sets):
        flat = rng.choice(N, size=m, replace=False)
        x1, x2 = np.divmod(flat, n)
        uf = _UnionFind(n)
        for a, b in zip(x1[R[x1, x2] == 1], x2[R[x1, x2] == 1]):
            uf.union(int(a), int(b))
        roots = np.array([uf.find(i) for i in range(n)])
        _, comp = np.unique(roots, return_inverse=True)
        K = comp.max() + 1
        sizes = np.bincount(comp, minlength=K)
        adj = np.zeros((K, K), dtype=bool)
        neg = R[x1, x2] == 0
        adj[comp[x1[neg]], comp[x2[neg]]] = True
        adj |= adj.T
        if method == "exact":
            same, ess = _same_class_probability(sizes, adj, k, n // k, n_completions, rng)
            if same is None:  # pragma: no cover - cannot happen for consistent data
                raise RuntimeError("no consistent completion found")
        else:
            same = np.where(adj, 0.0, 1.0 / k)
            np.fill_diagonal(same, 1.0)
            ess = float("inf")
        P = same[comp[:, None], comp[None, :]]
        P = np.clip(P, 0.0, 1.0)
        known = (P > 1 - 1e-12) | (P < 1e-12)
        accs.append(np.mean(np.maximum(P, 1 - P)))
        knowns.append(np.mean(known))
        esss.append(ess)
    b_ap = _th.description_length("equivalence", n, k=k).approx
    b_ex = _th.description_length("equivalence", n, k=k).exact
    ps = 1.0 / k
    return ClosureResult(n, k, int(m), m / N, estimate(accs, seed=seed),
                         estimate(knowns, seed=seed),
                         float(_th.accuracy_upper_bound(m, b_ap, ps)),
                         float(_th.accuracy_upper_bound(m, b_ex, ps)), float(min(esss)), seed)


# ============================================================================================
# repon dynamics
# ============================================================================================
@dataclasses.dataclass(frozen=True)
class ODERunsResult:
    """``solve_ivp`` runs of Eq. 10 from random starts.

    Attributes
    ----------
    n_runs : int
    max_C_drift : float
        Largest relative drift ``|C(T) - C(0)| / |C(0)|``.
    n_decided, n_agree : int
        Runs with ``|C| > c_tol`` and, of those, the ones whose fate (``|c| < |a|`` at the end,
        i.e. collision) matches ``sign(C)``.
    n_undecided : int
        Runs with ``|C| <= c_tol``.
    eta_A, eta_x : float
    seed : int or None
    """

    n_runs: int
    max_C_drift: float
    n_decided: int
    n_agree: int
    n_undecided: int
    eta_A: float
    eta_x: float
    seed: int | None


def ode_repon_runs(n_runs: int = 1000, *, eta_A: float = 0.5, eta_x: float = 1.0,
                   c_tol: float = 1e-3, rtol: float = 1e-10, atol: float = 1e-12,
                   rng=None) -> ODERunsResult:
    """Integrate Eq. 10 (RK45) from ``(a0, c0) ~ N(0, 1)`` until ``min(|a|, |c|) < 1e-6`` or
    ``t = 1e4/min(eta_A, eta_x)``; check conservation of ``C`` and the fate against ``sign C``."""
    from scipy.integrate import solve_ivp
    seed = seed_of(rng)
    rng = np.random.default_rng(rng)
    y0s = rng.standard_normal((n_runs, 2))
    T = 1e4 / min(eta_A, eta_x)

    def event(t, y, *args):
        return min(abs(y[0]), abs(y[1])) - 1e-6
    event.terminal = True

    drift, decided, agree = 0.0, 0, 0
    for a0, c0 in y0s:
        sol = solve_ivp(_th.two_repon_rhs, (0.0, T), [a0, c0], args=(eta_A, eta_x),
                        method="RK45", rtol=rtol, atol=atol, events=event)
        aT, cT = sol.y[:, -1]
        C0 = a0 ** 2 / (2 * eta_A) - c0 ** 2 / eta_x
        CT = aT ** 2 / (2 * eta_A) - cT ** 2 / eta_x
        drift = max(drift, abs(CT - C0) / abs(C0))
        if abs(C0) > c_tol:
            decided += 1
            agree += int((abs(cT) < abs(aT)) == (C0 > 0))
    return ODERunsResult(int(n_runs), float(drift), decided, agree, int(n_runs - decided),
                         float(eta_A), float(eta_x), seed)


@dataclasses.dataclass(frozen=True)
class GDReponResult:
    """Plain GD on a linear decoder with repons, against the predicted asymptotes.

    Attributes
    ----------
    kind : str
        ``'two'``, ``'matrix'`` or ``'cluster'``.
    predicted, measured : ndarray
        Rows of the asymptotic quantities compared (see the producing function).
    max_error : float
        ``max |measured - predicted|``.
    collides_predicted, collides_measured : ndarray of bool
    steps : int
    lr_A, lr_x : float
        ``eta_A dt`` and ``eta_x dt``.
    seed : int or None
    """

    kind: str
    predicted: np.ndarray
    measured: np.ndarray
    max_error: float
    collides_predicted: np.ndarray
    collides_measured: np.ndarray
    steps: int
    lr_A: float
    lr_x: float
    seed: int | None


def gd_two_repon(a0, c0, *, eta_A: float = 1.0, eta_x: float = 1.0, dt: float = 2e-3,
                 steps: int = 100_000, y: float = 0.7) -> GDReponResult:
    """Full-loss GD on ``(a, b, x1, x2)`` (1-D, vectorised over systems) from ``x = ±c0``,
    ``b0 = y``; compares final ``(|a|, |c|)`` with the Eq. 11 asymptotes."""
    a = np.array(a0, float, ndmin=1)
    c0 = np.array(c0, float, ndmin=1)
    x1, x2 = c0.copy(), -c0.copy()
    b = np.full_like(a, y)
    lA, lx = eta_A * dt, eta_x * dt
    for _ in range(steps):
        e1 = a * x1 + b - y
        e2 = a * x2 + b - y
        ga = e1 * x1 + e2 * x2
        gb = e1 + e2
        g1, g2 = a * e1, a * e2
        a, b, x1, x2 = a - lA * ga, b - lA * gb, x1 - lx * g1, x2 - lx * g2
    pred = _th.two_repon_prediction(np.array(a0, float, ndmin=1), c0, eta_A, eta_x)
    c_fin = (x1 - x2) / 2
    P = np.vstack([np.abs(pred.a_inf), np.abs(pred.c_inf)])
    M = np.vstack([np.abs(a), np.abs(c_fin)])
    return GDReponResult("two", P, M, float(np.max(np.abs(P - M))), pred.collides,
                         np.abs(c_fin) < 1e-3, int(steps), lA, lx, None)


def gd_matrix_repon(n_systems: int = 20, *, d_o: int = 3, d_e: int = 2, eta_A: float = 1.0,
                    eta_x: float = 1.0, dt: float = 2e-3, steps: int = 100_000,
                    sigma_a: float = 1.0, sigma_c: float = 1.0, rng=None) -> GDReponResult:
    """Full-loss GD on ``(A, b, x1, x2)`` with ``A`` of shape ``(d_o, d_e)``, batched.

    Measured rows: collision flag and final ``|r|^2``; predicted: ``lambda_min(Q0) > 0`` and
    ``eta_x |lambda_min(Q0)|`` (0 on collision).
    """
    seed = seed_of(rng)
    rng = np.random.default_rng(rng)
    A = sigma_a * rng.standard_normal((n_systems, d_o, d_e))
    r0 = sigma_c * rng.standard_normal((n_systems, d_e))
    yv = rng.standard_normal((n_systems, d_o))
    b = yv.copy()
    x1, x2 = r0.copy(), -r0.copy()
    preds = [_th.matrix_repon_prediction(A[s], r0[s], eta_A, eta_x) for s in range(n_systems)]
    lA, lx = eta_A * dt, eta_x * dt
    for _ in range(steps):
        e1 = np.einsum("soe,se->so", A, x1) + b - yv
        e2 = np.einsum("soe,se->so", A, x2) + b - yv
        gA = np.einsum("so,se->soe", e1, x1) + np.einsum("so,se->soe", e2, x2)
        gb = e1 + e2
        g1 = np.einsum("soe,so->se", A, e1)
        g2 = np.einsum("soe,so->se", A, e2)
        A, b, x1, x2 = A - lA * gA, b - lA * gb, x1 - lx * g1, x2 - lx * g2
    r = (x1 - x2) / 2
    rsq = np.sum(r ** 2, axis=1)
    P = np.array([p.r_inf_sq for p in preds])
    colp = np.array([p.collides for p in preds])
    return GDReponResult("matrix", P[None, :], rsq[None, :], float(np.max(np.abs(P - rsq))),
                         colp, rsq < 1e-6, int(steps), lA, lx, seed)


def gd_cluster(a0, d0, N: int, *, eta_A: float = 1.0, eta_x: float = 1.0, dt: float = 2e-3,
               steps: int = 100_000, y: float = 0.3) -> GDReponResult:
    """GD on one repon against a rigid cluster of ``N`` (1-D, all ``N + 2`` parameters trained,
    vectorised over systems) on the invariant set ``x0 + N x_c = 0``, ``e0 + N e_c = 0``.

    Predicted asymptotes from :math:`K = a^2(1+1/N)/\\eta_A - d^2/\\eta_x`:
    ``a_inf^2 = eta_A K/(1 + 1/N)``, ``d_inf = 0`` if ``K > 0``; ``a_inf = 0``,
    ``d_inf^2 = -eta_x K`` otherwise.
    """
    a = np.array(a0, float, ndmin=1)
    d = np.array(d0, float, ndmin=1)
    x0 = N * d / (N + 1)
    xs = np.repeat((-x0 / N)[:, None], N, axis=1)           # N members, initially coincident
    b = y - a * (x0 + N * xs[:, 0]) / (N + 1)               # weighted mean residual 0
    lA, lx = eta_A * dt, eta_x * dt
    for _ in range(steps):
        e0 = a * x0 + b - y
        es = a[:, None] * xs + b[:, None] - y
        ga = e0 * x0 + np.sum(es * xs, axis=1)
        gb = e0 + np.sum(es, axis=1)
        g0 = a * e0
        gs = a[:, None] * es
        a, b, x0, xs = a - lA * ga, b - lA * gb, x0 - lx * g0, xs - lx * gs
    a0 = np.array(a0, float, ndmin=1)
    K = a0 ** 2 * (1 + 1 / N) / eta_A - np.array(d0, float, ndmin=1) ** 2 / eta_x
    col = K > 0
    a_inf = np.where(col, np.sqrt(np.abs(eta_A * K / (1 + 1 / N))), 0.0)
    d_inf = np.where(col, 0.0, np.sqrt(np.abs(eta_x * K)))
    d_fin = np.abs(x0 - xs.mean(axis=1))
    P = np.vstack([a_inf, d_inf])
    M = np.vstack([np.abs(a), d_fin])
    return GDReponResult(f"cluster[N={N}]", P, M, float(np.max(np.abs(P - M))), col,
                         d_fin < 1e-3, int(steps), lA, lx, None)


@dataclasses.dataclass(frozen=True)
class CollidedFraction:
    """Fraction of two-repon systems that have collided (``|c| < tol``) by time ``T``.

    Attributes
    ----------
    rho : ndarray
        Separatrix slopes ``sqrt(eta_x/(2 eta_A))``.
    times : ndarray
    fraction : ndarray (len(rho), len(times))
        Measured by GD (Euler with step ``dt``) for ``T <= T_gd`` and by the closed-form solution
        beyond (``method`` says which).
    error : ndarray
        Binomial standard errors.
    bound : ndarray
        Arctan law ``(2/pi) atan(rho sigma_a/sigma_c)``.
    method : ndarray of str
    n_systems : int
    seed : int or None
    """

    rho: np.ndarray
    times: np.ndarray
    fraction: np.ndarray
    error: np.ndarray
    bound: np.ndarray
    method: np.ndarray
    n_systems: int
    seed: int | None


def collided_fraction(rhos=(0.25, 0.5, 1.0, 2.0, 4.0), times=(100.0, 400.0, 1e4, 1e6), *,
                      n_systems: int = 4000, eta_A: float = 0.1, dt: float = 0.02,
                      T_gd: float = 400.0, tol: float = 1e-3, sigma_a: float = 1.0,
                      sigma_c: float = 1.0, rng=None) -> CollidedFraction:
    """Collided fraction over Gaussian initial conditions versus time, against the arctan bound.

    Times up to ``T_gd`` are reached by Euler/GD on Eq. 10 (the full-loss GD on the invariant
    set); longer times use :func:`phasekit.theory.effective_theory.geneft.two_repon_solution`.
    """
    seed = seed_of(rng)
    rng = np.random.default_rng(rng)
    rhos = np.asarray(rhos, float)
    times = np.asarray(times, float)
    frac = np.zeros((rhos.size, times.size))
    err = np.zeros_like(frac)
    meth = np.empty(frac.shape, dtype=object)
    a0 = sigma_a * rng.standard_normal(n_systems)
    c0 = sigma_c * rng.standard_normal(n_systems)
    for i, rho in enumerate(rhos):
        eta_x = 2 * eta_A * rho ** 2
        a, c = a0.copy(), c0.copy()
        t = 0.0
        for j, T in enumerate(times):
            if T <= T_gd:
                nsteps = int(round((T - t) / dt))
                for _ in range(nsteps):
                    a, c = a - dt * 2 * eta_A * c * c * a, c - dt * eta_x * a * a * c
                t += nsteps * dt
                cT = c
                meth[i, j] = "gd"
            else:
                _, cT = _th.two_repon_solution(a0, c0, eta_A, eta_x, T)
                meth[i, j] = "closed_form"
            s = binomial_estimate(int(np.sum(np.abs(cT) < tol)), n_systems)
            frac[i, j], err[i, j] = s.mean, s.error_of_mean
    bound = np.asarray(_th.collision_probability(rho=rhos, sigma_a=sigma_a, sigma_c=sigma_c))
    return CollidedFraction(rhos, times, frac, err, bound, meth, int(n_systems), seed)


# ============================================================================================
# the GenEFT autoencoder
# ============================================================================================
class Adam:
    """Adam / AdamW on a list of numpy arrays, updated in place.

    ``weight_decay`` is decoupled (AdamW, as ``torch.optim.AdamW``) when ``decoupled=True``,
    else L2 added to the gradient (``torch.optim.Adam``). Hyper-parameters as in torch.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled=True):
        self.params = list(params)
        self.lr, self.b1, self.b2, self.eps = float(lr), betas[0], betas[1], eps
        self.wd, self.decoupled = float(weight_decay), decoupled
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.b1, self.b2
        c1 = 1 - b1 ** self.t
        c2 = 1 - b2 ** self.t
        step_size = self.lr / c1
        sq = math.sqrt(c2)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            if self.wd:
                if self.decoupled:
                    p *= 1 - self.lr * self.wd
                else:
                    g = g + self.wd * p
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= step_size * m / (np.sqrt(v) / sq + self.eps)


@dataclasses.dataclass(frozen=True)
class AutoencoderConfig:
    """Configuration of one GenEFT autoencoder run (GenEFT Table III defaults).

    ``relation``: 'mod3', 'mod5', 'greater', 'bipartite'; ``mode``: 1 concat, 2 difference,
    3 squared difference; ``depth``: number of linear layers of the decoder (3 = two tanh hidden
    layers of ``width``). ``weight_decay`` applies to the decoder (AdamW, decoupled).
    ``eval_every`` sets the resolution of the step counts; ``delay_threshold`` separates
    generalization from grokking.
    """

    relation: str = "mod3"
    n: int = 30
    d: int = 2
    mode: int = 1
    depth: int = 3
    width: int = 50
    train_fraction: float = 0.75
    eta_enc: float = 1e-3
    eta_dec: float = 1e-3
    weight_decay: float = 0.0
    steps: int = 4000
    enc_init: float = 1.0
    threshold: float = 0.9
    delay_threshold: int = 1000
    eval_every: int = 10
    dtype: str = "float32"

    def __post_init__(self):
        w = "AutoencoderConfig"
        if self.mode not in (1, 2, 3):
            raise invalid_parameter("mode", w, "one of 1, 2, 3", self.mode)
        if not isinstance(self.depth, Integral) or self.depth < 1:
            raise invalid_parameter("depth", w, "an int >= 1", self.depth)
        if not 0 < self.train_fraction <= 1:
            raise invalid_parameter("train_fraction", w, "a float in the range (0, 1]", self.train_fraction)
        for nm in ("eta_enc", "eta_dec"):
            if not getattr(self, nm) > 0:
                raise invalid_parameter(nm, w, "a float in the range (0, inf)", getattr(self, nm))
        if self.weight_decay < 0:
            raise invalid_parameter("weight_decay", w, "a float in the range [0, inf)", self.weight_decay)


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """History and phase of one training run.

    Attributes
    ----------
    config : dataclass
        The configuration (recorded initialisation scales included).
    steps : ndarray
        Evaluation steps.
    train_acc, test_acc, train_loss : ndarray
    step_train, step_test : int or None
        First evaluated step with accuracy above threshold (``None`` if never).
    phase : str
        One of :data:`PHASES`.
    embedding : ndarray
        Final encoder ``E`` (``(n, d)``).
    full_accuracy : float
        ``p acc_train + (1 - p) acc_test`` at the end.
    seed : int or None
    extra : dict
        Model-specific numbers (e.g. RQI history for the Liu toy).
    """

    config: object
    steps: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    train_loss: np.ndarray
    step_train: int | None
    step_test: int | None
    phase: str
    embedding: np.ndarray
    full_accuracy: float
    seed: int | None
    extra: dict = dataclasses.field(default_factory=dict)


def first_crossing(steps, acc, threshold: float = 0.9, *, strict: bool = True):
    """First ``steps[i]`` with ``acc[i] > threshold`` (``>=`` if not ``strict``), else ``None``."""
    acc = np.asarray(acc)
    hit = acc > threshold if strict else acc >= threshold
    idx = np.nonzero(hit)[0]
    return int(np.asarray(steps)[idx[0]]) if idx.size else None


def phase_label(step_train, step_test, delay_threshold: int = 1000) -> str:
    """GenEFT Table IV / Liu et al. Table 1 labels from the threshold-crossing steps.

    ``confusion`` if training never crosses; ``memorization`` if test never does;
    ``generalization`` (comprehension) if ``step_test - step_train < delay_threshold``, else
    ``grokking``.
    """
    if step_train is None:
        return "confusion"
    if step_test is None:
        return "memorization"
    return "generalization" if step_test - step_train < delay_threshold else "grokking"


def init_mlp(rng, sizes, dtype):
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and biases of an MLP with layer ``sizes``."""
    Ws, bs = [], []
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fi)
        Ws.append(rng.uniform(-bound, bound, (fi, fo)).astype(dtype))
        bs.append(rng.uniform(-bound, bound, (fo,)).astype(dtype))
    return Ws, bs


#: Former private name, still used by tests and benchmarks.
_init_mlp = init_mlp


def mlp_forward(X, Ws, bs):
    """tanh MLP forward; returns the output and the layer inputs (post-activation)."""
    hs = [X]
    h = X
    for W, b in zip(Ws[:-1], bs[:-1]):
        h = h @ W
        h += b
        np.tanh(h, out=h)
        hs.append(h)
    out = h @ Ws[-1]
    out += bs[-1]
    return out, hs


def mlp_backward(gout, hs, Ws, need_input_grad=True):
    """Gradients of the weights and of the input, given d loss / d output (in place where safe)."""
    L = len(Ws)
    gW = [None] * L
    gb = [None] * L
    g = gout
    for li in range(L - 1, -1, -1):
        gW[li] = hs[li].T @ g
        gb[li] = g.sum(axis=0)
        if li == 0 and not need_input_grad:
            return gW, gb, None
        g = g @ Ws[li].T
        if li > 0:
            h = hs[li]
            d = h * h
            np.subtract(1, d, out=d)
            g *= d
    return gW, gb, g


def _combine(E, i1, i2, mode):
    e1, e2 = E[i1], E[i2]
    if mode == 1:
        return np.concatenate([e1, e2], axis=1), None
    diff = e1 - e2
    if mode == 2:
        return diff, None
    return diff * diff, diff


def _onehots(i1, i2, n, dtype):
    eye = np.eye(n, dtype=dtype)
    return eye[i1], eye[i2]


def _combine_backward(gX, E, onehots, mode, diff):
    """Scatter the input gradient back onto the encoder rows (one-hot matmuls, no ``add.at``)."""
    O1, O2 = onehots
    d = E.shape[1]
    if mode == 1:
        return O1.T @ gX[:, :d] + O2.T @ gX[:, d:]
    gd = gX if mode == 2 else 2 * diff * gX
    return O1.T @ gd - O2.T @ gd


class _AutoencoderModel:
    """Parameters and one full-batch Adam step of the GenEFT autoencoder (numpy, hand backprop)."""

    def __init__(self, cfg: AutoencoderConfig, rng):
        dt = np.dtype(cfg.dtype)
        self.cfg = cfg
        self.E = (cfg.enc_init * rng.standard_normal((cfg.n, cfg.d))).astype(dt)
        d_in = 2 * cfg.d if cfg.mode == 1 else cfg.d
        sizes = [d_in] + [cfg.width] * (cfg.depth - 1) + [1]
        self.Ws, self.bs = init_mlp(rng, sizes, dt)
        self.opt_enc = Adam([self.E], lr=cfg.eta_enc)
        self.opt_dec = Adam(self.Ws + self.bs, lr=cfg.eta_dec, weight_decay=cfg.weight_decay)
        self._oh_key = None

    def logits(self, i1, i2):
        X, _ = _combine(self.E, i1, i2, self.cfg.mode)
        out, _ = mlp_forward(X, self.Ws, self.bs)
        return out[:, 0]

    def loss_and_grads(self, i1, i2, t):
        """BCE-with-logits loss (batch mean) and gradients ``[dE] + dWs + dbs``."""
        cfg = self.cfg
        X, diff = _combine(self.E, i1, i2, cfg.mode)
        out, hs = mlp_forward(X, self.Ws, self.bs)
        z = out[:, 0]
        loss = float(np.mean(np.logaddexp(0.0, z) - t * z))
        g = ((1.0 / (1.0 + np.exp(-z)) - t) / z.size)[:, None].astype(out.dtype)
        gW, gb, gX = mlp_backward(g, hs, self.Ws)
        if self._oh_key is not i1:
            self._oh_key, self._oh = i1, _onehots(i1, i2, cfg.n, self.E.dtype)
        gE = _combine_backward(gX, self.E, self._oh, cfg.mode, diff)
        return loss, [gE] + gW + gb

    def step(self, i1, i2, t):
        loss, grads = self.loss_and_grads(i1, i2, t)
        self.opt_dec.step(grads[1:])
        self.opt_enc.step(grads[:1])
        return loss


def train_autoencoder(config: AutoencoderConfig | None = None, *, rng=None,
                      **overrides) -> TrainingRun:
    """Train the GenEFT autoencoder full batch; return accuracies, step counts and the phase.

    Examples
    --------
    >>> run = train_autoencoder(steps=50, rng=0)
    >>> run.phase in PHASES
    True
    """
    cfg = dataclasses.replace(config or AutoencoderConfig(), **overrides)
    seed = seed_of(rng)
    rng = np.random.default_rng(rng)
    R = relation_labels(cfg.relation, cfg.n)
    N = cfg.n * cfg.n
    perm = rng.permutation(N)
    n_train = int(round(cfg.train_fraction * N))
    tr, te = perm[:n_train], perm[n_train:]
    i1_tr, i2_tr = np.divmod(tr, cfg.n)
    i1_te, i2_te = np.divmod(te, cfg.n)
    dt = np.dtype(cfg.dtype)
    t_tr = R[i1_tr, i2_tr].astype(dt)
    t_te = R[i1_te, i2_te].astype(dt)
    model = _AutoencoderModel(cfg, rng)
    ev_steps, acc_tr, acc_te, losses = [], [], [], []
    for s in range(cfg.steps):
        loss = model.step(i1_tr, i2_tr, t_tr)
        if (s + 1) % cfg.eval_every == 0 or s == cfg.steps - 1:
            ztr = model.logits(i1_tr, i2_tr)
            zte = model.logits(i1_te, i2_te) if te.size else np.zeros(0)
            ev_steps.append(s + 1)
            acc_tr.append(np.mean((ztr > 0) == (t_tr > 0.5)))
            acc_te.append(np.mean((zte > 0) == (t_te > 0.5)) if te.size else 1.0)
            losses.append(loss)
    ev_steps = np.array(ev_steps)
    acc_tr, acc_te = np.array(acc_tr), np.array(acc_te)
    st = first_crossing(ev_steps, acc_tr, cfg.threshold)
    se = first_crossing(ev_steps, acc_te, cfg.threshold)
    full = float(cfg.train_fraction * acc_tr[-1] + (1 - cfg.train_fraction) * acc_te[-1])
    return TrainingRun(cfg, ev_steps, acc_tr, acc_te, np.array(losses), st, se,
                       phase_label(st, se, cfg.delay_threshold), model.E.copy(), full, seed)


def silhouette(E, labels) -> float:
    """Mean silhouette coefficient of the rows of ``E`` grouped by ``labels`` (Euclidean)."""
    E = np.asarray(E, float)
    labels = np.asarray(labels)
    D = np.sqrt(np.sum((E[:, None, :] - E[None, :, :]) ** 2, axis=-1))
    s = []
    for i in range(E.shape[0]):
        same = labels == labels[i]
        same[i] = False
        if not same.any():
            s.append(0.0)
            continue
        a = D[i, same].mean()
        b = min(D[i, labels == L].mean() for L in np.unique(labels) if L != labels[i])
        s.append((b - a) / max(a, b) if max(a, b) > 0 else 0.0)
    return float(np.mean(s))


# ============================================================================================
# lr x lr phase diagrams
# ============================================================================================
@dataclasses.dataclass(frozen=True)
class PhaseDiagram:
    """Phase labels over a learning-rate grid.

    Attributes
    ----------
    eta_x_values, eta_y_values : ndarray
        Representation/encoder rates (rows) and decoder rates (columns).
    phases : ndarray of str, shape (len(eta_x_values), len(eta_y_values), n_seeds)
    step_train, step_test : ndarray of float (nan where never crossed)
    full_accuracy : ndarray
    status : ndarray of str
        ``'ok'`` or the error message of a failed cell (never hidden).
    slope : float
        Fitted slope of the generalization/memorization boundary in
        ``(log10 eta_x, log10 eta_y)`` (nan when one side is empty).
    model : str
    seeds : tuple
    config : object
    """

    eta_x_values: np.ndarray
    eta_y_values: np.ndarray
    phases: np.ndarray
    step_train: np.ndarray
    step_test: np.ndarray
    full_accuracy: np.ndarray
    status: np.ndarray
    slope: float
    model: str
    seeds: tuple
    config: object

    def majority(self) -> np.ndarray:
        """Most frequent phase over seeds per cell."""
        out = np.empty(self.phases.shape[:2], dtype=object)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                vals, cnt = np.unique(self.phases[i, j], return_counts=True)
                out[i, j] = vals[np.argmax(cnt)]
        return out

    def to_rows(self):
        """Flat rows for a CSV table."""
        rows = []
        for i, ex in enumerate(self.eta_x_values):
            for j, ey in enumerate(self.eta_y_values):
                for k, sd in enumerate(self.seeds):
                    rows.append(dict(eta_repr=ex, eta_dec=ey, seed=sd, phase=self.phases[i, j, k],
                                     step_train=self.step_train[i, j, k],
                                     step_test=self.step_test[i, j, k],
                                     full_accuracy=self.full_accuracy[i, j, k],
                                     status=self.status[i, j, k]))
        return rows


def fit_boundary_slope(log_x, log_y, generalizes) -> float:
    """Slope of the separating line between generalizing and non-generalizing cells.

    L2-regularised logistic regression on ``(log_x, log_y)``; the boundary
    ``w_x log_x + w_y log_y + c = 0`` has slope ``-w_x/w_y`` in the ``(log_x, log_y)`` plane.
    Returns nan when one class is empty.
    """
    from scipy.optimize import minimize
    X = np.column_stack([np.asarray(log_x, float), np.asarray(log_y, float)])
    yv = np.asarray(generalizes, float)
    if yv.min() == yv.max():
        return float("nan")
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd == 0] = 1
    Z = (X - mu) / sd

    def f(w):
        s = Z @ w[:2] + w[2]
        return np.sum(np.logaddexp(0, s) - yv * s) + 1e-3 * np.sum(w[:2] ** 2)

    w = minimize(f, np.zeros(3), method="BFGS").x
    wx, wy = w[0] / sd[0], w[1] / sd[1]
    return float(-wx / wy) if wy != 0 else float("inf")


def _cell_autoencoder(args):
    cfg, seed = args
    try:
        run = train_autoencoder(cfg, rng=seed)
        return (run.phase, run.step_train, run.step_test, run.full_accuracy, "ok")
    except Exception as exc:  # noqa: BLE001 - reported per cell, never hidden
        return ("error", None, None, float("nan"), f"{type(exc).__name__}: {exc}")


def run_grid(cell_fn, tasks, workers, scheduler, progress):
    """Run ``cell_fn`` over tasks: :func:`phasekit.solvers._pool.map_tasks` (in this process,
    ``workers`` local processes, or a Dask scheduler / executor)."""
    return map_tasks(cell_fn, tasks, workers=workers, scheduler=scheduler, progress=progress,
                     desc="phase diagram", where="phase diagram")


def assemble_phase_diagram(eta_x, eta_y, seeds, results, model, config):
    """A :class:`PhaseDiagram` from the per-cell results of :func:`run_grid` (row-major in eta_x, eta_y, seed)."""
    shape = (len(eta_x), len(eta_y), len(seeds))
    phases = np.empty(shape, dtype=object)
    st = np.full(shape, np.nan)
    se = np.full(shape, np.nan)
    fa = np.full(shape, np.nan)
    status = np.empty(shape, dtype=object)
    k = 0
    for i in range(shape[0]):
        for j in range(shape[1]):
            for s in range(shape[2]):
                ph, a, b, acc, stt = results[k]
                phases[i, j, s] = ph
                st[i, j, s] = np.nan if a is None else a
                se[i, j, s] = np.nan if b is None else b
                fa[i, j, s] = acc
                status[i, j, s] = stt
                k += 1
    lx, ly, gen = [], [], []
    for i in range(shape[0]):
        for j in range(shape[1]):
            for s in range(shape[2]):
                if phases[i, j, s] in ("generalization", "memorization"):
                    lx.append(np.log10(eta_x[i]))
                    ly.append(np.log10(eta_y[j]))
                    gen.append(phases[i, j, s] == "generalization")
    slope = fit_boundary_slope(lx, ly, gen) if lx else float("nan")
    return PhaseDiagram(np.asarray(eta_x, float), np.asarray(eta_y, float), phases, st, se, fa,
                        status, slope, model, tuple(seeds), config)


def lr_phase_diagram(eta_enc_values=(3e-4, 1e-3, 3e-3), eta_dec_values=(1e-3, 1e-2, 3e-2), *,
                     config: AutoencoderConfig | None = None, seeds=(0,), workers: int | None = None,
                     scheduler=None, progress: bool = False, n_jobs=None, executor=None) -> PhaseDiagram:
    """GenEFT autoencoder phase diagram over ``eta_enc × eta_dec`` (× seeds).

    ``workers > 1`` runs cells in a spawned process pool (``OPENBLAS_NUM_THREADS=1`` in the
    workers); ``scheduler`` may be a Dask address or ``Client``, or any
    ``concurrent.futures.Executor`` (see :func:`phasekit.solvers._pool.map_tasks`). ``n_jobs`` and
    ``executor`` are the deprecated names of ``workers`` and ``scheduler``. Failed cells carry their
    error in ``status``.
    """
    cfg = config or AutoencoderConfig()
    tasks = [(dataclasses.replace(cfg, eta_enc=float(ex), eta_dec=float(ey)), int(sd))
             for ex in eta_enc_values for ey in eta_dec_values for sd in seeds]
    workers = resolve_workers("lr_phase_diagram", workers, n_jobs=n_jobs)
    scheduler = renamed("lr_phase_diagram", "scheduler", scheduler, executor=executor)
    res = run_grid(_cell_autoencoder, tasks, workers, scheduler, progress)
    return assemble_phase_diagram(eta_enc_values, eta_dec_values, seeds, res, "geneft.autoencoder", cfg)
