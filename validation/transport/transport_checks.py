"""Registered checks of least-action (optimal-transport) ResNet training.

``transport.gaussian``        closed-form Gaussian OT, the exact linear-ResNet realisation, sympy proofs.
``transport.linear_resnet``   E1: the kinetic term selects the Bures (Brenier) map (T-B1, T-B2).
``transport.resnet``          E2: tanh ResNet, fixed far classifier, projection principle (T-B4, T-B5).
``transport.generalization``  E3: kinetic energy vs generalization on moons (T-B6).

Each check writes particle trajectories through the blocks with the OT map overlaid, per-block
kinetic energies and a CSV table to ``out_dir``. Thresholds are those of the spec
``least_action.md`` (section "Checks").
"""
from __future__ import annotations

import time

import numpy as np

from phasekit._registry import CheckResult, register_check
from phasekit.theory.transport import transport as tt
from . import transport as vt
from phasekit.validation._common import figure, save_figure, write_csv

__all__ = ["check_gaussian", "check_linear_resnet", "check_resnet", "check_generalization",
           "E1_MOMENTS", "E2_SETUP"]

#: Spec E1 moments (m0, S0, m1, S1).
E1_MOMENTS = (np.zeros(2), np.array([[1.0, 0.3], [0.3, 0.6]]),
              np.array([1.0, -0.5]), np.array([[2.0, 0.8], [0.8, 0.5]]))
#: Spec E2 classifier and training setup.
E2_SETUP = dict(n_blocks=8, width=32, mu=50.0, w=(0.0, 1.0), b=2.0, margin=0.5, lr=3e-3)





def _plot_paths(ax, path, target=None, colors=None, n_show=60, rng=0, title=""):
    """Particle paths (K+1, n, 2) with the OT map x0 -> T(x0) overlaid (dashed, x markers)."""
    n = path.shape[1]
    idx = np.random.default_rng(rng).choice(n, size=min(n_show, n), replace=False)
    col = np.asarray(colors)[idx] if colors is not None else ["C0"] * len(idx)
    for j, i in enumerate(idx):
        ax.plot(path[:, i, 0], path[:, i, 1], "-", color=col[j], lw=0.8, alpha=0.8)
        if target is not None:
            ax.plot([path[0, i, 0], target[i, 0]], [path[0, i, 1], target[i, 1]], ":",
                    color="k", lw=0.6)
    ax.scatter(path[0, idx, 0], path[0, idx, 1], s=8, c=list(col), marker="o", label="input")
    ax.scatter(path[-1, idx, 0], path[-1, idx, 1], s=10, c=list(col), marker="s",
               label="output")
    if target is not None:
        ax.scatter(target[idx, 0], target[idx, 1], s=22, c="k", marker="x", lw=0.7,
                   label="OT map T(x)")
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal", adjustable="datalim")


def _energy_plot(ax, series, ref=None, ref_label="W2²"):
    for label, e in series.items():
        ax.plot(np.arange(len(e)), e, "o-", ms=3, label=label)
    if ref is not None:
        ax.axhline(ref, color="k", ls="--", lw=0.8, label=ref_label)
    ax.set_xlabel("block k")
    ax.set_ylabel("e_k = mean ||v_k||²")
    vals = np.concatenate([np.ravel(e) for e in series.values()])
    if vals.min() > 0 and vals.max() / vals.min() > 10:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, 1.25 * max(vals.max(), ref or 0))
    ax.legend(fontsize=7)


# =============================================================================================
@register_check("transport.gaussian",
                "Gaussian OT: Bures map, W2², McCann path realised exactly by linear blocks "
                "(constant per-block energy = W2²), 1-D quantile maps, sympy proofs (T-B3).")
def check_gaussian(out_dir, *, quick=False, seed=0) -> CheckResult:
    t0 = time.perf_counter()
    m0, S0, m1, S1 = E1_MOMENTS
    K = 8
    net = tt.linear_resnet_from_ot(m0, S0, m1, S1, K)
    ot = net.ot
    proofs = tt.symbolic_proofs()
    proofs_ok = all((v == 0) if not hasattr(v, "is_zero_matrix") else bool(v.is_zero_matrix)
                    for v in proofs.values())
    rng = np.random.default_rng(seed)
    n = 2000 if quick else 20000
    x0 = rng.multivariate_normal(m0, S0, size=n)
    path = net.trajectories(x0)
    mcc = np.stack([ot.mccann_points(x0, k / K) for k in range(K + 1)])
    path_err = float(np.max(np.abs(path - mcc)))
    bound = tt.discrete_kinetic_energy(path)
    # empirical W2 of samples to the pushed-forward samples (the map is optimal: = E||T x - x||^2)
    sub = 400 if quick else 1000
    w2_emp = vt.w2_empirical_squared(x0[:sub], path[-1, :sub])
    chord_sub = float(np.mean(np.sum((path[-1, :sub] - x0[:sub]) ** 2, axis=1)))
    # 1-D: Gaussian quantile map with sorted samples; N(0,1) -> Exp(1)
    z = np.sort(rng.standard_normal(n))
    T1 = tt.gaussian_quantile_map_1d(0.0, 1.0, 0.5, 2.0)
    w2_1d_emp = vt.w2_empirical_squared(z, T1(z))
    sq = (T1(z) - z) ** 2
    w2_1d_sem = float(sq.std(ddof=1) / np.sqrt(n))
    w2_1d = tt.w2_gaussian_1d_squared(0.0, 1.0, 0.5, 2.0)
    e = net.block_energies
    metrics = {
        "w2_squared": ot.w2_squared, "kinetic_energy": net.kinetic_energy,
        "energy_cv": float(e.std() / e.mean()),
        "composite_error": float(np.linalg.norm(net.composite() - ot.A)),
        "mccann_path_max_error": path_err, "bound_gap": bound.gap,
        "w2_sample_over_chord": w2_emp / chord_sub,
        "w2_1d_sorted": w2_1d_emp, "w2_1d_sorted_sem": w2_1d_sem, "w2_1d_exact": w2_1d,
        "symbolic_proofs_ok": float(proofs_ok),
    }
    passed = (proofs_ok and abs(net.kinetic_energy - ot.w2_squared) < 1e-10 * ot.w2_squared
              and metrics["energy_cv"] < 1e-10 and metrics["composite_error"] < 1e-10
              and path_err < 1e-9 and bound.gap < 1e-9 * ot.w2_squared
              and abs(w2_emp / chord_sub - 1) < 1e-9
              and abs(w2_1d_emp - float(sq.mean())) < 1e-12
              and abs(w2_1d_emp - w2_1d) < 4 * w2_1d_sem)
    fig, ax = figure(1, 2)
    _plot_paths(ax[0], path, ot(x0), n_show=50, rng=seed,
                title="linear ResNet blocks B_k (lines) vs OT map (x)")
    th = np.linspace(0, 2 * np.pi, 100)
    circ = np.stack([np.cos(th), np.sin(th)])
    for k in range(K + 1):
        mk, Sk = ot.mccann(k / K)
        E = mk[:, None] + tt.sqrtm_psd(Sk) @ circ
        ax[0].plot(E[0], E[1], color="0.6", lw=0.5)
    ax[0].legend(fontsize=7)
    _energy_plot(ax[1], {"exact B_k": e}, ot.w2_squared)
    ax[1].set_title("per-block energy (constant = W2²)", fontsize=9)
    figs = (save_figure(fig, out_dir, "transport_gaussian"),)
    rows = [{"block": k, "t_k": k / K, "energy": e[k], "w2_squared": ot.w2_squared,
             "B_00": net.B[k, 0, 0], "B_01": net.B[k, 0, 1], "B_10": net.B[k, 1, 0],
             "B_11": net.B[k, 1, 1], "c_0": net.c[k, 0], "c_1": net.c[k, 1]} for k in range(K)]
    tables = (write_csv(out_dir, "transport_gaussian", rows),)
    summary = (f"Bures map of the E1 moments: W2² = {ot.w2_squared:.6f}; the K={K} linear blocks "
               f"B_k = (A-I)((1-t_k)I+t_kA)^-1 reproduce the McCann path (max error "
               f"{path_err:.1e}) with per-block energy {e.mean():.6f} (CV {metrics['energy_cv']:.1e}); "
               f"sympy proofs {'all zero' if proofs_ok else 'FAILED'}; "
               f"{time.perf_counter() - t0:.1f} s.")
    return CheckResult("transport.gaussian", bool(passed), metrics, figs, tables, summary, seed)


# =============================================================================================
@register_check("transport.linear_resnet",
                "E1: population-level linear ResNet trained with the kinetic term recovers the "
                "Bures map; without it (3 seeds) it does not (T-B1, T-B2).")
def check_linear_resnet(out_dir, *, quick=False, seed=0) -> CheckResult:
    m0, S0, m1, S1 = E1_MOMENTS
    fits = [vt.fit_linear_resnet(m0, S0, m1, S1, kinetic=True, rng=seed)]
    ctrl = [vt.fit_linear_resnet(m0, S0, m1, S1, kinetic=False, rng=seed + s) for s in range(3)]
    f = fits[0]
    w2 = f.w2_squared
    tb1 = (f.rel_error < 1e-3 and abs(f.kinetic_energy - w2) / w2 < 1e-3 and f.energy_cv < 1e-3
           and f.asymmetry < 2e-3 and f.runtime < 10.0)
    ctrl_ok = [c.asymmetry > 0.1 or c.kinetic_energy > 2 * w2 for c in ctrl]
    tb2 = sum(ctrl_ok) >= 2
    metrics = {"rel_error": f.rel_error, "kinetic_over_w2": f.kinetic_energy / w2,
               "energy_cv": f.energy_cv, "asymmetry": f.asymmetry, "runtime_s": f.runtime,
               "mean_residual": f.mean_residual, "cov_residual": f.cov_residual,
               "control_selected_fraction": sum(ctrl_ok) / 3}
    for i, c in enumerate(ctrl):
        metrics[f"control{i}_asymmetry"] = c.asymmetry
        metrics[f"control{i}_kinetic_over_w2"] = c.kinetic_energy / w2
        metrics[f"control{i}_rel_error"] = c.rel_error
    rng = np.random.default_rng(seed)
    x0 = rng.multivariate_normal(m0, S0, size=400)
    ot = tt.gaussian_ot(m0, S0, m1, S1)
    lin = lambda fit: tt.LinearResNetOT(fit.B, fit.c, 1 / fit.B.shape[0], fit.block_energies, ot)  # noqa: E731
    fig, ax = figure(1, 3)
    _plot_paths(ax[0], lin(f).trajectories(x0), ot(x0), n_show=40, rng=seed,
                title="kinetic term on: learned blocks vs OT map")
    _plot_paths(ax[1], lin(ctrl[0]).trajectories(x0), ot(x0), n_show=40, rng=seed,
                title="control (no kinetic term)")
    ax[0].legend(fontsize=7)
    series = {"kinetic on": f.block_energies}
    series.update({f"control seed {seed + i}": c.block_energies for i, c in enumerate(ctrl)})
    _energy_plot(ax[2], series, w2)
    ax[2].set_title("per-block energy", fontsize=9)
    figs = (save_figure(fig, out_dir, "transport_linear_resnet"),)
    rows = []
    for label, fit in [("kinetic", f)] + [(f"control{i}", c) for i, c in enumerate(ctrl)]:
        rows.append({"run": label, "seed": fit.seed, "rel_error": fit.rel_error,
                     "asymmetry": fit.asymmetry, "kinetic_energy": fit.kinetic_energy,
                     "w2_squared": w2, "energy_cv": fit.energy_cv,
                     "mean_residual": fit.mean_residual, "cov_residual": fit.cov_residual,
                     "iterations": fit.iterations, "runtime_s": fit.runtime})
    tables = (write_csv(out_dir, "transport_linear_resnet", rows),)
    summary = (f"E1 (K=8, penalty μ=10…1e5, BFGS): with the kinetic term ||A-A_OT||/||A_OT|| = "
               f"{f.rel_error:.1e}, C/W2² = {f.kinetic_energy / w2:.6f}, CV {f.energy_cv:.1e}, "
               f"asymmetry {f.asymmetry:.1e} in {f.runtime:.2f} s (T-B1 "
               f"{'pass' if tb1 else 'FAIL'}). Without it, asymmetry "
               f"{', '.join(f'{c.asymmetry:.2f}' for c in ctrl)} and C/W2² "
               f"{', '.join(f'{c.kinetic_energy / w2:.2f}' for c in ctrl)}: the kinetic term "
               f"selects the Brenier map in {sum(ctrl_ok)}/3 seeds (T-B2 {'pass' if tb2 else 'FAIL'}).")
    return CheckResult("transport.linear_resnet", bool(tb1 and tb2), metrics, figs, tables,
                       summary, seed)


# =============================================================================================
def _class_colors(y):
    return np.where(np.asarray(y) > 0, "C0", "C3")


def _classifier_lines(ax, w, b, margin, xlim):
    xs = np.linspace(*xlim, 2)
    if abs(w[1]) > 0:
        for off, ls in ((0.0, "-"), (margin, "--"), (-margin, "--")):
            ax.plot(xs, (off - b - w[0] * xs) / w[1], ls, color="0.4", lw=0.7)


@register_check("transport.resnet",
                "E2: tanh ResNet with a fixed far classifier learns the projection (minimal-"
                "kinetic) map with kinetic penalty or the LAP Uzawa schedule (T-B4, T-B5).")
def check_resnet(out_dir, *, quick=False, seed=0) -> CheckResult:
    X, y = vt.make_two_blobs(400, rng=seed)
    setup = dict(E2_SETUP)
    # lam_kin = 1 and the control lam_kin = 0 train together (two replicas, same init)
    fx = vt.train_resnet(X, y, lam_kin=[1.0, 0.0], rng=[seed, seed], n_iter=6000, **setup)
    n_uz = 8000 if quick else 12000
    uz = vt.train_resnet(X, y, schedule="uzawa", lambda0=1.0, tau=20.0, uzawa_every=5,
                         n_iter=n_uz, rng=seed, **setup)
    cls = dict(y=y, w=setup["w"], b=setup["b"], margin=setup["margin"])
    Pf = fx.trajectories(X)
    Pu = uz.trajectories(X)[:, 0]
    dk = vt.transport_diagnostics(Pf[:, 0], **cls)
    dc = vt.transport_diagnostics(Pf[:, 1], w2=False, **cls)
    du = vt.transport_diagnostics(Pu, w2=False, **cls)
    lam = uz.lambda_history[:, 0]
    q = len(lam) // 4
    sat = float((lam[-1] - lam[-q - 1]) / (lam[q] - lam[0]))
    mono = bool(np.all(np.diff(lam) >= 0))
    tb4 = (dk.displacement_rel_error < 0.05 and dk.direction_cosine > 0.995
           and dk.straightness > 0.995 and dk.static_displacement < 0.15
           and dk.kinetic_rel_error < 0.1 and dk.energy_cv < 0.05
           and dc.displacement_rel_error > 0.5)
    tb5 = du.max_violation < 0.05 and du.displacement_rel_error < 0.02 and mono and sat < 0.25
    metrics = {f"kin_{k}": v for k, v in dk.as_dict().items()}
    metrics.update({f"control_{k}": v for k, v in dc.as_dict().items()
                    if not k.startswith("block_energies")})
    metrics.update({f"uzawa_{k}": v for k, v in du.as_dict().items()
                    if not k.startswith("block_energies")})
    metrics.update({"uzawa_lambda_final": float(lam[-1]), "uzawa_lambda_monotone": float(mono),
                    "uzawa_saturation_ratio": sat, "runtime_fixed_s": fx.runtime,
                    "runtime_uzawa_s": uz.runtime, "uzawa_iterations": n_uz})
    target = vt.halfspace_projection_map(X, y, setup["w"], setup["b"], setup["margin"])
    col = _class_colors(y)
    fig, ax = figure(2, 2, figsize=(10, 8))
    for a, P, title in ((ax[0, 0], Pf[:, 0], "λ_kin = 1"), (ax[0, 1], Pf[:, 1], "λ_kin = 0 (control)"),
                        (ax[1, 0], Pu, f"Uzawa, {n_uz} it.")):
        _plot_paths(a, P, target, col, n_show=60, rng=seed, title=title + ": paths vs projection map")
        _classifier_lines(a, setup["w"], setup["b"], setup["margin"], a.get_xlim())
    ax[0, 0].legend(fontsize=7)
    _energy_plot(ax[1, 1], {"λ_kin = 1": dk.block_energies, "λ_kin = 0": dc.block_energies,
                            "Uzawa": du.block_energies}, dk.ot_cost, "C_OT")
    ax[1, 1].set_title("per-block energy", fontsize=9)
    figs = [save_figure(fig, out_dir, "transport_resnet")]
    fig, ax = figure(1, 1)
    ax.plot(np.arange(1, len(lam) + 1) * 5, lam)
    ax.set_xlabel("iteration")
    ax.set_ylabel("λ_L")
    ax.set_xscale("log")
    ax.set_title("Uzawa multiplier (LAP schedule)", fontsize=9)
    figs.append(save_figure(fig, out_dir, "transport_resnet_uzawa"))
    rows = []
    for label, d in (("lam_kin=1", dk), ("lam_kin=0", dc), ("uzawa", du)):
        row = {"run": label}
        row.update({k: v for k, v in d.as_dict().items()})
        rows.append(row)
    tables = (write_csv(out_dir, "transport_resnet", rows),)
    summary = (f"E2 (two blobs, K=8, width 32, 6000 Adam steps, {fx.runtime:.1f} s for both "
               f"replicas): λ_kin=1 displacement error {dk.displacement_rel_error:.4f} (< 0.05), "
               f"cos {dk.direction_cosine:.5f}, straightness {dk.straightness:.5f}, static "
               f"{dk.static_displacement:.4f}, |C-C_OT|/C_OT {dk.kinetic_rel_error:.4f}, CV "
               f"{dk.energy_cv:.4f}; control error {dc.displacement_rel_error:.2f} (> 0.5). "
               f"T-B4 {'pass' if tb4 else 'FAIL'}. Uzawa ({n_uz} it.): violation "
               f"{du.max_violation:.4f}, error {du.displacement_rel_error:.4f}, λ_L → {lam[-1]:.1f} "
               f"(monotone {mono}, late/early growth {sat:.3f}). T-B5 {'pass' if tb5 else 'FAIL'}.")
    return CheckResult("transport.resnet", bool(tb4 and tb5), metrics, tuple(figs), tables,
                       summary, seed)


# =============================================================================================
@register_check("transport.generalization",
                "E3: kinetic regularisation vs generalization on low-data moons, paired seeds "
                "over λ_kin and the initial scale (T-B6).")
def check_generalization(out_dir, *, quick=False, seed=0) -> CheckResult:
    if quick:
        # all seeds train as replicas of one vectorised loop: keep the seed count, cut the rest
        sw = vt.generalization_sweep(n_train=(20,), lam_kins=(0.0, 0.03, 0.3, 3.0), n_seeds=20,
                                     init_stds=(0.1, 2.0), n_init_seeds=16, n_test=1000,
                                     n_iter=2000, seed=seed)
    else:
        sw = vt.generalization_sweep(seed=seed)
    N = 20
    a0 = sw.accuracy[(N, 0.0)].mean
    gain = sw.paired_gain[(N, 0.03)]
    k0 = sw.kinetic[(N, 0.0)].mean
    kin_ratio = min(k0 / sw.kinetic[(N, lam)].mean for lam in sw.lam_kins if lam >= 0.03)
    init_gap = sw.init_accuracy[0.1].mean - sw.init_accuracy[2.0].mean
    ok_gain = sw.accuracy[(N, 0.03)].mean >= a0 - 0.01
    ok_init = init_gap >= 0.05
    ok_kin = kin_ratio >= 10
    metrics = {"runtime_s": sw.runtime, "acc_gain_0.03_mean": gain.mean,
               "acc_gain_0.03_sem": gain.error_of_mean, "init_gap_0.1_vs_2.0": init_gap,
               "kinetic_ratio_min": kin_ratio}
    rows = []
    for (n, lam), st in sw.accuracy.items():
        kn = sw.kinetic[(n, lam)]
        g = sw.paired_gain[(n, lam)]
        metrics[f"acc_N{n}_lam{lam:g}"] = st.mean
        metrics[f"kin_N{n}_lam{lam:g}"] = kn.mean
        rows.append({"sweep": "lam_kin", "n_train": n, "lam_kin": lam,
                     "init_std": sw.base_init_std, "acc_mean": st.mean, "acc_sem": st.error_of_mean,
                     "paired_gain_mean": g.mean, "paired_gain_sem": g.error_of_mean,
                     "kinetic_mean": kn.mean, "kinetic_sem": kn.error_of_mean,
                     "n_seeds": st.n_samples})
    for sd, st in sw.init_accuracy.items():
        kn = sw.init_kinetic[sd]
        metrics[f"acc_init{sd:g}"] = st.mean
        rows.append({"sweep": "init_std", "n_train": 20, "lam_kin": 0.0, "init_std": sd,
                     "acc_mean": st.mean, "acc_sem": st.error_of_mean, "kinetic_mean": kn.mean,
                     "kinetic_sem": kn.error_of_mean, "n_seeds": st.n_samples})
    tables = (write_csv(out_dir, "transport_generalization", rows),)
    fig, ax = figure(1, 3, figsize=(14, 3.8))
    for n in sw.n_train:
        lams = np.array(sw.lam_kins)
        xs = np.where(lams > 0, lams, lams[lams > 0].min() / 3)
        acc = [sw.accuracy[(n, l)] for l in sw.lam_kins]
        ax[0].errorbar(xs, [s.mean for s in acc], [s.error_of_mean for s in acc], marker="o",
                       capsize=3, label=f"N = {n}")
        kin = [sw.kinetic[(n, l)] for l in sw.lam_kins]
        ax[1].errorbar(xs, [s.mean for s in kin], [s.error_of_mean for s in kin], marker="o",
                       capsize=3, label=f"N = {n}")
    ax[0].set_xscale("log")
    ax[0].set_xlabel("λ_kin (leftmost point: 0)")
    ax[0].set_ylabel("test accuracy")
    ax[0].legend(fontsize=7)
    ax[1].set_xscale("log")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("λ_kin (leftmost point: 0)")
    ax[1].set_ylabel("kinetic energy C")
    stds = list(sw.init_accuracy)
    ax[2].errorbar(stds, [sw.init_accuracy[s].mean for s in stds],
                   [sw.init_accuracy[s].error_of_mean for s in stds], marker="o", capsize=3)
    ax[2].set_xscale("log")
    ax[2].set_xlabel("init std (λ_kin = 0, N = 20)")
    ax[2].set_ylabel("test accuracy")
    figs = [save_figure(fig, out_dir, "transport_generalization")]
    # trajectories of one low-data run, regularised vs not, for the figure set
    Xtr, ytr = vt.make_moons(20, noise=0.1, rng=seed)
    res = vt.train_resnet(Xtr, ytr, n_blocks=8, width=16, lam_kin=[0.0, 0.3], mu=50.0,
                          w=(0.0, 1.0), b=0.0, margin=0.3, n_iter=1000 if quick else 4000,
                          init_std=sw.base_init_std, rng=[seed, seed])
    Xte, yte = vt.make_moons(300, noise=0.1, rng=seed + 1)
    P = res.trajectories(Xte)
    tgt = vt.halfspace_projection_map(Xte, yte, (0.0, 1.0), 0.0, 0.3)
    fig, ax = figure(1, 2, figsize=(10, 4))
    for j, lam in enumerate((0.0, 0.3)):
        _plot_paths(ax[j], P[:, j], tgt, _class_colors(yte), n_show=80, rng=seed,
                    title=f"moons, N_train = 20, λ_kin = {lam}: test-point paths")
        _classifier_lines(ax[j], (0.0, 1.0), 0.0, 0.3, ax[j].get_xlim())
    figs.append(save_figure(fig, out_dir, "transport_generalization_paths"))
    passed = ok_gain and ok_init and ok_kin
    summary = (f"E3 ({sw.dataset}, {sw.n_seeds} paired seeds{' — quick' if quick else ''}, "
               f"{sw.runtime:.0f} s): N=20 accuracy {a0:.3f} at λ_kin=0, paired gain at 0.03 "
               f"{gain.mean:+.4f} ± {gain.error_of_mean:.4f} (≥ -0.01: {ok_gain}); init std 0.1 vs "
               f"2.0 accuracy gap {init_gap:.3f} (≥ 0.05: {ok_init}); kinetic energy reduced "
               f"{kin_ratio:.0f}× for λ_kin ≥ 0.03 (≥ 10: {ok_kin}).")
    return CheckResult("transport.generalization", bool(passed), metrics, tuple(figs), tables,
                       summary, seed)
