"""Errors that teach: each docstring names the likely cause and the fix."""
from __future__ import annotations

__all__ = ["InvalidParameterError", "SaddlePointNotConverged", "RunInterrupted"]


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


class RunInterrupted(KeyboardInterrupt):
    """A long run was stopped (Ctrl-C / SIGINT, or SIGTERM) after saving what had finished.

    Attributes
    ----------
    partial : object
        The partial result (a :class:`~phasekit.solvers.SweepResult` whose missing points have
        status ``not_converged`` and NaN values, or a reproduce ``Report``).
    paths : tuple of str
        Files written for the partial result.
    resume_hint : str
        How to finish the run (``resume=True`` / ``--resume``).
    """

    def __init__(self, message, partial=None, paths=(), resume_hint=""):
        super().__init__(message)
        self.partial = partial
        self.paths = tuple(paths)
        self.resume_hint = resume_hint

    def __str__(self):
        return str(self.args[0]) if self.args else "interrupted"
