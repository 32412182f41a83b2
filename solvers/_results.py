"""Frozen result objects returned by every solver (never a bare tuple)."""
from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import platform

import numpy as np

from .._errors import SaddlePointNotConverged

__all__ = ["SaddlePoint", "BranchResult", "TransitionResult", "SweepResult", "provenance"]


def provenance(**extra) -> dict:
    """Version, date and platform, plus ``extra`` (parameters, tolerances) for output files."""
    from .._version import __version__
    d = {"phasekit_version": __version__,
         "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
         "python": platform.python_version(), "numpy": np.__version__}
    d.update(extra)
    return d


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if np.isfinite(x) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


@dataclasses.dataclass(frozen=True)
class SaddlePoint:
    """One stationary point of a model's free entropy.

    Attributes
    ----------
    model : str
    params : dict
        Control parameters it was computed at.
    order_parameters : dict
    free_entropy : float
        The free entropy at the saddle point (the model states its units; nats per weight for the
        perceptron family).
    observables : dict
    converged : bool
    iterations : int
    residual : float
        Stationarity residual: ``max |F(x) - x|`` of the fixed-point form when the model has one,
        else ``max |grad phi|``.
    branch : str
    method : str
    message : str
    """

    model: str
    params: dict
    order_parameters: dict
    free_entropy: float
    observables: dict
    converged: bool
    iterations: int
    residual: float
    branch: str
    method: str
    message: str = ""

    def require_converged(self) -> "SaddlePoint":
        """Return self, or raise :class:`~phasekit.SaddlePointNotConverged` with the reason."""
        if not self.converged:
            raise SaddlePointNotConverged(f"{self.model} at {self.params}: {self.message}")
        return self

    def to_dict(self) -> dict:
        d = {"model": self.model, "params": self.params, "order_parameters": self.order_parameters,
             "free_entropy": self.free_entropy, "converged": self.converged,
             "iterations": self.iterations, "residual": self.residual, "branch": self.branch,
             "method": self.method, "message": self.message}
        d.update({k: v for k, v in self.observables.items() if k not in d})
        d["observables"] = self.observables
        return _jsonable(d)


@dataclasses.dataclass(frozen=True)
class BranchResult:
    """A branch followed by continuation along one control parameter.

    ``values`` maps every order parameter, ``free_entropy`` and every observable to an array over
    ``path``; ``converged``, ``residual`` and ``iterations`` are arrays of the same length. Points
    where the solver failed or jumped to another branch have ``converged=False`` and NaN values.
    """

    model: str
    params: dict
    along: str
    path: np.ndarray
    values: dict
    converged: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    branch: str
    message: str = ""

    def __getitem__(self, name):
        return self.values[name]

    def to_dict(self):
        return _jsonable(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class TransitionResult:
    """A located transition: the value of the control parameter ``along`` where it happens."""

    name: str
    value: float
    along: str
    params: dict
    converged: bool
    iterations: int
    residual: float
    model: str
    kind: str
    order_parameters: dict = dataclasses.field(default_factory=dict)
    message: str = ""

    def to_dict(self):
        return _jsonable({"name": self.name, "value": self.value, "along": self.along,
                          "params": self.params, "converged": self.converged,
                          "iterations": self.iterations, "residual": self.residual,
                          "model": self.model, "kind": self.kind,
                          "order_parameters": self.order_parameters, "message": self.message})


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """A 1-D or 2-D parameter sweep with a status per grid point.

    ``axes`` maps each swept parameter to its 1-D grid (in order: the first axis varies along
    rows); ``values[name]`` has shape ``tuple(len(a) for a in axes.values())``.
    """

    model: str
    params: dict
    axes: dict
    values: dict
    converged: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    branch: str
    provenance: dict

    def to_dict(self):
        return _jsonable(dataclasses.asdict(self))

    def to_json(self, path):
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)
        return path

    def to_csv(self, path):
        names = list(self.axes)
        grids = np.meshgrid(*self.axes.values(), indexing="ij")
        cols = list(self.values)
        with open(path, "w", newline="") as f:
            f.write("".join(f"# {k}: {json.dumps(_jsonable(v))}\n" for k, v in self.provenance.items()))
            w = csv.writer(f)
            w.writerow(names + cols + ["converged", "residual", "iterations"])
            for idx in np.ndindex(self.converged.shape):
                w.writerow([repr(float(g[idx])) for g in grids]
                           + [repr(float(self.values[c][idx])) for c in cols]
                           + [int(self.converged[idx]), repr(float(self.residual[idx])),
                              int(self.iterations[idx])])
        return path
