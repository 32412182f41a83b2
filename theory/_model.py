"""The equilibrium-model protocol: one declaration, everything else derived.

A model declares control parameters and order parameters (with domains), its free entropy as a
sympy expression (using :class:`~phasekit.theory.GaussE`), optional observables, branches and
named transitions. The stationarity conditions, the Hessian, the fixed-point form and every
numeric function are derived from the free entropy here, once per model, and cached.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Mapping

import numpy as np
import sympy as sp

from .._errors import InvalidParameterError
from ._compile import compile_expr
from ._symbolic import expand_expectations, gaussian_ibp

__all__ = ["Param", "Branch", "Transition", "EquilibriumModel", "define_model"]


def _get_model_kw(name, kwargs):
    from .._registry import get_model
    return get_model(name, **dict(kwargs))


@dataclasses.dataclass(frozen=True)
class Param:
    """A named parameter with a real interval domain.

    Parameters
    ----------
    name : str
        Name used in the API and the CLI (``--set name=value``).
    low, high : float
        Interval ends; ``closed`` says which ends belong to the domain.
    closed : {"both", "left", "right", "neither"}
    default : float, optional
        Value used when the caller does not give one (control parameters) or the generic starting
        point (order parameters).
    latex : str, optional
        Symbol name used in the sympy expressions (defaults to ``name``).
    doc : str
        One-line meaning, shown by ``phasekit list``.
    """

    name: str
    low: float = -math.inf
    high: float = math.inf
    closed: str = "both"
    default: float | None = None
    latex: str | None = None
    doc: str = ""

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.latex or self.name, real=True)

    def interval(self) -> str:
        lo = "[" if self.closed in ("both", "left") and math.isfinite(self.low) else "("
        hi = "]" if self.closed in ("both", "right") and math.isfinite(self.high) else ")"
        f = lambda v: ("inf" if v > 0 else "-inf") if math.isinf(v) else f"{v:g}"  # noqa: E731
        return f"{lo}{f(self.low)}, {f(self.high)}{hi}"

    def contains(self, v: float) -> bool:
        if not np.isfinite(v):
            return False
        lo_ok = v >= self.low if self.closed in ("both", "left") else v > self.low
        hi_ok = v <= self.high if self.closed in ("both", "right") else v < self.high
        return bool(lo_ok and hi_ok)

    def validate(self, value, where: str) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"The {self.name!r} parameter of {where} must be a float in the range "
                f"{self.interval()}. Got {value!r} instead.") from None
        if not self.contains(v):
            raise InvalidParameterError(
                f"The {self.name!r} parameter of {where} must be a float in the range "
                f"{self.interval()}. Got {value!r} instead.")
        return v


@dataclasses.dataclass(frozen=True)
class Branch:
    """A named solution branch: how to start the iteration on it.

    ``start`` maps order-parameter names to initial values, or is a callable
    ``start(params: dict) -> dict``. ``fixed`` pins order parameters to exact values (e.g. the
    perfect-generalisation state q = 1), in which case ``free_entropy`` gives its exact value.
    ``method`` is the solver default on this branch: an *unstable* branch (a saddle of the
    fixed-point map between two stable ones) is reached by ``"newton"``, never by iteration.
    """

    name: str
    start: Any
    doc: str = ""
    fixed: Mapping[str, float] | None = None
    free_entropy: float | None = None
    method: str | None = None


@dataclasses.dataclass(frozen=True)
class Transition:
    """A named transition and the scalar criterion that locates it.

    kind:
      * ``"zero"``: ``observable`` crosses 0 along ``along`` on ``branch`` (e.g. entropy = 0).
      * ``"level"``: ``observable`` crosses ``level`` (e.g. the AT function = 1).
      * ``"crossing"``: free entropies of ``branch`` and ``other`` cross.
      * ``"fold"``: spinodal, the branch ends (det of the Hessian = 0 at a stationary point).
      * ``"closed_form"``: ``expr`` (a sympy expression of the control parameters) derived by the model;
        it may contain an *implicit function* (a sympy ``Function`` subclass whose ``evalf`` runs a
        numeric solver), which ``find_transition`` reports as numerically evaluated.
    ``search`` is the (low, high) range of ``along`` scanned for a sign change.
    """

    name: str
    kind: str
    along: str = "alpha"
    branch: str | None = None
    observable: str | None = None
    level: float = 0.0
    other: str | None = None
    search: tuple | None = None
    expr: Any = None
    doc: str = ""


class EquilibriumModel:
    """Base class of replica-style equilibrium theories.

    Subclasses set ``control`` and ``order`` (tuples of :class:`Param`) and implement
    :meth:`free_entropy`; optionally ``conjugates`` (pairs ``(x, xhat)`` of order-parameter names:
    ``x`` is updated from ``d phi/d xhat = 0`` and ``xhat`` from ``d phi/d x = 0`` in the
    fixed-point form), :meth:`observables`, :attr:`branches`, :attr:`transitions`.

    The sign convention is that the physical state *extremises* ``phi`` (replica saddle point):
    stationarity is ``grad phi = 0``.
    """

    name: str = "unnamed"
    description: str = ""
    references: tuple = ()
    control: tuple = ()
    order: tuple = ()
    conjugates: tuple = ()
    branches: tuple = ()
    transitions: tuple = ()
    nodes: dict | None = None
    entropy_observable: str = "entropy"

    # ------------------------------------------------------------------ declarations
    def free_entropy(self) -> sp.Expr:  # pragma: no cover - abstract
        raise NotImplementedError

    def observables(self) -> dict:
        """Named sympy expressions of control and order parameters (``phi`` is available as the
        symbol ``self.phi_symbol``)."""
        return {}

    # ------------------------------------------------------------------ symbols
    @property
    def control_symbols(self):
        return tuple(p.symbol for p in self.control)

    @property
    def order_symbols(self):
        return tuple(p.symbol for p in self.order)

    @property
    def control_names(self):
        return tuple(p.name for p in self.control)

    @property
    def order_names(self):
        return tuple(p.name for p in self.order)

    def sym(self, name: str) -> sp.Symbol:
        for p in self.control + self.order:
            if p.name == name:
                return p.symbol
        raise InvalidParameterError(f"unknown parameter {name!r} of model {self.name}")

    phi_symbol = sp.Symbol("phi", real=True)

    # ------------------------------------------------------------------ derived symbolic objects
    @functools.cached_property
    def phi(self) -> sp.Expr:
        return sp.sympify(self.free_entropy())

    @functools.cached_property
    def stationarity(self) -> tuple:
        """``d phi / d x`` for every order parameter, with Gaussian integration by parts applied."""
        return tuple(expand_expectations(gaussian_ibp(sp.diff(self.phi, x)))
                     for x in self.order_symbols)

    @functools.cached_property
    def hessian(self) -> sp.Matrix:
        xs = self.order_symbols
        return sp.Matrix([[sp.diff(g, y) for y in xs] for g in self.stationarity])

    @functools.cached_property
    def fixed_point(self) -> dict | None:
        """The fixed-point form ``{x: F_x(...)}`` solved from the stationarity conditions of the
        conjugate pairs, or ``None`` when the model has no conjugate pairs."""
        if not self.conjugates:
            return None
        grads = dict(zip(self.order_names, self.stationarity))
        out = {}
        for x, xh in self.conjugates:
            sx, sxh = self.sym(x), self.sym(xh)
            for target, eq in ((sx, grads[xh]), (sxh, grads[x])):
                out[target] = _solve_linear(eq, target, self.name)
        return out

    # ------------------------------------------------------------------ numeric functions
    def _args(self):
        return self.control_symbols + self.order_symbols

    @functools.cached_property
    def phi_numeric(self):
        return compile_expr(self.phi, self._args(), nodes=self.nodes)

    @functools.cached_property
    def gradient_numeric(self):
        fs = [compile_expr(g, self._args(), nodes=self.nodes) for g in self.stationarity]
        return lambda *v: np.stack(np.broadcast_arrays(*[f(*v) for f in fs]), axis=-1)

    @functools.cached_property
    def hessian_numeric(self):
        n = len(self.order)
        fs = [[compile_expr(self.hessian[i, j], self._args(), nodes=self.nodes) for j in range(n)]
              for i in range(n)]
        return lambda *v: np.stack([np.stack(np.broadcast_arrays(*[f(*v) for f in row]), axis=-1)
                                    for row in fs], axis=-2)

    @functools.cached_property
    def fixed_point_numeric(self):
        fp = self.fixed_point
        if fp is None:
            return None
        fs = [compile_expr(fp[x], self._args(), nodes=self.nodes) for x in self.order_symbols]
        return lambda *v: np.stack(np.broadcast_arrays(*[f(*v) for f in fs]), axis=-1)

    @functools.cached_property
    def observables_numeric(self):
        obs = dict(self.observables())
        obs.setdefault(self.entropy_observable, self.phi_symbol)
        args = self._args() + (self.phi_symbol,)
        return {k: compile_expr(sp.sympify(v), args, nodes=self.nodes) for k, v in obs.items()}

    # ------------------------------------------------------------------ validation
    def validate_params(self, params: Mapping[str, Any] | None, where: str = "solve") -> dict:
        params = dict(params or {})
        known = set(self.control_names)
        for k in params:
            if k not in known:
                raise InvalidParameterError(
                    f"unknown parameter {k!r} of model {self.name}; its parameters are "
                    f"{', '.join(self.control_names)}")
        out = {}
        for p in self.control:
            if p.name in params:
                out[p.name] = p.validate(params[p.name], where)
            elif p.default is not None:
                out[p.name] = float(p.default)
            else:
                raise InvalidParameterError(
                    f"The {p.name!r} parameter of {where} is required: a float in the range {p.interval()}.")
        return out

    def validate_order(self, values: Mapping[str, Any], where: str = "solve") -> dict:
        out = {}
        for p in self.order:
            if p.name in values:
                out[p.name] = p.validate(values[p.name], where)
        return out

    def branch(self, name: str | None) -> Branch:
        if name is None or (name == "default" and not self.branches):
            return self.branches[0] if self.branches else Branch("default", {})
        for b in self.branches:
            if b.name == name:
                return b
        raise InvalidParameterError(
            f"unknown branch {name!r} of model {self.name}; its branches are "
            f"{', '.join(b.name for b in self.branches) or '(default)'}")

    def transition(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise InvalidParameterError(
            f"unknown transition {name!r} of model {self.name}; its transitions are "
            f"{', '.join(t.name for t in self.transitions) or '(none)'}")

    def start(self, params: dict, branch: str | None = None) -> dict:
        b = self.branch(branch)
        s = b.start(params) if callable(b.start) else dict(b.start)
        for p in self.order:
            s.setdefault(p.name, p.default if p.default is not None else 0.5)
        return s

    # ------------------------------------------------------------------ pickling (sweeps)
    def __reduce__(self):
        # A model obtained by name (registry or "file.py:Class") travels to worker processes and
        # Dask workers as that name: it is rebuilt there, symbolic caches and all.
        key = getattr(self, "_registry_key", None)
        if key is not None:
            from .._registry import get_model
            return (get_model, (key[0],), None, None, None) if not key[1] else (_get_model_kw, key)
        return object.__reduce__(self)

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.endswith("_numeric") and k not in
                ("phi", "stationarity", "hessian", "fixed_point")}

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


def _tidy(expr):
    """Collect the terms of each distinct Gaussian expectation and simplify their (small) coefficients,
    so that cancelling terms disappear before compilation."""
    from ._symbolic import GaussE
    expr = sp.expand(expr, deep=False, mul=True, power_exp=False, power_base=False, log=False, multinomial=False)
    nodes = [n for n in expr.atoms(GaussE)]
    if not nodes:
        return sp.simplify(expr)
    parts = sp.collect(expr, nodes, evaluate=False)
    return sp.Add(*[sp.simplify(c) * (k if k != 1 else 1) for k, c in parts.items()])


def _solve_linear(eq, x, where):
    """Solve ``eq = 0`` for ``x``: directly when ``eq`` is linear in ``x`` (the usual case for a
    conjugate pair; sympy.solve can take minutes on large expressions), else by ``sympy.solve``."""
    a = sp.diff(eq, x)
    if x not in a.free_symbols and a != 0:
        rest = sp.expand(eq - a * x, deep=False, mul=True, power_exp=False, power_base=False, log=False,
                         multinomial=False)
        if x not in rest.free_symbols:
            return _tidy(-rest / a)
    sol = sp.solve(eq, x, dict=True)
    if len(sol) != 1:
        raise RuntimeError(f"{where}: cannot solve the stationarity condition for {x} in closed form "
                           f"({len(sol)} solutions); declare a fixed_point property instead")
    return sol[0][x]


def _as_param(name, spec):
    if isinstance(spec, Param):
        return spec if spec.name == name else dataclasses.replace(spec, name=name)
    if isinstance(spec, dict):
        return Param(name, **spec)
    lo, hi, *rest = spec
    default = rest[0] if rest else None
    return Param(name, float(lo), float(hi), "both", default)


def define_model(name, free_entropy, *, control, order, conjugates=(), observables=None, branches=(),
                 transitions=(), description="", register=False, **attrs):
    r"""Declare an equilibrium model in a few lines (no subclassing needed).

    Parameters
    ----------
    name : str
        Model name, e.g. ``"my.perceptron"``.
    free_entropy : sympy expression or callable
        The free entropy written with the symbols ``sympy.Symbol(p, real=True)`` of the
        parameters below and :func:`~phasekit.theory.E` for Gaussian expectations (or a function
        of those symbols returning it, called with keyword arguments by name).
    control, order : dict
        ``{name: (low, high[, default])}`` (closed interval), ``{name: dict(low=.., high=..,
        closed=.., default=..)}`` or ``{name: Param(...)}``, in order.
    conjugates : sequence of (x, xhat), optional
        Pairs giving the fixed-point form (x from d phi/d xhat = 0, xhat from d phi/d x = 0).
    observables : dict, optional
        ``{name: sympy expression}``; the symbol ``phi`` stands for the free entropy.
    branches, transitions : sequence of :class:`Branch` / :class:`Transition`, optional
    register : bool
        Also make it available by name to ``phasekit`` commands in this process.

    Returns
    -------
    EquilibriumModel
        Everything else — ``derive``, ``solve``, ``continue_branch``, ``find_transition``,
        ``sweep`` and the CLI — works on it unchanged.

    Examples
    --------
    >>> import sympy as sp
    >>> from phasekit.theory import E, define_model, log2cosh
    >>> b, h, m, z = sp.symbols("beta h m z", real=True)
    >>> rfim = define_model("my.rfim", -b * m**2 / 2 + E(log2cosh(b * m + h + z), z),
    ...                     control={"beta": (0, 50, 2.0), "h": (-5, 5, 0.1)}, order={"m": (-1, 1, 0.5)})
    >>> from phasekit import solve
    >>> round(solve(rfim, {"beta": 2.0}).order_parameters["m"], 5)  # m = E tanh(2m + 0.1 + z)
    0.79544
    """
    ctrl = tuple(_as_param(k, v) for k, v in dict(control).items())
    ordr = tuple(_as_param(k, v) for k, v in dict(order).items())
    obs = dict(observables or {})
    syms = {p.name: p.symbol for p in ctrl + ordr}
    expr = free_entropy(**syms) if callable(free_entropy) else sp.sympify(free_entropy)
    ns = {
        "name": name, "description": description or name, "control": ctrl, "order": ordr,
        "conjugates": tuple(tuple(c) for c in conjugates), "branches": tuple(branches),
        "transitions": tuple(transitions),
        "free_entropy": lambda self: expr,
        "observables": lambda self: {k: sp.sympify(v).subs(sp.Symbol("phi", real=True), self.phi_symbol)
                                     for k, v in obs.items()},
    }
    ns.update(attrs)
    cls = type(name.replace(".", "_"), (EquilibriumModel,), ns)
    if register:
        from .._registry import MODELS
        MODELS[name] = cls
    return cls()
