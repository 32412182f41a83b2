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
from ._compile import compile_expr, refine_rules
from ._symbolic import expand_expectations, gaussian_ibp

__all__ = ["Param", "Branch", "Transition", "Validity", "EquilibriumModel", "define_model"]


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


@dataclasses.dataclass(frozen=True)
class Validity:
    r"""Where the model's ansatz exists or is stable: the condition ``lhs < rhs``.

    ``lhs`` and ``rhs`` are sympy expressions of the control parameters, the order parameters and
    ``phi`` (the symbol :attr:`EquilibriumModel.phi_symbol`), e.g. the RS existence line
    ``alpha < 2 alpha_c(kappa)/pi`` or the replicon (AT) condition ``at_function < 1``. A point
    where it fails gets ``status`` (``"no_solution"`` or ``"unstable"``) and the one-line
    ``reason``, formatted with the parameter values and ``lhs``/``rhs`` (e.g. ``"no RS solution:
    alpha = {alpha:.6g} > 2 alpha_c(kappa)/pi = {rhs:.6g} (q -> 1)"``). A condition of the control
    parameters alone is checked before any computation.
    """

    name: str
    lhs: Any
    rhs: Any
    status: str = "no_solution"
    reason: str = "{name}: {lhs:.6g} >= {rhs:.6g}"

    def __post_init__(self):
        if self.status not in ("no_solution", "unstable"):
            raise InvalidParameterError(
                f"The 'status' parameter of Validity must be 'no_solution' or 'unstable'. Got {self.status!r} instead.")


@dataclasses.dataclass(frozen=True)
class Numerics:
    """Compiled numeric functions of a model on one quadrature rule (see
    :meth:`EquilibriumModel.numerics`)."""

    level: int
    phi: Any
    gradient: Any
    hessian: Any
    fixed_point: Any
    observables: dict


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
    #: Conditions of existence / stability of the ansatz (:class:`Validity`).
    validity: tuple = ()
    #: Control parameter along which a hard point is reached by continuation from its lower end
    #: (robust starts); ``None`` picks ``alpha`` when the model has it.
    homotopy: str | None = None

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
        """The fixed-point form ``{x: F_x(...)}`` (one entry per order parameter), or ``None``.

        Each pair ``(x, xhat)`` of :attr:`conjugates` gives ``x`` from ``d phi/d xhat = 0`` and
        ``xhat`` from ``d phi/d x = 0``. An order parameter ``y`` in no pair is updated from its own
        condition ``d phi/d y = 0``, solved for ``y`` when that condition is linear in ``y`` (e.g.
        an auxiliary field entering ``phi`` as ``-y**2/2 + y*f``). When it is not (e.g.
        ``m = E tanh(beta*(m + ...))``, where ``m`` also appears inside the expectation) there is no
        closed-form update, and the form is ``None``: the solvers then use Newton on
        ``grad phi = 0`` for the whole model, as for a model without conjugates. (No update
        ``y + c d phi/d y`` is guessed: the sign of ``c`` that makes it contract depends on
        whether ``phi`` is a maximum or a minimum in ``y`` at the saddle point.)

        ``None`` also when the model declares no conjugate pairs. The declaration is validated
        first: a name that is not an order parameter, a name in two pairs or a pair ``(x, x)``
        raises :class:`~phasekit._errors.InvalidParameterError`, as does a pair whose condition
        cannot be solved for its variable.
        """
        pairs = _validate_conjugates(self.conjugates, self.order_names, self.name, type(self).__name__)
        if not pairs:
            return None
        grads = dict(zip(self.order_names, self.stationarity))
        out = {}
        for x, xh in pairs:
            sx, sxh = self.sym(x), self.sym(xh)
            for target, name, cond in ((sx, x, xh), (sxh, xh, x)):
                try:
                    out[target] = _solve_linear(grads[cond], target)
                except RuntimeError as e:
                    raise InvalidParameterError(
                        f"The 'conjugates' parameter of {self.name} pairs {(x, xh)!r}, but d phi/d {cond} = 0 "
                        f"gives no update of {name!r}: {e}, or pair differently.") from None
        for p in self.order:
            if p.symbol not in out:   # unpaired: its own condition, when linear in it
                sol = _solve_linear(grads[p.name], p.symbol, general=False)
                if sol is None:
                    return None
                out[p.symbol] = sol
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
        return self._observables_on(self.nodes)

    def _observables_on(self, nodes):
        obs = dict(self.observables())
        obs.setdefault(self.entropy_observable, self.phi_symbol)
        args = self._args() + (self.phi_symbol,)
        return {k: compile_expr(sp.sympify(v), args, nodes=nodes) for k, v in obs.items()}

    # ------------------------------------------------------------------ accuracy control
    @functools.cached_property
    def quadrature_dims(self) -> frozenset:
        """Numbers of variables of the Gaussian expectations in the free entropy."""
        from ._symbolic import GaussE
        return frozenset(len(e.variables) for e in sp.sympify(self.phi).atoms(GaussE))

    def _compiled_from_sympy(self) -> bool:
        cls = type(self)
        return all(getattr(cls, k) is getattr(EquilibriumModel, k) for k in
                   ("phi_numeric", "gradient_numeric", "hessian_numeric"))

    def numerics(self, level: int = 0) -> Numerics | None:
        """The model's numeric functions on its quadrature rule refined ``level`` times
        (:func:`~phasekit.theory.refine_rules`: trapezoidal steps halved, Gauss–Hermite nodes
        doubled). ``level=0`` is the model's own rule. ``None`` when the refined rule exceeds the
        node budget, or for ``level > 0`` when the model's numerics are a hand kernel rather
        than compiled from its sympy free entropy (no refinement is available then)."""
        cache = self.__dict__.setdefault("_numerics_cache", {})
        if level in cache:
            return cache[level]
        if level == 0:
            out = Numerics(0, self.phi_numeric, self.gradient_numeric, self.hessian_numeric,
                           self.fixed_point_numeric, self.observables_numeric)
        elif not self._compiled_from_sympy() or type(self).fixed_point_numeric is not EquilibriumModel.fixed_point_numeric:
            out = None
        else:
            rules = refine_rules(self.nodes, level, dims=self.quadrature_dims)
            out = None if rules is None else self._numerics_on(level, rules)
        cache[level] = out
        return out

    def _numerics_on(self, level, nodes):
        a = self._args()
        n = len(self.order)
        g = [compile_expr(e, a, nodes=nodes) for e in self.stationarity]
        h = [[compile_expr(self.hessian[i, j], a, nodes=nodes) for j in range(n)] for i in range(n)]
        fp = self.fixed_point
        f = None if fp is None else [compile_expr(fp[x], a, nodes=nodes) for x in self.order_symbols]

        def stack(fs):
            return lambda *v: np.stack(np.broadcast_arrays(*[fi(*v) for fi in fs]), axis=-1)
        return Numerics(level, compile_expr(self.phi, a, nodes=nodes), stack(g),
                        lambda *v: np.stack([stack(row)(*v) for row in h], axis=-2),
                        None if f is None else stack(f), self._observables_on(nodes))

    @functools.cached_property
    def validity_numeric(self):
        """``[(Validity, lhs(*c, *x, phi), rhs(*c, *x, phi), control_only)]`` compiled."""
        args = self._args() + (self.phi_symbol,)
        ctrl = set(self.control_symbols)
        out = []
        for v in self.validity:
            lhs, rhs = sp.sympify(v.lhs), sp.sympify(v.rhs)
            only = (lhs.free_symbols | rhs.free_symbols) <= ctrl
            out.append((v, compile_expr(lhs, args, nodes=self.nodes), compile_expr(rhs, args, nodes=self.nodes), only))
        return out

    def homotopy_parameter(self) -> str | None:
        """The control parameter of robust starts (:attr:`homotopy`, else ``alpha`` if present)."""
        if self.homotopy is not None:
            return self.homotopy
        return "alpha" if "alpha" in self.control_names else None

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
                ("phi", "stationarity", "hessian", "fixed_point", "_numerics_cache", "quadrature_dims")}

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


def _validate_conjugates(conjugates, order_names, model, where):
    """The conjugate pairs as a tuple of name pairs, or InvalidParameterError (one line, naming the
    offending parameter) for anything that is not pairs of distinct order-parameter names, each
    name in at most one pair."""
    if conjugates is None:
        return ()
    listing = f"{model} ({', '.join(order_names)})"
    head = f"The 'conjugates' parameter of {where}"
    try:
        pairs = tuple(tuple(c) if not isinstance(c, str) else (c,) for c in conjugates)
    except TypeError:
        pairs = None
    if pairs is None or any(len(c) != 2 or not all(isinstance(n, str) for n in c) for c in pairs):
        raise InvalidParameterError(
            f"{head} must be a sequence of (x, xhat) pairs of order-parameter names of {listing}, "
            f"e.g. [({order_names[0]!r}, {order_names[-1]!r})]. Got {conjugates!r} instead."
            if order_names else f"{head} must be empty: {model} has no order parameters. "
                                f"Got {conjugates!r} instead.")
    seen = set()
    for x, xh in pairs:
        for n in (x, xh):
            if n not in order_names:
                raise InvalidParameterError(
                    f"{head} names {n!r}, which is not an order parameter of {listing}.")
        if x == xh:
            raise InvalidParameterError(
                f"{head} pairs {x!r} with itself; a pair (x, xhat) names two different order "
                f"parameters of {listing}.")
        for n in (x, xh):
            if n in seen:
                raise InvalidParameterError(
                    f"{head} names {n!r} in two pairs; each order parameter of {listing} "
                    f"belongs to at most one pair.")
            seen.add(n)
    return pairs


def _solve_linear(eq, x, where=None, *, general=True):
    """Solve ``eq = 0`` for ``x``.

    Directly when ``eq`` is linear in ``x``, i.e. ``eq = a*x + b`` with ``a != 0`` and neither
    ``a`` nor ``b`` depending on ``x`` (the usual case for a conjugate pair; sympy.solve can take
    minutes on large expressions). Otherwise, with ``general=True``, by ``sympy.solve``, raising
    RuntimeError unless it finds exactly one solution; with ``general=False``, ``None``.
    """
    a = sp.diff(eq, x)
    if x not in a.free_symbols and a != 0:
        rest = sp.expand(eq - a * x, deep=False, mul=True, power_exp=False, power_base=False, log=False,
                         multinomial=False)
        if x not in rest.free_symbols:
            return _tidy(-rest / a)
    if not general:
        return None
    try:
        sol = [s[x] for s in sp.solve(eq, x, dict=True) if x in s and x not in s[x].free_symbols]
        why = f"{len(sol)} solutions"
    except NotImplementedError:
        sol, why = [], "sympy cannot solve it"
    if len(sol) != 1:
        raise RuntimeError(f"{where + ': ' if where else ''}cannot solve the stationarity condition for "
                           f"{x} in closed form ({why}); declare a fixed_point property instead")
    return sol[0]


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
        Pairs of order-parameter names giving the fixed-point form (x from d phi/d xhat = 0,
        xhat from d phi/d x = 0). Order parameters in no pair are updated from their own
        condition d phi/d y = 0 when it is linear in y; otherwise the model has no fixed-point
        form and is solved by Newton's method (see :attr:`EquilibriumModel.fixed_point`).
        Validated here: each name must be an order parameter, in at most one pair.
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

    Raises
    ------
    InvalidParameterError
        When ``conjugates`` names something that is not an order parameter, names one twice, or
        pairs one with itself.

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
    conjugates = _validate_conjugates(conjugates, tuple(p.name for p in ordr), name, "define_model")
    obs = dict(observables or {})
    syms = {p.name: p.symbol for p in ctrl + ordr}
    expr = free_entropy(**syms) if callable(free_entropy) else sp.sympify(free_entropy)
    ns = {
        "name": name, "description": description or name, "control": ctrl, "order": ordr,
        "conjugates": conjugates, "branches": tuple(branches),
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
