"""One pool for independent tasks: in this process, local worker processes, or a Dask cluster.

:func:`map_tasks` is what the families use to run grid cells, seeds and scans; the worker count
is called ``workers`` everywhere (``n_jobs=`` / ``processes=`` are deprecated spellings, see
:func:`resolve_workers`). ``sweep`` keeps its own runner (resumable rows, interrupt handling).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Callable, Iterable

from .._constraints import check_scalar
from .._errors import InvalidParameterError
from ._io import ignore_sigint

__all__ = ["map_tasks", "resolve_workers", "renamed"]

#: Seconds to wait for a Dask scheduler given by address.
DASK_CONNECT_TIMEOUT = 5

def _renamed(where, new, value, old, stacklevel):
    given = {k: v for k, v in old.items() if v is not None}
    if len(given) > 1 or (given and value is not None):
        names = ", ".join(repr(k) for k in ([new] if value is not None else []) + list(given))
        raise InvalidParameterError(f"{where} got {names}: pass it once, as {new!r}.")
    for k, v in given.items():
        warnings.warn(f"The {k!r} parameter of {where} is deprecated and will be removed in the next "
                      f"release: use {new}= instead.", DeprecationWarning, stacklevel=stacklevel)
        return v
    return value


def renamed(where: str, new: str, value=None, **old) -> Any:
    """``value`` of keyword ``new``, or of one deprecated spelling of it given in ``old``.

    ``old`` maps each deprecated keyword to what the caller received (None: not given). A given
    deprecated keyword warns (:class:`DeprecationWarning`, pointing at the caller's caller) and is
    used; giving two spellings is an :class:`InvalidParameterError`.
    """
    return _renamed(where, new, value, old, 4)


def resolve_workers(where: str, workers=None, **old) -> Any:
    """The worker count: ``workers``, or a deprecated ``n_jobs=``/``processes=`` (warns)."""
    return _renamed(where, "workers", workers, old, 4)


def _check_workers(workers, where):
    if workers is None:
        return None
    return check_scalar(workers, "workers", where, int, 1)


def _as_client(scheduler, where):
    """``(client_or_executor, owned)`` for a Dask address/Client or a concurrent.futures executor."""
    import concurrent.futures as cf
    if isinstance(scheduler, cf.Executor):
        return scheduler, False
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):     # dask.distributed.Client
        return scheduler, False
    try:
        from dask.distributed import Client
    except ImportError:
        raise InvalidParameterError(f"{where} on a Dask cluster needs the optional extra: "
                                    "pip install 'phasekit[dask]'") from None
    try:
        return Client(scheduler, timeout=f"{DASK_CONNECT_TIMEOUT}s"), True
    except Exception:  # OSError / TimeoutError / ValueError for a malformed address
        raise InvalidParameterError(f"cannot reach the Dask scheduler at {scheduler} "
                                    f"(no answer within {DASK_CONNECT_TIMEOUT} s)") from None


def _stop(ex):
    """Stop a process pool now: cancel pending tasks and end the running ones."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(5)


@contextlib.contextmanager
def _single_threaded_blas():
    """OPENBLAS_NUM_THREADS=1 while the pool lives (inherited by the spawned workers)."""
    old = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = old


def map_tasks(func: Callable, tasks: Iterable, *, workers: int | None = None, scheduler=None,
              progress: bool = False, desc: str = "", where: str = "map_tasks") -> list:
    """``[func(t) for t in tasks]``, in order, run where asked.

    Parameters
    ----------
    func : callable
        A module-level function of one argument (it is pickled for worker processes).
    tasks : iterable
        Its arguments, one per task.
    workers : int, optional
        None or 1: in this process. ``> 1``: that many local processes (spawned, with
        ``OPENBLAS_NUM_THREADS=1``; scripts must guard their entry point with
        ``if __name__ == "__main__":``).
    scheduler : str, dask.distributed.Client or concurrent.futures.Executor, optional
        Run on this instead (a Dask address such as ``"tcp://host:8786"``, a Client, or any
        executor, e.g. ``Client.get_executor()``); ``workers`` is then ignored.
    progress : bool
        A tqdm bar (``desc`` is its label).
    where : str
        The public function, for error messages.

    Returns
    -------
    list
        The results in the order of ``tasks``. An exception in a task is raised here (pending
        tasks are cancelled and local workers stopped).
    """
    from tqdm.auto import tqdm
    tasks = list(tasks)
    workers = _check_workers(workers, where)
    out: list = [None] * len(tasks)
    bar = tqdm(total=len(tasks), desc=desc or None, disable=not progress, leave=False)
    try:
        if not tasks:
            return out
        if scheduler is not None:
            return _map_remote(func, tasks, scheduler, where, out, bar)
        if workers is None or workers == 1 or len(tasks) == 1:
            for i, t in enumerate(tasks):
                out[i] = func(t)
                bar.update()
            return out
        return _map_processes(func, tasks, workers, where, out, bar)
    finally:
        bar.close()


def _map_processes(func, tasks, workers, where, out, bar):
    import concurrent.futures as cf
    import multiprocessing as mp
    with _single_threaded_blas():
        ex = cf.ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=mp.get_context("spawn"),
                                    initializer=ignore_sigint)
        try:
            futs = {ex.submit(func, t): i for i, t in enumerate(tasks)}
            for f in cf.as_completed(futs):
                out[futs[f]] = f.result()
                bar.update()
        except cf.process.BrokenProcessPool as e:
            _stop(ex)
            raise RuntimeError(
                f"{where}: a worker process could not start or died. Scripts that pass workers > 1 must "
                "put their code under `if __name__ == '__main__':` (worker processes re-import the "
                "script); or leave workers=None to run in this process.") from e
        except BaseException:
            _stop(ex)
            raise
        ex.shutdown()
    return out


def _map_remote(func, tasks, scheduler, where, out, bar):
    import concurrent.futures as cf
    client, owned = _as_client(scheduler, where)
    futs = {}
    try:
        if isinstance(client, cf.Executor):
            futs = {client.submit(func, t): i for i, t in enumerate(tasks)}
            done = cf.as_completed(futs)
        else:
            from dask.distributed import as_completed
            futs = {client.submit(func, t, pure=False): i for i, t in enumerate(tasks)}
            done = as_completed(list(futs))
        for f in done:
            out[futs[f]] = f.result()
            bar.update()
        return out
    except BaseException:
        for f in futs:
            with contextlib.suppress(Exception):
                f.cancel()
        raise
    finally:
        if owned:
            with contextlib.suppress(Exception):
                client.close()
