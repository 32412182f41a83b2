"""Parameter sweeps over 1-D/2-D grids: local processes by default, a Dask cluster on request."""
from __future__ import annotations

import os

import numpy as np

from .._errors import InvalidParameterError
from ._continuation import continue_branch
from ._fixed_point import as_model, solve_batch
from ._results import SweepResult, provenance

__all__ = ["sweep"]


def _row(model, params, along, values, branch, tol, continuation=False):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if continuation:
        br = continue_branch(model, params, along=along, values=values, branch=branch, tol=tol)
        return br.values, br.converged, br.residual, br.iterations
    out = solve_batch(model, dict(params, **{along: np.asarray(values, dtype=float)}), branch=branch, tol=tol)
    return out["values"], out["converged"], out["residual"], out["iterations"]


def sweep(model, grid, params=None, *, branch=None, tol=None, workers=None, scheduler=None,
          progress=True, continuation=False) -> SweepResult:
    r"""Solve a model on a 1-D or 2-D grid of control parameters.

    Each row (the first grid axis, at one value of the second) is solved at once by the
    vectorised :func:`~phasekit.solvers.solve_batch` from the branch start, or, with
    ``continuation=True``, followed point by point with warm starts (to stay on a metastable
    branch). Rows are independent tasks run on ``workers`` local processes
    (``concurrent.futures``; ``workers=1`` runs in this process) or, when ``scheduler`` is a Dask
    scheduler address (``"tcp://host:8786"``) or a ``dask.distributed.Client``, on that cluster.
    Both paths run the same task function and give the same numbers.

    Parameters
    ----------
    model : EquilibriumModel or str
    grid : dict
        ``{name: 1-D array}`` with one or two entries, e.g. ``{"alpha": ..., "kappa": ...}``.
    params : dict, optional
        The remaining control parameters (fixed).
    workers : int, optional
        Local processes (default: ``os.cpu_count()``).
    scheduler : str or dask.distributed.Client, optional
    progress : bool
        Show a tqdm progress bar over rows.

    Returns
    -------
    SweepResult
        Values, ``converged``, ``residual`` and ``iterations`` per grid point, with provenance.
    """
    model = as_model(model)
    if not isinstance(grid, dict) or not 1 <= len(grid) <= 2:
        raise InvalidParameterError("The 'grid' parameter of sweep must be a dict of one or two parameter grids.")
    axes = {k: np.asarray(v, dtype=float).ravel() for k, v in grid.items()}
    for k, v in axes.items():
        if k not in model.control_names:
            raise InvalidParameterError(
                f"unknown parameter {k!r} of model {model.name}; its parameters are {', '.join(model.control_names)}")
        if v.size == 0:
            raise InvalidParameterError(f"The {k!r} grid of sweep is empty.")
    base = dict(params or {})
    names = list(axes)
    along = names[0]
    rows = [dict(base)] if len(names) == 1 else [dict(base, **{names[1]: y}) for y in axes[names[1]]]
    for r in rows:  # validate every row's fixed parameters once, up front
        model.validate_params(dict(r, **{along: axes[along][0]}), f"sweep({model.name})")
        for v in axes[along]:
            model.validate_params(dict(r, **{along: v}), f"sweep({model.name})")

    tasks = [(model, r, along, axes[along], branch, tol, continuation) for r in rows]
    results = _run(tasks, workers, scheduler, progress, desc=f"sweep {model.name}")
    keys = list(results[0][0])
    shape_rows = (len(axes[along]),) if len(names) == 1 else (len(axes[names[1]]), len(axes[along]))
    def stack(i, k=None):
        arr = np.array([res[i][k] if k is not None else res[i] for res in results])
        return arr.reshape(shape_rows).T if len(names) == 2 else arr.reshape(shape_rows)
    values = {k: stack(0, k) for k in keys}
    prov = provenance(model=model.name, params=base, branch=branch, tol=tol, continuation=continuation,
                      grid={k: [float(v[0]), float(v[-1]), int(v.size)] for k, v in axes.items()},
                      backend="dask" if scheduler is not None else "processes")
    return SweepResult(model=model.name, params=base, axes=axes, values=values,
                       converged=stack(1).astype(bool), residual=stack(2), iterations=stack(3).astype(int),
                       branch=model.branch(branch).name, provenance=prov)


def _run(tasks, workers, scheduler, progress, desc):
    from tqdm.auto import tqdm
    bar = tqdm(total=len(tasks), desc=desc, disable=not progress, leave=False)
    try:
        if scheduler is not None:
            return _run_dask(tasks, scheduler, bar)
        workers = os.cpu_count() or 1 if workers is None else int(workers)
        if workers < 1:
            raise InvalidParameterError(f"The 'workers' parameter of sweep must be an int >= 1. Got {workers} instead.")
        if workers == 1 or len(tasks) == 1:
            out = []
            for t in tasks:
                out.append(_row(*t))
                bar.update()
            return out
        import concurrent.futures as cf
        import multiprocessing as mp
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
            futs = [ex.submit(_row, *t) for t in tasks]
            for _ in cf.as_completed(futs):
                bar.update()
            return [f.result() for f in futs]
    finally:
        bar.close()


def _run_dask(tasks, scheduler, bar):
    try:
        from dask.distributed import Client, as_completed
    except ImportError as e:  # pragma: no cover - optional extra
        raise ImportError("sweeps on a Dask cluster need the optional extra: pip install 'phasekit[dask]'") from e
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futs = [client.submit(_row, *t, pure=False) for t in tasks]
        for _ in as_completed(futs):
            bar.update()
        return client.gather(futs)
    finally:
        if own:
            client.close()
