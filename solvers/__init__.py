"""Model-agnostic numerics: quadrature, saddle points, continuation, transitions, sweeps."""
from ._quadrature import DEFAULT_NODES, gauss_hermite, gaussian_expectation, gaussian_expectation_quad
from ._results import SOLVED_STATUSES, STATUSES, BranchResult, SaddlePoint, SweepResult, TransitionResult
from ._fixed_point import damped_fixed_point, solve, solve_batch
from ._newton import NewtonResult, damped_newton

__all__ = ["DEFAULT_NODES", "gauss_hermite", "gaussian_expectation", "gaussian_expectation_quad",
           "STATUSES", "SOLVED_STATUSES", "SaddlePoint", "BranchResult", "TransitionResult", "SweepResult",
           "damped_fixed_point", "damped_newton", "NewtonResult", "solve", "solve_batch"]
from ._continuation import advance_path, continue_branch
from ._transitions import find_fold, find_transition

__all__ += ["continue_branch", "advance_path", "find_transition", "find_fold"]
from ._sweep import sweep

__all__ += ["sweep"]
from .._errors import RunInterrupted

__all__ += ["RunInterrupted"]
from ._pool import map_tasks

__all__ += ["map_tasks"]
