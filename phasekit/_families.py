"""Model families: discovery of the per-family subpackages, and the deprecated flat module names.

``phasekit.theory`` and ``phasekit.validation`` hold one subpackage per family (``replica``,
``adaptive_kernel``, ``effective_theory``, ``lut``, ``transport``, ...). :func:`import_families`
imports every one found on disk, so their models and checks register themselves (by import side
effect, see :mod:`phasekit._registry`) and a new family needs no edit of any list.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Callable, Iterable

__all__ = ["import_families", "alias_modules", "forward_attributes"]


def import_families(package: str, path: Iterable[str]) -> tuple[str, ...]:
    """Import every subpackage of ``package`` found on ``path`` (its ``__path__``), in name order.

    Names starting with ``_`` are skipped (private helpers); plain modules are not families.
    Returns the family names.
    """
    names = tuple(info.name for info in pkgutil.iter_modules(list(path))
                  if info.ispkg and not info.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names


def alias_modules(package: str, aliases: dict[str, str]) -> None:
    """Deprecated flat names: make ``package.old`` the module ``package.new`` for each item.

    Both ``import package.old`` (through :data:`sys.modules`) and attribute access
    ``package.old`` give the very module object ``package.new``.
    """
    pkg = sys.modules[package]
    for old, new in aliases.items():
        module = importlib.import_module(f"{package}.{new}")
        sys.modules[f"{package}.{old}"] = module
        setattr(pkg, old, module)


def forward_attributes(package: str, module) -> Callable[[str], object]:
    """A module ``__getattr__`` for a family package that replaces a flat module of the same name.

    ``phasekit.theory.lut`` used to be a module; as a package it re-exports its module's public
    names and, for one release, forwards any other attribute to ``phasekit.theory.lut.lut``.
    """
    def __getattr__(name):
        try:
            return getattr(module, name)
        except AttributeError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
    return __getattr__
