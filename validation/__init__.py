"""Simulated networks and theory-versus-simulation checks (each returns data plus a figure).

Importing this package registers every check (``phasekit list`` shows them).
"""
from ._common import SimStats, binomial_estimate, estimate, spawn_rngs
from .figures import plot_sweep
from .compare import Comparison, compare_data, read_measurements
from . import perceptron_theory, perceptron_checks
from .enumeration import (StorageEnumeration, TeacherStudentEnumeration, VersionSpace, count_solutions,
                          enumerate_storage, enumerate_teacher_student, version_space)
from .spherical import (CoverSimulation, MaxMarginResult, MaxMarginSimulation, cover_count, cover_probability,
                        lp_separable, max_margin, simulate_cover, simulate_max_margin)
from . import lut_network, lut_checks, transport, transport_checks, geneft, liu, geneft_checks
from . import adaptive_kernel, adaptive_kernel_checks, local_entropy, local_entropy_checks
from .geneft import PhaseDiagram, lr_phase_diagram, train_autoencoder
from .liu import liu_phase_diagram, train_liu
from .lut_network import LUTNetwork, hysteresis, simulate_fit, simulate_gf2_learner, topological_trajectory, transition_scan

__all__ = ["SimStats", "estimate", "binomial_estimate", "spawn_rngs", "plot_sweep", "Comparison", "compare_data", "read_measurements", "perceptron_theory",
           "perceptron_checks", "count_solutions", "version_space", "VersionSpace", "enumerate_storage",
           "enumerate_teacher_student", "StorageEnumeration", "TeacherStudentEnumeration", "cover_count",
           "cover_probability", "lp_separable", "simulate_cover", "CoverSimulation", "max_margin",
           "MaxMarginResult", "simulate_max_margin", "MaxMarginSimulation",
           "lut_network", "lut_checks", "LUTNetwork", "transition_scan", "simulate_fit", "hysteresis",
           "topological_trajectory", "simulate_gf2_learner", "transport", "transport_checks",
           "geneft", "liu", "geneft_checks", "train_autoencoder", "lr_phase_diagram", "train_liu",
           "liu_phase_diagram", "PhaseDiagram", "adaptive_kernel", "adaptive_kernel_checks",
           "local_entropy", "local_entropy_checks"]
