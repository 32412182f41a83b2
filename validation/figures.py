"""Figures shared by the CLI and the checks (matplotlib, Agg backend)."""
from __future__ import annotations

import os

import numpy as np

from ._common import figure, save_figure

__all__ = ["plot_sweep"]


def plot_sweep(res, path, *, observable=None):
    """Plot a :class:`~phasekit.solvers.SweepResult`: a curve (1-D) or a map with its zero contour
    (2-D); grid points where the solver did not converge are marked, never hidden."""
    obs = observable or ("entropy" if "entropy" in res.values else "free_entropy")
    if obs not in res.values:
        from .._errors import InvalidParameterError
        raise InvalidParameterError(f"unknown observable {obs!r}; available: {', '.join(res.values)}")
    names = list(res.axes)
    val = res.values[obs]
    fig, ax = figure()
    if len(names) == 1:
        x = res.axes[names[0]]
        ax.plot(x, val, "-", color="C0", label=obs)
        bad = ~res.converged
        if bad.any():
            ax.plot(x[bad], np.zeros(bad.sum()), "x", color="red", label="not converged")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel(names[0])
        ax.set_ylabel(obs)
        ax.legend()
    else:
        x, y = res.axes[names[0]], res.axes[names[1]]
        X, Y = np.meshgrid(x, y, indexing="ij")
        m = ax.pcolormesh(X, Y, np.ma.masked_invalid(val), shading="auto", cmap="viridis")
        fig.colorbar(m, ax=ax, label=obs)
        finite = np.isfinite(val)
        if finite.any() and np.nanmin(val) < 0 < np.nanmax(val):
            ax.contour(X, Y, np.where(finite, val, np.nan), levels=[0.0], colors="white", linewidths=1.5)
        bad = ~res.converged
        if bad.any():
            ax.plot(X[bad], Y[bad], "x", color="red", ms=3, label="not converged")
            ax.legend(loc="upper right", fontsize=7)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    ax.set_title(res.model, fontsize=9)
    out_dir, name = os.path.split(path)
    return save_figure(fig, out_dir or ".", os.path.splitext(name)[0])
