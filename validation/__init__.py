"""Simulated networks and theory-versus-simulation checks (each returns data plus a figure).

Importing this package registers every check (``phasekit list`` shows them).
"""
from ._common import SimStats, binomial_estimate, estimate, spawn_rngs
from .figures import plot_sweep
from . import perceptron_theory
from . import lut_network, lut_checks
from .lut_network import LUTNetwork, hysteresis, simulate_fit, simulate_gf2_learner, topological_trajectory, transition_scan

__all__ = ["SimStats", "estimate", "binomial_estimate", "spawn_rngs", "plot_sweep", "perceptron_theory",
           "lut_network", "lut_checks", "LUTNetwork", "transition_scan", "simulate_fit", "hysteresis",
           "topological_trajectory", "simulate_gf2_learner"]
