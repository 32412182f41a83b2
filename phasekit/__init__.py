"""phasekit: statistical physics of learning — symbolic free entropies, saddle-point solvers,
phase diagrams, and the simulated networks that check them.

Entry points::

    import phasekit as pk
    res = pk.solve("perceptron.binary_storage", {"alpha": 0.5})
    tr = pk.find_transition("perceptron.binary_storage", "capacity")
"""
from ._version import __version__
from ._errors import InvalidParameterError, RunInterrupted, SaddlePointNotConverged
from ._registry import CheckResult, get_check, get_model, list_checks, list_models
from . import theory, solvers  # noqa: E402  (registers the models)
from .solvers import continue_branch, find_transition, solve, solve_batch, sweep
from .theory import define_model
from . import validation  # noqa: E402  (registers the checks)

__all__ = ["__version__", "solve", "solve_batch", "continue_branch", "find_transition", "sweep", "define_model",
           "get_model",
           "list_models", "list_checks", "get_check", "CheckResult", "InvalidParameterError",
           "SaddlePointNotConverged", "RunInterrupted", "theory", "solvers",
           "validation"]
