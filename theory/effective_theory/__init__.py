"""Effective theories of grokking: GenEFT statics and repon dynamics (``geneft``) and the Liu et al.
parallelogram theory (``liu``)."""
from . import geneft, liu

__all__ = ["geneft", "liu"]
