"""Simulated networks and theory-versus-simulation checks (each returns data plus a figure)."""
from ._common import SimStats, binomial_estimate, estimate, spawn_rngs
from .figures import plot_sweep
from . import perceptron_theory

__all__ = ["SimStats", "estimate", "binomial_estimate", "spawn_rngs", "plot_sweep", "perceptron_theory"]
