"""Registries behind ``phasekit list``, ``check`` and ``reproduce``.

Theory modules register equilibrium models (:func:`register_model`); validation modules register
theory-versus-simulation checks (:func:`register_check`). Registration is by import side effect of
the subpackage ``__init__`` files, so a name is available as soon as ``import phasekit`` is done.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Callable

__all__ = ["CheckResult", "register_model", "register_check", "get_model", "get_check",
           "list_models", "list_checks", "MODELS", "CHECKS"]

MODELS: dict[str, Callable[..., Any]] = {}
CHECKS: dict[str, "CheckSpec"] = {}


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Outcome of one theory-versus-simulation check.

    Attributes
    ----------
    name : str
        Registered check name.
    passed : bool
        Whether every stated criterion held.
    metrics : dict[str, float]
        Flat mapping of named numbers (theory values, simulated means, standard errors, ...).
    figures : tuple[str, ...]
        Paths of the figures written.
    tables : tuple[str, ...]
        Paths of CSV/JSON tables written.
    summary : str
        One paragraph for the reproduce report (markdown).
    seed : int or None
        Seed of the simulation, when there is one.
    """

    name: str
    passed: bool
    metrics: dict
    figures: tuple = ()
    tables: tuple = ()
    summary: str = ""
    seed: int | None = None

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        d["figures"] = list(self.figures)
        d["tables"] = list(self.tables)
        return json.dumps(d, default=float, indent=2)


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    name: str
    func: Callable[..., CheckResult]
    description: str
    in_reproduce: bool = True


def register_model(name: str):
    """Class decorator: make an equilibrium model available under ``name`` (e.g. ``perceptron.binary_storage``)."""
    def deco(cls):
        if name in MODELS and MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered")
        MODELS[name] = cls
        cls.name = name
        return cls
    return deco


def register_check(name: str, description: str, *, in_reproduce: bool = True):
    """Function decorator for a check ``f(out_dir, *, quick=False, seed=0) -> CheckResult``.

    ``out_dir`` is an existing directory for figures and tables; ``quick`` asks for the smallest run
    that still tests the claim (used by ``phasekit reproduce --quick`` and by CI).
    """
    def deco(func):
        if name in CHECKS and CHECKS[name].func is not func:
            raise ValueError(f"check name {name!r} is already registered")
        CHECKS[name] = CheckSpec(name, func, description, in_reproduce)
        return func
    return deco


def _unknown(kind, name, known):
    from ._errors import InvalidParameterError
    return InvalidParameterError(
        f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known)) or '(none)'}")


_INSTANCES: dict = {}


def get_model(name: str, **kwargs):
    """A registered model (instances are immutable and cached, so symbolic derivations and compiled
    functions are reused), or one from a user file given as ``path/to/file.py:ClassName``."""
    key = (name, tuple(sorted(kwargs.items())))
    if key in _INSTANCES:
        return _INSTANCES[key]
    model = _make_model(name, **kwargs)
    model._registry_key = (name, tuple(sorted(kwargs.items())))
    _INSTANCES[key] = model
    return model


def _make_model(name, **kwargs):
    if name in MODELS:
        return MODELS[name](**kwargs)
    if ":" in name and name.split(":", 1)[0].endswith(".py"):
        path, cls_name = name.rsplit(":", 1)
        if not os.path.isfile(path):
            raise _unknown("model", name, MODELS)
        import importlib.util
        import hashlib
        modname = "phasekit_user_" + hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        import sys
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        if not hasattr(mod, cls_name):
            raise _unknown("model", name, MODELS)
        obj = getattr(mod, cls_name)
        return obj(**kwargs) if isinstance(obj, type) else obj
    raise _unknown("model", name, MODELS)


def get_check(name: str) -> CheckSpec:
    if name not in CHECKS:
        raise _unknown("check", name, CHECKS)
    return CHECKS[name]


def list_models() -> list[str]:
    return sorted(MODELS)


def list_checks() -> list[str]:
    return sorted(CHECKS)
