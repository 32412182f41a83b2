"""Training-step timing of the GenEFT autoencoder and the Liu et al. toy.

Compares phasekit's numpy implementation with

* a plain reference numpy implementation (float64, ``np.add.at`` scatter, out-of-place updates) —
  always; reported as the ratio ``reference / phasekit``;
* PyTorch on the CPU (same model, Adam with two parameter groups) — only when ``torch`` is
  importable; reported as ``torch / phasekit`` (> 1 means phasekit is faster). Skipped cleanly
  otherwise.

Both sides run single-threaded (``OPENBLAS_NUM_THREADS=1`` before numpy is imported,
``torch.set_num_threads(1)``), which is also the fastest setting for these small matrices.

Usage::

    python benchmarks/effective_theory/bench_geneft.py [--steps 300] [--repeats 3] [--grid] [--json out.json]
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from phasekit.theory.effective_theory import liu as tl  # noqa: E402
from phasekit.validation.effective_theory import geneft as vg  # noqa: E402
from phasekit.validation.effective_theory import liu as vl  # noqa: E402


def _best(fn, steps, repeats):
    best = float("inf")
    for _ in range(repeats):
        step = fn()
        step()  # warm-up
        t = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - t) / steps)
    return best


# ----------------------------------------------------------------------------- phasekit
def phasekit_autoencoder():
    cfg = vg.AutoencoderConfig()
    rng = np.random.default_rng(0)
    model = vg._AutoencoderModel(cfg, rng)
    perm = rng.permutation(900)[:675]
    i1, i2 = np.divmod(perm, 30)
    t = vg.relation_labels("mod3")[i1, i2].astype(np.float32)
    return lambda: model.step(i1, i2, t)


def phasekit_liu():
    cfg = vl.LiuConfig()
    rng = np.random.default_rng(0)
    S = tl.samples(10)
    train = rng.choice(55, 45, replace=False)
    dt = np.float32
    E = rng.uniform(-0.5, 0.5, (10, 1)).astype(dt)
    Ws, bs = vg._init_mlp(rng, [1, 200, 200, 30], dt)
    T = rng.standard_normal((45, 30)).astype(dt)
    eye = np.eye(10, dtype=dt)
    Osum = eye[S[train, 0]] + eye[S[train, 1]]
    ia, ib = S[train, 0], S[train, 1]
    opt_r = vg.Adam([E], lr=cfg.eta_repr)
    opt_d = vg.Adam(Ws + bs, lr=cfg.eta_dec)

    def step():
        _, gE, gW, gb = vl._loss_and_grads(E, Ws, bs, ia, ib, Osum, T)
        opt_r.step([gE])
        opt_d.step(gW + gb)
    return step


# ----------------------------------------------------------------------------- reference numpy
class _RefAdam:
    def __init__(self, params, lr):
        self.p, self.lr = params, lr
        self.m = [np.zeros_like(x) for x in params]
        self.v = [np.zeros_like(x) for x in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        for k, g in enumerate(grads):
            self.m[k] = 0.9 * self.m[k] + 0.1 * g
            self.v[k] = 0.999 * self.v[k] + 0.001 * g ** 2
            mh = self.m[k] / (1 - 0.9 ** self.t)
            vh = self.v[k] / (1 - 0.999 ** self.t)
            self.p[k][...] = self.p[k] - self.lr * mh / (np.sqrt(vh) + 1e-8)


def _ref_mlp(rng, sizes):
    Ws = [rng.uniform(-1, 1, (a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [rng.uniform(-1, 1, b) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]
    return Ws, bs


def _ref_forward_backward(X, Ws, bs, dout_fn):
    hs = [X]
    for W, b in zip(Ws[:-1], bs[:-1]):
        hs.append(np.tanh(hs[-1] @ W + b))
    out = hs[-1] @ Ws[-1] + bs[-1]
    loss, g = dout_fn(out)
    gW, gb = [], []
    for li in reversed(range(len(Ws))):
        gW.insert(0, hs[li].T @ g)
        gb.insert(0, g.sum(0))
        g = g @ Ws[li].T
        if li > 0:
            g = g * (1 - hs[li] ** 2)
    return loss, gW, gb, g


def reference_autoencoder():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((30, 2))
    Ws, bs = _ref_mlp(rng, [4, 50, 50, 1])
    perm = rng.permutation(900)[:675]
    i1, i2 = np.divmod(perm, 30)
    t = vg.relation_labels("mod3")[i1, i2].astype(float)[:, None]
    oe, od = _RefAdam([E], 1e-3), _RefAdam(Ws + bs, 1e-3)

    def bce(z):
        p = 1 / (1 + np.exp(-z))
        return np.mean(np.logaddexp(0, z) - t * z), (p - t) / len(z)

    def step():
        X = np.concatenate([E[i1], E[i2]], axis=1)
        _, gW, gb, gX = _ref_forward_backward(X, Ws, bs, bce)
        gE = np.zeros_like(E)
        np.add.at(gE, i1, gX[:, :2])
        np.add.at(gE, i2, gX[:, 2:])
        od.step(gW + gb)
        oe.step([gE])
    return step


def reference_liu():
    rng = np.random.default_rng(0)
    S = tl.samples(10)
    train = rng.choice(55, 45, replace=False)
    E = rng.uniform(-0.5, 0.5, (10, 1))
    Ws, bs = _ref_mlp(rng, [1, 200, 200, 30])
    T = rng.standard_normal((45, 30))
    ia, ib = S[train, 0], S[train, 1]
    oe, od = _RefAdam([E], 1e-3), _RefAdam(Ws + bs, 1e-4)

    def mse(out):
        d = out - T
        return np.mean(d ** 2), 2 * d / d.size

    def step():
        _, gW, gb, gX = _ref_forward_backward(E[ia] + E[ib], Ws, bs, mse)
        gE = np.zeros_like(E)
        np.add.at(gE, ia, gX)
        np.add.at(gE, ib, gX)
        oe.step([gE])
        od.step(gW + gb)
    return step


# ----------------------------------------------------------------------------- torch
def torch_steps():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    nn = torch.nn

    def autoencoder():
        E = nn.Parameter(torch.randn(30, 2))
        dec = nn.Sequential(nn.Linear(4, 50), nn.Tanh(), nn.Linear(50, 50), nn.Tanh(),
                            nn.Linear(50, 1))
        perm = torch.randperm(900)[:675]
        i1, i2 = perm // 30, perm % 30
        t = ((i1 % 3) == (i2 % 3)).float()
        opt = torch.optim.Adam([{"params": [E], "lr": 1e-3},
                                {"params": dec.parameters(), "lr": 1e-3}])
        lossf = nn.BCEWithLogitsLoss()

        def step():
            opt.zero_grad()
            z = dec(torch.cat([E[i1], E[i2]], dim=1))[:, 0]
            lossf(z, t).backward()
            opt.step()
        return step

    def liu():
        E = nn.Parameter(torch.rand(10, 1) - 0.5)
        dec = nn.Sequential(nn.Linear(1, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(),
                            nn.Linear(200, 30))
        idx = torch.randperm(55)[:45]
        S = torch.tensor(tl.samples(10))[idx]
        T = torch.randn(45, 30)
        opt = torch.optim.AdamW([{"params": [E], "lr": 1e-3, "weight_decay": 0.0},
                                 {"params": dec.parameters(), "lr": 1e-4,
                                  "weight_decay": 0.0}])

        def step():
            opt.zero_grad()
            out = dec(E[S[:, 0]] + E[S[:, 1]])
            torch.mean((out - T) ** 2).backward()
            opt.step()
        return step

    return {"autoencoder": autoencoder, "liu": liu, "version": torch.__version__}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--grid", action="store_true",
                    help="also time a 5x5 GenEFT lr phase diagram at 4000 steps on 2 processes")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args(argv)
    res = {"threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    th = torch_steps()
    res["torch"] = th["version"] if th else None
    for name, pk, ref in (("autoencoder", phasekit_autoencoder, reference_autoencoder),
                          ("liu", phasekit_liu, reference_liu)):
        t_pk = _best(pk, args.steps, args.repeats)
        t_ref = _best(ref, args.steps, args.repeats)
        row = {"phasekit_us": 1e6 * t_pk, "reference_numpy_us": 1e6 * t_ref,
               "reference_over_phasekit": t_ref / t_pk}
        if th:
            t_t = _best(th[name], args.steps, args.repeats)
            row.update(torch_us=1e6 * t_t, torch_over_phasekit=t_t / t_pk)
        else:
            row.update(torch_us=None, torch_over_phasekit=None)
        res[name] = row
        tt = (f"torch {row['torch_us']:.0f} us (torch/phasekit {row['torch_over_phasekit']:.2f})"
              if th else "torch not installed: skipped")
        print(f"{name:12s} phasekit {row['phasekit_us']:.0f} us/step, reference numpy "
              f"{row['reference_numpy_us']:.0f} us (ratio {row['reference_over_phasekit']:.2f}), "
              f"{tt}")
    if args.grid:
        t = time.perf_counter()
        pd = vg.lr_phase_diagram((1e-4, 3e-4, 1e-3, 3e-3, 1e-2), (3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
                                 config=vg.AutoencoderConfig(steps=4000), n_jobs=2,
                                 progress=True)
        res["grid5x5_seconds"] = time.perf_counter() - t
        res["grid5x5_slope"] = pd.slope
        print(f"5x5 phase diagram, 4000 steps, 2 processes: {res['grid5x5_seconds']:.1f} s "
              f"(slope {pd.slope:.2f})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return res


if __name__ == "__main__":
    main()
