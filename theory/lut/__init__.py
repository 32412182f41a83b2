"""Nucleation theory of the self-organized lookup-table network and its GF(2) reference.

The theory lives in :mod:`.lut`; its public names are re-exported here, so
``phasekit.theory.lut.<name>`` keeps working (other names of the former flat module are forwarded
for one release).
"""
from ..._families import forward_attributes
from . import lut
from .lut import *  # noqa: F401,F403
from .lut import __all__  # noqa: F401

__getattr__ = forward_attributes(__name__, lut)
del forward_attributes
