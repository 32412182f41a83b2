"""Benchmark: adaptive-kernel theory and the posterior sampler of the two-layer erf network.

Timed:

* ``sampler C chains``  :class:`phasekit.validation.adaptive_kernel.PosteriorSampler` at β = 1/8
                        (n = 375, d = 53, N = 88): MALA steps per second (Gibbs readout every 5 steps
                        included), per chain and summed over C vectorised chains (issue target:
                        ≥ 5000 MALA steps/s on one core);
* ``reference``         the same Gibbs + MALA step written plainly in numpy with a Python loop over
                        the neurons (per-neuron preactivations, ``scipy.special.erf``, per-neuron
                        gradient rows), float64 — the way one writes it first. Ratio =
                        steps/s(phasekit) / steps/s(reference);
* ``torch``             the vectorised step with PyTorch CPU tensors, only if ``torch`` imports;
* ``curve``             :func:`phasekit.theory.adaptive_kernel.cubic_curve`, 100 σ² points through
                        all phases (target ≤ 5 s), and the generic ``continue_branch`` on ``ak.cubic``.

Run ``OPENBLAS_NUM_THREADS=1 python benchmarks/adaptive_kernel/bench_adaptive_kernel.py [--steps N] [--json PATH]``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.special as sc  # noqa: E402

from phasekit.theory.adaptive_kernel import adaptive_kernel as AK  # noqa: E402
from phasekit.validation.adaptive_kernel import adaptive_kernel as V  # noqa: E402


def reference_sampler(data, cfg, steps, rng, a, W):
    """Plain numpy Gibbs + MALA with a Python loop over neurons (float64, scipy erf)."""
    X, y = data.X, data.y
    n, d = X.shape
    N = W.shape[0]
    s2, sa, sw = cfg.sigma2, cfg.sigma_a2, cfg.sigma_w2
    tau = cfg.step * sw / d

    def energy_grad(W, a):
        f = np.zeros(n)
        phis, hs = [], []
        for i in range(N):
            h = X @ W[i]
            phi = sc.erf(h)
            f += a[i] * phi
            phis.append(phi)
            hs.append(h)
        r = f - y
        U = r @ r / (2 * s2) + d * np.sum(W * W) / (2 * sw)
        G = np.empty_like(W)
        for i in range(N):
            G[i] = (r * a[i] * 2 / math.sqrt(math.pi) * np.exp(-hs[i] ** 2)) @ X / s2 + d * W[i] / sw
        return U, G, np.array(phis).T

    U, G, Phi = energy_grad(W, a)
    t0 = time.perf_counter()
    for k in range(1, steps + 1):
        xi = rng.standard_normal(W.shape)
        Wp = W - tau * G + math.sqrt(2 * tau) * xi
        Up, Gp, Phip = energy_grad(Wp, a)
        fwd = math.sqrt(2 * tau) * xi
        bwd = W - Wp + tau * Gp
        if math.log(rng.random()) < U - Up + (np.sum(fwd ** 2) - np.sum(bwd ** 2)) / (4 * tau):
            W, U, G, Phi = Wp, Up, Gp, Phip
        if k % cfg.gibbs_every == 0:
            A = Phi.T @ Phi / s2 + (N / sa) * np.eye(N)
            L = np.linalg.cholesky(A)
            mean = np.linalg.solve(A, Phi.T @ y / s2)
            a = mean + np.linalg.solve(L.T, rng.standard_normal(N))
            U, G, Phi = energy_grad(W, a)
    return steps / (time.perf_counter() - t0)


def torch_sampler(data, cfg, steps, chains):  # pragma: no cover - optional
    import torch
    torch.set_num_threads(1)
    X = torch.tensor(data.X, dtype=torch.float32)
    y = torch.tensor(data.y, dtype=torch.float32)
    n, d = X.shape
    N = cfg.N
    W = torch.randn(chains, N, d) * math.sqrt(cfg.sigma_w2 / d)
    a = torch.randn(chains, N) * math.sqrt(cfg.sigma_a2 / N)
    tau = cfg.step * cfg.sigma_w2 / d

    def eg(W):
        H = torch.einsum("nd,cjd->cnj", X, W)
        Ep = torch.exp(-H * H)
        r = torch.einsum("cnj,cj->cn", torch.erf(H), a) - y
        U = (r * r).sum(1) / (2 * cfg.sigma2) + d * (W * W).sum((1, 2)) / (2 * cfg.sigma_w2)
        G = torch.einsum("cnj,nd->cjd", Ep * r[:, :, None] * a[:, None, :] * (2 / math.sqrt(math.pi) / cfg.sigma2), X)
        return U, G + d / cfg.sigma_w2 * W

    U, G = eg(W)
    t0 = time.perf_counter()
    for _ in range(steps):
        xi = torch.randn_like(W) * math.sqrt(2 * tau)
        Wp = W - tau * G + xi
        Up, Gp = eg(Wp)
        bwd = W - Wp + tau * Gp
        acc = torch.log(torch.rand(chains)) < U - Up + ((xi ** 2).sum((1, 2)) - (bwd ** 2).sum((1, 2))) / (4 * tau)
        W = torch.where(acc[:, None, None], Wp, W)
        U = torch.where(acc, Up, U)
        G = torch.where(acc[:, None, None], Gp, G)
    return steps * chains / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--ref-steps", type=int, default=200)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = {}
    p = AK.cubic_params(0.125, sigma2=0.2)
    data = V.make_cubic_data(int(p["n"]), int(round(p["d"])), p["eps"], seed=0)
    cfg = V.SamplerConfig(sigma2=p["sigma2"], N=int(round(p["N"])), sigma_a2=p["sigma_a2"], sigma_w2=p["sigma_w2"],
                          step=0.1)
    for C in (1, 4):
        s = V.PosteriorSampler(cfg, data)
        st = s.init_state(C, rng=0)
        s.run(st, 200, rng=1, thin=10 ** 9, adapt=True)
        tr = s.run(st, args.steps, rng=2, thin=10 ** 9)
        out[f"sampler_{C}_chains_steps_per_s_per_chain"] = args.steps / tr.seconds
        out[f"sampler_{C}_chains_chain_steps_per_s"] = args.steps * C / tr.seconds
        out[f"sampler_{C}_chains_acceptance"] = float(np.mean(tr.acceptance))
    s = V.PosteriorSampler(V.SamplerConfig(**{**cfg.__dict__, "dtype": "float64"}), data)
    st = s.init_state(1, rng=0)
    tr = s.run(st, args.steps // 2, rng=2, thin=10 ** 9)
    out["sampler_1_chain_float64_steps_per_s"] = (args.steps // 2) / tr.seconds
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((cfg.N, data.X.shape[1])) * math.sqrt(cfg.sigma_w2 / data.X.shape[1])
    a0 = rng.standard_normal(cfg.N) * math.sqrt(cfg.sigma_a2 / cfg.N)
    out["reference_loop_steps_per_s"] = reference_sampler(data, cfg, args.ref_steps, rng, a0, W0)
    out["ratio_vectorised_vs_loop_1_chain"] = out["sampler_1_chains_steps_per_s_per_chain"] / out["reference_loop_steps_per_s"]
    out["ratio_vectorised_vs_loop_4_chains"] = out["sampler_4_chains_chain_steps_per_s"] / out["reference_loop_steps_per_s"]
    try:
        import torch  # noqa: F401  (availability probe)
        out["torch_cpu_chain_steps_per_s_4_chains"] = torch_sampler(data, cfg, args.steps // 2, 4)
        out["ratio_numpy_vs_torch"] = out["sampler_4_chains_chain_steps_per_s"] / out["torch_cpu_chain_steps_per_s_4_chains"]
    except ImportError:
        out["torch_cpu"] = "not installed: comparison skipped"
    grid = np.linspace(0.3, 0.02, 100)
    AK.cubic_curve(grid[:3])
    t = time.perf_counter()
    cv = AK.cubic_curve(grid)
    out["cubic_curve_100_points_s"] = time.perf_counter() - t
    out["cubic_curve_phases"] = sorted(set(cv.phase.tolist()))
    import phasekit as pk
    pk.solve("ak.cubic", {"sigma2": 0.2})
    t = time.perf_counter()
    br = pk.continue_branch("ak.cubic", {}, along="sigma2", values=grid)
    out["continue_branch_100_points_s"] = time.perf_counter() - t
    out["continue_branch_converged"] = int(br.converged.sum())
    out["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2, default=str))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2, default=str)
    return out


if __name__ == "__main__":
    main()
