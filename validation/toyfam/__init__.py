"""Toy family (scratch): its check."""
from . import toy_checks

__all__ = ["toy_checks"]
