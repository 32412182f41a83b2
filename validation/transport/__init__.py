"""Least-action ResNet training (``transport``) and the ``transport.*`` checks (``transport_checks``).

The simulation's public names are re-exported here, so ``phasekit.validation.transport.<name>`` keeps
working (other names of the former flat module are forwarded for one release).
"""
from ..._families import forward_attributes
from . import transport, transport_checks  # noqa: F401  (registers the checks)
from .transport import *  # noqa: F401,F403
from .transport import __all__  # noqa: F401

__getattr__ = forward_attributes(__name__, transport)
del forward_attributes
