"""Errors that teach: each docstring names the likely cause and the fix."""
from __future__ import annotations

__all__ = ["InvalidParameterError", "SaddlePointNotConverged"]


class InvalidParameterError(ValueError):
    """A parameter is outside its declared domain, or a name is unknown.

    The message follows one template: "The 'alpha' parameter of <where> must be a float in the
    range [0, inf). Got -1.0 instead." Fix the value; the domains are listed by ``phasekit list``.
    """


class SaddlePointNotConverged(RuntimeError):
    """The saddle-point iteration stopped before reaching the tolerance.

    Likely causes: a poor starting point (start from a nearby converged point with
    ``continue_branch``), a nearby spinodal where the branch ends (the iteration slows down
    critically), or q -> 1 where quadrature needs the change of variables (``scale`` hint of
    ``GaussE``). Solvers report non-convergence in their result (``converged=False``); this error
    is raised only when a caller asks for a converged value (``result.require_converged()``).
    """
