"""A toy equilibrium model with closed-form answers: the Curie–Weiss magnet.

phi(m; beta, h) = -beta m^2/2 + ln 2cosh(beta m + h); stationarity m = tanh(beta m + h).
Exact facts used by the tests: the spinodal of the m > 0 branch at h < 0 is where
beta (1 - m^2) = 1, i.e. m_sp = sqrt(1 - 1/beta), h_sp = atanh(m_sp) - beta m_sp; the two
branches' free entropies cross at h = 0 by symmetry.
"""
import math

import sympy as sp

from phasekit.theory import Branch, EquilibriumModel, Param, Transition, log2cosh

beta, h, m = sp.symbols("beta h m", real=True)


class CurieWeiss(EquilibriumModel):
    name = "toy.curie_weiss"
    description = "Curie-Weiss magnet (test model)"
    control = (Param("beta", 0.0, math.inf, "neither", 2.0), Param("h", -math.inf, math.inf, "neither", 0.0))
    order = (Param("m", -1.0, 1.0, "neither", 0.5),)
    branches = (Branch("up", {"m": 0.9}), Branch("down", {"m": -0.9}))
    transitions = (
        Transition("spinodal", "fold", along="h", branch="up", search=(0.0, -1.0)),
        Transition("coexistence", "crossing", along="h", branch="up", other="down", search=(0.2, -0.15)),
        Transition("m_zero", "zero", along="h", branch="up", observable="m", search=(-0.2, 0.3)),
    )

    def free_entropy(self):
        return -beta * m**2 / 2 + log2cosh(beta * m + h)

    def observables(self):
        return {"entropy": self.phi_symbol, "m": m}

    @property
    def fixed_point(self):
        return {m: sp.tanh(beta * m + h)}
