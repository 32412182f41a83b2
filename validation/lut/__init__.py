"""The self-organized lookup-table network (``lut_network``) and its checks (``lut_checks``)."""
from . import lut_network, lut_checks

__all__ = ["lut_network", "lut_checks"]
