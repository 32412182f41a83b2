"""solvers._pool.map_tasks: one pool, one name for the worker count (``workers``)."""
import concurrent.futures as cf
import math
import operator
import warnings

import pytest

from phasekit._errors import InvalidParameterError
from phasekit.solvers._pool import map_tasks, renamed, resolve_workers


TASKS = [0.5 * k for k in range(7)]


def test_in_process_and_two_workers_agree_in_order():
    serial = map_tasks(math.expm1, TASKS)
    assert serial == [math.expm1(t) for t in TASKS]
    assert map_tasks(math.expm1, TASKS, workers=1) == serial
    assert map_tasks(math.expm1, TASKS, workers=2) == serial


def test_a_given_executor_is_used_and_kept_open():
    with cf.ThreadPoolExecutor(2) as ex:
        assert map_tasks(operator.neg, TASKS, scheduler=ex) == [-t for t in TASKS]
        assert ex.submit(operator.neg, 1).result() == -1      # not shut down by map_tasks


def test_empty_and_errors():
    assert map_tasks(math.sqrt, []) == []
    with pytest.raises(ValueError):
        map_tasks(math.sqrt, [1.0, -1.0])
    with pytest.raises(ValueError):
        map_tasks(math.sqrt, [1.0, -1.0, 4.0], workers=2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_workers_is_checked(bad):
    with pytest.raises(InvalidParameterError, match=r"The 'workers' parameter of map_tasks must be an int in "
                                                    r"the range \[1, inf\)\. Got "):
        map_tasks(math.sqrt, [1.0], workers=bad)


def test_deprecated_spellings_warn_and_work():
    with pytest.warns(DeprecationWarning, match="'n_jobs' parameter of f is deprecated.*workers="):
        assert resolve_workers("f", None, n_jobs=3) == 3
    with pytest.warns(DeprecationWarning, match="'executor'"):
        assert renamed("f", "scheduler", None, executor="x") == "x"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_workers("f", 2, n_jobs=None) == 2
        assert resolve_workers("f", None, n_jobs=None) is None
    with pytest.raises(InvalidParameterError, match="pass it once, as 'workers'"):
        resolve_workers("f", 2, n_jobs=2)


def test_family_pool_accepts_the_deprecated_n_jobs():
    from phasekit.validation.replica import local_entropy as vle
    new = vle.success_curve("sbpi", 15, [0.2, 0.4], 4, seed=1, workers=1)
    two = vle.success_curve("sbpi", 15, [0.2, 0.4], 4, seed=1, workers=2)
    with pytest.warns(DeprecationWarning, match="'n_jobs' parameter of success_curve"):
        old = vle.success_curve("sbpi", 15, [0.2, 0.4], 4, seed=1, n_jobs=2)
    assert [s.mean for s in two.success] == [s.mean for s in new.success]
    assert [s.mean for s in old.success] == [s.mean for s in new.success]
