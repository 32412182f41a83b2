"""Checks of the adaptive-kernel theory of grokking (``phasekit check ak_cubic`` / ``ak_modular``).

``ak_cubic``: posterior sampling of the two-layer erf network (Gibbs + MALA,
:mod:`phasekit.validation.adaptive_kernel`) at the paper's scaled sizes, against the finite-d theory
(:func:`phasekit.theory.adaptive_kernel.cubic_finite_d`); the NNGP kernel-ridge control; the d → ∞
phase diagram, onset and scaling collapse. ``ak_modular``: theory only — the posterior-sampling
check of modular addition does not fit in minutes (cost estimate in its summary).
"""
from __future__ import annotations

import csv
import json
import math
import os

import numpy as np

from ..._registry import CheckResult, register_check
from ...theory.adaptive_kernel import adaptive_kernel as AK
from .._common import figure, save_figure
from .adaptive_kernel import finite_n_reference, nngp_ridge_control, make_cubic_data, run_cubic_posterior

__all__ = ["check_ak_cubic", "check_ak_modular", "side_minima", "cubic_comparison_table", "ALLOWANCE"]

ALLOWANCE = {"f1": 0.03, "f3_over_eps": 0.03}
"""Allowance at β = 1/8 (N ≈ 88, n = 375), scaled by (1/(8β))^{1/2} at other β, for what the reference leaves
out (the finite-n, finite-N correction of the self-consistent kernel), on top of 3 standard errors of the
chains and of the reference's Monte Carlo. The reference is the finite-d theory **on the same training
sets** without the equivalent-kernel step (:func:`~phasekit.validation.adaptive_kernel.finite_n_reference`):
computed without the sampler, it carries the equivalent-kernel error (a few hundredths in f1 at β = 1/8) and
the ±0.02–0.03 spread of the projections between training sets of n = 375. (An earlier version compared with
the equivalent-kernel theory itself and had to widen the f1 allowance to 0.12 after seeing the data.)
The equivalent-kernel (n → ∞) values are reported beside it. The NNGP-kernel control is checked separately."""


def side_minima(q, *, bins=64, q_lo=0.35, q_range=1.6):
    """Whether the pooled histogram of q has side minima of −log p at |q| > q_lo (a local maximum of the
    symmetrised density beyond q_lo that exceeds the density at the barrier between it and 0)."""
    a = np.abs(np.asarray(q).ravel())
    h, e = np.histogram(a, bins=bins // 2, range=(0, q_range))
    c = 0.5 * (e[1:] + e[:-1])
    k = np.convolve(h.astype(float), np.ones(3) / 3, mode="same")
    beyond = np.flatnonzero(c > q_lo)
    for i in beyond[1:-1]:
        if k[i] > 0 and k[i] >= k[i - 1] and k[i] >= k[i + 1]:
            barrier = k[(c > 0.15) & (c < c[i])].min(initial=np.inf)
            if k[i] > 1.2 * barrier and h[i] >= 5:
                return True
    return False


def cubic_comparison_table(beta, sigma2_values, *, datasets, chains, steps, burn, thin, seed, n_features=20000):
    """Sampler against the finite-n reference (same training sets) at each σ²; one dict per σ²: the sampler's
    estimates (``*_sim``, ``*_err``), the reference (``f1_theory``, ``f3_theory``, their MC errors
    ``*_ref_mc``), the equivalent-kernel finite-d values (``*_ek``), the d → ∞ values (``*_dinf``), the NNGP
    control, droplets, spike ratio, acceptance and speed."""
    rows = []
    p0 = AK.cubic_params(beta)
    for j, s2 in enumerate(sigma2_values):
        p = dict(p0, sigma2=float(s2))
        run = run_cubic_posterior(p, datasets=datasets, chains=chains, steps=steps, burn=burn, thin=thin, seed=seed + 1000 * j)
        th = AK.cubic_finite_d(p)
        inf = AK.cubic_saddle(p)
        refs = [finite_n_reference(p, ds, n_features=n_features, seed=seed + 7) for ds in run.datasets]
        ref_f1 = float(np.mean([r.f1 for r in refs]))
        ref_f3 = float(np.mean([r.f3_over_eps for r in refs]))
        ref_mc = tuple(math.sqrt(sum(r.mc_error[i] ** 2 for r in refs)) / len(refs) for i in (0, 1))
        data = make_cubic_data(int(round(p["n"])), int(round(p["d"])), p["eps"], seed=seed + 1000 * j)
        g1, g3 = nngp_ridge_control(data, s2, p["sigma_a2"], p["sigma_w2"], n_test=10000, seed=seed)
        rows.append(dict(beta=beta, sigma2=float(s2), phase_dinf=inf.phase,
                         f1_sim=run.f1["all"].mean, f1_err=run.f1["all"].error_of_mean, f1_ess=run.f1["all"].n_samples,
                         f3_sim=run.f3_over_eps["all"].mean, f3_err=run.f3_over_eps["all"].error_of_mean,
                         f3_ess=run.f3_over_eps["all"].n_samples, f3_tau_steps=run.tau_f3,
                         f3_prior=run.f3_over_eps["prior"].mean, f3_aligned=run.f3_over_eps.get("aligned", run.f3_over_eps["all"]).mean,
                         f1_theory=ref_f1, f3_theory=ref_f3, f1_ref_mc=ref_mc[0], f3_ref_mc=ref_mc[1],
                         f1_ek=th.f1, f3_ek=th.f3_over_eps, f1_dinf=inf.f1, f3_dinf=inf.f3_over_eps,
                         drop_sim=run.droplet_fraction["all"].mean, drop_err=run.droplet_fraction["all"].error_of_mean,
                         spike_sim=run.spike_ratio.mean, spike_err=run.spike_ratio.error_of_mean, spike_theory=th.spike_ratio,
                         nngp_f1=g1.mean, nngp_f3=g3.mean, nngp_f3_err=g3.error_of_mean,
                         acceptance=run.acceptance, chain_steps_per_s=run.steps_per_second,
                         side_minima=side_minima(_q_from_hist(run.q_hist)),
                         q_hist=run.q_hist, neg_log_p_theory=(th.q, th.neg_log_p), seed=seed + 1000 * j))
    return rows


def _q_from_hist(hist):
    counts, edges = hist
    c = 0.5 * (edges[1:] + edges[:-1])
    return np.repeat(c, counts.astype(int))


@register_check("ak_cubic", "adaptive kernel, cubic teacher: posterior sampling (Gibbs+MALA) vs finite-d theory; onset; NNGP control")
def check_ak_cubic(out_dir, *, quick=False, seed=0):
    os.makedirs(out_dir, exist_ok=True)
    metrics, figs, tables = {}, [], []
    # ---- theory: onset at the base point, scaling collapse
    on = AK.cubic_onset(AK.BASE_POINT)
    metrics.update(sigma2_c=on["value"], u_c=on["u_c"], q_star_c=on["q_star"])
    ok_onset = 0.17 <= on["value"] <= 0.19 and 28 <= on["u_c"] <= 33
    grid = np.linspace(0.3, 0.03, 100)
    curves = {b: AK.cubic_curve(grid, AK.cubic_params(b)) for b in (0.125, 1.0, 8.0)}
    collapse = max(float(np.nanmax(np.abs(curves[b].f3_over_eps - curves[1.0].f3_over_eps))) for b in curves)
    metrics["scaling_collapse_max_dev"] = collapse
    # ---- simulations
    if quick:
        plan = [(0.125, (0.3, 0.08), dict(datasets=2, chains=2, steps=1000, burn=500, thin=10, n_features=8000))]
    else:
        plan = [(0.125, (0.3, 0.2, 0.15, 0.12, 0.08), dict(datasets=3, chains=2, steps=6000, burn=2000, thin=20)),
                (0.5, (0.3, 0.08), dict(datasets=1, chains=2, steps=2000, burn=1000, thin=10))]
    rows = []
    for beta, s2s, kw in plan:
        rows += cubic_comparison_table(beta, s2s, seed=seed, **kw)
    passed_sim = True
    for r in rows:
        scale = math.sqrt(1 / (8 * r["beta"]))
        r["f1_ok"] = abs(r["f1_sim"] - r["f1_theory"]) <= 3 * math.hypot(r["f1_err"], r["f1_ref_mc"]) + ALLOWANCE["f1"] * scale
        r["f3_ok"] = (abs(r["f3_sim"] - r["f3_theory"])
                      <= 3 * math.hypot(r["f3_err"], r["f3_ref_mc"]) + ALLOWANCE["f3_over_eps"] * scale)
        r["side_ok"] = (not r["side_minima"]) if r["phase_dinf"] == "GFL" and r["sigma2"] >= 0.25 else True
        r["nngp_ok"] = abs(r["nngp_f3"]) < 0.05
        passed_sim &= bool(r["f1_ok"] and r["f3_ok"] and r["side_ok"] and r["nngp_ok"])
        key = f"b{r['beta']:g}_s{r['sigma2']:g}"
        for k in ("f1_sim", "f1_err", "f1_theory", "f1_ek", "f3_sim", "f3_err", "f3_theory", "f3_ek", "drop_sim", "nngp_f3", "spike_sim",
                  "spike_theory", "acceptance", "f3_ess"):
            metrics[f"{key}_{k}"] = float(r[k])
    # the transition is seen: cubic fraction small above, clearly larger below, in the same beta
    lo = [r for r in rows if r["beta"] == 0.125 and r["sigma2"] <= 0.1]
    hi = [r for r in rows if r["beta"] == 0.125 and r["sigma2"] >= 0.3]
    sides_ok = bool(lo and hi and min(r["f3_sim"] for r in lo) > 0.12 and max(r["f3_sim"] for r in hi) < 0.06)
    # ---- table and figures
    path = os.path.join(out_dir, "ak_cubic_table.csv")
    cols = ["beta", "sigma2", "phase_dinf", "f1_sim", "f1_err", "f1_theory", "f1_ref_mc", "f1_ek", "f1_dinf", "f3_sim",
            "f3_err", "f3_theory", "f3_ref_mc", "f3_ek", "f3_dinf", "f3_prior", "f3_aligned", "f3_ess", "f3_tau_steps", "drop_sim", "drop_err", "spike_sim", "spike_err",
            "spike_theory", "nngp_f1", "nngp_f3", "nngp_f3_err", "side_minima", "acceptance", "chain_steps_per_s",
            "f1_ok", "f3_ok", "seed"]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow([r[c] for c in cols])
    tables.append(path)
    figs.append(_fig_curves(out_dir, curves, rows))
    figs.append(_fig_hist(out_dir, rows))
    figs.append(_fig_modular(out_dir))
    figs.append(_fig_phase_diagram(out_dir))
    passed = bool(ok_onset and collapse < 1e-6 and passed_sim and sides_ok)
    lines = ["| beta | sigma2 | phase (d→∞) | f1 sim | f1 theory, finite n (EK) | f3/ε sim | f3/ε theory, finite n (EK) | "
             "NNGP f3/ε | ESS(f3) | spike sim / theory | side minima |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['beta']:g} | {r['sigma2']:g} | {r['phase_dinf']} | {r['f1_sim']:.3f} ± {r['f1_err']:.3f} | "
                     f"{r['f1_theory']:.3f} ({r['f1_ek']:.3f}) | {r['f3_sim']:.3f} ± {r['f3_err']:.3f} | "
                     f"{r['f3_theory']:.3f} ({r['f3_ek']:.3f}) | "
                     f"{r['nngp_f3']:.3f} | {r['f3_ess']} | {r['spike_sim']:.2f} / {r['spike_theory']:.2f} | "
                     f"{'yes' if r['side_minima'] else 'no'} |")
    summary = (f"Onset (d→∞, base point): σ²_c = {on['value']:.4f}, u_c = {on['u_c']:.2f} (paper ≈ 0.18, 30.2). "
               f"Scaling collapse β ∈ {{1/8, 1, 8}}: max |Δ f3/ε| = {collapse:.1e}. Sampler vs the finite-d theory on the "
               f"same training sets without the equivalent kernel (EK values in brackets; allowance f1 {ALLOWANCE['f1']}, f3/ε {ALLOWANCE['f3_over_eps']} at β = 1/8, ∝ β^-1/2):\n\n" + "\n".join(lines))
    return CheckResult("ak_cubic", passed, metrics, tuple(figs), tuple(tables), summary, seed)


def _fig_curves(out_dir, curves, rows):
    fig, ax = figure(1, 3)
    for b, cv in curves.items():
        ax[0].plot(cv.sigma2, cv.f3_over_eps, label=f"d→∞, β={b:g}", lw=2 if b == 1 else 1)
        ax[1].plot(cv.sigma2, cv.f1, lw=2 if b == 1 else 1)
        ax[2].plot(cv.sigma2, cv.p_tilde, lw=2 if b == 1 else 1)
    for beta in sorted({r["beta"] for r in rows}):
        rr = [r for r in rows if r["beta"] == beta]
        s = [r["sigma2"] for r in rr]
        ax[0].errorbar(s, [r["f3_sim"] for r in rr], [r["f3_err"] for r in rr], fmt="o", label=f"sampler β={beta:g}")
        ax[0].plot(s, [r["f3_theory"] for r in rr], "x", label=f"finite-n theory (same data) β={beta:g}")
        ax[0].plot(s, [r["nngp_f3"] for r in rr], "s", mfc="none", label=f"NNGP ridge β={beta:g}")
        ax[1].errorbar(s, [r["f1_sim"] for r in rr], [r["f1_err"] for r in rr], fmt="o")
        ax[1].plot(s, [r["f1_theory"] for r in rr], "x")
    on = curves[1.0].sigma2_gmfl1
    for a in ax:
        a.axvline(on, color="k", ls=":", lw=1)
        a.set_xlabel("σ²")
    ax[0].set_ylabel("f3/ε"); ax[1].set_ylabel("f1"); ax[2].set_ylabel("p̃ = κ p (droplets)")
    ax[0].legend(fontsize=6)
    return save_figure(fig, out_dir, "ak_cubic_curves")


def _fig_hist(out_dir, rows):
    fig, ax = figure(1, 2)
    for r in rows:
        if r["beta"] != rows[0]["beta"]:
            continue
        counts, edges = r["q_hist"]
        c = 0.5 * (edges[1:] + edges[:-1])
        pr = counts / counts.sum() / (edges[1] - edges[0])
        with np.errstate(divide="ignore"):
            ax[0].plot(c, -np.log(pr), label=f"σ²={r['sigma2']:g}")
        q, S = r["neg_log_p_theory"]
        ax[1].plot(q, S, label=f"σ²={r['sigma2']:g}")
    ax[0].set_title("sampler: −log p(w·w*)"); ax[1].set_title("finite-d theory: S(q) − min S")
    ax[1].set_xlim(-1.6, 1.6); ax[1].set_ylim(0, 12)
    for a in ax:
        a.set_xlabel("q = w·w*")
        a.legend(fontsize=6)
    return save_figure(fig, out_dir, "ak_cubic_hist")


def _fig_phase_diagram(out_dir):
    """(σ², n) plane: GMFL-I boundary σ²_c(n) at the base point; (u, ε) plane: u_c(ε)."""
    fig, ax = figure(1, 2)
    ns = np.geomspace(1000, 12000, 12)
    s2c = [AK.cubic_onset(dict(AK.BASE_POINT, n=float(n)))["value"] for n in ns]
    ax[0].plot(ns, s2c, "k-")
    ax[0].fill_between(ns, s2c, 1.0, alpha=0.15, label="GFL")
    ax[0].fill_between(ns, 0, s2c, alpha=0.15, label="GMFL-I (mixed)")
    ax[0].set_xscale("log"); ax[0].set_ylim(0, 1.0)
    ax[0].set_xlabel("n"); ax[0].set_ylabel("σ²"); ax[0].legend(fontsize=7)
    ax[0].set_title("base point, d → ∞")
    eps = np.linspace(-0.8, -0.05, 12)
    uc = [AK.cubic_onset(dict(AK.BASE_POINT, eps=float(e)))["u_c"] for e in eps]
    ax[1].plot(eps, uc, "k-")
    top = np.nanmax(uc) * 1.3
    ax[1].set_yscale("log")
    ax[1].fill_between(eps, 1, uc, alpha=0.15, label="GFL")
    ax[1].fill_between(eps, uc, top, alpha=0.15, label="GMFL-I (mixed)")
    ax[1].set_xlabel("ε"); ax[1].set_ylabel("u"); ax[1].legend(fontsize=7)
    ax[1].set_title("onset u_c(ε) (σ_w² = 0.5, nσ_a²/(σ²d) from σ²_c)")
    return save_figure(fig, out_dir, "ak_cubic_phase_diagram")


def _fig_modular(out_dir):
    s = np.linspace(0.1, 0.3, 200)
    cv = AK.modular_curve(s)
    on = AK.modular_onsets()
    fig, ax = figure(1, 1)
    ax.plot(s, cv["a"], label="|a| (P = 401)")
    ax.plot(s, cv["w"], label="droplet weight w")
    ax.axvline(on["sigma2_I"], ls=":", color="k")
    ax.axvline(on["sigma2_II"], ls="--", color="k")
    ax.set_xlabel("σ²")
    ax.legend()
    return save_figure(fig, out_dir, "ak_modular_curve")


@register_check("ak_modular", "adaptive kernel, modular addition: GMFL-I/II onsets and |a| vs the paper (theory only)")
def check_ak_modular(out_dir, *, quick=False, seed=0):
    os.makedirs(out_dir, exist_ok=True)
    on = AK.modular_onsets()
    cv = AK.modular_curve(np.linspace(0.1, 0.3, 401))
    a_at_II = float(AK.modular_solve(sigma2=on["sigma2_II"]).a)
    metrics = dict(on, a_at_sigma2_II_finite_P=a_at_II)
    ok = (abs(on["sigma2_I"] / 0.227 - 1) < 0.1 and abs(on["sigma2_II"] / 0.175 - 1) < 0.1
          and abs(on["a_II"] / 0.7 - 1) < 0.1 and np.all(np.diff(cv["a"]) >= -1e-12))
    fig = _fig_modular(out_dir)
    cost = ("Posterior sampling of modular addition at P = 401, N = 1000 needs P² = 160801 training points and "
            "2P·N = 8e5 weights: one MALA step ≈ 2·P²·2P·N ≈ 2.6e11 flops (one-hot inputs make it sparse: "
            "≈ 2·P²·2N ≈ 6e8), i.e. ~0.1 s per step and ≥ 1e5 steps: hours, not minutes — not run.")
    summary = (f"P → ∞ onsets: GMFL-I σ² = {on['sigma2_I']:.4f} (paper 0.227), GMFL-II σ² = {on['sigma2_II']:.4f} "
               f"(paper 0.175), |a| at GMFL-II = {on['a_II']:.3f} (paper ≈ 0.7); finite P = 401: |a| = {a_at_II:.3f} there. "
               + cost)
    with open(os.path.join(out_dir, "ak_modular.json"), "w") as fh:
        json.dump(metrics, fh, indent=2)
    return CheckResult("ak_modular", bool(ok), metrics, (fig,), (os.path.join(out_dir, "ak_modular.json"),), summary, seed)
