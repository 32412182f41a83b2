"""Frozen result objects returned by every solver (never a bare tuple)."""
from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import platform

import numpy as np

from .._errors import SaddlePointNotConverged

__all__ = ["SaddlePoint", "BranchResult", "TransitionResult", "SweepResult", "provenance", "STATUSES",
           "SOLVED_STATUSES"]

#: The status vocabulary shared by every result (solve, batch, branch, transition, sweep point):
#:
#: * ``converged``: stationary to tolerance, inside the order-parameter domain, numerical error
#:   estimate (quadrature refinement) below tolerance, and the model's validity conditions hold;
#: * ``not_converged``: the iteration stopped before reaching the tolerance (``message`` says why);
#: * ``no_solution``: the ansatz has no solution there (e.g. past the RS q -> 1 line);
#: * ``under_resolved``: stationary, but the quadrature error estimate stayed above the tolerance
#:   within the node budget (``error_estimate`` says by how much);
#: * ``unstable``: a stationary point that violates a declared stability condition (AT/replicon);
#:   its values are kept (criteria such as the AT line are evaluated on it) but it is not converged;
#: * ``outside_domain``: the solution left the order-parameter domain.
STATUSES = ("converged", "not_converged", "no_solution", "under_resolved", "unstable", "outside_domain")
#: Statuses of a genuine stationary point (values are meaningful, flagged when not ``converged``).
SOLVED_STATUSES = ("converged", "unstable")


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
        One line: why it is not converged (with the physics reason), or how it converged.
    status : str
        One of :data:`STATUSES`; ``converged`` is ``status == "converged"``.
    error_estimate : float
        Estimated numerical error of the order parameters (max over them, relative to
        ``max(1, |x|)``) from re-solving on a refined quadrature rule; NaN when not available.
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
    status: str = ""
    error_estimate: float = float("nan")

    def __post_init__(self):
        _check_status(self)

    def require_converged(self) -> "SaddlePoint":
        """Return self, or raise :class:`~phasekit.SaddlePointNotConverged` with the reason."""
        if not self.converged:
            raise SaddlePointNotConverged(f"{self.model} at {self.params}: {self.message}")
        return self

    def to_dict(self) -> dict:
        d = {"model": self.model, "params": self.params, "order_parameters": self.order_parameters,
             "free_entropy": self.free_entropy, "status": self.status, "converged": self.converged,
             "iterations": self.iterations, "residual": self.residual,
             "error_estimate": self.error_estimate, "branch": self.branch,
             "method": self.method, "message": self.message}
        d.update({k: v for k, v in self.observables.items() if k not in d})
        d["observables"] = self.observables
        return _jsonable(d)


@dataclasses.dataclass(frozen=True)
class BranchResult:
    """A branch followed by continuation along one control parameter.

    ``values`` maps every order parameter, ``free_entropy`` and every observable to an array over
    ``path``; ``converged``, ``residual``, ``iterations``, ``status`` and ``error_estimate`` are
    arrays of the same length. Points where the solver failed or jumped to another branch have
    ``converged=False`` and NaN values; ``unstable`` points keep their values.
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
    status: np.ndarray = None
    error_estimate: np.ndarray = None

    def __post_init__(self):
        _fill_status_arrays(self)

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
    status: str = ""
    error_estimate: float = float("nan")

    def __post_init__(self):
        _check_status(self)

    def to_dict(self):
        return _jsonable({"name": self.name, "value": self.value, "along": self.along,
                          "params": self.params, "status": self.status, "converged": self.converged,
                          "error_estimate": self.error_estimate,
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
    status: np.ndarray = None
    error_estimate: np.ndarray = None

    def __post_init__(self):
        _fill_status_arrays(self)

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
            w.writerow(names + cols + ["converged", "residual", "iterations", "status", "error_estimate"])
            for idx in np.ndindex(self.converged.shape):
                w.writerow([repr(float(g[idx])) for g in grids]
                           + [repr(float(self.values[c][idx])) for c in cols]
                           + [int(self.converged[idx]), repr(float(self.residual[idx])),
                              int(self.iterations[idx]), str(self.status[idx]),
                              repr(float(self.error_estimate[idx]))])
        return path


def _check_status(res):
    """Fill an empty ``status`` from ``converged``; reject an unknown or inconsistent one."""
    if not res.status:
        object.__setattr__(res, "status", "converged" if res.converged else "not_converged")
    if res.status not in STATUSES:
        raise ValueError(f"unknown status {res.status!r}; statuses are {', '.join(STATUSES)}")
    if bool(res.converged) != (res.status == "converged"):
        raise ValueError(f"inconsistent result: converged={res.converged} with status {res.status!r}")


def _fill_status_arrays(res):
    conv = np.asarray(res.converged, dtype=bool)
    if res.status is None:
        object.__setattr__(res, "status", np.where(conv, "converged", "not_converged").astype(object))
    else:
        st = np.asarray(res.status, dtype=object)
        if st.shape != conv.shape or np.any((st == "converged") != conv):
            raise ValueError("inconsistent result: status and converged arrays disagree")
        object.__setattr__(res, "status", st)
    if res.error_estimate is None:
        object.__setattr__(res, "error_estimate", np.full(conv.shape, np.nan))
