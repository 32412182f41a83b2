"""Posterior sampling of two-layer erf networks (``adaptive_kernel``) and the ``ak_*`` checks (``adaptive_kernel_checks``).

The simulation's public names are re-exported here, so ``phasekit.validation.adaptive_kernel.<name>`` keeps
working (other names of the former flat module are forwarded for one release).
"""
from ..._families import forward_attributes
from . import adaptive_kernel, adaptive_kernel_checks  # noqa: F401  (registers the checks)
from .adaptive_kernel import *  # noqa: F401,F403
from .adaptive_kernel import __all__  # noqa: F401

__getattr__ = forward_attributes(__name__, adaptive_kernel)
del forward_attributes
