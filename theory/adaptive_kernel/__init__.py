"""Adaptive-kernel theory of grokking (Rubin, Seroussi & Ringel); registers the ``ak.*`` models.

The theory lives in :mod:`.adaptive_kernel`; its public names are re-exported here, so
``phasekit.theory.adaptive_kernel.<name>`` keeps working (other names of the former flat module are forwarded
for one release).
"""
from ..._families import forward_attributes
from . import adaptive_kernel
from .adaptive_kernel import *  # noqa: F401,F403
from .adaptive_kernel import __all__  # noqa: F401

__getattr__ = forward_attributes(__name__, adaptive_kernel)
del forward_attributes
