"""One parameter-constraint helper for the engine and every family.

Every argument check in phasekit raises :class:`~phasekit._errors.InvalidParameterError` with
one message template (the one of scikit-learn's parameter validation)::

    The 'alpha' parameter of solve must be a float in the range [0, inf). Got -1.0 instead.

The API mirrors ``sklearn.utils._param_validation`` / ``sklearn.utils.check_scalar`` (scikit-learn
is not a dependency):

* :func:`check_scalar` -- one int/float in an interval, converted (``int(value)``/``float(value)``);
* :func:`check_array` -- every entry of an array finite and in an interval;
* :func:`check_option` -- one of a few strings (or other hashables);
* :class:`Interval`, :class:`StrOptions` and :func:`validate_params` -- several parameters, each
  with a list of admissible constraints (``None`` admits ``None``);
* :func:`invalid_parameter` -- the error itself, for a domain that none of the above describes
  (``what`` is the phrase after "must be").

bool is never an int or a float here (``True`` is rejected where an int is asked for).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Mapping

import numpy as np

from ._errors import InvalidParameterError

__all__ = ["Interval", "StrOptions", "Options", "validate_params", "check_scalar", "check_array",
           "check_option", "invalid_parameter", "describe_interval", "Integral", "Real"]

Integral = numbers.Integral
Real = numbers.Real

_CLOSED = ("both", "left", "right", "neither")


def invalid_parameter(name: str, where: str, what: str, value: Any) -> InvalidParameterError:
    """The error (returned, not raised) for parameter ``name`` of ``where`` that must be ``what``."""
    return InvalidParameterError(
        f"The {name!r} parameter of {where} must be {what}. Got {value!r} instead.")


def _fmt(v, kind) -> str:
    if v is None:
        return "inf"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:g}"


def _norm_kind(kind):
    if kind in (int, Integral, "int", "integral"):
        return Integral
    if kind in (float, Real, "float", "real"):
        return Real
    raise ValueError(f"kind must be int or float, got {kind!r}")


def describe_interval(kind=float, low=None, high=None, closed="both") -> str:
    """``"a float in the range [0, inf)"``: the phrase after "must be" (an infinite end is open)."""
    kind = _norm_kind(kind)
    if closed not in _CLOSED:
        raise ValueError(f"closed must be one of {_CLOSED}, got {closed!r}")
    lo_inf = low is None or (not isinstance(low, numbers.Integral) and math.isinf(float(low)))
    hi_inf = high is None or (not isinstance(high, numbers.Integral) and math.isinf(float(high)))
    lb = "[" if closed in ("both", "left") and not lo_inf else "("
    rb = "]" if closed in ("both", "right") and not hi_inf else ")"
    lo = "-inf" if lo_inf else _fmt(low, kind)
    hi = "inf" if hi_inf else _fmt(high, kind)
    noun = "an int" if kind is Integral else "a float"
    return f"{noun} in the range {lb}{lo}, {hi}{rb}"


def _in(v, low, high, closed) -> bool:
    if low is not None and not (v >= low if closed in ("both", "left") else v > low):
        return False
    if high is not None and not (v <= high if closed in ("both", "right") else v < high):
        return False
    return True


class Interval:
    """Constraint: an int (``Integral``) or a float (``Real``) in ``[left, right]``.

    ``left``/``right`` None (or ±inf) is an unbounded end; ``closed`` is one of ``"both"``,
    ``"left"``, ``"right"``, ``"neither"``. Floats must be finite.
    """

    def __init__(self, kind, left=None, right=None, *, closed="both"):
        self.kind = _norm_kind(kind)
        if closed not in _CLOSED:
            raise ValueError(f"closed must be one of {_CLOSED}, got {closed!r}")
        self.left, self.right, self.closed = left, right, closed

    def convert(self, value):
        """The converted value (``int``/``float``), or None when ``value`` does not satisfy this."""
        if isinstance(value, (bool, np.bool_, str, bytes)):
            return None
        if self.kind is Integral:
            if not isinstance(value, numbers.Integral):
                return None
            v = int(value)
        else:
            try:
                v = float(value)
            except (TypeError, ValueError):
                return None
            if not math.isfinite(v):
                return None
        return v if _in(v, self.left, self.right, self.closed) else None

    def is_satisfied_by(self, value) -> bool:
        return self.convert(value) is not None

    def __str__(self):
        return describe_interval(self.kind, self.left, self.right, self.closed)


class Options:
    """Constraint: one of ``options`` (compared with ``==``; order kept in the message)."""

    noun = "a value"

    def __init__(self, options: Iterable):
        self.options = tuple(options)

    def convert(self, value):
        try:
            ok = value in self.options
        except TypeError:
            ok = False
        return value if ok else None

    def is_satisfied_by(self, value) -> bool:
        try:
            return value in self.options
        except TypeError:
            return False

    def __str__(self):
        return f"{self.noun} among {{{', '.join(repr(o) for o in self.options)}}}"


class StrOptions(Options):
    """Constraint: one of a few strings: "a str among {'a', 'b'}"."""

    noun = "a str"

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, str) and super().is_satisfied_by(value)

    def convert(self, value):
        return value if self.is_satisfied_by(value) else None


def _describe(constraints) -> str:
    parts = ["None" if c is None else str(c) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def validate_params(where: str, params: Mapping[str, Any], constraints: Mapping[str, list]) -> dict:
    """Check every ``params[name]`` against ``constraints[name]`` (a list: any one may hold).

    Returns the converted values (ints as ``int``, floats as ``float``); raises
    :class:`InvalidParameterError` with the template naming every admissible constraint, e.g.
    "... must be an int in the range [1, inf) or None. Got 0 instead.". A parameter without
    constraints is passed through.
    """
    out = {}
    for name, value in params.items():
        cons = constraints.get(name)
        if cons is None:
            out[name] = value
            continue
        if not isinstance(cons, (list, tuple)):
            cons = [cons]
        for c in cons:
            if c is None:
                if value is None:
                    out[name] = None
                    break
                continue
            if c.is_satisfied_by(value):
                out[name] = c.convert(value)
                break
        else:
            raise invalid_parameter(name, where, _describe(cons), value)
    return out


def check_scalar(value, name: str, where: str, kind=float, low=None, high=None, closed="both", *, hint=""):
    """``int(value)``/``float(value)`` if it is an int/float in the interval, else raise.

    ``kind``: ``int`` or ``float``; ``low``/``high`` None (or ±inf) is an unbounded end;
    ``closed``: ``"both"`` (default), ``"left"``, ``"right"``, ``"neither"``. Floats must be finite;
    bool is rejected. Message: "The 'n' parameter of f must be an int in the range [1, inf). Got 0
    instead."; ``hint`` (e.g. "(below the capacity)") is put after the range.
    """
    c = Interval(kind, low, high, closed=closed)
    v = c.convert(value)
    if v is None:
        raise invalid_parameter(name, where, f"{c} {hint}" if hint else str(c), value)
    return v


def check_array(value, name: str, where: str, low=None, high=None, closed="both", *, what=None):
    """``np.asarray(value, float)`` if every entry is finite and in the interval, else raise.

    The message says "a finite float (or array) in the range ..." unless ``what`` is given.
    """
    if what is None:
        rng = describe_interval(float, low, high, closed).split(" range ")[1]
        what = f"a finite float (or array) in the range {rng}"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise invalid_parameter(name, where, what, value) from None
    ok = bool(np.all(np.isfinite(arr)))
    if ok and low is not None:
        ok = bool(np.all(arr >= low) if closed in ("both", "left") else np.all(arr > low))
    if ok and high is not None:
        ok = bool(np.all(arr <= high) if closed in ("both", "right") else np.all(arr < high))
    if not ok:
        raise invalid_parameter(name, where, what, value)
    return arr


def check_option(value, name: str, where: str, options: Iterable):
    """``value`` if it is among ``options`` (strings: "a str among {...}"), else raise."""
    options = tuple(options)
    c = StrOptions(options) if all(isinstance(o, str) for o in options) else Options(options)
    if not c.is_satisfied_by(value):
        raise invalid_parameter(name, where, str(c), value)
    return value
