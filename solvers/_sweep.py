"""Parameter sweeps over 1-D/2-D grids: in this process by default, local processes or a Dask
cluster on request; every finished row saved at once, interrupted sweeps resumed."""
from __future__ import annotations

import contextlib
import glob
import json
import numbers
import os
import zipfile

import numpy as np

from .._errors import InvalidParameterError
from ._continuation import continue_branch
from ._fixed_point import as_model, solve_batch
from ._pool import _stop
from ._io import RunInterrupted, atomic_save, atomic_write, check_output_dir, ignore_sigint, sigterm_as_interrupt
from ._results import STATUSES, SweepResult, provenance

__all__ = ["sweep", "MAX_POINTS", "observable_names", "check_observable"]

#: Largest grid :func:`sweep` accepts by default (``max_points``): 10**6 points.
MAX_POINTS = 1_000_000
#: Seconds to wait for a Dask scheduler to answer before reporting it unreachable.
DASK_CONNECT_TIMEOUT = 5


def _row(model, params, along, values, branch, tol, continuation=False):
    """Solve one row of the grid; a dict of arrays over ``values`` (one task of a sweep)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if continuation:
        br = continue_branch(model, params, along=along, values=values, branch=branch, tol=tol)
        out = {"values": br.values, "converged": br.converged, "residual": br.residual,
               "iterations": br.iterations, "status": br.status, "error_estimate": br.error_estimate}
    else:
        out = solve_batch(model, dict(params, **{along: np.asarray(values, dtype=float)}), branch=branch, tol=tol)
    return {"values": {k: np.asarray(v, dtype=float) for k, v in out["values"].items()},
            "converged": np.asarray(out["converged"], dtype=bool),
            "residual": np.asarray(out["residual"], dtype=float),
            "iterations": np.asarray(out["iterations"], dtype=int),
            "status": np.asarray(out["status"], dtype=str),
            "error_estimate": np.asarray(out["error_estimate"], dtype=float)}


# --------------------------------------------------------------------------- validation
def observable_names(model) -> tuple:
    """Names a sweep of ``model`` reports: order parameters, ``free_entropy``, the entropy
    observable and the declared observables (without compiling anything)."""
    model = as_model(model)
    names = list(model.order_names) + ["free_entropy", model.entropy_observable] + list(model.observables())
    return tuple(dict.fromkeys(names))


def check_observable(model, name):
    """Raise :class:`~phasekit.InvalidParameterError` unless a sweep of ``model`` reports ``name``."""
    model = as_model(model)
    if name is None or name in observable_names(model):
        return name
    numeric = getattr(model, "observables_numeric", None) or {}  # models computing extra ones numerically
    if name in numeric:
        return name
    known = list(observable_names(model)) + [k for k in numeric if k not in observable_names(model)]
    raise InvalidParameterError(f"unknown observable {name!r} of model {model.name}; its observables are "
                                f"{', '.join(known)}")


def _plan(model, grid, params, branch, max_points):
    """Validate a sweep's inputs (nothing computed) and return ``(axes, base, along, rows)``."""
    if not isinstance(grid, dict) or not 1 <= len(grid) <= 2:
        raise InvalidParameterError("The 'grid' parameter of sweep must be a dict of one or two parameter grids.")
    where = f"sweep({model.name})"
    for k in grid:
        if k not in model.control_names:
            raise InvalidParameterError(
                f"unknown parameter {k!r} of model {model.name}; its parameters are {', '.join(model.control_names)}")
    sizes = [int(np.size(v)) for v in grid.values()]
    npts = int(np.prod(sizes))
    if max_points is not None and npts > max_points:
        raise InvalidParameterError(
            f"the grid has {' x '.join(map(str, sizes))} = {npts:,} points, more than the limit of "
            f"{int(max_points):,}; split the sweep (or pass a larger max_points to sweep)")
    axes = {}
    for k, v in grid.items():
        try:
            a = np.asarray(v, dtype=float).ravel()
        except (TypeError, ValueError):
            raise InvalidParameterError(f"The {k!r} grid of sweep must be a 1-D array of floats.") from None
        if a.size == 0:
            raise InvalidParameterError(f"The {k!r} grid of sweep is empty.")
        axes[k] = a
    base = dict(params or {})
    both = sorted(set(base) & set(axes))
    if both:
        raise InvalidParameterError(f"the parameter {both[0]!r} is both swept (grid) and fixed (params)")
    # unknown names and domains of the fixed parameters
    model.validate_params(dict(base, **{k: a[0] for k, a in axes.items()}), where)
    names = list(axes)
    along = names[0]
    rows = [dict(base)] if len(names) == 1 else [dict(base, **{names[1]: y}) for y in axes[names[1]]]
    for v in axes[along]:  # every grid value through the declared domains, once
        model.validate_params(dict(rows[0], **{along: v}), where)
    for r in rows[1:]:
        model.validate_params(dict(r, **{along: axes[along][0]}), where)
    model.branch(branch)  # unknown branch
    return axes, base, along, rows


def _check_workers(workers):
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise InvalidParameterError(
            f"The 'workers' parameter of sweep must be an int >= 1 or None. Got {workers!r} instead.")
    return int(workers)


def _dask_client(scheduler):
    """``(client, owned)``: connect to ``scheduler`` now, so an unreachable one fails before computing."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise InvalidParameterError("sweeps on a Dask cluster need the optional extra: "
                                    "pip install 'phasekit[dask]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout=f"{DASK_CONNECT_TIMEOUT}s"), True
    except Exception:  # OSError / TimeoutError / ValueError for a malformed address
        raise InvalidParameterError(f"cannot reach the Dask scheduler at {scheduler} "
                                    f"(no answer within {DASK_CONNECT_TIMEOUT} s)") from None


def _check_out(stem):
    stem = os.fspath(stem)
    folder = os.path.dirname(os.path.abspath(stem))
    check_output_dir(folder)
    for path, kind in ((stem + ".csv", "file"), (stem + ".json", "file"), (stem + ".partial", "folder")):
        if os.path.exists(path) and os.path.isdir(path) != (kind == "folder"):
            raise InvalidParameterError(f"cannot write the sweep {kind} {path!r}: a "
                                        f"{'file' if kind == 'folder' else 'folder'} of that name exists")
    return stem


# --------------------------------------------------------------------------- row chunks on disk
class _Chunks:
    """Finished rows of a sweep in ``<stem>.partial/``: ``manifest.json`` (what sweep they belong
    to) and one ``row_NNNNNN.npz`` per row, each written atomically as soon as the row is done."""

    def __init__(self, stem, fingerprint):
        self.dir = os.fspath(stem) + ".partial"
        self.fingerprint = json.loads(json.dumps(fingerprint))

    def _path(self, i):
        return os.path.join(self.dir, f"row_{i:06d}.npz")

    def start(self, resume):
        """Rows already on disk (``resume``), else clear old ones; write the manifest."""
        manifest = os.path.join(self.dir, "manifest.json")
        if resume and os.path.isfile(manifest):
            with open(manifest) as f:
                old = json.load(f).get("fingerprint")
            if old != self.fingerprint:
                diff = sorted(k for k in set(old or {}) | set(self.fingerprint)
                              if (old or {}).get(k) != self.fingerprint.get(k))
                raise InvalidParameterError(
                    f"cannot resume: the partial results in {self.dir} belong to a different sweep "
                    f"(differs in: {', '.join(diff)}); remove that folder or run without resume")
            return self._load()
        self.remove()
        os.makedirs(self.dir, exist_ok=True)
        with atomic_write(manifest) as f:
            json.dump({"fingerprint": self.fingerprint}, f, indent=1)
        return {}

    def _load(self):
        done = {}
        for path in sorted(glob.glob(os.path.join(self.dir, "row_*.npz"))):
            try:
                i = int(os.path.basename(path)[4:-4])
                with np.load(path, allow_pickle=False) as z:
                    names = [str(n) for n in z["value_names"]]
                    row = {"values": {n: z["v_" + n] for n in names}, "converged": z["converged"].astype(bool),
                           "residual": z["residual"], "iterations": z["iterations"], "status": z["status"],
                           "error_estimate": z["error_estimate"]}
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                continue  # unreadable: computed again
            if set(row["status"].tolist()) <= set(STATUSES):
                done[i] = row
        return done

    def save(self, i, row):
        arrays = {"v_" + k: v for k, v in row["values"].items()}
        arrays.update(value_names=np.array(list(row["values"]), dtype=str), converged=row["converged"],
                      residual=row["residual"], iterations=row["iterations"], status=row["status"],
                      error_estimate=row["error_estimate"])
        with atomic_write(self._path(i), "wb") as f:
            np.savez(f, **arrays)

    def remove(self):
        """Delete this sweep's chunk files (and the folder when nothing else is in it)."""
        if not os.path.isdir(self.dir):
            return
        # the manifest first: rows left behind by an interruption here are never reused
        for pattern in ("manifest.json", "row_*.npz", ".row_*.tmp", ".manifest.json.*.tmp"):
            for path in glob.glob(os.path.join(self.dir, pattern)):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(self.dir)


# --------------------------------------------------------------------------- sweep
def sweep(model, grid, params=None, *, branch=None, tol=None, workers=None, scheduler=None,
          progress=True, continuation=False, out=None, resume=False, max_points=MAX_POINTS) -> SweepResult:
    r"""Solve a model on a 1-D or 2-D grid of control parameters.

    Each row (the first grid axis, at one value of the second) is solved at once by the
    vectorised :func:`~phasekit.solvers.solve_batch` from the branch start, or, with
    ``continuation=True``, followed point by point with warm starts (to stay on a metastable
    branch). Rows are independent tasks, run in this process by default, on ``workers`` local
    processes, or on a Dask cluster. All paths run the same task function and give the same
    numbers.

    Every input is checked before anything is computed (grid names, domains and size, branch,
    output folder, Dask scheduler); a bad one raises :class:`~phasekit.InvalidParameterError`.

    Parameters
    ----------
    model : EquilibriumModel or str
    grid : dict
        ``{name: 1-D array}`` with one or two entries, e.g. ``{"alpha": ..., "kappa": ...}``.
    params : dict, optional
        The remaining control parameters (fixed; not one of the swept ones).
    branch : str, optional
    tol : float, optional
    workers : int, optional
        ``None`` or ``1`` (default): solve the rows in this process (the batch solver is
        vectorised, and a script calling ``sweep`` needs no ``if __name__ == "__main__"``
        guard). ``workers > 1``: that many local processes (``concurrent.futures``, spawn
        context; a script must then guard its entry point).
    scheduler : str or dask.distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``, connected to before computing, with a
        5 s timeout) or a client.
    progress : bool
        Show a tqdm progress bar over rows.
    continuation : bool
    out : str or path-like, optional
        Path stem of the output files. Each finished row is saved at once (atomically) in
        ``<out>.partial/``; at the end ``<out>.csv`` and ``<out>.json`` are written and the
        partial folder removed. While a sweep with ``out`` runs, SIGTERM is handled like Ctrl-C.
    resume : bool
        With ``out``: reuse the rows already saved in ``<out>.partial/`` by an interrupted run of
        the same sweep (same model, grid, parameters, branch, tolerance) and compute only the
        missing ones; the result equals that of an uninterrupted run. Without saved rows, compute
        everything. ``resume=False`` discards saved rows.
    max_points : int or None
        Largest accepted grid (default :data:`MAX_POINTS` = 10**6 points); ``None``: no limit.

    Returns
    -------
    SweepResult
        Values, ``status``, ``converged``, ``residual``, ``iterations`` and ``error_estimate`` per
        grid point, with provenance.

    Raises
    ------
    RunInterrupted
        (a ``KeyboardInterrupt``) on Ctrl-C, or SIGTERM with ``out``: the finished rows are kept,
        and ``partial`` holds the result so far (missing points: status ``not_converged``, NaN
        values), also written to ``<out>.csv``/``<out>.json`` marked ``partial``.
    """
    model = as_model(model)
    axes, base, along, rows = _plan(model, grid, params, branch, max_points)
    workers = _check_workers(workers)
    if resume and out is None:
        raise InvalidParameterError("The 'resume' parameter of sweep needs 'out' (where the finished rows are saved).")
    stem = None if out is None else _check_out(out)
    branch_name = model.branch(branch).name
    backend = "dask" if scheduler is not None else ("processes" if workers and workers > 1 else "in-process")
    prov = dict(model=model.name, params=base, branch=branch, tol=tol, continuation=continuation,
                grid={k: [float(v[0]), float(v[-1]), int(v.size)] for k, v in axes.items()}, backend=backend)
    client, own_client = _dask_client(scheduler) if scheduler is not None else (None, False)
    try:
        with sigterm_as_interrupt() if stem is not None else contextlib.nullcontext():
            done = {}
            chunks = None
            if stem is not None:
                from .._version import __version__
                chunks = _Chunks(stem, dict(model=model.name, params={k: float(v) for k, v in base.items()},
                                            axes={k: v.tolist() for k, v in axes.items()}, branch=branch_name,
                                            tol=None if tol is None else float(tol),
                                            continuation=bool(continuation), phasekit_version=__version__))
                done = chunks.start(resume)

            def on_row(i, row):
                if chunks is not None:
                    chunks.save(i, row)
                done[i] = row

            todo = [(i, (model, r, along, axes[along], branch, tol, continuation))
                    for i, r in enumerate(rows) if i not in done]
            try:
                _run(todo, workers, client, progress, desc=f"sweep {model.name}", total=len(rows), on_row=on_row)
            except KeyboardInterrupt:
                res = _assemble(model, base, axes, done, len(rows), branch_name,
                                dict(prov, partial=True, rows_done=len(done), rows_total=len(rows),
                                     message=f"interrupted after {len(done)} of {len(rows)} rows; the missing "
                                             "points (status not_converged, NaN values) were not computed"))
                paths = _write(res, stem) if stem is not None else ()
                where = f"; partial results in {paths[0]}" if paths else ""
                raise RunInterrupted(f"{len(done)} of {len(rows)} rows of the {model.name} sweep done{where}",
                                     res, paths, "rerun with resume=True to compute only the missing rows"
                                     if stem is not None else "") from None
            res = _assemble(model, base, axes, done, len(rows), branch_name, prov)
            if stem is not None:
                _write(res, stem)
                chunks.remove()
            return res
    finally:
        if own_client:
            client.close()


def _write(res, stem):
    return (atomic_save(stem + ".csv", res.to_csv), atomic_save(stem + ".json", res.to_json))


def _assemble(model, base, axes, done, n_rows, branch_name, prov):
    """A SweepResult from the finished rows; missing rows are NaN with status ``not_converged``."""
    names = list(axes)
    n = axes[names[0]].size
    keys = list(next(iter(done.values()))["values"]) if done else []
    missing = {"values": {k: np.full(n, np.nan) for k in keys}, "converged": np.zeros(n, bool),
               "residual": np.full(n, np.nan), "iterations": np.zeros(n, int),
               "status": np.full(n, "not_converged"), "error_estimate": np.full(n, np.nan)}
    rows = [done.get(i, missing) for i in range(n_rows)]

    def stack(get, dtype):
        arr = np.array([np.asarray(get(r), dtype=dtype) for r in rows], dtype=dtype)  # (rows, n)
        return arr.T if len(names) == 2 else arr.reshape(n)

    values = {k: stack(lambda r, k=k: r["values"][k], float) for k in keys}
    return SweepResult(model=model.name, params=base, axes=axes, values=values,
                       converged=stack(lambda r: r["converged"], bool),
                       residual=stack(lambda r: r["residual"], float),
                       iterations=stack(lambda r: r["iterations"], int), branch=branch_name,
                       provenance=provenance(**prov), status=stack(lambda r: r["status"], object),
                       error_estimate=stack(lambda r: r["error_estimate"], float))


def _run(todo, workers, client, progress, desc, total, on_row):
    """Run the ``(index, task)`` pairs of ``todo``, calling ``on_row(index, row)`` as each finishes."""
    from tqdm.auto import tqdm
    bar = tqdm(total=total, initial=total - len(todo), desc=desc, disable=not progress, leave=False)
    try:
        if not todo:
            return
        if client is not None:
            return _run_dask(todo, client, bar, on_row)
        if workers is None or workers == 1 or len(todo) == 1:
            for i, t in todo:
                on_row(i, _row(*t))
                bar.update()
            return
        _run_processes(todo, workers, bar, on_row)
    finally:
        bar.close()


def _run_processes(todo, workers, bar, on_row):
    import concurrent.futures as cf
    import multiprocessing as mp
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    ex = cf.ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=mp.get_context("spawn"),
                                initializer=ignore_sigint)
    try:
        futs = {ex.submit(_row, *t): i for i, t in todo}
        for f in cf.as_completed(futs):
            on_row(futs[f], f.result())
            bar.update()
    except cf.process.BrokenProcessPool as e:
        _stop(ex)
        raise RuntimeError(
            "sweep: a worker process could not start or died. Scripts that pass workers > 1 must put "
            "their code under `if __name__ == '__main__':` (worker processes re-import the script); "
            "or leave workers=None to solve in this process.") from e
    except BaseException:
        _stop(ex)
        raise
    ex.shutdown()


def _run_dask(todo, client, bar, on_row):
    from dask.distributed import as_completed
    futs = {}
    try:
        futs = {client.submit(_row, *t, pure=False): i for i, t in todo}
        for f in as_completed(list(futs)):
            on_row(futs[f], f.result())
            bar.update()
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(futs))
        raise
