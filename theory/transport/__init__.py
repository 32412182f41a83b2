"""Optimal transport behind least-action ResNets: closed forms and sympy proofs.

The theory lives in :mod:`.transport`; its public names are re-exported here, so
``phasekit.theory.transport.<name>`` keeps working (other names of the former flat module are forwarded
for one release).
"""
from ..._families import forward_attributes
from . import transport
from .transport import *  # noqa: F401,F403
from .transport import __all__  # noqa: F401

__getattr__ = forward_attributes(__name__, transport)
del forward_attributes
