"""Benchmark: one full-batch training step of the E2 tanh ResNet (K=8, width 32, 400 points).

A step is forward + kinetic/squared-hinge loss + backward + Adam update. Compared:

* ``phasekit``        :class:`phasekit.validation.transport.TanhResNet` (fused affine maps on
                       ones-augmented inputs, one flat parameter vector, one vectorised Adam).
* ``numpy-reference`` a plain, autograd-free, unfused numpy implementation of the same step
                       (per-block parameter arrays, separate bias adds and bias-gradient sums,
                       per-array Adam), the way one writes it first.
* ``torch-cpu``       the same model in PyTorch on CPU with autograd and ``torch.optim.Adam``
                       (float64 and float32), only when torch is importable; skipped otherwise.

Run ``python benchmarks/transport/bench_transport.py [--steps N] [--json PATH]``. Ratios are reported as
``time(other) / time(phasekit)`` (> 1 means phasekit is faster). Also times the full E2 run
(6000 steps; spec budget 10 s).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from phasekit.validation.transport import transport as vt

K, H, D, N = 8, 32, 2, 400
W_CLS, B_CLS, MARGIN, MU, LAM, LR = np.array([0.0, 1.0]), 2.0, 0.5, 50.0, 1.0, 3e-3


def _data():
    return vt.make_two_blobs(N, rng=0)


def bench_phasekit(X, y, steps):
    net = vt.TanhResNet(dim=D, width=H, n_blocks=K)
    theta = net.init(0, 0.3)
    it = [0]

    def fun(th, i):
        return net.loss_and_grad(th, X, y, w=W_CLS, b=B_CLS, margin=MARGIN, alpha=LAM, beta=MU)[:2]

    vt.adam_minimize(fun, theta, lr=LR, n_iter=20)           # warm-up
    t0 = time.perf_counter()
    vt.adam_minimize(fun, theta, lr=LR, n_iter=steps)
    del it
    return (time.perf_counter() - t0) / steps


class _ReferenceNumpy:
    """Unfused reference: lists of per-block arrays, explicit bias terms, per-array Adam."""

    def __init__(self, theta0):
        net = vt.TanhResNet(dim=D, width=H, n_blocks=K)
        V = net.views(theta0)
        self.p = {name: [np.array(V[name][0, k]) for k in range(K)] for name in V}
        self.m = {n: [np.zeros_like(a) for a in v] for n, v in self.p.items()}
        self.v = {n: [np.zeros_like(a) for a in v] for n, v in self.p.items()}
        self.t = 0

    def step(self, X, y):
        h = 1.0 / K
        xs, ts, vs = [X], [], []
        for k in range(K):
            z = xs[-1] @ self.p["W1"][k].T + self.p["a"][k]
            t = np.tanh(z)
            v = t @ self.p["W2"][k].T + self.p["c"][k]
            ts.append(t)
            vs.append(v)
            xs.append(xs[-1] + h * v)
        s = y * (xs[-1] @ W_CLS + B_CLS)
        viol = np.maximum(MARGIN - s, 0.0)
        loss = MU * np.mean(viol ** 2) + LAM * h * sum(np.mean(np.sum(v ** 2, 1)) for v in vs)
        gx = np.outer(MU * (-2.0 * viol / N) * y, W_CLS)
        grads = {n: [None] * K for n in self.p}
        for k in reversed(range(K)):
            gv = h * gx + LAM * h * 2.0 * vs[k] / N
            grads["W2"][k] = gv.T @ ts[k]
            grads["c"][k] = gv.sum(0)
            gz = (gv @ self.p["W2"][k]) * (1.0 - ts[k] ** 2)
            grads["W1"][k] = gz.T @ xs[k]
            grads["a"][k] = gz.sum(0)
            gx = gx + gz @ self.p["W1"][k]
        self.t += 1
        b1, b2, eps = 0.9, 0.99, 1e-8
        for n in self.p:
            for k in range(K):
                g = grads[n][k]
                self.m[n][k] = b1 * self.m[n][k] + (1 - b1) * g
                self.v[n][k] = b2 * self.v[n][k] + (1 - b2) * g * g
                mh = self.m[n][k] / (1 - b1 ** self.t)
                vh = self.v[n][k] / (1 - b2 ** self.t)
                self.p[n][k] = self.p[n][k] - LR * mh / (np.sqrt(vh) + eps)
        return loss


def bench_reference(X, y, steps):
    ref = _ReferenceNumpy(vt.TanhResNet(dim=D, width=H, n_blocks=K).init(0, 0.3))
    for _ in range(20):
        ref.step(X, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        ref.step(X, y)
    return (time.perf_counter() - t0) / steps


def check_reference_agrees(X, y, steps=50):
    """The reference and phasekit follow the same trajectory (same model, same Adam)."""
    net = vt.TanhResNet(dim=D, width=H, n_blocks=K)
    theta = net.init(0, 0.3)
    ref = _ReferenceNumpy(theta)
    res = vt.train_resnet(X, y, n_blocks=K, width=H, lam_kin=LAM, mu=MU, w=W_CLS, b=B_CLS,
                          margin=MARGIN, lr=LR, n_iter=steps, theta0=theta)
    for _ in range(steps):
        ref.step(X, y)
    V = net.views(res.theta)
    return max(float(np.max(np.abs(V[n][0, k] - ref.p[n][k]))) for n in V for k in range(K))


def bench_torch(X, y, steps, dtype_name):
    import torch
    torch.set_num_threads(1)
    dtype = getattr(torch, dtype_name)
    net = vt.TanhResNet(dim=D, width=H, n_blocks=K)
    V = net.views(net.init(0, 0.3))
    P = {n: torch.tensor(np.ascontiguousarray(V[n][0]), dtype=dtype, requires_grad=True)
         for n in V}
    Xt = torch.tensor(X, dtype=dtype)
    yt = torch.tensor(y, dtype=dtype)
    wt = torch.tensor(W_CLS, dtype=dtype)
    opt = torch.optim.Adam(list(P.values()), lr=LR, betas=(0.9, 0.99))
    h = 1.0 / K

    def step():
        opt.zero_grad(set_to_none=True)
        x = Xt
        kin = 0.0
        for k in range(K):
            v = torch.tanh(x @ P["W1"][k].T + P["a"][k]) @ P["W2"][k].T + P["c"][k]
            kin = kin + h * (v * v).sum(1).mean()
            x = x + h * v
        s = yt * (x @ wt + B_CLS)
        loss = LAM * kin + MU * torch.clamp(MARGIN - s, min=0).pow(2).mean()
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-full-run", action="store_true", help="skip the 6000-step E2 run")
    args = ap.parse_args(argv)
    X, y = _data()
    out = {"steps": args.steps, "model": f"K={K}, width={H}, n={N}, d={D}, float64"}
    out["reference_max_param_diff_50_steps"] = check_reference_agrees(X, y)
    out["phasekit_step_s"] = bench_phasekit(X, y, args.steps)
    out["numpy_reference_step_s"] = bench_reference(X, y, args.steps)
    out["ratio_reference_over_phasekit"] = out["numpy_reference_step_s"] / out["phasekit_step_s"]
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        out["torch"] = "not importable: torch comparison skipped"
    if have_torch:
        for dt in ("float64", "float32"):
            t = bench_torch(X, y, args.steps, dt)
            out[f"torch_cpu_{dt}_step_s"] = t
            out[f"ratio_torch_{dt}_over_phasekit"] = t / out["phasekit_step_s"]
    if not args.no_full_run:
        c0, t0 = time.process_time(), time.perf_counter()
        vt.train_resnet(X, y, n_blocks=K, width=H, lam_kin=LAM, mu=MU, w=W_CLS, b=B_CLS,
                        margin=MARGIN, lr=LR, n_iter=6000, rng=0)
        out["e2_6000_steps_wall_s"] = time.perf_counter() - t0
        out["e2_6000_steps_cpu_s"] = time.process_time() - c0
    for k, v in out.items():
        print(f"{k:40s} {v:.4g}" if isinstance(v, float) else f"{k:40s} {v}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
