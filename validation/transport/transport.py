r"""Least-action (optimal-transport) training of ResNets in numpy, with hand-written backprop.

Simulated counterpart of :mod:`phasekit.theory.transport` (spec ``least_action.md``; Karkar,
Ayed, de Bézenac, Gallinari, arXiv:2009.08372).

* :func:`fit_linear_resnet` — population-level linear ResNet (moments only), kinetic energy plus
  penalty or augmented-Lagrangian (Uzawa) continuation of the end-moment constraint, BFGS with an
  exact gradient. With the kinetic term it recovers the Bures map; without it, it does not.
* :class:`TanhResNet` and :func:`train_resnet` — residual MLP blocks
  :math:`x_{k+1} = x_k + h\,v_k(x_k)`, :math:`v_k(x) = W_{2,k}\tanh(W_{1,k}x + a_k) + c_k`,
  a fixed linear classifier far from the data, task loss squared hinge or cross-entropy, the
  kinetic penalty :math:`\lambda h\sum_k \operatorname{mean}_i\|v_k\|^2`; fixed-λ and the LAP
  Uzawa schedule (loss :math:`\lambda_L L + C`, :math:`\lambda_L \leftarrow \lambda_L + \tau L`
  every ``s`` steps); full-batch Adam. Networks carry a leading *replica* axis: ``R`` independent
  networks (seeds, λ values, initial scales) train in one vectorised loop.
* :func:`transport_diagnostics`, :func:`w2_empirical_squared`, :func:`block_w2`,
  :func:`line_shape_score` — section 7 of the spec.
* :func:`make_two_blobs`, :func:`make_moons`, :func:`make_circles` and
  :func:`generalization_sweep` (paired seeds over λ and the initial scale).

The velocity of a block is its residual-branch output *before* the time step (as in the authors'
code). Losses are means over the batch; the kinetic energy is :math:`C = h\sum_k e_k`,
:math:`e_k = \operatorname{mean}_i \|v_k(x_{k,i})\|^2`.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from phasekit._constraints import check_array, check_scalar
from phasekit._errors import InvalidParameterError
from phasekit.theory.transport.transport import (gaussian_ot, halfspace_projection_map,
                                                 linear_resnet_moments)
from phasekit.validation._common import estimate

__all__ = [
    "LinearResNetFit", "fit_linear_resnet", "linear_resnet_objective",
    "TanhResNet", "ResNetTrainResult", "train_resnet", "adam_minimize",
    "TransportDiagnostics", "transport_diagnostics", "w2_empirical_squared", "block_w2",
    "line_shape_score", "straightness", "gradient_check",
    "make_two_blobs", "make_moons", "make_circles",
    "GeneralizationSweep", "generalization_sweep",
]


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _seed_of(rng):
    return int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None


# =============================================================================================
# gradient check
# =============================================================================================
def gradient_check(fun, theta, *, eps=1e-6, rng=0, n_coords=None) -> float:
    r"""Relative error :math:`\|g - g_{fd}\| / \|g_{fd}\|` between the analytic gradient of
    ``fun(theta) -> (value, grad)`` and central finite differences (float64).

    ``n_coords`` restricts the check to a random subset of coordinates (all by default).
    """
    theta = np.asarray(theta, dtype=np.float64).copy()
    _, g = fun(theta)
    idx = np.arange(theta.size)
    if n_coords is not None and n_coords < theta.size:
        idx = _rng(rng).choice(theta.size, size=n_coords, replace=False)
    fd = np.empty(idx.size)
    for j, i in enumerate(idx):
        old = theta[i]
        theta[i] = old + eps
        fp, _ = fun(theta)
        theta[i] = old - eps
        fm, _ = fun(theta)
        theta[i] = old
        fd[j] = (fp - fm) / (2 * eps)
    return float(np.linalg.norm(g[idx] - fd) / max(np.linalg.norm(fd), 1e-300))


# =============================================================================================
# E1: population-level linear ResNet
# =============================================================================================
def _unpack_linear(theta, K, d):
    B = theta[:K * d * d].reshape(K, d, d)
    c = theta[K * d * d:].reshape(K, d)
    return B, c


def linear_resnet_objective(theta, m0, S0, m1, S1, K, mu, *, kinetic=True, multipliers=None):
    r"""Objective and exact gradient of the moment-level linear ResNet.

    .. math::
        J = h\sum_k \bigl[\operatorname{tr}(B_kS_kB_k^\top) + \|B_km_k+c_k\|^2\bigr]
            + \mu\bigl(\|m_K-m_1\|^2 + \|S_K-\Sigma_1\|_F^2\bigr)
            + \langle \ell_m, m_K-m_1\rangle + \langle \ell_S, S_K-\Sigma_1\rangle_F

    with :math:`m_{k+1} = m_k + h(B_km_k+c_k)`, :math:`S_{k+1} = (I+hB_k)S_k(I+hB_k)^\top`,
    ``theta = concat(B.ravel(), c.ravel())``, ``multipliers = (l_m, l_S)`` (augmented Lagrangian;
    ``None`` for the pure penalty). ``kinetic=False`` drops the first sum (the control).
    """
    m0 = np.asarray(m0, float)
    d = m0.size
    h = 1.0 / K
    B, c = _unpack_linear(np.asarray(theta, float), K, d)
    I = np.eye(d)
    ms, Ss, us, Ps = [m0], [np.asarray(S0, float)], [], []
    kin = 0.0
    for k in range(K):
        m, S = ms[-1], Ss[-1]
        u = B[k] @ m + c[k]
        P = I + h * B[k]
        if kinetic:
            kin += h * (np.sum((B[k] @ S) * B[k]) + u @ u)
        us.append(u)
        Ps.append(P)
        ms.append(m + h * u)
        Ss.append(P @ S @ P.T)
    rm = ms[-1] - np.asarray(m1, float)
    rS = Ss[-1] - np.asarray(S1, float)
    J = kin + mu * (rm @ rm + np.sum(rS * rS))
    gm = 2 * mu * rm
    gS = 2 * mu * rS
    if multipliers is not None:
        lm, lS = multipliers
        J += lm @ rm + np.sum(lS * rS)
        gm = gm + lm
        gS = gS + 0.5 * (lS + lS.T)
    gB = np.zeros_like(B)
    gc = np.zeros_like(c)
    for k in range(K - 1, -1, -1):
        m, S, u, P = ms[k], Ss[k], us[k], Ps[k]
        # step: m' = m + h u, u = B m + c ; S' = P S P^T
        gu = h * gm
        gP = 2 * gS @ P @ S
        gmk = gm + B[k].T @ gu
        gSk = P.T @ gS @ P
        gBk = np.outer(gu, m) + h * gP
        gck = gu.copy()
        if kinetic:
            gBk += h * (2 * B[k] @ S + 2 * np.outer(u, m))
            gck += h * 2 * u
            gmk += h * 2 * B[k].T @ u
            gSk += h * B[k].T @ B[k]
        gB[k], gc[k], gm, gS = gBk, gck, gmk, gSk
    return float(J), np.concatenate([gB.ravel(), gc.ravel()])


@dataclasses.dataclass(frozen=True)
class LinearResNetFit:
    """Result of :func:`fit_linear_resnet`.

    Attributes
    ----------
    B, c : ndarray, shapes (K, d, d), (K, d)
        Learned blocks.
    A : ndarray
        Composite linear part :math:`\\prod_k(I+hB_k)` (later blocks on the left).
    A_ot : ndarray
        Bures map.
    w2_squared : float
    kinetic_energy : float
        :math:`C = h\\sum_k \\mathbb E\\|v_k\\|^2` of the learned network (computed also when the
        kinetic term was off).
    block_energies : ndarray, shape (K,)
    energy_cv : float
        ``std(e_k)/mean(e_k)``.
    rel_error : float
        :math:`\\|A - A_{OT}\\|_F/\\|A_{OT}\\|_F`.
    asymmetry : float
        :math:`\\|A - A^\\top\\|_F`.
    mean_residual, cov_residual : float
        :math:`\\|m_K - m_1\\|`, :math:`\\|S_K-\\Sigma_1\\|_F`.
    kinetic : bool
        Whether the kinetic term was in the objective.
    converged : bool
        Last BFGS stage reported success, or stopped on precision loss with the moment
        residuals below ``1e-4``.
    iterations, nfev : int
        Totals over the continuation stages.
    message : str
    mu_schedule : tuple
    method : str
    seed : int or None
    runtime : float
        Wall-clock seconds.
    """

    B: np.ndarray
    c: np.ndarray
    A: np.ndarray
    A_ot: np.ndarray
    w2_squared: float
    kinetic_energy: float
    block_energies: np.ndarray
    energy_cv: float
    rel_error: float
    asymmetry: float
    mean_residual: float
    cov_residual: float
    kinetic: bool
    converged: bool
    iterations: int
    nfev: int
    message: str
    mu_schedule: tuple
    method: str
    seed: int | None
    runtime: float


def fit_linear_resnet(m0, S0, m1, S1, *, n_blocks=8, kinetic=True, method="penalty",
                      mu_schedule=(1e1, 1e2, 1e3, 1e4, 1e5), init_std=0.5, rng=0,
                      gtol=1e-10, maxiter=20000, uzawa_iterations=8) -> LinearResNetFit:
    r"""Train the moment-level linear ResNet (spec experiment E1).

    Minimises :func:`linear_resnet_objective` with BFGS, warm-starting each stage.

    Parameters
    ----------
    m0, S0, m1, S1 : array_like
        Source and target Gaussian moments.
    n_blocks : int
        K; the time step is ``h = 1/K``.
    kinetic : bool
        Include the kinetic energy (``False``: the control, where only the end moments count).
    method : {"penalty", "uzawa"}
        ``"penalty"``: continue μ over ``mu_schedule``. ``"uzawa"``: after the penalty stages,
        ``uzawa_iterations`` augmented-Lagrangian stages at the last μ with multiplier updates
        ``ℓ ← ℓ + 2μ r`` (the constraint residual then vanishes at finite μ).
    init_std : float
        Entries of B and c start i.i.d. ``N(0, init_std**2)``.
    rng : int or Generator
        Seed of the initialisation.

    Notes
    -----
    With the kinetic term the exact minimiser is :func:`phasekit.theory.transport.linear_resnet_from_ot`
    (the discrete bound :math:`C_K \ge W_2^2` is attained only by the Brenier map moved at constant
    speed); without it, the constraint :math:`A\Sigma_0A^\top=\Sigma_1` is met by a whole family
    :math:`\Sigma_1^{1/2}R\Sigma_0^{-1/2}`, R orthogonal.
    """
    from scipy.optimize import minimize
    where = "fit_linear_resnet"
    K = check_scalar(n_blocks, "n_blocks", where, int, 1)
    if method not in ("penalty", "uzawa"):
        raise InvalidParameterError(
            f"The 'method' parameter of {where} must be a str among {{'penalty', 'uzawa'}}. "
            f"Got {method!r} instead.")
    check_array(init_std, "init_std", where, 0, closed="left")
    ot = gaussian_ot(m0, S0, m1, S1)
    d = ot.dim
    seed = _seed_of(rng)
    gen = _rng(rng)
    t0 = time.perf_counter()
    theta = init_std * gen.standard_normal(K * d * d + K * d)
    nit = nfev = 0
    res = None
    args = (ot.m0, ot.S0, ot.m1, ot.S1, K)
    for mu in mu_schedule:
        res = minimize(lambda th, mu=mu: linear_resnet_objective(th, *args, mu, kinetic=kinetic),
                       theta, jac=True, method="BFGS", options={"gtol": gtol, "maxiter": maxiter})
        theta = res.x
        nit += res.nit
        nfev += res.nfev
    if method == "uzawa":
        mu = mu_schedule[-1]
        lm = np.zeros(d)
        lS = np.zeros((d, d))
        for _ in range(uzawa_iterations):
            res = minimize(lambda th: linear_resnet_objective(
                th, *args, mu, kinetic=kinetic, multipliers=(lm, lS)), theta, jac=True,
                method="BFGS", options={"gtol": gtol, "maxiter": maxiter})
            theta = res.x
            nit += res.nit
            nfev += res.nfev
            B, c = _unpack_linear(theta, K, d)
            ms, Ss, _ = linear_resnet_moments(B, c, ot.m0, ot.S0, 1.0 / K)
            lm = lm + 2 * mu * (ms[-1] - ot.m1)
            lS = lS + 2 * mu * (Ss[-1] - ot.S1)
    B, c = _unpack_linear(theta, K, d)
    h = 1.0 / K
    ms, Ss, e = linear_resnet_moments(B, c, ot.m0, ot.S0, h)
    A = np.eye(d)
    for Bk in B:
        A = (np.eye(d) + h * Bk) @ A
    mres = float(np.linalg.norm(ms[-1] - ot.m1))
    cres = float(np.linalg.norm(Ss[-1] - ot.S1))
    converged = bool(res.success or (max(mres, cres) < 1e-4 and "precision" in res.message))
    return LinearResNetFit(
        B=B.copy(), c=c.copy(), A=A, A_ot=ot.A, w2_squared=ot.w2_squared,
        kinetic_energy=float(h * e.sum()), block_energies=e, energy_cv=float(e.std() / e.mean()),
        rel_error=float(np.linalg.norm(A - ot.A) / np.linalg.norm(ot.A)),
        asymmetry=float(np.linalg.norm(A - A.T)), mean_residual=mres, cov_residual=cres,
        kinetic=bool(kinetic), converged=converged, iterations=int(nit), nfev=int(nfev),
        message=str(res.message), mu_schedule=tuple(float(m) for m in mu_schedule),
        method=method, seed=seed, runtime=time.perf_counter() - t0)


# =============================================================================================
# tanh residual MLP
# =============================================================================================
_LOSSES = ("squared_hinge", "cross_entropy", "w2_sorted_1d")


@dataclasses.dataclass(frozen=True)
class TanhResNet:
    r"""Configuration of ``n_replicas`` independent tanh residual MLPs (immutable).

    Block k: :math:`x \mapsto x + h\,v_k(x)`, :math:`v_k(x) = W_{2,k}\tanh(W_{1,k}x+a_k)+c_k`.
    Parameters live in one flat float64 vector ``theta`` of length ``n_replicas * n_params``;
    biases are stored next to their weights (``[W1 | a]`` of shape ``(R, K, H, d+1)`` then
    ``[W2 | c]`` of shape ``(R, K, d, H+1)``), so that each affine map is one matrix product on
    inputs augmented by a column of ones; :meth:`views` gives named views. The fixed linear
    classifier :math:`w\cdot x + b` is not trained.

    Attributes
    ----------
    dim, width, n_blocks, n_replicas : int
    h : float
        Time step, ``1/n_blocks`` by default.
    """

    dim: int = 2
    width: int = 32
    n_blocks: int = 8
    n_replicas: int = 1
    h: float | None = None

    def __post_init__(self):
        for name in ("dim", "width", "n_blocks", "n_replicas"):
            check_scalar(getattr(self, name), name, "TanhResNet", int, 1)
        if self.h is None:
            object.__setattr__(self, "h", 1.0 / self.n_blocks)
        check_array(self.h, "h", "TanhResNet", 0, closed="neither")
        R, K, H, d = self.n_replicas, self.n_blocks, self.width, self.dim
        object.__setattr__(self, "_s1", (R, K, H, d + 1))
        object.__setattr__(self, "_s2", (R, K, d, H + 1))
        object.__setattr__(self, "_n1", R * K * H * (d + 1))

    @property
    def size(self) -> int:
        """Length of the flat parameter vector (all replicas)."""
        R, K, H, d = self.n_replicas, self.n_blocks, self.width, self.dim
        return R * K * (H * (d + 1) + d * (H + 1))

    def _packed(self, theta):
        return theta[:self._n1].reshape(self._s1), theta[self._n1:].reshape(self._s2)

    def views(self, theta):
        """Named views ``W1 (R,K,H,d)``, ``a (R,K,H)``, ``W2 (R,K,d,H)``, ``c (R,K,d)`` into the
        flat vector ``theta`` (no copies: writing to them changes ``theta``)."""
        P1, P2 = self._packed(theta)
        d, H = self.dim, self.width
        return {"W1": P1[..., :d], "a": P1[..., d], "W2": P2[..., :H], "c": P2[..., H]}

    def init(self, rng=0, init_std=0.3):
        """Initial parameters: ``W1, a, W2 ~ N(0, init_std**2)``, ``c = 0``.

        ``rng`` is one seed/Generator or a sequence of ``n_replicas`` of them (replica r drawn
        from its own stream — the same seed gives the same initial network, which pairs runs);
        ``init_std`` is a float or one value per replica.
        """
        R = self.n_replicas
        rngs = list(rng) if isinstance(rng, (list, tuple, np.ndarray)) else None
        if rngs is not None and len(rngs) != R:
            raise InvalidParameterError(
                f"The 'rng' parameter of TanhResNet.init must be a seed or a sequence of "
                f"{R} seeds. Got a sequence of {len(rngs)} instead.")
        std = np.broadcast_to(np.asarray(init_std, dtype=float), (R,))
        check_array(std, "init_std", "TanhResNet.init", 0, closed="left")
        theta = np.zeros(self.size)
        V = self.views(theta)
        gens = [_rng(g) for g in rngs] if rngs is not None else [_rng(rng)] * R
        for r in range(R):
            for name in ("W1", "a", "W2"):
                V[name][r] = std[r] * gens[r].standard_normal(V[name].shape[1:])
        return theta

    # ---------------------------------------------------------------------------------------
    def _as_batch(self, X):
        X = np.asarray(X, dtype=float)
        if X.ndim == 2:
            X = np.broadcast_to(X, (self.n_replicas,) + X.shape)
        if X.ndim != 3 or X.shape[0] != self.n_replicas or X.shape[2] != self.dim:
            raise InvalidParameterError(
                f"The 'X' parameter of TanhResNet must have shape (n, {self.dim}) or "
                f"({self.n_replicas}, n, {self.dim}). Got shape {X.shape} instead.")
        return X

    def forward(self, theta, X):
        """Run the blocks. Returns ``(xs, ts, vs)``: block inputs/outputs ``(K+1, R, n, d)``,
        hidden activations ``(K, R, n, H)`` and velocities ``(K, R, n, d)`` (views into
        augmented work arrays)."""
        xa, ta, vs = self._forward(theta, self._as_batch(X))
        return xa[..., :self.dim], ta[..., :self.width], vs

    def _forward(self, theta, X):
        P1, P2 = self._packed(theta)
        W1t = P1.transpose(1, 0, 3, 2)      # (K, R, d+1, H)
        W2t = P2.transpose(1, 0, 3, 2)      # (K, R, H+1, d)
        K, h, d, H = self.n_blocks, self.h, self.dim, self.width
        R, n, _ = X.shape
        xa = np.empty((K + 1, R, n, d + 1))
        xa[..., d] = 1.0
        xa[0, ..., :d] = X
        ta = np.empty((K, R, n, H + 1))
        ta[..., H] = 1.0
        vs = np.empty((K, R, n, d))
        for k in range(K):
            np.tanh(np.matmul(xa[k], W1t[k]), out=ta[k, ..., :H])
            np.matmul(ta[k], W2t[k], out=vs[k])
            np.add(xa[k, ..., :d], h * vs[k], out=xa[k + 1, ..., :d])
        return xa, ta, vs

    def trajectories(self, theta, X):
        """Particle paths ``(K+1, R, n, d)``."""
        return self.forward(theta, X)[0]

    def loss_and_grad(self, theta, X, y, *, w, b, margin=0.0, alpha=1.0, beta=1.0,
                      loss="squared_hinge", target=None):
        r"""Total loss :math:`\sum_r [\alpha_r C_r + \beta_r L_r]` and its gradient.

        :math:`C_r = h\sum_k \operatorname{mean}_i\|v_{k,i}\|^2`; with the score
        :math:`s_i = y_i(w\cdot x_{K,i}+b)`, :math:`L_r = \operatorname{mean}_i (m - s_i)_+^2`
        (``squared_hinge``) or :math:`\operatorname{mean}_i \ln(1+e^{-s_i})`
        (``cross_entropy``: binary softmax cross-entropy with logits ``(0, w·x+b)``).
        ``w2_sorted_1d`` (``dim == 1``) ignores ``y, w, b`` and fits the output distribution to
        the 1-D sample ``target`` (shape ``(n,)`` or ``(R, n)``) by the exact sorted-sample
        :math:`L_r = W_2^2 = \operatorname{mean}_i (x_{K,(i)} - t_{(i)})^2`.

        Returns
        -------
        total : float
        grad : ndarray, same shape as ``theta``
        parts : dict
            ``kinetic`` (R,), ``task`` (R,), ``block_energies`` (K, R), ``xs``, ``vs``.
        """
        X = self._as_batch(X)
        xa, ta, vs = self._forward(theta, X)
        d, H, K, h = self.dim, self.width, self.n_blocks, self.h
        R, n = X.shape[:2]
        y = np.broadcast_to(np.asarray(1.0 if y is None else y, dtype=float), (R, n))
        alpha = np.broadcast_to(np.asarray(alpha, float), (R,))
        beta = np.broadcast_to(np.asarray(beta, float), (R,))
        w = np.asarray(w, float)
        e = np.einsum("krnd,krnd->kr", vs, vs) / n          # (K, R)
        kin = h * e.sum(axis=0)
        s = y * (xa[-1, ..., :d] @ w + b) if loss != "w2_sorted_1d" else None
        if loss == "w2_sorted_1d":
            if d != 1 or target is None:
                raise InvalidParameterError(
                    "The 'loss' parameter of TanhResNet.loss_and_grad may be 'w2_sorted_1d' only "
                    f"for dim 1 with a target sample. Got dim {d}, target {type(target)} instead.")
            order = np.argsort(xa[-1, ..., 0], axis=1)
            tsort = np.sort(np.broadcast_to(np.asarray(target, float), (R, n)), axis=1)
            resid = np.empty((R, n))
            np.put_along_axis(resid, order,
                              np.take_along_axis(xa[-1, ..., 0], order, axis=1) - tsort, axis=1)
            task = np.einsum("rn,rn->r", resid, resid) / n
        elif loss == "squared_hinge":
            viol = np.clip(margin - s, 0.0, None)
            task = np.einsum("rn,rn->r", viol, viol) / n
            dLds = -2.0 * viol / n
        elif loss == "cross_entropy":
            task = np.mean(np.logaddexp(0.0, -s), axis=1)
            dLds = -0.5 * (1.0 - np.tanh(0.5 * s)) / n          # -sigmoid(-s)/n, stable
        else:
            raise InvalidParameterError(
                f"The 'loss' parameter of TanhResNet.loss_and_grad must be a str among "
                f"{set(_LOSSES)}. Got {loss!r} instead.")
        total = float(np.dot(alpha, kin) + np.dot(beta, task))
        grad = np.empty_like(theta)
        G1, G2 = self._packed(grad)
        P1, P2 = self._packed(theta)
        W1 = P1[..., :d]                                           # (R, K, H, d)
        W2 = P2[..., :H]                                           # (R, K, d, H)
        if loss == "w2_sorted_1d":
            gx = (beta[:, None] * 2.0 * resid / n)[..., None]      # (R, n, 1)
        else:
            gx = (beta[:, None] * dLds * y)[..., None] * w        # (R, n, d)
        kin_coef = (alpha * 2.0 * h / n)[:, None, None]
        gz = np.empty((R, n, H))
        for k in range(K - 1, -1, -1):
            gv = h * gx
            gv += kin_coef * vs[k]                                 # (R, n, d)
            Tk = ta[k]
            np.matmul(gv.transpose(0, 2, 1), Tk, out=G2[:, k])    # [gW2 | gc]
            T = Tk[..., :H]
            np.matmul(gv, W2[:, k], out=gz)
            gz *= 1.0 - T * T
            np.matmul(gz.transpose(0, 2, 1), xa[k], out=G1[:, k])  # [gW1 | ga]
            gx += np.matmul(gz, W1[:, k])
        return total, grad, {"kinetic": kin, "task": task, "block_energies": e,
                             "xs": xa[..., :d], "vs": vs}


@dataclasses.dataclass(frozen=True)
class ResNetTrainResult:
    """Result of :func:`train_resnet`.

    Attributes
    ----------
    net : TanhResNet
    theta : ndarray
        Final flat parameters.
    schedule : str
        ``"fixed"`` or ``"uzawa"``.
    loss : str
    lam_kin, mu : ndarray, shape (R,)
        Fixed-λ weights (kinetic, task); for Uzawa ``lam_kin = 1`` and ``mu`` is the final λ_L.
    record_iters : ndarray
        Iterations at which the history was recorded.
    kinetic_history, task_history : ndarray, shape (n_records, R)
    lambda_history : ndarray, shape (n_updates + 1, R)
        Uzawa multiplier λ_L after each update (first row λ_L0); empty for ``fixed``.
    kinetic, task : ndarray, shape (R,)
        Final kinetic energy and task loss.
    w, b, margin : ndarray, float, float
        The fixed classifier and margin.
    n_iter : int
    seed : int or None
    runtime : float
    """

    net: TanhResNet
    theta: np.ndarray
    schedule: str
    loss: str
    lam_kin: np.ndarray
    mu: np.ndarray
    record_iters: np.ndarray
    kinetic_history: np.ndarray
    task_history: np.ndarray
    lambda_history: np.ndarray
    kinetic: np.ndarray
    task: np.ndarray
    w: np.ndarray
    b: float
    margin: float
    n_iter: int
    seed: int | None
    runtime: float

    def trajectories(self, X):
        """Particle paths ``(K+1, R, n, d)`` of points ``X`` through the trained blocks."""
        return self.net.trajectories(self.theta, X)

    def predict(self, X):
        """Predicted labels ``sign(w·x_K + b)``, shape ``(R, n)``."""
        xK = self.trajectories(X)[-1]
        return np.where(xK @ self.w + self.b >= 0, 1.0, -1.0)


def adam_minimize(fun, theta, *, lr, n_iter, betas=(0.9, 0.999), eps=1e-8, callback=None):
    """Plain full-batch Adam (PyTorch's update) on a flat vector; ``fun(theta, it) -> (value, grad)``.

    ``callback(it, theta, value)`` runs after each step. Returns the final ``theta``.
    """
    b1, b2 = betas
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    theta = theta.copy()
    for it in range(n_iter):
        val, g = fun(theta, it)
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        # PyTorch's form: theta -= lr * m_hat / (sqrt(v_hat) + eps)
        denom = np.sqrt(v)
        denom *= 1.0 / np.sqrt(1 - b2 ** (it + 1))
        denom += eps
        theta -= (lr / (1 - b1 ** (it + 1))) * m / denom
        if callback is not None:
            callback(it, theta, val)
    return theta


def train_resnet(X, y, *, n_blocks=8, width=32, lam_kin=1.0, mu=50.0, loss="squared_hinge",
                 w=(0.0, 1.0), b=2.0, margin=0.5, schedule="fixed", lambda0=1.0, tau=20.0,
                 uzawa_every=5, lr=3e-3, n_iter=6000, init_std=0.3, rng=0, theta0=None,
                 record_every=100, betas=(0.9, 0.99), target=None) -> ResNetTrainResult:
    r"""Train tanh residual MLPs in front of a fixed linear classifier, full batch, Adam.

    ``schedule="fixed"`` minimises :math:`\lambda_{kin} C + \mu L`; ``schedule="uzawa"`` (LAP)
    minimises :math:`\lambda_L L + C` and every ``uzawa_every`` steps sets
    :math:`\lambda_L \leftarrow \lambda_L + \tau L` (dual ascent on :math:`L = 0`).

    Parameters
    ----------
    X : array_like, shape (n, d) or (R, n, d)
        Training inputs (one set shared by all replicas, or one per replica).
    y : array_like, shape (n,) or (R, n)
        Labels in {-1, +1}.
    lam_kin, mu, lambda0, tau, init_std : float or array of shape (R,)
        Per-replica values broadcast over ``R``; ``R`` is taken from the largest of ``X``,
        these arrays and ``rng`` (a sequence of seeds, one per replica).
    w, b, margin : fixed classifier :math:`w\cdot x + b` and margin ``m``.
    theta0 : ndarray, optional
        Initial flat parameters (default :meth:`TanhResNet.init`).
    target : array_like, optional
        Target sample for ``loss="w2_sorted_1d"`` (1-D inputs; ``y`` is then ignored and may be
        ``None``).
    """
    where = "train_resnet"
    if schedule not in ("fixed", "uzawa"):
        raise InvalidParameterError(
            f"The 'schedule' parameter of {where} must be a str among {{'fixed', 'uzawa'}}. "
            f"Got {schedule!r} instead.")
    if loss not in _LOSSES:
        raise InvalidParameterError(
            f"The 'loss' parameter of {where} must be a str among {set(_LOSSES)}. "
            f"Got {loss!r} instead.")
    n_iter = check_scalar(n_iter, "n_iter", where, int, 0)
    uzawa_every = check_scalar(uzawa_every, "uzawa_every", where, int, 1)
    record_every = check_scalar(record_every, "record_every", where, int, 1)
    check_array(lr, "lr", where, 0, closed="neither")
    for name, val in (("lam_kin", lam_kin), ("mu", mu), ("lambda0", lambda0), ("tau", tau)):
        check_array(np.asarray(val, float), name, where, 0, closed="left")
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.ones(X.shape[-2]) if (y is None and loss == "w2_sorted_1d") else np.asarray(y, float)
    if np.any(np.abs(np.abs(y) - 1.0) > 0):
        raise InvalidParameterError(
            f"The 'y' parameter of {where} must hold labels in {{-1, +1}}. "
            f"Got {np.unique(y)[:5].tolist()} instead.")
    rng_list = list(rng) if isinstance(rng, (list, tuple, np.ndarray)) else None
    sizes = [np.size(v) for v in (lam_kin, mu, lambda0, tau, init_std)]
    sizes += [X.shape[0] if X.ndim == 3 else 1, len(rng_list) if rng_list else 1]
    d = X.shape[-1]
    if theta0 is not None:
        sizes.append(max(np.size(theta0) // TanhResNet(d, width, n_blocks, 1).size, 1))
    R = max(sizes)
    net = TanhResNet(dim=d, width=width, n_blocks=n_blocks, n_replicas=R)
    Xb = net._as_batch(X)
    yb = np.broadcast_to(y, Xb.shape[:2]).astype(float)
    theta = net.init(rng, init_std) if theta0 is None else np.array(theta0, dtype=float)
    if theta.size != net.size:
        raise InvalidParameterError(
            f"The 'theta0' parameter of {where} must have {net.size} entries. "
            f"Got {theta.size} instead.")
    lam_kin = np.broadcast_to(np.asarray(lam_kin, float), (R,)).copy()
    mu = np.broadcast_to(np.asarray(mu, float), (R,)).copy()
    tau = np.broadcast_to(np.asarray(tau, float), (R,)).copy()
    lamL = np.broadcast_to(np.asarray(lambda0, float), (R,)).copy()
    w = np.asarray(w, float)
    rec_it, kin_h, task_h, lam_h = [], [], [], [lamL.copy()] if schedule == "uzawa" else []
    state = {}

    def fun(theta, it):
        if schedule == "fixed":
            alpha, beta = lam_kin, mu
        else:
            alpha, beta = 1.0, lamL
        val, g, parts = net.loss_and_grad(theta, Xb, yb, w=w, b=b, margin=margin, alpha=alpha,
                                          beta=beta, loss=loss, target=target)
        state["parts"] = parts
        if it % record_every == 0:
            rec_it.append(it)
            kin_h.append(parts["kinetic"].copy())
            task_h.append(parts["task"].copy())
        if schedule == "uzawa" and (it + 1) % uzawa_every == 0:
            # dual ascent with the task loss at the current iterate (before the step)
            lamL[:] = lamL + tau * parts["task"]
            lam_h.append(lamL.copy())
        return val, g

    t0 = time.perf_counter()
    theta = adam_minimize(fun, theta, lr=lr, n_iter=n_iter, betas=betas)
    runtime = time.perf_counter() - t0
    _, _, parts = net.loss_and_grad(theta, Xb, yb, w=w, b=b, margin=margin, loss=loss,
                                    target=target)
    return ResNetTrainResult(
        net=net, theta=theta, schedule=schedule, loss=loss,
        lam_kin=lam_kin if schedule == "fixed" else np.ones(R),
        mu=mu if schedule == "fixed" else lamL.copy(),
        record_iters=np.asarray(rec_it), kinetic_history=np.asarray(kin_h),
        task_history=np.asarray(task_h), lambda_history=np.asarray(lam_h),
        kinetic=parts["kinetic"], task=parts["task"], w=w, b=float(b), margin=float(margin),
        n_iter=n_iter, seed=_seed_of(rng), runtime=runtime)


# =============================================================================================
# diagnostics
# =============================================================================================
def w2_empirical_squared(a, b, *, method=None, max_assignment=3000) -> float:
    r"""Empirical :math:`W_2^2` between two equally weighted point clouds.

    ``method``: ``None`` (1-D: sorted samples, exact; otherwise ``"assignment"``),
    ``"sorted"`` (1-D only), ``"assignment"`` (``scipy.optimize.linear_sum_assignment`` on the
    squared Euclidean cost, equal sizes, at most ``max_assignment`` points — exact for uniform
    weights), ``"pot"`` (``ot.emd2`` from POT, if importable; sizes may differ).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if method is None:
        method = "sorted" if a.shape[1] == 1 else "assignment"
    if method == "sorted":
        if a.shape[1] != 1 or a.shape != b.shape:
            raise InvalidParameterError(
                "The 'method' parameter of w2_empirical_squared may be 'sorted' only for 1-D "
                f"samples of equal size. Got shapes {a.shape}, {b.shape} instead.")
        return float(np.mean((np.sort(a[:, 0]) - np.sort(b[:, 0])) ** 2))
    cost = np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1) if method != "pot" else None
    if method == "assignment":
        if a.shape != b.shape or a.shape[0] > max_assignment:
            raise InvalidParameterError(
                "The 'a', 'b' parameters of w2_empirical_squared must have equal shapes with at "
                f"most {max_assignment} points for 'assignment'. Got {a.shape}, {b.shape} instead.")
        from scipy.optimize import linear_sum_assignment
        r, c = linear_sum_assignment(cost)
        return float(cost[r, c].mean())
    if method == "pot":
        try:
            import ot  # noqa: F401  (optional backend)
        except ImportError as exc:
            raise InvalidParameterError(
                "The 'method' parameter of w2_empirical_squared is 'pot' but POT is not "
                "installed (pip install pot); use 'assignment'.") from exc
        M = ot.dist(a, b)
        return float(ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), M))
    raise InvalidParameterError(
        "The 'method' parameter of w2_empirical_squared must be a str among "
        f"{{'sorted', 'assignment', 'pot'}} or None. Got {method!r} instead.")


def block_w2(path, *, method=None) -> np.ndarray:
    r""":math:`W_2(\rho_k, \rho_{k+1})` between consecutive block outputs of ``path``
    ``(K+1, n, d)``. On a constant-speed geodesic every entry equals :math:`W_2(\rho_0,\rho_K)/K`."""
    path = np.asarray(path, dtype=float)
    return np.sqrt([w2_empirical_squared(path[k], path[k + 1], method=method)
                    for k in range(path.shape[0] - 1)])


def straightness(path) -> np.ndarray:
    """Per-particle chord / path length ``||x_K - x_0|| / sum_k ||x_{k+1} - x_k||`` (1 if straight;
    NaN for a particle that does not move)."""
    path = np.asarray(path, dtype=float)
    length = np.sum(np.linalg.norm(np.diff(path, axis=0), axis=-1), axis=0)
    chord = np.linalg.norm(path[-1] - path[0], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(length > 0, chord / np.where(length > 0, length, 1.0), np.nan)


def line_shape_score(path) -> float:
    r"""Line-shape score, our analogue of Gai–Zhang's LSS (arXiv:2102.09235, exact definition not
    retrieved): length-weighted straightness :math:`\sum_i\|x_{K,i}-x_{0,i}\| /
    \sum_i \sum_k\|x_{k+1,i}-x_{k,i}\|` (1 for straight tracks; particles that barely move carry
    little weight)."""
    path = np.asarray(path, dtype=float)
    length = np.sum(np.linalg.norm(np.diff(path, axis=0), axis=-1))
    chord = np.sum(np.linalg.norm(path[-1] - path[0], axis=-1))
    return float(chord / length) if length > 0 else 1.0


@dataclasses.dataclass(frozen=True)
class TransportDiagnostics:
    """Transport diagnostics of a network's particle paths (spec section 7).

    Attributes
    ----------
    block_energies : ndarray, shape (K,)
        :math:`e_k = \\operatorname{mean}_i\\|v_k(x_{k,i})\\|^2`.
    kinetic_energy : float
        :math:`C = h\\sum_k e_k`.
    energy_cv : float
        ``std_k(e_k)/mean_k(e_k)``.
    ot_cost : float
        :math:`\\frac1N\\sum_i\\|T(x_i)-x_i\\|^2` of the reference map (NaN if none).
    kinetic_rel_error : float
        ``|C - ot_cost| / ot_cost``.
    displacement_rel_error : float
        :math:`\\|D - D^*\\|_F / \\|D^*\\|_F`, :math:`D = x_K - x_0`, :math:`D^* = T(x_0) - x_0`.
    direction_cosine : float
        Mean over moving particles of :math:`\\cos(D_i, D^*_i)`.
    straightness : float
        Mean per-particle straightness over moving particles (all particles if none is marked).
    static_displacement : float
        Mean :math:`\\|x_K - x_0\\|` over particles the reference map leaves in place.
    max_violation : float
        :math:`\\max_i (m - y_i(w\\cdot x_{K,i}+b))_+` (NaN without a classifier).
    line_shape_score : float
        :func:`line_shape_score`.
    ot_score : float
        :math:`\\mathbb E\\|x_K-x_0\\|^2 / W_2^2(x_0, x_K)` (≥ 1, = 1 iff the learned coupling is
        optimal); NaN when not computed.
    w2_blocks : ndarray, shape (K,)
        :func:`block_w2` (empty when not computed).
    """

    block_energies: np.ndarray
    kinetic_energy: float
    energy_cv: float
    ot_cost: float
    kinetic_rel_error: float
    displacement_rel_error: float
    direction_cosine: float
    straightness: float
    static_displacement: float
    max_violation: float
    line_shape_score: float
    ot_score: float
    w2_blocks: np.ndarray

    def as_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                for i, x in enumerate(v):
                    out[f"{f.name}_{i}"] = float(x)
            else:
                out[f.name] = float(v)
        return out


def transport_diagnostics(path, *, h=None, target=None, y=None, w=None, b=0.0, margin=0.0,
                          moving_tol=1e-9, w2=True, max_w2_points=1000) -> TransportDiagnostics:
    """Diagnostics of particle paths ``(K+1, n, d)`` against a reference map.

    The reference ``target`` (``T(x_0)``, shape ``(n, d)``) defaults to the half-space projection
    map :func:`phasekit.theory.transport.halfspace_projection_map` when ``y`` and ``w`` are given.
    ``w2`` computes the block-to-block W2 and the OT score by assignment (on the first
    ``max_w2_points`` particles).
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 3:
        raise InvalidParameterError(
            "The 'path' parameter of transport_diagnostics must have shape (K+1, n, d). "
            f"Got shape {path.shape} instead.")
    K = path.shape[0] - 1
    h = 1.0 / K if h is None else float(h)
    v = np.diff(path, axis=0) / h
    e = np.mean(np.sum(v * v, axis=-1), axis=1)
    C = float(h * e.sum())
    x0, xK = path[0], path[-1]
    D = xK - x0
    if target is None and y is not None and w is not None:
        target = halfspace_projection_map(x0, y, w, b, margin)
    nan = float("nan")
    if target is not None:
        Dstar = np.asarray(target, float) - x0
        nstar = np.linalg.norm(Dstar, axis=1)
        moving = nstar > moving_tol
        ot_cost = float(np.mean(nstar ** 2))
        rel = float(np.linalg.norm(D - Dstar) / np.linalg.norm(Dstar))
        nD = np.linalg.norm(D, axis=1)
        cosv = np.sum(D * Dstar, axis=1) / np.maximum(nD * nstar, 1e-300)
        cos = float(np.mean(cosv[moving])) if moving.any() else nan
        static = float(np.mean(nD[~moving])) if (~moving).any() else nan
        kin_rel = abs(C - ot_cost) / ot_cost if ot_cost > 0 else nan
    else:
        moving = np.ones(path.shape[1], bool)
        ot_cost = rel = cos = static = kin_rel = nan
    st = straightness(path)
    st_mean = float(np.nanmean(st[moving])) if np.any(moving & np.isfinite(st)) else nan
    viol = nan
    if y is not None and w is not None:
        viol = float(np.max(np.clip(margin - np.asarray(y) * (xK @ np.asarray(w) + b), 0, None)))
    ots, wb = nan, np.empty(0)
    if w2:
        sub = path[:, :max_w2_points]
        wb = block_w2(sub)
        w2_end = w2_empirical_squared(sub[0], sub[-1])
        chord = float(np.mean(np.sum((sub[-1] - sub[0]) ** 2, axis=-1)))
        ots = chord / w2_end if w2_end > 0 else nan
    return TransportDiagnostics(
        block_energies=e, kinetic_energy=C, energy_cv=float(e.std() / e.mean()) if e.mean() > 0
        else 0.0, ot_cost=ot_cost, kinetic_rel_error=kin_rel, displacement_rel_error=rel,
        direction_cosine=cos, straightness=st_mean, static_displacement=static,
        max_violation=viol, line_shape_score=line_shape_score(path), ot_score=ots, w2_blocks=wb)


# =============================================================================================
# data
# =============================================================================================
def make_two_blobs(n=400, *, rng=0, centers=((-1.0, 0.0), (1.0, 0.0)), std=0.3):
    """Two isotropic Gaussian blobs, ``n//2`` points each; labels -1 (first centre) and +1.

    Returns ``X (n, 2)``, ``y (n,)``.
    """
    check_scalar(n, "n", "make_two_blobs", int, 2)
    g = _rng(rng)
    n0 = n // 2
    c = np.asarray(centers, float)
    X = np.concatenate([c[0] + std * g.standard_normal((n0, c.shape[1])),
                        c[1] + std * g.standard_normal((n - n0, c.shape[1]))])
    y = np.concatenate([-np.ones(n0), np.ones(n - n0)])
    return X, y


def make_moons(n=100, *, noise=0.1, rng=0):
    """Two interleaving half circles (numpy version of sklearn's ``make_moons``, random angles).

    Upper moon ``(cos θ, sin θ)`` has label +1, lower moon ``(1 - cos θ, 1/2 - sin θ)`` label -1,
    ``θ ~ U(0, π)``, plus ``N(0, noise²)`` noise. Returns ``X (n, 2)``, ``y (n,)``.
    """
    check_scalar(n, "n", "make_moons", int, 2)
    g = _rng(rng)
    n1 = n // 2
    th = np.pi * g.random(n)
    up = np.stack([np.cos(th[:n1]), np.sin(th[:n1])], axis=1)
    lo = np.stack([1 - np.cos(th[n1:]), 0.5 - np.sin(th[n1:])], axis=1)
    X = np.concatenate([up, lo]) + noise * g.standard_normal((n, 2))
    y = np.concatenate([np.ones(n1), -np.ones(n - n1)])
    return X, y


def make_circles(n=100, *, noise=0.05, factor=0.3, rng=0):
    """Two concentric circles (numpy version of sklearn's ``make_circles``, random angles).

    Outer circle (radius 1) label -1, inner (radius ``factor``) label +1.
    """
    check_scalar(n, "n", "make_circles", int, 2)
    g = _rng(rng)
    n0 = n // 2
    th = 2 * np.pi * g.random(n)
    r = np.concatenate([np.ones(n0), factor * np.ones(n - n0)])
    X = r[:, None] * np.stack([np.cos(th), np.sin(th)], axis=1) + noise * g.standard_normal((n, 2))
    y = np.concatenate([-np.ones(n0), np.ones(n - n0)])
    return X, y


# =============================================================================================
# E3: kinetic energy vs generalization
# =============================================================================================
@dataclasses.dataclass(frozen=True)
class GeneralizationSweep:
    """Result of :func:`generalization_sweep`.

    Attributes
    ----------
    n_train : tuple[int]
    lam_kins : tuple[float]
    init_stds : tuple[float]
    accuracy, kinetic : dict[(n_train, lam_kin), SimStats]
        Test accuracy and kinetic energy over the paired seeds.
    paired_gain : dict[(n_train, lam_kin), SimStats]
        Per-seed accuracy(λ) − accuracy(0) (paired: same data and initial network).
    init_accuracy, init_kinetic : dict[init_std, SimStats]
        Init-scale sweep at λ_kin = 0.
    raw_accuracy, raw_kinetic : dict
        Per-seed arrays behind the statistics.
    base_init_std, n_seeds, n_init_seeds, dataset : as passed
    seed : int
    runtime : float
    """

    n_train: tuple
    lam_kins: tuple
    init_stds: tuple
    accuracy: dict
    kinetic: dict
    paired_gain: dict
    init_accuracy: dict
    init_kinetic: dict
    raw_accuracy: dict
    raw_kinetic: dict
    base_init_std: float
    n_seeds: int
    n_init_seeds: int
    dataset: str
    seed: int
    runtime: float


def generalization_sweep(*, n_train=(20, 60), lam_kins=(0.0, 0.03, 0.3, 3.0), n_seeds=20,
                         init_stds=(0.1, 0.5, 1.0, 2.0), n_init_seeds=16, init_n_train=20,
                         base_init_std=1.0, dataset="moons", noise=0.1, n_test=4000,
                         n_blocks=8, width=16, n_iter=4000, lr=3e-3, mu=50.0,
                         w=(0.0, 1.0), b=0.0, margin=0.3, seed=0) -> GeneralizationSweep:
    """Paired-seed sweep of test accuracy and kinetic energy (spec experiment E3).

    For each training size, seed ``s`` fixes the training set, the test set and the initial
    network; all λ_kin values share them, so differences are paired. All replicas of one training
    size train together (one vectorised Adam loop). The init-scale sweep trains at λ_kin = 0.
    """
    where = "generalization_sweep"
    if dataset not in ("moons", "circles"):
        raise InvalidParameterError(
            f"The 'dataset' parameter of {where} must be a str among {{'moons', 'circles'}}. "
            f"Got {dataset!r} instead.")
    gen = make_moons if dataset == "moons" else make_circles
    kw = {"noise": noise}
    t0 = time.perf_counter()
    ss = np.random.SeedSequence(seed)
    acc, kin, gain, raw_acc, raw_kin = {}, {}, {}, {}, {}

    def run(N, seeds, lam_list, std_list):
        """Train one replica per (seed, lam, std) combination; return acc, kin (S, L)."""
        S, L = len(seeds), len(lam_list)
        Xs, ys, Xt, yt, init_seeds = [], [], [], [], []
        for sd in seeds:
            ss_data, ss_init = np.random.SeedSequence(sd).spawn(2)
            g = np.random.default_rng(ss_data)
            Xa, ya = gen(N, rng=g, **kw)
            Xb, yb = gen(n_test, rng=g, **kw)
            Xs.append(Xa), ys.append(ya), Xt.append(Xb), yt.append(yb)
            init_seeds.append(int(ss_init.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        rep = lambda a: np.repeat(np.asarray(a), L, axis=0)  # noqa: E731
        res = train_resnet(rep(Xs), rep(ys), n_blocks=n_blocks, width=width,
                           lam_kin=np.tile(lam_list, S), mu=mu, w=w, b=b, margin=margin,
                           lr=lr, n_iter=n_iter, init_std=np.tile(std_list, S),
                           rng=[int(s) for s in np.repeat(init_seeds, L)], record_every=n_iter)
        pred = res.predict(rep(Xt))
        a = np.mean(pred == rep(yt), axis=1).reshape(S, L)
        return a, res.kinetic.reshape(S, L)

    seeds_lam = [int(s) for s in ss.spawn(1)[0].generate_state(n_seeds)]
    for N in n_train:
        a, k = run(N, seeds_lam, np.asarray(lam_kins, float),
                   np.full(len(lam_kins), base_init_std))
        for j, lam in enumerate(lam_kins):
            key = (int(N), float(lam))
            raw_acc[key], raw_kin[key] = a[:, j], k[:, j]
            acc[key] = estimate(a[:, j], seed=seed)
            kin[key] = estimate(k[:, j], seed=seed)
            gain[key] = estimate(a[:, j] - a[:, 0], seed=seed)
    init_acc, init_kin = {}, {}
    if init_stds:
        seeds_init = [int(s) for s in ss.spawn(2)[1].generate_state(n_init_seeds)]
        a, k = run(init_n_train, seeds_init, np.zeros(len(init_stds)),
                   np.asarray(init_stds, float))
        for j, sd in enumerate(init_stds):
            raw_acc[("init", float(sd))], raw_kin[("init", float(sd))] = a[:, j], k[:, j]
            init_acc[float(sd)] = estimate(a[:, j], seed=seed)
            init_kin[float(sd)] = estimate(k[:, j], seed=seed)
    return GeneralizationSweep(
        n_train=tuple(int(N) for N in n_train), lam_kins=tuple(float(x) for x in lam_kins),
        init_stds=tuple(float(x) for x in init_stds), accuracy=acc, kinetic=kin,
        paired_gain=gain, init_accuracy=init_acc, init_kinetic=init_kin, raw_accuracy=raw_acc,
        raw_kinetic=raw_kin, base_init_std=float(base_init_std), n_seeds=int(n_seeds),
        n_init_seeds=int(n_init_seeds), dataset=dataset, seed=int(seed),
        runtime=time.perf_counter() - t0)
