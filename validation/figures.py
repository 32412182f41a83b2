"""Figures shared by the CLI and the checks (matplotlib, Agg backend)."""
from __future__ import annotations

import os

import numpy as np

from ._common import figure, save_figure

__all__ = ["plot_sweep", "STATUS_STYLES"]

#: How :func:`plot_sweep` marks grid points by status: ``status: (legend label, hatch, colour)``.
#: ``converged`` points are drawn plainly; every other status is hatched, never hidden.
STATUS_STYLES = {
    "no_solution": ("no solution (no_solution)", "//", "0.35"),
    "unstable": ("unstable (unstable)", "\\\\", "tab:red"),
    "not_converged": ("not converged (not_converged)", "xxx", "black"),
    "under_resolved": ("under-resolved (under_resolved)", "ooo", "tab:orange"),
    "outside_domain": ("outside the domain (outside_domain)", "++", "tab:purple"),
}


def _status(res):
    st = getattr(res, "status", None)
    conv = np.asarray(res.converged, dtype=bool)
    if st is None:
        return np.where(conv, "converged", "not_converged").astype(object)
    return np.asarray(st, dtype=object)


def _edges(c):
    """Cell edges around the grid centres ``c`` (half-way between neighbours)."""
    c = np.asarray(c, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def _inside_edges(e):
    """Two sample points just inside each cell: a 0/1 mask sampled there has its 0.5 contour on the
    cell edges, so ``contourf`` draws whole cells (a staircase, not an interpolated blob)."""
    d = 1e-6 * np.diff(e)
    return np.stack([e[:-1] + d, e[1:] - d], axis=1).ravel()


def _legend(fig, handles):
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(2, len(handles)), fontsize=7,
                   frameon=False)


def plot_sweep(res, path, *, observable=None):
    """Plot a :class:`~phasekit.solvers.SweepResult`: a curve (1-D) or a map with its zero contour
    (2-D).

    Grid points whose status is not ``converged`` are hatched, one legend entry per status present
    (:data:`STATUS_STYLES`), never hidden; the axis range (1-D) and the colour scale (2-D) come from
    the converged points only, so a stray value at an unstable point does not wash out the map. The
    legend sits below the axes, off the data.
    """
    from matplotlib.patches import Patch

    obs = observable or ("entropy" if "entropy" in res.values else "free_entropy")
    if obs not in res.values:
        from .._errors import InvalidParameterError
        raise InvalidParameterError(f"unknown observable {obs!r}; available: {', '.join(res.values)}")
    names = list(res.axes)
    val = np.asarray(res.values[obs], dtype=float)
    status = _status(res)
    conv = status == "converged"
    good = conv & np.isfinite(val)
    present = [s for s in STATUS_STYLES if (status == s).any()]
    handles = []
    fig, ax = figure(figsize=(4.8, 4.2))
    if len(names) == 1:
        x = np.asarray(res.axes[names[0]], dtype=float)
        e = _edges(x)
        ax.plot(x, np.where(conv, val, np.nan), "-", color="C0", label=obs)
        if (np.isfinite(val) & ~conv).any():  # values kept at unstable points: dotted
            ax.plot(x, np.where(~conv, val, np.nan), ":", color="C0", lw=1)
        for s in present:
            label, hatch, color = STATUS_STYLES[s]
            mask = status == s
            # contiguous runs of the status, drawn as hatched spans over whole cells
            edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                ax.axvspan(e[a], e[b], facecolor="none", edgecolor=color, hatch=hatch, lw=0)
            handles.append(Patch(facecolor="none", edgecolor=color, hatch=hatch, label=label))
        if good.any():
            lo, hi = float(val[good].min()), float(val[good].max())
            pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(e[0], e[-1])
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel(names[0])
        ax.set_ylabel(obs)
        handles.insert(0, ax.get_lines()[0])
    else:
        x, y = (np.asarray(res.axes[n], dtype=float) for n in names)
        xe, ye = _edges(x), _edges(y)
        ax.set_facecolor("0.93")  # points without a value show as light grey (and are hatched)
        vmin, vmax = (float(val[good].min()), float(val[good].max())) if good.any() else (None, None)
        m = ax.pcolormesh(xe, ye, np.ma.masked_invalid(val).T, shading="flat", cmap="viridis", vmin=vmin, vmax=vmax)
        extend = "neither"
        if good.any():
            fin = np.isfinite(val)
            below, above = (val[fin] < vmin).any(), (val[fin] > vmax).any()
            extend = {(False, False): "neither", (True, False): "min", (False, True): "max"}.get((below, above), "both")
        fig.colorbar(m, ax=ax, label=f"{obs} (scale: converged points)", extend=extend)
        X, Y = np.meshgrid(x, y, indexing="ij")
        zero = np.where(good, val, np.nan)
        if good.any() and np.nanmin(zero) < 0 < np.nanmax(zero):
            ax.contour(X, Y, zero, levels=[0.0], colors="white", linewidths=1.5)
        XX, YY = np.meshgrid(_inside_edges(xe), _inside_edges(ye), indexing="ij")
        for s in present:
            label, hatch, color = STATUS_STYLES[s]
            mask = np.repeat(np.repeat((status == s).astype(float), 2, axis=0), 2, axis=1)
            cs = ax.contourf(XX, YY, mask, levels=[0.5, 1.5], colors="none", hatches=[hatch])
            cs.set_edgecolor(color)
            cs.set_linewidth(0)
            handles.append(Patch(facecolor="none", edgecolor=color, hatch=hatch, label=label))
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    n_bad = int((~conv).sum())
    ax.set_title(f"{res.model}" + (f" — {conv.size - n_bad} of {conv.size} points converged" if n_bad else ""),
                 fontsize=8)
    _legend(fig, handles)
    out_dir, name = os.path.split(os.fspath(path))
    return save_figure(fig, out_dir or ".", os.path.splitext(name)[0])
