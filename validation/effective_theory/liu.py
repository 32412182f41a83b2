r"""The Liu et al. (2022) addition toy in numpy: RQI, predicted accuracy, phase diagrams.

A port of ``toy/train_add.py`` of ``ejmichaud/grokking-squared`` (defaults in
:class:`LiuConfig`): digits ``0..p-1`` with learnable embeddings ``E ∈ R^{p×d}`` (uniform(±½)),
the decoder ``Dec(E_a + E_b)`` a tanh MLP ``d → 200 → 200 → 30`` (torch ``nn.Linear``
initialisation), MSE to fixed Gaussian templates of the ``2p-1`` sums, prediction = nearest
template, AdamW with separate rates for the representation and the decoder, full batch.

* :func:`rqi` — representation quality index: fraction of the ``|P_0|`` parallelograms realised by
  the normalised embedding (mean square defect below ``threshold_P``).
* :func:`predicted_accuracy` — Acc^ over all samples: the training samples plus every test sample
  that shares a realised parallelogram with a training sample.
* :func:`train_liu` — one run (histories, steps to thresholds, phase, RQI, Acc^ versus Acc).
* :func:`liu_phase_diagram` — ``(eta_repr, eta_dec)`` grid over processes with a tqdm bar.

Porting notes: the reference seeds numpy's legacy global generator and draws templates, then the
split; ``reference_split=True`` reproduces that stream (``np.random.RandomState(seed)``, the only
legacy-generator use in phasekit) so the split matches the reference; torch's initialisation
cannot be reproduced, so runs are statistically, not bitwise, comparable. The reference computes
the test accuracy before the update of each step; here both accuracies are after the update.
"""
from __future__ import annotations

import dataclasses
from numbers import Integral

import numpy as np

from phasekit._constraints import invalid_parameter
from phasekit.solvers._pool import renamed, resolve_workers
from phasekit.theory.effective_theory import liu as _th

from .geneft import (Adam, PhaseDiagram, TrainingRun, assemble_phase_diagram, first_crossing, init_mlp,
                     mlp_backward, mlp_forward, phase_label, run_grid, seed_of)

__all__ = ["LiuConfig", "rqi", "predicted_accuracy", "train_liu", "liu_phase_diagram"]


@dataclasses.dataclass(frozen=True)
class LiuConfig:
    """Defaults of ``train_add`` (Liu et al. 2022): p = 10, 45 training samples, 5000 steps,
    ``eta_repr = 1e-3``, ``eta_dec = 1e-4``, width 200, weight decay 0, thresholds 0.9 / 0.95 /
    0.01. ``delay_threshold`` (steps) separates comprehension from grokking."""

    p: int = 10
    reprs_dim: int = 1
    output_dim: int = 30
    train_num: int = 45
    steps: int = 5000
    eta_repr: float = 1e-3
    eta_dec: float = 1e-4
    width: int = 200
    weight_decay_repr: float = 0.0
    weight_decay_dec: float = 0.0
    init_scale_reprs: float = 1.0
    init_scale_nn: float = 1.0
    label_scale: float = 1.0
    threshold_train_acc: float = 0.9
    threshold_test_acc: float = 0.9
    threshold_rqi: float = 0.95
    threshold_P: float = 0.01
    delay_threshold: int = 1000
    eval_every: int = 1
    reference_split: bool = False
    dtype: str = "float32"

    def __post_init__(self):
        w = "LiuConfig"
        n_all = self.p * (self.p + 1) // 2
        if not isinstance(self.train_num, Integral) or not 1 <= self.train_num <= n_all:
            raise invalid_parameter("train_num", w, f"an int in [1, {n_all}]", self.train_num)
        for nm in ("eta_repr", "eta_dec"):
            if not getattr(self, nm) > 0:
                raise invalid_parameter(nm, w, "a float in the range (0, inf)", getattr(self, nm))


def _normalised(E):
    E = np.asarray(E, float)
    sd = E.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return (E - E.mean(axis=0)) / sd


def rqi(E, *, threshold_P: float = 0.01):
    """Representation quality index and the realised-parallelogram mask.

    ``E`` has shape ``(p, d)``; returns ``(rqi, realised)`` with ``realised`` a boolean mask over
    :func:`phasekit.theory.effective_theory.liu.parallelograms`.
    """
    E = np.asarray(E, float)
    if E.ndim == 1:
        E = E[:, None]
    P = _th.parallelograms(E.shape[0])
    Et = _normalised(E)
    defect = Et[P[:, 0]] + Et[P[:, 1]] - Et[P[:, 2]] - Et[P[:, 3]]
    realised = np.mean(defect ** 2, axis=1) < threshold_P
    return float(realised.mean()) if realised.size else 0.0, realised


def predicted_accuracy(E, train, *, threshold_P: float = 0.01) -> float:
    """Acc^ over all ``p(p+1)/2`` samples from the realised parallelograms of ``E``.

    ``train`` is a boolean mask over :func:`phasekit.theory.effective_theory.liu.samples` or sample indices.
    """
    E = np.asarray(E, float)
    if E.ndim == 1:
        E = E[:, None]
    p = E.shape[0]
    n_all = p * (p + 1) // 2
    mask = np.zeros(n_all, dtype=bool)
    t = np.asarray(train)
    if t.dtype == bool:
        mask[:] = t
    else:
        mask[t.astype(int)] = True
    _, realised = rqi(E, threshold_P=threshold_P)
    _, outer, inner = _th.parallelograms(p, with_samples=True)
    got = mask.copy()
    o, i = outer[realised], inner[realised]
    got[i[mask[o]]] = True
    got[o[mask[i]]] = True
    return float(got.mean())


def _loss_and_grads(E, Ws, bs, ia, ib, Osum, T):
    """MSE (mean over batch and outputs) of ``Dec(E_a + E_b)`` to the templates ``T`` and its
    gradients; ``Osum`` is the (batch, p) matrix of one-hot(a) + one-hot(b)."""
    X = E[ia] + E[ib]
    out, hs = mlp_forward(X, Ws, bs)
    diff = out - T
    loss = float(np.mean(diff * diff))
    g = (2.0 / diff.size) * diff
    gW, gb, gX = mlp_backward(g, hs, Ws)
    return loss, Osum.T @ gX, gW, gb


def _split(cfg, rng, seed):
    n_all = cfg.p * (cfg.p + 1) // 2
    if cfg.reference_split:
        if seed is None:
            raise invalid_parameter("rng", "train_liu", "an int seed when reference_split=True", rng)
        legacy = np.random.RandomState(seed)  # reproduces the reference's np.random.seed stream
        Y = legacy.normal(0, 1, size=(2 * cfg.p - 1, cfg.output_dim)) * cfg.label_scale
        train = legacy.choice(n_all, cfg.train_num, replace=False)
    else:
        Y = rng.normal(0, 1, size=(2 * cfg.p - 1, cfg.output_dim)) * cfg.label_scale
        train = rng.choice(n_all, cfg.train_num, replace=False)
    return Y, np.sort(train)


def train_liu(config: LiuConfig | None = None, *, rng=58, **overrides) -> TrainingRun:
    """Train the Liu et al. addition toy; the result's ``extra`` holds the RQI history,
    ``step_rqi``, ``pred_acc`` (Acc^), ``acc`` (measured over all samples), the train mask, the
    spectrum-based ``dof`` (nullity − 2) and the effective-theory ``n_h``.

    Examples
    --------
    >>> run = train_liu(steps=20, rng=0)
    >>> 0.0 <= run.extra["pred_acc"] <= 1.0
    True
    """
    cfg = dataclasses.replace(config or LiuConfig(), **overrides)
    seed = seed_of(rng)
    rng_ = np.random.default_rng(rng)
    dt = np.dtype(cfg.dtype)
    S = _th.samples(cfg.p)
    n_all = S.shape[0]
    Y, train = _split(cfg, rng_, seed)
    Y = Y.astype(dt)
    mask = np.zeros(n_all, dtype=bool)
    mask[train] = True
    test = np.nonzero(~mask)[0]
    sums = S.sum(axis=1)
    E = (rng_.uniform(-0.5, 0.5, (cfg.p, cfg.reprs_dim)) * cfg.init_scale_reprs).astype(dt)
    Ws, bs = init_mlp(rng_, [cfg.reprs_dim, cfg.width, cfg.width, cfg.output_dim], dt)
    for W in Ws + bs:
        W *= cfg.init_scale_nn
    opt_r = Adam([E], lr=cfg.eta_repr, weight_decay=cfg.weight_decay_repr)
    opt_d = Adam(Ws + bs, lr=cfg.eta_dec, weight_decay=cfg.weight_decay_dec)
    eye = np.eye(cfg.p, dtype=dt)
    Osum = eye[S[train, 0]] + eye[S[train, 1]]
    T = Y[sums[train]]
    a_all, b_all = S[:, 0], S[:, 1]
    ev, acc_tr, acc_te, losses, rqis = [], [], [], [], []
    ia, ib = S[train, 0], S[train, 1]
    for step in range(cfg.steps):
        loss, gE, gW, gb = _loss_and_grads(E, Ws, bs, ia, ib, Osum, T)
        losses.append(loss)
        opt_r.step([gE])
        opt_d.step(gW + gb)
        if (step + 1) % cfg.eval_every == 0 or step == cfg.steps - 1:
            o_all, _ = mlp_forward(E[a_all] + E[b_all], Ws, bs)
            d2 = (np.sum(o_all * o_all, axis=1)[:, None] - 2 * o_all @ Y.T
                  + np.sum(Y * Y, axis=1)[None, :])
            correct = np.argmin(d2, axis=1) == sums
            ev.append(step)
            acc_tr.append(correct[train].mean())
            acc_te.append(correct[test].mean() if test.size else 1.0)
            rqis.append(rqi(E, threshold_P=cfg.threshold_P)[0])
    ev = np.array(ev)
    acc_tr, acc_te, rqis = np.array(acc_tr), np.array(acc_te), np.array(rqis)
    st = first_crossing(ev, acc_tr, cfg.threshold_train_acc, strict=False)
    se = first_crossing(ev, acc_te, cfg.threshold_test_acc, strict=False)
    sr = first_crossing(ev, rqis, cfg.threshold_rqi, strict=True)
    frac = cfg.train_num / n_all
    acc_full = float(frac * acc_tr[-1] + (1 - frac) * acc_te[-1])
    spec = _th.spectrum(cfg.p, mask)
    extra = dict(rqi=rqis, step_rqi=sr, pred_acc=predicted_accuracy(E, mask,
                                                                     threshold_P=cfg.threshold_P),
                 acc=acc_full, train_mask=mask, dof=spec.nullity - 2,
                 n_h=_th.predicted_grokking_steps(cfg.p, mask, eta=cfg.eta_repr,
                                                  d=cfg.reprs_dim),
                 templates=Y)
    return TrainingRun(cfg, ev, acc_tr, acc_te, np.array(losses), st, se,
                       phase_label(st, se, cfg.delay_threshold), E.copy(), acc_full, seed, extra)


def _cell_liu(args):
    cfg, seed = args
    try:
        run = train_liu(cfg, rng=seed)
        return (run.phase, run.step_train, run.step_test, run.full_accuracy, "ok")
    except Exception as exc:  # noqa: BLE001 - reported per cell
        return ("error", None, None, float("nan"), f"{type(exc).__name__}: {exc}")


def liu_phase_diagram(eta_repr_values=None, eta_dec_values=None, *,
                      config: LiuConfig | None = None, seeds=(0,), workers: int | None = None,
                      scheduler=None, progress: bool = False, n_jobs=None, executor=None) -> PhaseDiagram:
    """Liu toy phase diagram over ``eta_repr × eta_dec`` (default ``10**linspace(-5, -2, 10)``
    each; pass subsets for speed). Parallel as :func:`phasekit.validation.effective_theory.geneft.lr_phase_diagram`.
    """
    grid = 10 ** np.linspace(-5, -2, 10)
    ex = grid if eta_repr_values is None else np.asarray(eta_repr_values, float)
    ey = grid if eta_dec_values is None else np.asarray(eta_dec_values, float)
    cfg = config or LiuConfig()
    tasks = [(dataclasses.replace(cfg, eta_repr=float(a), eta_dec=float(b)), int(sd))
             for a in ex for b in ey for sd in seeds]
    workers = resolve_workers("liu_phase_diagram", workers, n_jobs=n_jobs)
    scheduler = renamed("liu_phase_diagram", "scheduler", scheduler, executor=executor)
    res = run_grid(_cell_liu, tasks, workers, scheduler, progress)
    return assemble_phase_diagram(ex, ey, seeds, res, "liu.toy", cfg)
