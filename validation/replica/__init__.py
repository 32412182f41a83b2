"""Perceptron simulations and checks: exhaustive enumeration of binary weights (``enumeration``), Cover
counting, LP feasibility and maximal margin (``spherical``), Franz-Parisi local-entropy measurements
and learning algorithms (``local_entropy``); the checks in ``perceptron_theory``,
``perceptron_checks`` and ``local_entropy_checks``."""
from . import enumeration, spherical, local_entropy
from . import perceptron_theory, perceptron_checks, local_entropy_checks

__all__ = ["enumeration", "spherical", "local_entropy", "perceptron_theory", "perceptron_checks",
           "local_entropy_checks"]
