"""Curie–Weiss mean-field magnet: phi(m) = -beta m^2/2 + ln 2cosh(beta m + h)."""
import sympy as sp

from .._model import define_model
from .._symbolic import log2cosh

beta, h, m = sp.symbols("beta h m", real=True)
CURIE_WEISS = define_model("toyfam.curie_weiss", -beta * m**2 / 2 + log2cosh(beta * m + h),
                           control={"beta": (0, 10, 2.0), "h": (-2, 2, 0.1)}, order={"m": (-1, 1, 0.5)}, register=True)
